using Broker.Core.Diagnostics;

namespace Broker.Consensus.Raft;

/// <summary>
/// The one clock of all Raft groups on a node: a single <see cref="Timer"/> that calls <see cref="RaftReplicatedLog.Tick"/>
/// on every registered group each <see cref="Interval"/>. A tick that is still running when the next one is due is
/// skipped rather than overlapped. Group failures are logged and do not stop the other groups. Quiet groups (a sole
/// voter that leads, <see cref="RaftReplicatedLog.IsQuiet"/>) are ticked once every <see cref="QuietTickDivisor"/>
/// rounds, a different tenth of them each round: their timers (commit hint persistence) stretch accordingly, and
/// a node with 10,000 single-replica partitions spends a tenth of the CPU on ticks.
/// </summary>
public sealed class RaftTicker : IDisposable
{
    private static readonly Logger Logger = Log.For("raft");

    /// <summary>Quiet groups are ticked every this many rounds.</summary>
    public const int QuietTickDivisor = 10;

    private readonly object _lock = new();
    private readonly Timer _timer;
    // Registration is O(1) (a list with swap-removal and an index map); the ticking thread takes an array snapshot
    // at the start of a round, rebuilt only after a change, so creating thousands of groups stays linear.
    private readonly List<RaftReplicatedLog> _members = new();
    private readonly Dictionary<RaftReplicatedLog, int> _indexOf = new();
    private RaftReplicatedLog[] _snapshot = [];
    private bool _changed;
    private int _running;
    private long _round;
    private bool _disposed;

    public RaftTicker(TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval), "the tick interval must be positive");
        Interval = interval;
        _timer = new Timer(static state => ((RaftTicker)state!).OnTimer(), this, interval, interval);
    }

    public TimeSpan Interval { get; }

    public int GroupCount
    {
        get
        {
            lock (_lock) return _members.Count;
        }
    }

    public void Register(RaftReplicatedLog group)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_indexOf.TryAdd(group, _members.Count)) return;
            _members.Add(group);
            _changed = true;
        }
    }

    public void Unregister(RaftReplicatedLog group)
    {
        lock (_lock)
        {
            if (!_indexOf.Remove(group, out int i)) return;
            int last = _members.Count - 1;
            if (i != last)
            {
                var moved = _members[last];
                _members[i] = moved;
                _indexOf[moved] = i;
            }
            _members.RemoveAt(last);
            _changed = true;
        }
    }

    private RaftReplicatedLog[] Snapshot()
    {
        lock (_lock)
        {
            if (_changed)
            {
                _snapshot = _members.ToArray();
                _changed = false;
            }
            return _snapshot;
        }
    }

    private void OnTimer()
    {
        if (Interlocked.Exchange(ref _running, 1) == 1) return;
        try
        {
            var groups = Snapshot();
            int slot = (int)(_round++ % QuietTickDivisor);
            for (int i = 0; i < groups.Length; i++)
            {
                var group = groups[i];
                if (group.IsQuiet && i % QuietTickDivisor != slot) continue;
                try
                {
                    group.Tick();
                }
                catch (Exception ex)
                {
                    Logger.Error($"{group.Partition}: raft tick failed", ex);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _members.Clear();
            _indexOf.Clear();
            _snapshot = [];
            _changed = false;
        }
        _timer.Dispose();
    }
}
