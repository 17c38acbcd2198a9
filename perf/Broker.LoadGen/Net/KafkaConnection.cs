using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Broker.Core.Buffers;
using Broker.Protocol.Codec;

namespace Broker.LoadGen.Net;

/// <summary>Parses a response body at a given version (the generated XResponse.Read methods fit).</summary>
public delegate T ResponseParser<T>(ref KafkaReader reader, short version);

/// <summary>One received response: its frame (valid until the next receive) and the request it answers.</summary>
public readonly record struct Response(ReadOnlyMemory<byte> Frame, int CorrelationId, short ApiKey, short ApiVersion, long SentTicks);

/// <summary>
/// A pipelined Kafka connection: one sender and one receiver may run concurrently. Requests that expect an answer
/// are queued (correlation id, key, version, send time) before they are sent; responses must come back in order and
/// are matched against the queue head. <see cref="CheckTimeout"/> (called by <see cref="Watchdog"/>) aborts the
/// connection when the oldest request or a send has waited too long, so a silent broker never hangs the tool.
/// </summary>
public sealed class KafkaConnection : IDisposable
{
    private const int MaxFrameSize = 512 * 1024 * 1024;
    private readonly record struct Outstanding(int CorrelationId, short ApiKey, short ApiVersion, long SentTicks);

    private readonly Socket _socket;
    private readonly Queue<Outstanding> _outstanding = new();
    private readonly List<ArraySegment<byte>> _segments = new(4);
    private readonly string _clientId;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
    private int _start;
    private int _end;
    private int _nextCorrelationId;
    private long _sendStartedTicks;   // 0 when no send is in progress
    private volatile string? _abortReason;
    private int _disposed;

    private KafkaConnection(Socket socket, string name, string clientId)
    {
        _socket = socket;
        Name = name;
        _clientId = clientId;
    }

    /// <summary>A label for messages, e.g. "producer-0".</summary>
    public string Name { get; }

    /// <summary>Why the connection was aborted (timeout, protocol error), or null.</summary>
    public string? AbortReason => _abortReason;

    public int OutstandingCount { get { lock (_outstanding) return _outstanding.Count; } }

