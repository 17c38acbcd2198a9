using System.Runtime.InteropServices;
using Broker.Cli;

namespace Broker.Host.Cli;

/// <summary>
/// Runs the operator tool verbs (topic, produce, consume, group, cluster; see <see cref="BrokerTool"/>) on the
/// process console. The first SIGINT/SIGTERM asks the command to stop (consume then commits and exits 0, other
/// commands exit 130); another one more than a second later ends the process the default way.
/// </summary>
public static class ToolHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        using var interrupt = new CancellationTokenSource();
        long firstSignal = 0;
        void OnSignal(PosixSignalContext context)
        {
            long now = Environment.TickCount64;
            if (interrupt.IsCancellationRequested)
            {
                // A second signal ends the process the default way, unless it is the echo of the first (tools such
                // as timeout(1) signal both the process and its group): those within a second are absorbed.
                if (now - Volatile.Read(ref firstSignal) < 1000) context.Cancel = true;
                return;
            }
            Volatile.Write(ref firstSignal, now);
            context.Cancel = true;
            interrupt.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        var console = ToolConsole.FromProcess();
        int code = await BrokerTool.RunAsync(args, console, interrupt.Token).ConfigureAwait(false);
        console.Stderr.Flush();
        return code;
    }
}
