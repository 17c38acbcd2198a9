using System.Collections.Concurrent;
using Broker.Client;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Http.Proxy;

namespace Broker.Http.Tests.Proxy;

/// <summary>
/// An in-memory cluster behind the proxy's backend seam: topics with partitions of records, committed offsets per
/// group, and consumers that read their subscribed topics from the committed offset (or the beginning). It records
/// what the proxy asked for so tests can check batching and partitioning.
/// </summary>
internal sealed class FakeCluster : IProxyBackend
{
    private readonly object _lock = new();
    private readonly Dictionary<string, List<ConsumedRecord>[]> _topics = new();
    private readonly HashSet<string> _internal = new();
    private int _roundRobin;

    public ConcurrentQueue<(string Topic, int Partition, int Count)> ProduceCalls { get; } = new();
    public ConcurrentDictionary<(string Group, TopicPartition Tp), long> Committed { get; } = new();
    public List<FakeConsumer> Consumers { get; } = new();
    public bool AutoCreateTopics { get; set; } = true;
    public bool Unreachable { get; set; }
    public bool Disposed { get; private set; }
    public int[] BrokerIds { get; set; } = [1, 2, 3];

    public void CreateTopic(string name, int partitions, bool isInternal = false)
    {
        lock (_lock)
        {
            var parts = new List<ConsumedRecord>[partitions];
            for (int i = 0; i < partitions; i++) parts[i] = new List<ConsumedRecord>();
            _topics[name] = parts;
            if (isInternal) _internal.Add(name);
        }
    }

    public void Append(string topic, int partition, byte[]? key, byte[]? value)
    {
        lock (_lock)
        {
            var log = _topics[topic][partition];
            log.Add(new ConsumedRecord(topic, partition, log.Count, 0, key, value, Array.Empty<RecordHeader>()));
        }
    }

    public IReadOnlyList<ConsumedRecord> Records(string topic, int partition)
    {
        lock (_lock) return _topics[topic][partition].ToArray();
    }

    public Task<ClusterInfo> GetMetadataAsync(IReadOnlyList<string>? topics, bool allowAutoCreate, CancellationToken cancellationToken)
    {
        if (Unreachable) throw new KafkaException(ErrorCode.NetworkException, "no broker reachable");
        lock (_lock)
        {
            var infos = new List<TopicInfo>();
            foreach (var name in topics ?? _topics.Keys.ToList())
            {
                if (!_topics.ContainsKey(name) && allowAutoCreate && AutoCreateTopics)
                {
                    CreateTopic(name, 2);
                    infos.Add(new TopicInfo(name, Guid.Empty, ErrorCode.LeaderNotAvailable, false, []));
                    continue;
                }
                if (!_topics.TryGetValue(name, out var parts))
                {
                    infos.Add(new TopicInfo(name, Guid.Empty, ErrorCode.UnknownTopicOrPartition, false, []));
                    continue;
                }
                var partitions = new List<PartitionInfo>();
                for (int i = 0; i < parts.Length; i++) partitions.Add(new PartitionInfo(i, ErrorCode.None, 1, 0, [1], [1]));
                infos.Add(new TopicInfo(name, Guid.NewGuid(), ErrorCode.None, _internal.Contains(name), partitions));
            }
            var brokers = BrokerIds.Select(id => new BrokerInfo(id, "127.0.0.1", 9000 + id, null)).ToList();
            return Task.FromResult(new ClusterInfo("fake", BrokerIds[0], brokers, infos));
        }
    }

    public int ChoosePartition(ReadOnlySpan<byte> key, bool keyIsNull, int partitionCount)
    {
        if (keyIsNull) return (Interlocked.Increment(ref _roundRobin) & int.MaxValue) % partitionCount;
        int hash = 17;
        foreach (byte b in key) hash = hash * 31 + b;
        return (hash & int.MaxValue) % partitionCount;
    }

    public Task<ProduceResult> ProduceAsync(string topic, int partition, IReadOnlyList<ProducerRecord> records,
        CancellationToken cancellationToken)
    {
        ProduceCalls.Enqueue((topic, partition, records.Count));
        lock (_lock)
        {
            if (!_topics.TryGetValue(topic, out var parts) || partition >= parts.Length)
                return Task.FromResult(new ProduceResult(topic, partition, ErrorCode.UnknownTopicOrPartition, "unknown", -1));
            long baseOffset = parts[partition].Count;
            foreach (var r in records) Append(topic, partition, r.Key, r.Value);
            return Task.FromResult(new ProduceResult(topic, partition, ErrorCode.None, null, baseOffset));
        }
    }

