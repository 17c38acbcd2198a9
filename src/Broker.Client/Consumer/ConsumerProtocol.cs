using Broker.Core.Buffers;
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.Client.Consumer;

/// <summary>
/// The "consumer" protocol type's embedded payloads: a member's subscription (JoinGroup protocol metadata) and its
/// assignment (SyncGroup / DescribeGroups), each an int16 version followed by the versioned struct. We write
/// version 0 (every client reads it); we read any version, decoding newer ones with the newest layout we know
/// (later versions only append fields).
/// </summary>
public static class ConsumerProtocol
{
    /// <summary>Kafka's protocol type for consumer groups.</summary>
    public const string ProtocolType = "consumer";

    public static byte[] EncodeSubscription(IReadOnlyList<string> topics, byte[]? userData = null)
    {
        var subscription = new ConsumerProtocolSubscription { Topics = new List<string>(topics), UserData = userData };
        return Encode(subscription);
    }

    /// <summary>The topics of a member's subscription; false (with a reason) when the payload is malformed.</summary>
    public static bool TryDecodeSubscription(ReadOnlyMemory<byte> metadata, out List<string> topics, out string? problem)
    {
        topics = new List<string>();
        problem = null;
        try
        {
            var reader = new KafkaReader(metadata);
            short version = reader.ReadInt16();
            if (version < 0) { problem = $"subscription version {version}"; return false; }
            var subscription = ConsumerProtocolSubscription.Read(ref reader,
                Math.Min(version, ConsumerProtocolSubscription.HighestVersion));
            topics = subscription.Topics;
            return true;
        }
        catch (KafkaProtocolException ex)
        {
            problem = ex.Message;
            return false;
        }
    }

    /// <summary>Encodes an assignment: partitions grouped by topic (topics in first-appearance order).</summary>
    public static byte[] EncodeAssignment(IReadOnlyList<TopicPartition> partitions)
    {
        var assignment = new ConsumerProtocolAssignment();
        var byTopic = new Dictionary<string, ConsumerProtocolAssignment.TopicPartition>(StringComparer.Ordinal);
        foreach (var tp in partitions)
        {
            if (!byTopic.TryGetValue(tp.Topic, out var entry))
            {
                entry = new ConsumerProtocolAssignment.TopicPartition { Topic = tp.Topic };
                byTopic.Add(tp.Topic, entry);
                assignment.AssignedPartitions.Add(entry);
            }
            entry.Partitions.Add(tp.Partition);
        }
        return Encode(assignment);
    }

    /// <summary>
    /// Decodes an assignment; an empty payload is an empty assignment (what the coordinator sends a member the
    /// leader gave nothing, and what DescribeGroups shows outside Stable). False when malformed.
    /// </summary>
    public static bool TryDecodeAssignment(ReadOnlyMemory<byte> payload, out List<TopicPartition> partitions, out string? problem)
    {
        partitions = new List<TopicPartition>();
        problem = null;
        if (payload.IsEmpty) return true;
        try
        {
            var reader = new KafkaReader(payload);
            short version = reader.ReadInt16();
            if (version < 0) { problem = $"assignment version {version}"; return false; }
            var assignment = ConsumerProtocolAssignment.Read(ref reader, Math.Min(version, ConsumerProtocolAssignment.HighestVersion));
            foreach (var topic in assignment.AssignedPartitions)
                foreach (int p in topic.Partitions) partitions.Add(new TopicPartition(topic.Topic, p));
            return true;
        }
        catch (KafkaProtocolException ex)
        {
            problem = ex.Message;
            return false;
        }
    }

    private static byte[] Encode(IKafkaMessage message)
    {
        using var buffer = new ChunkedBufferWriter(256);
        var writer = new KafkaWriter(buffer);
        writer.WriteInt16(0);
        message.Write(ref writer, 0);
        // The writer reserves 4 bytes for a frame size prefix: the payload is what follows.
        return buffer.ToArray()[4..];
    }
}
