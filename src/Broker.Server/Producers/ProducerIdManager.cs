using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Controller;

namespace Broker.Server.Producers;

/// <summary>Outcome of asking for a producer id: the id, or COORDINATOR_LOAD_IN_PROGRESS while no block is available.</summary>
public readonly record struct ProducerIdResult(ErrorCode Error, long ProducerId)
{
    public bool IsSuccess => Error == ErrorCode.None;
}

/// <summary>
/// Hands out producer ids on a broker (Kafka's RPC producer id manager): ids come from blocks the active controller
/// allocates (<see cref="IProducerIdAllocator"/>; the controller sizes them, 1000 by default) and are handed out in
/// order, each exactly once, from any number of threads (one lock around a few fields).
/// * Prefetch: when <see cref="PrefetchRatio"/> (90%) of the current block has been handed out, the next block is
///   fetched in the background, so a busy broker normally never waits.
/// * Fetching: one fetch at a time, a round of at most <c>maxAttempts</c> allocator calls with a doubling backoff
///   (an error answer or an exception is a failed attempt; so is an unregistered broker, epoch -1, which is not
///   even asked). A round that fails ends; the next request for an id starts a new round.
/// * A block that overlaps ids this manager already received, or is empty, is refused (logged as an error) and
///   counts as a failed attempt: handing out an id twice would merge two producers' sequence state.
/// * Without an id at hand, <see cref="NextProducerIdAsync"/> waits (bounded) for the fetch in flight and answers
///   COORDINATOR_LOAD_IN_PROGRESS when none arrives: librdkafka retries every InitProducerId error except a few
///   fatal ones after 500 ms, and the Java client and kafkajs retry it as a retriable error.
/// </summary>
public sealed class ProducerIdManager : IAsyncDisposable
{
    /// <summary>Ids per block (Kafka's controller hands out blocks of 1000).</summary>
    public const int DefaultBlockSize = 1000;

    /// <summary>Share of a block handed out before the next block is fetched.</summary>
    public const double PrefetchRatio = 0.9;

    private readonly IProducerIdAllocator _allocator;
    private readonly Func<int> _brokerId;
    private readonly Func<long> _brokerEpoch;
    private readonly int _maxAttempts;
    private readonly TimeSpan _retryBackoff;
    private readonly TimeSpan _maxRetryBackoff;
    private readonly Logger _logger;
    private readonly CancellationTokenSource _stop;
    private readonly object _lock = new();
    // Guarded by _lock.
    private long _next;            // next id of the current block
    private long _end;             // exclusive end of the current block
    private long _prefetchAt;      // start the next fetch once _next reaches this
    private ProducerIdBlock? _pending; // the prefetched next block
    private long _highestEnd;      // exclusive end of the highest block ever accepted (overlap check)
    private Task<bool>? _fetch;    // the fetch round in flight (result: a block arrived)
    private long _blocksFetched;
    private bool _disposed;

    /// <param name="allocator">Where blocks come from (the active controller).</param>
    /// <param name="brokerId">This broker's id.</param>
    /// <param name="brokerEpoch">This broker's registration epoch; -1 while unregistered (nothing is fetched).</param>
    /// <param name="maxAttempts">Allocator calls per fetch round (default 8).</param>
    /// <param name="retryBackoff">Pause after the first failed attempt, doubled after each (default 100 ms).</param>
    /// <param name="maxRetryBackoff">Cap of that pause (default 1 s).</param>
    /// <param name="stopping">Stops fetching when cancelled (node shutdown), like <see cref="DisposeAsync"/>.</param>
    public ProducerIdManager(
        IProducerIdAllocator allocator,
        Func<int> brokerId,
        Func<long> brokerEpoch,
        int maxAttempts = 8,
        TimeSpan? retryBackoff = null,
        TimeSpan? maxRetryBackoff = null,
        CancellationToken stopping = default,
        Logger? logger = null)
    {
        _allocator = allocator ?? throw new ArgumentNullException(nameof(allocator));
        _brokerId = brokerId ?? throw new ArgumentNullException(nameof(brokerId));
        _brokerEpoch = brokerEpoch ?? throw new ArgumentNullException(nameof(brokerEpoch));
        if (maxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(maxAttempts));
        _maxAttempts = maxAttempts;
        _retryBackoff = retryBackoff ?? TimeSpan.FromMilliseconds(100);
        _maxRetryBackoff = maxRetryBackoff ?? TimeSpan.FromSeconds(1);
        if (_retryBackoff < TimeSpan.Zero || _maxRetryBackoff < _retryBackoff) throw new ArgumentOutOfRangeException(nameof(retryBackoff));
        _logger = logger ?? Log.For("producer-ids");
        _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
    }

    /// <summary>Blocks accepted so far (diagnostics and tests).</summary>
    public long BlocksFetched { get { lock (_lock) return _blocksFetched; } }

    /// <summary>Ids left in the current block plus the prefetched one (diagnostics and tests).</summary>
    public long Available
    {
        get { lock (_lock) return (_end - _next) + (_pending?.Size ?? 0); }
    }

