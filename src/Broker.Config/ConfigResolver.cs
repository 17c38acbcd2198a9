namespace Broker.Config;

/// <summary>A value supplied for a key, with its origin.</summary>
internal readonly record struct GivenValue(string Value, ConfigOrigin Origin);

/// <summary>
/// Reads typed values out of the given key/value set, falling back to the table defaults, records the
/// effective value of each key and turns problems into <see cref="ConfigException"/>s that point at the
/// line (or option) the value came from.
/// </summary>
internal sealed class ConfigResolver
{
    private readonly IReadOnlyDictionary<string, GivenValue> _given;
    private readonly string? _fileSource;
    private readonly Dictionary<string, EffectiveSetting> _effective = new(StringComparer.Ordinal);

    public ConfigResolver(IReadOnlyDictionary<string, GivenValue> given, string? fileSource)
    {
        _given = given;
        _fileSource = fileSource;
    }

    public IReadOnlyDictionary<string, GivenValue> Given => _given;

    /// <summary>Type-checks every given known key and classifies the unknown ones as warnings.</summary>
    public void CheckGivenKeys(List<ConfigWarning> warnings)
    {
        foreach (var (key, given) in _given)
        {
            var def = ConfigKeys.Find(key);
            if (def is not null)
            {
                string? err = def.Check(given.Value);
                if (err is not null) throw ErrorAt(key, given.Origin, err);
                continue;
            }
            string where = given.Origin.Kind == ConfigOriginKind.File ? $"(line {given.Origin.Line})" : $"({given.Origin})";
            if (ConfigKeys.IsKafkaSettingNotUsed(key))
                warnings.Add(new ConfigWarning(key, given.Origin.Line, given.Origin.Source, ConfigWarningKind.NotApplicable,
                    $"configuration key '{key}' {where} is a Kafka setting this broker does not use; ignored"));
            else
                warnings.Add(new ConfigWarning(key, given.Origin.Line, given.Origin.Source, ConfigWarningKind.UnknownKey,
                    $"unknown configuration key '{key}' {where} ignored"));
        }
    }

    public bool TryGiven(string key, out GivenValue given) => _given.TryGetValue(key, out given);

    /// <summary>The origin to blame for a key: where it was given, else the defaults.</summary>
    public ConfigOrigin OriginOf(string key) => _given.TryGetValue(key, out var g) ? g.Origin : ConfigOrigin.Default;

    public ConfigException Error(string key, string detail) => ErrorAt(key, OriginOf(key), detail);

    public ConfigException ErrorAt(string key, ConfigOrigin origin, string detail)
    {
        string? source = origin.Kind switch
        {
            ConfigOriginKind.File => origin.Source,
            ConfigOriginKind.Override or ConfigOriginKind.DataDirFlag or ConfigOriginKind.BuiltIn => origin.Source,
            _ => _fileSource,
        };
        return new ConfigException(key, origin.Line, source, detail);
    }

    /// <summary>The given value (trimmed) or the table default; null when neither exists.</summary>
    public string? Value(string key)
    {
        if (_given.TryGetValue(key, out var g)) return g.Value.Trim();
        return Key(key).Default;
    }

    public string Required(string key, string hint)
    {
        string? v = Value(key);
        if (v is null || v.Length == 0) throw Error(key, "required" + hint);
        return v;
    }

    public int Int(string key) => checked((int)ConfigValues.ParseLong(Value(key) ?? throw NoDefault(key)));
    public short Short(string key) => checked((short)ConfigValues.ParseLong(Value(key) ?? throw NoDefault(key)));
    public long Long(string key) => ConfigValues.ParseLong(Value(key) ?? throw NoDefault(key));
    public long? OptionalLong(string key) => Value(key) is { } v ? ConfigValues.ParseLong(v) : null;
    public int? OptionalInt(string key) => Value(key) is { } v ? checked((int)ConfigValues.ParseLong(v)) : null;
    public double Double(string key) => ConfigValues.ParseDouble(Value(key) ?? throw NoDefault(key));
    public bool Bool(string key) => ConfigValues.ParseBool(Value(key) ?? throw NoDefault(key));
    public string String(string key) => Value(key) ?? throw NoDefault(key);
    public List<string> List(string key) => ConfigValues.SplitList(Value(key) ?? "");

    /// <summary>Records a computed effective value (for derived keys).</summary>
    public void SetEffective(string key, string? value, ConfigOrigin origin) =>
        _effective[key] = new EffectiveSetting(key, value, origin);

    /// <summary>Effective settings of every non-alias key in table order; unrecorded keys get given/default.</summary>
    public List<EffectiveSetting> BuildEffective()
    {
        var list = new List<EffectiveSetting>(ConfigKeys.All.Count);
        foreach (var def in ConfigKeys.All)
        {
            if (def.AliasOf is not null) continue;
            if (!_effective.TryGetValue(def.Name, out var s))
                s = _given.TryGetValue(def.Name, out var g)
                    ? new EffectiveSetting(def.Name, g.Value.Trim(), g.Origin)
                    : new EffectiveSetting(def.Name, def.Default, ConfigOrigin.Default);
            list.Add(s);
        }
        return list;
    }

    private static ConfigKey Key(string name) =>
        ConfigKeys.Find(name) ?? throw new InvalidOperationException($"'{name}' is not in the known-key table");

    private static InvalidOperationException NoDefault(string key) =>
        new($"configuration key '{key}' has no default; the caller must handle the unset case");
}
