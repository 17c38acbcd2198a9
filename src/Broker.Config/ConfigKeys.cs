namespace Broker.Config;

/// <summary>
/// The known-key table: every broker configuration key we understand, in the order they are documented.
/// Parsing, defaults, validation, <c>check-config</c> and the default server.properties all come from here.
/// Sections and rows are plain data; add a key by adding a row.
/// </summary>
public static partial class ConfigKeys
{
    public const string SectionServer = "Server basics (KRaft)";
    public const string SectionListeners = "Listeners";
    public const string SectionLog = "Log basics";
    public const string SectionRetention = "Log segments, retention and flushing";
    public const string SectionRequests = "Request limits";
    public const string SectionGroups = "Group coordinator and committed offsets";
    public const string SectionTransactions = "Transactions";
    public const string SectionKRaft = "KRaft timings";

    public static readonly IReadOnlyList<string> Sections =
    [
        SectionServer, SectionListeners, SectionLog, SectionRetention, SectionRequests, SectionGroups,
        SectionTransactions, SectionKRaft,
    ];

    /// <summary>Every known key, in documentation order.</summary>
    public static IReadOnlyList<ConfigKey> All => Table.All;

    public static ConfigKey? Find(string name) => Table.ByName.TryGetValue(name, out var k) ? k : null;

    /// <summary>Kafka broker settings that we accept without using them (tuning knobs of the JVM broker,
    /// ZooKeeper mode, features we do not have). They produce a softer warning than unknown keys.</summary>
    public static bool IsKafkaSettingNotUsed(string name) => s_notUsed.Contains(name);

    /// <summary>Built on first use, after every static list the rows refer to (they live in other partial
    /// files, whose static initialisation order is not defined relative to this one).</summary>
    private static class Table
    {
        public static readonly ConfigKey[] All = BuildTable();
        public static readonly Dictionary<string, ConfigKey> ByName = Index(All);
    }

    private static Dictionary<string, ConfigKey> Index(ConfigKey[] keys)
    {
        var map = new Dictionary<string, ConfigKey>(StringComparer.Ordinal);
        foreach (var k in keys) map.Add(k.Name, k);   // throws on a duplicate row: a table bug, caught by tests
        return map;
    }

    private static ConfigKey[] BuildTable()
    {
        var rows = new List<ConfigKey>(64);
        AddServerAndListenerKeys(rows);
        AddLogKeys(rows);
        AddCoordinatorAndTimingKeys(rows);
        return rows.ToArray();
    }

    // Row helpers: keep each row to one readable statement.
    private static ConfigKey Int(string section, string name, string? def, long min, string doc, long max = int.MaxValue) =>
        new() { Section = section, Name = name, Type = ConfigType.Int, Default = def, Min = min, Max = max, Doc = doc };

    private static ConfigKey Short(string section, string name, string? def, long min, string doc) =>
        new() { Section = section, Name = name, Type = ConfigType.Short, Default = def, Min = min, Doc = doc };

    private static ConfigKey Long(string section, string name, string? def, long min, string doc) =>
        new() { Section = section, Name = name, Type = ConfigType.Long, Default = def, Min = min, Doc = doc };

    private static ConfigKey Bool(string section, string name, string def, string doc) =>
        new() { Section = section, Name = name, Type = ConfigType.Boolean, Default = def, Doc = doc };

    private static ConfigKey Str(string section, string name, string? def, string doc, params string[] valid) =>
        new() { Section = section, Name = name, Type = ConfigType.String, Default = def, Doc = doc, ValidValues = valid.Length == 0 ? null : valid };

    private static ConfigKey List(string section, string name, string? def, string doc, Func<string, string?>? validator = null) =>
        new() { Section = section, Name = name, Type = ConfigType.List, Default = def, Doc = doc, Validator = validator };

    private static readonly HashSet<string> s_notUsed = new(StringComparer.Ordinal)
    {
        "num.network.threads", "num.io.threads", "background.threads", "queued.max.requests",
        "socket.send.buffer.bytes", "socket.receive.buffer.bytes", "socket.listen.backlog.size",
        "num.recovery.threads.per.data.dir", "num.replica.fetchers", "replica.fetch.max.bytes",
        "replica.lag.time.max.ms", "replica.socket.timeout.ms", "log.cleaner.threads",
        "log.preallocate", "unclean.leader.election.enable",
        "zookeeper.connect", "zookeeper.connection.timeout.ms", "zookeeper.session.timeout.ms",
        "security.inter.broker.protocol", "inter.broker.protocol.version", "log.message.format.version",
        "connections.max.idle.ms", "fetch.max.bytes", "group.consumer.heartbeat.interval.ms",
        "share.coordinator.state.topic.replication.factor", "share.coordinator.state.topic.min.isr",
        "controller.quorum.append.linger.ms", "controller.quorum.request.timeout.ms",
        "controller.quorum.retry.backoff.ms", "controller.quorum.election.backoff.max.ms",
        "initial.broker.registration.timeout.ms", "metadata.log.segment.bytes",
        "metadata.log.max.record.bytes.between.snapshots", "metadata.log.max.snapshot.interval.ms",
        "metadata.max.retention.bytes", "metadata.max.retention.ms", "transaction.state.log.segment.bytes",
        "log.flush.offset.checkpoint.interval.ms",
    };
}
