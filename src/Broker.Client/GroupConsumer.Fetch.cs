using Broker.Core.Model;

namespace Broker.Client;

// Fetching the assigned partitions: positions from the committed offsets (else AutoOffsetReset through ListOffsets),
// one fetch in flight per partition (FetchAsync to its leader; all partitions at once), records buffered per
// partition and handed out up to maxBytes per poll. In-flight fetches and lookups survive a poll that returns:
// the next poll collects them.
public sealed partial class GroupConsumer
{
    /// <summary>Longest broker-side wait of one fetch: the broker answers a connection's requests in order, so a
    /// long wait on one partition would hold up the answers of the others.</summary>
    private static readonly TimeSpan MaxFetchWait = TimeSpan.FromMilliseconds(300);
    /// <summary>How often a waiting poll looks at the membership (a rebalance asked for by a heartbeat).</summary>
    private static readonly TimeSpan PollSlice = TimeSpan.FromMilliseconds(200);
    /// <summary>A poll with no time left still waits this long for answers to fetches it just sent (maxWait 0).</summary>
    private static readonly TimeSpan ZeroTimeoutGrace = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FetchErrorBackoff = TimeSpan.FromMilliseconds(250);

    private Dictionary<TopicPartition, PartitionState> _partitions = new();
    private CancellationTokenSource _fetchCancel = new();
    private Task<Dictionary<TopicPartition, long>>? _positionLookup;
    private DateTime _positionRetryAt;
    private int _drainStart;

    /// <summary>One assigned partition: what was handed out, where fetching continues, what is buffered in between.</summary>
    private sealed class PartitionState(TopicPartition partition)
    {
        public TopicPartition Partition { get; } = partition;
        /// <summary>The next offset to hand to the caller (what a commit stores); -1 until known.</summary>
        public long Position { get; private set; } = -1;
        /// <summary>Where the next fetch starts (past everything buffered).</summary>
        public long FetchOffset { get; private set; } = -1;
        /// <summary>The position is out of range: look it up with AutoOffsetReset, not the committed offset.</summary>
        public bool NeedsReset { get; private set; }
        public Queue<ConsumedRecord> Buffered { get; } = new();
        public Task<FetchResult>? InFlight { get; set; }
        public long InFlightOffset { get; set; }
        public DateTime RetryAt { get; set; }

        public void Reset(long offset)
        {
            Buffered.Clear();
            InFlight = null;
            NeedsReset = false;
            Position = FetchOffset = offset;
        }

        public void MarkOutOfRange()
        {
            Buffered.Clear();
            InFlight = null;
            NeedsReset = true;
            Position = FetchOffset = -1;
        }

        /// <summary>Buffers a fetch answer's records from <see cref="FetchOffset"/> on and moves the fetch offset past them.</summary>
        public void Accept(FetchResult result)
        {
            long next = FetchOffset;
            foreach (var r in result.Records)
            {
                if (r.Offset < next) continue;
                Buffered.Enqueue(r);
                next = r.Offset + 1;
            }
            if (result.NextOffset > next) next = result.NextOffset;
            FetchOffset = next;
            SyncPosition();
        }

        public ConsumedRecord Take()
        {
            var r = Buffered.Dequeue();
            SyncPosition();
            return r;
        }

        /// <summary>The position is the first buffered record, or (nothing buffered) where fetching continues.</summary>
        private void SyncPosition() => Position = Buffered.Count > 0 ? Buffered.Peek().Offset : FetchOffset;
    }

    /// <summary>Gives up the assignment before a rebalance: in-flight fetches and lookups are dropped, buffered records
    /// discarded; positions stay (a partition kept in the next generation continues from them).</summary>
    private void RevokeAll()
    {
        _fetchCancel.Cancel();
        _fetchCancel = new CancellationTokenSource();
        _positionLookup = null;
        foreach (var state in _partitions.Values)
            if (state.Position >= 0) state.Reset(state.Position);
        _assignment = Array.Empty<TopicPartition>();
    }

    /// <summary>The positions to commit: every partition with a known position (the retained ones during a rebalance).</summary>
    private List<TopicPartitionOffset> CurrentPositions()
    {
        var list = new List<TopicPartitionOffset>(_partitions.Count);
        foreach (var s in _partitions.Values)
            if (s.Position >= 0) list.Add(new TopicPartitionOffset(s.Partition.Topic, s.Partition.Partition, s.Position));
        return list;
    }

    private bool RejoinRequested()
    {
        lock (_stateLock) return _rejoinNeeded || _fatal is not null;
    }

