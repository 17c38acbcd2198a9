using System.Buffers;
using System.IO.MemoryMappedFiles;
using Broker.Core.Buffers;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace Broker.Network.Tests;

/// <summary>
/// The sendfile path of the send loop over real loopback sockets and real files: file-backed chunks arrive byte-exact
/// inside exact frames, in request order; a full socket (tiny buffers, a client that reads slowly) makes sendfile
/// stop and resume; a file deleted while its bytes are being sent still sends them; a file gone before the send falls
/// back to the mapped bytes; and the option turns the path off.
/// </summary>
[Collection(SendFileCollection.Name)]
public sealed class SendFileTests
{
    private const int Header = 8;

    [Fact]
    public async Task Pipelined_file_backed_responses_arrive_exact_and_in_order_via_sendfile()
    {
        using var file = new MappedTestFile(8 << 20, seed: 1);
        long chunksBefore = KafkaConnection.SendFileChunks;
        var pool = new CountingPool();
        await using var listener = Kit.Start(RegionHandler(file), Kit.Options(pool));
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!);

        // Regions: (offset, length) — odd offsets and lengths, around the gather threshold and large.
        (int Offset, int Length)[] regions = [(1, 1 << 20), (12_345, 9_000), (3_000_001, 2_500_000), (7, 8 * 1024 + 1), (5_000_000, 65_537)];
        var frames = new List<byte>();
        foreach (var (offset, length) in regions) frames.AddRange(TestClient.Frame(Kit.Ints(offset, length)));
        await client.SendRawAsync(frames.ToArray());

        foreach (var (offset, length) in regions)
            Assert.Equal(Expected(file, offset, length), await client.ExpectFrameAsync(10_000));
        Assert.True(KafkaConnection.SendFileChunks - chunksBefore >= regions.Length, "every large region went by sendfile");
        Assert.True(file.HandleRequests >= regions.Length);
        Assert.Equal(0, pool.BadReturns);
    }

    [Fact]
    public async Task Slow_reader_with_tiny_socket_buffers_gets_every_byte_after_partial_sends()
    {
        using var file = new MappedTestFile(4 << 20, seed: 2);
        long stallsBefore = KafkaConnection.SendFileStalls;
        var options = Kit.Options() with { SocketSendBufferBytes = 4096 };
        await using var listener = Kit.Start(RegionHandler(file), options);
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!, receiveBufferSize: 4096);

        await client.SendFrameAsync(Kit.Ints(333, 3_000_000));
        await client.SendFrameAsync(Kit.Ints(17, 100_000));
        // Read slowly, in small pieces, so the broker's socket is full again and again.
        byte[] received = await ReadSlowlyAsync(client, 4 + Header + 3_000_000 + 4, pieceBytes: 16 * 1024, pauseEvery: 128 * 1024);
        Assert.Equal(Framed(Expected(file, 333, 3_000_000)), received);
        Assert.Equal(Expected(file, 17, 100_000), await client.ExpectFrameAsync(10_000));
        Assert.True(KafkaConnection.SendFileStalls > stallsBefore, "sendfile found the socket full and waited");
    }

    [Fact]
    public async Task File_deleted_while_its_bytes_are_being_sent_still_sends_them()
    {
        using var file = new MappedTestFile(6 << 20, seed: 3);
        var options = Kit.Options() with { SocketSendBufferBytes = 4096 };
        await using var listener = Kit.Start(RegionHandler(file), options);
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!, receiveBufferSize: 4096);

        await client.SendFrameAsync(Kit.Ints(1_000, 5_000_000));
        // Wait until the send has started (handle opened, bytes flowing), then delete the file as retention would.
        byte[] head = await ReadSlowlyAsync(client, 64 * 1024, pieceBytes: 8 * 1024, pauseEvery: int.MaxValue);
        Assert.Equal(1, file.HandlesOpened);
        File.Delete(file.Path);
        Assert.False(File.Exists(file.Path));
        byte[] rest = await ReadSlowlyAsync(client, 4 + Header + 5_000_000 + 4 - head.Length, pieceBytes: 64 * 1024, pauseEvery: 1 << 20);
        Assert.Equal(Framed(Expected(file, 1_000, 5_000_000)), head.Concat(rest).ToArray());

        // The next response from the same (deleted) file still goes out whole: the open handle keeps the inode.
        await client.SendFrameAsync(Kit.Ints(4_000_000, 1_500_000));
        byte[] next = await ReadSlowlyAsync(client, 4 + Header + 1_500_000 + 4, pieceBytes: 64 * 1024, pauseEvery: int.MaxValue);
        Assert.Equal(Framed(Expected(file, 4_000_000, 1_500_000)), next);
    }

    [Fact]
    public async Task File_gone_before_the_send_falls_back_to_the_mapped_bytes()
    {
        using var file = new MappedTestFile(2 << 20, seed: 4);
        File.Delete(file.Path); // the mapping still holds the bytes; opening by path now fails
        long chunksBefore = KafkaConnection.SendFileChunks;
        await using var listener = Kit.Start(RegionHandler(file), Kit.Options());
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!);

        await client.SendFrameAsync(Kit.Ints(99, 1_500_000));
        Assert.Equal(Expected(file, 99, 1_500_000), await client.ExpectFrameAsync(10_000));
        Assert.True(file.HandleRequests >= 1);
        Assert.Equal(0, file.HandlesOpened);
        Assert.Equal(chunksBefore, KafkaConnection.SendFileChunks);
    }

    [Fact]
    public async Task SendFile_off_sends_from_memory_and_never_asks_for_the_file()
    {
        using var file = new MappedTestFile(2 << 20, seed: 5);
        await using var listener = Kit.Start(RegionHandler(file), Kit.Options() with { SendFile = false });
        using var client = await TestClient.ConnectAsync(listener.BoundEndPoint!);

        await client.SendFrameAsync(Kit.Ints(5, 1_000_000));
        Assert.Equal(Expected(file, 5, 1_000_000), await client.ExpectFrameAsync(10_000));
        Assert.Equal(0, file.HandleRequests);
    }

    /// <summary>Request payload = (offset, length); response = 8 header bytes, the file region by reference, 4 trailer bytes.</summary>
    private static TestHandler RegionHandler(MappedTestFile file) => new((_, frame) =>
    {
        int offset = Kit.ReadInt(frame.Span, 0), length = Kit.ReadInt(frame.Span, 1);
        var w = new ChunkedBufferWriter();
        w.Write(Kit.Ints(offset, length));
        w.WriteExternal(file.Memory.Slice(offset, length), lease: null);
        w.Write(Kit.Int(~offset));
        return new ValueTask<ChunkedBufferWriter?>(w);
    });

    private static byte[] Expected(MappedTestFile file, int offset, int length) =>
        [.. Kit.Ints(offset, length), .. file.Bytes.AsSpan(offset, length), .. Kit.Int(~offset)];

    private static byte[] Framed(byte[] payload) => TestClient.Frame(payload);

    private static async Task<byte[]> ReadSlowlyAsync(TestClient client, int total, int pieceBytes, int pauseEvery)
    {
        var result = new byte[total];
        int got = 0, sincePause = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (got < total)
        {
            int n = await client.Socket.ReceiveAsync(result.AsMemory(got, Math.Min(pieceBytes, total - got)),
                System.Net.Sockets.SocketFlags.None, cts.Token);
            if (n == 0) throw new IOException($"EOF after {got} of {total} bytes. Log:\n{LogCapture.Dump()}");
            got += n;
            sincePause += n;
            if (sincePause >= pauseEvery)
            {
                sincePause = 0;
                await Task.Delay(5);
            }
        }
        return result;
    }
}

