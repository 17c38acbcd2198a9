using System.Diagnostics;
using Xunit;

namespace Broker.Integration.Tests.Scale;

/// <summary>
/// A tmpfs of a fixed size mounted on a fresh directory: a small file system for a broker to fill. Needs root (CI runs
/// as root). Dispose always unmounts (lazily, so a broker still holding files cannot block it) and removes the
/// directory; dispose the broker first.
/// </summary>
internal sealed class TmpfsMount : IDisposable
{
    private bool _mounted;

    private TmpfsMount(string path)
    {
        Path = path;
        _mounted = true;
    }

    public string Path { get; }

    public static TmpfsMount Create(long sizeBytes)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "broker-it-tmpfs-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={sizeBytes}", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            Assert.Fail($"cannot mount a tmpfs on {path} (exit {code}: {output.Trim()}); the disk-full tests need root (CI runs as root)");
        }
        return new TmpfsMount(path);
    }

    /// <summary>Grows or shrinks the file system in place (mount -o remount,size=...).</summary>
    public void Resize(long sizeBytes)
    {
        var (code, output) = Run("mount", "-o", $"remount,size={sizeBytes}", Path);
        Assert.True(code == 0, $"remount of {Path} to {sizeBytes} bytes failed: {output}");
    }

    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    public void Dispose()
    {
        if (!_mounted) return;
        _mounted = false;
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
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
