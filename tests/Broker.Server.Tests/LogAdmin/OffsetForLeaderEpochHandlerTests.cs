using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Protocol.Messages;
using Broker.Server.LogAdmin;
using Broker.Server.Partitions;
using Broker.Storage;
using Xunit;

namespace Broker.Server.Tests.LogAdmin;

/// <summary>OffsetForLeaderEpoch v0-4 on a three-replica partition whose leadership moved twice.</summary>
public sealed class OffsetForLeaderEpochHandlerTests : IAsyncLifetime
{
    private LogAdminFixture _fixture = null!;
    private readonly List<(int Epoch, long Start)> _epochs = new();

    public async Task InitializeAsync()
    {
        _fixture = await LogAdminFixture.StartAsync(3);
        _fixture.CreateTopic("moves", replicas: [1, 2, 3]);
        // Three leaders in turn (1, 2, 3), each writing a batch: three epochs. Each new epoch starts where the previous
        // leader's log ended (the new leader's first entry, a no-op or a batch, goes there).
        long start = 0;
        foreach (int next in new[] { 2, 3, 0 })
        {
            int leader = _fixture.WaitForLeader("moves");
            var group = _fixture.Group(leader, "moves");
            await _fixture.ProduceAsync("moves", batches: 1, records: 2);
            _epochs.Add((group.LeaderEpoch, start));
            if (next == 0) break;
            LogAdminFixture.Wait(() => group.InSyncReplicas().Contains(next), "the next leader in sync");
            start = group.Log.LogEndOffset;
            Assert.True(group.TransferLeadership(next));
            LogAdminFixture.Wait(() => _fixture.Group(next, "moves").IsLeader, $"node {next} to lead");
        }
    }

    public async Task DisposeAsync() => await _fixture.DisposeAsync();

    private async Task<OffsetForLeaderEpochResponse.EpochEndOffset> AskAsync(int node, short version, int leaderEpoch,
        int currentLeaderEpoch = -1, string topic = "moves")
    {
        var request = new OffsetForLeaderEpochRequest
        {
            ReplicaId = -1,
            Topics = [new() { Topic = topic, Partitions = [new() { Partition = 0, LeaderEpoch = leaderEpoch, CurrentLeaderEpoch = currentLeaderEpoch }] }],
        };
        var response = await _fixture.NodeById(node).Harness.CallAsync((short)ApiKey.OffsetForLeaderEpoch, version, request,
            OffsetForLeaderEpochResponse.Read);
        var topicResult = Assert.Single(response.Topics);
        Assert.Equal(topic, topicResult.Topic);
        return Assert.Single(topicResult.Partitions);
    }

    [Fact]
    public async Task Each_epoch_ends_where_the_next_leader_started()
    {
        Assert.Equal(3, _fixture.WaitForLeader("moves"));
        long end = _fixture.Group(3, "moves").Log.LogEndOffset;
        for (short version = 0; version <= 4; version++)
            await CheckEpochsAsync(version, end);
    }

    private async Task CheckEpochsAsync(short version, long end)
    {
        for (int i = 0; i < _epochs.Count; i++)
        {
            var (epoch, _) = _epochs[i];
            long expectedEnd = i + 1 < _epochs.Count ? _epochs[i + 1].Start : end;
            var result = await AskAsync(3, version, epoch);
            Assert.Equal((0, expectedEnd), (result.ErrorCode, result.EndOffset));
            Assert.Equal(version >= 1 ? epoch : -1, result.LeaderEpoch); // v0 carries no epoch
        }
        // An epoch between two known ones answers the lower one; beyond the current one is undefined.
        if (_epochs[1].Epoch - _epochs[0].Epoch > 1)
            Assert.Equal(_epochs[1].Start, (await AskAsync(3, version, _epochs[0].Epoch + 1)).EndOffset);
        var beyond = await AskAsync(3, version, _epochs[^1].Epoch + 1);
        Assert.Equal((0, -1L), (beyond.ErrorCode, beyond.EndOffset));
    }

    [Fact]
    public async Task Followers_stale_epochs_and_unknown_partitions_get_errors()
    {
        int current = _epochs[^1].Epoch;
        Assert.Equal((short)ErrorCode.NotLeaderOrFollower, (await AskAsync(1, 4, current)).ErrorCode);
        Assert.Equal((short)ErrorCode.FencedLeaderEpoch, (await AskAsync(3, 2, current, currentLeaderEpoch: current - 1)).ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownLeaderEpoch, (await AskAsync(3, 3, current, currentLeaderEpoch: current + 1)).ErrorCode);
        var fine = await AskAsync(3, 4, current, currentLeaderEpoch: current);
        Assert.Equal((0, current), (fine.ErrorCode, fine.LeaderEpoch));
        var unknown = await AskAsync(3, 4, current, topic: "missing");
        Assert.Equal(((short)ErrorCode.UnknownTopicOrPartition, -1, -1L), (unknown.ErrorCode, unknown.LeaderEpoch, unknown.EndOffset));
    }

    [Fact]
    public async Task Epochs_whose_records_were_deleted_are_undefined()
    {
        var leader = _fixture.Group(3, "moves");
        var deleted = await leader.DeleteRecordsAsync(_epochs[1].Start + 1, TimeSpan.FromSeconds(10));
        Assert.Equal(ErrorCode.None, deleted.Error);
        Assert.Equal(-1L, (await AskAsync(3, 4, _epochs[0].Epoch)).EndOffset);
        Assert.Equal(_epochs[2].Start, (await AskAsync(3, 4, _epochs[1].Epoch)).EndOffset);
    }

    [Fact]
    public void A_replica_without_raft_answers_from_a_scan_of_its_batches()
    {
        string dir = Path.Combine(_fixture.Root, "plain");
        using var logs = new LogManager(dir, SystemClock.Instance);
        using var partitions = new PartitionManager(logs, 1, static _ => new LogOptions());
        var builder = new MetadataImageBuilder(MetadataImage.Empty("plain", 1));
        var id = Guid.NewGuid();
        builder.AddTopic("plain", id);
        builder.EditTopic(id)!.SetPartition(new PartitionImage(0, 1, 6, 0, [1], [1]));
        partitions.ApplyImage(builder.Build());
        Assert.True(partitions.TryGetPartition("plain", 0, out var state));
        Assert.IsType<LocalReplicatedLog>(state.Replica);
        var batch = new Broker.Core.Records.RecordBatchBuilder();
        batch.Reset(1);
        batch.Add(1, default, [1], keyIsNull: true);
        state.Replica.Append(batch.ToArray());
        Assert.Equal((ErrorCode.None, 6, 1L), ReplicaLogAdmin.EndOffsetForEpoch(state, 6));
        Assert.Equal((ErrorCode.None, -1, -1L), ReplicaLogAdmin.EndOffsetForEpoch(state, 5));
        var deleted = ReplicaLogAdmin.DeleteRecordsAsync(state, -1, TimeSpan.Zero, default).Result;
        Assert.Equal((ErrorCode.None, 1L), (deleted.Error, deleted.LowWatermark));
        Assert.Equal(ErrorCode.OffsetOutOfRange, ReplicaLogAdmin.DeleteRecordsAsync(state, 2, TimeSpan.Zero, default).Result.Error);
    }
}
