using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Broker.Core.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Broker.Network;

/// <summary>
/// The send loop: awaits responses strictly in request order and writes them, gathering small chunks.
/// Zero-copy fetch: record bytes are never copied into a response. A large chunk that is a region of a mapped segment
/// file (<see cref="ChunkedBufferWriter.TryGetFileBacking"/>) goes out with sendfile(2) on plaintext connections: the
/// kernel hands the page-cache pages to TCP, with no copy through user space. This was measured against sending
/// the mapped pages with send(2) (the previous path) and against pread + send (perf/README.md, "Zero-copy fetch";
/// perf/results/zerocopy-2026-11-21.md): sendfile was up to 2× faster in the micro-benchmark, needed 20–50% less
/// sending-side CPU per GB, and in the broker served loadgen consumers about 13% faster at about 20% less broker
/// CPU per GB. When the socket is full, sendfile stops at EAGAIN and one small async send of the next bytes from
/// the mapping waits for room (no thread blocks), then sendfile resumes. The segment's lease, held by the response
/// until it is sent, keeps the mapping and the file handle open, so retention deleting the segment meanwhile does not
/// matter. Sending the mapped pages stays the fallback: when the segment file was deleted or replaced before its
/// handle was opened, when sendfile is unavailable, when <see cref="KafkaListenerOptions.SendFile"/> is off, and for
/// transports that must see the bytes (TLS, later).
/// </summary>
internal sealed partial class KafkaConnection
{
    /// <summary>Chunks up to this size are copied into the staging buffer; larger ones are sent in place.</summary>
    internal const int GatherThreshold = 8 * 1024;
    private const int StagingBytes = 32 * 1024;
    /// <summary>When sendfile finds the socket full, this many bytes go by an async send that waits for room.</summary>
    internal const int SendFileWaitPiece = 4 * 1024;
    private static long s_sendFileChunks;
    private static long s_sendFileStalls;

    /// <summary>Chunks sent with sendfile since start (diagnostics and tests).</summary>
    internal static long SendFileChunks => Interlocked.Read(ref s_sendFileChunks);

    /// <summary>Times sendfile found a socket full and waited (diagnostics and tests).</summary>
    internal static long SendFileStalls => Interlocked.Read(ref s_sendFileStalls);

    /// <summary>
    /// Takes the head of the pending queue, awaits its response, sends it, disposes the writer, returns the frame
    /// buffer and removes the entry (which frees an in-flight slot). Small chunks — of one response or of several
    /// consecutive ready responses — are gathered in a staging buffer, flushed whenever the loop would otherwise
    /// wait, before a large chunk, or when full. After <see cref="Close"/> it only drains: tasks are still awaited
    /// (no unobserved exceptions, frames stay valid until their task completes) but nothing is sent.
    /// </summary>
    private async Task SendLoopAsync()
    {
        byte[]? staging = null;
        int staged = 0;
        try
        {
            while (true)
            {
                if (!_pending.TryPeek(out PendingResponse item, out bool completed))
                {
                    if (staged > 0 && !IsClosing) await SendAllAsync(staging.AsMemory(0, staged)).ConfigureAwait(false);
                    staged = 0;
                    if (completed) return;
                    if (staging is not null)
                    {
                        _pool.Return(staging); // idle connections hold no staging buffer
                        staging = null;
                    }
                    await _pending.ItemAdded.WaitAsync().ConfigureAwait(false);
                    continue;
                }

                ChunkedBufferWriter? response = null;
                if (staged > 0 && !item.Response.IsCompleted && !IsClosing)
                {
                    await SendAllAsync(staging.AsMemory(0, staged)).ConfigureAwait(false);
                    staged = 0;
                }
                try
                {
                    response = await item.Response.ConfigureAwait(false);
                }
                catch (ProtocolViolationException ex)
                {
                    CloseWithWarning($"protocol violation: {ex.Message}");
                }
                catch (Exception ex)
                {
                    if (IsClosing)
                    {
                        if (_log.IsDebugEnabled) _log.Debug($"Connection {Id}: request failed while closing: {ex.Message}");
                    }
                    else
                    {
                        CloseWithError("request handler failed", ex);
                    }
                }
                // The request's task completed: the handler no longer reads the frame.
                if (item.Frame is not null) _pool.Return(item.Frame);

                if (response is not null)
                {
                    try
                    {
                        if (!IsClosing)
                        {
                            response.WriteSizePrefix();
                            IReadOnlyList<ReadOnlyMemory<byte>> chunks = response.GetChunks();
                            for (int i = 0; i < chunks.Count; i++)
                            {
                                ReadOnlyMemory<byte> chunk = chunks[i];
                                if (chunk.Length <= GatherThreshold)
                                {
                                    staging ??= _pool.Rent(StagingBytes);
                                    if (staging.Length - staged < chunk.Length)
                                    {
                                        await SendAllAsync(staging.AsMemory(0, staged)).ConfigureAwait(false);
                                        staged = 0;
                                    }
                                    chunk.Span.CopyTo(staging.AsSpan(staged));
                                    staged += chunk.Length;
                                }
                                else
                                {
                                    if (staged > 0)
                                    {
                                        await SendAllAsync(staging.AsMemory(0, staged)).ConfigureAwait(false);
                                        staged = 0;
                                    }
                                    await SendChunkAsync(chunk).ConfigureAwait(false);
                                }
                            }
                        }
                    }
                    catch (Exception ex) when (IsConnectionError(ex))
                    {
                        if (_log.IsDebugEnabled && !IsClosing) _log.Debug($"Connection {Id} from {_remoteText}: send failed: {ex.Message}");
                        Close();
                    }
                    catch (Exception ex)
                    {
                        CloseWithError("writing a response failed", ex);
                    }
                    finally
                    {
                        // Bytes are either on the wire or copied into staging; external leases can go.
                        response.Dispose();
                    }
                }
                _pending.RemoveHead();
            }
        }
        catch (Exception ex) when (IsConnectionError(ex))
        {
            // A staging flush failed: the connection is gone. Drain what is left so tasks are observed.
            Close();
            await DrainAsync().ConfigureAwait(false);
        }
        finally
        {
            if (staging is not null) _pool.Return(staging);
        }
    }

