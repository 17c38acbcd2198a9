using Broker.Core.Model;

namespace Broker.Storage.Tests;

public sealed class LogManagerTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly FakeClock _clock = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("orders-0", "orders", 0)]
    [InlineData("my-topic-name-12", "my-topic-name", 12)]
    [InlineData("__consumer_offsets-49", "__consumer_offsets", 49)]
    [InlineData("a.b-7", "a.b", 7)]
    public void Directory_names_split_on_the_last_dash(string name, string topic, int partition)
    {
        Assert.True(LogManager.TryParseDirectoryName(name, out var tp));
        Assert.Equal(new TopicPartition(topic, partition), tp);
    }

    [Theory]
    [InlineData("orders")]
    [InlineData("orders-")]
    [InlineData("-3")]
    [InlineData("orders-x")]
    [InlineData("orders-07")]
    [InlineData("orders-0.1f2e-delete")]
    public void Unparsable_directory_names_are_rejected(string name)
    {
        Assert.False(LogManager.TryParseDirectoryName(name, out _));
    }

    [Fact]
    public void LoadAll_recovers_every_partition_and_skips_junk()
    {
        var a = new TopicPartition("my-topic", 0);
        var b = new TopicPartition("my-topic", 1);
        var c = new TopicPartition("other", 5);
        using (var manager = new LogManager(_temp.Path, _clock))
        {
            manager.GetOrCreate(a, new LogOptions()).Append(BatchBuilder.Build(3), 1);
            manager.GetOrCreate(b, new LogOptions()).Append(BatchBuilder.Build(1), 1);
            manager.GetOrCreate(c, new LogOptions());
        }
        Directory.CreateDirectory(_temp.Sub("not a partition"));
        Directory.CreateDirectory(_temp.Sub("stale-0.0123abcd-delete"));
        File.WriteAllText(_temp.Sub("stale-0.0123abcd-delete/x.log"), "x");
        File.WriteAllText(_temp.Sub("meta.properties"), "node.id=1");

        using var reopened = new LogManager(_temp.Path, _clock);
        var seen = new List<TopicPartition>();
        var loaded = reopened.LoadAll(tp => { seen.Add(tp); return new LogOptions(); });

        Assert.Equal(new[] { a, b, c }.OrderBy(t => t.ToString()), loaded.OrderBy(t => t.ToString()));
        Assert.Equal(3, reopened.Get(a)!.LogEndOffset);
        Assert.Equal(1, reopened.Get(b)!.LogEndOffset);
        Assert.Equal(0, reopened.Get(c)!.LogEndOffset);
        Assert.Null(reopened.Get(new TopicPartition("my-topic", 9)));
        Assert.False(Directory.Exists(_temp.Sub("stale-0.0123abcd-delete")));
        Assert.True(Directory.Exists(_temp.Sub("not a partition")));
    }

    [Fact]
    public void GetOrCreate_returns_the_same_log_and_rejects_unsafe_names()
    {
        using var manager = new LogManager(_temp.Path, _clock);
        var tp = new TopicPartition("t", 0);
        var first = manager.GetOrCreate(tp, new LogOptions());
        Assert.Same(first, manager.GetOrCreate(tp, new LogOptions()));
        Assert.Same(first, manager.Get(tp));
        Assert.True(Directory.Exists(_temp.Sub("t-0")));
        Assert.Throws<ArgumentException>(() => manager.GetOrCreate(new TopicPartition("../evil", 0), new LogOptions()));
        Assert.Throws<ArgumentException>(() => manager.GetOrCreate(new TopicPartition("..", 0), new LogOptions()));
        Assert.Throws<ArgumentException>(() => manager.GetOrCreate(new TopicPartition("t", -1), new LogOptions()));
    }

    [Fact]
    public void Delete_closes_the_log_and_removes_its_directory()
    {
        using var manager = new LogManager(_temp.Path, _clock);
        var tp = new TopicPartition("gone", 2);
        var log = manager.GetOrCreate(tp, new LogOptions());
        log.Append(BatchBuilder.Build(2), 0);
        using var lease = log.Read(0, 1000, long.MaxValue, true);

        manager.Delete(tp);

        Assert.Null(manager.Get(tp));
        Assert.Empty(Directory.GetDirectories(_temp.Path));
        Assert.Throws<ObjectDisposedException>(() => log.Append(BatchBuilder.Build(1), 0));
        Assert.Equal(2, BatchBuilder.ParseValid(lease.Records.Span)[0].RecordsCount);
        manager.Delete(tp); // unknown now: ignored

        var again = manager.GetOrCreate(tp, new LogOptions());
        Assert.Equal(0, again.LogEndOffset);
    }

    [Fact]
    public void MoveAside_keeps_the_data_and_later_loads_skip_it()
    {
        var tp = new TopicPartition("stray", 0);
        string? aside;
        using (var manager = new LogManager(_temp.Path, _clock))
        {
            manager.GetOrCreate(tp, new LogOptions()).Append(BatchBuilder.Build(3), 0);
            aside = manager.MoveAside(tp);
            Assert.NotNull(aside);
            Assert.EndsWith(LogManager.StraySuffix, aside);
            Assert.Null(manager.Get(tp));
            Assert.Null(manager.MoveAside(tp)); // not open any more
        }
        Assert.NotEmpty(Directory.GetFiles(aside!, "*.log"));

        using var reopened = new LogManager(_temp.Path, _clock);
        Assert.Empty(reopened.LoadAll(_ => new LogOptions()));
        Assert.True(Directory.Exists(aside)); // neither loaded nor deleted
        Assert.Equal(0, reopened.GetOrCreate(tp, new LogOptions()).LogEndOffset);
    }

    [Fact]
    public void ApplyRetentionAll_and_FlushAll_cover_every_log()
    {
        using var manager = new LogManager(_temp.Path, _clock);
        var options = new LogOptions { SegmentBytes = 200, RetentionMs = 1_000 };
        for (int p = 0; p < 3; p++)
        {
            var log = manager.GetOrCreate(new TopicPartition("r", p), options);
            for (int i = 0; i < 4; i++) log.Append(BatchBuilder.Build(1, baseTimestamp: 5_000, valueSize: 100), 0);
        }
        manager.FlushAll();
        Assert.Equal(0, manager.ApplyRetentionAll(5_000));
        Assert.Equal(12, manager.ApplyRetentionAll(1_000_000));
        for (int p = 0; p < 3; p++)
        {
            var log = manager.Get(new TopicPartition("r", p))!;
            Assert.Equal(4, log.LogStartOffset);
            Assert.Equal(4, log.LogEndOffset);
        }
    }

    [Fact]
    public void Dispose_cuts_active_files_to_their_data()
    {
        var tp = new TopicPartition("t", 0);
        long size;
        using (var manager = new LogManager(_temp.Path, _clock))
        {
            var log = manager.GetOrCreate(tp, new LogOptions());
            log.Append(BatchBuilder.Build(5), 0);
            size = log.SizeInBytes;
            Assert.True(new FileInfo(Path.Combine(_temp.Path, "t-0", "00000000000000000000.log")).Length > size);
        }
        Assert.Equal(size, new FileInfo(Path.Combine(_temp.Path, "t-0", "00000000000000000000.log")).Length);
    }

    [Fact]
    public void Concurrent_GetOrCreate_gives_one_log_per_partition()
    {
        using var manager = new LogManager(_temp.Path, _clock);
        var results = new IPartitionLog[16];
        Parallel.For(0, results.Length, i => results[i] = manager.GetOrCreate(new TopicPartition("c", i % 2), new LogOptions()));
        Assert.Equal(2, results.Distinct().Count());
    }
}
