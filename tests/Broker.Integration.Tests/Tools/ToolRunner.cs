using System.Diagnostics;
using Broker.Integration.Tests.Infrastructure;

namespace Broker.Integration.Tests.Tools;

/// <summary>
/// Runs the published binary's operator subcommands (<c>broker topic ...</c>, <c>broker produce ...</c>) as real
/// processes: optional stdin text, a hard timeout (the process is killed and the result marked timed out), stdout and
/// stderr collected. The BROKER_* environment defaults are cleared unless a test sets them.
/// </summary>
public static class ToolRunner
{
    /// <param name="feed">When given, called with the process's stdin (after <paramref name="stdin"/> is written) to
    /// write more, e.g. slowly; stdin is closed when it returns.</param>
    public static ScriptResult Run(string[] args, string? stdin = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? env = null, Action<StreamWriter>? feed = null)
    {
        var psi = new ProcessStartInfo(TestPaths.BrokerBin)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("BROKER_BOOTSTRAP_SERVERS");
        psi.Environment.Remove("BROKER_ADMIN_URL");
        if (env is not null)
            foreach (var (k, v) in env) psi.Environment[k] = v;
        string commandLine = "broker " + string.Join(' ', args.Select(a => a.Contains(' ') || a.Length == 0 ? $"'{a}'" : a));
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {TestPaths.BrokerBin}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null) process.StandardInput.Write(stdin);
            feed?.Invoke(process.StandardInput);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // the tool exited before reading its input; its output says why
        }
        bool timedOut = !process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60));
        if (timedOut)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }
        process.WaitForExit(TimeSpan.FromSeconds(10));
        string o = stdout.Wait(TimeSpan.FromSeconds(10)) ? stdout.Result : "(stdout not collected)";
        string e = stderr.Wait(TimeSpan.FromSeconds(10)) ? stderr.Result : "(stderr not collected)";
        return new ScriptResult(commandLine, process.HasExited ? process.ExitCode : -1, o, e, timedOut, sw.Elapsed);
    }

    /// <summary>Lines of stdout without the trailing empty one.</summary>
    public static string[] Lines(this ScriptResult r)
    {
        var lines = r.Stdout.Split('\n');
        return lines.Length > 0 && lines[^1].Length == 0 ? lines[..^1] : lines;
    }

    /// <summary>The value of a "KEY  value" line of a describe/info block, or null.</summary>
    public static string? Field(this ScriptResult r, string key)
    {
        foreach (string line in r.Stdout.Split('\n'))
        {
            if (!line.StartsWith(key + " ", StringComparison.Ordinal)) continue;
            return line.Substring(key.Length).Trim();
        }
        return null;
    }
}
