using System.Globalization;
using System.Text;

namespace Broker.Core.Metrics;

/// <summary>
/// Lexical rules of the Prometheus text format 0.0.4: metric names <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>, label names
/// <c>[a-zA-Z_][a-zA-Z0-9_]*</c> (invalid characters become '_'), label values escape backslash, double quote and
/// line feed, HELP text escapes backslash and line feed, values are Go-style floats (+Inf, -Inf, NaN).
/// </summary>
public static class PrometheusText
{
    public static string SanitizeMetricName(string name) => Sanitize(name, allowColon: true);

    public static string SanitizeLabelName(string name) => Sanitize(name, allowColon: false);

    private static string Sanitize(string name, bool allowColon)
    {
        if (string.IsNullOrEmpty(name)) return "_";
        bool valid = !char.IsAsciiDigit(name[0]);
        foreach (char c in name)
            if (!IsNameChar(c, allowColon)) { valid = false; break; }
        if (valid) return name;

        var sb = new StringBuilder(name.Length + 1);
        if (char.IsAsciiDigit(name[0])) sb.Append('_');
        foreach (char c in name) sb.Append(IsNameChar(c, allowColon) ? c : '_');
        return sb.ToString();
    }

    private static bool IsNameChar(char c, bool allowColon) =>
        char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':');

    /// <summary>A tag value as label text: strings as they are, numbers invariant, booleans lower-case, null empty.</summary>
    public static string FormatLabelValue(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public static void AppendEscapedLabelValue(StringBuilder sb, string value)
    {
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                default: sb.Append(c); break;
            }
        }
    }

    public static void AppendEscapedHelp(StringBuilder sb, string help)
    {
        foreach (char c in help)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                default: sb.Append(c); break;
            }
        }
    }

    /// <summary>A sample value: shortest round-trip invariant form, integers without a fraction, +Inf/-Inf/NaN.</summary>
    public static string FormatValue(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "+Inf";
        if (double.IsNegativeInfinity(value)) return "-Inf";
        return value.ToString("R", CultureInfo.InvariantCulture);
    }

    public static string FormatValue(long value) => value.ToString(CultureInfo.InvariantCulture);
}
