using System.Buffers.Binary;
using System.Net.Sockets;
using Broker.Core.Buffers;

namespace Broker.Network;

/// <summary>The receive loop: framing, size validation, backpressure and in-order dispatch to the handler.</summary>
internal sealed partial class KafkaConnection
{
    /// <summary>
    /// Reads frames until EOF, an invalid frame, a handler failure or <see cref="Close"/>. One async state machine
    /// for the connection's lifetime; socket awaits use the socket's cached event args, so a frame costs only the
    /// rented frame buffer. Never throws for connection-level failures (they just end the loop).
    /// </summary>
    private async Task ReceiveLoopAsync()
    {
        Socket socket = _socket;
        int maxRequest = _options.MaxRequestBytes;
        byte[]? buffer = null; // read-ahead buffer, rented only while data is flowing
        int start = 0;         // first unconsumed byte in buffer
        int end = 0;           // end of received bytes in buffer
        try
        {
            while (true)
            {
                // Backpressure: with MaxInFlight responses pending, stop reading until the send loop frees a slot.
                while (!_pending.HasSpace && !IsClosing) await _pending.SpaceFreed.WaitAsync().ConfigureAwait(false);
                if (IsClosing) return;

                if (start == end)
                {
                    // Nothing buffered: give the buffer back and wait for readability without holding memory
                    // (a zero-byte receive), so idle connections cost no buffer.
                    start = end = 0;
                    if (buffer is not null)
                    {
                        _pool.Return(buffer);
                        buffer = null;
                    }
                    await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                    buffer = _pool.Rent(_options.ReceiveBufferBytes);
                }
                buffer ??= _pool.Rent(_options.ReceiveBufferBytes);

                // Size prefix.
                if (end - start < 4 && buffer.Length - start < 4) Compact(buffer, ref start, ref end);
                while (end - start < 4)
                {
                    int n = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None).ConfigureAwait(false);
                    if (n == 0)
                    {
                        LogEof(end - start);
                        return;
                    }
                    end += n;
                }
                int size = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(start, 4));
                if (size < 0 || size > maxRequest)
                {
                    CloseWithWarning(size < 0
                        ? $"invalid request size {size} (negative)"
                        : $"request size {size} exceeds socket.request.max.bytes {maxRequest}");
                    return;
                }
                start += 4;

                // Frame body, into its own pooled buffer (it must outlive the read-ahead buffer).
                byte[]? frame = size == 0 ? null : _pool.Rent(size);
                try
                {
                    if (size <= buffer.Length)
                    {
                        // Small frame: assemble in the read-ahead buffer (one receive may bring several frames).
                        if (end - start < size && buffer.Length - start < size) Compact(buffer, ref start, ref end);
                        while (end - start < size)
                        {
                            int n = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None).ConfigureAwait(false);
                            if (n == 0)
                            {
                                LogEof(end - start + 4);
                                return;
                            }
                            end += n;
                        }
                        if (frame is not null) buffer.AsSpan(start, size).CopyTo(frame);
                        start += size;
                    }
                    else
                    {
                        // Large frame: copy what is buffered, receive the rest straight into the frame.
                        int got = end - start;
                        buffer.AsSpan(start, got).CopyTo(frame);
                        start = end = 0;
                        while (got < size)
                        {
                            int n = await socket.ReceiveAsync(frame.AsMemory(got, size - got), SocketFlags.None)
                                .ConfigureAwait(false);
                            if (n == 0)
                            {
                                LogEof(got + 4);
                                return;
                            }
                            got += n;
                        }
                    }

                    if (IsClosing) return;
                    ValueTask<ChunkedBufferWriter?> response;
                    try
                    {
                        response = _handler.HandleAsync(Context,
                            frame is null ? ReadOnlyMemory<byte>.Empty : frame.AsMemory(0, size));
                    }
                    catch (ProtocolViolationException ex)
                    {
                        CloseWithWarning($"protocol violation: {ex.Message}");
                        return;
                    }
                    catch (Exception ex)
                    {
                        CloseWithError("request handler failed", ex);
                        return;
                    }
                    _pending.Enqueue(new PendingResponse(response, frame));
                    frame = null; // owned by the queue now; returned after the response completed
                }
                finally
                {
                    if (frame is not null) _pool.Return(frame);
                }
            }
        }
        catch (Exception ex) when (IsConnectionError(ex))
        {
            if (_log.IsDebugEnabled && !IsClosing) _log.Debug($"Connection {Id} from {_remoteText}: receive ended: {ex.Message}");
        }
        finally
        {
            if (buffer is not null) _pool.Return(buffer);
        }
    }

    /// <summary>Moves the unconsumed bytes to the front of the read-ahead buffer.</summary>
    private static void Compact(byte[] buffer, ref int start, ref int end)
    {
        int n = end - start;
        if (n > 0 && start > 0) Buffer.BlockCopy(buffer, start, buffer, 0, n);
        start = 0;
        end = n;
    }

    private void LogEof(int partialBytes)
    {
        if (!_log.IsDebugEnabled || IsClosing) return;
        _log.Debug(partialBytes > 0
            ? $"Connection {Id} from {_remoteText}: peer closed in the middle of a frame ({partialBytes} bytes received)"
            : $"Connection {Id} from {_remoteText}: peer closed the connection");
    }
}
