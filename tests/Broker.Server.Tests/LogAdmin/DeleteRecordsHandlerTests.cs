using Broker.Core.Model;
using Broker.Protocol.Messages;
using Broker.Server.Tests.Harness;
using Xunit;

namespace Broker.Server.Tests.LogAdmin;

/// <summary>DeleteRecords v0-2 through the dispatcher over a one-voter Raft partition, and what reads see after it.</summary>
public sealed class DeleteRecordsHandlerTests : IAsyncLifetime
{
    private LogAdminFixture _fixture = null!;

    public async Task InitializeAsync()
    {
        _fixture = await LogAdminFixture.StartAsync(1);
        _fixture.CreateTopic("events", partitions: 2);
    }

    public async Task DisposeAsync() => await _fixture.DisposeAsync();

    private HandlerHarness Harness => _fixture.NodeById(1).Harness;

    private Task<DeleteRecordsResponse> DeleteAsync(short version, params (string Topic, int Partition, long Offset)[] entries)
    {
        var request = new DeleteRecordsRequest { TimeoutMs = 5000 };
        foreach (var group in entries.GroupBy(e => e.Topic))
            request.Topics.Add(new DeleteRecordsRequest.DeleteRecordsTopic
            {
                Name = group.Key,
                Partitions = group.Select(e => new DeleteRecordsRequest.DeleteRecordsPartition { PartitionIndex = e.Partition, Offset = e.Offset }).ToList(),
            });
        return Harness.CallAsync((short)ApiKey.DeleteRecords, version, request, DeleteRecordsResponse.Read);
    }

    private static DeleteRecordsResponse.DeleteRecordsPartitionResult Only(DeleteRecordsResponse response) =>
        Assert.Single(Assert.Single(response.Topics).Partitions);

    private async Task<ListOffsetsResponse.ListOffsetsPartitionResponse> EarliestAsync(string topic, int partition)
    {
        var request = new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics = [new() { Name = topic, Partitions = [new() { PartitionIndex = partition, Timestamp = -2 }] }],
        };
        var response = await Harness.CallAsync((short)ApiKey.ListOffsets, 7, request, ListOffsetsResponse.Read);
        return Assert.Single(Assert.Single(response.Topics).Partitions);
    }

    private async Task<FetchResponse.PartitionData> FetchAsync(string topic, int partition, long offset)
    {
        var request = new FetchRequest
        {
            ReplicaId = -1,
            MaxBytes = 1 << 20,
            Topics = [new() { Topic = topic, Partitions = [new() { Partition = partition, FetchOffset = offset, PartitionMaxBytes = 1 << 20 }] }],
        };
        var response = await Harness.CallAsync((short)ApiKey.Fetch, 12, request, FetchResponse.Read);
        return Assert.Single(Assert.Single(response.Responses).Partitions);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Deleting_inside_a_batch_moves_the_low_watermark_for_every_reader(short version)
    {
        long end = await _fixture.ProduceAsync("events", batches: 4, records: 3); // [0, 12)
        var result = Only(await DeleteAsync(version, ("events", 0, 7)));
        Assert.Equal((0, 7L, 0), (result.ErrorCode, result.LowWatermark, result.PartitionIndex));

        var earliest = await EarliestAsync("events", 0);
        Assert.Equal((0, 7L), (earliest.ErrorCode, earliest.Offset));
        var below = await FetchAsync("events", 0, 6);
        Assert.Equal((short)ErrorCode.OffsetOutOfRange, below.ErrorCode);
        var at = await FetchAsync("events", 0, 7);
        Assert.Equal((0, 7L, end), (at.ErrorCode, at.LogStartOffset, at.HighWatermark));
        Assert.True(at.Records!.Value.Length > 0);

        // -1 = the high watermark: everything goes; the other partition is untouched.
        var all = Only(await DeleteAsync(version, ("events", 0, -1)));
        Assert.Equal((0, end), (all.ErrorCode, all.LowWatermark));
        Assert.Equal(0, (await EarliestAsync("events", 1)).Offset);
    }

    [Fact]
    public async Task Bad_offsets_and_partitions_get_their_errors_with_no_low_watermark()
    {
        long end = await _fixture.ProduceAsync("events", batches: 1, records: 5);
        _fixture.CreateTopic("compacted", configs: new() { ["cleanup.policy"] = "compact" });
        _fixture.CreateTopic("__consumer_offsets");
        var response = await DeleteAsync(2,
            ("events", 0, end + 1), ("events", 0, -2), ("events", 9, 1), ("missing", 0, 1),
            ("compacted", 0, 0), ("__consumer_offsets", 0, 0), ("events", 1, 0));
        var results = response.Topics.SelectMany(t => t.Partitions.Select(p => (t.Name, p.PartitionIndex, (ErrorCode)p.ErrorCode, p.LowWatermark))).ToList();
        Assert.Equal(
        [
            ("events", 0, ErrorCode.OffsetOutOfRange, -1L),
            ("events", 0, ErrorCode.OffsetOutOfRange, -1L),
            ("events", 9, ErrorCode.UnknownTopicOrPartition, -1L),
            ("events", 1, ErrorCode.None, 0L),
            ("missing", 0, ErrorCode.UnknownTopicOrPartition, -1L),
            ("compacted", 0, ErrorCode.PolicyViolation, -1L),
            ("__consumer_offsets", 0, ErrorCode.InvalidTopicException, -1L),
        ], results);
        Assert.Equal(0, (await EarliestAsync("events", 0)).Offset);
    }

    [Fact]
    public async Task A_replica_that_does_not_lead_answers_not_leader()
    {
        // Replicas 1 and 2, but node 2 does not exist: node 1 can never win an election.
        _fixture.CreateTopic("orphan", replicas: [1, 2]);
        var result = Only(await DeleteAsync(1, ("orphan", 0, 0)));
        Assert.Equal(((short)ErrorCode.NotLeaderOrFollower, -1L), (result.ErrorCode, result.LowWatermark));
    }

    [Fact]
    public async Task The_log_start_survives_a_reopen_of_the_replica()
    {
        await _fixture.ProduceAsync("events", batches: 2, records: 4);
        Assert.Equal(5, Only(await DeleteAsync(2, ("events", 0, 5))).LowWatermark);
        var node = _fixture.NodeById(1);
        node.Partitions.CloseReplicas(); // closes the group and its log
        node.Logs.Dispose();
        using var reopened = new Broker.Storage.LogManager(node.Logs.LogDir, Broker.Core.Diagnostics.SystemClock.Instance);
        reopened.LoadAll(_ => new Broker.Storage.LogOptions());
        Assert.Equal(5, reopened.Get(new TopicPartition("events", 0))!.LogStartOffset);
    }
}
