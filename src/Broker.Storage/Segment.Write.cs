using System.Buffers.Binary;
using Broker.Core.Hashing;
using Broker.Core.Records;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>Writer side of a segment: appends, growth of the sparse file and its mapping, truncation, indexing.</summary>
internal sealed partial class Segment
{
    /// <summary>First physical size of an active file; it then doubles up to segment.bytes.</summary>
    private const int InitialCapacity = 1 << 20;
    private const int CapacityAlignment = 64 * 1024;
    private static readonly byte[] Zeros = new byte[64 * 1024];

    /// <summary>
    /// Writes whole batches (already checked by the caller) at the end of the segment with consecutive offsets
    /// from <paramref name="firstOffset"/>, stamping base offset and leader epoch, and the LogAppendTime when given
    /// (attribute bit + max timestamp + new CRC). Data goes out with pwrite into the page cache (it survives a kill
    /// of the process); the new size is published only after every byte is written. A write that fails (ENOSPC, EIO)
    /// leaves the segment exactly as it was: size and next offset unpublished, index entries and timestamps rolled
    /// back, and the file cut back to its last whole batch so no partial batch survives a restart either.
    /// </summary>
    public void Append(ReadOnlySpan<byte> batches, long firstOffset, int leaderEpoch, long? logAppendTimeMs,
        long segmentBytes, int indexInterval)
    {
        var handle = EnsureWriter();
        int start = _size;
        long end = (long)start + batches.Length;
        if (end > int.MaxValue) throw new InvalidOperationException($"{this}: append would pass 2 GiB");
        int offsetEntries = OffsetIndex.Count, timeEntries = TimeIndex.Count, bytesSinceIndexEntry = _bytesSinceIndexEntry;
        long maxTimestamp = MaxTimestamp, offsetOfMaxTimestamp = OffsetOfMaxTimestamp;
        long nextOffset;
        try
        {
            PrepareWrite(handle, end, segmentBytes);
            nextOffset = GatherWrite.IsSupported
                ? AppendGathered(handle, batches, start, firstOffset, leaderEpoch, logAppendTimeMs, indexInterval)
                : AppendInPlace(handle, batches, start, firstOffset, leaderEpoch, logAppendTimeMs, indexInterval);
        }
        catch
        {
            OffsetIndex.File.RollbackTo(offsetEntries);
            TimeIndex.File.RollbackTo(timeEntries);
            _bytesSinceIndexEntry = bytesSinceIndexEntry;
            MaxTimestamp = maxTimestamp;
            OffsetOfMaxTimestamp = offsetOfMaxTimestamp;
            DiscardUnpublished(handle, start);
            throw;
        }
        _unsynced = true;
        MarkWritten();
        Volatile.Write(ref _size, (int)end);
        Volatile.Write(ref _nextOffset, nextOffset);
    }

    /// <summary>
    /// After a failed append: cuts the file back to <paramref name="size"/> (the published data), which also gives
    /// the blocks of a partly written batch back to a full file system. Readers never look past the published size,
    /// so the mapping may keep its capacity. If even the cut fails, the bytes stay unpublished and recovery removes
    /// them (the active segment is re-scanned and cut at its first bad batch when reopened).
    /// </summary>
    private void DiscardUnpublished(SafeFileHandle handle, int size)
    {
        try
        {
            RandomAccess.SetLength(handle, size);
            _fileLength = size;
        }
        catch (IOException)
        {
            // unpublished either way
        }
    }

    /// <summary>
    /// Appends on Linux: per group of batches, the headers are stamped in a small stack buffer and one pwritev sends
    /// header, body, header, body... to the file, the bodies straight from the caller's memory (no copy of the batch).
    /// </summary>
    private unsafe long AppendGathered(SafeFileHandle handle, ReadOnlySpan<byte> batches, int start, long offset,
        int leaderEpoch, long? logAppendTimeMs, int indexInterval)
    {
        const int BatchesPerCall = GatherWrite.MaxPieces / 2;
        Span<byte> headers = stackalloc byte[BatchesPerCall * RecordBatchHeader.Size];
        Span<GatherWrite.Piece> pieces = stackalloc GatherWrite.Piece[GatherWrite.MaxPieces];
        fixed (byte* input = batches)
        fixed (byte* headerBase = headers)
        {
            int pos = 0;
            while (pos < batches.Length)
            {
                int groupStart = pos, count = 0, used = 0;
                while (pos < batches.Length && count < BatchesPerCall)
                {
                    int total = TotalSize(batches[pos..]);
                    var header = headers.Slice(count * RecordBatchHeader.Size, RecordBatchHeader.Size);
                    batches.Slice(pos, RecordBatchHeader.Size).CopyTo(header);
                    var body = batches.Slice(pos + RecordBatchHeader.Size, total - RecordBatchHeader.Size);
                    offset = Stamp(header, body, offset, leaderEpoch, logAppendTimeMs, start + pos, indexInterval);
                    pieces[used++] = new GatherWrite.Piece(headerBase + count * RecordBatchHeader.Size, RecordBatchHeader.Size);
                    if (!body.IsEmpty) pieces[used++] = new GatherWrite.Piece(input + pos + RecordBatchHeader.Size, body.Length);
                    pos += total;
                    count++;
                }
                GatherWrite.Write(handle, pieces[..used], start + groupStart);
            }
        }
        return offset;
    }

