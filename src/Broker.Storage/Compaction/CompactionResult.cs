namespace Broker.Storage.Compaction;

/// <summary>
/// What one log-cleaner pass did: segments rewritten, bytes of the cleaned range before and after, records removed,
/// the offset below which the log is now clean (-1 when the pass cleaned nothing), how long it took and how long it
/// held the log's write lock at most.
/// </summary>
public readonly record struct CompactionResult(
    int SegmentsCleaned,
    int SegmentsRewritten,
    long BytesBefore,
    long BytesAfter,
    long RecordsRemoved,
    long CleanedUpTo,
    TimeSpan Duration)
{
    /// <summary>The longest time one segment swap held the log's write lock (the only time appends wait for the cleaner).</summary>
    public TimeSpan LongestSwap { get; init; }

    public static CompactionResult None => new(0, 0, 0, 0, 0, -1, TimeSpan.Zero);

    /// <summary>True when the pass looked at a cleanable range (even if nothing had to be removed).</summary>
    public bool Ran => SegmentsCleaned > 0;

    public override string ToString() =>
        $"{SegmentsCleaned} segment(s) cleaned up to offset {CleanedUpTo}, {SegmentsRewritten} rewritten, " +
        $"{RecordsRemoved} record(s) removed, {BytesBefore} -> {BytesAfter} bytes in {Duration.TotalMilliseconds:F0} ms" +
        $" (longest swap {LongestSwap.TotalMilliseconds:F1} ms)";
}
