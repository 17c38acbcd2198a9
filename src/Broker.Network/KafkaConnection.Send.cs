using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Broker.Core.Buffers;

namespace Broker.Network;

/// <summary>The send loop: awaits responses strictly in request order and writes them, gathering small chunks.</summary>
internal sealed partial class KafkaConnection
{
    /// <summary>Chunks up to this size are copied into the staging buffer; larger ones are sent in place.</summary>
    internal const int GatherThreshold = 8 * 1024;
    private const int StagingBytes = 32 * 1024;

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
                                    await SendAllAsync(chunk).ConfigureAwait(false);
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
