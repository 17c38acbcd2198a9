using Broker.Core.Diagnostics;
using Broker.Protocol.Messages;
using Broker.Server.Partitions;
using Broker.Storage;

namespace Broker.Server.LogAdmin;

/// <summary>
/// Builds DescribeLogDirs results: each log directory with the local partition replicas stored in it (sizes from
/// the partition logs) and its file system's total and usable bytes.
/// </summary>
public static class LogDirDescriber
{
    private static readonly Logger Logger = Log.For("log-admin");

    /// <param name="logDirs">The configured log directories; partitions whose directory is not found under one of
    /// them are listed under the first.</param>
    /// <param name="replicas">The local replicas.</param>
    /// <param name="topics">The request's filter: null for everything.</param>
    public static List<DescribeLogDirsResponse.DescribeLogDirsResult> Describe(IReadOnlyList<string> logDirs,
        IReadOnlyList<PartitionState> replicas, List<DescribeLogDirsRequest.DescribableLogDirTopic>? topics)
    {
        var wanted = topics is null ? null : Filter(topics);
        var fullDirs = new string[logDirs.Count];
        var byDir = new SortedDictionary<string, List<DescribeLogDirsResponse.DescribeLogDirsPartition>>[logDirs.Count];
        for (int i = 0; i < logDirs.Count; i++)
        {
            fullDirs[i] = Path.TrimEndingDirectorySeparator(Path.GetFullPath(logDirs[i]));
            byDir[i] = new(StringComparer.Ordinal);
        }

        foreach (var state in replicas)
        {
            if (wanted is not null && (!wanted.TryGetValue(state.Id.Topic, out var ids) || !ids.Contains(state.Id.Partition))) continue;
            long size;
            try
            {
                size = state.Log.SizeInBytes;
            }
            catch (ObjectDisposedException)
            {
                continue; // removed meanwhile
            }
            int dir = DirectoryIndex(fullDirs, state.Log);
            if (!byDir[dir].TryGetValue(state.Id.Topic, out var list)) byDir[dir][state.Id.Topic] = list = new();
            list.Add(new DescribeLogDirsResponse.DescribeLogDirsPartition
            {
                PartitionIndex = state.Id.Partition,
                PartitionSize = size,
                OffsetLag = 0,
                IsFutureKey = false,
            });
        }

        var results = new List<DescribeLogDirsResponse.DescribeLogDirsResult>(logDirs.Count);
        for (int i = 0; i < logDirs.Count; i++)
        {
            var (total, usable) = SpaceOf(fullDirs[i]);
            var result = new DescribeLogDirsResponse.DescribeLogDirsResult
            {
                LogDir = fullDirs[i],
                Topics = new(byDir[i].Count),
                TotalBytes = total,
                UsableBytes = usable,
            };
            foreach (var (topic, partitions) in byDir[i])
            {
                partitions.Sort(static (a, b) => a.PartitionIndex.CompareTo(b.PartitionIndex));
                result.Topics.Add(new DescribeLogDirsResponse.DescribeLogDirsTopic { Name = topic, Partitions = partitions });
            }
            results.Add(result);
        }
        return results;
    }

    private static Dictionary<string, HashSet<int>> Filter(List<DescribeLogDirsRequest.DescribableLogDirTopic> topics)
    {
        var wanted = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
        foreach (var t in topics)
        {
            if (!wanted.TryGetValue(t.Topic, out var ids)) wanted[t.Topic] = ids = new();
            foreach (int p in t.Partitions) ids.Add(p);
        }
        return wanted;
    }

    /// <summary>The log directory that holds <paramref name="log"/>'s directory (0 when none matches).</summary>
    private static int DirectoryIndex(string[] fullDirs, IPartitionLog log)
    {
        if (fullDirs.Length == 1 || log is not PartitionLog stored) return 0;
        string? parent = Path.GetDirectoryName(Path.GetFullPath(stored.Directory));
        for (int i = 0; i < fullDirs.Length; i++)
            if (string.Equals(parent, fullDirs[i], StringComparison.Ordinal)) return i;
        return 0;
    }

    /// <summary>Total and usable bytes of the file system holding <paramref name="directory"/> (-1 when unknown).</summary>
    public static (long Total, long Usable) SpaceOf(string directory)
    {
        try
        {
            var drive = new DriveInfo(directory);
            return (drive.TotalSize, drive.AvailableFreeSpace);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            Logger.Warn($"cannot read the size of the file system holding {directory}: {ex.Message}");
            return (-1, -1);
        }
    }
}
