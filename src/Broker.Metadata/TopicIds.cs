using System.Buffers.Text;
using Broker.Metadata.Image;

namespace Broker.Metadata;

/// <summary>
/// Topic and cluster ids in Kafka's style. A Guid is written to the wire and to the log as its 16 big-endian
/// bytes (<c>Guid.TryWriteBytes(bigEndian: true)</c>), which is how a Kafka UUID's two longs are laid out, and
/// Kafka prints it as unpadded base64url (22 characters).
/// </summary>
public static class TopicIds
{
    /// <summary>Kafka's reserved id of __cluster_metadata (UUID 0,1 = "AAAAAAAAAAAAAAAAAAAAAQ").</summary>
    public static readonly Guid MetadataTopicId = FromBigEndianBytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

    /// <summary>A random id that is neither zero, reserved, printed with a leading '-', nor used in <paramref name="image"/>.</summary>
    public static Guid NewTopicId(MetadataImage? image = null)
    {
        while (true)
        {
            var id = NewRandomId();
            if (image is null || image.GetTopic(id) is null) return id;
        }
    }

    /// <summary>A random id with the same restrictions as Kafka's Uuid.randomUuid().</summary>
    public static Guid NewRandomId()
    {
        Span<byte> bytes = stackalloc byte[16];
        while (true)
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
            if ((bytes[0] >> 2) == 62) continue; // base64url '-' first: looks like a command-line option
            var id = FromBigEndianBytes(bytes);
            if (id != Guid.Empty && id != MetadataTopicId) return id;
        }
    }

    /// <summary>Kafka's string form: unpadded base64url of the 16 big-endian bytes.</summary>
    public static string ToKafkaString(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return Base64Url.EncodeToString(bytes);
    }

    public static bool TryParseKafkaString(string text, out Guid id)
    {
        Span<byte> bytes = stackalloc byte[18];
        if (text.Length != 22 || !Base64Url.TryDecodeFromChars(text, bytes, out int written) || written != 16)
        {
            id = Guid.Empty;
            return false;
        }
        id = FromBigEndianBytes(bytes[..16]);
        return true;
    }

    private static Guid FromBigEndianBytes(ReadOnlySpan<byte> bytes) => new(bytes, bigEndian: true);
}