    /// <summary>After a failed flush: awaits and disposes every remaining response without sending.</summary>
    private async Task DrainAsync()
    {
        while (true)
        {
            if (!_pending.TryPeek(out PendingResponse item, out bool completed))
            {
                if (completed) return;
                await _pending.ItemAdded.WaitAsync().ConfigureAwait(false);
                continue;
            }
            try
            {
                ChunkedBufferWriter? response = await item.Response.ConfigureAwait(false);
                response?.Dispose();
            }
            catch (Exception ex)
            {
                if (_log.IsDebugEnabled) _log.Debug($"Connection {Id}: request failed while closing: {ex.Message}");
            }
            if (item.Frame is not null) _pool.Return(item.Frame);
            _pending.RemoveHead();
        }
    }

    /// <summary>The socket's descriptor, for sendfile (fetched once: the getter marks the handle as exposed).</summary>
    private SafeSocketHandle SocketHandle => _socketHandle ??= _socket.SafeHandle;

    /// <summary>A large chunk: with sendfile when it is a file region and this connection may, else from memory.</summary>
    private ValueTask SendChunkAsync(ReadOnlyMemory<byte> chunk)
    {
        if (_sendFile && ChunkedBufferWriter.TryGetFileBacking(chunk, out IFileBackedMemory? file, out long fileOffset)
            && file!.TryGetFileHandle() is { } handle)
        {
            return SendFileAsync(handle, fileOffset, chunk);
        }
        return SendAllAsync(chunk);
    }

    /// <summary>
    /// Sends <paramref name="chunk"/>, a region of <paramref name="file"/> starting at <paramref name="fileOffset"/>,
    /// with sendfile; completes synchronously when the socket takes it all at once.
    /// </summary>
    private ValueTask SendFileAsync(SafeFileHandle file, long fileOffset, ReadOnlyMemory<byte> chunk)
    {
        if (!_nonBlockingChecked)
        {
            try
            {
                LinuxSendFile.EnsureNonBlocking(SocketHandle);
                _nonBlockingChecked = true;
            }
            catch (Exception ex) when (ex is IOException or EntryPointNotFoundException or DllNotFoundException)
            {
                _sendFile = false;
                if (_log.IsDebugEnabled) _log.Debug($"Connection {Id}: no sendfile: {ex.Message}");
                return SendAllAsync(chunk);
            }
        }
        var outcome = LinuxSendFile.SendUntilFull(SocketHandle, file, fileOffset, chunk.Length, out int sent);
        if (outcome != LinuxSendFile.Outcome.Unsupported) Interlocked.Increment(ref s_sendFileChunks);
        return outcome == LinuxSendFile.Outcome.Done ? default : ContinueSendFileAsync(file, fileOffset, chunk, sent, outcome);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ContinueSendFileAsync(SafeFileHandle file, long fileOffset, ReadOnlyMemory<byte> chunk, int sent,
        LinuxSendFile.Outcome outcome)
    {
        while (true)
        {
            if (outcome == LinuxSendFile.Outcome.Unsupported)
            {
                _sendFile = false;
                await SendAllAsync(chunk.Slice(sent)).ConfigureAwait(false);
                return;
            }
            // The socket is full: an async send of the next few bytes (from the mapping) waits until it has room.
            Interlocked.Increment(ref s_sendFileStalls);
            int piece = Math.Min(SendFileWaitPiece, chunk.Length - sent);
            sent += CheckProgress(await _socket.SendAsync(chunk.Slice(sent, piece), SocketFlags.None).ConfigureAwait(false));
            if (sent == chunk.Length) return;
            outcome = LinuxSendFile.SendUntilFull(SocketHandle, file, fileOffset + sent, chunk.Length - sent, out int more);
            sent += more;
            if (outcome == LinuxSendFile.Outcome.Done) return;
        }
    }

    /// <summary>Sends all of <paramref name="data"/>; completes synchronously when the kernel takes it at once.</summary>
    private ValueTask SendAllAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            ValueTask<int> send = _socket.SendAsync(data, SocketFlags.None);
            if (!send.IsCompletedSuccessfully) return AwaitSendAsync(send, data);
            data = data.Slice(CheckProgress(send.Result));
        }
        return default;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitSendAsync(ValueTask<int> send, ReadOnlyMemory<byte> data)
    {
        while (true)
        {
            data = data.Slice(CheckProgress(await send.ConfigureAwait(false)));
            if (data.IsEmpty) return;
            send = _socket.SendAsync(data, SocketFlags.None);
        }
    }

    private static int CheckProgress(int sent) =>
        sent > 0 ? sent : throw new IOException("The socket accepted no bytes.");
}
