using System.Globalization;
using System.Text;

namespace Broker.Core.Tests.Metrics;

/// <summary>
/// A strict, independent parser of the Prometheus text format 0.0.4 for the tests: every line must be a HELP/TYPE
/// comment or a sample <c>name{label="value",...} value</c>; label values are unescaped; duplicate series and
/// TYPE lines after samples of the same family are errors (FormatException).
/// </summary>
public sealed class PrometheusTextParser
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
    {
        public string? this[string label] => Labels.GetValueOrDefault(label);
    }

    public Dictionary<string, string> Types { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Help { get; } = new(StringComparer.Ordinal);
    public List<Sample> Samples { get; } = new();
    /// <summary>Metric family names in order of their TYPE lines.</summary>
    public List<string> FamilyOrder { get; } = new();

    public static PrometheusTextParser Parse(string text)
    {
        var parser = new PrometheusTextParser();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (text.Length > 0 && !text.EndsWith('\n')) throw new FormatException("exposition must end with a line feed");
        int lineNo = 0;
        foreach (string line in text.Split('\n'))
        {
            lineNo++;
            if (line.Length == 0) continue;
            try
            {
                if (line.StartsWith("# HELP ", StringComparison.Ordinal))
                {
                    string rest = line[7..];
                    int sp = rest.IndexOf(' ');
                    string name = sp < 0 ? rest : rest[..sp];
                    CheckName(name, true);
                    parser.Help[name] = sp < 0 ? "" : UnescapeHelp(rest[(sp + 1)..]);
                }
                else if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    var parts = line[7..].Split(' ');
                    if (parts.Length != 2) throw new FormatException("TYPE needs a name and a type");
                    CheckName(parts[0], true);
                    if (parts[1] is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                        throw new FormatException($"unknown type {parts[1]}");
                    if (!parser.Types.TryAdd(parts[0], parts[1])) throw new FormatException($"second TYPE line for {parts[0]}");
                    parser.FamilyOrder.Add(parts[0]);
                }
                else if (line.StartsWith('#'))
                {
                    // other comments are allowed
                }
                else
                {
                    var sample = ParseSample(line);
                    string identity = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
                    if (!seen.Add(identity)) throw new FormatException($"duplicate series {identity}");
                    parser.Samples.Add(sample);
                }
            }
            catch (FormatException ex)
            {
                throw new FormatException($"line {lineNo}: {ex.Message}: {line}", ex);
            }
        }
        return parser;
    }

    /// <summary>Samples named <paramref name="name"/> whose labels include every given pair.</summary>
    public IEnumerable<Sample> Find(string name, params (string Label, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s[l.Label] == l.Value));

    /// <summary>The single matching sample's value (fails when there is not exactly one).</summary>
    public double Value(string name, params (string Label, string Value)[] labels)
    {
        var found = Find(name, labels).ToList();
        if (found.Count != 1)
            throw new InvalidOperationException($"{found.Count} samples match {name}{{{string.Join(",", labels.Select(l => $"{l.Label}={l.Value}"))}}}");
        return found[0].Value;
    }

    private static Sample ParseSample(string line)
    {
        int i = 0;
        while (i < line.Length && line[i] is not ('{' or ' ')) i++;
        string name = line[..i];
        CheckName(name, true);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                int eq = line.IndexOf('=', i);
                if (eq < 0) throw new FormatException("label without '='");
                string label = line[i..eq];
                CheckName(label, false);
                if (line[eq + 1] != '"') throw new FormatException("label value must be quoted");
                var value = new StringBuilder();
                int j = eq + 2;
                for (; ; j++)
                {
                    if (j >= line.Length) throw new FormatException("unterminated label value");
                    char c = line[j];
                    if (c == '"') break;
                    if (c == '\\')
                    {
                        char e = line[++j];
                        value.Append(e switch { '\\' => '\\', '"' => '"', 'n' => '\n', _ => throw new FormatException($"bad escape \\{e}") });
                        continue;
                    }
                    if (c == '\n') throw new FormatException("raw line feed in a label value");
                    value.Append(c);
                }
                if (!labels.TryAdd(label, value.ToString())) throw new FormatException($"label {label} twice");
                i = j + 1;
                if (line[i] == ',') i++;
                else if (line[i] != '}') throw new FormatException("expected ',' or '}' after a label");
            }
            i++;
        }
        if (i >= line.Length || line[i] != ' ') throw new FormatException("expected a space before the value");
        string[] rest = line[(i + 1)..].Split(' ');
        if (rest.Length is < 1 or > 2) throw new FormatException("expected a value and an optional timestamp");
        return new Sample(name, labels, ParseValue(rest[0]));
    }

    public static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static void CheckName(string name, bool metric)
    {
        if (name.Length == 0) throw new FormatException("empty name");
        for (int k = 0; k < name.Length; k++)
        {
            char c = name[k];
            bool ok = char.IsAsciiLetter(c) || c == '_' || (metric && c == ':') || (k > 0 && char.IsAsciiDigit(c));
            if (!ok) throw new FormatException($"invalid {(metric ? "metric" : "label")} name '{name}'");
        }
    }

    private static string UnescapeHelp(string text)
    {
        var sb = new StringBuilder();
        for (int k = 0; k < text.Length; k++)
        {
            if (text[k] == '\\' && k + 1 < text.Length)
            {
                char e = text[++k];
                sb.Append(e switch { '\\' => '\\', 'n' => '\n', _ => throw new FormatException($"bad HELP escape \\{e}") });
            }
            else sb.Append(text[k]);
        }
        return sb.ToString();
    }
}
