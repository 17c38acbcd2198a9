using System.Globalization;
using Broker.Core.Diagnostics;
using Broker.Core.Model;

namespace Broker.Storage;

/// <summary>
/// Owns every partition log under one data directory (`log.dirs` entry): recovery at start, creation, lookup,
/// deletion, retention and flush passes, and a clean close. Thread-safe (one lock around the map; the logs
/// themselves do their own locking).
/// </summary>
public sealed partial class LogManager : IDisposable
{
    private const string DeleteSuffix = "-delete";
    /// <summary>Suffix of logs moved aside (kept for an operator, never loaded or deleted automatically).</summary>
    public const string StraySuffix = "-stray";
    private static readonly Logger Logger = Log.For("log-manager");

    private readonly object _lock = new();
    private readonly Dictionary<TopicPartition, PartitionLog> _logs = new();
    private readonly IClock _clock;
    private bool _disposed;

    public LogManager(string logDir, IClock clock)
    {
        ArgumentException.ThrowIfNullOrEmpty(logDir);
        ArgumentNullException.ThrowIfNull(clock);
        LogDir = Path.GetFullPath(logDir);
        _clock = clock;
        Directory.CreateDirectory(LogDir);
    }

    public string LogDir { get; }

    /// <summary>
    /// Opens every partition directory found under the data directory (from several threads: with thousands of
    /// partitions, start-up is file-system bound). Unparsable names and partitions that fail to open are logged and
    /// skipped; leftovers of interrupted deletions are removed.
    /// </summary>
    public IReadOnlyList<TopicPartition> LoadAll(Func<TopicPartition, LogOptions> optionsFor)
    {
        ArgumentNullException.ThrowIfNull(optionsFor);
        var loaded = new List<TopicPartition>();
        var toOpen = new List<(string Dir, TopicPartition Partition, LogOptions Options)>();
        foreach (string dir in Directory.EnumerateDirectories(LogDir))
        {
            string name = Path.GetFileName(dir);
            if (name.EndsWith(DeleteSuffix, StringComparison.Ordinal))
            {
                RemoveDirectory(dir);
                continue;
            }
            if (name.EndsWith(StraySuffix, StringComparison.Ordinal))
            {
                Logger.Info($"skipping {dir}: a log moved aside earlier (delete it by hand when it is no longer needed)");
                continue;
            }
            if (!TryParseDirectoryName(name, out var partition))
            {
                Logger.Warn($"skipping {dir}: not a <topic>-<partition> directory");
                continue;
            }
            lock (_lock)
            {
                ThrowIfDisposed();
                if (_logs.ContainsKey(partition)) continue;
            }
            try
            {
                toOpen.Add((dir, partition, optionsFor(partition)));
            }
            catch (Exception ex)
            {
                Logger.Error($"could not open log {partition} in {dir}", ex);
            }
        }
        ParallelIo.ForEach(toOpen, item =>
        {
            try
            {
                var log = PartitionLog.Open(item.Dir, item.Partition, item.Options, _clock);
                lock (_lock)
                {
                    if (!_disposed && _logs.TryAdd(item.Partition, log))
                    {
                        loaded.Add(item.Partition);
                        return;
                    }
                }
                log.Dispose(); // closed or opened concurrently meanwhile
            }
            catch (Exception ex)
            {
                Logger.Error($"could not open log {item.Partition} in {item.Dir}", ex);
            }
        });
        return loaded;
    }

