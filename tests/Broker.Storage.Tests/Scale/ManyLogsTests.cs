using System.Diagnostics;
using Broker.Core.Model;
using Xunit.Abstractions;

namespace Broker.Storage.Tests.Scale;

/// <summary>
/// Thousands of partition logs in one <see cref="LogManager"/>: creating and opening them keeps no file open, an
/// append opens one write handle, and <see cref="LogManager.SweepIdle(long)"/> bounds write handles and mappings by
/// idleness and by the caps of its <see cref="IdleHandlePolicy"/>; everything closed reopens lazily and the data
/// stays exact. File descriptors and mappings are counted from /proc/self for this test's directory only.
/// </summary>
public sealed class ManyLogsTests(ITestOutputHelper output) : IDisposable
{
    private const int LogCount = 3000;
    private readonly TempDir _temp = new();
    private readonly FakeClock _clock = new();

    public void Dispose() => _temp.Dispose();

    private int Fds => ProcessResources.FdsUnder(_temp.Path);
    private int Mappings => ProcessResources.MappingsUnder(_temp.Path);

    /// <summary>A sweep "far in the future": everything is idle by then.</summary>
    private static long Later => Environment.TickCount64 + 3_600_000;

    /// <summary>Timestamps at the fake clock's time, so reopened logs do not roll their active segment (segment.ms).</summary>
    private static byte[] BatchFor(int partition, int round) =>
        BatchBuilder.Build(2, baseTimestamp: new FakeClock().Now, valueSize: 16, fill: (byte)(0x41 + (partition + round) % 26));

    [Fact]
    public void Three_thousand_logs_keep_handles_and_mappings_bounded_and_stay_exact()
    {
        var policy = new IdleHandlePolicy { IdleTimeout = TimeSpan.FromHours(1), MaxOpenWriters = 100, MaxMappedSegments = 150 };
        var options = new LogOptions();
        var partitions = Enumerable.Range(0, LogCount).Select(i => new TopicPartition("many", i)).ToArray();
        int fdsBefore = ProcessResources.AllFds();
        var sw = Stopwatch.StartNew();
        void Phase(string what)
        {
            output.WriteLine($"{what}: {sw.ElapsedMilliseconds} ms; {Fds} fds, {Mappings} mappings under the test directory");
            sw.Restart();
        }

        var manager = new LogManager(_temp.Path, _clock) { IdlePolicy = policy };
        using (manager)
        {
            foreach (var tp in partitions) manager.GetOrCreate(tp, options);
            Phase($"created {LogCount} logs");
            Assert.Equal(0, Fds); // creating a log leaves nothing open
            Assert.Equal(0, Mappings);

            foreach (var tp in partitions) Assert.Equal(0, manager.Get(tp)!.Append(BatchFor(tp.Partition, 0), 1).FirstOffset);
            Phase("appended to every log");
            Assert.Equal(LogCount, Fds); // one write handle per appended log, no index handles
            Assert.True(ProcessResources.AllFds() - fdsBefore < LogCount + 50);

            var swept = manager.SweepIdle();
            Phase("swept");
            Assert.Equal(LogCount, swept.OpenWriters + swept.ClosedWriters);
            Assert.Equal(policy.MaxOpenWriters, swept.OpenWriters);
            Assert.Equal(policy.MaxOpenWriters, Fds);
            Assert.True(Mappings <= policy.MaxMappedSegments, $"{Mappings} mappings");

            // Every log is readable (mapped again on demand); a sweep trims the mappings back to the cap.
            foreach (var tp in partitions) AssertHolds(manager.Get(tp)!, tp.Partition, rounds: 1);
            Phase("read every log");
            Assert.True(Mappings > policy.MaxMappedSegments, $"reads should have mapped the segments again ({Mappings})");
            manager.SweepIdle();
            Assert.True(Mappings <= policy.MaxMappedSegments, $"{Mappings} mappings after the sweep");

            // Appends after the handles were closed reopen them and continue at the right offsets.
            foreach (var tp in partitions) Assert.Equal(2, manager.Get(tp)!.Append(BatchFor(tp.Partition, 1), 1).FirstOffset);
            manager.SweepIdle(Later);
            Assert.Equal(0, Fds);
            Assert.Equal(0, Mappings);
            foreach (var tp in partitions) AssertHolds(manager.Get(tp)!, tp.Partition, rounds: 2);
            Phase("appended, swept and read again");
        }
        Phase("closed");
        Assert.Equal(0, Fds);

        // Reopening thousands of logs opens no write handle either.
        using (var reopened = new LogManager(_temp.Path, _clock))
        {
            Assert.Equal(LogCount, reopened.LoadAll(_ => options).Count);
            Phase("reopened");
            Assert.Equal(0, Fds);
            foreach (var tp in partitions)
            {
                var log = reopened.Get(tp)!;
                AssertHolds(log, tp.Partition, rounds: 2);
                Assert.Equal(4, log.Append(BatchFor(tp.Partition, 2), 1).FirstOffset);
            }
            AssertHolds(reopened.Get(partitions[^1])!, partitions[^1].Partition, rounds: 3);
            Phase("read and appended after reopening");
        }
        Phase("closed");
        Assert.Equal(0, Fds);
        Assert.Equal(0, Mappings);
    }

