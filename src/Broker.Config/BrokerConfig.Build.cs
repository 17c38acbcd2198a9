using System.Globalization;

namespace Broker.Config;

// Turning a validated key/value set into the typed BrokerConfig.
public sealed partial class BrokerConfig
{
    internal static BrokerConfig Build(IReadOnlyDictionary<string, GivenValue> given, string? fileSource,
        List<ConfigWarning> warnings, string defaultDataDir)
    {
        var r = new ConfigResolver(given, fileSource);
        r.CheckGivenKeys(warnings);

        // Identity and quorum.
        Endpoints.ParseRoles(r.Required(ConfigKeys.ProcessRoles,
            " (broker, controller or broker,controller; ZooKeeper mode is not supported)"), out var roles);
        int nodeId = ResolveNodeId(r);
        string votersHint = r.TryGiven("controller.quorum.bootstrap.servers", out _)
            ? " (controller.quorum.bootstrap.servers / dynamic quorums are not supported; list the voters as id@host:port)"
            : " (id@host:port list, e.g. 1@127.0.0.1:9093)";
        Endpoints.ParseVoters(r.Required(ConfigKeys.QuorumVoters, votersHint), out var voters);
        if (voters.Count == 0) throw r.Error(ConfigKeys.QuorumVoters, "required" + votersHint);

        var net = ResolveListeners(r, roles, nodeId, voters);
        var logDirs = ResolveLogDirs(r, defaultDataDir, out string metadataLogDir);
        long retentionMs = ResolveRetentionMs(r);
        long rollMs = ResolveRollMs(r);

        var effective = r.BuildEffective();
        var byKey = new Dictionary<string, EffectiveSetting>(StringComparer.Ordinal);
        foreach (var s in effective) byKey[s.Key] = s;
        var raw = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, g) in given) raw[k] = g.Value;

        return new BrokerConfig
        {
            Roles = roles,
            NodeId = nodeId,
            QuorumVoters = voters,
            Listeners = net.Listeners,
            AdvertisedListeners = net.Advertised,
            ListenerSecurityProtocolMap = net.Map,
            ControllerListenerNames = net.ControllerNames,
            InterBrokerListenerName = net.InterBroker,
            BrokerListeners = net.BrokerListeners,
            ControllerListeners = net.ControllerListeners,
            AdminListeners = net.Admin,
            HttpProxyListeners = net.Proxy,
            LogDirs = logDirs,
            MetadataLogDir = metadataLogDir,
            AutoCreateTopicsEnable = r.Bool("auto.create.topics.enable"),
            NumPartitions = r.Int("num.partitions"),
            DefaultReplicationFactor = checked((short)r.Int("default.replication.factor")),
            MinInsyncReplicas = r.Int("min.insync.replicas"),
            DeleteTopicEnable = r.Bool("delete.topic.enable"),
            LogSegmentBytes = r.Int("log.segment.bytes"),
            LogRollMs = rollMs,
            LogRetentionMs = retentionMs,
            LogRetentionBytes = r.Long("log.retention.bytes"),
            LogRetentionCheckIntervalMs = r.Long("log.retention.check.interval.ms"),
            LogIndexIntervalBytes = r.Int("log.index.interval.bytes"),
            LogIndexSizeMaxBytes = r.Int("log.index.size.max.bytes"),
            LogFlushIntervalMessages = r.Long("log.flush.interval.messages"),
            LogFlushIntervalMs = r.OptionalLong("log.flush.interval.ms"),
            LogFlushSchedulerIntervalMs = r.Long("log.flush.scheduler.interval.ms"),
            WriteCachingDefault = r.Bool("write.caching.default"),
            StorageMinFreeBytes = r.Long("storage.min.free.bytes"),
            LogCleanupPolicy = r.List("log.cleanup.policy"),
            LogCleanerEnable = r.Bool("log.cleaner.enable"),
            LogCleanerBackoffMs = r.Long("log.cleaner.backoff.ms"),
            LogCleanerDeleteRetentionMs = r.Long("log.cleaner.delete.retention.ms"),
            LogCleanerMinCleanableRatio = r.Double("log.cleaner.min.cleanable.ratio"),
            LogCleanerMinCompactionLagMs = r.Long("log.cleaner.min.compaction.lag.ms"),
            LogSegmentDeleteDelayMs = r.Long("log.segment.delete.delay.ms"),
            LogMessageTimestampType = r.String("log.message.timestamp.type"),
            LogMessageTimestampDifferenceMaxMs = r.Long("log.message.timestamp.difference.max.ms"),
            CompressionType = r.String("compression.type"),
            MessageMaxBytes = r.Int("message.max.bytes"),
            SocketRequestMaxBytes = r.Int("socket.request.max.bytes"),
            OffsetsTopicNumPartitions = r.Int("offsets.topic.num.partitions"),
            OffsetsTopicReplicationFactor = r.Short("offsets.topic.replication.factor"),
            OffsetsRetentionMinutes = r.Int("offsets.retention.minutes"),
            GroupInitialRebalanceDelayMs = r.Int("group.initial.rebalance.delay.ms"),
            GroupMinSessionTimeoutMs = r.Int("group.min.session.timeout.ms"),
            GroupMaxSessionTimeoutMs = r.Int("group.max.session.timeout.ms"),
            GroupMaxSize = r.Int("group.max.size"),
            OffsetsRetentionCheckIntervalMs = r.Long("offsets.retention.check.interval.ms"),
            OffsetsCommitTimeoutMs = r.Int("offsets.commit.timeout.ms"),
            HttpProxyConsumerInstanceTimeoutMs = r.Int(ConfigKeys.HttpProxyConsumerInstanceTimeoutMs),
            OffsetMetadataMaxBytes = r.Int("offset.metadata.max.bytes"),
            OffsetsTopicSegmentBytes = r.Int("offsets.topic.segment.bytes"),
            TransactionStateLogNumPartitions = r.Int("transaction.state.log.num.partitions"),
            TransactionStateLogReplicationFactor = r.Short("transaction.state.log.replication.factor"),
            TransactionStateLogMinIsr = r.Int("transaction.state.log.min.isr"),
            TransactionMaxTimeoutMs = r.Int("transaction.max.timeout.ms"),
            TransactionalIdExpirationMs = r.Int("transactional.id.expiration.ms"),
            ProducerIdExpirationMs = r.Int("producer.id.expiration.ms"),
            BrokerHeartbeatIntervalMs = r.Int("broker.heartbeat.interval.ms"),
            AutoLeaderRebalanceEnable = r.Bool("auto.leader.rebalance.enable"),
            LeaderImbalanceCheckIntervalSeconds = r.Int("leader.imbalance.check.interval.seconds"),
            BrokerSessionTimeoutMs = r.Int("broker.session.timeout.ms"),
            ControllerQuorumElectionTimeoutMs = r.Int("controller.quorum.election.timeout.ms"),
            ControllerQuorumFetchTimeoutMs = r.Int("controller.quorum.fetch.timeout.ms"),
            Raw = raw,
            Effective = effective,
            EffectiveByKey = byKey,
        };
    }

    private static int ResolveNodeId(ConfigResolver r)
    {
        bool hasNode = r.TryGiven(ConfigKeys.NodeId, out var node);
        bool hasBroker = r.TryGiven(ConfigKeys.BrokerId, out var broker);
        if (hasNode && hasBroker && r.Int(ConfigKeys.NodeId) != r.Int(ConfigKeys.BrokerId))
            throw r.ErrorAt(ConfigKeys.BrokerId, broker.Origin,
                $"must equal node.id ({node.Value.Trim()}) when both are set, got '{broker.Value.Trim()}'");
        if (hasNode) return r.Int(ConfigKeys.NodeId);
        if (hasBroker)
        {
            int id = r.Int(ConfigKeys.BrokerId);
            r.SetEffective(ConfigKeys.NodeId, id.ToString(CultureInfo.InvariantCulture), broker.Origin);
            return id;
        }
        throw r.Error(ConfigKeys.NodeId, "required (a non-negative integer, unique in the cluster)");
    }

    private static List<string> ResolveLogDirs(ConfigResolver r, string defaultDataDir, out string metadataLogDir)
    {
        List<string> dirs;
        if (r.TryGiven(ConfigKeys.LogDirs, out _))
            dirs = r.List(ConfigKeys.LogDirs);
        else if (r.TryGiven(ConfigKeys.LogDir, out var one))
        {
            dirs = [one.Value.Trim()];
            r.SetEffective(ConfigKeys.LogDirs, dirs[0], one.Origin);
        }
        else
        {
            dirs = [defaultDataDir];
            r.SetEffective(ConfigKeys.LogDirs, defaultDataDir, ConfigOrigin.Derived("default data directory"));
        }
        for (int i = 0; i < dirs.Count; i++)
            for (int j = 0; j < i; j++)
                if (dirs[i] == dirs[j]) throw r.Error(ConfigKeys.LogDirs, $"directory '{dirs[i]}' is listed twice");

        if (r.TryGiven(ConfigKeys.MetadataLogDir, out var meta))
        {
            metadataLogDir = meta.Value.Trim();
            if (metadataLogDir.Length == 0) throw r.ErrorAt(ConfigKeys.MetadataLogDir, meta.Origin, "must not be empty");
        }
        else
        {
            metadataLogDir = dirs[0];
            r.SetEffective(ConfigKeys.MetadataLogDir, metadataLogDir, ConfigOrigin.Derived("first entry of log.dirs"));
        }
        return dirs;
    }

    /// <summary>Kafka precedence: log.retention.ms, else .minutes, else .hours; any negative result = -1.</summary>
    private static long ResolveRetentionMs(ConfigResolver r)
    {
        long ms;
        ConfigOrigin origin;
        if (r.TryGiven(ConfigKeys.LogRetentionMs, out var g)) { ms = r.Long(ConfigKeys.LogRetentionMs); origin = g.Origin; }
        else if (r.TryGiven(ConfigKeys.LogRetentionMinutes, out g))
        {
            ms = r.Int(ConfigKeys.LogRetentionMinutes) * 60_000L;
            origin = ConfigOrigin.Derived($"from log.retention.minutes ({g.Origin})");
        }
        else
        {
            ms = r.Int(ConfigKeys.LogRetentionHours) * 3_600_000L;
            origin = r.TryGiven(ConfigKeys.LogRetentionHours, out g)
                ? ConfigOrigin.Derived($"from log.retention.hours ({g.Origin})")
                : ConfigOrigin.Derived("from log.retention.hours default (168)");
        }
        if (ms < 0) ms = -1;
        r.SetEffective(ConfigKeys.LogRetentionMs, ms.ToString(CultureInfo.InvariantCulture), origin);
        return ms;
    }

    /// <summary>log.roll.ms, else log.roll.hours.</summary>
    private static long ResolveRollMs(ConfigResolver r)
    {
        if (r.TryGiven(ConfigKeys.LogRollMs, out _)) return r.Long(ConfigKeys.LogRollMs);
        long ms = r.Int(ConfigKeys.LogRollHours) * 3_600_000L;
        var origin = r.TryGiven(ConfigKeys.LogRollHours, out var g)
            ? ConfigOrigin.Derived($"from log.roll.hours ({g.Origin})")
            : ConfigOrigin.Derived("from log.roll.hours default (168)");
        r.SetEffective(ConfigKeys.LogRollMs, ms.ToString(CultureInfo.InvariantCulture), origin);
        return ms;
    }
}
