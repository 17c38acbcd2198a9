using System.Text;

namespace Broker.Config;

/// <summary>
/// Renders a commented server.properties from the known-key table: every key with its documentation and
/// default; keys present in <c>active</c> are written as settings, the rest commented out with the value they
/// take in that configuration (the default, or the derived value such as metadata.log.dir).
/// packaging/server.properties is this output for <see cref="BrokerConfig.SingleNodeProperties"/>("/var/lib/broker").
/// </summary>
public static class ServerPropertiesTemplate
{
    private const int Width = 100;

    /// <summary>The packaged default: a single combined node with data in <paramref name="dataDir"/>.</summary>
    public static string RenderSingleNode(string dataDir = "/var/lib/broker") =>
        Render(BrokerConfig.SingleNodeProperties(dataDir),
            "A single combined broker+controller node.",
            "This node listens on 127.0.0.1 only. To serve other machines, set listeners=PLAINTEXT://:9092 (all " +
            "interfaces) and advertised.listeners=PLAINTEXT://<this host's name>:9092.");

    /// <summary>Renders the template with <paramref name="active"/> as settings (must form a valid
    /// configuration) and optional introduction paragraphs.</summary>
    public static string Render(IReadOnlyList<KeyValuePair<string, string>> active, params string[] intro)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in active)
        {
            if (ConfigKeys.Find(k) is null) throw new ArgumentException($"'{k}' is not a known configuration key", nameof(active));
            values[k] = v;
        }
        // Commented-out keys show the value they take in this configuration (defaults and derived values).
        var effective = BrokerConfig.FromProperties(active);

        var sb = new StringBuilder();
        sb.Append("# Broker configuration (server.properties).\n");
        foreach (string paragraph in intro)
        {
            sb.Append("#\n");
            WrapComment(sb, paragraph);
        }
        sb.Append("#\n");
        WrapComment(sb,
            "Format: Java .properties, as Kafka's server.properties. 'key=value' (or 'key: value'), '#' and '!' start a " +
            "comment line, a trailing backslash continues a line. Settings that are commented out show the value in effect. " +
            "Keys not described here are reported at start-up and ignored. 'broker check-config --config FILE' " +
            "validates a file and prints the effective values; 'broker default-config' prints this template.");

        foreach (string section in ConfigKeys.Sections)
        {
            sb.Append('\n');
            string title = $"######## {section} ";
            sb.Append(title).Append('#', Math.Max(4, Width - title.Length)).Append("\n");
            foreach (var key in ConfigKeys.All)
            {
                if (key.Section != section) continue;
                sb.Append('\n');
                WrapComment(sb, key.Doc + " " + DefaultText(key));
                if (values.TryGetValue(key.Name, out string? v)) sb.Append(key.Name).Append('=').Append(EscapeValue(v)).Append('\n');
                else
                {
                    string? shown = key.AliasOf is null ? effective.GetEffective(key.Name) : key.Default;
                    sb.Append('#').Append(key.Name).Append('=').Append(shown is null ? "" : EscapeValue(shown)).Append('\n');
                }
            }
        }
        return sb.ToString();
    }

    private static string DefaultText(ConfigKey key) =>
        key.Default is not null ? $"Default: {(key.Default.Length == 0 ? "(empty)" : key.Default)}."
        : key.DefaultNote is not null ? $"Default: {key.DefaultNote}."
        : key.AliasOf is not null ? "Default: not set."
        : key.Name is ConfigKeys.ProcessRoles or ConfigKeys.NodeId or ConfigKeys.QuorumVoters or ConfigKeys.ControllerListenerNames
            ? "No default."
            : "Default: not set.";

    private static void WrapComment(StringBuilder sb, string text)
    {
        sb.Append('#');
        int lineLen = 1;
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (lineLen > 1 && lineLen + 1 + word.Length > Width)
            {
                sb.Append("\n#");
                lineLen = 1;
            }
            sb.Append(' ').Append(word);
            lineLen += 1 + word.Length;
        }
        sb.Append('\n');
    }

    /// <summary>Escapes a value so that <see cref="PropertiesParser"/> reads it back unchanged.</summary>
    public static string EscapeValue(string v)
    {
        int end = v.Length;
        while (end > 0 && v[end - 1] is ' ' or '\t' or '\f') end--;   // trailing whitespace must be escaped
        var sb = new StringBuilder(v.Length + 4);
        for (int i = 0; i < v.Length; i++)
        {
            char c = v[i];
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\f': sb.Append("\\f"); break;
                case ' ' when i == 0 || i >= end: sb.Append("\\ "); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }
}
