using System.Reflection;
using Broker.Cli;
using System.Runtime.InteropServices;

namespace Broker.Host.Cli;

/// <summary>
/// Runs every verb except <c>start</c> (which the composition root runs). Typical Program.cs:
/// <code>
/// var cmd = CommandLine.Parse(args);
/// if (cmd.Verb != CliVerb.Start) return CliApp.Run(cmd, Console.Out, Console.Error);
/// var config = ConfigCommand.LoadForStart(cmd, Console.Error);
/// if (config is null) return 1;
/// ...
/// </code>
/// </summary>
public static class CliApp
{
    /// <summary>Runs a non-start verb and returns the process exit code.</summary>
    /// <exception cref="InvalidOperationException">For <see cref="CliVerb.Start"/>.</exception>
    public static int Run(CommandLineResult cmd, TextWriter stdout, TextWriter stderr)
    {
        switch (cmd.Verb)
        {
            case CliVerb.Help:
                stdout.WriteLine(cmd.ToolCommand is { } tool ? BrokerTool.Help(tool) : Usage.For(cmd.Topic));
                return 0;
            case CliVerb.Version:
                stdout.WriteLine(BrokerVersion.Describe());
                return 0;
            case CliVerb.CheckConfig:
                return ConfigCommand.CheckConfig(cmd, stdout, stderr);
            case CliVerb.DefaultConfig:
                return ConfigCommand.DefaultConfig(cmd, stdout);
            case CliVerb.Invalid:
                stderr.WriteLine($"error: {cmd.Error}");
                stderr.WriteLine();
                stderr.WriteLine(Usage.For(cmd.Topic));
                return cmd.ExitCode;
            default:
                throw new InvalidOperationException("the start command is run by the host, not by CliApp");
        }
    }
}

/// <summary>The version of the running broker binary (from the assembly's informational version).</summary>
public static class BrokerVersion
{
    /// <summary>"0.1.0" or "0.1.0+abcdef123456" (source revision shortened to 12 characters).</summary>
    public static string Current
    {
        get
        {
            var asm = typeof(BrokerVersion).Assembly;
            string? v = asm.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                        ?? asm.GetName().Version?.ToString();
            if (string.IsNullOrEmpty(v)) return "unknown";
            int plus = v.IndexOf('+');
            return plus >= 0 && v.Length > plus + 13 ? v.Substring(0, plus + 13) : v;
        }
    }

    public static string Describe() =>
        $"broker {Current} ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.RuntimeIdentifier})";
}
