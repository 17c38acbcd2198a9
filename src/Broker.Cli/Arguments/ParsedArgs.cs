namespace Broker.Cli.Arguments;

/// <summary>
/// The options and positional arguments of one command, as <see cref="ArgParser"/> found them. Typed accessors
/// turn bad values into <see cref="UsageException"/>s that name the option.
/// </summary>
internal sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public ParsedArgs(string commandPath) => CommandPath = commandPath;

    /// <summary>"topic create", "produce"...</summary>
    public string CommandPath { get; }

    public List<string> Positionals { get; } = new();

    /// <summary>Whether a flag or a valued option was given.</summary>
    public bool Has(string key) => _flags.Contains(key) || _values.ContainsKey(key);

    /// <summary>The value of a single-valued option, or null when absent.</summary>
    public string? Get(string key) => _values.TryGetValue(key, out var list) ? list[^1] : null;

    /// <summary>Every value of a repeated option, in order (empty when absent).</summary>
    public IReadOnlyList<string> GetAll(string key) => _values.TryGetValue(key, out var list) ? list : Array.Empty<string>();

    internal void AddFlag(string key) => _flags.Add(key);

    internal void AddValue(string key, string value)
    {
        if (!_values.TryGetValue(key, out var list)) _values[key] = list = new List<string>();
        list.Add(value);
    }

    /// <summary>An integer option within [min, max], or <paramref name="fallback"/> when absent.</summary>
    public int GetInt(string key, int fallback, int min, int max)
    {
        string? text = Get(key);
        return text is null ? fallback : ValueParsers.ParseInt(text, "--" + key, min, max, CommandPath);
    }

    /// <summary>A long option within [min, max], or <paramref name="fallback"/> when absent.</summary>
    public long GetLong(string key, long fallback, long min, long max)
    {
        string? text = Get(key);
        return text is null ? fallback : ValueParsers.ParseLong(text, "--" + key, min, max, CommandPath);
    }

    public UsageException Error(string message) => new(message, CommandPath);
}
