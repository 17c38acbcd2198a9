using Broker.Core.Diagnostics;
using Broker.Core.Model;

namespace Broker.Storage;

/// <summary>Opening a partition directory: finds segments, recovers the active one, cleans leftovers.</summary>
public sealed partial class PartitionLog
{
    /// <summary>
    /// Opens (creating if needed) the log in <paramref name="directory"/>. Sealed segments are trusted unless their
    /// indexes are missing or inconsistent (then rebuilt); the last segment is validated batch by batch and cut at
    /// the first torn or corrupt one. An empty directory becomes an empty log starting at offset 0. The log start
    /// offset checkpoint (DeleteRecords) is read, and producer state is rebuilt from its snapshot and the batch
    /// headers after it.
    /// </summary>
    public static PartitionLog Open(string directory, TopicPartition partition, LogOptions options, IClock clock)
    {
        ValidateOptions(options);
        ArgumentNullException.ThrowIfNull(clock);
        System.IO.Directory.CreateDirectory(directory);
        var baseOffsets = ScanDirectory(directory);
        var segments = new List<Segment>(Math.Max(1, baseOffsets.Count));
        try
        {
            for (int i = 0; i < baseOffsets.Count; i++)
            {
                long baseOffset = baseOffsets[i];
                bool last = i == baseOffsets.Count - 1;
                if (!last && new FileInfo(Segment.PathFor(directory, baseOffset, Segment.LogSuffix)).Length == 0)
                {
                    Logger.Warn($"{partition}: removing empty segment file at base offset {baseOffset}");
                    DeleteSegmentFiles(directory, baseOffset);
                    continue;
                }
                segments.Add(Segment.OpenExisting(directory, baseOffset, last, options.IndexIntervalBytes, Logger));
            }
            if (segments.Count == 0) segments.Add(Segment.CreateActive(directory, 0));
            for (int i = 1; i < segments.Count; i++)
            {
                if (segments[i - 1].NextOffset > segments[i].BaseOffset)
                    Logger.Warn($"{partition}: {segments[i - 1]} overlaps the next segment at {segments[i].BaseOffset}");
            }
        }
        catch
        {
            foreach (var segment in segments) segment.Dispose();
            throw;
        }

        var active = segments[^1];
        if (active.Size > 0)
        {
            long now = clock.UnixTimeMilliseconds;
            long first = active.FirstBatchTimestamp;
            active.FirstAppendMs = first > 0 && first <= now ? first : now;
        }
        var log = new PartitionLog(directory, partition, options, clock, segments.ToArray());
        try
        {
            log.DropSegmentsAfterACutOne();
            log.LoadLogStartFile();
            log.RebuildProducerState();
        }
        catch
        {
            log.Dispose();
            throw;
        }
        Logger.Info($"{partition}: opened {log}");
        return log;
    }

    /// <summary>
    /// Lists segment base offsets (sorted) and removes leftovers: temporary index files from an interrupted
    /// rewrite and index files whose log is gone.
    /// </summary>
    private static List<long> ScanDirectory(string directory)
    {
        var baseOffsets = new List<long>();
        var indexFiles = new List<string>();
        foreach (string path in System.IO.Directory.EnumerateFiles(directory))
        {
            string name = Path.GetFileName(path);
            if (name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                TryDelete(path);
            }
            else if (Segment.TryParseBaseOffset(name, out long baseOffset))
            {
                baseOffsets.Add(baseOffset);
            }
            else if (name.EndsWith(Segment.IndexSuffix, StringComparison.Ordinal) ||
                     name.EndsWith(Segment.TimeIndexSuffix, StringComparison.Ordinal))
            {
                indexFiles.Add(path);
            }
        }
        baseOffsets.Sort();
        foreach (string path in indexFiles)
        {
            string logPath = Path.ChangeExtension(path, Segment.LogSuffix);
            if (!File.Exists(logPath))
            {
                Logger.Warn($"removing orphan index file {path}");
                TryDelete(path);
            }
        }
        return baseOffsets;
    }

    private static void DeleteSegmentFiles(string directory, long baseOffset)
    {
        TryDelete(Segment.PathFor(directory, baseOffset, Segment.LogSuffix));
        TryDelete(Segment.PathFor(directory, baseOffset, Segment.IndexSuffix));
        TryDelete(Segment.PathFor(directory, baseOffset, Segment.TimeIndexSuffix));
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Logger.Warn($"could not delete {path}: {ex.Message}");
        }
    }
}
