using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Broker.Cluster.Transport;
using Broker.Core.Buffers;
using Broker.Core.Model;
using Broker.Network;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Raft.Messages;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;

namespace Broker.Cluster.Tests;

/// <summary>One node for the tests: a transport plus its own controller listener (ApiVersions + RaftEnvelope)
/// on a loopback port, registered in a shared peer directory.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    private readonly PeerDirectory _directory;
    private readonly KafkaRequestDispatcher _dispatcher;
    private KafkaListener? _listener;

    public TestNode(int id, PeerDirectory directory, RaftTransportOptions? options = null)
    {
        Id = id;
        _directory = directory;
        Transport = new RaftPeerTransport(id, directory, options ?? ClusterTestKit.FastOptions);
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table)).Register(new RaftEnvelopeHandler(Transport));
        _dispatcher = new KafkaRequestDispatcher(table);
    }

    public int Id { get; }
    public RaftPeerTransport Transport { get; }
    public int Port { get; private set; }

    /// <summary>Starts the listener (port 0 = any free port) and publishes its address in the directory.</summary>
    public TestNode StartListener(int port = 0)
    {
        var listener = new KafkaListener(new KafkaListenerOptions
        {
            ListenerName = "CONTROLLER",
            EndPoint = new IPEndPoint(IPAddress.Loopback, port),
            ShutdownTimeout = TimeSpan.FromSeconds(2),
        }, _dispatcher);
        listener.Start();
        _listener = listener;
        Port = listener.BoundEndPoint!.Port;
        _directory.Set(Id, "127.0.0.1", Port);
        return this;
    }

    public async Task StopListenerAsync()
    {
        if (_listener is not null) await _listener.DisposeAsync();
        _listener = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopListenerAsync();
        await Transport.DisposeAsync();
    }
}

/// <summary>Collects what one group receives, thread-safe.</summary>
internal sealed class Inbox
{
    private readonly ConcurrentQueue<RaftMessage> _messages = new();
    public void Add(RaftMessage m) => _messages.Enqueue(m);
    public int Count => _messages.Count;
    public RaftMessage[] Snapshot() => _messages.ToArray();
    /// <summary>The sequence numbers (carried in AppendRequest.Commit) received from <paramref name="from"/>.</summary>
    public long[] SequencesFrom(int from) =>
        _messages.Where(m => m.From == from).Select(m => ((AppendRequest)m).Commit).ToArray();
}

internal static class ClusterTestKit
{
    public static readonly RaftTransportOptions FastOptions = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(1),
        RequestTimeout = TimeSpan.FromSeconds(2),
        InitialReconnectBackoff = TimeSpan.FromMilliseconds(20),
        MaxReconnectBackoff = TimeSpan.FromMilliseconds(100),
    };

    public static TopicPartition Group(int i) => new($"topic-{i % 3}", i);

    /// <summary>A heartbeat whose Commit field carries a sequence number, to check order and identity.</summary>
    public static AppendRequest Numbered(int from, int to, long seq) => new(from, to, 1, -1, 0, seq, []);

    public static async Task<bool> WaitUntilAsync(Func<bool> condition, int timeoutMs = 5000)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            if (condition()) return true;
            await Task.Delay(10);
        }
        return condition();
    }

    public static void AssertStrictlyIncreasing(long[] sequence)
    {
        for (int i = 1; i < sequence.Length; i++)
            Assert.True(sequence[i] > sequence[i - 1], $"out of order at {i}: {sequence[i - 1]} then {sequence[i]}");
    }

    /// <summary>A free loopback port nobody listens on (bind, read, close).</summary>
    public static int ReservePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}

/// <summary>A hand-rolled client speaking RaftEnvelope on one socket, for malformed-input tests.</summary>
internal sealed class RawEnvelopeClient : IDisposable
{
    private readonly Socket _socket;
    private int _correlationId;

    private RawEnvelopeClient(Socket socket) => _socket = socket;

    public static async Task<RawEnvelopeClient> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        return new RawEnvelopeClient(socket);
    }

    public async Task<short> SendAsync(RaftEnvelopeRequest request)
    {
        int correlationId = ++_correlationId;
        byte[] frame;
        using (var output = new ChunkedBufferWriter(256))
        {
            var writer = new KafkaWriter(output);
            new RequestHeader(RaftEnvelopeRequest.ApiKey, 0, correlationId, "raw").Write(ref writer);
            request.Write(ref writer, 0);
            output.WriteSizePrefix();
            frame = output.ToArray();
        }
        await _socket.SendAsync(frame, SocketFlags.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        byte[] size = new byte[4];
        await ReceiveExactlyAsync(size, cts.Token);
        byte[] body = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await ReceiveExactlyAsync(body, cts.Token);
        var reader = new KafkaReader(body);
        Assert.Equal(correlationId, RequestHeader.ReadResponseHeader(ref reader, RaftEnvelopeRequest.ApiKey, 0));
        return RaftEnvelopeResponse.Read(ref reader, 0).ErrorCode;
    }

    private async Task ReceiveExactlyAsync(Memory<byte> buffer, CancellationToken token)
    {
        while (buffer.Length > 0)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, token);
            if (n == 0) throw new IOException("server closed the connection");
            buffer = buffer[n..];
        }
    }

    public void Dispose() => _socket.Dispose();
}
