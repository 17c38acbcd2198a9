namespace Broker.Cli.Arguments;

/// <summary>
/// Hand-written, reflection-free option parser for one command. Accepts <c>--name value</c>, <c>--name=value</c>,
/// <c>-n value</c>; <c>--</c> ends the options (everything after it is positional); a lone <c>-</c> is positional.
/// An option that takes a value consumes the next argument whatever it looks like, so <c>--offset -2</c> works.
/// <c>-h</c>/<c>--help</c> anywhere asks for the command's help.
/// </summary>
internal static class ArgParser
{
    /// <summary>
    /// Parses <paramref name="args"/> from <paramref name="start"/> against <paramref name="options"/>. Returns null
    /// when help was asked for. Throws <see cref="UsageException"/> on unknown options, missing or repeated values,
    /// and positional counts outside [<paramref name="minPositional"/>, <paramref name="maxPositional"/>].
    /// </summary>
    public static ParsedArgs? Parse(IReadOnlyList<string> args, int start, string commandPath,
        IReadOnlyList<OptionSpec> options, int minPositional, int maxPositional, string positionalName)
    {
        var parsed = new ParsedArgs(commandPath);
        bool onlyPositional = false;
        for (int i = start; i < args.Count; i++)
        {
            string arg = args[i];
            if (onlyPositional || arg == "-" || arg.Length == 0 || arg[0] != '-')
            {
                parsed.Positionals.Add(arg);
                continue;
            }
            if (arg == "--")
            {
                onlyPositional = true;
                continue;
            }
            if (arg is "-h" or "--help") return null;

            string name = arg;
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (eq > 0)
            {
                name = arg.Substring(0, eq);
                inline = arg.Substring(eq + 1);
            }
            var spec = Find(options, name) ?? throw new UsageException(UnknownOption(name, options, commandPath), commandPath);
            if (spec.Kind == OptionKind.Flag)
            {
                if (inline is not null) throw new UsageException($"option {spec.LongName} takes no value", commandPath);
                parsed.AddFlag(spec.Key);
                continue;
            }
            string value;
            if (inline is not null) value = inline;
            else if (i + 1 < args.Count) value = args[++i];
            else throw new UsageException($"option {name} needs a value ({spec.ValueName})", commandPath);
            if (spec.Kind == OptionKind.Value && parsed.Has(spec.Key))
                throw new UsageException($"option {spec.LongName} given more than once", commandPath);
            parsed.AddValue(spec.Key, value);
        }

        int count = parsed.Positionals.Count;
        if (count < minPositional)
            throw new UsageException(minPositional == 1 && maxPositional == 1
                ? $"missing {positionalName}"
                : $"missing {positionalName} (at least {minPositional} expected)", commandPath);
        if (count > maxPositional)
            throw new UsageException(maxPositional == 0
                ? $"unexpected argument '{parsed.Positionals[0]}'"
                : $"unexpected argument '{parsed.Positionals[maxPositional]}'", commandPath);
        return parsed;
    }

    private static OptionSpec? Find(IReadOnlyList<OptionSpec> options, string name)
    {
        foreach (var spec in options)
            foreach (string n in spec.Names)
                if (n == name) return spec;
        return null;
    }

    private static string UnknownOption(string name, IReadOnlyList<OptionSpec> options, string commandPath)
    {
        // A near miss such as "--partition" for "--partitions" gets a suggestion.
        string bare = name.TrimStart('-');
        foreach (var spec in options)
        {
            string key = spec.Key;
            if (bare.Length > 2 && (key.StartsWith(bare, StringComparison.Ordinal) || bare.StartsWith(key, StringComparison.Ordinal)))
                return $"unknown option '{name}' for '{commandPath}' (did you mean {spec.LongName}?)";
        }
        return $"unknown option '{name}' for '{commandPath}'";
    }
}
