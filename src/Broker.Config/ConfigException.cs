namespace Broker.Config;

/// <summary>
/// A configuration error that stops start-up. <see cref="Exception.Message"/> is the full, user-facing text,
/// e.g. <c>server.properties:12: num.partitions: expected a positive integer, got 'abc'</c>.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string? key, int? lineNumber, string? source, string detail)
        : base(Format(key, lineNumber, source, detail))
    {
        Key = key;
        LineNumber = lineNumber;
        SourceName = source;
        Detail = detail;
    }

    /// <summary>The offending key, or null when the problem is not about one key (unreadable file).</summary>
    public string? Key { get; }
    /// <summary>Line of the offending entry; null for a missing key, a default or a derived value.</summary>
    public int? LineNumber { get; }
    /// <summary>Where the value came from: a file path, "--override", "--data-dir", or null.</summary>
    public string? SourceName { get; }
    /// <summary>The message without the location prefix.</summary>
    public string Detail { get; }

    private static string Format(string? key, int? line, string? source, string detail)
    {
        string where = source is null ? "" : line is int l ? $"{source}:{l}: " : $"{source}: ";
        return key is null ? where + detail : $"{where}{key}: {detail}";
    }
}

public enum ConfigWarningKind
{
    /// <summary>A key no part of this broker knows.</summary>
    UnknownKey,
    /// <summary>A real Kafka broker setting that this broker accepts but does not use.</summary>
    NotApplicable,
    /// <summary>The same key appears twice in one file; the last one wins.</summary>
    DuplicateKey,
}

/// <summary>A non-fatal configuration finding. <see cref="Message"/> is ready to log.</summary>
public sealed record ConfigWarning(string Key, int? LineNumber, string? Source, ConfigWarningKind Kind, string Message)
{
    public override string ToString() => Message;
}

public enum ConfigOriginKind { Default, Derived, File, Override, DataDirFlag, BuiltIn }

/// <summary>Where an effective configuration value came from (for messages and <c>check-config</c> output).</summary>
public readonly record struct ConfigOrigin(ConfigOriginKind Kind, string? Source, int? Line)
{
    public static readonly ConfigOrigin Default = new(ConfigOriginKind.Default, null, null);
    public static readonly ConfigOrigin Override = new(ConfigOriginKind.Override, "--override", null);
    public static readonly ConfigOrigin DataDirFlag = new(ConfigOriginKind.DataDirFlag, "--data-dir", null);
    public static readonly ConfigOrigin BuiltIn = new(ConfigOriginKind.BuiltIn, "built-in single-node config", null);
    public static ConfigOrigin File(string path, int line) => new(ConfigOriginKind.File, path, line);
    public static ConfigOrigin Derived(string note) => new(ConfigOriginKind.Derived, note, null);

    public override string ToString() => Kind switch
    {
        ConfigOriginKind.Default => "default",
        ConfigOriginKind.Derived => Source ?? "derived",
        ConfigOriginKind.File => $"{Source}:{Line}",
        _ => Source ?? Kind.ToString(),
    };
}
