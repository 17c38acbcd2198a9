using System.Text;

namespace Broker.Cli;

/// <summary>
/// The process surroundings a tool command runs in: stdin (lines to produce), stdout as a byte stream (consumed
/// records are written raw; text output goes through a UTF-8 writer over the same stream), stderr (errors, progress)
/// and environment variables. The host passes the real console; tests pass memory streams.
/// </summary>
public sealed class ToolConsole
{
    public ToolConsole(TextReader stdin, Stream stdout, TextWriter stderr, Func<string, string?>? environment = null)
    {
        Stdin = stdin;
        StdoutStream = stdout;
        Stderr = stderr;
        Environment = environment ?? System.Environment.GetEnvironmentVariable;
        Stdout = new StreamWriter(stdout, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 16 * 1024, leaveOpen: true)
        {
            AutoFlush = false,
            NewLine = "\n",
        };
    }

    public TextReader Stdin { get; }

    /// <summary>Raw standard output. Flush <see cref="Stdout"/> before writing here directly.</summary>
    public Stream StdoutStream { get; }

    /// <summary>Text standard output (UTF-8, "\n" line ends, flushed when the command ends).</summary>
    public TextWriter Stdout { get; }

    public TextWriter Stderr { get; }

    public Func<string, string?> Environment { get; }

    /// <summary>The process console: stdin/stdout/stderr as UTF-8, the process environment.</summary>
    public static ToolConsole FromProcess() =>
        new(new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false), false, 64 * 1024),
            Console.OpenStandardOutput(),
            new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" });
}
