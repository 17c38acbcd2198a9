using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Broker.Network;

/// <summary>
/// sendfile(2) for the send loop: the kernel moves page-cache pages of a segment file to a non-blocking socket
/// without copying them through user space. <see cref="SendUntilFull"/> returns when everything was sent or the
/// socket's send buffer is full (EAGAIN); the caller then waits asynchronously. Linux only; when libc lacks the
/// call or the file system refuses it, <see cref="IsSupported"/> turns false and the caller sends from memory.
/// </summary>
internal static partial class LinuxSendFile
{
    private const int EINTR = 4;
    private const int EAGAIN = 11;
    private const int EINVAL = 22;
    private const int ENOSYS = 38;
    private const int EOPNOTSUPP = 95;
    private const int F_GETFL = 3;
    private const int F_SETFL = 4;
    private const int O_NONBLOCK = 0x800; // x86-64 and arm64 Linux
    /// <summary>Linux sends at most 0x7ffff000 bytes per call anyway.</summary>
    private const int MaxPerCall = 0x7ffff000;

    private static volatile bool s_unsupported = !OperatingSystem.IsLinux();

    /// <summary>False on other systems, or once sendfile turned out to be missing or refused.</summary>
    public static bool IsSupported => !s_unsupported;

    /// <summary>What <see cref="SendUntilFull"/> ended with.</summary>
    public enum Outcome
    {
        /// <summary>All bytes are in the socket.</summary>
        Done,
        /// <summary>The socket's send buffer is full: wait for room, then call again for the rest.</summary>
        Full,
        /// <summary>sendfile cannot be used here (no such call, or the file or socket refuses it): send from memory.</summary>
        Unsupported,
    }

    /// <summary>Makes sure the socket descriptor is non-blocking, so a full send buffer never blocks a thread.</summary>
    public static void EnsureNonBlocking(SafeSocketHandle socket)
    {
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            int fd = (int)socket.DangerousGetHandle();
            int flags = Fcntl(fd, F_GETFL, 0);
            if (flags < 0) throw new IOException($"fcntl(F_GETFL) failed: errno {Marshal.GetLastPInvokeError()}");
            if ((flags & O_NONBLOCK) == 0 && Fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                throw new IOException($"fcntl(F_SETFL, O_NONBLOCK) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    /// <summary>
    /// Sends bytes [<paramref name="fileOffset"/>, +<paramref name="count"/>) of <paramref name="file"/> until all
    /// are sent or the socket is full; <paramref name="sent"/> says how many went. Throws <see cref="IOException"/>
    /// when the connection failed (reset, closed) or the file ended early (it was cut under a lease).
    /// </summary>
    public static Outcome SendUntilFull(SafeSocketHandle socket, SafeFileHandle file, long fileOffset, int count, out int sent)
    {
        sent = 0;
        bool socketAdded = false, fileAdded = false;
        try
        {
            // Both descriptors stay open during the calls even if the connection is closed from another thread.
            socket.DangerousAddRef(ref socketAdded);
            file.DangerousAddRef(ref fileAdded);
            int socketFd = (int)socket.DangerousGetHandle();
            int fileFd = (int)file.DangerousGetHandle();
            long offset = fileOffset;
            while (sent < count)
            {
                nint n = SendFile(socketFd, fileFd, ref offset, (nuint)Math.Min(count - sent, MaxPerCall));
                if (n > 0)
                {
                    sent += (int)n;
                    continue;
                }
                if (n == 0) throw new IOException($"segment file ended at byte {offset}, before the fetched region did");
                int errno = Marshal.GetLastPInvokeError();
                switch (errno)
                {
                    case EINTR:
                        continue;
                    case EAGAIN:
                        return Outcome.Full;
                    case EINVAL or ENOSYS or EOPNOTSUPP when sent == 0:
                        return Outcome.Unsupported;
                    default:
                        throw new IOException($"sendfile failed: errno {errno}");
                }
            }
            return Outcome.Done;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            s_unsupported = true;
            return Outcome.Unsupported;
        }
        finally
        {
            if (fileAdded) file.DangerousRelease();
            if (socketAdded) socket.DangerousRelease();
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "sendfile", SetLastError = true)]
    private static partial nint SendFile(int outFd, int inFd, ref long offset, nuint count);

    [LibraryImport("libc.so.6", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
