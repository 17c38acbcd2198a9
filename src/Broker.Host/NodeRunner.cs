using System.Diagnostics;
using System.Runtime.InteropServices;
using Broker.Config;
using Broker.Core.Diagnostics;
using Broker.Host.Http;

namespace Broker.Host;

/// <summary>
/// Runs one node until SIGTERM/SIGINT: starts it, then its HTTP servers (Admin API, HTTP proxy), reports start-up
/// time, then shuts down cleanly within a bounded time: HTTP servers first, then the node (stop accepting, drain,
/// flush and close files). Exit codes: 0 clean stop, 1 start-up failure (including an HTTP port that cannot be bound).
/// </summary>
public static class NodeRunner
{
    private static readonly Logger Logger = Log.For("host");
    /// <summary>Handing leadership over and waiting for the controller's go-ahead (a second signal does not cut it short).</summary>
    private static readonly TimeSpan ControlledShutdownBudget = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ShutdownBudget = TimeSpan.FromSeconds(4);

    public static async Task<int> RunAsync(BrokerConfig config)
    {
        var started = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

        BrokerNode node;
        try
        {
            node = await BrokerNode.StartAsync(config, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Logger.Info("start-up interrupted by a signal");
            return 0;
        }
        catch (StartupException ex)
        {
            Logger.Error($"start-up failed: {ex.Message}");
            return 1;
        }
        catch (Exception ex)
        {
            Logger.Error("start-up failed", ex);
            return 1;
        }
        NodeHttpServers http;
        try
        {
            http = await NodeHttpServers.StartAsync(node, stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            bool interrupted = ex is OperationCanceledException && stop.IsCancellationRequested;
            if (interrupted) Logger.Info("start-up interrupted by a signal");
            else if (ex is StartupException) Logger.Error($"start-up failed: {ex.Message}");
            else Logger.Error("start-up failed", ex);
            await DisposeQuietlyAsync(node).ConfigureAwait(false);
            return interrupted ? 0 : 1;
        }
        Logger.Info($"node {config.NodeId} started in {started.ElapsedMilliseconds} ms ({RuntimeInformation.RuntimeIdentifier}, pid {Environment.ProcessId})");

        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }

        Logger.Info("shutting down");
        var stopping = Stopwatch.StartNew();
        await http.DisposeAsync().ConfigureAwait(false); // HTTP first: no requests into a node that is stopping
        try
        {
            await node.ControlledShutdownAsync(ControlledShutdownBudget).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Logger.Error("controlled shutdown failed; stopping anyway", ex);
        }
        var shutdown = node.DisposeAsync().AsTask();
        if (await Task.WhenAny(shutdown, Task.Delay(ShutdownBudget)).ConfigureAwait(false) != shutdown)
        {
            Logger.Error($"shutdown did not finish within {ShutdownBudget.TotalSeconds:0} s; exiting anyway");
            return 1;
        }
        await shutdown.ConfigureAwait(false);
        Logger.Info($"stopped cleanly in {stopping.ElapsedMilliseconds} ms");
        return 0;
    }

    private static async Task DisposeQuietlyAsync(BrokerNode node)
    {
        var shutdown = node.DisposeAsync().AsTask();
        try
        {
            if (await Task.WhenAny(shutdown, Task.Delay(ShutdownBudget)).ConfigureAwait(false) == shutdown) await shutdown.ConfigureAwait(false);
            else Logger.Error($"shutdown did not finish within {ShutdownBudget.TotalSeconds:0} s; exiting anyway");
        }
        catch (Exception ex)
        {
            Logger.Error("shutdown after a failed start-up failed", ex);
        }
    }
}

/// <summary>A start-up failure with a message meant for the operator (no stack trace needed).</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
