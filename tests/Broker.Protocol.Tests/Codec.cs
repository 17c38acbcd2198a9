using Broker.Core.Buffers;
using Broker.Protocol.Codec;

namespace Broker.Protocol.Tests;

/// <summary>Encode/decode helpers for tests: bytes without the size prefix.</summary>
internal static class Codec
{
    public delegate T Reader<T>(ref KafkaReader reader, short version);

    public static byte[] Encode(IKafkaMessage message, short version)
    {
        using var output = new ChunkedBufferWriter();
        var writer = new KafkaWriter(output);
        message.Write(ref writer, version);
        return output.ToArray()[4..];
    }

    public static T Decode<T>(byte[] bytes, short version, Reader<T> read)
    {
        var reader = new KafkaReader(bytes);
        var result = read(ref reader, version);
        if (!reader.IsAtEnd) throw new InvalidOperationException($"{reader.Remaining} bytes left unread");
        return result;
    }

    /// <summary>Encode, decode, encode again: both encodings must be identical.</summary>
    public static T RoundTrip<T>(T message, short version, Reader<T> read) where T : IKafkaMessage
    {
        var first = Encode(message, version);
        var decoded = Decode(first, version, read);
        var second = Encode(decoded, version);
        Xunit.Assert.Equal(first, second);
        return decoded;
    }
}