/// <summary>The sendfile tests read process-wide counters: they run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class SendFileCollection
{
    public const string Name = "sendfile";
}

/// <summary>
/// A temporary file of pseudo-random bytes mapped read-only, whose memory is <see cref="IFileBackedMemory"/> the way
/// the storage engine's mappings are: the handle is opened by path on first request and kept (null when the path is
/// gone). Counts requests and opened handles.
/// </summary>
internal sealed unsafe class MappedTestFile : MemoryManager<byte>, IFileBackedMemory
{
    private readonly MemoryMappedFile _mmf;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private SafeFileHandle? _handle;
    private int _requests;
    private int _opened;
    private bool _released;

    public MappedTestFile(int length, int seed)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sendfile-test-{Guid.NewGuid():N}.log");
        Bytes = Kit.Pattern(length, seed);
        File.WriteAllBytes(Path, Bytes);
        _mmf = MemoryMappedFile.CreateFromFile(Path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _mmf.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _pointer = p + _view.PointerOffset;
    }

    public string Path { get; }
    public byte[] Bytes { get; }
    public int HandleRequests => Volatile.Read(ref _requests);
    public int HandlesOpened => Volatile.Read(ref _opened);

    public SafeFileHandle? TryGetFileHandle()
    {
        Interlocked.Increment(ref _requests);
        lock (this)
        {
            if (_handle is not null) return _handle;
            try
            {
                _handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                Interlocked.Increment(ref _opened);
                return _handle;
            }
            catch (FileNotFoundException)
            {
                return null;
            }
        }
    }

    public override Span<byte> GetSpan() => new(_pointer, Bytes.Length);
    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);
    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (_released) return;
        _released = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _mmf.Dispose();
        _handle?.Dispose();
        if (File.Exists(Path)) File.Delete(Path);
    }
}
