using System.Runtime.InteropServices;

namespace Broker.Storage;

/// <summary>
/// Crash-safe small-file writes shared by every checkpoint the broker keeps (log start offset, producer state,
/// Raft hard state and epochs, meta.properties): write a temporary file, fsync it, rename it over the target, then
/// fsync the directory so the rename itself survives a power loss (POSIX only promises that for a synced
/// directory). After a crash a reader finds either the old file or the new one, never a mix; a leftover
/// "*.tmp" is garbage its owner removes or overwrites.
/// </summary>
public static partial class DurableFile
{
    private const int OpenReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC (same value on x64 and arm64)
    private const int ErrorInvalidArgument = 22; // EINVAL: the file system cannot sync directories
    private const int ErrorInterrupted = 4; // EINTR

    /// <summary>
    /// Durably replaces <paramref name="path"/> with <paramref name="data"/> (temp + fsync + rename + directory fsync).
    /// <paramref name="syncDirectory"/> false skips the directory fsync, for content that may harmlessly revert to
    /// the previous version after a power loss (a hint such as a Raft commit index).
    /// </summary>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> data, bool syncDirectory = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string temp = path + ".tmp";
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RandomAccess.Write(handle, data, 0);
            RandomAccess.FlushToDisk(handle);
        }
        File.Move(temp, path, overwrite: true);
        if (syncDirectory) SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>
    /// fsync of a directory: makes file creations, renames and deletions inside it durable. A no-op off Linux and
    /// on file systems that do not support it (EINVAL); any other failure is an <see cref="IOException"/>.
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!OperatingSystem.IsLinux()) return;
        int fd = Open(directory, OpenReadOnlyCloseOnExec);
        if (fd < 0) throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            int result;
            int errno = 0;
            do
            {
                result = FSync(fd);
                if (result != 0) errno = Marshal.GetLastPInvokeError();
            } while (result != 0 && errno == ErrorInterrupted);
            if (result != 0 && errno != ErrorInvalidArgument)
                throw new IOException($"fsync of directory {directory} failed (errno {errno})");
        }
        finally
        {
            Close(fd);
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc.so.6", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc.so.6", EntryPoint = "close")]
    private static partial int Close(int fd);
}
