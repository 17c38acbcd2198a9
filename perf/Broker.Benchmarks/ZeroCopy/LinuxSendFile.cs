using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Broker.Benchmarks.ZeroCopy;

/// <summary>
/// The Linux sendfile(2) syscall, called directly: the kernel moves page-cache pages of a file to a socket without
/// a copy through user space. Handles partial writes (loops) and EINTR; EAGAIN (non-blocking socket, send buffer
/// full) waits for writability with poll before trying again.
/// </summary>
internal static partial class LinuxSendFile
{
    private const int EINTR = 4;
    private const int EAGAIN = 11;

    [LibraryImport("libc.so.6", EntryPoint = "sendfile", SetLastError = true)]
    private static partial nint SendFile(int outFd, int inFd, ref long offset, nuint count);

    /// <summary>
    /// Sends up to <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/> until done or
    /// the (non-blocking) socket is full; returns how many were sent.
    /// </summary>
    public static int SendUntilFull(Socket socket, SafeFileHandle file, long offset, int count)
    {
        int socketFd = (int)socket.SafeHandle.DangerousGetHandle();
        int fileFd = (int)file.DangerousGetHandle();
        int done = 0;
        while (done < count)
        {
            nint sent = SendFile(socketFd, fileFd, ref offset, (nuint)(count - done));
            if (sent > 0)
            {
                done += (int)sent;
                continue;
            }
            if (sent == 0) throw new IOException("sendfile sent nothing: the file is shorter than the region");
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            throw new IOException($"sendfile failed: errno {errno}");
        }
        return done;
    }

    /// <summary>Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/>.</summary>
    /// <returns>How many times the socket was full (EAGAIN) on the way.</returns>
    public static int SendAll(Socket socket, SafeFileHandle file, long offset, long count)
    {
        int socketFd = (int)socket.SafeHandle.DangerousGetHandle();
        int fileFd = (int)file.DangerousGetHandle();
        int stalls = 0;
        while (count > 0)
        {
            nint sent = SendFile(socketFd, fileFd, ref offset, (nuint)count); // the kernel advances offset
            if (sent > 0)
            {
                count -= sent;
                continue;
            }
            if (sent == 0) throw new IOException("sendfile sent nothing: the file is shorter than the region");
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR) continue;
            if (errno != EAGAIN) throw new IOException($"sendfile failed: errno {errno}");
            stalls++;
            socket.Poll(-1, SelectMode.SelectWrite);
        }
        return stalls;
    }
}
