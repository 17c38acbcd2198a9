using Broker.Cli;

namespace Broker.Host.Cli;

/// <summary>The verbs of the <c>broker</c> command.</summary>
public enum CliVerb
{
    /// <summary>Run the broker.</summary>
    Start,
    /// <summary>Validate a configuration and print the effective values.</summary>
    CheckConfig,
    /// <summary>Print the commented default server.properties.</summary>
    DefaultConfig,
    Version,
    Help,
    /// <summary>The arguments could not be parsed; see <see cref="CommandLineResult.Error"/>.</summary>
    Invalid,
}

/// <summary>What the command line asks for. Produced by <see cref="CommandLine.Parse"/>.</summary>
public sealed class CommandLineResult
{
    public CliVerb Verb { get; init; }
    /// <summary>--config FILE (start, check-config); null = built-in single-node configuration.</summary>
    public string? ConfigPath { get; init; }
    /// <summary>--data-dir DIR (start, check-config, default-config).</summary>
    public string? DataDir { get; init; }
    /// <summary>--override key=value, in order; a repeated key keeps the last value.</summary>
    public IReadOnlyDictionary<string, string> Overrides { get; init; } = new Dictionary<string, string>();
    /// <summary>For <see cref="CliVerb.Help"/>: the verb whose help was asked for (null = general usage).
    /// For <see cref="CliVerb.Invalid"/>: the verb being parsed when the error was found, if any.</summary>
    public CliVerb? Topic { get; init; }
    /// <summary>For <see cref="CliVerb.Help"/>: an operator tool command whose help was asked for ("topic",
    /// "topic create"), handled by Broker.Cli; null otherwise.</summary>
    public string? ToolCommand { get; init; }
    /// <summary>Error text for <see cref="CliVerb.Invalid"/>.</summary>
    public string? Error { get; init; }
    /// <summary>Exit code for verbs that end immediately: 2 for invalid arguments, else 0.</summary>
    public int ExitCode => Verb == CliVerb.Invalid ? 2 : 0;
}

/// <summary>
/// Hand-written, reflection-free argument parser for the <c>broker</c> executable:
/// <c>start [--config FILE] [--data-dir DIR] [--override key=value ...]</c>, <c>check-config</c>,
/// <c>default-config</c>, <c>version</c>/<c>--version</c>, <c>help</c>/<c>--help</c> (also <c>help topic</c>,
/// <c>help topic create</c> for the operator tool's verbs, which Broker.Cli parses itself). Options accept both
/// <c>--opt value</c> and <c>--opt=value</c>.
/// </summary>
public static class CommandLine
{
    public static CommandLineResult Parse(string[] args)
    {
        if (args.Length == 0) return Invalid("no command given", null);
        string verb = args[0];
        switch (verb)
        {
            case "help" or "--help" or "-h":
                if (args.Length == 1) return new CommandLineResult { Verb = CliVerb.Help };
                if (args.Length == 2 && TryVerb(args[1], out var topic)) return new CommandLineResult { Verb = CliVerb.Help, Topic = topic };
                if (args.Length <= 3 && BrokerTool.Help(string.Join(' ', args.Skip(1))) is not null)
                    return new CommandLineResult { Verb = CliVerb.Help, ToolCommand = string.Join(' ', args.Skip(1)) };
                if (args.Length == 3 && BrokerTool.IsToolVerb(args[1])) return Invalid($"unknown {args[1]} command '{args[2]}'", null);
                return Invalid(args.Length == 2 ? $"unknown command '{args[1]}'" : "help takes at most one command name", null);
            case "version" or "--version" or "-V":
                return args.Length == 1
                    ? new CommandLineResult { Verb = CliVerb.Version }
                    : Invalid($"unexpected argument '{args[1]}'", CliVerb.Version);
            case "start": return ParseOptions(args, CliVerb.Start);
            case "check-config": return ParseOptions(args, CliVerb.CheckConfig);
            case "default-config": return ParseOptions(args, CliVerb.DefaultConfig);
        }
        if (verb.StartsWith('-')) return Invalid($"unknown option '{verb}'", null);
        if (verb.EndsWith(".properties", StringComparison.Ordinal))
            return Invalid($"unknown command '{verb}'; to start with a configuration file use: broker start --config {verb}", null);
        return Invalid($"unknown command '{verb}'", null);
    }

    /// <summary>Command names as typed, for help texts.</summary>
    public static string VerbName(CliVerb verb) => verb switch
    {
        CliVerb.Start => "start",
        CliVerb.CheckConfig => "check-config",
        CliVerb.DefaultConfig => "default-config",
        CliVerb.Version => "version",
        CliVerb.Help => "help",
        _ => "",
    };

    private static bool TryVerb(string name, out CliVerb verb)
    {
        foreach (var v in new[] { CliVerb.Start, CliVerb.CheckConfig, CliVerb.DefaultConfig, CliVerb.Version, CliVerb.Help })
            if (VerbName(v) == name) { verb = v; return true; }
        verb = CliVerb.Invalid;
        return false;
    }

    private static CommandLineResult ParseOptions(string[] args, CliVerb verb)
    {
        string? config = null, dataDir = null;
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        bool allowConfig = verb is CliVerb.Start or CliVerb.CheckConfig;
        for (int i = 1; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "--help" or "-h") return new CommandLineResult { Verb = CliVerb.Help, Topic = verb };
            if (!arg.StartsWith('-'))
                return Invalid($"unexpected argument '{arg}'", verb);

            string name = arg;
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg.Substring(0, eq);
                inline = arg.Substring(eq + 1);
            }

            bool known = name == "--data-dir" || (allowConfig && (name == "--config" || name == "--override"));
            if (!known) return Invalid($"unknown option '{name}' for '{VerbName(verb)}'", verb);

            string value;
            if (inline is not null) value = inline;
            else if (i + 1 < args.Length) value = args[++i];
            else return Invalid($"option {name} needs a value", verb);

            switch (name)
            {
                case "--config":
                    if (config is not null) return Invalid("--config given more than once", verb);
                    if (value.Length == 0) return Invalid("--config needs a file name", verb);
                    config = value;
                    break;
                case "--data-dir":
                    if (dataDir is not null) return Invalid("--data-dir given more than once", verb);
                    if (value.Trim().Length == 0) return Invalid("--data-dir needs a directory", verb);
                    dataDir = value;
                    break;
                default:
                    int sep = value.IndexOf('=');
                    if (sep <= 0 || value.Substring(0, sep).Trim().Length == 0)
                        return Invalid($"--override expects key=value, got '{value}'", verb);
                    overrides[value.Substring(0, sep).Trim()] = value.Substring(sep + 1);
                    break;
            }
        }
        return new CommandLineResult { Verb = verb, ConfigPath = config, DataDir = dataDir, Overrides = overrides };
    }

    private static CommandLineResult Invalid(string error, CliVerb? verb) =>
        new() { Verb = CliVerb.Invalid, Error = error, Topic = verb };
}
