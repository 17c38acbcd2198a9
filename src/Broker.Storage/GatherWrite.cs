using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage;

/// <summary>
/// Linux file-writing calls for segments. pwritev(2) for the append path: the stamped batch headers (a few bytes each, in a small buffer) and the batch
/// bodies (straight from the caller's request memory) reach the file in one system call, without first copying the
/// batches into a contiguous buffer. Short writes are continued, EINTR retried; any other failure is an
/// <see cref="IOException"/> naming the error (ENOSPC gives "No space left on device"), so callers roll back as for
/// a failed pwrite. Linux only: <see cref="IsSupported"/>.
/// </summary>
internal static unsafe partial class GatherWrite
{
    /// <summary>Most pieces one call takes (Linux IOV_MAX is 1024).</summary>
    public const int MaxPieces = 128;
    private const int ErrorInterrupted = 4;

    public static bool IsSupported { get; } = OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("BROKER_PWRITEV") != "0";

    /// <summary>One piece of a gathered write: <paramref name="Length"/> bytes at <paramref name="Base"/> (pinned by the caller).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Piece(byte* @base, nint length)
    {
        public byte* Base = @base;
        public nint Length = length;
    }

    /// <summary>Writes <paramref name="pieces"/> back to back at <paramref name="fileOffset"/>; the memory behind them must stay pinned.</summary>
    public static void Write(SafeFileHandle handle, Span<Piece> pieces, long fileOffset)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            int fd = (int)handle.DangerousGetHandle();
            int first = 0;
            while (first < pieces.Length)
            {
                nint written;
                fixed (Piece* iov = &pieces[first])
                    written = PWriteV(fd, iov, pieces.Length - first, fileOffset);
                if (written < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == ErrorInterrupted) continue;
                    throw new IOException($"write at {fileOffset} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
                }
                fileOffset += written;
                // Skip the pieces written in full; shorten the one written in part.
                while (first < pieces.Length && written >= pieces[first].Length)
                {
                    written -= pieces[first].Length;
                    first++;
                }
                if (first < pieces.Length && written > 0)
                {
                    pieces[first].Base += written;
                    pieces[first].Length -= written;
                }
            }
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>
    /// sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER) over the whole file: writes its dirty data pages back and
    /// waits, without the metadata part of fsync. Called before the fsync of a sealed segment: on ext4 an fsync that
    /// finds a gigabyte dirty keeps the inode's metadata buffer locked while that queue drains, and every append to
    /// another file whose inode shares that block waits with it (0.3–0.8 s produce stalls measured). Best effort:
    /// the fsync that follows is what guarantees durability.
    /// </summary>
    public static void WriteBackData(SafeFileHandle handle)
    {
        if (!IsSupported) return;
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            SyncFileRange((int)handle.DangerousGetHandle(), 0, 0, SyncWaitBefore | SyncWrite | SyncWaitAfter);
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private const uint SyncWaitBefore = 1, SyncWrite = 2, SyncWaitAfter = 4;

    [LibraryImport("libc.so.6", EntryPoint = "sync_file_range")]
    private static partial int SyncFileRange(int fd, long offset, long count, uint flags);

    [LibraryImport("libc.so.6", EntryPoint = "pwritev", SetLastError = true)]
    private static partial nint PWriteV(int fd, Piece* iov, int iovcnt, long offset);
}
