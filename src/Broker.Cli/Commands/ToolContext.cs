using Broker.Client;
using Broker.Core.Diagnostics;

namespace Broker.Cli.Commands;

/// <summary>
/// What a running command has at hand: the console, the interrupt token (Ctrl-C / SIGTERM), the common options once
/// parsed, a factory for our Kafka client and a helper that bounds an operation by <c>--timeout</c>.
/// </summary>
internal sealed class ToolContext(ToolConsole console, CancellationToken interrupt)
{
    public ToolConsole Console { get; } = console;
    public TextWriter Out => Console.Stdout;
    public TextWriter Err => Console.Stderr;
    public CancellationToken Interrupt { get; } = interrupt;

    /// <summary>The common options, set by <see cref="UseCommon"/> (null for commands that have none).</summary>
    public CommonOptions? Common { get; private set; }

    /// <summary>Parses the common options of <paramref name="args"/> and applies the log verbosity.</summary>
    public CommonOptions UseCommon(Arguments.ParsedArgs args)
    {
        Common = CommonOptions.Parse(args, Console.Environment);
        Log.MinLevel = Common.Verbose ? LogLevel.Info : LogLevel.Error;
        return Common;
    }

    public KafkaClient CreateClient()
    {
        var common = Common ?? throw new InvalidOperationException("UseCommon first");
        return new KafkaClient(new KafkaClientOptions
        {
            BootstrapServers = common.Bootstrap,
            ClientId = common.ClientId,
            RequestTimeout = common.Timeout,
            RetryBudget = common.Timeout,
        });
    }

    /// <summary>
    /// Runs <paramref name="operation"/> with a token cancelled at <c>--timeout</c> or on interrupt; a timeout becomes
    /// a <see cref="ToolFailure"/> saying what did not answer.
    /// </summary>
    public async Task<T> Bounded<T>(Func<CancellationToken, Task<T>> operation, string? what = null)
    {
        var common = Common ?? throw new InvalidOperationException("UseCommon first");
        using var deadline = new CancellationTokenSource(common.Timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, Interrupt);
        try
        {
            return await operation(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !Interrupt.IsCancellationRequested)
        {
            throw new ToolFailure(
                $"REQUEST_TIMED_OUT: no answer from {what ?? $"the cluster (bootstrap servers {common.Bootstrap})"} within {Describe(common.Timeout)}");
        }
    }

    /// <summary>"5 s", "500 ms".</summary>
    public static string Describe(TimeSpan t) =>
        t.TotalMilliseconds < 1000 || t.TotalMilliseconds % 1000 != 0
            ? $"{(long)t.TotalMilliseconds} ms"
            : $"{(long)t.TotalSeconds} s";
}