    /// <summary>Appends elsewhere: per batch, the stamped header from the stack and the body straight from the input (two pwrites).</summary>
    private long AppendInPlace(SafeFileHandle handle, ReadOnlySpan<byte> batches, int start, long offset,
        int leaderEpoch, long? logAppendTimeMs, int indexInterval)
    {
        Span<byte> header = stackalloc byte[RecordBatchHeader.Size];
        int pos = 0;
        while (pos < batches.Length)
        {
            var source = batches[pos..];
            int total = TotalSize(source);
            var body = source[RecordBatchHeader.Size..total];
            source[..RecordBatchHeader.Size].CopyTo(header);
            long filePosition = start + pos;
            offset = Stamp(header, body, offset, leaderEpoch, logAppendTimeMs, (int)filePosition, indexInterval);
            RandomAccess.Write(handle, header, filePosition);
            if (!body.IsEmpty) RandomAccess.Write(handle, body, filePosition + RecordBatchHeader.Size);
            pos += total;
        }
        return offset;
    }

    private static int TotalSize(ReadOnlySpan<byte> batch) =>
        BinaryPrimitives.ReadInt32BigEndian(batch[RecordBatchHeader.BatchLengthOffset..]) + RecordBatchHeader.LogOverhead;

    /// <summary>Stamps one batch header, indexes the batch at its file position, returns the next offset.</summary>
    private long Stamp(Span<byte> header, ReadOnlySpan<byte> body, long offset, int leaderEpoch, long? logAppendTimeMs,
        int filePosition, int indexInterval)
    {
        RecordBatchHeader.WriteBaseOffset(header, offset);
        RecordBatchHeader.WritePartitionLeaderEpoch(header, leaderEpoch);
        if (logAppendTimeMs is long appendTime) StampLogAppendTime(header, body, appendTime);
        RecordBatchHeader.TryRead(header, out var stored);
        ObserveBatch(stored, filePosition, indexInterval);
        return stored.LastOffset + 1;
    }

    /// <summary>Sets the LogAppendTime bit and max timestamp, then recomputes the CRC over header tail + body.</summary>
    private static void StampLogAppendTime(Span<byte> header, ReadOnlySpan<byte> body, long appendTime)
    {
        short attributes = BinaryPrimitives.ReadInt16BigEndian(header[RecordBatchHeader.AttributesOffset..]);
        BinaryPrimitives.WriteInt16BigEndian(header[RecordBatchHeader.AttributesOffset..],
            (short)(attributes | RecordBatchHeader.TimestampTypeMask));
        BinaryPrimitives.WriteInt64BigEndian(header[RecordBatchHeader.MaxTimestampOffset..], appendTime);
        uint state = Crc32C.Update(0xFFFFFFFFu, header[RecordBatchHeader.AttributesOffset..]);
        state = Crc32C.Update(state, body);
        BinaryPrimitives.WriteUInt32BigEndian(header[RecordBatchHeader.CrcOffset..], ~state);
    }

    /// <summary>Makes the file and the readers' mapping at least <paramref name="needed"/> bytes long.</summary>
    private void PrepareWrite(SafeFileHandle handle, long needed, long segmentBytes)
    {
        if (needed > _fileLength)
        {
            long ceiling = Math.Max(Math.Min(segmentBytes, int.MaxValue), needed);
            long target = Math.Max(_fileLength * 2, InitialCapacity);
            target = (target + CapacityAlignment - 1) / CapacityAlignment * CapacityAlignment;
            target = Math.Max(needed, Math.Min(target, ceiling));
            RandomAccess.SetLength(handle, target);
            _fileLength = target;
        }
        var region = Volatile.Read(ref _region);
        if (region == null || region.Capacity < needed) ReplaceRegion(MappedRegion.Map(handle, (int)_fileLength));
    }