    /// <summary>Connects with a timeout; throws <see cref="LoadGenException"/> with a clear message on failure.</summary>
    public static async Task<KafkaConnection> ConnectAsync(string host, int port, string name, string clientId, int timeoutMs, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.SendBufferSize = 1024 * 1024;
        socket.ReceiveBufferSize = 1024 * 1024;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeoutMs);
        try
        {
            await socket.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            if (ct.IsCancellationRequested) throw;
            string why = e is SocketException se ? se.SocketErrorCode.ToString() : $"no answer within {timeoutMs} ms";
            throw new LoadGenException($"{name}: cannot connect to {host}:{port}: {why}");
        }
        return new KafkaConnection(socket, name, clientId);
    }

    /// <summary>
    /// Writes header + body into a fresh buffer and sends it. When <paramref name="expectResponse"/> the request is
    /// queued for <see cref="ReceiveAsync"/>. Only one sender at a time.
    /// </summary>
    public async ValueTask<int> SendAsync(short apiKey, short version, IKafkaMessage request, bool expectResponse, CancellationToken ct)
    {
        int correlationId = ++_nextCorrelationId;
        using var w = new ChunkedBufferWriter();
        var kw = new KafkaWriter(w);
        new RequestHeader(apiKey, version, correlationId, _clientId).Write(ref kw);
        request.Write(ref kw, version);
        w.WriteSizePrefix();
        _segments.Clear();
        foreach (var chunk in w.GetChunks())
        {
            if (!MemoryMarshal.TryGetArray(chunk, out var seg)) seg = new ArraySegment<byte>(chunk.ToArray());
            _segments.Add(seg);
        }
        long now = Stopwatch.GetTimestamp();
        if (expectResponse)
            lock (_outstanding) _outstanding.Enqueue(new Outstanding(correlationId, apiKey, version, now));
        Volatile.Write(ref _sendStartedTicks, now);
        try
        {
            ct.ThrowIfCancellationRequested();
            // Not cancellable mid-way: a stuck send is ended by Abort (watchdog or shutdown), which closes the socket.
            await _socket.SendAsync(_segments, SocketFlags.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw Failure("send failed", e);
        }
        finally
        {
            Volatile.Write(ref _sendStartedTicks, 0);
        }
        return correlationId;
    }

    /// <summary>Receives the next response; its frame is valid until the next call. Only one receiver at a time.</summary>
    public async ValueTask<Response> ReceiveAsync(CancellationToken ct)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        await FillAsync(4, ct).ConfigureAwait(false);
        int size = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_start));
        if (size < 4 || size > MaxFrameSize) throw Failure($"bad response size {size}", null);
        if (_buffer.Length < size + 4)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(size + 4);
            Buffer.BlockCopy(_buffer, _start, bigger, 0, _end - _start);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
            _end -= _start;
            _start = 0;
        }
        await FillAsync(size + 4, ct).ConfigureAwait(false);
        var frame = _buffer.AsMemory(_start + 4, size);
        _start += size + 4;

        Outstanding head;
        lock (_outstanding)
        {
            if (!_outstanding.TryDequeue(out head)) throw Failure("response without a request", null);
        }
        int cid = BinaryPrimitives.ReadInt32BigEndian(frame.Span);
        if (cid != head.CorrelationId) throw Failure($"correlation id {cid}, expected {head.CorrelationId}", null);
        return new Response(frame, cid, head.ApiKey, head.ApiVersion, head.SentTicks);
    }

    /// <summary>Sends one request and parses its response (admin path; no other traffic on this connection).</summary>
    public async Task<T> RoundTripAsync<T>(short apiKey, short version, IKafkaMessage request, ResponseParser<T> parse, CancellationToken ct)
    {
        await SendAsync(apiKey, version, request, expectResponse: true, ct).ConfigureAwait(false);
        var response = await ReceiveAsync(ct).ConfigureAwait(false);
        return Parse(response, parse);
    }

    /// <summary>Skips the response header and parses the body; a malformed body aborts the connection.</summary>
    public T Parse<T>(in Response response, ResponseParser<T> parse)
    {
        try
        {
            var reader = new KafkaReader(response.Frame);
            RequestHeader.ReadResponseHeader(ref reader, response.ApiKey, response.ApiVersion);
            return parse(ref reader, response.ApiVersion);
        }
        catch (KafkaProtocolException e)
        {
            throw Failure($"malformed response to api {response.ApiKey} v{response.ApiVersion}: {e.Message}", null);
        }
    }

    /// <summary>Aborts when a request or a send has been waiting longer than <paramref name="timeoutTicks"/>.</summary>
    public void CheckTimeout(long nowTicks, long timeoutTicks)
    {
        long oldest = Volatile.Read(ref _sendStartedTicks);
        lock (_outstanding)
        {
            if (_outstanding.TryPeek(out var head) && (oldest == 0 || head.SentTicks < oldest)) oldest = head.SentTicks;
        }
        if (oldest != 0 && nowTicks - oldest > timeoutTicks)
            Abort($"no answer from the broker within {timeoutTicks * 1000 / Stopwatch.Frequency} ms");
    }

    /// <summary>Records <paramref name="reason"/> and closes the socket, failing any pending send or receive.</summary>
    public void Abort(string reason)
    {
        _abortReason ??= reason;
        try { _socket.Close(0); } catch (ObjectDisposedException) { }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _socket.Dispose();
        // The receive buffer is not returned to the pool: a receive may still be finishing on another thread.
    }

    private async ValueTask FillAsync(int needed, CancellationToken ct)
    {
        while (_end - _start < needed)
        {
            int n;
            try
            {
                n = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                throw Failure("receive failed", e);
            }
            if (n == 0) throw Failure("connection closed by the broker", null);
            _end += n;
        }
    }

    private LoadGenException Failure(string what, Exception? inner)
    {
        string reason = _abortReason ?? (inner is SocketException se ? $"{what}: {se.SocketErrorCode}" : what);
        Abort(reason);
        return new LoadGenException($"{Name}: {reason}");
    }
}

/// <summary>A failure the tool reports as one clear line (connection, timeout, protocol, broker error).</summary>
public sealed class LoadGenException(string message) : Exception(message);
