using Broker.Groups;
using Broker.Server.Admin;
using Broker.Server.Groups;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;

namespace Broker.Host;

// The group coordinator on a broker: __consumer_offsets, FindCoordinator and the group APIs. The coordinator sees
// the offsets partitions through the PartitionManager (OffsetsTopicView) and coordinates the groups of the ones led
// here; FindCoordinator creates the topic through the controller on first use.
public sealed partial class BrokerNode
{
    private GroupCoordinator? _groupCoordinator;

    private void RegisterGroupHandlers(HandlerTable table, ITopicAdmin admin)
    {
        var metadata = _metadata!;
        var coordinator = new GroupCoordinator(GroupSettings.FromConfig(Config), new OffsetsTopicView(_partitions!, () => metadata.Current), _clock);
        _groupCoordinator = coordinator;
        var creator = new OffsetsTopicCreator(admin, OffsetsTopicSettings.FromConfig(Config), _clock);
        table
            .Register(new FindCoordinatorHandler(() => metadata.Current, coordinator.PartitionFor, creator))
            .Register(new JoinGroupHandler(coordinator))
            .Register(new SyncGroupHandler(coordinator))
            .Register(new HeartbeatHandler(coordinator))
            .Register(new LeaveGroupHandler(coordinator))
            .Register(new OffsetCommitHandler(coordinator, () => metadata.Current))
            .Register(new OffsetFetchHandler(coordinator))
            .Register(new DescribeGroupsHandler(coordinator))
            .Register(new ListGroupsHandler(coordinator))
            .Register(new DeleteGroupsHandler(coordinator))
            .Register(new OffsetDeleteHandler(coordinator, () => metadata.Current));
    }

    private void StartGroupCoordinator() => _groupCoordinator?.Start();

    private async Task StopGroupCoordinatorAsync()
    {
        var coordinator = _groupCoordinator;
        _groupCoordinator = null;
        if (coordinator is null) return;
        try
        {
            await coordinator.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Logger.Error("stopping the group coordinator failed", ex);
        }
    }
}
