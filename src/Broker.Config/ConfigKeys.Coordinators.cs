namespace Broker.Config;

// Rows: group coordinator, transactions, KRaft timings.
public static partial class ConfigKeys
{
    private static void AddCoordinatorAndTimingKeys(List<ConfigKey> rows)
    {
        const string G = SectionGroups, T = SectionTransactions, K = SectionKRaft;
        rows.Add(Int(G, "offsets.topic.num.partitions", "50", 1,
            "Number of partitions of the internal __consumer_offsets topic (fixed once the topic exists)."));
        rows.Add(Short(G, "offsets.topic.replication.factor", "3", 1,
            "Replication factor of __consumer_offsets. Kafka's default is 3; a single node needs 1."));
        rows.Add(Int(G, "offsets.retention.minutes", "10080", 1,
            "How long committed offsets of an empty group are kept."));
        rows.Add(Int(G, "group.initial.rebalance.delay.ms", "3000", 0,
            "How long a new group waits for more members before its first rebalance."));
        rows.Add(Int(G, "group.min.session.timeout.ms", "6000", 0,
            "Smallest session timeout a consumer may ask for."));
        rows.Add(Int(G, "group.max.session.timeout.ms", "1800000", 0,
            "Largest session timeout a consumer may ask for."));
        rows.Add(Int(G, "group.max.size", "2147483647", 1,
            "Largest number of members a consumer group may have; further members get GROUP_MAX_SIZE_REACHED."));
        rows.Add(Long(G, "offsets.retention.check.interval.ms", "600000", 1,
            "How often expired committed offsets are looked for."));
        rows.Add(Int(G, "offsets.commit.timeout.ms", "5000", 1,
            "How long an offset commit waits for its write to __consumer_offsets to be replicated."));
        rows.Add(Int(G, "offset.metadata.max.bytes", "4096", 0,
            "Largest metadata string a client may store with a committed offset."));
        rows.Add(Int(G, "offsets.topic.segment.bytes", "104857600", MinSegmentBytes,
            "Segment size of __consumer_offsets (applied when the topic is created)."));

        rows.Add(Int(T, "transaction.state.log.num.partitions", "50", 1,
            "Number of partitions of the internal __transaction_state topic."));
        rows.Add(Short(T, "transaction.state.log.replication.factor", "3", 1,
            "Replication factor of __transaction_state. Kafka's default is 3; a single node needs 1."));
        rows.Add(Int(T, "transaction.state.log.min.isr", "2", 1,
            "min.insync.replicas of __transaction_state. A single node needs 1."));
        rows.Add(Int(T, "transaction.max.timeout.ms", "900000", 1,
            "Largest transaction timeout a producer may ask for."));
        rows.Add(Int(T, "transactional.id.expiration.ms", "604800000", 1,
            "How long an idle transactional id is remembered."));
        rows.Add(Int(T, "producer.id.expiration.ms", "86400000", 1,
            "How long the state of an idle idempotent producer is kept."));

        rows.Add(Int(K, "broker.heartbeat.interval.ms", "2000", 1,
            "Interval between broker heartbeats to the controller."));
        rows.Add(Int(K, "broker.session.timeout.ms", "9000", 1,
            "A broker that sends no heartbeat for this long is fenced."));
        rows.Add(Bool(K, "auto.leader.rebalance.enable", "true",
            "Give partition leadership back to each partition's preferred replica (the first of its replicas) once that replica is in sync again, e.g. after it restarted."));
        rows.Add(Int(K, "leader.imbalance.check.interval.seconds", "300", 1,
            "How often a leader checks whether the preferred replica should take leadership back."));
        rows.Add(Int(K, "controller.quorum.election.timeout.ms", "1000", 1,
            "How long a voter waits without hearing from a leader before it starts an election."));
        rows.Add(Int(K, "controller.quorum.fetch.timeout.ms", "2000", 1,
            "How long a follower waits for a fetch response from the leader before it suspects the leader."));
    }
}
