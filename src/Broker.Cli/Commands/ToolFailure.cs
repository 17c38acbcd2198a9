namespace Broker.Cli.Commands;

/// <summary>
/// A command failed for a reason already worded for the operator: the tool prints <c>error: {Message}</c> (each
/// line of it) on stderr and exits with <see cref="ExitCode"/> (1 by default).
/// </summary>
internal sealed class ToolFailure(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
