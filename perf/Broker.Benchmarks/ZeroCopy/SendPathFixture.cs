using System.Buffers;
using System.IO.MemoryMappedFiles;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Broker.Benchmarks.ZeroCopy;

/// <summary>The ways of moving file bytes to a socket that the zero-copy benchmark compares.</summary>
public enum SendPath
{
    /// <summary>RandomAccess.Read into a pooled buffer, then a blocking Socket.Send (the copying baseline).</summary>
    Copy,
    /// <summary>Blocking Socket.Send of a span over a read-only MemoryMappedFile view.</summary>
    Mmap,
    /// <summary>Socket.SendAsync of memory over the mapping on a non-blocking socket: what the broker's send loop does.</summary>
    MmapAsync,
    /// <summary>The sendfile(2) syscall called directly on a blocking socket.</summary>
    Sendfile,
    /// <summary>sendfile(2) on a non-blocking socket: EAGAIN waits with poll (how a broker would use it).</summary>
    SendfileNonBlocking,
    /// <summary>
    /// sendfile(2) on a non-blocking socket until EAGAIN, then one small Socket.SendAsync from the mapped pages (which
    /// waits asynchronously for room), then sendfile again: the broker's plaintext fetch path.
    /// </summary>
    SendfileAsync,
    /// <summary>Socket.SendPacketsAsync with a SendPacketsElement over a FileStream region (.NET's own path).</summary>
    SendPackets,
}

/// <summary>
/// A segment-like file of record bytes in the page cache, mapped read-only, and a connected loopback TCP pair whose
/// receiving end a thread drains (counting bytes and its own CPU time). <see cref="SendAsync"/> moves one region of
/// the file to the socket by the chosen <see cref="SendPath"/>. Used by <see cref="SendPathBenchmarks"/> and by the
/// `--zerocopy-cpu` mode of Program.
/// </summary>
public sealed unsafe class SendPathFixture : IDisposable
{
    public const long DefaultFileBytes = 64L << 20;

    private readonly string _path;
    private readonly SafeFileHandle _file;
    private readonly FileStream _fileStream;
    private readonly MemoryMappedFile _mmf;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly PointerMemory _mapped;
    private readonly Socket _sender;
    private readonly Socket _receiver;
    private readonly Thread _drain;
    private readonly SendPacketsArgs _packets = new();
    private readonly SendPacketsElement[] _oneElement = new SendPacketsElement[1];
    private long _received;
    private long _receiverCpuNs;
    private long _offsetCursor;