    /// <summary>Splits "&lt;topic&gt;-&lt;partition&gt;" on the last '-' (topics may contain '-').</summary>
    public static bool TryParseDirectoryName(string name, out TopicPartition partition)
    {
        partition = default;
        int dash = name.LastIndexOf('-');
        if (dash <= 0 || dash == name.Length - 1) return false;
        var number = name.AsSpan(dash + 1);
        if (number.Length > 1 && number[0] == '0') return false; // must round-trip to the same directory name
        if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int id)) return false;
        string topic = name[..dash];
        if (!IsSafeTopicName(topic)) return false;
        partition = new TopicPartition(topic, id);
        return true;
    }

    public IPartitionLog GetOrCreate(TopicPartition partition, LogOptions options)
    {
        if (!IsSafeTopicName(partition.Topic) || partition.Partition < 0)
            throw new ArgumentException($"invalid partition '{partition}'", nameof(partition));
        lock (_lock)
        {
            ThrowIfDisposed();
            if (_logs.TryGetValue(partition, out var existing)) return existing;
            var log = PartitionLog.Open(DirectoryFor(partition), partition, options, _clock);
            _logs[partition] = log;
            return log;
        }
    }

    public IPartitionLog? Get(TopicPartition partition)
    {
        lock (_lock)
        {
            return _logs.TryGetValue(partition, out var log) ? log : null;
        }
    }

    public IReadOnlyList<TopicPartition> Partitions
    {
        get
        {
            lock (_lock) return [.. _logs.Keys];
        }
    }

    /// <summary>
    /// Closes the log, renames its directory to `&lt;dir&gt;.&lt;guid&gt;-delete` and removes it. Removal failures are
    /// logged (and retried at the next start), not thrown. Unknown partitions are ignored.
    /// </summary>
    public void Delete(TopicPartition partition)
    {
        PartitionLog? log;
        lock (_lock)
        {
            if (!_logs.Remove(partition, out log)) return;
        }
        log.Dispose();
        string dir = log.Directory;
        string doomed = $"{dir}.{Guid.NewGuid():N}{DeleteSuffix}";
        try
        {
            Directory.Move(dir, doomed);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Logger.Error($"could not rename {dir} for deletion", ex);
            doomed = dir;
        }
        RemoveDirectory(doomed);
        Logger.Info($"deleted log {partition}");
    }

    /// <summary>
    /// Closes the log and renames its directory to <c>&lt;dir&gt;.&lt;guid&gt;-stray</c>: the data stays on disk
    /// for an operator to inspect or delete, and later starts skip it. Returns the new path, or null when the log is
    /// not open here or the rename failed (then the log stays closed and in place).
    /// </summary>
    public string? MoveAside(TopicPartition partition)
    {
        PartitionLog? log;
        lock (_lock)
        {
            if (!_logs.Remove(partition, out log)) return null;
        }
        log.Dispose();
        string target = $"{log.Directory}.{Guid.NewGuid():N}{StraySuffix}";
        try
        {
            Directory.Move(log.Directory, target);
            return target;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Logger.Error($"could not move {log.Directory} aside", ex);
            return null;
        }
    }

    /// <summary>Applies retention to every log; returns the number of segments deleted.</summary>
    public int ApplyRetentionAll(long nowMs)
    {
        int deleted = 0;
        foreach (var log in Snapshot())
        {
            try
            {
                deleted += log.ApplyRetention(nowMs);
            }
            catch (Exception ex)
            {
                Logger.Error($"retention failed for {log.Partition}", ex);
            }
        }
        return deleted;
    }

    public void FlushAll()
    {
        foreach (var log in Snapshot())
        {
            try
            {
                log.Flush();
            }
            catch (ObjectDisposedException)
            {
                // deleted concurrently
            }
            catch (Exception ex)
            {
                Logger.Error($"flush failed for {log.Partition}", ex);
            }
        }
    }

    /// <summary>Flushes and closes every log (active segment files are cut to their data).</summary>
    public void Dispose()
    {
        PartitionLog[] logs;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            StopIdleSweeper();
            logs = [.. _logs.Values];
            _logs.Clear();
        }
        foreach (var log in logs)
        {
            try
            {
                log.Flush();
            }
            catch (ObjectDisposedException)
            {
                // closed already by its owner (a replica closes its log at shutdown)
            }
            catch (Exception ex)
            {
                Logger.Error($"flush failed for {log.Partition}", ex);
            }
            log.Dispose();
        }
    }

    private string DirectoryFor(TopicPartition partition) =>
        Path.Combine(LogDir, partition.Topic + "-" + partition.Partition.ToString(CultureInfo.InvariantCulture));

    private PartitionLog[] Snapshot()
    {
        lock (_lock) return [.. _logs.Values];
    }

    /// <summary>Rejects names that could escape the data directory; Kafka topics are [a-zA-Z0-9._-]+ anyway.</summary>
    private static bool IsSafeTopicName(string topic) =>
        !string.IsNullOrEmpty(topic) && topic != "." && topic != ".." &&
        topic.IndexOfAny(['/', '\\', '\0']) < 0;

    private static void RemoveDirectory(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Logger.Error($"could not remove {dir}", ex);
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(LogManager));
    }
}
