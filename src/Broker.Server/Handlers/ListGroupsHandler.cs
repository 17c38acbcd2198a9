// ListGroups (key 16): v0-4.
// Behaviour: the groups this broker coordinates (as in Kafka, admin clients ask every broker), with their protocol
// type and (v4+) state. StatesFilter (v4+; empty = all) is passed to the coordinator; ErrorCode is the
// coordinator's (COORDINATOR_LOAD_IN_PROGRESS while an offsets partition is still loading).
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Groups;
using Broker.Server.Pipeline;

namespace Broker.Server.Handlers;

public sealed class ListGroupsHandler(GroupCoordinator coordinator) : KafkaHandler<ListGroupsRequest>
{
    public override ApiKey Key => ApiKey.ListGroups;
    public override short MinVersion => 0;
    public override short MaxVersion => 4;

    protected override ListGroupsRequest Parse(ref KafkaReader reader, short version) => ListGroupsRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, ListGroupsRequest request)
    {
        var states = context.ApiVersion >= 4 && request.StatesFilter.Count > 0 ? request.StatesFilter : null;
        var outcome = coordinator.ListGroups(states, typesFilter: null);
        var response = new ListGroupsResponse { ErrorCode = (short)outcome.Error, Groups = new(outcome.Groups.Count) };
        foreach (var g in outcome.Groups)
            response.Groups.Add(new ListGroupsResponse.ListedGroup { GroupId = g.GroupId, ProtocolType = g.ProtocolType ?? "", GroupState = g.State ?? "" });
        return new(response);
    }
}
