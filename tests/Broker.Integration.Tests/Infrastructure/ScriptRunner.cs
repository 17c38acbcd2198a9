using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>What a finished (or killed) child process left behind.</summary>
public sealed record ScriptResult(string CommandLine, int ExitCode, string Stdout, string Stderr, bool TimedOut, TimeSpan Elapsed)
{
    public bool Succeeded => !TimedOut && ExitCode == 0;

    /// <summary>The last non-empty stdout line parsed as JSON (the scenario scripts' summary), or null.</summary>
    public JsonElement? Summary
    {
        get
        {
            string? last = Stdout.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
            if (last is null || !last.StartsWith('{')) return null;
            try
            {
                using var doc = JsonDocument.Parse(last);
                return doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>Everything useful for a failure message: command, status, stdout and the tail of stderr.</summary>
    public string Describe(int stderrTailChars = 6000)
    {
        var sb = new StringBuilder();
        sb.Append("$ ").AppendLine(CommandLine);
        sb.Append(TimedOut ? "TIMED OUT (process tree killed)" : $"exit code {ExitCode}")
          .Append(" after ").Append(Elapsed.TotalSeconds.ToString("F1")).AppendLine(" s");
        sb.AppendLine("--- stdout ---").AppendLine(Tail(Stdout, 8000));
        sb.AppendLine("--- stderr (tail) ---").AppendLine(Tail(Stderr, stderrTailChars));
        return sb.ToString();
    }

    internal static string Tail(string text, int chars) =>
        text.Length <= chars ? text : "..." + text[^chars..];
}

/// <summary>A child process started in the background (e.g. a producer that runs until killed).</summary>
public sealed class RunningScript : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    internal RunningScript(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public string CommandLine { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Sends a POSIX signal (e.g. <see cref="Signals.SIGTERM"/>) to the process.</summary>
    public void Signal(int signal) => Signals.Send(_process.Id, signal);

    /// <summary>SIGKILLs the process and its children.</summary>
    public void KillTree()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
    }

    /// <summary>Waits for exit (killing the tree at the timeout) and collects the output.</summary>
    public ScriptResult WaitForExit(TimeSpan timeout)
    {
        bool timedOut = !_process.WaitForExit(timeout);
        if (timedOut) KillTree();
        _process.WaitForExit(TimeSpan.FromSeconds(10));
        string stdout = _stdout.Wait(TimeSpan.FromSeconds(10)) ? _stdout.Result : "(stdout not collected)";
        string stderr = _stderr.Wait(TimeSpan.FromSeconds(10)) ? _stderr.Result : "(stderr not collected)";
        int code = _process.HasExited ? _process.ExitCode : -1;
        return new ScriptResult(CommandLine, code, stdout, stderr, timedOut, _clock.Elapsed);
    }

    public void Dispose()
    {
        if (!_process.HasExited) KillTree();
        _process.Dispose();
    }
}

/// <summary>
/// Runs client scripts and other helper processes with a hard timeout: on timeout the whole process tree is
/// killed, so a hung client can never hang the test run. Stdin is closed (/dev/null-like).
/// </summary>
public static class ScriptRunner
{
    public static ScriptResult Run(string file, IEnumerable<string> args, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        using var running = Start(file, args, env, workingDirectory);
        return running.WaitForExit(timeout);
    }

    /// <summary>Runs a Python scenario script under the Debian interpreter.</summary>
    public static ScriptResult Python(string script, IEnumerable<string> args, TimeSpan timeout) =>
        Run(TestPaths.Python, new[] { script }.Concat(args), timeout);

    public static RunningScript Start(string file, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? TestPaths.RepoRoot,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["PYTHONUNBUFFERED"] = "1";
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        if (env is not null)
        {
            foreach (var (k, v) in env) psi.Environment[k] = v;
        }
        string commandLine = string.Join(' ', new[] { file }.Concat(psi.ArgumentList).Select(Quote));
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"could not start '{commandLine}': {ex.Message} (is the client installed? tests/run-all.sh installs them)", ex);
        }
        process.StandardInput.Close();
        return new RunningScript(process, commandLine);
    }

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || "-_./:=,@+".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}