    /// <summary>Sparse-index bookkeeping for a batch stored at <paramref name="position"/> (append and rebuild).</summary>
    private void ObserveBatch(in RecordBatchHeader batch, int position, int indexInterval)
    {
        if (_bytesSinceIndexEntry > indexInterval)
        {
            OffsetIndex.Append(batch.BaseOffset, position);
            TimeIndex.MaybeAppend(MaxTimestamp, OffsetOfMaxTimestamp);
            _bytesSinceIndexEntry = 0;
        }
        if (batch.MaxTimestamp > MaxTimestamp)
        {
            MaxTimestamp = batch.MaxTimestamp;
            OffsetOfMaxTimestamp = batch.BaseOffset;
        }
        _bytesSinceIndexEntry += batch.TotalSize;
    }

    /// <summary>
    /// Re-derives size, next offset, max timestamp and both indexes by walking the batches of
    /// <paramref name="data"/>; stops at the first batch that is not sane (or, with <paramref name="verifyCrc"/>,
    /// not valid) or whose offsets go backwards. Returns the end of the last good batch. Index files are not
    /// written; call <see cref="PersistIndexes"/>.
    /// </summary>
    private int RebuildFrom(ReadOnlySpan<byte> data, bool verifyCrc, int indexInterval)
    {
        OffsetIndex.File.Reset();
        TimeIndex.File.Reset();
        MaxTimestamp = -1;
        OffsetOfMaxTimestamp = BaseOffset;
        FirstBatchTimestamp = -1;
        _bytesSinceIndexEntry = 0;
        int pos = 0;
        long next = BaseOffset;
        while (BatchScan.TryReadHeader(data, pos, data.Length, out var header))
        {
            if (verifyCrc && RecordBatchValidator.ValidateOne(data[pos..], int.MaxValue, out _) != BatchError.None) break;
            if (header.BaseOffset < next || header.LastOffset - BaseOffset > int.MaxValue) break;
            if (pos == 0) FirstBatchTimestamp = header.MaxTimestamp;
            ObserveBatch(header, pos, indexInterval);
            pos += header.TotalSize;
            next = header.LastOffset + 1;
        }
        Volatile.Write(ref _size, pos);
        Volatile.Write(ref _nextOffset, next);
        return pos;
    }

    /// <summary>Max timestamp of the first batch after a rebuild (an estimate of when the segment was started).</summary>
    public long FirstBatchTimestamp { get; private set; } = -1;

    private void PersistIndexes()
    {
        OffsetIndex.File.RewriteFile();
        TimeIndex.File.RewriteFile();
    }

    /// <summary>
    /// Makes this segment the active one: the last segment of a log being opened, or a sealed segment after a
    /// truncation removed the later ones. The write handle is opened by the next write.
    /// </summary>
    private void MakeWritable() => _writable = true;

    /// <summary>
    /// Removes the batch holding <paramref name="offset"/> and everything after it; the segment becomes the active
    /// one. The dropped bytes are zeroed rather than cut off, so readers still holding leases on them never touch
    /// pages past the end of the file, and a crash cannot bring them back.
    /// </summary>
    public void TruncateTo(long offset, int indexInterval)
    {
        MakeWritable();
        var handle = EnsureWriter();
        if (!TryAcquire(out var region)) throw new ObjectDisposedException(ToString());
        if (region == null) return;
        try
        {
            int size = Size;
            int cut = BatchScan.FindBatch(region.Span, OffsetIndex.Lookup(offset), size, offset, out _);
            if (cut < 0) return;
            Volatile.Write(ref _size, cut);
            ZeroRange(handle, cut, size);
            _unsynced = true;
            MarkWritten();
            RebuildFrom(region.Span[..cut], verifyCrc: false, indexInterval);
            PersistIndexes();
            if (Size == 0) FirstAppendMs = -1;
        }
        finally
        {
            region.Dispose();
        }
    }

    private static void ZeroRange(SafeFileHandle handle, long from, long to)
    {
        for (long pos = from; pos < to; pos += Zeros.Length)
            RandomAccess.Write(handle, Zeros.AsSpan(0, (int)Math.Min(Zeros.Length, to - pos)), pos);
    }
}
