using System.Globalization;

namespace Broker.Config;

/// <summary>The roles this node plays (KRaft <c>process.roles</c>).</summary>
[Flags]
public enum ProcessRoles { None = 0, Broker = 1, Controller = 2, Combined = Broker | Controller }

/// <summary>Kafka security protocols (names as in listener.security.protocol.map).</summary>
public enum SecurityProtocol { Plaintext, Ssl, SaslPlaintext, SaslSsl }

/// <summary>A Kafka listener: <c>NAME://host:port</c>. Host "0.0.0.0" / "::" = all interfaces.</summary>
public sealed record ListenerEndpoint(string Name, string Host, int Port, SecurityProtocol Protocol)
{
    /// <summary>True when the host was empty in the configuration (bind all interfaces).</summary>
    public bool HostWasEmpty { get; init; }
    public bool IsWildcardHost => Host is "0.0.0.0" or "::";
    public override string ToString() => $"{Name}://{Endpoints.FormatHostPort(Host, Port)}";
}

/// <summary>A static quorum voter: <c>id@host:port</c>.</summary>
public sealed record QuorumVoter(int Id, string Host, int Port)
{
    public override string ToString() => $"{Id}@{Endpoints.FormatHostPort(Host, Port)}";
}

/// <summary>An HTTP listener of our own (Admin API, HTTP proxy): <c>http://host:port</c>.</summary>
public sealed record HttpEndpoint(string Host, int Port)
{
    public override string ToString() => $"http://{Endpoints.FormatHostPort(Host, Port)}";
}

/// <summary>Parsers for the endpoint-shaped values. Each returns an error detail (null = ok).</summary>
public static class Endpoints
{
    public const string DefaultSecurityProtocolMap = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL";

    public static string ProtocolName(SecurityProtocol p) => p switch
    {
        SecurityProtocol.Plaintext => "PLAINTEXT",
        SecurityProtocol.Ssl => "SSL",
        SecurityProtocol.SaslPlaintext => "SASL_PLAINTEXT",
        _ => "SASL_SSL",
    };

    public static bool TryParseProtocol(string name, out SecurityProtocol protocol)
    {
        switch (name.Trim().ToUpperInvariant())
        {
            case "PLAINTEXT": protocol = SecurityProtocol.Plaintext; return true;
            case "SSL": protocol = SecurityProtocol.Ssl; return true;
            case "SASL_PLAINTEXT": protocol = SecurityProtocol.SaslPlaintext; return true;
            case "SASL_SSL": protocol = SecurityProtocol.SaslSsl; return true;
            default: protocol = default; return false;
        }
    }

    public static string FormatHostPort(string host, int port) =>
        host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";

