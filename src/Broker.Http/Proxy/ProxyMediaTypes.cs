namespace Broker.Http.Proxy;

/// <summary>The REST proxy v2 media types: control JSON, embedded JSON records, base64 (binary) records.</summary>
internal enum ProxyFormat : byte
{
    Unsupported = 0,
    /// <summary>application/vnd.kafka.v2+json: requests and answers that carry no records.</summary>
    V2,
    /// <summary>application/vnd.kafka.json.v2+json: record keys and values are JSON values.</summary>
    Json,
    /// <summary>application/vnd.kafka.binary.v2+json: record keys and values are base64 strings.</summary>
    Binary,
}

/// <summary>
/// Content negotiation as pandaproxy does it: a header is split on ',', ';' and ' ', and the first token that names a
/// supported format wins. An absent/empty header or <c>*/*</c> selects the endpoint's first format, but only on
/// endpoints that accept "no format" (control endpoints); record endpoints insist on an explicit embedded format.
/// </summary>
internal static class ProxyMediaTypes
{
    public const string V2 = "application/vnd.kafka.v2+json";
    public const string Json = "application/vnd.kafka.json.v2+json";
    public const string Binary = "application/vnd.kafka.binary.v2+json";

    private static readonly char[] Separators = [',', ';', ' ', '\t'];

    public static string Name(ProxyFormat format) => format switch
    {
        ProxyFormat.V2 => V2,
        ProxyFormat.Json => Json,
        ProxyFormat.Binary => Binary,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "no media type"),
    };

    /// <summary>
    /// The format a header selects among <paramref name="supported"/> (in preference order), or
    /// <see cref="ProxyFormat.Unsupported"/>. <paramref name="allowNone"/>: an empty header or <c>*/*</c> selects
    /// <c>supported[0]</c>.
    /// </summary>
    public static ProxyFormat Select(string? header, ReadOnlySpan<ProxyFormat> supported, bool allowNone)
    {
        if (supported.IsEmpty) throw new ArgumentException("at least one supported format", nameof(supported));
        string[] tokens = (header ?? "").Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0) return allowNone ? supported[0] : ProxyFormat.Unsupported;
        foreach (string token in tokens)
        {
            foreach (var format in supported)
            {
                if (token.Equals(Name(format), StringComparison.OrdinalIgnoreCase)) return format;
            }
            if (allowNone && token == "*/*") return supported[0];
        }
        return ProxyFormat.Unsupported;
    }
}
