using Broker.Integration.Tests.Infrastructure;

namespace Broker.Integration.Tests.Configs;

/// <summary>One IncrementalAlterConfigs entry: operation 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT.</summary>
public sealed record WireConfigOp(string Name, sbyte Op, string? Value);

/// <summary>One resource's answer to an alter request.</summary>
public sealed record WireAlterResult(short ErrorCode, string? ErrorMessage, sbyte ResourceType, string? ResourceName);

/// <summary>One described config entry (DescribeConfigs v1+ shape).</summary>
public sealed record WireConfigEntry(string? Name, string? Value, bool ReadOnly, sbyte Source, sbyte ConfigType, string? Documentation,
    IReadOnlyList<(string? Name, string? Value, sbyte Source)> Synonyms);

/// <summary>One resource's answer to DescribeConfigs.</summary>
public sealed record WireDescribeResult(short ErrorCode, string? ErrorMessage, sbyte ResourceType, string? ResourceName,
    IReadOnlyList<WireConfigEntry> Configs)
{
    public WireConfigEntry? Entry(string name) => Configs.FirstOrDefault(c => c.Name == name);
}

/// <summary>
/// IncrementalAlterConfigs (v0 classic, v1 flexible) and DescribeConfigs (v1-v4) encoded by hand over
/// <see cref="WireConnection"/>: the raw-wire path for config APIs (no Debian client speaks IncrementalAlterConfigs).
/// </summary>
public static class ConfigsWire
{
    public const short ApiDescribeConfigs = 32;
    public const short ApiIncrementalAlterConfigs = 44;
    public const sbyte Topic = 2;
    public const sbyte Broker = 4;

    public static List<WireAlterResult> IncrementalAlter(string host, int port, short version, bool validateOnly,
        params (sbyte Type, string Name, WireConfigOp[] Ops)[] resources)
    {
        using var connection = new WireConnection(host, port, "configs-it");
        var r = connection.Call(ApiIncrementalAlterConfigs, version, flexible: version >= 1, w =>
        {
            w.Array(resources, (w, res) =>
            {
                w.Int8(res.Type).String(res.Name);
                w.Array(res.Ops, (w, op) => w.String(op.Name).Int8(op.Op).String(op.Value));
            });
            w.Bool(validateOnly);
        });
        r.Int32(); // throttle
        var results = r.Array(x => new WireAlterResult(x.Int16(), x.String(), x.Int8(), x.String()));
        r.End();
        return results;
    }

    public static WireDescribeResult Describe(string host, int port, sbyte type, string name, IReadOnlyList<string>? keys = null,
        short version = 4, bool synonyms = true, bool documentation = false)
    {
        using var connection = new WireConnection(host, port, "configs-it");
        var r = connection.Call(ApiDescribeConfigs, version, flexible: version >= 4, w =>
        {
            w.Array(new[] { (type, name) }, (w, res) =>
            {
                w.Int8(res.type).String(res.name);
                w.Array(keys, (w, k) => w.String(k), structs: false);
            });
            w.Bool(synonyms);
            if (version >= 3) w.Bool(documentation);
        });
        r.Int32(); // throttle
        var results = r.Array(x =>
        {
            short error = x.Int16();
            string? message = x.String();
            sbyte resourceType = x.Int8();
            string? resourceName = x.String();
            var configs = x.Array(c =>
            {
                string? n = c.String();
                string? v = c.String();
                bool readOnly = c.Bool();
                sbyte source = c.Int8();
                c.Bool(); // is_sensitive
                var syn = c.Array(s => (s.String(), s.String(), s.Int8()));
                sbyte configType = version >= 3 ? c.Int8() : (sbyte)0;
                string? doc = version >= 3 ? c.String() : null;
                return new WireConfigEntry(n, v, readOnly, source, configType, doc, syn);
            });
            return new WireDescribeResult(error, message, resourceType, resourceName, configs);
        });
        r.End();
        if (results.Count != 1) throw new InvalidDataException($"DescribeConfigs answered {results.Count} resources, asked 1");
        return results[0];
    }
}
