using Broker.Cli;
using Broker.Config;

namespace Broker.Host.Cli;

/// <summary>Help texts of the <c>broker</c> command (general usage and one per verb).</summary>
public static class Usage
{
    public static string General =>
        $"""
        Usage: broker <command> [options]

        A Kafka-compatible streaming broker.

        Commands:
          start           Run the broker (in the foreground).
          check-config    Validate a configuration and print the effective values.
          default-config  Print a commented default server.properties.
          version         Print the version.
          help [command]  Show help for a command.

        Operator commands (any Kafka-compatible cluster; -b HOST:PORT or $BROKER_BOOTSTRAP_SERVERS):
        {BrokerTool.CommandList}

        Without --config, start runs a single combined broker+controller node: Kafka clients connect to
        localhost:9092, data is kept in ${BrokerConfig.DataDirEnvironmentVariable} or ./broker-data.

        Run 'broker help <command>' (or 'broker <command> --help') for the options of a command.
        Exit status of the operator commands: 0 ok, 1 the operation failed, 2 bad arguments.
        """;

    public static string For(CliVerb? verb) => verb switch
    {
        CliVerb.Start => Start,
        CliVerb.CheckConfig => CheckConfig,
        CliVerb.DefaultConfig => DefaultConfig,
        CliVerb.Version => "Usage: broker version | broker --version\n\nPrint the version and exit.",
        _ => General,
    };

    private const string CommonOptions =
        """
          --config FILE         Kafka-style server.properties. Without it: the built-in single-node
                                configuration (see 'broker default-config').
          --data-dir DIR        Data directory; replaces log.dirs (and metadata.log.dir unless that is
                                set). Default: log.dirs from the file, else $BROKER_DATA_DIR, else
                                ./broker-data.
          --override KEY=VALUE  Set a configuration key, taking precedence over the file. Repeatable.
          -h, --help            Show this help.
        """;

    public static string Start =>
        $"""
        Usage: broker start [--config FILE] [--data-dir DIR] [--override KEY=VALUE ...]

        Run the broker in the foreground until SIGINT/SIGTERM.

        Options:
        {CommonOptions}

        Unknown configuration keys are reported and ignored; invalid values stop start-up with the file
        and line at fault.
        """;

    public static string CheckConfig =>
        $"""
        Usage: broker check-config [--config FILE] [--data-dir DIR] [--override KEY=VALUE ...]

        Validate the configuration exactly as 'start' would and print the effective value of every key,
        with where it came from. Nothing is created or written. Exit status: 0 valid, 1 invalid,
        2 bad arguments.

        Options:
        {CommonOptions}
        """;

    public static string DefaultConfig =>
        """
        Usage: broker default-config [--data-dir DIR]

        Print a commented server.properties for a single combined broker+controller node, documenting
        every key and its default.

        Options:
          --data-dir DIR  Data directory written into log.dirs (default: /var/lib/broker).
          -h, --help      Show this help.
        """;
}
