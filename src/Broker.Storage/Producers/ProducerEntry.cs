namespace Broker.Storage.Producers;

/// <summary>One batch an idempotent producer wrote: its sequence range and where it landed in the log.</summary>
public readonly record struct ProducerBatch(int FirstSequence, int LastSequence, long FirstOffset, long LastOffset, long MaxTimestamp);

/// <summary>A copy of one producer's state: epoch, latest batch time and its last batches (oldest first).</summary>
public sealed record ProducerInfo(long ProducerId, short Epoch, long LastTimestamp, IReadOnlyList<ProducerBatch> Batches);

/// <summary>
/// What a partition remembers about one producer id (Kafka's ProducerStateEntry): the epoch of its latest batch,
/// that batch's max timestamp (for expiry) and its last <see cref="MaxBatches"/> batches of that epoch, oldest first,
/// in a fixed ring so updates do not allocate. Mutated only by <see cref="ProducerStateTable"/> under its owner's lock.
/// </summary>
public sealed class ProducerEntry
{
    /// <summary>Batches kept per producer (Kafka's NUM_BATCHES_TO_RETAIN: clients have at most 5 in flight).</summary>
    public const int MaxBatches = 5;

    private readonly ProducerBatch[] _batches = new ProducerBatch[MaxBatches];
    private int _first;
    private int _count;

    internal ProducerEntry(long producerId, short epoch)
    {
        ProducerId = producerId;
        Epoch = epoch;
    }

    public long ProducerId { get; }
    public short Epoch { get; private set; }
    /// <summary>Max timestamp of the latest batch (the producer is expired when it is too old).</summary>
    public long LastTimestamp { get; private set; } = -1;
    public int BatchCount => _count;

    /// <summary>The <paramref name="index"/>-th kept batch, oldest first.</summary>
    public ProducerBatch Batch(int index)
    {
        if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
        return _batches[(_first + index) % MaxBatches];
    }

    /// <summary>The latest batch (the entry always has one once created by the table).</summary>
    public ProducerBatch LastBatch => Batch(_count - 1);

    /// <summary>The kept batch of epoch <paramref name="epoch"/> with exactly this sequence range, if any.</summary>
    public bool TryFindBatch(short epoch, int firstSequence, int lastSequence, out ProducerBatch batch)
    {
        if (epoch == Epoch)
        {
            for (int i = 0; i < _count; i++)
            {
                batch = _batches[(_first + i) % MaxBatches];
                if (batch.FirstSequence == firstSequence && batch.LastSequence == lastSequence) return true;
            }
        }
        batch = default;
        return false;
    }

    /// <summary>Records a batch that entered the log. A new epoch forgets the previous epoch's batches.</summary>
    internal void Add(short epoch, in ProducerBatch batch)
    {
        if (epoch != Epoch)
        {
            Epoch = epoch;
            _first = 0;
            _count = 0;
        }
        if (_count == MaxBatches)
        {
            _first = (_first + 1) % MaxBatches;
            _count--;
        }
        _batches[(_first + _count) % MaxBatches] = batch;
        _count++;
        LastTimestamp = batch.MaxTimestamp;
    }

    /// <summary>Restores an entry read from a snapshot (batches oldest first).</summary>
    internal void Restore(long lastTimestamp, ReadOnlySpan<ProducerBatch> batches)
    {
        _first = 0;
        _count = 0;
        foreach (var b in batches) Add(Epoch, b);
        LastTimestamp = lastTimestamp;
    }

    public override string ToString() =>
        _count == 0 ? $"producer {ProducerId} epoch {Epoch}"
            : $"producer {ProducerId} epoch {Epoch} last seq {LastBatch.LastSequence} at offset {LastBatch.LastOffset}";
}
