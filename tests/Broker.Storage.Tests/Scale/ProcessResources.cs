using System.Diagnostics;

namespace Broker.Storage.Tests.Scale;

/// <summary>
/// What this test process holds open under one directory, read from /proc/self: file descriptors whose target is
/// inside it and memory mappings of files inside it. Counting per directory keeps the figures exact while other test
/// classes run in parallel in the same process.
/// </summary>
internal static class ProcessResources
{
    public static int FdsUnder(string directory)
    {
        string prefix = Path.GetFullPath(directory) + "/";
        int count = 0;
        foreach (string fd in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }
            if (target != null && target.StartsWith(prefix, StringComparison.Ordinal)) count++;
        }
        return count;
    }

    public static int MappingsUnder(string directory)
    {
        string prefix = Path.GetFullPath(directory) + "/";
        int count = 0;
        foreach (string line in File.ReadLines("/proc/self/maps"))
            if (line.Contains(prefix, StringComparison.Ordinal)) count++;
        return count;
    }

    public static int AllFds() => Directory.GetFileSystemEntries("/proc/self/fd").Length;
}

/// <summary>
/// A tmpfs of a fixed size mounted on a fresh directory (needs root, as CI has): a small file system to fill up.
/// Dispose unmounts it (lazily, so mappings still held by a failed test cannot block it) and removes the directory.
/// </summary>
internal sealed class TmpfsMount : IDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    public static TmpfsMount Create(long sizeBytes)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "storage-tmpfs-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={sizeBytes}", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            Assert.Fail($"cannot mount a tmpfs on {path} (exit {code}: {output.Trim()}); these tests need root (CI runs as root)");
        }
        return new TmpfsMount(path);
    }

    /// <summary>Changes the size of the mounted file system (mount -o remount,size=...).</summary>
    public void Resize(long sizeBytes)
    {
        var (code, output) = Run("mount", "-o", $"remount,size={sizeBytes}", Path);
        Assert.True(code == 0, $"remount of {Path} failed: {output}");
    }

    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
