using System.Runtime.InteropServices;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>POSIX signals for child processes (.NET's Process only offers SIGKILL).</summary>
public static class Signals
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int sig);

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false if the process is gone.</summary>
    public static bool Send(int pid, int signal)
    {
        try
        {
            return SysKill(pid, signal) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Fall back to the kill(1) command.
            using var p = System.Diagnostics.Process.Start("kill", new[] { "-" + signal, pid.ToString() });
            p.WaitForExit(5000);
            return p.ExitCode == 0;
        }
    }
}
