using Broker.Config;
using Broker.Core.Diagnostics;

namespace Broker.Host.Cli;

/// <summary>
/// Configuration-related commands: loading the configuration for <c>start</c> (with warnings logged),
/// <c>check-config</c> (validate + print the effective values) and <c>default-config</c>.
/// </summary>
public static class ConfigCommand
{
    private static readonly Logger s_log = Log.For("config");

    /// <summary>
    /// Loads the configuration the command line describes, logging each warning (unknown keys, duplicates).
    /// On a configuration error writes "error: ..." to <paramref name="stderr"/> and returns null
    /// (the caller exits with status 1).
    /// </summary>
    public static BrokerConfig? LoadForStart(CommandLineResult cmd, TextWriter stderr)
    {
        try
        {
            var (config, warnings) = BrokerConfig.Load(cmd.ConfigPath, cmd.DataDir, cmd.Overrides);
            foreach (var w in warnings) s_log.Warn(w.Message);
            return config;
        }
        catch (ConfigException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return null;
        }
    }

    /// <summary><c>check-config</c>: 0 when valid (effective values on stdout, warnings on stderr), 1 when not.</summary>
    public static int CheckConfig(CommandLineResult cmd, TextWriter stdout, TextWriter stderr)
    {
        ConfigLoadResult result;
        try
        {
            result = BrokerConfig.Load(cmd.ConfigPath, cmd.DataDir, cmd.Overrides);
        }
        catch (ConfigException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            stderr.WriteLine("configuration is NOT valid");
            return 1;
        }
        foreach (var w in result.Warnings) stderr.WriteLine($"warning: {w.Message}");
        PrintEffective(result.Config, cmd.ConfigPath, stdout);
        stderr.WriteLine(cmd.ConfigPath is null
            ? "configuration is valid (built-in single-node configuration)"
            : $"configuration is valid ({cmd.ConfigPath})");
        return 0;
    }

    /// <summary>
    /// Prints the effective configuration as a loadable .properties text: one <c>key=value</c> per known key,
    /// preceded by a comment naming the origin when the value is not a plain default; unset keys are
    /// written commented out.
    /// </summary>
    public static void PrintEffective(BrokerConfig config, string? configPath, TextWriter stdout)
    {
        stdout.WriteLine(configPath is null
            ? "# Effective configuration: built-in single-node configuration"
            : $"# Effective configuration: {configPath}");
        stdout.WriteLine($"# node {config.NodeId}, roles: {RolesText(config.Roles)}; values without a comment are defaults");
        foreach (var s in config.Effective)
        {
            if (s.Origin.Kind != ConfigOriginKind.Default) stdout.WriteLine($"# {s.Origin}");
            if (s.Value is null) stdout.WriteLine($"#{s.Key}=");
            else stdout.WriteLine($"{s.Key}={ServerPropertiesTemplate.EscapeValue(s.Value)}");
        }
        var unknown = new List<string>();
        foreach (var key in config.Raw.Keys)
            if (ConfigKeys.Find(key) is null) unknown.Add(key);
        if (unknown.Count > 0)
        {
            unknown.Sort(StringComparer.Ordinal);
            stdout.WriteLine($"# ignored keys: {string.Join(", ", unknown)}");
        }
    }

    /// <summary><c>default-config</c>: the commented template for a single node.</summary>
    public static int DefaultConfig(CommandLineResult cmd, TextWriter stdout)
    {
        stdout.Write(ServerPropertiesTemplate.RenderSingleNode(cmd.DataDir ?? "/var/lib/broker"));
        return 0;
    }

    private static string RolesText(ProcessRoles roles) => roles switch
    {
        ProcessRoles.Combined => "broker,controller",
        ProcessRoles.Broker => "broker",
        ProcessRoles.Controller => "controller",
        _ => "none",
    };
}
