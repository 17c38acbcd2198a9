using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Broker.Core.Buffers;
using Broker.Core.Diagnostics;

namespace Broker.Network.Tests;

/// <summary>A handler driven by a delegate, counting calls and closes per connection.</summary>
internal sealed class TestHandler(Func<ConnectionContext, ReadOnlyMemory<byte>, ValueTask<ChunkedBufferWriter?>> handle)
    : IConnectionHandler
{
    private int _calls;
    public readonly ConcurrentDictionary<long, int> ClosedCounts = new();
    public readonly ConcurrentDictionary<long, ConnectionContext> Contexts = new();
    public Action<ConnectionContext>? OnClosed { get; set; }

    public int Calls => Volatile.Read(ref _calls);
    public int TotalClosed { get { int n = 0; foreach (var kv in ClosedCounts) n += kv.Value; return n; } }

    public ValueTask<ChunkedBufferWriter?> HandleAsync(ConnectionContext connection, ReadOnlyMemory<byte> frame)
    {
        Interlocked.Increment(ref _calls);
        Contexts.TryAdd(connection.Id, connection);
        return handle(connection, frame);
    }

    public void OnConnectionClosed(ConnectionContext connection)
    {
        ClosedCounts.AddOrUpdate(connection.Id, 1, (_, n) => n + 1);
        OnClosed?.Invoke(connection);
    }

    public static ChunkedBufferWriter Respond(ReadOnlySpan<byte> bytes)
    {
        var w = new ChunkedBufferWriter();
        w.Write(bytes);
        return w;
    }

    public static TestHandler Echo() => new((_, frame) => new ValueTask<ChunkedBufferWriter?>(Respond(frame.Span)));
}

/// <summary>An ArrayPool wrapper that tracks outstanding rentals and double returns (a leak detector).</summary>
internal sealed class CountingPool : ArrayPool<byte>
{
    private readonly HashSet<byte[]> _out = new(ReferenceEqualityComparer.Instance);
    private int _badReturns;

    public int Outstanding { get { lock (_out) return _out.Count; } }
    public int BadReturns => Volatile.Read(ref _badReturns);

    public override byte[] Rent(int minimumLength)
    {
        var a = new byte[Math.Max(minimumLength, 16)];
        lock (_out) _out.Add(a);
        return a;
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        lock (_out)
        {
            if (!_out.Remove(array)) Interlocked.Increment(ref _badReturns);
        }
        array.AsSpan().Fill(0xDD); // poison: a reader of a returned buffer sees garbage
    }
}

/// <summary>Captures the broker log (process-wide) so tests can look for their own lines.</summary>
internal static class LogCapture
{
    private static readonly CapturingWriter Writer = new();

    static LogCapture()
    {
        Log.Output = Writer;
    }

    public static void Install() { }

    public static bool Contains(params string[] parts)
    {
        foreach (string line in Writer.Lines())
        {
            bool all = true;
            foreach (string p in parts) all &= line.Contains(p, StringComparison.Ordinal);
            if (all) return true;
        }
        return false;
    }

    public static string Dump() => string.Join('\n', Writer.Lines());

    private sealed class CapturingWriter : TextWriter
    {
        private readonly StringBuilder _sb = new();
        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) { lock (_sb) _sb.Append(value); }
        public override void Write(string? value) { lock (_sb) _sb.Append(value); }
        public override void WriteLine(string? value) { lock (_sb) _sb.Append(value).Append('\n'); }
        public string[] Lines() { lock (_sb) return _sb.ToString().Split('\n'); }
    }
}

/// <summary>A raw TCP client speaking size-prefixed frames.</summary>
internal sealed class TestClient : IDisposable
{
    public Socket Socket { get; }

    private TestClient(Socket socket) => Socket = socket;

    public static async Task<TestClient> ConnectAsync(IPEndPoint endPoint, int receiveBufferSize = 0)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize > 0) s.ReceiveBufferSize = receiveBufferSize;
        await s.ConnectAsync(endPoint).WaitAsync(TimeSpan.FromSeconds(5));
        return new TestClient(s);
    }

    /// <summary>The client's local endpoint = the server's view of the remote endpoint.</summary>
    public string LocalText => Socket.LocalEndPoint!.ToString()!;

    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var f = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(f, payload.Length);
        payload.CopyTo(f.AsSpan(4));
        return f;
    }

    public Task SendFrameAsync(ReadOnlySpan<byte> payload) => SendRawAsync(Frame(payload));

    public async Task SendRawAsync(byte[] bytes)
    {
        int sent = 0;
        while (sent < bytes.Length) sent += await Socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
    }

    /// <summary>Reads one frame (payload only); null when the server closed the connection.</summary>
    public async Task<byte[]?> ReadFrameAsync(int timeoutMs = 5000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        var header = new byte[4];
        if (!await ReadExactlyAsync(header, cts.Token)) return null;
        int size = BinaryPrimitives.ReadInt32BigEndian(header);
        var payload = new byte[size];
        if (!await ReadExactlyAsync(payload, cts.Token)) throw new IOException("EOF inside a response frame");
        return payload;
    }

    public async Task<byte[]> ExpectFrameAsync(int timeoutMs = 5000) =>
        await ReadFrameAsync(timeoutMs) ??
        throw new IOException($"connection closed, a frame was expected. Log:\n{LogCapture.Dump()}");

    /// <summary>True when the server closes (EOF or reset) within the timeout; false if it stays open.</summary>
    public async Task<bool> WaitForCloseAsync(int timeoutMs = 5000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        var buf = new byte[4096];
        try
        {
            while (true)
            {
                int n = await Socket.ReceiveAsync(buf, SocketFlags.None, cts.Token);
                if (n == 0) return true;
            }
        }
        catch (OperationCanceledException) { return false; }
        catch (SocketException) { return true; }
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken ct)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n;
            try { n = await Socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, ct); }
            catch (SocketException) { return false; }
            if (n == 0)
            {
                if (got == 0) return false;
                throw new IOException($"EOF after {got} of {buffer.Length} bytes");
            }
            got += n;
        }
        return true;
    }

    public void Dispose() => Socket.Dispose();
}

internal static class Kit
{
    public static KafkaListenerOptions Options(CountingPool? pool = null) => new()
    {
        ListenerName = "TEST",
        EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        BufferPool = pool,
        ShutdownTimeout = TimeSpan.FromSeconds(3),
    };

    public static KafkaListener Start(IConnectionHandler handler, KafkaListenerOptions options)
    {
        LogCapture.Install();
        var listener = new KafkaListener(options, handler);
        listener.Start();
        return listener;
    }

    public static async Task WaitUntil(Func<bool> condition, string what, int timeoutMs = 5000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) throw new TimeoutException($"Timed out waiting for: {what}");
            await Task.Delay(10);
        }
    }

    public static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    public static byte[] Int(int value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, value);
        return b;
    }

    public static byte[] Ints(params int[] values)
    {
        var b = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 * i), values[i]);
        return b;
    }

    public static int ReadInt(ReadOnlySpan<byte> b, int index = 0) => BinaryPrimitives.ReadInt32BigEndian(b[(4 * index)..]);
}
