using System.Globalization;
using System.Text;
using Xunit;

namespace Broker.Integration.Tests.Http;

/// <summary>
/// One scrape of a broker's Prometheus endpoint, parsed by the test's own reader of the text format 0.0.4 (every
/// line must be a comment or a sample <c>name{label="value",...} value</c>; label values are unescaped), with
/// lookups by name and labels. Independent of the broker's exposition code on purpose.
/// </summary>
public sealed class MetricsScrape
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
    {
        public string? this[string label] => Labels.GetValueOrDefault(label);

        public override string ToString() =>
            $"{Name}{{{string.Join(",", Labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} {Value.ToString(CultureInfo.InvariantCulture)}";
    }

    private MetricsScrape(string text, string? contentType)
    {
        Text = text;
        ContentType = contentType;
    }

    public string Text { get; }
    public string? ContentType { get; }
    /// <summary>TYPE of each family.</summary>
    public Dictionary<string, string> Types { get; } = new(StringComparer.Ordinal);
    public List<Sample> Samples { get; } = new();

    /// <summary>GET <paramref name="url"/>; asserts 200 and parses the body.</summary>
    public static MetricsScrape Get(string url)
    {
        using var response = Http.GetAsync(url).GetAwaiter().GetResult();
        string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {body}");
        return Parse(body, response.Content.Headers.ContentType?.ToString());
    }

    public static MetricsScrape Parse(string text, string? contentType = null)
    {
        var scrape = new MetricsScrape(text, contentType);
        int lineNo = 0;
        foreach (string line in text.Split('\n'))
        {
            lineNo++;
            if (line.Length == 0) continue;
            try
            {
                if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    var parts = line[7..].Split(' ');
                    if (parts.Length != 2 || !scrape.Types.TryAdd(parts[0], parts[1])) throw new FormatException("bad or repeated TYPE line");
                }
                else if (!line.StartsWith('#'))
                {
                    scrape.Samples.Add(ParseSample(line));
                }
            }
            catch (Exception ex) when (ex is FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                throw new FormatException($"line {lineNo} is not Prometheus text: {line} ({ex.Message})", ex);
            }
        }
        return scrape;
    }

    /// <summary>Samples named <paramref name="name"/> whose labels include every given pair.</summary>
    public List<Sample> Find(string name, params (string Label, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s[l.Label] == l.Value)).ToList();

    /// <summary>The value of the single matching sample; fails with the family's samples when there is not exactly one.</summary>
    public double Value(string name, params (string Label, string Value)[] labels)
    {
        var found = Find(name, labels);
        Assert.True(found.Count == 1,
            $"{found.Count} samples match {name}{{{string.Join(",", labels.Select(l => $"{l.Label}={l.Value}"))}}}; the family has:\n" +
            string.Join("\n", Samples.Where(s => s.Name == name).Take(40)));
        return found[0].Value;
    }

    /// <summary>The value of the single matching sample, or null when there is none.</summary>
    public double? TryValue(string name, params (string Label, string Value)[] labels)
    {
        var found = Find(name, labels);
        return found.Count == 1 ? found[0].Value : null;
    }

    private static Sample ParseSample(string line)
    {
        int i = 0;
        while (line[i] is not ('{' or ' ')) i++;
        string name = line[..i];
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':') || char.IsAsciiDigit(name[0]))
            throw new FormatException($"invalid metric name '{name}'");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                int eq = line.IndexOf('=', i);
                string label = line[i..eq];
                if (line[eq + 1] != '"') throw new FormatException("unquoted label value");
                var value = new StringBuilder();
                int j = eq + 2;
                for (; line[j] != '"'; j++)
                {
                    if (line[j] == '\\')
                    {
                        j++;
                        value.Append(line[j] switch { 'n' => '\n', '\\' => '\\', '"' => '"', _ => throw new FormatException("bad escape") });
                    }
                    else value.Append(line[j]);
                }
                labels.Add(label, value.ToString());
                i = j + 1;
                if (line[i] == ',') i++;
            }
            i++;
        }
        if (line[i] != ' ') throw new FormatException("no space before the value");
        string text = line[(i + 1)..].Split(' ')[0];
        double v = text switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new Sample(name, labels, v);
    }
}
