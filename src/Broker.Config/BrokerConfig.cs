namespace Broker.Config;

/// <summary>An effective configuration value and where it came from (for <c>check-config</c>).</summary>
public sealed record EffectiveSetting(string Key, string? Value, ConfigOrigin Origin);

/// <summary>The result of <see cref="BrokerConfig.Load"/>: the validated config and non-fatal findings to log.</summary>
public sealed record ConfigLoadResult(BrokerConfig Config, IReadOnlyList<ConfigWarning> Warnings);

/// <summary>
/// The broker's typed, validated, immutable configuration. Build it with <see cref="Load"/> or
/// <see cref="Default"/>; every value is checked against the known-key table (<see cref="ConfigKeys"/>) and
/// the KRaft consistency rules before an instance exists.
/// </summary>
public sealed partial class BrokerConfig
{
    private BrokerConfig() { }

    // --- identity and quorum -------------------------------------------------------------------------
    public ProcessRoles Roles { get; private init; }
    public bool IsBroker => (Roles & ProcessRoles.Broker) != 0;
    public bool IsController => (Roles & ProcessRoles.Controller) != 0;
    public int NodeId { get; private init; }
    public IReadOnlyList<QuorumVoter> QuorumVoters { get; private init; } = [];

    // --- listeners ---------------------------------------------------------------------------------------
    /// <summary>All listeners to bind, Kafka and controller ones, in configuration order.</summary>
    public IReadOnlyList<ListenerEndpoint> Listeners { get; private init; } = [];
    /// <summary>What clients are told (controller listeners never appear). Empty on a controller-only node.
    /// A port of 0 means "the port actually bound by the listener of the same name".</summary>
    public IReadOnlyList<ListenerEndpoint> AdvertisedListeners { get; private init; } = [];
    public IReadOnlyDictionary<string, SecurityProtocol> ListenerSecurityProtocolMap { get; private init; } =
        new Dictionary<string, SecurityProtocol>();
    public IReadOnlyList<string> ControllerListenerNames { get; private init; } = [];
    /// <summary>Listener other brokers use; null on a controller-only node unless set.</summary>
    public string? InterBrokerListenerName { get; private init; }
    /// <summary>The listeners serving Kafka clients (not controller listeners).</summary>
    public IReadOnlyList<ListenerEndpoint> BrokerListeners { get; private init; } = [];
    /// <summary>The listeners this node binds for the controller quorum (empty on a broker-only node).</summary>
    public IReadOnlyList<ListenerEndpoint> ControllerListeners { get; private init; } = [];
    /// <summary>Admin API HTTP listeners (empty = Admin API off).</summary>
    public IReadOnlyList<HttpEndpoint> AdminListeners { get; private init; } = [];
    /// <summary>HTTP proxy listeners (empty = proxy off).</summary>
    public IReadOnlyList<HttpEndpoint> HttpProxyListeners { get; private init; } = [];
    /// <summary>http.proxy.consumer.instance.timeout.ms: idle HTTP proxy consumer instances are closed after this.</summary>
    public int HttpProxyConsumerInstanceTimeoutMs { get; private init; } = 300_000;

    // --- storage -----------------------------------------------------------------------------------------
    public IReadOnlyList<string> LogDirs { get; private init; } = [];
    public string MetadataLogDir { get; private init; } = "";

    // --- topic defaults ----------------------------------------------------------------------------------
    public bool AutoCreateTopicsEnable { get; private init; }
    public int NumPartitions { get; private init; }
    public short DefaultReplicationFactor { get; private init; }
    public int MinInsyncReplicas { get; private init; }
    public bool DeleteTopicEnable { get; private init; }

