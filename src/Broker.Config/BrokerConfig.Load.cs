namespace Broker.Config;

// Entry points: Load (file / built-in single node + overrides + --data-dir) and Default.
public sealed partial class BrokerConfig
{
    /// <summary>Environment variable naming the default data directory.</summary>
    public const string DataDirEnvironmentVariable = "BROKER_DATA_DIR";

    /// <summary>The default data directory: <c>$BROKER_DATA_DIR</c> if set, else <c>./broker-data</c> under the
    /// current directory (returned as an absolute path). Never created here.</summary>
    public static string DefaultDataDir()
    {
        string? env = Environment.GetEnvironmentVariable(DataDirEnvironmentVariable);
        return Path.GetFullPath(string.IsNullOrWhiteSpace(env) ? "broker-data" : env.Trim());
    }

    /// <summary>
    /// The properties of the no-config single node: a combined broker+controller, node 1, Kafka on
    /// 127.0.0.1:9092 (advertised as localhost:9092), the controller on 127.0.0.1:9093, internal topics with
    /// replication factor 1, data in <paramref name="dataDir"/>.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> SingleNodeProperties(string dataDir) =>
    [
        new(ConfigKeys.ProcessRoles, "broker,controller"),
        new(ConfigKeys.NodeId, "1"),
        new(ConfigKeys.QuorumVoters, "1@127.0.0.1:9093"),
        new(ConfigKeys.Listeners, "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"),
        new(ConfigKeys.AdvertisedListeners, "PLAINTEXT://localhost:9092"),
        new(ConfigKeys.ControllerListenerNames, "CONTROLLER"),
        new(ConfigKeys.SecurityProtocolMap, "CONTROLLER:PLAINTEXT," + Endpoints.DefaultSecurityProtocolMap),
        new(ConfigKeys.InterBrokerListenerName, "PLAINTEXT"),
        new(ConfigKeys.LogDirs, dataDir),
        new("offsets.topic.replication.factor", "1"),
        new("transaction.state.log.replication.factor", "1"),
        new("transaction.state.log.min.isr", "1"),
    ];

    /// <summary>The no-config single-node configuration with data in <paramref name="dataDir"/>
    /// (default: <see cref="DefaultDataDir"/>).</summary>
    public static BrokerConfig Default(string? dataDir = null) => Load(null, dataDir, null).Config;

    /// <summary>Builds a configuration from key/value pairs (no file). Throws <see cref="ConfigException"/>.</summary>
    internal static BrokerConfig FromProperties(IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        var given = new Dictionary<string, GivenValue>(StringComparer.Ordinal);
        foreach (var (k, v) in properties) given[k] = new GivenValue(v, ConfigOrigin.BuiltIn);
        return Build(given, null, new List<ConfigWarning>(), DefaultDataDir());
    }

    /// <summary>
    /// Loads the configuration. <paramref name="path"/> null = the built-in single-node configuration.
    /// <paramref name="overrides"/> (from <c>--override key=value</c>) replace file values;
    /// <paramref name="dataDirOverride"/> replaces log.dirs (and so metadata.log.dir unless that is set).
    /// Reads the file and nothing else: no directory is created or written.
    /// </summary>
    /// <exception cref="ConfigException">The file is unreadable or a value is invalid or contradictory.</exception>
    public static ConfigLoadResult Load(string? path, string? dataDirOverride = null,
        IReadOnlyDictionary<string, string>? overrides = null)
    {
        var warnings = new List<ConfigWarning>();
        var given = new Dictionary<string, GivenValue>(StringComparer.Ordinal);
        if (path is not null)
        {
            var doc = PropertiesParser.ParseFile(path);
            warnings.AddRange(doc.Warnings);
            foreach (var e in doc.Entries) given[e.Key] = new GivenValue(e.Value, ConfigOrigin.File(path, e.LineNumber));
        }
        else
        {
            string dir = string.IsNullOrWhiteSpace(dataDirOverride) ? DefaultDataDir() : Path.GetFullPath(dataDirOverride);
            foreach (var (k, v) in SingleNodeProperties(dir)) given[k] = new GivenValue(v, ConfigOrigin.BuiltIn);
        }

        if (overrides is not null)
            foreach (var (k, v) in overrides)
            {
                string key = k.Trim();
                if (key.Length == 0) throw new ConfigException(null, null, "--override", "empty key in override");
                given[key] = new GivenValue(v, ConfigOrigin.Override);
            }

        if (dataDirOverride is not null)
        {
            if (string.IsNullOrWhiteSpace(dataDirOverride))
                throw new ConfigException(ConfigKeys.LogDirs, null, "--data-dir", "the data directory must not be empty");
            if (dataDirOverride.Contains(','))
                throw new ConfigException(ConfigKeys.LogDirs, null, "--data-dir", "expected one directory (no commas); use log.dirs for several");
            given.Remove(ConfigKeys.LogDir);
            given[ConfigKeys.LogDirs] = new GivenValue(Path.GetFullPath(dataDirOverride), ConfigOrigin.DataDirFlag);
        }

        var config = Build(given, path, warnings, DefaultDataDir());
        return new ConfigLoadResult(config, warnings);
    }
}
