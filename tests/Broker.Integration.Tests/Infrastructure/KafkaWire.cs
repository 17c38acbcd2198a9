using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>
/// Minimal hand-encoded Kafka requests over a raw socket, for readiness probes and malformed-input tests.
/// Only ApiVersions v0 (request header v1, response header v0) is spoken here.
/// </summary>
public static class KafkaWire
{
    /// <summary>Frame for ApiVersions v0: size, api_key 18, version 0, correlation id, client id.</summary>
    public static byte[] ApiVersionsV0(int correlationId, string clientId = "it-probe")
    {
        byte[] client = Encoding.UTF8.GetBytes(clientId);
        int size = 2 + 2 + 4 + 2 + client.Length;
        var frame = new byte[4 + size];
        var span = frame.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span, size);
        BinaryPrimitives.WriteInt16BigEndian(span[4..], 18);
        BinaryPrimitives.WriteInt16BigEndian(span[6..], 0);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], correlationId);
        BinaryPrimitives.WriteInt16BigEndian(span[12..], (short)client.Length);
        client.CopyTo(span[14..]);
        return frame;
    }

    /// <summary>
    /// Connects, sends ApiVersions v0 and checks the response's correlation id and error code 0.
    /// Returns null on success, else a description of what went wrong.
    /// </summary>
    public static string? ProbeApiVersions(int port, TimeSpan timeout)
    {
        try
        {
            using var socket = Connect(port, timeout);
            int correlationId = Random.Shared.Next(1, int.MaxValue);
            socket.Send(ApiVersionsV0(correlationId));
            byte[] sizeBuf = ReadExactly(socket, 4);
            int size = BinaryPrimitives.ReadInt32BigEndian(sizeBuf);
            if (size < 6 || size > 1 << 20) return $"ApiVersions response size {size} is implausible";
            byte[] body = ReadExactly(socket, size);
            int corr = BinaryPrimitives.ReadInt32BigEndian(body);
            short error = BinaryPrimitives.ReadInt16BigEndian(body.AsSpan(4));
            if (corr != correlationId) return $"ApiVersions response correlation id {corr}, sent {correlationId}";
            if (error != 0) return $"ApiVersions v0 error code {error}";
            return null;
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    public static Socket Connect(int port, TimeSpan timeout) => Connect("127.0.0.1", port, timeout);

    public static Socket Connect(string host, int port, TimeSpan timeout)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = (int)timeout.TotalMilliseconds,
            SendTimeout = (int)timeout.TotalMilliseconds,
        };
        try
        {
            var connect = socket.ConnectAsync(host, port);
            if (!connect.Wait(timeout)) throw new TimeoutException($"connect to {host}:{port} timed out");
            return socket;
        }
        catch (AggregateException ex) when (ex.InnerException is SocketException se)
        {
            socket.Dispose();
            throw se;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static byte[] ReadExactly(Socket socket, int count)
    {
        var buf = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = socket.Receive(buf, read, count - read, SocketFlags.None);
            if (n == 0) throw new IOException($"connection closed after {read} of {count} bytes");
            read += n;
        }
        return buf;
    }

    /// <summary>
    /// Waits until the peer closes the connection (read returns 0 or the socket errors). Returns null when it
    /// was closed, else a description (data received instead, or still open at the timeout).
    /// </summary>
    public static string? WaitForClose(Socket socket, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var buf = new byte[4096];
        long received = 0;
        socket.ReceiveTimeout = 200;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                int n = socket.Receive(buf);
                if (n == 0) return null;
                received += n;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut || ex.SocketErrorCode == SocketError.WouldBlock)
            {
                // still open; keep waiting
            }
            catch (SocketException)
            {
                return null; // reset by peer counts as closed
            }
        }
        return $"connection still open after {timeout.TotalSeconds:F0} s ({received} bytes received)";
    }
}