    public Task<FetchResult> FetchAsync(string topic, int partition, long offset, int maxBytes, TimeSpan maxWait,
        CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_topics.TryGetValue(topic, out var parts) || partition >= parts.Length)
                throw new KafkaException(ErrorCode.UnknownTopicOrPartition, $"{topic}-{partition} does not exist");
            var log = parts[partition];
            if (offset > log.Count)
                return Task.FromResult(new FetchResult(topic, partition, ErrorCode.OffsetOutOfRange, log.Count, 0, [], offset));
            // Like a real broker, answer from the start of the "batch" (two records before the offset when there are any).
            int from = (int)Math.Max(0, offset - 2);
            var records = new List<ConsumedRecord>();
            int bytes = 0;
            for (int i = from; i < log.Count && (records.Count == 0 || bytes < maxBytes); i++)
            {
                records.Add(log[i]);
                bytes += (log[i].Value?.Length ?? 0) + (log[i].Key?.Length ?? 0);
            }
            return Task.FromResult(new FetchResult(topic, partition, ErrorCode.None, log.Count, 0, records, log.Count));
        }
    }

    public IProxyConsumer CreateConsumer(string groupId)
    {
        var consumer = new FakeConsumer(this, groupId);
        lock (_lock) Consumers.Add(consumer);
        return consumer;
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }

    /// <summary>A group member that owns every partition of its subscription.</summary>
    internal sealed class FakeConsumer(FakeCluster cluster, string groupId) : IProxyConsumer
    {
        private readonly Dictionary<TopicPartition, long> _positions = new();
        private int _active;

        public string GroupId { get; } = groupId;
        public IReadOnlyList<string> Subscription { get; private set; } = [];
        public bool Disposed { get; private set; }
        public int Polls;
        /// <summary>When set, polls wait for it (tests hold an instance busy).</summary>
        public TaskCompletionSource? PollGate { get; set; }
        public TimeSpan LastPollTimeout { get; private set; }

        private void Enter()
        {
            if (Interlocked.Increment(ref _active) != 1) throw new InvalidOperationException("concurrent use of a consumer");
        }

        private void Exit() => Interlocked.Decrement(ref _active);

        public Task SubscribeAsync(IReadOnlyList<string> topics, CancellationToken cancellationToken)
        {
            Subscription = topics.ToArray();
            _positions.Clear();
            return Task.CompletedTask;
        }

        public async Task<IReadOnlyList<ConsumedRecord>> PollAsync(TimeSpan timeout, int maxBytes, CancellationToken cancellationToken)
        {
            Enter();
            try
            {
                Interlocked.Increment(ref Polls);
                LastPollTimeout = timeout;
                if (PollGate is { } gate) await gate.Task.WaitAsync(cancellationToken);
                var result = new List<ConsumedRecord>();
                foreach (var topic in Subscription)
                {
                    if (!cluster._topics.ContainsKey(topic)) continue;
                    for (int p = 0; p < cluster._topics[topic].Length; p++)
                    {
                        var tp = new TopicPartition(topic, p);
                        if (!_positions.TryGetValue(tp, out long position))
                            position = cluster.Committed.TryGetValue((GroupId, tp), out long c) ? c : 0;
                        var records = cluster.Records(topic, p);
                        for (long o = position; o < records.Count; o++) result.Add(records[(int)o]);
                        _positions[tp] = records.Count;
                    }
                }
                return result;
            }
            finally
            {
                Exit();
            }
        }

        public Task CommitAsync(IReadOnlyList<TopicPartitionOffset>? offsets, CancellationToken cancellationToken)
        {
            if (offsets is null)
            {
                foreach (var (tp, position) in _positions) cluster.Committed[(GroupId, tp)] = position;
            }
            else
            {
                foreach (var o in offsets) cluster.Committed[(GroupId, new TopicPartition(o.Topic, o.Partition))] = o.Offset;
            }
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<CommittedOffset>> CommittedAsync(IReadOnlyList<TopicPartition> partitions,
            CancellationToken cancellationToken)
        {
            var list = partitions.Select(tp => new CommittedOffset(tp.Topic, tp.Partition,
                cluster.Committed.TryGetValue((GroupId, tp), out long o) ? o : -1, "", ErrorCode.None)).ToList();
            return Task.FromResult<IReadOnlyList<CommittedOffset>>(list);
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>A clock tests move by hand.</summary>
internal sealed class FakeClock : IClock
{
    private long _now = 1_000_000;
    public long UnixTimeMilliseconds => Interlocked.Read(ref _now);
    public long MonotonicMilliseconds => Interlocked.Read(ref _now);
    public void Advance(TimeSpan by) => Interlocked.Add(ref _now, (long)by.TotalMilliseconds);
}