    public SendPathFixture(SendPath path, long fileBytes = DefaultFileBytes)
    {
        Path = path;
        FileBytes = fileBytes;
        _path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"zerocopy-{Environment.ProcessId}-{Guid.NewGuid():N}.log");
        WriteFile(_path, fileBytes);
        _file = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        // SendPacketsElement insists on a FileStream opened for asynchronous I/O (a Windows rule it applies everywhere).
        _fileStream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
            bufferSize: 0, FileOptions.Asynchronous);
        _mmf = MemoryMappedFile.CreateFromFile(_file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        _view = _mmf.CreateViewAccessor(0, fileBytes, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
        _mapped = new PointerMemory(_base, checked((int)fileBytes));
        // Touch every mapped page once so the first measured sends do not pay the page faults.
        long sum = 0;
        for (long i = 0; i < fileBytes; i += 4096) sum += _base[i];
        GC.KeepAlive(sum);

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        _sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _sender.Connect(listener.LocalEndPoint!);
        _receiver = listener.Accept();
        if (path is SendPath.SendfileNonBlocking or SendPath.SendfileAsync) _sender.Blocking = false;
        _drain = new Thread(Drain) { IsBackground = true, Name = "zerocopy-drain" };
        _drain.Start();
    }

    public SendPath Path { get; }
    public long FileBytes { get; }

    /// <summary>Bytes the draining end has received so far.</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>CPU time the draining thread used (it stops counting when the socket closes).</summary>
    public TimeSpan ReceiverCpu => TimeSpan.FromTicks(Volatile.Read(ref _receiverCpuNs) / 100);

    /// <summary>Next region start: steps through the file by a large odd stride so reads are not page-aligned.</summary>
    public long NextOffset(int regionBytes)
    {
        long room = FileBytes - regionBytes;
        _offsetCursor = (_offsetCursor + 1_048_583 * 7) % room;
        return _offsetCursor;
    }

    /// <summary>Sends <paramref name="count"/> bytes of the file from <paramref name="offset"/> by <see cref="Path"/>.</summary>
    public ValueTask SendAsync(long offset, int count)
    {
        switch (Path)
        {
            case SendPath.Copy:
                SendCopy(offset, count);
                return default;
            case SendPath.Mmap:
                SendBlocking(new ReadOnlySpan<byte>(_base + offset, count));
                return default;
            case SendPath.MmapAsync:
                return SendMappedAsync(_mapped.Memory.Slice(checked((int)offset), count));
            case SendPath.Sendfile:
            case SendPath.SendfileNonBlocking:
                LinuxSendFile.SendAll(_sender, _file, offset, count);
                return default;
            case SendPath.SendfileAsync:
                return AsyncSends.SendFileAsync(_sender, _file, offset, _mapped.Memory.Slice(checked((int)offset), count));
            case SendPath.SendPackets:
                _oneElement[0] = new SendPacketsElement(_fileStream, offset, count);
                _packets.SendPacketsElements = _oneElement;
                return _packets.SendAsync(_sender);
            default:
                throw new ArgumentOutOfRangeException(nameof(Path));
        }
    }

    /// <summary>Waits until the receiver has all <paramref name="totalSent"/> bytes (bounded).</summary>
    public void WaitReceived(long totalSent)
    {
        var deadline = Environment.TickCount64 + 30_000;
        while (Received < totalSent)
        {
            if (Environment.TickCount64 > deadline) throw new TimeoutException($"receiver has {Received} of {totalSent} bytes");
            Thread.Sleep(1);
        }
    }

    public void Dispose()
    {
        try { _sender.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
        _sender.Dispose();
        _drain.Join(5000);
        _receiver.Dispose();
        _packets.Dispose();
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _mmf.Dispose();
        _fileStream.Dispose();
        _file.Dispose();
        File.Delete(_path);
    }

    private void SendCopy(long offset, int count)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(count);
        try
        {
            int read = 0;
            while (read < count)
            {
                int n = RandomAccess.Read(_file, buffer.AsSpan(read, count - read), offset + read);
                if (n <= 0) throw new EndOfStreamException();
                read += n;
            }
            SendBlocking(buffer.AsSpan(0, count));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void SendBlocking(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty) data = data[_sender.Send(data)..];
    }

    private ValueTask SendMappedAsync(ReadOnlyMemory<byte> data) => AsyncSends.SendAllAsync(_sender, data);

    private void Drain()
    {
        byte[] buffer = new byte[1 << 20];
        long startNs = ThreadCpuNs();
        try
        {
            while (true)
            {
                int n = _receiver.Receive(buffer);
                if (n <= 0) break;
                Interlocked.Add(ref _received, n);
                Volatile.Write(ref _receiverCpuNs, ThreadCpuNs() - startNs);
            }
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static void WriteFile(string path, long bytes)
    {
        // Record-like bytes: pseudo-random, so nothing along the way can shortcut them.
        var rng = new Random(42);
        byte[] chunk = new byte[1 << 20];
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
        for (long written = 0; written < bytes; written += chunk.Length)
        {
            rng.NextBytes(chunk);
            stream.Write(chunk, 0, (int)Math.Min(chunk.Length, bytes - written));
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc.so.6", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clockId, out TimeSpec time);

    /// <summary>CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in nanoseconds.</summary>
    internal static long ThreadCpuNs()
    {
        ClockGetTime(3, out var t);
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }

    /// <summary>Memory&lt;byte&gt; over the mapping (lifetime is the fixture's).</summary>
    private sealed class PointerMemory(byte* pointer, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(pointer, length);
        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
    }
}

/// <summary>Awaiting helpers kept out of the unsafe fixture (C# does not allow await in an unsafe context).</summary>
internal static class AsyncSends
{
    /// <summary>The broker's send loop pattern: synchronous while the kernel takes the bytes at once.</summary>
    public static ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            ValueTask<int> send = socket.SendAsync(data, SocketFlags.None);
            if (!send.IsCompletedSuccessfully) return AwaitAsync(socket, send, data);
            data = data[send.Result..];
        }
        return default;
    }

    /// <summary>
    /// sendfile while the socket takes bytes; when it is full (EAGAIN), an async send of the next small piece of the
    /// same bytes from memory waits for room, then sendfile goes on after it.
    /// </summary>
    public static ValueTask SendFileAsync(Socket socket, SafeFileHandle file, long fileOffset, ReadOnlyMemory<byte> mapped)
    {
        int sent = LinuxSendFile.SendUntilFull(socket, file, fileOffset, mapped.Length);
        return sent == mapped.Length ? default : SendFileSlowAsync(socket, file, fileOffset, mapped, sent);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask SendFileSlowAsync(Socket socket, SafeFileHandle file, long fileOffset,
        ReadOnlyMemory<byte> mapped, int sent)
    {
        const int WaitPiece = 4096;
        while (sent < mapped.Length)
        {
            sent += await socket.SendAsync(mapped.Slice(sent, Math.Min(WaitPiece, mapped.Length - sent)), SocketFlags.None).ConfigureAwait(false);
            if (sent < mapped.Length) sent += LinuxSendFile.SendUntilFull(socket, file, fileOffset + sent, mapped.Length - sent);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitAsync(Socket socket, ValueTask<int> send, ReadOnlyMemory<byte> data)
    {
        while (true)
        {
            data = data[await send.ConfigureAwait(false)..];
            if (data.IsEmpty) return;
            send = socket.SendAsync(data, SocketFlags.None);
        }
    }
}
