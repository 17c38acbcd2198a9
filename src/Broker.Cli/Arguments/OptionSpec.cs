namespace Broker.Cli.Arguments;

/// <summary>How an option takes values.</summary>
internal enum OptionKind
{
    /// <summary>No value: present or not.</summary>
    Flag,
    /// <summary>Exactly one value; giving it twice is a usage error.</summary>
    Value,
    /// <summary>A value each time it is given, kept in order.</summary>
    Repeated,
}

/// <summary>
/// One option of a command: its spellings (<c>-p</c>, <c>--partitions</c>), whether it takes a value, and the text
/// the generated help shows. <see cref="Key"/> (the long name without dashes) is how commands look it up.
/// </summary>
internal sealed class OptionSpec
{
    public OptionSpec(string names, OptionKind kind, string help, string? valueName = null)
    {
        Names = names.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (Names.Length == 0) throw new ArgumentException("an option needs a name", nameof(names));
        Kind = kind;
        Help = help;
        ValueName = kind == OptionKind.Flag ? null : valueName ?? "VALUE";
        string longest = Names[^1];
        Key = longest.TrimStart('-');
    }

    /// <summary>Every spelling, e.g. ["-p", "--partitions"]; the last one is the canonical long name.</summary>
    public string[] Names { get; }
    public OptionKind Kind { get; }
    public string Help { get; }
    public string? ValueName { get; }
    public string Key { get; }
    public string LongName => Names[^1];

    /// <summary>"-p, --partitions N" as shown in help texts.</summary>
    public string Synopsis => ValueName is null ? string.Join(", ", Names) : $"{string.Join(", ", Names)} {ValueName}";

    public static OptionSpec Flag(string names, string help) => new(names, OptionKind.Flag, help);
    public static OptionSpec Value(string names, string valueName, string help) => new(names, OptionKind.Value, help, valueName);
    public static OptionSpec Repeated(string names, string valueName, string help) => new(names, OptionKind.Repeated, help, valueName);
}
