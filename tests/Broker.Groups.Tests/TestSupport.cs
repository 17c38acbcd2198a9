using System.Buffers.Binary;
using System.Text;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Storage;

namespace Broker.Groups.Tests;

/// <summary>A clock the tests move by hand (wall and monotonic time advance together).</summary>
internal sealed class ManualClock : IClock
{
    public long UnixTimeMilliseconds { get; private set; } = 1_700_000_000_000;
    public long MonotonicMilliseconds { get; private set; } = 5_000_000;

    public void Advance(long ms)
    {
        UnixTimeMilliseconds += ms;
        MonotonicMilliseconds += ms;
    }
}

/// <summary>
/// A replica over a real partition log whose faults the test scripts: appends refused with an error, commit waits
/// answered with an error, or a held high watermark that only <see cref="Release"/> moves to the log end.
/// </summary>
internal sealed class ScriptedReplica(IPartitionLog log, int epoch, bool isLeader = true) : IReplicatedLog
{
    private readonly object _gate = new();
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long? _heldHighWatermark;

    public TopicPartition Partition => Log.Partition;
    public IPartitionLog Log { get; } = log;
    public bool IsLeader { get; set; } = isLeader;
    public int LeaderEpoch { get; set; } = epoch;
    public ErrorCode AppendError { get; set; }
    public ErrorCode WaitError { get; set; }
    public long HighWatermark { get { lock (_gate) return _heldHighWatermark ?? Log.LogEndOffset; } }
    public event Action<IReplicatedLog>? HighWatermarkAdvanced;

    /// <summary>Freezes the high watermark where it is.</summary>
    public void Hold()
    {
        lock (_gate) _heldHighWatermark = Log.LogEndOffset;
    }

    /// <summary>Commits everything appended so far.</summary>
    public void Release()
    {
        TaskCompletionSource released;
        lock (_gate)
        {
            _heldHighWatermark = null;
            released = _released;
            _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        released.TrySetResult();
        HighWatermarkAdvanced?.Invoke(this);
    }

    public ReplicatedAppendResult Append(ReadOnlySpan<byte> batches, long? logAppendTimeMs = null)
    {
        if (!IsLeader) return new ReplicatedAppendResult(ErrorCode.NotLeaderOrFollower, -1, -1, -1);
        if (AppendError != ErrorCode.None) return new ReplicatedAppendResult(AppendError, -1, -1, -1);
        var info = Log.Append(batches, LeaderEpoch, logAppendTimeMs);
        return new ReplicatedAppendResult(ErrorCode.None, info.FirstOffset, info.LastOffset, info.LogAppendTimeMs);
    }

    public async ValueTask<ErrorCode> WaitForCommitAsync(long offset, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (WaitError != ErrorCode.None) return WaitError;
            if (offset < HighWatermark) return ErrorCode.None;
            Task released;
            lock (_gate) released = _released.Task;
            await released.WaitAsync(cancellationToken);
        }
    }

    public void Dispose() { }
}

/// <summary>
/// __consumer_offsets for the tests: real partition logs in a temp directory, each behind a LocalReplicatedLog this
/// node leads (or follows) at a given epoch, or behind any replica a test installs.
/// </summary>
internal sealed class FakeOffsetsTopic : IOffsetsTopic, IDisposable
{
    private readonly IReplicatedLog?[] _replicas;

    public FakeOffsetsTopic(IClock clock, int partitions, string? directory = null)
    {
        Directory = directory ?? Path.Combine(Path.GetTempPath(), "groups-tests-" + Guid.NewGuid().ToString("N"));
        Logs = new PartitionLog[partitions];
        _replicas = new IReplicatedLog?[partitions];
        for (int i = 0; i < partitions; i++)
        {
            var tp = new TopicPartition("__consumer_offsets", i);
            Logs[i] = PartitionLog.Open(Path.Combine(Directory, tp.ToString()), tp, new LogOptions(), clock);
            _replicas[i] = new LocalReplicatedLog(Logs[i], 1, isLeader: true);
        }
    }

    public string Directory { get; }
    public PartitionLog[] Logs { get; }
    public int PartitionCount => _replicas.Length;

    public IReplicatedLog? Replica(int partition) => Volatile.Read(ref _replicas[partition]);

    public void Set(int partition, IReplicatedLog? replica) => Volatile.Write(ref _replicas[partition], replica);
    public void Lead(int partition, int epoch) => Set(partition, new LocalReplicatedLog(Logs[partition], epoch, isLeader: true));
    public void Follow(int partition, int epoch) => Set(partition, new LocalReplicatedLog(Logs[partition], epoch, isLeader: false));

    /// <summary>Closes the logs but keeps the files (a restarted node reopens them).</summary>
    public void CloseLogs()
    {
        foreach (var log in Logs) log.Dispose();
    }

    public void Dispose()
    {
        CloseLogs();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }

    /// <summary>Every record of a partition: (key, value or null).</summary>
    public List<(byte[] Key, byte[]? Value)> Records(int partition)
    {
        var result = new List<(byte[], byte[]?)>();
        var log = Logs[partition];
        long offset = log.LogStartOffset;
        while (offset < log.LogEndOffset)
        {
            using var read = log.Read(offset, 1 << 20, log.LogEndOffset, minOneBatch: true);
            var data = read.Records.Span;
            if (data.IsEmpty) break;
            while (RecordBatchHeader.TryRead(data, out var h) && h.TotalSize <= data.Length)
            {
                var reader = new RecordReader(data[..h.TotalSize]);
                while (reader.TryRead(out var r)) result.Add((r.Key.ToArray(), r.ValueIsNull ? null : r.Value.ToArray()));
                offset = h.LastOffset + 1;
                data = data[h.TotalSize..];
            }
        }
        return result;
    }
}