    /// <summary>Parses <c>host:port</c> or <c>[v6]:port</c>. Empty host allowed only when <paramref name="allowEmptyHost"/>.</summary>
    public static string? ParseHostPort(string text, bool allowEmptyHost, out string host, out int port)
    {
        host = "";
        port = 0;
        string s = text.Trim();
        int colon;
        if (s.StartsWith('['))
        {
            int close = s.IndexOf(']');
            if (close < 0 || close + 1 >= s.Length || s[close + 1] != ':')
                return $"bad host:port '{text}': expected [ipv6]:port";
            host = s.Substring(1, close - 1);
            colon = close + 1;
        }
        else
        {
            colon = s.LastIndexOf(':');
            if (colon < 0) return $"bad host:port '{text}': missing ':port'";
            host = s.Substring(0, colon);
            if (host.Contains(':')) return $"bad host:port '{text}': put an IPv6 address in brackets, e.g. [::1]:9092";
        }
        string portText = s.Substring(colon + 1);
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
            return $"bad host:port '{text}': port must be a number 0-65535, got '{portText}'";
        foreach (char c in host)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '%' or ':'))
                return $"bad host:port '{text}': invalid character '{c}' in host";
        if (host.Length == 0 && !allowEmptyHost) return $"bad host:port '{text}': host is empty";
        return null;
    }

    /// <summary>Parses a listener list. Names are upper-cased; protocols are resolved later (map).</summary>
    public static string? ParseListeners(string value, out List<(string Name, string Host, int Port, bool HostWasEmpty)> listeners)
    {
        listeners = new();
        foreach (string item in ConfigValues.SplitList(value))
        {
            int sep = item.IndexOf("://", StringComparison.Ordinal);
            if (sep <= 0) return $"bad listener '{item}': expected NAME://host:port, e.g. PLAINTEXT://127.0.0.1:9092";
            string name = item.Substring(0, sep).Trim().ToUpperInvariant();
            foreach (char c in name)
                if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
                    return $"bad listener '{item}': invalid character '{c}' in listener name";
            string? err = ParseHostPort(item.Substring(sep + 3), allowEmptyHost: true, out string host, out int port);
            if (err is not null) return $"listener '{item}': {err}";
            bool empty = host.Length == 0;
            foreach (var l in listeners)
                if (l.Name == name) return $"listener name {name} appears more than once";
            listeners.Add((name, empty ? "0.0.0.0" : host, port, empty));
        }
        return null;
    }

    public static string? ParseVoters(string value, out List<QuorumVoter> voters)
    {
        voters = new();
        foreach (string item in ConfigValues.SplitList(value))
        {
            int at = item.IndexOf('@');
            if (at <= 0) return $"bad voter '{item}': expected id@host:port, e.g. 1@127.0.0.1:9093";
            if (!int.TryParse(item.AsSpan(0, at), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                return $"bad voter '{item}': id must be a non-negative integer";
            string? err = ParseHostPort(item.Substring(at + 1), allowEmptyHost: false, out string host, out int port);
            if (err is not null) return $"voter '{item}': {err}";
            if (port == 0) return $"voter '{item}': port 0 is not a reachable port";
            foreach (var v in voters)
                if (v.Id == id) return $"voter id {id} appears more than once";
            voters.Add(new QuorumVoter(id, host, port));
        }
        return null;
    }

    public static string? ParseProtocolMap(string value, out Dictionary<string, SecurityProtocol> map)
    {
        map = new(StringComparer.Ordinal);
        foreach (string item in ConfigValues.SplitList(value))
        {
            int colon = item.IndexOf(':');
            if (colon <= 0 || colon == item.Length - 1) return $"bad entry '{item}': expected LISTENER_NAME:PROTOCOL";
            string name = item.Substring(0, colon).Trim().ToUpperInvariant();
            string proto = item.Substring(colon + 1).Trim();
            if (!TryParseProtocol(proto, out var p))
                return $"bad entry '{item}': unknown security protocol '{proto}' (expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)";
            if (map.ContainsKey(name)) return $"listener name {name} is mapped more than once";
            map[name] = p;
        }
        return null;
    }

    public static string? ParseHttpListeners(string value, out List<HttpEndpoint> endpoints)
    {
        endpoints = new();
        foreach (string item in ConfigValues.SplitList(value))
        {
            if (!item.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
                return $"bad listener '{item}': expected http://host:port";
            string? err = ParseHostPort(item.Substring(7), allowEmptyHost: true, out string host, out int port);
            if (err is not null) return $"listener '{item}': {err}";
            endpoints.Add(new HttpEndpoint(host.Length == 0 ? "0.0.0.0" : host, port));
        }
        return null;
    }

    public static string? ParseRoles(string value, out ProcessRoles roles)
    {
        roles = ProcessRoles.None;
        foreach (string item in ConfigValues.SplitList(value))
        {
            ProcessRoles r = item switch { "broker" => ProcessRoles.Broker, "controller" => ProcessRoles.Controller, _ => ProcessRoles.None };
            if (r == ProcessRoles.None) return $"unknown role '{item}' (expected broker, controller or broker,controller)";
            if ((roles & r) != 0) return $"role '{item}' is listed twice";
            roles |= r;
        }
        if (roles == ProcessRoles.None)
            return "expected broker, controller or broker,controller (ZooKeeper mode is not supported)";
        return null;
    }
}
