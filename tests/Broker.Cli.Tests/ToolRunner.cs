using System.Diagnostics;
using System.Text;

namespace Broker.Cli.Tests;

/// <summary>Runs <see cref="BrokerTool"/> in-process on memory streams, as the binary would on a console.</summary>
internal sealed record ToolRun(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public static async Task<ToolRun> RunAsync(string stdin, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter { NewLine = "\n" };
        var console = new ToolConsole(new StringReader(stdin), stdout, stderr, k => env is not null && env.TryGetValue(k, out var v) ? v : null);
        var sw = Stopwatch.StartNew();
        int code = await BrokerTool.RunAsync(args, console);
        return new ToolRun(code, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString(), sw.Elapsed);
    }

    public static Task<ToolRun> RunAsync(params string[] args) => RunAsync("", null, args);

    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}