    /// <summary>
    /// Returns records as soon as any partition has some (at most about <paramref name="maxBytes"/>), or nothing at
    /// the deadline or when the group needs a rejoin.
    /// </summary>
    private async Task<List<ConsumedRecord>> FetchRecordsAsync(DateTime deadline, int maxBytes, CancellationToken cancellationToken)
    {
        var records = new List<ConsumedRecord>();
        bool lastRound = false;
        while (true)
        {
            CollectPositions();
            CollectFetches();
            Drain(records, maxBytes);
            if (records.Count > 0 || lastRound || RejoinRequested()) return records;

            var now = DateTime.UtcNow;
            var remaining = deadline - now;
            StartPositionLookup(now);
            StartFetches(now, remaining, maxBytes);
            TimeSpan wait = remaining < PollSlice ? remaining : PollSlice;
            if (remaining <= TimeSpan.Zero)
            {
                lastRound = true;
                wait = ZeroTimeoutGrace;
            }
            await WaitForProgressAsync(wait, lastRound, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WaitForProgressAsync(TimeSpan wait, bool onlyIfPending, CancellationToken cancellationToken)
    {
        var pending = new List<Task>(_partitions.Count + 1);
        foreach (var s in _partitions.Values)
            if (s.InFlight is not null) pending.Add(s.InFlight);
        if (_positionLookup is not null) pending.Add(_positionLookup);
        if (pending.Count == 0)
        {
            if (!onlyIfPending) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            return;
        }
        try
        {
            await Task.WhenAny(pending).WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    private void StartFetches(DateTime now, TimeSpan remaining, int maxBytes)
    {
        var maxWait = remaining <= TimeSpan.Zero ? TimeSpan.Zero : remaining < MaxFetchWait ? remaining : MaxFetchWait;
        var token = _fetchCancel.Token;
        foreach (var s in _partitions.Values)
        {
            if (s.Position < 0 || s.Buffered.Count > 0 || s.InFlight is not null || s.RetryAt > now) continue;
            s.InFlightOffset = s.FetchOffset;
            s.InFlight = _client.FetchAsync(s.Partition.Topic, s.Partition.Partition, s.FetchOffset, maxBytes, maxWait, token);
        }
    }

    private void CollectFetches()
    {
        var now = DateTime.UtcNow;
        foreach (var s in _partitions.Values)
        {
            if (s.InFlight is not { IsCompleted: true } done) continue;
            s.InFlight = null;
            if (done.IsCanceled) continue;
            if (done.IsFaulted)
            {
                Logger.Debug($"{Who}: fetch of {s.Partition} failed: {done.Exception?.GetBaseException().Message}");
                s.RetryAt = now + FetchErrorBackoff;
                continue;
            }
            var result = done.Result;
            if (s.FetchOffset != s.InFlightOffset) continue;
            switch (result.Error)
            {
                case ErrorCode.None:
                    s.Accept(result);
                    break;
                case ErrorCode.OffsetOutOfRange:
                    Logger.Info($"{Who}: offset {s.FetchOffset} of {s.Partition} is out of range; resetting to the " +
                        (_resetToEarliest ? "earliest" : "latest"));
                    s.MarkOutOfRange();
                    break;
                default:
                    Logger.Debug($"{Who}: fetch of {s.Partition} at {s.FetchOffset}: {result.Error}");
                    s.RetryAt = now + FetchErrorBackoff;
                    break;
            }
        }
    }

    /// <summary>Hands out buffered records, partitions in turn (starting one further each poll), up to about maxBytes.</summary>
    private void Drain(List<ConsumedRecord> records, int maxBytes)
    {
        if (_partitions.Count == 0) return;
        var states = new List<PartitionState>(_partitions.Values);
        long bytes = 0;
        int start = _drainStart++ % states.Count;
        for (int i = 0; i < states.Count; i++)
        {
            var s = states[(start + i) % states.Count];
            while (s.Buffered.Count > 0 && (records.Count == 0 || bytes < maxBytes))
            {
                var r = s.Take();
                bytes += (r.Key?.Length ?? 0) + (r.Value?.Length ?? 0);
                records.Add(r);
            }
            if (bytes >= maxBytes) return;
        }
    }

    private void StartPositionLookup(DateTime now)
    {
        if (_positionLookup is not null || now < _positionRetryAt) return;
        var fromCommitted = new List<TopicPartition>();
        var reset = new List<TopicPartition>();
        foreach (var s in _partitions.Values)
        {
            if (s.Position >= 0) continue;
            (s.NeedsReset ? reset : fromCommitted).Add(s.Partition);
        }
        if (fromCommitted.Count + reset.Count > 0) _positionLookup = LookUpPositionsAsync(fromCommitted, reset, _fetchCancel.Token);
    }

    private void CollectPositions()
    {
        if (_positionLookup is not { IsCompleted: true } done) return;
        _positionLookup = null;
        if (!done.IsCompletedSuccessfully)
        {
            if (!done.IsCanceled)
                Logger.Debug($"{Who}: looking up start positions failed: {done.Exception?.GetBaseException().Message}");
            _positionRetryAt = DateTime.UtcNow + FetchErrorBackoff;
            return;
        }
        foreach (var (tp, offset) in done.Result)
            if (_partitions.TryGetValue(tp, out var s) && s.Position < 0) s.Reset(offset);
    }

    /// <summary>Committed offsets for <paramref name="fromCommitted"/>; AutoOffsetReset (ListOffsets) for those without one and for <paramref name="reset"/>.</summary>
    private async Task<Dictionary<TopicPartition, long>> LookUpPositionsAsync(List<TopicPartition> fromCommitted, List<TopicPartition> reset,
        CancellationToken cancellationToken)
    {
        var positions = new Dictionary<TopicPartition, long>();
        if (fromCommitted.Count > 0)
        {
            var committed = await _client.FetchCommittedOffsetsAsync(GroupId, fromCommitted, cancellationToken).ConfigureAwait(false);
            foreach (var c in committed)
            {
                if (c.Error != ErrorCode.None)
                    throw new KafkaException(c.Error, $"committed offset of {c.Topic}-{c.Partition}: {c.Error}");
                if (c.Offset >= 0) positions[new TopicPartition(c.Topic, c.Partition)] = c.Offset;
            }
            foreach (var tp in fromCommitted)
                if (!positions.ContainsKey(tp)) reset.Add(tp);
        }
        long timestamp = _resetToEarliest ? -2 : -1;
        var lookups = new Task<long>[reset.Count];
        for (int i = 0; i < reset.Count; i++)
            lookups[i] = _client.ListOffsetAsync(reset[i].Topic, reset[i].Partition, timestamp, cancellationToken);
        var offsets = await Task.WhenAll(lookups).ConfigureAwait(false);
        for (int i = 0; i < reset.Count; i++)
            if (offsets[i] >= 0) positions[reset[i]] = offsets[i];
        return positions;
    }
}
