using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.Client.Consumer;

/// <summary>
/// OffsetFetch and OffsetCommit requests and answers, normalized over their versions (v8+ OffsetFetch names groups;
/// older versions one group with a top-level error).
/// </summary>
internal static class OffsetRequests
{
    public static IKafkaMessage BuildOffsetFetch(string groupId, IReadOnlyList<TopicPartition>? partitions, short version)
    {
        if (version >= 8)
        {
            List<OffsetFetchRequest.OffsetFetchRequestTopics>? topics = null;
            if (partitions is not null)
            {
                topics = new();
                foreach (var (topic, indexes) in GroupByTopic(partitions))
                    topics.Add(new OffsetFetchRequest.OffsetFetchRequestTopics { Name = topic, PartitionIndexes = indexes });
            }
            var group = new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = groupId, Topics = topics };
            return new OffsetFetchRequest { Groups = new() { group } };
        }
        List<OffsetFetchRequest.OffsetFetchRequestTopic>? legacy = null;
        if (partitions is not null)
        {
            legacy = new();
            foreach (var (topic, indexes) in GroupByTopic(partitions))
                legacy.Add(new OffsetFetchRequest.OffsetFetchRequestTopic { Name = topic, PartitionIndexes = indexes });
        }
        return new OffsetFetchRequest { GroupId = groupId, Topics = legacy };
    }

    /// <summary>The group-level error and the per-partition committed offsets (offset -1 = none).</summary>
    public static (ErrorCode Error, List<CommittedOffset> Offsets) ReadOffsetFetch(ref KafkaReader reader, short version)
    {
        var r = OffsetFetchResponse.Read(ref reader, version);
        var offsets = new List<CommittedOffset>();
        if (version >= 8)
        {
            if (r.Groups.Count == 0) return (ErrorCode.UnknownServerError, offsets);
            var g = r.Groups[0];
            foreach (var t in g.Topics)
                foreach (var p in t.Partitions)
                    offsets.Add(new CommittedOffset(t.Name, p.PartitionIndex, p.CommittedOffset, p.Metadata, (ErrorCode)p.ErrorCode));
            return ((ErrorCode)g.ErrorCode, offsets);
        }
        foreach (var t in r.Topics)
            foreach (var p in t.Partitions)
                offsets.Add(new CommittedOffset(t.Name, p.PartitionIndex, p.CommittedOffset, p.Metadata, (ErrorCode)p.ErrorCode));
        return ((ErrorCode)r.ErrorCode, offsets);
    }

    public static IKafkaMessage BuildOffsetCommit(string groupId, int generationId, string memberId, string? groupInstanceId,
        IReadOnlyList<TopicPartitionOffset> offsets)
    {
        var request = new OffsetCommitRequest
        {
            GroupId = groupId,
            GenerationIdOrMemberEpoch = generationId,
            MemberId = memberId,
            GroupInstanceId = groupInstanceId,
        };
        var byTopic = new Dictionary<string, OffsetCommitRequest.OffsetCommitRequestTopic>(StringComparer.Ordinal);
        foreach (var o in offsets)
        {
            if (!byTopic.TryGetValue(o.Topic, out var topic))
            {
                topic = new OffsetCommitRequest.OffsetCommitRequestTopic { Name = o.Topic };
                byTopic.Add(o.Topic, topic);
                request.Topics.Add(topic);
            }
            topic.Partitions.Add(new OffsetCommitRequest.OffsetCommitRequestPartition
            {
                PartitionIndex = o.Partition,
                CommittedOffset = o.Offset,
                CommittedMetadata = o.Metadata ?? "",
            });
        }
        return request;
    }

    /// <summary>A coordinator-level error any partition carries (they all carry it when there is one).</summary>
    public static ErrorCode CoordinatorErrorOf(OffsetCommitResponse response)
    {
        foreach (var t in response.Topics)
            foreach (var p in t.Partitions)
                if (GroupRetry.IsCoordinatorRetriable((ErrorCode)p.ErrorCode)) return (ErrorCode)p.ErrorCode;
        return ErrorCode.None;
    }

    /// <summary>One result per requested offset, in request order; a partition missing from the answer is UNKNOWN_SERVER_ERROR.</summary>
    public static IReadOnlyList<CommittedOffset> CommitResults(OffsetCommitResponse response, IReadOnlyList<TopicPartitionOffset> offsets)
    {
        var errors = new Dictionary<TopicPartition, ErrorCode>();
        foreach (var t in response.Topics)
            foreach (var p in t.Partitions)
                errors[new TopicPartition(t.Name, p.PartitionIndex)] = (ErrorCode)p.ErrorCode;
        var results = new List<CommittedOffset>(offsets.Count);
        foreach (var o in offsets)
        {
            var error = errors.TryGetValue(new TopicPartition(o.Topic, o.Partition), out var e) ? e : ErrorCode.UnknownServerError;
            results.Add(new CommittedOffset(o.Topic, o.Partition, o.Offset, o.Metadata, error));
        }
        return results;
    }

    private static List<(string Topic, List<int> Partitions)> GroupByTopic(IReadOnlyList<TopicPartition> partitions)
    {
        var result = new List<(string, List<int>)>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var tp in partitions)
        {
            if (!index.TryGetValue(tp.Topic, out int i))
            {
                i = result.Count;
                index.Add(tp.Topic, i);
                result.Add((tp.Topic, new List<int>()));
            }
            result[i].Item2.Add(tp.Partition);
        }
        return result;
    }
}
