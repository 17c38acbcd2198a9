using Broker.Core.Diagnostics;

namespace Broker.Consensus.Raft;

/// <summary>
/// The one clock of all Raft groups on a node: a single <see cref="Timer"/> that calls <see cref="RaftReplicatedLog.Tick"/>
/// on every registered group each <see cref="Interval"/>. A tick that is still running when the next one is due is
/// skipped rather than overlapped. Group failures are logged and do not stop the other groups.
/// </summary>
public sealed class RaftTicker : IDisposable
{
    private static readonly Logger Logger = Log.For("raft");

    private readonly object _lock = new();
    private readonly Timer _timer;
    private RaftReplicatedLog[] _groups = [];
    private int _running;
    private bool _disposed;

    public RaftTicker(TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval), "the tick interval must be positive");
        Interval = interval;
        _timer = new Timer(static state => ((RaftTicker)state!).OnTimer(), this, interval, interval);
    }

    public TimeSpan Interval { get; }
    public int GroupCount => Volatile.Read(ref _groups).Length;

    public void Register(RaftReplicatedLog group)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Array.IndexOf(_groups, group) >= 0) return;
            var grown = new RaftReplicatedLog[_groups.Length + 1];
            _groups.CopyTo(grown, 0);
            grown[^1] = group;
            Volatile.Write(ref _groups, grown);
        }
    }

    public void Unregister(RaftReplicatedLog group)
    {
        lock (_lock)
        {
            int i = Array.IndexOf(_groups, group);
            if (i < 0) return;
            var shrunk = new RaftReplicatedLog[_groups.Length - 1];
            Array.Copy(_groups, 0, shrunk, 0, i);
            Array.Copy(_groups, i + 1, shrunk, i, _groups.Length - i - 1);
            Volatile.Write(ref _groups, shrunk);
        }
    }

    private void OnTimer()
    {
        if (Interlocked.Exchange(ref _running, 1) == 1) return;
        try
        {
            foreach (RaftReplicatedLog group in Volatile.Read(ref _groups))
            {
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
            _groups = [];
        }
        _timer.Dispose();
    }
}
