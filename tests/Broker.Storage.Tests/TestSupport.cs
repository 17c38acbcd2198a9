using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Core.Records;

namespace Broker.Storage.Tests;

/// <summary>Writes valid magic-2 record batches (uncompressed, CreateTime, null keys) for the tests with Core's builder.</summary>
internal static class BatchBuilder
{
    /// <summary>A batch of <paramref name="count"/> records with values of <paramref name="valueSize"/> bytes;
    /// record i has timestamp <paramref name="baseTimestamp"/> + i * <paramref name="timestampStep"/>.</summary>
    public static byte[] Build(int count, long baseTimestamp = 1_000, int valueSize = 10, long timestampStep = 1, byte fill = 0x41)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(baseTimestamp);
        var value = new byte[valueSize];
        for (int i = 0; i < count; i++)
        {
            Array.Fill(value, (byte)(fill + i % 20));
            builder.Add(baseTimestamp + i * timestampStep, default, value, keyIsNull: true);
        }
        return builder.ToArray();
    }

    /// <summary>A batch whose records carry explicit timestamps (need not be ordered).</summary>
    public static byte[] WithTimestamps(params long[] timestamps)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(timestamps[0]);
        for (int i = 0; i < timestamps.Length; i++) builder.Add(timestamps[i], default, [(byte)i], keyIsNull: true);
        return builder.ToArray();
    }

    public static byte[] Concat(params byte[][] batches) => batches.SelectMany(b => b).ToArray();

    /// <summary>Headers of the batches in <paramref name="bytes"/>, each validated (CRC included).</summary>
    public static List<RecordBatchHeader> ParseValid(ReadOnlySpan<byte> bytes)
    {
        var result = new List<RecordBatchHeader>();
        int pos = 0;
        while (pos < bytes.Length)
        {
            var error = RecordBatchValidator.ValidateOne(bytes[pos..], int.MaxValue, out var h);
            Assert.Equal(BatchError.None, error);
            result.Add(h);
            pos += h.TotalSize;
        }
        return result;
    }

    /// <summary>The stored form of <paramref name="batch"/>: base offset and leader epoch stamped.</summary>
    public static byte[] Stored(byte[] batch, long baseOffset, int epoch)
    {
        var copy = (byte[])batch.Clone();
        RecordBatchHeader.WriteBaseOffset(copy, baseOffset);
        RecordBatchHeader.WritePartitionLeaderEpoch(copy, epoch);
        return copy;
    }
}

/// <summary>A settable clock.</summary>
internal sealed class FakeClock(long nowMs = 1_700_000_000_000) : IClock
{
    public long Now { get; set; } = nowMs;
    public long UnixTimeMilliseconds => Now;
    public long MonotonicMilliseconds => Now;
}

/// <summary>A fresh directory under the temp dir, removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "storage-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Shared setup: a temp directory, a fake clock and helpers to open and read a log.</summary>
public abstract class LogTestBase : IDisposable
{
    internal static readonly TopicPartition Tp = new("orders-eu", 3);
    internal readonly TempDir Temp = new();
    internal readonly FakeClock Clock = new();
    private readonly List<IDisposable> _toDispose = new();

    internal string LogDir => Temp.Sub("orders-eu-3");

    internal PartitionLog Open(LogOptions? options = null)
    {
        var log = PartitionLog.Open(LogDir, Tp, options ?? new LogOptions(), Clock);
        _toDispose.Add(log);
        return log;
    }

    /// <summary>Reads everything from <paramref name="offset"/> (all segments), copying the bytes.</summary>
    internal static byte[] ReadAll(IPartitionLog log, long offset)
    {
        var all = new List<byte>();
        while (offset < log.LogEndOffset)
        {
            using var r = log.Read(offset, int.MaxValue, long.MaxValue, minOneBatch: true);
            Assert.False(r.OutOfRange);
            Assert.False(r.Records.IsEmpty);
            all.AddRange(r.Records.ToArray());
            var headers = BatchBuilder.ParseValid(r.Records.Span);
            offset = headers[^1].LastOffset + 1;
        }
        return all.ToArray();
    }

    internal string SegmentPath(long baseOffset, string suffix) =>
        System.IO.Path.Combine(LogDir, baseOffset.ToString("D20") + suffix);

    public void Dispose()
    {
        foreach (var d in _toDispose) d.Dispose();
        Temp.Dispose();
    }
}
