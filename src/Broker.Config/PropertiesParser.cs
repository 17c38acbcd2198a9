using System.Text;

namespace Broker.Config;

/// <summary>One <c>key=value</c> entry of a .properties file, with the (1-based) line it starts on.</summary>
public readonly record struct PropertyEntry(string Key, string Value, int LineNumber);

/// <summary>The result of parsing a .properties text: entries in file order (duplicates collapsed, last wins)
/// and the warnings produced while parsing (duplicate keys).</summary>
public sealed class PropertiesDocument
{
    internal PropertiesDocument(string sourceName, IReadOnlyList<PropertyEntry> entries, IReadOnlyList<ConfigWarning> warnings)
    {
        SourceName = sourceName;
        Entries = entries;
        Warnings = warnings;
        var map = new Dictionary<string, PropertyEntry>(StringComparer.Ordinal);
        foreach (var e in entries) map[e.Key] = e;
        ByKey = map;
    }

    /// <summary>File name or label used in messages ("server.properties").</summary>
    public string SourceName { get; }
    /// <summary>Effective entries, ordered by the line of their (last) definition.</summary>
    public IReadOnlyList<PropertyEntry> Entries { get; }
    public IReadOnlyDictionary<string, PropertyEntry> ByKey { get; }
    public IReadOnlyList<ConfigWarning> Warnings { get; }
}

