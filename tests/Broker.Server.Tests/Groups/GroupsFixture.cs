using System.Collections.Immutable;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Groups;
using Broker.Metadata.Image;
using Broker.Server.Admin;
using Broker.Server.Groups;
using Broker.Server.Handlers;
using Broker.Server.Partitions;
using Broker.Server.Pipeline;
using Broker.Storage;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// The group APIs of node 1 in-process: real partition logs in a temp directory behind a PartitionManager, a
/// metadata image with __consumer_offsets (3 partitions; 0 and 1 led here, 2 led by node 2 with a follower replica
/// here) and a data topic "orders" (2 partitions), the real <see cref="GroupCoordinator"/> over
/// <see cref="OffsetsTopicView"/>, and every group handler behind a dispatcher, as BrokerNode wires them.
/// </summary>
internal sealed class GroupsFixture : IAsyncDisposable
{
    public const string DataTopic = "orders";
    public const int RemotePartition = 2;

    private readonly string _dir;
    private readonly LogManager _logs;
    private readonly PartitionManager _partitions;

    private GroupsFixture()
    {
        _dir = Path.Combine(Path.GetTempPath(), "broker-groups-" + Guid.NewGuid().ToString("N"));
        _logs = new LogManager(_dir, SystemClock.Instance);
        _partitions = new PartitionManager(_logs, 1, _ => new LogOptions { RetentionMs = -1, SegmentBytes = 1 << 20 });
        Image = GroupImages.Build([GroupImages.Broker(1), GroupImages.Broker(2)], b =>
        {
            var offsets = Guid.NewGuid();
            b.AddTopic(InternalTopics.ConsumerOffsets, offsets);
            var draft = b.EditTopic(offsets)!;
            draft.SetPartition(new PartitionImage(0, 1, 1, 0, ImmutableArray.Create(1), ImmutableArray.Create(1)));
            draft.SetPartition(new PartitionImage(1, 1, 1, 0, ImmutableArray.Create(1), ImmutableArray.Create(1)));
            draft.SetPartition(new PartitionImage(2, 2, 1, 0, ImmutableArray.Create(2, 1), ImmutableArray.Create(2, 1)));
            var data = Guid.NewGuid();
            b.AddTopic(DataTopic, data);
            var dataDraft = b.EditTopic(data)!;
            dataDraft.SetPartition(new PartitionImage(0, 1, 3, 0, ImmutableArray.Create(1), ImmutableArray.Create(1)));
            dataDraft.SetPartition(new PartitionImage(1, 1, 3, 0, ImmutableArray.Create(1), ImmutableArray.Create(1)));
        });
        _partitions.ApplyImage(Image);
        Coordinator = new GroupCoordinator(new GroupCoordinatorOptions
        {
            OffsetsTopicPartitions = 3,
            GroupInitialRebalanceDelayMs = 0,
            GroupMinSessionTimeoutMs = 100,
            MaintenanceIntervalMs = 20,
        }, new OffsetsTopicView(_partitions, () => Image), SystemClock.Instance);
        var creator = new OffsetsTopicCreator(new CapturingTopicAdmin(), new OffsetsTopicSettings { Partitions = 3, ReplicationFactor = 1 });
        var table = new HandlerTable();
        table.Register(new FindCoordinatorHandler(() => Image, Coordinator.PartitionFor, creator))
            .Register(new JoinGroupHandler(Coordinator))
            .Register(new SyncGroupHandler(Coordinator))
            .Register(new HeartbeatHandler(Coordinator))
            .Register(new LeaveGroupHandler(Coordinator))
            .Register(new OffsetCommitHandler(Coordinator, () => Image))
            .Register(new OffsetFetchHandler(Coordinator))
            .Register(new DescribeGroupsHandler(Coordinator))
            .Register(new ListGroupsHandler(Coordinator))
            .Register(new DeleteGroupsHandler(Coordinator))
            .Register(new OffsetDeleteHandler(Coordinator, () => Image));
        Wire = new GroupWireHarness(table);
    }

    public MetadataImage Image { get; }
    public GroupCoordinator Coordinator { get; }
    public GroupWireHarness Wire { get; }

    /// <summary>Starts the coordinator and waits until it has loaded the partitions it leads.</summary>
    public static async Task<GroupsFixture> StartAsync()
    {
        var f = new GroupsFixture();
        f.Coordinator.Start();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            bool ready = f.Coordinator.CheckCoordinator(f.GroupOn(0)) == ErrorCode.None && f.Coordinator.CheckCoordinator(f.GroupOn(1)) == ErrorCode.None;
            if (ready) return f;
            if (DateTime.UtcNow > deadline)
            {
                await f.DisposeAsync();
                throw new TimeoutException("the coordinator did not load its __consumer_offsets partitions within 10 s");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>A group id (with <paramref name="prefix"/>) that the coordinator places on <paramref name="partition"/>.</summary>
    public string GroupOn(int partition, string prefix = "group")
    {
        for (int i = 0; ; i++)
        {
            string id = $"{prefix}-{i}";
            if (Coordinator.PartitionFor(id) == partition) return id;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Coordinator.DisposeAsync();
        _partitions.CloseReplicas();
        _partitions.Dispose();
        _logs.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
