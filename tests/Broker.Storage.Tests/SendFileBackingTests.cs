using Broker.Core.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage.Tests;

/// <summary>
/// Read results are file-backed memory (IFileBackedMemory) so a plaintext connection can sendfile them: the handle is
/// the mapped segment file and the memory index is the file position; a segment deleted before the handle was asked
/// for gives none (the mapping still serves the bytes), one deleted after keeps serving through the open handle; a
/// different file at the same path is refused; the handle closes with the mapping.
/// </summary>
public sealed class SendFileBackingTests : LogTestBase
{
    private static readonly LogOptions SmallSegments = new() { SegmentBytes = 8 * 1024 };

    [Fact]
    public void Read_results_of_sealed_and_active_segments_are_regions_of_their_segment_files()
    {
        var log = Open(SmallSegments);
        for (int i = 0; i < 20; i++) log.Append(BatchBuilder.Build(3, valueSize: 700, fill: (byte)i), leaderEpoch: 1);
        Assert.True(log.SegmentCount > 2);

        foreach (long offset in new long[] { 0, 7, log.LogEndOffset - 1 })
        {
            using var result = log.Read(offset, 64 * 1024, long.MaxValue, minOneBatch: true);
            Assert.True(ChunkedBufferWriter.TryGetFileBacking(result.Records, out var file, out long fileOffset));
            SafeFileHandle? handle = file!.TryGetFileHandle();
            Assert.NotNull(handle);
            Assert.Same(handle, file.TryGetFileHandle()); // opened once, then cached
            var fromFile = new byte[result.Records.Length];
            Assert.Equal(fromFile.Length, RandomAccess.Read(handle, fromFile, fileOffset));
            Assert.Equal(result.Records.ToArray(), fromFile);
        }

        // Plain arrays are not file-backed.
        Assert.False(ChunkedBufferWriter.TryGetFileBacking(new byte[100], out _, out _));
    }

    [Fact]
    public void Segment_deleted_by_retention_before_the_handle_was_asked_for_gives_none_but_keeps_its_bytes()
    {
        var log = Open(SmallSegments);
        for (int i = 0; i < 20; i++) log.Append(BatchBuilder.Build(3, valueSize: 700, fill: (byte)i), leaderEpoch: 1);
        byte[] expected = ReadAll(log, 0)[..2000];

        using var result = log.Read(0, 64 * 1024, long.MaxValue, minOneBatch: true);
        Assert.True(log.AdvanceLogStartOffset(log.LogEndOffset - 1));
        Assert.True(log.ApplyRetention(Clock.Now) > 0);
        Assert.False(File.Exists(SegmentPath(0, ".log")));

        Assert.True(ChunkedBufferWriter.TryGetFileBacking(result.Records, out var file, out _));
        Assert.Null(file!.TryGetFileHandle());
        Assert.Null(file.TryGetFileHandle());
        Assert.Equal(expected, result.Records.Span[..2000].ToArray()); // the mapping still has them
    }

    [Fact]
    public void Segment_deleted_after_the_handle_was_opened_is_still_readable_through_it()
    {
        var log = Open(SmallSegments);
        for (int i = 0; i < 20; i++) log.Append(BatchBuilder.Build(3, valueSize: 700, fill: (byte)i), leaderEpoch: 1);

        using var result = log.Read(0, 64 * 1024, long.MaxValue, minOneBatch: true);
        Assert.True(ChunkedBufferWriter.TryGetFileBacking(result.Records, out var file, out long fileOffset));
        SafeFileHandle handle = file!.TryGetFileHandle()!;
        Assert.True(log.AdvanceLogStartOffset(log.LogEndOffset - 1));
        Assert.True(log.ApplyRetention(Clock.Now) > 0);
        Assert.False(File.Exists(SegmentPath(0, ".log")));

        var fromFile = new byte[result.Records.Length];
        Assert.Equal(fromFile.Length, RandomAccess.Read(handle, fromFile, fileOffset));
        Assert.Equal(result.Records.ToArray(), fromFile);
        Assert.Same(handle, file.TryGetFileHandle());
    }

    [Fact]
    public void Another_file_at_the_segment_path_is_refused()
    {
        var log = Open(SmallSegments);
        for (int i = 0; i < 20; i++) log.Append(BatchBuilder.Build(3, valueSize: 700, fill: (byte)i), leaderEpoch: 1);
        string path = SegmentPath(0, ".log");

        using var result = log.Read(0, 64 * 1024, long.MaxValue, minOneBatch: true);
        byte[] mapped = result.Records.ToArray();
        // As if the segment had been swapped for a rewritten copy: same name, another inode, other bytes.
        File.Delete(path);
        File.WriteAllBytes(path, new byte[mapped.Length + 4096]);

        Assert.True(ChunkedBufferWriter.TryGetFileBacking(result.Records, out var file, out _));
        Assert.Null(file!.TryGetFileHandle());
        Assert.Equal(mapped, result.Records.ToArray());
    }

    [Fact]
    public void The_handle_closes_with_the_last_lease_on_the_mapping()
    {
        var log = Open(SmallSegments);
        for (int i = 0; i < 20; i++) log.Append(BatchBuilder.Build(3, valueSize: 700, fill: (byte)i), leaderEpoch: 1);

        var result = log.Read(0, 64 * 1024, long.MaxValue, minOneBatch: true);
        Assert.True(ChunkedBufferWriter.TryGetFileBacking(result.Records, out var file, out _));
        SafeFileHandle handle = file!.TryGetFileHandle()!;
        Assert.True(log.AdvanceLogStartOffset(log.LogEndOffset - 1));
        Assert.True(log.ApplyRetention(Clock.Now) > 0); // the segment lets go of its own reference
        Assert.False(handle.IsClosed);
        result.Dispose(); // the last reference
        Assert.True(handle.IsClosed);
    }
}
