using Broker.Cli.Arguments;

namespace Broker.Cli.Commands;

/// <summary>
/// Options every cluster-facing command shares: where the cluster is (Kafka bootstrap servers, Admin API URLs),
/// how long to wait, the client id and log verbosity. Defaults come from <c>$BROKER_BOOTSTRAP_SERVERS</c> /
/// <c>$BROKER_ADMIN_URL</c>, else localhost.
/// </summary>
internal sealed class CommonOptions
{
    public const string BootstrapEnv = "BROKER_BOOTSTRAP_SERVERS";
    public const string AdminUrlEnv = "BROKER_ADMIN_URL";
    public const string DefaultBootstrap = "localhost:9092";
    public const string DefaultAdminUrl = "http://localhost:9644";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static readonly OptionSpec BootstrapSpec = OptionSpec.Value("-b|--bootstrap-server", "HOST:PORT[,...]",
        $"Kafka bootstrap servers (default: ${BootstrapEnv} or {DefaultBootstrap}).");
    public static readonly OptionSpec AdminUrlSpec = OptionSpec.Value("--admin-url", "URL[,...]",
        $"Admin API URL(s), tried in order (default: ${AdminUrlEnv} or {DefaultAdminUrl}).");
    public static readonly OptionSpec TimeoutSpec = OptionSpec.Value("--timeout", "DURATION",
        "Wait at most this long for the cluster: 5s, 500ms, 2m (default: 30s).");
    public static readonly OptionSpec ClientIdSpec = OptionSpec.Value("--client-id", "ID", "Kafka client id (default: broker-cli).");
    public static readonly OptionSpec VerboseSpec = OptionSpec.Flag("-v|--verbose", "Log the client's activity on stderr.");

    /// <summary>Options of commands that speak the Kafka protocol.</summary>
    public static readonly OptionSpec[] KafkaSpecs = [BootstrapSpec, TimeoutSpec, ClientIdSpec, VerboseSpec];

    /// <summary>Options of commands that call the Admin API.</summary>
    public static readonly OptionSpec[] AdminSpecs = [AdminUrlSpec, TimeoutSpec, VerboseSpec];

    public required string Bootstrap { get; init; }
    public required IReadOnlyList<string> AdminUrls { get; init; }
    public TimeSpan Timeout { get; init; } = DefaultTimeout;
    public string ClientId { get; init; } = "broker-cli";
    public bool Verbose { get; init; }

    public static CommonOptions Parse(ParsedArgs a, Func<string, string?> environment)
    {
        string? bootstrapText = a.Get("bootstrap-server");
        string bootstrapOption = "--bootstrap-server";
        if (bootstrapText is null)
        {
            bootstrapText = NonEmpty(environment(BootstrapEnv));
            bootstrapOption = "$" + BootstrapEnv;
        }
        string bootstrap = bootstrapText is null
            ? DefaultBootstrap
            : ValueParsers.ParseBootstrap(bootstrapText, bootstrapOption, a.CommandPath);

        string? adminText = a.Get("admin-url");
        string adminOption = "--admin-url";
        if (adminText is null)
        {
            adminText = NonEmpty(environment(AdminUrlEnv));
            adminOption = "$" + AdminUrlEnv;
        }
        var admin = adminText is null ? new[] { DefaultAdminUrl } : ValueParsers.ParseUrls(adminText, adminOption, a.CommandPath);

        string? timeoutText = a.Get("timeout");
        var timeout = timeoutText is null ? DefaultTimeout : ValueParsers.ParseDuration(timeoutText, "--timeout", a.CommandPath);

        string clientId = a.Get("client-id") ?? "broker-cli";
        if (clientId.Length == 0) throw a.Error("--client-id must not be empty");

        return new CommonOptions
        {
            Bootstrap = bootstrap,
            AdminUrls = admin,
            Timeout = timeout,
            ClientId = clientId,
            Verbose = a.Has("verbose"),
        };
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