    /// <summary>The next id when one is at hand (starting a fetch when due); false when none is.</summary>
    public bool TryNextProducerId(out long producerId)
    {
        lock (_lock)
        {
            bool got = TryTakeLocked(out producerId);
            if (!got) EnsureFetchLocked();
            return got;
        }
    }

    /// <summary>
    /// The next id; without one at hand, waits up to <paramref name="maxWait"/> for a block to arrive, then answers
    /// COORDINATOR_LOAD_IN_PROGRESS (also at once when the fetch round failed).
    /// </summary>
    public async ValueTask<ProducerIdResult> NextProducerIdAsync(TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        long deadline = Environment.TickCount64 + (long)Math.Max(0, maxWait.TotalMilliseconds);
        while (true)
        {
            Task<bool>? fetch;
            lock (_lock)
            {
                if (TryTakeLocked(out long id)) return new ProducerIdResult(ErrorCode.None, id);
                fetch = EnsureFetchLocked();
            }
            long remaining = deadline - Environment.TickCount64;
            if (fetch is null || remaining <= 0) return Unavailable;
            try
            {
                if (!await fetch.WaitAsync(TimeSpan.FromMilliseconds(remaining), cancellationToken).ConfigureAwait(false))
                    return Unavailable;
            }
            catch (TimeoutException) { return Unavailable; }
            catch (OperationCanceledException) { return Unavailable; }
        }
    }

    private static ProducerIdResult Unavailable => new(ErrorCode.CoordinatorLoadInProgress, -1);

    private bool TryTakeLocked(out long producerId)
    {
        if (_next >= _end && _pending is { } pending)
        {
            InstallLocked(pending);
            _pending = null;
        }
        if (_next < _end)
        {
            producerId = _next++;
            if (_next >= _prefetchAt && _pending is null) EnsureFetchLocked();
            return true;
        }
        producerId = -1;
        return false;
    }

    private void InstallLocked(ProducerIdBlock block)
    {
        _next = block.FirstProducerId;
        _end = block.FirstProducerId + block.Size;
        _prefetchAt = block.FirstProducerId + (long)(block.Size * PrefetchRatio);
    }

    /// <summary>Starts a fetch round unless one is in flight; returns the round in flight (null once disposed).</summary>
    private Task<bool>? EnsureFetchLocked()
    {
        if (_disposed) return null;
        if (_fetch is { IsCompleted: false }) return _fetch;
        var token = _stop.Token;
        _fetch = Task.Run(() => FetchRoundAsync(token));
        return _fetch;
    }

    private async Task<bool> FetchRoundAsync(CancellationToken cancellationToken)
    {
        string? lastProblem = null;
        var backoff = _retryBackoff;
        for (int attempt = 1; attempt <= _maxAttempts && !cancellationToken.IsCancellationRequested; attempt++)
        {
            if (attempt > 1)
            {
                try { await Task.Delay(backoff, cancellationToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return false; }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _maxRetryBackoff.Ticks));
            }
            ProducerIdBlock block;
            try
            {
                long epoch = _brokerEpoch();
                if (epoch < 0)
                {
                    lastProblem = "this broker is not registered with the controller yet";
                    continue;
                }
                block = await _allocator.AllocateAsync(_brokerId(), epoch, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return false; }
            catch (Exception ex)
            {
                lastProblem = $"{ex.GetType().Name}: {ex.Message}";
                continue;
            }
            if (block.Error != ErrorCode.None)
            {
                lastProblem = $"the controller answered {block.Error}";
                continue;
            }
            if (Accept(block, out lastProblem)) return true;
        }
        if (!cancellationToken.IsCancellationRequested)
            _logger.Warn($"no producer id block after {_maxAttempts} attempts ({lastProblem}); InitProducerId answers " +
                         "COORDINATOR_LOAD_IN_PROGRESS until one arrives");
        return false;
    }

    private bool Accept(ProducerIdBlock block, out string? problem)
    {
        lock (_lock)
        {
            if (block.Size <= 0 || block.FirstProducerId < 0 || block.FirstProducerId > long.MaxValue - block.Size)
                problem = $"invalid block (start {block.FirstProducerId}, size {block.Size})";
            else if (block.FirstProducerId < _highestEnd)
                problem = $"block [{block.FirstProducerId}, {block.FirstProducerId + block.Size}) overlaps ids already received (below {_highestEnd})";
            else
                problem = null;
            if (problem is not null)
            {
                _logger.Error($"refused a producer id block: {problem}");
                return false;
            }
            _highestEnd = block.FirstProducerId + block.Size;
            _blocksFetched++;
            if (_next >= _end) InstallLocked(block);
            else _pending = block;
        }
        _logger.Info($"producer id block [{block.FirstProducerId}, {block.FirstProducerId + block.Size}) received");
        return true;
    }

    /// <summary>Stops fetching and waits for the round in flight to end.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? fetch;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            fetch = _fetch;
        }
        _stop.Cancel();
        if (fetch is not null)
        {
            try { await fetch.ConfigureAwait(false); }
            catch (Exception ex) { _logger.Error("a producer id fetch ended with an error", ex); }
        }
        _stop.Dispose();
    }
}