/// <summary>
/// Parser for the Java .properties format as Kafka reads server.properties: <c>key=value</c>, <c>key: value</c>
/// or <c>key value</c>; <c>#</c>/<c>!</c> comment lines; blank lines; a trailing odd backslash continues the
/// logical line (leading whitespace of the next line is dropped); escapes <c>\t \n \r \f \uXXXX</c> and
/// <c>\x</c> = x for any other character (so <c>\= \: \\ \#</c> and an escaped space work). Differences from
/// java.util.Properties: input is UTF-8 (BOM skipped) rather than ISO-8859-1, unescaped trailing whitespace of
/// a value is trimmed (Kafka trims values before use), and an empty key is an error.
/// </summary>
public static class PropertiesParser
{
    public static PropertiesDocument ParseFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, new UTF8Encoding(false, true));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            string why = ex switch
            {
                FileNotFoundException or DirectoryNotFoundException => "file not found",
                DecoderFallbackException => "file is not valid UTF-8",
                UnauthorizedAccessException => "permission denied or not a regular file",
                _ => ex.Message,
            };
            throw new ConfigException(null, null, path, $"cannot read configuration file: {why}");
        }
        return Parse(text, path);
    }

    public static PropertiesDocument Parse(string text, string sourceName = "server.properties")
    {
        var raw = new List<PropertyEntry>();
        var warnings = new List<ConfigWarning>();
        var firstSeen = new Dictionary<string, int>(StringComparer.Ordinal);
        var logical = new StringBuilder();
        var key = new StringBuilder();
        var value = new StringBuilder();

        int pos = 0;
        if (text.Length > 0 && text[0] == '\uFEFF') pos = 1;
        int lineNo = 0;
        while (pos < text.Length)
        {
            // Read one natural line.
            int startLine = ++lineNo;
            ReadNaturalLine(text, ref pos, out int lineStart, out int lineEnd);
            int first = SkipWhitespace(text, lineStart, lineEnd);
            if (first == lineEnd) continue;                                  // blank
            if (text[first] == '#' || text[first] == '!') continue;          // comment (never continues)

            // Assemble the logical line: while it ends in an odd number of backslashes, join the next line.
            logical.Clear();
            logical.Append(text, first, lineEnd - first);
            while (EndsWithOddBackslashes(logical))
            {
                logical.Length--;                                            // drop the continuation backslash
                if (pos >= text.Length) break;
                lineNo++;
                ReadNaturalLine(text, ref pos, out int ns, out int ne);
                int nf = SkipWhitespace(text, ns, ne);
                logical.Append(text, nf, ne - nf);
            }

            SplitKeyValue(logical, key, value, sourceName, startLine);
            string k = key.ToString();
            if (k.Length == 0)
                throw new ConfigException(null, startLine, sourceName, "missing key before separator");
            if (firstSeen.TryGetValue(k, out int prevLine))
            {
                warnings.Add(new ConfigWarning(k, startLine, sourceName, ConfigWarningKind.DuplicateKey,
                    $"configuration key '{k}' is set twice ({sourceName} lines {prevLine} and {startLine}); the value on line {startLine} wins"));
                raw.RemoveAll(e => e.Key == k);
            }
            firstSeen[k] = startLine;
            raw.Add(new PropertyEntry(k, value.ToString(), startLine));
        }
        return new PropertiesDocument(sourceName, raw, warnings);
    }

    private static void ReadNaturalLine(string text, ref int pos, out int start, out int end)
    {
        start = pos;
        while (pos < text.Length && text[pos] != '\n' && text[pos] != '\r') pos++;
        end = pos;
        if (pos < text.Length)
        {
            if (text[pos] == '\r' && pos + 1 < text.Length && text[pos + 1] == '\n') pos += 2;
            else pos++;
        }
    }

    private static bool IsWs(char c) => c == ' ' || c == '\t' || c == '\f';

    private static int SkipWhitespace(string text, int i, int end)
    {
        while (i < end && IsWs(text[i])) i++;
        return i;
    }

    private static bool EndsWithOddBackslashes(StringBuilder sb)
    {
        int n = 0;
        for (int i = sb.Length - 1; i >= 0 && sb[i] == '\\'; i--) n++;
        return (n & 1) == 1;
    }

    private static void SplitKeyValue(StringBuilder line, StringBuilder key, StringBuilder value, string source, int lineNo)
    {
        key.Clear();
        value.Clear();
        int i = 0, n = line.Length;
        // Key: up to the first unescaped '=', ':' or whitespace.
        while (i < n)
        {
            char c = line[i];
            if (c == '\\') { i = Unescape(line, i, key, source, lineNo); continue; }
            if (c == '=' || c == ':' || IsWs(c)) break;
            key.Append(c);
            i++;
        }
        // Separator: whitespace, then at most one '=' or ':', then whitespace.
        while (i < n && IsWs(line[i])) i++;
        if (i < n && (line[i] == '=' || line[i] == ':')) i++;
        while (i < n && IsWs(line[i])) i++;
        // Value: the rest, unescaped; unescaped trailing whitespace is trimmed.
        int keep = 0;
        while (i < n)
        {
            char c = line[i];
            if (c == '\\') { i = Unescape(line, i, value, source, lineNo); keep = value.Length; continue; }
            value.Append(c);
            if (!IsWs(c)) keep = value.Length;
            i++;
        }
        value.Length = keep;
    }

    /// <summary>Decodes the escape starting at line[i] (a backslash) into sb; returns the index after it.</summary>
    private static int Unescape(StringBuilder line, int i, StringBuilder sb, string source, int lineNo)
    {
        if (i + 1 >= line.Length) return i + 1;                              // lone trailing backslash: dropped
        char c = line[i + 1];
        switch (c)
        {
            case 't': sb.Append('\t'); return i + 2;
            case 'n': sb.Append('\n'); return i + 2;
            case 'r': sb.Append('\r'); return i + 2;
            case 'f': sb.Append('\f'); return i + 2;
            case 'u':
                int cp = 0;
                for (int k = 0; k < 4; k++)
                {
                    int at = i + 2 + k;
                    int d = at < line.Length ? HexValue(line[at]) : -1;
                    if (d < 0)
                        throw new ConfigException(null, lineNo, source, "malformed \\uXXXX escape (expected 4 hex digits)");
                    cp = (cp << 4) | d;
                }
                sb.Append((char)cp);
                return i + 6;
            default: sb.Append(c); return i + 2;
        }
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
