using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Broker.Core.Buffers;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.Client.Tests;

/// <summary>One request as the fake broker received it.</summary>
public sealed record FakeRequest(int Connection, RequestHeader Header, byte[] Body)
{
    public T Read<T>(KafkaMessageReader<T> read)
    {
        var reader = new KafkaReader(Body);
        return read(ref reader, Header.ApiVersion);
    }
}

/// <summary>
/// A scripted Kafka broker on a real loopback socket: decodes request frames with our codec, records them, and
/// answers with whatever the test's handler returns (null = stay silent). Answers can be sent later (and out of
/// order) through <see cref="Respond"/>; <see cref="CloseConnections"/> drops every open connection.
/// </summary>
public sealed class FakeBroker : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<int, Socket> _sockets = new();
    private readonly List<Task> _tasks = new();
    private readonly Task _acceptLoop;
    private int _connections;

    /// <param name="handler">Returns the response for a request, or null to answer later (or never).</param>
    public FakeBroker(Func<FakeRequest, IKafkaMessage?> handler)
    {
        Handler = handler;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public Func<FakeRequest, IKafkaMessage?> Handler { get; set; }
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Bootstrap => $"127.0.0.1:{Port}";
    public int ConnectionCount => Volatile.Read(ref _connections);
    public bool HasOpenConnections => !_sockets.IsEmpty;
    public ConcurrentQueue<FakeRequest> Requests { get; } = new();

    /// <summary>Advertised versions: every API our codec knows, at its full range, unless a test changes this.</summary>
    public Dictionary<short, (short Min, short Max)> Versions { get; } = DefaultVersions();

    public static Dictionary<short, (short Min, short Max)> DefaultVersions()
    {
        var d = new Dictionary<short, (short, short)>();
        foreach (var e in ApiMessages.All) d[(short)e.Key] = (e.LowestVersion, e.HighestVersion);
        return d;
    }

    /// <summary>An ApiVersions answer listing <see cref="Versions"/>.</summary>
    public ApiVersionsResponse ApiVersionsAnswer(short error = 0)
    {
        var r = new ApiVersionsResponse { ErrorCode = error };
        foreach (var (key, range) in Versions)
            r.ApiKeys.Add(new ApiVersionsResponse.ApiVersion { ApiKey = key, MinVersion = range.Min, MaxVersion = range.Max });
        return r;
    }

    /// <summary>Sends <paramref name="response"/> for <paramref name="request"/> now.</summary>
    public void Respond(FakeRequest request, IKafkaMessage response, short? bodyVersion = null)
    {
        if (!_sockets.TryGetValue(request.Connection, out var socket)) return;
        using var output = new ChunkedBufferWriter();
        var writer = new KafkaWriter(output);
        request.Header.WriteResponseHeader(ref writer);
        response.Write(ref writer, bodyVersion ?? request.Header.ApiVersion);
        output.WriteSizePrefix();
        lock (socket)
        {
            try { socket.Send(output.ToArray()); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        }
    }

    public void CloseConnections()
    {
        foreach (var (id, socket) in _sockets)
        {
            _sockets.TryRemove(id, out _);
            socket.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        CloseConnections();
        try { await _acceptLoop; } catch (Exception) { }
        Task[] tasks;
        lock (_tasks) tasks = _tasks.ToArray();
        try { await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { }
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception) { return; }
            int id = Interlocked.Increment(ref _connections);
            _sockets[id] = socket;
            lock (_tasks) _tasks.Add(Task.Run(() => ServeAsync(id, socket)));
        }
    }

    private async Task ServeAsync(int id, Socket socket)
    {
        var size = new byte[4];
        try
        {
            using var stream = new NetworkStream(socket, ownsSocket: false);
            while (true)
            {
                await stream.ReadExactlyAsync(size, _stop.Token);
                var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
                await stream.ReadExactlyAsync(frame, _stop.Token);
                var request = Decode(id, frame);
                Requests.Enqueue(request);
                var response = Handler(request);
                if (response is null) continue;
                // An UNSUPPORTED_VERSION ApiVersions answer is written in the v0 format (KIP-511).
                short? bodyVersion = response is ApiVersionsResponse { ErrorCode: 35 } ? (short)0 : null;
                Respond(request, response, bodyVersion);
            }
        }
        catch (Exception)
        {
            // peer gone or fake stopped
        }
        finally
        {
            _sockets.TryRemove(id, out _);
            socket.Dispose();
        }
    }

    private static FakeRequest Decode(int id, byte[] frame)
    {
        var reader = new KafkaReader(frame);
        var header = RequestHeader.Read(ref reader);
        return new FakeRequest(id, header, frame[reader.Position..]);
    }
}
