using System.Buffers.Binary;
using System.Net.Sockets;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests;

/// <summary>
/// Hostile bytes on the Kafka port: the offending connection is closed, the process survives and other
/// clients keep working.
/// </summary>
public sealed class MalformedInputTests : IntegrationTest
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    public MalformedInputTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void HostileFrames_CloseTheConnection_BrokerStaysUsable()
    {
        var broker = StartBroker("garbage");

        // 1. A size prefix of 0x7fffffff: the broker must not try to buffer 2 GiB; it closes the connection.
        ExpectClosed(broker, "size prefix 0x7fffffff", s =>
        {
            var frame = new byte[4 + 64];
            BinaryPrimitives.WriteInt32BigEndian(frame, int.MaxValue);
            s.Send(frame);
        });

        // 2. A negative size prefix.
        ExpectClosed(broker, "negative size prefix", s => s.Send(new byte[] { 0xff, 0xff, 0xff, 0xf0, 1, 2, 3, 4 }));

        // 3. A well-sized frame whose header names a nonexistent API key (0x7f7f) and holds random bytes.
        ExpectClosed(broker, "unknown api key 0x7f7f", s =>
        {
            var frame = new byte[4 + 100];
            BinaryPrimitives.WriteInt32BigEndian(frame, 100);
            new Random(1234).NextBytes(frame.AsSpan(4));
            frame[4] = 0x7f;
            frame[5] = 0x7f;
            s.Send(frame);
        });

        // 4. A frame for ApiVersions whose client id length points past the end of the frame.
        ExpectClosed(broker, "truncated request header", s =>
        {
            var frame = new byte[4 + 12];
            BinaryPrimitives.WriteInt32BigEndian(frame, 12);
            BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(4), 3); // Metadata
            BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(6), 1);
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(8), 77);
            BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(12), 500); // client id "500 bytes long"
            s.Send(frame);
        });

        // 5. Pure noise, many times, from a fixed seed. Whatever the broker answers, it must survive.
        var rng = new Random(42);
        for (int i = 0; i < 20; i++)
        {
            using var s = KafkaWire.Connect(broker.Port, TimeSpan.FromSeconds(5));
            var noise = new byte[rng.Next(1, 3000)];
            rng.NextBytes(noise);
            try
            {
                s.Send(noise);
                s.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // the broker may already have closed it
            }
        }

        Thread.Sleep(300);
        Assert.True(broker.IsRunning, "the broker process died after malformed input\n" + broker.DescribeState());
        string? probe = KafkaWire.ProbeApiVersions(broker.Port, TimeSpan.FromSeconds(5));
        Assert.True(probe is null, $"ApiVersions fails after malformed input: {probe}\n{broker.DescribeState()}");
        AssertScriptOk(Confluent(broker, "roundtrip", "--topic", "after-garbage", "--codecs", "snappy", "--count", "30",
            "--partitions", "1"), broker, "a normal client after the malformed input");
    }

    private void ExpectClosed(BrokerProcess broker, string what, Action<Socket> send)
    {
        using var socket = KafkaWire.Connect(broker.Port, TimeSpan.FromSeconds(5));
        try
        {
            send(socket);
        }
        catch (SocketException ex)
        {
            Output.WriteLine($"{what}: send failed ({ex.SocketErrorCode}): closed early, fine");
            return;
        }
        string? problem = KafkaWire.WaitForClose(socket, CloseTimeout);
        Assert.True(problem is null, $"{what}: {problem}\n{broker.DescribeState()}");
        Assert.True(broker.IsRunning, $"{what}: the broker process died\n{broker.DescribeState()}");
        Output.WriteLine($"{what}: connection closed by the broker");
    }
}
