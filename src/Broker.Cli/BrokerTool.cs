using System.Text;
using Broker.Cli.Arguments;
using Broker.Cli.Commands;
using Broker.Cli.Output;
using Broker.Client;

namespace Broker.Cli;

/// <summary>
/// The operator tool: the <c>topic</c>, <c>produce</c>, <c>consume</c>, <c>group</c> and <c>cluster</c> verbs of the
/// <c>broker</c> binary. Speaks the Kafka protocol (through Broker.Client) and the Admin API, so it works against any
/// Kafka-compatible cluster. Exit status: 0 ok, 1 the operation failed (the Kafka error's name and message on
/// stderr), 2 bad arguments, 130 interrupted.
/// </summary>
public static class BrokerTool
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitUsage = 2;
    public const int ExitInterrupted = 130;

    /// <summary>The verbs this tool handles, in help order.</summary>
    public static IReadOnlyList<string> Verbs { get; } = CommandTable.VerbNames;

    public static bool IsToolVerb(string verb) => CommandTable.FindVerb(verb) is not null;

    /// <summary>"  topic           Create, list, describe, ..." lines for the host's general usage.</summary>
    public static string CommandList => CommandTable.VerbList();

    /// <summary>The help of a verb ("topic") or a command ("topic create"); null when unknown.</summary>
    public static string? Help(string command)
    {
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) return null;
        var verb = CommandTable.FindVerb(words[0]);
        if (verb is null) return null;
        if (words.Length == 1) return verb.Help();
        return words.Length == 2 && verb.Find(words[1]) is { } def ? def.Help() : null;
    }

    /// <summary>Runs the tool command in <paramref name="args"/> (args[0] is the verb) and returns the exit status.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, ToolConsole console, CancellationToken interrupt = default)
    {
        var ctx = new ToolContext(console, interrupt);
        try
        {
            var (def, parsed, help) = Resolve(args);
            if (help is not null)
            {
                console.Stdout.Write(help);
                console.Stdout.Write('\n');
                return ExitOk;
            }
            return await def!.Run(parsed!, ctx).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            console.Stderr.WriteLine($"error: {ex.Message}");
            console.Stderr.WriteLine(UsageHint(ex.CommandPath));
            return ExitUsage;
        }
        catch (ToolFailure ex)
        {
            foreach (string line in ex.Message.Split('\n')) console.Stderr.WriteLine($"error: {line}");
            return ex.ExitCode;
        }
        catch (KafkaException ex)
        {
            console.Stderr.WriteLine(Formats.ErrorLine(ex.Error, ex.Message));
            if (ctx.Common is { } common && IsConnectivity(ex.Error))
                console.Stderr.WriteLine($"note: bootstrap servers: {common.Bootstrap} (set with -b/--bootstrap-server or ${CommonOptions.BootstrapEnv})");
            return ExitFailed;
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            console.Stderr.WriteLine("interrupted");
            return ExitInterrupted;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or System.Net.Sockets.SocketException
                                       or TimeoutException or OperationCanceledException or FormatException)
        {
            // Not worded by us (a decoding or I/O failure below the commands): still one line, no stack trace.
            console.Stderr.WriteLine($"error: {ex.GetType().Name}: {ex.Message}");
            return ExitFailed;
        }
        finally
        {
            try
            {
                console.Stdout.Flush();
            }
            catch (IOException)
            {
                // stdout closed early (e.g. piped into head): nothing more to say.
            }
        }
    }

    private static bool IsConnectivity(Broker.Core.Model.ErrorCode code) =>
        code is Broker.Core.Model.ErrorCode.NetworkException or Broker.Core.Model.ErrorCode.RequestTimedOut
            or Broker.Core.Model.ErrorCode.BrokerNotAvailable;

    /// <summary>Finds the command and parses its arguments; returns help text instead when help was asked for.</summary>
    internal static (CommandDef? Def, ParsedArgs? Args, string? Help) Resolve(IReadOnlyList<string> args)
    {
        if (args.Count == 0) throw new UsageException("no command given");
        var verb = CommandTable.FindVerb(args[0]) ?? throw new UsageException($"unknown command '{args[0]}'");
        CommandDef def;
        int start;
        if (verb.Single is { } single)
        {
            def = single;
            start = 1;
        }
        else
        {
            if (args.Count == 1)
                throw new UsageException($"missing {verb.Name} command ({string.Join(", ", verb.SubcommandNames)})", verb.Name);
            string sub = args[1];
            if (sub is "-h" or "--help" or "help") return (null, null, verb.Help());
            def = verb.Find(sub) ?? throw new UsageException(
                sub.StartsWith('-')
                    ? $"expected a {verb.Name} command ({string.Join(", ", verb.SubcommandNames)}) before '{sub}'"
                    : $"unknown {verb.Name} command '{sub}' (expected one of {string.Join(", ", verb.SubcommandNames)})", verb.Name);
            start = 2;
        }
        var parsed = def.Parse(args, start);
        return parsed is null ? (def, null, def.Help()) : (def, parsed, null);
    }

    private static string UsageHint(string? commandPath)
    {
        if (commandPath is null) return "Run 'broker help' for the list of commands.";
        var words = commandPath.Split(' ');
        var verb = CommandTable.FindVerb(words[0]);
        if (verb is null) return "Run 'broker help' for the list of commands.";
        if (words.Length == 1 && verb.Single is null)
            return $"Usage: broker {verb.Name} <{string.Join('|', verb.SubcommandNames)}> [options]\nRun 'broker {verb.Name} --help' for details.";
        var def = verb.Single ?? verb.Find(words[^1]);
        if (def is null) return "Run 'broker help' for the list of commands.";
        return new StringBuilder().Append("Usage: broker ").Append(def.Path).Append(' ').Append(def.Synopsis)
            .Append("\nRun 'broker ").Append(def.Path).Append(" --help' for the options.").ToString();
    }
}
