using System.Text;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Storage;

namespace Broker.Groups.Tests;

/// <summary>
/// __consumer_offsets under the log cleaner: one group commits the same partitions many times, one commits once, and
/// a third is deleted; compacting the partition log (past delete.retention.ms) leaves only each key's latest record,
/// drops the deleted group's records and tombstones, and a coordinator loading the compacted files from disk sees
/// the latest offsets of both live groups and no trace of the deleted one.
/// </summary>
public sealed class OffsetsCompactionTests
{
    private static readonly LogOptions Compacting = new() { Compact = true, SegmentBytes = 2048, IndexIntervalBytes = 256 };

    [Fact]
    public async Task Compacted_offsets_log_reloads_with_latest_offsets_and_without_the_deleted_group()
    {
        var clock = new ManualClock();
        var options = new GroupCoordinatorOptions { GroupInitialRebalanceDelayMs = 0, OffsetsTopicPartitions = 1 };
        var topic = new FakeOffsetsTopic(clock, partitions: 1);
        try
        {
            topic.Logs[0].UpdateOptions(Compacting);
            await using (var kit = new GroupKit(options, partitions: 1, topic: topic, clock: clock))
            {
                await Done(kit.Commit("gone", -1, "", new OffsetCommitEntry("t1", 0, 7, -1, "old")));
                await Done(kit.Commit("once", -1, "", new OffsetCommitEntry("t2", 0, 33, 1, "only")));
                for (int i = 1; i <= 150; i++)
                {
                    var outcome = await Done(kit.Commit("keep", -1, "", new OffsetCommitEntry("t1", 0, i, 2, $"m{i}"), new OffsetCommitEntry("t1", 1, 1000 + i, -1, null)));
                    Assert.All(outcome.Results, r => Assert.Equal(ErrorCode.None, r.Error));
                    if (i == 50) Assert.Equal(ErrorCode.None, await Done(kit.Coordinator.DeleteGroupAsync("gone")));
                }
                Assert.Equal(150, kit.Fetch("keep", "t1", 0).Offset);
            }

            var log = topic.Logs[0];
            Assert.True(log.SegmentCount > 5, $"only {log.SegmentCount} segments");
            var before = topic.Records(0);
            long endBefore = log.LogEndOffset;
            Assert.True(CountOf(before, "gone") >= 2); // its commit, then tombstones

            // Past delete.retention.ms (1 day by default), so the tombstones go too.
            var result = log.Compact(log.LogEndOffset, clock.UnixTimeMilliseconds + 2 * 86_400_000L);
            Assert.True(result.SegmentsRewritten > 0);
            var after = topic.Records(0);
            Assert.True(after.Count < before.Count / 4, $"{before.Count} records before, {after.Count} after");
            Assert.Equal(0, CountOf(after, "gone"));

            // Below the active segment (the cleaned range) a record is left only if it is its key's latest in the log.
            long activeBase = log.SegmentBaseOffsets()[^1];
            Assert.True(activeBase > 0);
            var all = KeysWithOffsets(log);
            var latest = all.GroupBy(r => Convert.ToHexString(r.Key)).ToDictionary(g => g.Key, g => g.Max(r => r.Offset));
            var cleaned = all.Where(r => r.Offset < activeBase).ToList();
            Assert.Equal(1, CountOf([.. cleaned.Select(r => (r.Key, (byte[]?)null))], "once")); // never superseded: kept
            Assert.All(cleaned, r => Assert.Equal(latest[Convert.ToHexString(r.Key)], r.Offset));
            Assert.Equal(endBefore, log.LogEndOffset); // nothing renumbered, nothing appended

            // A restarted node opens the compacted files and loads the groups from them.
            topic.CloseLogs();
            var reopened = new FakeOffsetsTopic(clock, partitions: 1, directory: topic.Directory);
            var reloaded = new GroupKit(options, partitions: 1, topic: reopened, clock: clock);
            Assert.Equal(new CommittedOffset("t1", 0, 150, 2, "m150", ErrorCode.None), reloaded.Fetch("keep", "t1", 0));
            Assert.Equal(1150, reloaded.Fetch("keep", "t1", 1).Offset);
            Assert.Equal(new CommittedOffset("t2", 0, 33, 1, "only", ErrorCode.None), reloaded.Fetch("once", "t2", 0));
            Assert.Equal(-1, reloaded.Fetch("gone", "t1", 0).Offset);
            Assert.Equal("Dead", reloaded.Coordinator.DescribeGroup("gone").State);
            Assert.Equal(["keep", "once"], reloaded.Coordinator.ListGroups(null, null).Groups.Select(g => g.GroupId).Order(StringComparer.Ordinal));
            await reloaded.DisposeAsync();
            reopened.CloseLogs();
        }
        finally
        {
            topic.Dispose();
        }
    }

    /// <summary>Records whose key holds the group id <paramref name="group"/> (length-prefixed, as the key schemas write it).</summary>
    private static int CountOf(List<(byte[] Key, byte[]? Value)> records, string group)
    {
        byte[] name = Encoding.UTF8.GetBytes(group);
        byte[] prefixed = [(byte)(name.Length >> 8), (byte)name.Length, .. name];
        return records.Count(r => r.Key.AsSpan().IndexOf(prefixed) >= 0);
    }

    /// <summary>(offset, key) of every record in the log, in offset order.</summary>
    private static List<(long Offset, byte[] Key)> KeysWithOffsets(PartitionLog log)
    {
        var result = new List<(long, byte[])>();
        long offset = log.LogStartOffset;
        while (offset < log.LogEndOffset)
        {
            using var read = log.Read(offset, 1 << 20, log.LogEndOffset, minOneBatch: true);
            var data = read.Records.Span;
            if (data.IsEmpty) break;
            while (RecordBatchHeader.TryRead(data, out var h) && h.TotalSize <= data.Length)
            {
                var reader = new RecordReader(data[..h.TotalSize]);
                while (reader.TryRead(out var r)) result.Add((r.Offset, r.Key.ToArray()));
                offset = h.LastOffset + 1;
                data = data[h.TotalSize..];
            }
        }
        return result;
    }
}
