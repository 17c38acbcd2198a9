namespace Broker.Cli.Arguments;

/// <summary>
/// The command line is wrong (unknown option, missing value, bad number...): the tool prints the message and the
/// command's usage on stderr and exits with status 2. <see cref="CommandPath"/> names the command whose usage fits
/// ("topic create"), or null for the general usage.
/// </summary>
public sealed class UsageException(string message, string? commandPath = null) : Exception(message)
{
    public string? CommandPath { get; } = commandPath;
}