/// <summary>A coordinator over a <see cref="FakeOffsetsTopic"/> with a manual clock, and shorthands for the calls.</summary>
internal sealed class GroupKit : IAsyncDisposable
{
    public const string Consumer = "consumer";

    private readonly bool _ownsTopic;

    public GroupKit(GroupCoordinatorOptions? options = null, int partitions = 3, FakeOffsetsTopic? topic = null, ManualClock? clock = null)
    {
        Clock = clock ?? new ManualClock();
        _ownsTopic = topic is null;
        Topic = topic ?? new FakeOffsetsTopic(Clock, partitions);
        Options = options ?? new GroupCoordinatorOptions { GroupInitialRebalanceDelayMs = 0, OffsetsTopicPartitions = partitions };
        Coordinator = new GroupCoordinator(Options, Topic, Clock);
        LoadAll();
    }

    public ManualClock Clock { get; }
    public FakeOffsetsTopic Topic { get; }
    public GroupCoordinatorOptions Options { get; }
    public GroupCoordinator Coordinator { get; private set; }

    /// <summary>Runs maintenance and waits (briefly polling) until every partition this node leads is loaded.</summary>
    public void LoadAll()
    {
        Coordinator.RunMaintenance();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Coordinator.ListGroups(null, null).Error == ErrorCode.CoordinatorLoadInProgress)
        {
            Assert.True(DateTime.UtcNow < deadline, "offsets partitions did not load");
            Thread.Sleep(2);
        }
    }

    /// <summary>Moves the clock and runs the timers.</summary>
    public void Advance(long ms)
    {
        Clock.Advance(ms);
        Coordinator.RunMaintenance();
    }

    /// <summary>A new coordinator over the same topic (a restarted node or a new leader), loaded.</summary>
    public async Task RestartAsync()
    {
        await Coordinator.DisposeAsync();
        Coordinator = new GroupCoordinator(Options, Topic, Clock);
        LoadAll();
    }

    public Task<JoinGroupOutcome> Join(string group, string memberId = "", string? instanceId = null, int sessionMs = 10_000,
        int rebalanceMs = 20_000, bool requireKnown = false, string protocolType = Consumer, GroupProtocol[]? protocols = null,
        string clientId = "client") =>
        Coordinator.JoinGroupAsync(new JoinGroupArgs(group, memberId, instanceId, protocolType,
            protocols ?? [new GroupProtocol("range", Subscription("t1"))], sessionMs, rebalanceMs, clientId, "/127.0.0.1", requireKnown, null));

    public Task<SyncGroupOutcome> Sync(string group, int generation, string memberId, string? instanceId = null,
        params MemberAssignment[] assignments) =>
        Coordinator.SyncGroupAsync(new SyncGroupArgs(group, generation, memberId, instanceId, null, null, assignments));

    public Task<OffsetCommitOutcome> Commit(string group, int generation, string memberId, params OffsetCommitEntry[] offsets) =>
        Coordinator.CommitOffsetsAsync(new OffsetCommitArgs(group, generation, memberId, null, -1, offsets));

    public CommittedOffset Fetch(string group, string topic, int partition)
    {
        var outcome = Coordinator.FetchOffsets(group, [new TopicPartitionsQuery(topic, [partition])], requireStable: false);
        Assert.Equal(ErrorCode.None, outcome.Error);
        return Assert.Single(outcome.Offsets);
    }

    /// <summary>Joins one member (no MEMBER_ID_REQUIRED) and completes its sync: a Stable group of one.</summary>
    public async Task<JoinGroupOutcome> StableSingle(string group, string? instanceId = null)
    {
        var joined = await Done(Join(group, instanceId: instanceId));
        Assert.Equal(ErrorCode.None, joined.Error);
        var synced = await Done(Sync(group, joined.GenerationId, joined.MemberId, instanceId,
            new MemberAssignment(joined.MemberId, [1, 2, 3])));
        Assert.Equal(ErrorCode.None, synced.Error);
        return joined;
    }

    public async ValueTask DisposeAsync()
    {
        await Coordinator.DisposeAsync();
        if (_ownsTopic) Topic.Dispose();
    }

    public static async Task<T> Done<T>(Task<T> task) => await task.WaitAsync(TimeSpan.FromSeconds(5));

    /// <summary>A consumer-protocol subscription (v0): version, topics, null user data.</summary>
    public static byte[] Subscription(params string[] topics)
    {
        var bytes = new List<byte>();
        void Int16(int v) { var b = new byte[2]; BinaryPrimitives.WriteInt16BigEndian(b, (short)v); bytes.AddRange(b); }
        void Int32(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, v); bytes.AddRange(b); }
        Int16(0);
        Int32(topics.Length);
        foreach (var t in topics)
        {
            Int16(Encoding.UTF8.GetByteCount(t));
            bytes.AddRange(Encoding.UTF8.GetBytes(t));
        }
        Int32(-1);
        return [.. bytes];
    }
}
