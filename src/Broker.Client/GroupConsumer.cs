using Broker.Core.Model;

namespace Broker.Client;

// CONTRACT (lead): implemented by the client-groups helper (may be split into partial files).
/// <summary>
/// A member of a consumer group (classic protocol, range assignor "range" plus "roundrobin"): joins, syncs, heartbeats
/// in the background, fetches from its assigned partitions starting at the committed offset (or AutoOffsetReset),
/// commits on request, leaves the group on dispose.
/// </summary>
public sealed partial class GroupConsumer : IAsyncDisposable
{
    public GroupConsumer(KafkaClient client, GroupConsumerOptions options) => throw new NotImplementedException();

    public string GroupId => throw new NotImplementedException();

    /// <summary>The member id given by the coordinator ("" before the first join).</summary>
    public string MemberId => throw new NotImplementedException();

    /// <summary>The partitions assigned in the current generation.</summary>
    public IReadOnlyList<TopicPartition> Assignment => throw new NotImplementedException();

    /// <summary>Sets the subscription (replacing any previous one); the next poll (re)joins the group.</summary>
    public Task SubscribeAsync(IReadOnlyList<string> topics, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary>
    /// Joins/rejoins as needed, then returns the records available within <paramref name="timeout"/> (empty when none),
    /// at most about <paramref name="maxBytes"/> of record data, and advances the consumed positions.
    /// </summary>
    public Task<IReadOnlyList<ConsumedRecord>> PollAsync(TimeSpan timeout, int maxBytes = 1024 * 1024,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Commits <paramref name="offsets"/> (next offset to read), or when null the positions of everything polled so far.</summary>
    public Task CommitAsync(IReadOnlyList<TopicPartitionOffset>? offsets = null, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary>The group's committed offsets for <paramref name="partitions"/>.</summary>
    public Task<IReadOnlyList<CommittedOffset>> CommittedAsync(IReadOnlyList<TopicPartition> partitions,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Leaves the group (LeaveGroup) and stops heartbeating.</summary>
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}
