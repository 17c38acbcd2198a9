using System.Diagnostics;
using Broker.Consensus.Raft;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Storage;

namespace Broker.Consensus.Tests;

/// <summary>N replicas of one partition, each with its own LogManager directory, over an in-memory network and one
/// shared 10 ms ticker. Replicas can be stopped (disposed) and restarted from their directories. Voters are 1..N;
/// optional learner replicas N+1.. see themselves as learners, but voters only replicate to them once told
/// (<see cref="RaftReplicatedLog.SetLearners"/>).</summary>
internal sealed class RaftTestCluster : IDisposable
{
    public static readonly TopicPartition Tp = new("events", 0);

    private readonly LogManager?[] _managers;
    private readonly int[] _ids;
    private readonly int[] _voters;
    private readonly LogOptions _logOptions;
    private readonly int _replicaLagTicks;

    public RaftTestCluster(int nodes, int electionTicks = 10, int learners = 0, LogOptions? logOptions = null,
        int replicaLagTicks = 100)
    {
        Root = Path.Combine(Path.GetTempPath(), "raftlog-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        ElectionTicks = electionTicks;
        _logOptions = logOptions ?? new LogOptions { SegmentBytes = 64 * 1024 };
        _replicaLagTicks = replicaLagTicks;
        _voters = Enumerable.Range(1, nodes).ToArray();
        _ids = Enumerable.Range(1, nodes + learners).ToArray();
        _managers = new LogManager?[_ids.Length];
        Replicas = new RaftReplicatedLog?[_ids.Length];
        Ticker = new RaftTicker(TimeSpan.FromMilliseconds(10));
        foreach (int id in _ids) Start(id);
    }

    public string Root { get; }
    public int ElectionTicks { get; }
    public InMemoryRaftNetwork Network { get; } = new();
    public RaftTicker Ticker { get; }
    public RaftReplicatedLog?[] Replicas { get; }
    /// <summary>The voters' ids.</summary>
    public IReadOnlyList<int> Ids => _voters;

    public RaftReplicatedLog Node(int id) => Replicas[id - 1] ?? throw new InvalidOperationException($"node {id} is stopped");

    public string PartitionDir(int id) => Path.Combine(Root, $"node{id}", $"{Tp.Topic}-{Tp.Partition}");

    public RaftReplicatedLog Start(int id)
    {
        var manager = new LogManager(Path.Combine(Root, $"node{id}"), SystemClock.Instance);
        IPartitionLog log = manager.GetOrCreate(Tp, _logOptions);
        bool learner = Array.IndexOf(_voters, id) < 0;
        var replica = new RaftReplicatedLog(log, Network.Endpoint(id), new RaftGroupOptions
        {
            NodeId = id,
            Voters = _voters,
            Learners = learner ? [id] : null,
            StateDirectory = PartitionDir(id),
            ElectionTicks = ElectionTicks,
            ReplicaLagTicks = _replicaLagTicks,
            RandomSeed = id * 7919,
        }, Ticker);
        _managers[id - 1] = manager;
        Replicas[id - 1] = replica;
        return replica;
    }

    /// <summary>Opens a stopped replica's partition log directly (to damage it as a crash would).</summary>
    public (LogManager Manager, IPartitionLog Log) OpenStoppedLog(int id)
    {
        if (Replicas[id - 1] is not null) throw new InvalidOperationException($"node {id} is running");
        var manager = new LogManager(Path.Combine(Root, $"node{id}"), SystemClock.Instance);
        return (manager, manager.GetOrCreate(Tp, _logOptions));
    }

    public void Stop(int id)
    {
        Replicas[id - 1]?.Dispose();
        Replicas[id - 1] = null;
        _managers[id - 1]?.Dispose();
        _managers[id - 1] = null;
    }

    /// <summary>Waits for exactly one live, non-isolated replica to lead and returns it.</summary>
    public RaftReplicatedLog WaitForLeader(TimeSpan timeout, int? exclude = null)
    {
        RaftReplicatedLog? leader = null;
        WaitUntil(() =>
        {
            leader = null;
            foreach (var r in Replicas)
            {
                if (r is null || !r.IsLeader || r.NodeId == exclude || Network.IsIsolated(r.NodeId)) continue;
                if (leader is not null) return false;
                leader = r;
            }
            return leader is not null;
        }, timeout, "a leader to be elected");
        return leader!;
    }

    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout) throw new TimeoutException($"timed out after {timeout.TotalMilliseconds} ms waiting for {what}");
            Thread.Sleep(5);
        }
    }

    public static byte[] Batch(params string[] values)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(1_700_000_000_000);
        foreach (string v in values) builder.Add(1_700_000_000_000, ReadOnlySpan<byte>.Empty, System.Text.Encoding.UTF8.GetBytes(v), keyIsNull: true);
        return builder.ToArray();
    }

    /// <summary>Every stored batch of a log, as copies, in offset order.</summary>
    public static List<byte[]> ReadAll(IPartitionLog log, long maxOffsetExclusive = long.MaxValue)
    {
        var batches = new List<byte[]>();
        long offset = log.LogStartOffset;
        while (offset < log.LogEndOffset)
        {
            using var read = log.Read(offset, 1 << 20, maxOffsetExclusive, minOneBatch: true);
            if (read.OutOfRange || read.Records.IsEmpty) break;
            var span = read.Records.Span;
            int pos = 0;
            while (pos < span.Length && RecordBatchHeader.TryRead(span[pos..], out var h))
            {
                batches.Add(span.Slice(pos, h.TotalSize).ToArray());
                pos += h.TotalSize;
                offset = h.LastOffset + 1;
            }
        }
        return batches;
    }

    /// <summary>The data (non-control) batches' bytes from the magic byte on: what the producer sent, minus the
    /// baseOffset/length/epoch fields the leader stamps.</summary>
    public static List<string> DataPayloads(IPartitionLog log, long maxOffsetExclusive = long.MaxValue)
    {
        var result = new List<string>();
        foreach (byte[] b in ReadAll(log, maxOffsetExclusive))
        {
            RecordBatchHeader.TryRead(b, out var h);
            if (!h.IsControl) result.Add(Convert.ToHexString(b, RecordBatchHeader.MagicOffset, b.Length - RecordBatchHeader.MagicOffset));
        }
        return result;
    }

    public static string Stamped(byte[] batch) =>
        Convert.ToHexString(batch, RecordBatchHeader.MagicOffset, batch.Length - RecordBatchHeader.MagicOffset);

    public void Dispose()
    {
        Ticker.Dispose();
        foreach (int id in _ids) Stop(id);
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
