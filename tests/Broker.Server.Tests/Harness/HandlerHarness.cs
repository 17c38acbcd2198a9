using System.Buffers.Binary;
using System.Net;
using Broker.Core.Buffers;
using Broker.Network;
using Broker.Protocol.Codec;
using Broker.Server.Pipeline;
using Xunit;

namespace Broker.Server.Tests.Harness;

/// <summary>
/// Drives a dispatcher the way the network layer does: encodes a request frame (header + body) with the codec,
/// calls <see cref="KafkaRequestDispatcher.HandleAsync"/>, and decodes the response (header + body).
/// </summary>
public sealed class HandlerHarness(KafkaRequestDispatcher dispatcher)
{
    private readonly ConnectionContext _connection = new(1, "PLAINTEXT", new IPEndPoint(IPAddress.Loopback, 50000), new IPEndPoint(IPAddress.Loopback, 9092));
    private int _correlation;

    public static byte[] EncodeRequest(short apiKey, short version, IKafkaMessage request, int correlationId, string? clientId = "test")
    {
        using var output = new ChunkedBufferWriter();
        var writer = new KafkaWriter(output);
        new RequestHeader(apiKey, version, correlationId, clientId).Write(ref writer);
        request.Write(ref writer, version);
        return output.ToArray()[4..];
    }

    /// <summary>Sends a request and returns the raw response frame (without the size prefix), or null if none.</summary>
    public async Task<byte[]?> SendRawAsync(byte[] frame)
    {
        using var response = await dispatcher.HandleAsync(_connection, frame);
        if (response is null) return null;
        response.WriteSizePrefix();
        var bytes = response.ToArray();
        Assert.Equal(bytes.Length - 4, BinaryPrimitives.ReadInt32BigEndian(bytes));
        return bytes[4..];
    }

    public delegate T ResponseReader<T>(ref KafkaReader reader, short version);

    /// <summary>Round trip: encode, dispatch, decode with <paramref name="read"/> (e.g. MetadataResponse.Read).</summary>
    public async Task<T> CallAsync<T>(short apiKey, short version, IKafkaMessage request, ResponseReader<T> read)
    {
        int correlationId = Interlocked.Increment(ref _correlation);
        var frame = EncodeRequest(apiKey, version, request, correlationId);
        var response = await SendRawAsync(frame) ?? throw new InvalidOperationException("no response");
        return Decode(response, apiKey, version, correlationId, read);
    }

    private static T Decode<T>(byte[] response, short apiKey, short version, int correlationId, ResponseReader<T> read)
    {
        var reader = new KafkaReader(response);
        Assert.Equal(correlationId, RequestHeader.ReadResponseHeader(ref reader, apiKey, version));
        var result = read(ref reader, version);
        Assert.True(reader.IsAtEnd, $"{reader.Remaining} unread bytes after the response body");
        return result;
    }
}
