using System.Buffers.Binary;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Storage;

namespace Broker.Metadata.Tests;

/// <summary>
/// A test IPartitionLog kept in memory: validates appended batches, stamps base offset and leader epoch like the
/// real log, and serves reads that respect maxBytes, maxOffsetExclusive and minOneBatch. Counts outstanding read
/// leases so tests can check that every read result was disposed.
/// </summary>
internal sealed class InMemoryPartitionLog : IPartitionLog
{
    private readonly List<(long BaseOffset, long LastOffset, byte[] Bytes)> _batches = new();
    private readonly object _gate = new();
    private int _openLeases;

    public InMemoryPartitionLog(string topic = "__cluster_metadata", int partition = 0) =>
        Partition = new TopicPartition(topic, partition);

    public TopicPartition Partition { get; }
    public long LogStartOffset => 0;
    public long LogEndOffset { get; private set; }
    public long SizeInBytes { get { lock (_gate) return _batches.Sum(b => (long)b.Bytes.Length); } }
    public LogOptions Options { get; private set; } = new();
    public int OpenLeases => Volatile.Read(ref _openLeases);
    public int ReadCount { get; private set; }
    /// <summary>Caps batches per read, like the real log that reads from one segment at a time.</summary>
    public int MaxBatchesPerRead { get; set; } = int.MaxValue;
    /// <summary>Number of batches appended so far (one per controller commit).</summary>
    public int BatchCount { get { lock (_gate) return _batches.Count; } }

    public AppendInfo Append(ReadOnlySpan<byte> batches, int leaderEpoch, long? logAppendTimeMs = null)
    {
        lock (_gate)
        {
            long first = LogEndOffset;
            int count = 0;
            while (!batches.IsEmpty)
            {
                var error = RecordBatchValidator.ValidateOne(batches, int.MaxValue, out var header);
                if (error != BatchError.None) throw new InvalidDataException($"invalid batch: {error}");
                var copy = batches[..header.TotalSize].ToArray();
                RecordBatchHeader.WriteBaseOffset(copy, LogEndOffset);
                RecordBatchHeader.WritePartitionLeaderEpoch(copy, leaderEpoch);
                _batches.Add((LogEndOffset, LogEndOffset + header.LastOffsetDelta, copy));
                LogEndOffset += header.LastOffsetDelta + 1;
                batches = batches[header.TotalSize..];
                count++;
            }
            return new AppendInfo(first, LogEndOffset - 1, count, logAppendTimeMs ?? -1);
        }
    }

    /// <summary>Appends raw bytes as if a batch were stored (tests of corrupt logs); no validation.</summary>
    public void AppendRaw(byte[] batch, int offsetCount)
    {
        lock (_gate)
        {
            BinaryPrimitives.WriteInt64BigEndian(batch, LogEndOffset);
            _batches.Add((LogEndOffset, LogEndOffset + offsetCount - 1, batch));
            LogEndOffset += offsetCount;
        }
    }

    public LogReadResult Read(long offset, int maxBytes, long maxOffsetExclusive, bool minOneBatch)
    {
        lock (_gate)
        {
            ReadCount++;
            if (offset < LogStartOffset || offset > LogEndOffset) return new LogReadResult(default, null, outOfRange: true);
            var output = new MemoryStream();
            int taken = 0;
            foreach (var (_, last, bytes) in _batches)
            {
                if (last < offset) continue;
                if (last >= maxOffsetExclusive || taken++ >= MaxBatchesPerRead) break;
                if (output.Length + bytes.Length > maxBytes && !(minOneBatch && output.Length == 0)) break;
                output.Write(bytes);
            }
            Interlocked.Increment(ref _openLeases);
            return new LogReadResult(output.ToArray(), new Lease(this));
        }
    }

    public (long Offset, long Timestamp)? FindOffsetByTimestamp(long timestampMs) => null;
    public (long Offset, long Timestamp)? FindMaxTimestamp() => null;

    public void TruncateTo(long offset)
    {
        lock (_gate)
        {
            _batches.RemoveAll(b => b.BaseOffset >= offset);
            LogEndOffset = _batches.Count == 0 ? 0 : _batches[^1].LastOffset + 1;
        }
    }

    public void Flush() { }
    public int ApplyRetention(long nowMs) => 0;
    public void UpdateOptions(LogOptions options) => Options = options;
    public void Dispose() { }

    private sealed class Lease(InMemoryPartitionLog owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref owner._openLeases);
        }
    }
}
