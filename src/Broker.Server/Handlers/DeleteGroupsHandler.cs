// DeleteGroups (key 42): v0-2.
// Behaviour: each distinct group named (first occurrence order; Kafka dedupes too) gets one result: the
// coordinator's group-level check (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) or the deletion's outcome
// (None; NON_EMPTY_GROUP while it has members; GROUP_ID_NOT_FOUND when unknown). The empty group id is allowed.
// Deletions of several groups run concurrently.
using Broker.Core.Model;
using Broker.Groups;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class DeleteGroupsHandler(GroupCoordinator coordinator) : KafkaHandler<DeleteGroupsRequest>
{
    public override ApiKey Key => ApiKey.DeleteGroups;
    public override short MinVersion => 0;
    public override short MaxVersion => 2;

    protected override DeleteGroupsRequest Parse(ref KafkaReader reader, short version) => DeleteGroupsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, DeleteGroupsRequest request)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var groups = new List<string>(request.GroupsNames.Count);
        var pending = new List<Task<ErrorCode>>(request.GroupsNames.Count);
        foreach (string groupId in request.GroupsNames)
        {
            if (!seen.Add(groupId)) continue;
            groups.Add(groupId);
            var error = coordinator.CheckCoordinator(groupId);
            pending.Add(error != ErrorCode.None ? Task.FromResult(error) : coordinator.DeleteGroupAsync(groupId, context.Connection.Closed));
        }
        return CompleteAsync(groups, pending);
    }

    private static async ValueTask<IKafkaMessage?> CompleteAsync(List<string> groups, List<Task<ErrorCode>> pending)
    {
        var response = new DeleteGroupsResponse { Results = new(groups.Count) };
        for (int i = 0; i < groups.Count; i++)
        {
            var error = await pending[i].ConfigureAwait(false);
            response.Results.Add(new DeleteGroupsResponse.DeletableGroupResult { GroupId = groups[i], ErrorCode = (short)error });
        }
        return response;
    }
}