    [Fact]
    public void Idle_handles_close_after_the_timeout_only_and_busy_ones_stay_open()
    {
        using var manager = new LogManager(_temp.Path, _clock)
        {
            IdlePolicy = new IdleHandlePolicy { IdleTimeout = TimeSpan.FromSeconds(10) },
        };
        var logs = Enumerable.Range(0, 4).Select(i => manager.GetOrCreate(new TopicPartition("idle", i), new LogOptions())).ToArray();
        long written = Environment.TickCount64;
        foreach (var log in logs) log.Append(BatchFor(0, 0), 1);
        Assert.Equal(4, Fds);

        // Just under the timeout after the appends nothing is idle; just over it everything is.
        var early = manager.SweepIdle(written + 9_999);
        Assert.Equal(0, early.ClosedWriters + early.ReleasedMappings);
        Assert.Equal(4, early.OpenWriters);
        Assert.Equal(4, Fds);
        var swept = manager.SweepIdle(Environment.TickCount64 + 10_001);
        Assert.Equal(4, swept.ClosedWriters);
        Assert.Equal(0, Fds);
        Assert.Equal(0, Mappings);

        // A closed active file is cut to its data (no sparse tail for recovery to trim after a restart).
        var dir = Path.Combine(_temp.Path, "idle-2");
        Assert.Equal(logs[2].SizeInBytes, new FileInfo(Path.Combine(dir, 0L.ToString("D20") + ".log")).Length);

        logs[0].Append(BatchFor(0, 1), 1);
        using (var read = logs[1].Read(0, int.MaxValue, long.MaxValue, minOneBatch: true)) Assert.False(read.Records.IsEmpty);
        var recent = manager.SweepIdle(Environment.TickCount64 + 5_000);
        Assert.Equal(0, recent.ClosedWriters + recent.ReleasedMappings);
        Assert.Equal(1, recent.OpenWriters);
        Assert.Equal(1, Fds);
    }

    [Fact]
    public void A_read_lease_outlives_the_release_of_its_mapping()
    {
        using var manager = new LogManager(_temp.Path, _clock);
        var log = manager.GetOrCreate(new TopicPartition("lease", 0), new LogOptions());
        byte[] batch = BatchFor(7, 0);
        log.Append(batch, 3);
        using var lease = log.Read(0, int.MaxValue, long.MaxValue, minOneBatch: true);

        var swept = manager.SweepIdle(Later);
        Assert.Equal(1, swept.ClosedWriters);
        Assert.Equal(0, Fds);
        Assert.Equal(1, Mappings); // kept alive by the lease only

        Assert.Equal(BatchBuilder.Stored(batch, 0, 3), lease.Records.ToArray());
        lease.Dispose();
        Assert.Equal(0, Mappings);
        Assert.Equal(BatchBuilder.Stored(batch, 0, 3), LogTestBase.ReadAll(log, 0));
    }

    [Fact]
    public void The_sweeper_timer_closes_idle_handles_by_itself()
    {
        using var manager = new LogManager(_temp.Path, _clock);
        var log = manager.GetOrCreate(new TopicPartition("timer", 0), new LogOptions());
        log.Append(BatchFor(1, 0), 1);
        Assert.Equal(1, Fds);
        manager.StartIdleSweeper(new IdleHandlePolicy { IdleTimeout = TimeSpan.FromMilliseconds(50), SweepInterval = TimeSpan.FromMilliseconds(20) });
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((Fds > 0 || Mappings > 0) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Equal(0, Fds);
        Assert.Equal(0, Mappings);
        Assert.Equal(2, log.Append(BatchFor(1, 1), 1).FirstOffset);
    }

    [Fact]
    public void A_policy_with_bad_values_is_rejected()
    {
        using var manager = new LogManager(_temp.Path, _clock);
        Assert.Throws<ArgumentException>(() => manager.IdlePolicy = new IdleHandlePolicy { IdleTimeout = TimeSpan.Zero });
        Assert.Throws<ArgumentException>(() => manager.StartIdleSweeper(new IdleHandlePolicy { MaxOpenWriters = -1 }));
    }

    /// <summary>The log holds exactly rounds 0..rounds-1 of this partition's batches, two offsets each.</summary>
    private static void AssertHolds(IPartitionLog log, int partition, int rounds)
    {
        var expected = new List<byte[]>();
        for (int r = 0; r < rounds; r++) expected.Add(BatchBuilder.Stored(BatchFor(partition, r), r * 2, 1));
        Assert.Equal(rounds * 2, log.LogEndOffset);
        Assert.Equal(BatchBuilder.Concat([.. expected]), LogTestBase.ReadAll(log, 0));
    }
}
