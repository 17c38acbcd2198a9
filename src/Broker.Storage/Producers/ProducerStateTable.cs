using Broker.Core.Model;
using Broker.Core.Records;

namespace Broker.Storage.Producers;

/// <summary>
/// Per-partition idempotent producer state (Kafka's ProducerStateManager without transactions): producer id →
/// <see cref="ProducerEntry"/>. <see cref="Apply"/> records every data batch with a producer id that enters the log
/// (leader appends and replication alike); <see cref="Check"/> is the leader's admission rule for new batches
/// (Kafka's findDuplicateBatch + ProducerAppendInfo.checkProducerEpoch/checkSequence for client appends).
/// Not thread-safe: the owning log calls it under its write lock.
/// </summary>
public sealed class ProducerStateTable
{
    private readonly Dictionary<long, ProducerEntry> _producers = new();

    public int Count => _producers.Count;

    /// <summary>The producers, in no particular order (snapshots, diagnostics).</summary>
    public IEnumerable<ProducerEntry> Entries => _producers.Values;

    public ProducerEntry? Get(long producerId) => _producers.GetValueOrDefault(producerId);

    /// <summary>True for batches that carry producer state: a producer id and not a control batch.</summary>
    public static bool Tracks(in RecordBatchHeader header) => header.ProducerId >= 0 && !header.IsControl;

    /// <summary>Last sequence of a batch: base sequence + last offset delta, wrapping from Int32.MaxValue to 0.</summary>
    public static int LastSequence(int baseSequence, int lastOffsetDelta)
    {
        long last = (long)baseSequence + lastOffsetDelta;
        return last > int.MaxValue ? (int)(last - int.MaxValue - 1) : (int)last;
    }

    /// <summary>True when <paramref name="next"/> directly follows <paramref name="last"/> (Int32.MaxValue → 0).</summary>
    public static bool InSequence(int last, int next) => next == last + 1L || (next == 0 && last == int.MaxValue);

    /// <summary>
    /// Checks whole, framed batches (as given to the log's Append) in order, as if each earlier one had been
    /// appended: a duplicate of one of a producer's kept batches (same epoch and sequence range) ends the check with
    /// that batch's offsets; an epoch below the producer's current one is INVALID_PRODUCER_EPOCH; a new epoch must
    /// start at sequence 0 and the same epoch must continue the last sequence, else OUT_OF_ORDER_SEQUENCE_NUMBER.
    /// A producer without state may start anywhere (its state may have expired or its data been removed).
    /// Badly framed input ends the check (the append rejects it).
    /// </summary>
    public ProducerAppendCheck Check(ReadOnlySpan<byte> batches)
    {
        int pos = 0;
        while (TryReadFramed(batches, pos, out var header))
        {
            if (Tracks(header))
            {
                var entry = Get(header.ProducerId);
                int firstSeq = header.BaseSequence;
                int lastSeq = LastSequence(firstSeq, header.LastOffsetDelta);
                if (entry is not null && entry.TryFindBatch(header.ProducerEpoch, firstSeq, lastSeq, out var original))
                    return ProducerAppendCheck.Duplicate(original);
                bool known = entry is not null;
                short epoch = entry?.Epoch ?? -1;
                int currentLast = entry is { BatchCount: > 0 } ? entry.LastBatch.LastSequence : -1;
                // An earlier batch of this call from the same producer is what the state will be by then.
                if (FindEarlier(batches, pos, header.ProducerId, out var earlier))
                {
                    known = true;
                    epoch = earlier.ProducerEpoch;
                    currentLast = LastSequence(earlier.BaseSequence, earlier.LastOffsetDelta);
                }
                var refusal = Validate(header, firstSeq, known, epoch, currentLast);
                if (!refusal.IsAccepted) return refusal;
            }
            pos += header.TotalSize;
        }
        return ProducerAppendCheck.Accepted;
    }

