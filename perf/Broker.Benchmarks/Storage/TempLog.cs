using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Storage;

namespace Broker.Benchmarks.Storage;

/// <summary>A <see cref="PartitionLog"/> in a fresh temporary directory, removed again on dispose.</summary>
public sealed class TempLog : IDisposable
{
    public TempLog(LogOptions options, string label)
    {
        DirectoryPath = Path.Combine(Path.GetTempPath(), $"bench-{label}-{Environment.ProcessId}-{Guid.NewGuid():N}", "bench-0");
        Log = PartitionLog.Open(DirectoryPath, new TopicPartition("bench", 0), options, SystemClock.Instance);
    }

    public string DirectoryPath { get; }
    public PartitionLog Log { get; }

    public void Dispose()
    {
        Log.Dispose();
        Directory.Delete(Path.GetDirectoryName(DirectoryPath)!, recursive: true);
    }
}
