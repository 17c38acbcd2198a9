using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Network;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Tests.Harness;
using Xunit;

namespace Broker.Server.Tests.Data;

/// <summary>
/// Fetch over a real socket with the real storage engine: record bytes leave by sendfile from the segment files, the
/// frames stay exact with pipelined requests and a client that reads slowly through tiny socket buffers, and
/// retention deleting the very segments being sent (or about to be sent) does not disturb the responses.
/// </summary>
public sealed class SendFileFetchTests : IDisposable
{
    private readonly DataFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pipelined_fetches_arrive_exact_with_or_without_retention_deleting_their_segments_mid_send(bool deleteMidway)
    {
        _f.CreateTopic("z", configs: new() { ["segment.bytes"] = "262144" });
        var produced = new List<byte[]>();
        for (int i = 0; i < 12; i++)
        {
            var batch = TestBatches.Build(count: 100, valueSize: 1000, fill: (byte)(0x41 + i));
            produced.Add(batch);
            Assert.Equal(0, (await _f.ProduceAsync("z", 0, batch, acks: 1)).ErrorCode);
        }
        var log = _f.Logs.Get(new TopicPartition("z", 0))!;
        long chunksBefore = KafkaConnection.SendFileChunks;

        await using var listener = new KafkaListener(new KafkaListenerOptions
        {
            ListenerName = "PLAINTEXT",
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            SocketSendBufferBytes = 4096,
        }, _f.Dispatcher);
        listener.Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(listener.BoundEndPoint!);

        // Three fetches in one write: the first, second and fourth segments (two 100-record batches each).
        long[] offsets = [0, 200, 600];
        var frames = new List<byte>();
        for (int i = 0; i < offsets.Length; i++) frames.AddRange(Frame(DataFixture.FetchRequestFor("z", 0, offsets[i]), correlationId: 10 + i));
        await client.SendAsync(frames.ToArray());

        // Once the first response is on its way, retention removes every sealed segment (DeleteRecords, then cleanup).
        var head = new byte[16 * 1024];
        await ReadExactlyAsync(client, head);
        // All three fetches have read their records (each holds a lease until its response is sent).
        Assert.True(await WaitFor(() => _f.Leases.Outstanding == offsets.Length, 5000), $"{_f.Leases.Outstanding} reads outstanding");
        if (deleteMidway)
        {
            Assert.True(log.AdvanceLogStartOffset(log.LogEndOffset));
            Assert.True(log.ApplyRetention(_f.Clock.Now) >= 5);
            Assert.False(File.Exists(Path.Combine(_f.Directory, "z-0", "00000000000000000000.log")));
        }

        byte[] first = await ReadFrameAsync(client, head);
        var responses = new List<byte[]> { first };
        for (int i = 1; i < offsets.Length; i++) responses.Add(await ReadFrameAsync(client, []));

        for (int i = 0; i < offsets.Length; i++)
        {
            var reader = new KafkaReader(responses[i]);
            Assert.Equal(10 + i, RequestHeader.ReadResponseHeader(ref reader, 1, 12));
            var partition = Assert.Single(Assert.Single(FetchResponse.Read(ref reader, 12).Responses).Partitions);
            Assert.True(reader.IsAtEnd);
            Assert.Equal(0, partition.ErrorCode);
            var batches = TestBatches.Split(partition.Records!.Value.Span);
            Assert.Equal(2, batches.Count);
            for (int b = 0; b < batches.Count; b++)
            {
                int index = (int)(offsets[i] / 100) + b;
                Assert.Equal(offsets[i] + 100 * b, TestBatches.Header(batches[b]).BaseOffset);
                // Stored = produced except the base offset and leader epoch the broker stamped.
                Assert.Equal(produced[index].AsSpan(RecordBatchHeader.MagicOffset).ToArray(), batches[b].AsSpan(RecordBatchHeader.MagicOffset).ToArray());
            }
        }
        // With the deletion, the first response had opened its segment file before and went by sendfile to the end;
        // the two behind it found their files gone when their turn came and were sent from the mappings.
        long viaSendFile = KafkaConnection.SendFileChunks - chunksBefore;
        Assert.True(viaSendFile >= (deleteMidway ? 1 : offsets.Length), $"{viaSendFile} responses' records went by sendfile");
        Assert.True(await WaitFor(() => _f.Leases.Outstanding == 0, 2000), "every read lease was released after sending");
    }

    private static byte[] Frame(FetchRequest request, int correlationId)
    {
        var body = HandlerHarness.EncodeRequest(1, 12, request, correlationId);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>Reads one size-prefixed frame, the first <paramref name="already"/> bytes of which were read before.</summary>
    private static async Task<byte[]> ReadFrameAsync(Socket client, byte[] already)
    {
        var prefix = new byte[4];
        int fromAlready = Math.Min(4, already.Length);
        already.AsSpan(0, fromAlready).CopyTo(prefix);
        if (fromAlready < 4) await ReadExactlyAsync(client, prefix.AsMemory(fromAlready));
        int size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        var payload = new byte[size];
        int have = Math.Max(0, already.Length - 4);
        Assert.True(have <= size, "the head read crossed into the next frame");
        if (have > 0) already.AsSpan(4, have).CopyTo(payload);
        await ReadExactlyAsync(client, payload.AsMemory(have));
        return payload;
    }

    /// <summary>Reads slowly, in small pieces, so the broker finds its socket full again and again.</summary>
    private static async Task ReadExactlyAsync(Socket client, Memory<byte> buffer)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int got = 0;
        while (got < buffer.Length)
        {
            int n = await client.ReceiveAsync(buffer.Slice(got, Math.Min(4096, buffer.Length - got)), SocketFlags.None, cts.Token);
            if (n == 0) throw new IOException($"EOF after {got} of {buffer.Length} bytes");
            got += n;
            if (got % (64 * 1024) < n) await Task.Delay(2);
        }
    }

    private static async Task<bool> WaitFor(Func<bool> condition, int timeoutMs)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) return false;
            await Task.Delay(10);
        }
        return true;
    }
}
