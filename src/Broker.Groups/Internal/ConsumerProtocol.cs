using System.Buffers.Binary;
using System.Text;

namespace Broker.Groups.Internal;

/// <summary>
/// Reads the topic list of a consumer-protocol subscription (the JoinGroup metadata of protocol type "consumer"):
/// int16 version, then int32 count of int16-length UTF-8 topic names; later fields (user data, owned partitions,
/// generation, rack) are not needed by the coordinator.
/// </summary>
internal static class ConsumerProtocol
{
    public static bool TryReadSubscribedTopics(ReadOnlySpan<byte> metadata, HashSet<string> topics)
    {
        if (metadata.Length < 6) return false;
        short version = BinaryPrimitives.ReadInt16BigEndian(metadata);
        if (version < 0) return false;
        int count = BinaryPrimitives.ReadInt32BigEndian(metadata[2..]);
        int p = 6;
        if (count < 0 || count > (metadata.Length - p) / 2) return false;
        for (int i = 0; i < count; i++)
        {
            if (metadata.Length - p < 2) return false;
            short length = BinaryPrimitives.ReadInt16BigEndian(metadata[p..]);
            p += 2;
            if (length < 0 || length > metadata.Length - p) return false;
            topics.Add(Encoding.UTF8.GetString(metadata.Slice(p, length)));
            p += length;
        }
        return true;
    }
}
