using Xunit;
using Broker.Core.Model;
using Broker.Server.Partitions;

namespace Broker.Server.Tests.Data;

/// <summary>
/// storage.min.free.bytes: <see cref="DiskSpaceGuard"/> with a scripted free-space probe (how often it measures,
/// refusals and recovery), and the produce path refusing with KAFKA_STORAGE_ERROR and the reason while the log
/// directory is below the floor, appending nothing, then accepting again.
/// </summary>
public sealed class DiskSpaceGuardTests : IDisposable
{
    private const long Floor = 16L << 20;
    private readonly DataFixture _f = new();
    private long _free = 1L << 30;
    private int _probes;

    public void Dispose() => _f.Dispose();

    private long Probe()
    {
        Interlocked.Increment(ref _probes);
        return Interlocked.Read(ref _free);
    }

    [Fact]
    public void Free_space_is_measured_per_interval_or_per_volume_of_writes_not_per_request()
    {
        var guard = new DiskSpaceGuard(_f.Directory, Floor, Probe, refreshInterval: TimeSpan.FromHours(1), refreshAfterBytes: 1000);
        Assert.Equal(1, _probes); // the first reading, at construction
        for (int i = 0; i < 9; i++) Assert.True(guard.TryAdmit(100, out _));
        Assert.Equal(1, _probes);
        Assert.True(guard.TryAdmit(100, out _)); // 1000 admitted bytes: the next check measures again
        Assert.True(guard.TryAdmit(1, out _));
        Assert.Equal(2, _probes);
        Assert.Equal(1L << 30, guard.FreeBytes);
    }

    [Fact]
    public void Writes_are_refused_below_the_floor_with_the_reason_and_admitted_again_above_it()
    {
        var guard = new DiskSpaceGuard("/data/logs", Floor, Probe, refreshInterval: TimeSpan.Zero);
        Assert.True(guard.TryAdmit(10, out var message));
        Assert.Null(message);

        Interlocked.Exchange(ref _free, Floor - 1);
        Assert.False(guard.TryAdmit(10, out message));
        Assert.True(guard.IsBelowFloor);
        Assert.Equal($"log dir /data/logs has {Floor - 1} bytes free, below storage.min.free.bytes={Floor}: produce refused until space is freed", message);

        Interlocked.Exchange(ref _free, Floor);
        Assert.True(guard.TryAdmit(10, out _));
        Assert.False(guard.IsBelowFloor);
    }

    [Fact]
    public void A_failing_measurement_does_not_block_writes()
    {
        var guard = new DiskSpaceGuard("/data/logs", Floor, () => throw new IOException("gone"), refreshInterval: TimeSpan.Zero);
        Assert.True(guard.TryAdmit(10, out _));
        Assert.Equal(-1, guard.FreeBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiskSpaceGuard("/data/logs", 0, Probe));
    }

    [Fact]
    public async Task Produce_is_refused_with_a_storage_error_below_the_floor_and_nothing_is_appended()
    {
        _f.CreateTopic("t");
        _f.Partitions.DiskSpace = new DiskSpaceGuard(_f.Directory, Floor, Probe, refreshInterval: TimeSpan.Zero);
        Assert.Equal((short)ErrorCode.None, (await _f.ProduceAsync("t", 0, TestBatches.Build(2))).ErrorCode);

        Interlocked.Exchange(ref _free, 1000);
        var refused = await _f.ProduceAsync("t", 0, TestBatches.Build(3));
        Assert.Equal((short)ErrorCode.KafkaStorageError, refused.ErrorCode);
        Assert.Equal(-1, refused.BaseOffset);
        Assert.Contains("has 1000 bytes free, below storage.min.free.bytes=16777216", refused.ErrorMessage);
        Assert.True(_f.Partitions.TryGetPartition("t", 0, out var state));
        Assert.Equal(2, state.Log.LogEndOffset);
        // Reads are not affected.
        var fetched = await _f.FetchAsync("t", 0, 0);
        Assert.Equal((short)ErrorCode.None, fetched.ErrorCode);
        Assert.Equal(2, fetched.HighWatermark);

        Interlocked.Exchange(ref _free, Floor * 2);
        var accepted = await _f.ProduceAsync("t", 0, TestBatches.Build(1));
        Assert.Equal((short)ErrorCode.None, accepted.ErrorCode);
        Assert.Equal(2, accepted.BaseOffset);

        // A floor of 0 turns the guard off.
        _f.Partitions.SetStorageMinFreeBytes(0);
        Assert.Null(_f.Partitions.DiskSpace);
        Interlocked.Exchange(ref _free, 0);
        Assert.Equal((short)ErrorCode.None, (await _f.ProduceAsync("t", 0, TestBatches.Build(1))).ErrorCode);
    }
}
