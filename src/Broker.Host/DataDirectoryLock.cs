namespace Broker.Host;

/// <summary>
/// An exclusive lock file in a data directory, so two processes never open the same logs. Held for the process
/// lifetime; the OS releases it if the process dies (kill -9), so a restart never finds a stale lock.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    public const string FileName = ".lock";
    private readonly FileStream _stream;

    private DataDirectoryLock(FileStream stream) => _stream = stream;

    public static DataDirectoryLock Acquire(string directory)
    {
        string path = Path.Combine(directory, FileName);
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n");
            stream.Write(pid);
            stream.Flush();
            return new DataDirectoryLock(stream);
        }
        catch (IOException ex)
        {
            throw new StartupException($"data directory {directory} is in use by another process ({ex.Message})", ex);
        }
    }

    public void Dispose() => _stream.Dispose();
}