    // --- segments, retention, flushing -------------------------------------------------------------------
    public int LogSegmentBytes { get; private init; }
    /// <summary>From log.roll.ms, else log.roll.hours.</summary>
    public long LogRollMs { get; private init; }
    /// <summary>From log.retention.ms, else .minutes, else .hours; -1 = unlimited.</summary>
    public long LogRetentionMs { get; private init; }
    /// <summary>-1 = unlimited.</summary>
    public long LogRetentionBytes { get; private init; }
    public long LogRetentionCheckIntervalMs { get; private init; }
    public int LogIndexIntervalBytes { get; private init; }
    public int LogIndexSizeMaxBytes { get; private init; }
    /// <summary>long.MaxValue = never flush by count.</summary>
    public long LogFlushIntervalMessages { get; private init; }
    /// <summary>null = no time-based flush.</summary>
    public long? LogFlushIntervalMs { get; private init; }
    /// <summary>log.flush.scheduler.interval.ms: how often the time-based flush is checked.</summary>
    public long LogFlushSchedulerIntervalMs { get; private init; } = 1000;
    /// <summary>write.caching.default: false = replicas fsync before a batch counts towards acks=all.</summary>
    public bool WriteCachingDefault { get; private init; } = true;
    /// <summary>storage.min.free.bytes: produce is refused below this much free space in a log dir; 0 = off.</summary>
    public long StorageMinFreeBytes { get; private init; }
    public IReadOnlyList<string> LogCleanupPolicy { get; private init; } = [];
    public bool LogCleanerEnable { get; private init; } = true;
    public long LogCleanerBackoffMs { get; private init; } = 15_000;
    public long LogCleanerDeleteRetentionMs { get; private init; }
    public double LogCleanerMinCleanableRatio { get; private init; }
    public long LogCleanerMinCompactionLagMs { get; private init; }
    public long LogSegmentDeleteDelayMs { get; private init; }
    /// <summary>"CreateTime" or "LogAppendTime".</summary>
    public string LogMessageTimestampType { get; private init; } = "CreateTime";
    public long LogMessageTimestampDifferenceMaxMs { get; private init; }
    /// <summary>One of <see cref="ConfigKeys.CompressionTypes"/>.</summary>
    public string CompressionType { get; private init; } = "producer";

    // --- request limits ----------------------------------------------------------------------------------
    public int MessageMaxBytes { get; private init; }
    public int SocketRequestMaxBytes { get; private init; }

    // --- group coordinator; transactions (stored for later use) ----------------------------------------
    public int OffsetsTopicNumPartitions { get; private init; }
    public short OffsetsTopicReplicationFactor { get; private init; }
    public int OffsetsRetentionMinutes { get; private init; }
    public int GroupInitialRebalanceDelayMs { get; private init; }
    public int GroupMinSessionTimeoutMs { get; private init; }
    public int GroupMaxSessionTimeoutMs { get; private init; }
    public int GroupMaxSize { get; private init; }
    public long OffsetsRetentionCheckIntervalMs { get; private init; }
    public int OffsetsCommitTimeoutMs { get; private init; }
    public int OffsetMetadataMaxBytes { get; private init; }
    public int OffsetsTopicSegmentBytes { get; private init; }
    public int TransactionStateLogNumPartitions { get; private init; }
    public short TransactionStateLogReplicationFactor { get; private init; }
    public int TransactionStateLogMinIsr { get; private init; }
    public int TransactionMaxTimeoutMs { get; private init; }
    public int TransactionalIdExpirationMs { get; private init; }
    public int ProducerIdExpirationMs { get; private init; }

    // --- KRaft timings (stored for later use) ------------------------------------------------------------
    public int BrokerHeartbeatIntervalMs { get; private init; }
    public bool AutoLeaderRebalanceEnable { get; private init; }
    public int LeaderImbalanceCheckIntervalSeconds { get; private init; }
    public int BrokerSessionTimeoutMs { get; private init; }
    public int ControllerQuorumElectionTimeoutMs { get; private init; }
    public int ControllerQuorumFetchTimeoutMs { get; private init; }

    // --- provenance --------------------------------------------------------------------------------------
    /// <summary>Every key given (file, overrides, --data-dir, or the built-in single-node set), as given.</summary>
    public IReadOnlyDictionary<string, string> Raw { get; private init; } = new Dictionary<string, string>();
    /// <summary>Effective value of every known key (aliases folded into their canonical key), in table order.</summary>
    public IReadOnlyList<EffectiveSetting> Effective { get; private init; } = [];
    private Dictionary<string, EffectiveSetting> EffectiveByKey { get; init; } = new();

    /// <summary>Effective value of a known key in properties syntax (null when unset and without default).</summary>
    public string? GetEffective(string key) => EffectiveByKey.TryGetValue(key, out var s) ? s.Value : null;
}