    private static ProducerAppendCheck Validate(in RecordBatchHeader header, int firstSeq, bool known, short epoch, int currentLast)
    {
        if (!known) return ProducerAppendCheck.Accepted;
        if (header.ProducerEpoch < epoch)
            return ProducerAppendCheck.Refused(ErrorCode.InvalidProducerEpoch,
                $"epoch {header.ProducerEpoch} of producer {header.ProducerId} is older than its current epoch {epoch}");
        if (header.ProducerEpoch > epoch)
        {
            // A bumped epoch restarts the sequence (unless the producer had no epoch yet).
            if (firstSeq != 0 && epoch >= 0)
                return ProducerAppendCheck.Refused(ErrorCode.OutOfOrderSequenceNumber,
                    $"producer {header.ProducerId} started epoch {header.ProducerEpoch} at sequence {firstSeq}, expected 0");
            return ProducerAppendCheck.Accepted;
        }
        if (epoch >= 0 && !InSequence(currentLast, firstSeq))
            return ProducerAppendCheck.Refused(ErrorCode.OutOfOrderSequenceNumber,
                $"out of order sequence for producer {header.ProducerId} epoch {epoch}: got {firstSeq}, expected {(currentLast == int.MaxValue ? 0 : currentLast + 1L)}");
        return ProducerAppendCheck.Accepted;
    }

    /// <summary>The last batch before <paramref name="end"/> in <paramref name="batches"/> with this producer id.</summary>
    private static bool FindEarlier(ReadOnlySpan<byte> batches, int end, long producerId, out RecordBatchHeader found)
    {
        found = default;
        bool any = false;
        int pos = 0;
        while (pos < end && TryReadFramed(batches, pos, out var header))
        {
            if (Tracks(header) && header.ProducerId == producerId)
            {
                found = header;
                any = true;
            }
            pos += header.TotalSize;
        }
        return any;
    }

    /// <summary>The header of a whole batch at <paramref name="pos"/>; false at the end or on bad framing (the
    /// append that follows rejects such input).</summary>
    private static bool TryReadFramed(ReadOnlySpan<byte> batches, int pos, out RecordBatchHeader header) =>
        RecordBatchHeader.TryRead(batches[pos..], out header)
        && header.BatchLength >= RecordBatchHeader.Size - RecordBatchHeader.LogOverhead
        && header.TotalSize <= batches.Length - pos;

    /// <summary>
    /// Records a batch that entered the log at [<paramref name="firstOffset"/>, <paramref name="lastOffset"/>] with
    /// stored max timestamp <paramref name="maxTimestamp"/>. Batches without producer state are ignored. No checks:
    /// replicated and recovered batches were accepted by a leader.
    /// </summary>
    public void Apply(in RecordBatchHeader header, long firstOffset, long lastOffset, long maxTimestamp)
    {
        if (!Tracks(header)) return;
        if (!_producers.TryGetValue(header.ProducerId, out var entry))
        {
            entry = new ProducerEntry(header.ProducerId, header.ProducerEpoch);
            _producers.Add(header.ProducerId, entry);
        }
        entry.Add(header.ProducerEpoch, new ProducerBatch(header.BaseSequence,
            LastSequence(header.BaseSequence, header.LastOffsetDelta), firstOffset, lastOffset, maxTimestamp));
    }

    /// <summary>Adds a producer read from a snapshot (replacing any entry with the same id).</summary>
    internal void Restore(long producerId, short epoch, long lastTimestamp, ReadOnlySpan<ProducerBatch> batches)
    {
        var entry = new ProducerEntry(producerId, epoch);
        entry.Restore(lastTimestamp, batches);
        _producers[producerId] = entry;
    }

    /// <summary>
    /// Forgets producers whose latest batch's timestamp is <paramref name="expirationMs"/> or more before
    /// <paramref name="nowMs"/> (producer.id.expiration.ms); returns how many.
    /// </summary>
    public int RemoveExpired(long nowMs, long expirationMs)
    {
        int removed = 0;
        foreach (var entry in _producers.Values)
        {
            if (nowMs - entry.LastTimestamp < expirationMs) continue;
            _producers.Remove(entry.ProducerId); // allowed while enumerating Values since .NET Core 3.0
            removed++;
        }
        return removed;
    }

    public void Clear() => _producers.Clear();
}
