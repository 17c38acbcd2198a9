using Broker.Core.Records;
using System.Globalization;
using System.Text;
using Broker.Compression;

namespace Broker.Cli.Arguments;

/// <summary>
/// Parsers for option values (numbers, durations, timestamps, key=value pairs, host:port lists, codecs, acks).
/// Each throws a <see cref="UsageException"/> naming the option and what was expected.
/// </summary>
internal static class ValueParsers
{
    public static int ParseInt(string text, string option, int min, int max, string? commandPath = null)
    {
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v))
            throw new UsageException($"{option} expects a whole number, got '{text}'", commandPath);
        if (v < min || v > max)
            throw new UsageException(max == int.MaxValue
                ? $"{option} must be at least {min}, got {v}"
                : $"{option} must be between {min} and {max}, got {v}", commandPath);
        return v;
    }

    public static long ParseLong(string text, string option, long min, long max, string? commandPath = null)
    {
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
            throw new UsageException($"{option} expects a whole number, got '{text}'", commandPath);
        if (v < min || v > max)
            throw new UsageException(max == long.MaxValue
                ? $"{option} must be at least {min}, got {v}"
                : $"{option} must be between {min} and {max}, got {v}", commandPath);
        return v;
    }

    /// <summary>
    /// A duration: a number with a unit (<c>500ms</c>, <c>10s</c>, <c>2m</c>, <c>1h</c>, fractions allowed) or a bare
    /// number of seconds. Must be positive.
    /// </summary>
    public static TimeSpan ParseDuration(string text, string option, string? commandPath = null)
    {
        string t = text.Trim();
        double scaleMs;
        string number;
        if (t.EndsWith("ms", StringComparison.Ordinal)) { scaleMs = 1; number = t[..^2]; }
        else if (t.EndsWith('s')) { scaleMs = 1000; number = t[..^1]; }
        else if (t.EndsWith('m')) { scaleMs = 60_000; number = t[..^1]; }
        else if (t.EndsWith('h')) { scaleMs = 3_600_000; number = t[..^1]; }
        else { scaleMs = 1000; number = t; }
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v)
            || double.IsNaN(v) || double.IsInfinity(v))
            throw new UsageException($"{option} expects a duration such as 500ms, 10s or 2m, got '{text}'", commandPath);
        double ms = v * scaleMs;
        if (ms < 1 || ms > TimeSpan.FromDays(1).TotalMilliseconds)
            throw new UsageException($"{option} must be between 1ms and 24h, got '{text}'", commandPath);
        return TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>
    /// A point in time as Unix milliseconds: digits are taken as milliseconds since the epoch; anything else must be
    /// ISO-8601 (<c>2024-05-01</c>, <c>2024-05-01T12:00:00Z</c>, <c>2024-05-01T14:00:00+02:00</c>); without an
    /// offset the time is UTC.
    /// </summary>
    public static long ParseTimestamp(string text, string option, string? commandPath = null)
    {
        string t = text.Trim();
        if (t.Length > 0 && IsAllDigits(t))
        {
            if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long ms))
                throw new UsageException($"{option}: '{text}' is out of range", commandPath);
            return ms;
        }
        // ISO-8601 only: a date, optionally 'T' and a time, optionally an offset.
        if (t.Length >= 10 && t[4] == '-' && t[7] == '-' && IsAllDigits(t.AsSpan(0, 4))
            && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var when))
        {
            long ms = when.ToUnixTimeMilliseconds();
            if (ms < 0) throw new UsageException($"{option}: '{text}' is before 1970", commandPath);
            return ms;
        }
        throw new UsageException(
            $"{option} expects milliseconds since the epoch or an ISO-8601 time such as 2024-05-01T12:00:00Z, got '{text}'", commandPath);
    }

    /// <summary>"key=value" (the value may contain '=' and may be empty; the key may not be empty).</summary>
    public static KeyValuePair<string, string> ParseKeyValue(string text, string option, string? commandPath = null)
    {
        int eq = text.IndexOf('=');
        if (eq <= 0 || text.AsSpan(0, eq).Trim().Length == 0)
            throw new UsageException($"{option} expects key=value, got '{text}'", commandPath);
        return new KeyValuePair<string, string>(text.Substring(0, eq).Trim(), text.Substring(eq + 1));
    }

    /// <summary>A comma-separated list of host:port; returned normalised (no blanks).</summary>
    public static string ParseBootstrap(string text, string option, string? commandPath = null)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new UsageException($"{option} expects HOST:PORT[,HOST:PORT...], got '{text}'", commandPath);
        foreach (string part in parts)
        {
            int colon = part.LastIndexOf(':');
            if (colon <= 0 || colon == part.Length - 1
                || !int.TryParse(part.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port)
                || port is < 1 or > 65535)
                throw new UsageException($"{option} expects HOST:PORT[,HOST:PORT...], got '{part}'", commandPath);
        }
        return string.Join(',', parts);
    }

    /// <summary>A comma-separated list of http(s) URLs (trailing slashes removed).</summary>
    public static IReadOnlyList<string> ParseUrls(string text, string option, string? commandPath = null)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new UsageException($"{option} expects a URL such as http://localhost:9644, got '{text}'", commandPath);
        var urls = new List<string>(parts.Length);
        foreach (string part in parts)
        {
            string candidate = part.Contains("://", StringComparison.Ordinal) ? part : "http://" + part;
            if (!Uri.TryCreate(candidate, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")
                || string.IsNullOrEmpty(uri.Host))
                throw new UsageException($"{option} expects a URL such as http://localhost:9644, got '{part}'", commandPath);
            urls.Add(candidate.TrimEnd('/'));
        }
        return urls;
    }

    public static CompressionCodec ParseCompression(string text, string option, string? commandPath = null) =>
        text.ToLowerInvariant() switch
        {
            "none" => CompressionCodec.None,
            "gzip" => CompressionCodec.Gzip,
            "snappy" => CompressionCodec.Snappy,
            "lz4" => CompressionCodec.Lz4,
            "zstd" => CompressionCodec.Zstd,
            _ => throw new UsageException($"{option} must be one of none, gzip, snappy, lz4, zstd; got '{text}'", commandPath),
        };

    /// <summary>acks: all or -1 (every in-sync replica), 1 (the leader), 0 (no answer).</summary>
    public static short ParseAcks(string text, string option, string? commandPath = null) =>
        text.ToLowerInvariant() switch
        {
            "all" or "-1" => -1,
            "1" => 1,
            "0" => 0,
            _ => throw new UsageException($"{option} must be all, -1, 0 or 1; got '{text}'", commandPath),
        };

    /// <summary>Interprets the escapes \n \t \r \0 \\ (so a shell-quoted '\t' is a tab).</summary>
    public static string Unescape(string text)
    {
        if (text.IndexOf('\\') < 0) return text;
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c != '\\' || i + 1 == text.Length)
            {
                sb.Append(c);
                continue;
            }
            char next = text[++i];
            switch (next)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case '\\': sb.Append('\\'); break;
                default: sb.Append('\\').Append(next); break;
            }
        }
        return sb.ToString();
    }

    private static bool IsAllDigits(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
            if (c is < '0' or > '9') return false;
        return true;
    }
}
