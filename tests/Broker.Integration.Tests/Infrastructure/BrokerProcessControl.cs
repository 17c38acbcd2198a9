using System.Diagnostics;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>What every broker-process fixture (single node, cluster node) does with its process and its log file.</summary>
internal static class BrokerProcessControl
{
    /// <summary>SIGKILL, then waits (bounded) for the exit; falls back to Process.Kill.</summary>
    public static void KillHard(Process? process)
    {
        if (process is null || process.HasExited) return;
        Signals.Send(process.Id, Signals.SIGKILL);
        if (!process.WaitForExit(10_000))
        {
            try { process.Kill(); } catch (InvalidOperationException) { }
            process.WaitForExit(10_000);
        }
    }

    /// <summary>The whole log file, read while the broker may still write it; "" when it cannot be read.</summary>
    public static string ReadLog(string path)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(fs);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of the log file.</summary>
    public static string LogTail(string path, int lines)
    {
        string[] all = ReadLog(path).Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}
