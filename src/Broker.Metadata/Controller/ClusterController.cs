using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Metadata.Records;

namespace Broker.Metadata.Controller;

/// <summary>
/// The active controller: validates admin and registration requests against the current image, turns them into
/// metadata records, appends each request's records as one batch to the metadata log, waits for the batch to
/// commit and be applied, then answers. Writes are serialised by one semaphore, so validation always sees the
/// effects of every earlier write. Split by concern: .Topics, .Partitions, .Configs, .Brokers.
/// </summary>
public sealed partial class ClusterController : IDisposable
{
    private readonly ControllerOptions _options;
    private readonly IReplicatedLog _log;
    private readonly MetadataApplier _applier;
    private readonly Func<string, string?, string?> _validateTopicConfig;
    private readonly Func<string, string?, string?> _validateBrokerConfig;
    private readonly IClock _clock;
    private readonly Logger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private int _placementCursor;

    /// <param name="validateTopicConfig">(name, value) → error message, or null when valid.</param>
    /// <param name="validateBrokerConfig">(name, value) → error message, or null when valid.</param>
    public ClusterController(
        ControllerOptions options,
        IReplicatedLog metadataLog,
        MetadataApplier applier,
        Func<string, string?, string?>? validateTopicConfig = null,
        Func<string, string?, string?>? validateBrokerConfig = null,
        IClock? clock = null,
        Logger? logger = null)
    {
        _options = options;
        _log = metadataLog;
        _applier = applier;
        _validateTopicConfig = validateTopicConfig ?? AcceptAnyConfig;
        _validateBrokerConfig = validateBrokerConfig ?? AcceptAnyConfig;
        _clock = clock ?? SystemClock.Instance;
        _logger = logger ?? Log.For("controller");
    }

    public ControllerOptions Options => _options;

    /// <summary>The latest applied metadata image.</summary>
    public MetadataImage Image => _applier.Current;

    /// <summary>True when this node may write metadata (it leads the metadata log).</summary>
    public bool IsActive => _log.IsLeader;

    /// <summary>
    /// Writes the bootstrap records (metadata.version) when the committed metadata has none yet (a new cluster);
    /// does nothing otherwise. Called by each newly active controller: the log is not empty even in a new cluster
    /// (a Raft leader's first entry is its no-op), so the image decides, not the log length.
    /// </summary>
    public async Task<ControllerResult> BootstrapAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_log.IsLeader) return new(ErrorCode.NotController, "this node is not the active controller");
            var caughtUp = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
            if (!caughtUp.IsSuccess) return caughtUp;
            if (_applier.Current.GetFeatureLevel(MetadataConstants.MetadataVersionFeature) > 0) return ControllerResult.Ok;
            _logger.Info($"bootstrapping empty metadata log: {MetadataConstants.MetadataVersionFeature}={_options.MetadataVersion}");
            var records = new List<MetadataRecord>
            {
                new FeatureLevelRecord(MetadataConstants.MetadataVersionFeature, _options.MetadataVersion),
            };
            return await CommitAsync(records, cancellationToken).ConfigureAwait(false);
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>
    /// Appends <paramref name="records"/> as one batch, waits for commit and applies it. Caller holds the write lock.
    /// <paramref name="expectedFirstOffset"/>, when given, must be the offset the batch receives (records that
    /// embed their own offset, like RegisterBrokerRecord's epoch, depend on it).
    /// </summary>
    private async Task<ControllerResult> CommitAsync(List<MetadataRecord> records, CancellationToken cancellationToken, long expectedFirstOffset = -1)
    {
        if (!_log.IsLeader) return new(ErrorCode.NotController, "this node is not the active controller");
        byte[] batch = MetadataBatchCodec.BuildBatch(records, _clock.UnixTimeMilliseconds);
        int limit = _log.Log.Options.MaxMessageBytes;
        if (batch.Length > limit)
            return new(ErrorCode.PolicyViolation,
                $"the request needs {batch.Length} bytes of metadata in one batch, above the metadata log's limit of {limit}; split it");

        ReplicatedAppendResult appended;
        try { appended = _log.Append(batch); }
        catch (Exception ex)
        {
            _logger.Error("appending to the metadata log failed", ex);
            return new(ErrorCode.KafkaStorageError, $"appending to the metadata log failed: {ex.Message}");
        }
        if (appended.Error != ErrorCode.None)
            return new(MapLogError(appended.Error), $"metadata log append failed: {appended.Error}");
        if (expectedFirstOffset >= 0 && appended.FirstOffset != expectedFirstOffset)
        {
            _logger.Error($"metadata batch landed at offset {appended.FirstOffset}, expected {expectedFirstOffset}");
            return new(ErrorCode.UnknownServerError, "metadata batch landed at an unexpected offset");
        }

        var committed = await _log.WaitForCommitAsync(appended.LastOffset, _options.CommitTimeout, cancellationToken).ConfigureAwait(false);
        if (committed != ErrorCode.None)
            return new(MapLogError(committed), $"metadata records at offsets {appended.FirstOffset}..{appended.LastOffset} were not committed: {committed}");

        var caughtUp = TryCatchUp();
        if (!caughtUp.IsSuccess) return caughtUp;
        if (_applier.Current.LastAppliedOffset < appended.LastOffset)
            return new(ErrorCode.RequestTimedOut, $"metadata offset {appended.LastOffset} committed but not yet applied");
        return ControllerResult.Ok;
    }

    /// <summary>
    /// Brings the image up to everything the previous controllers committed before a request is validated. Caller
    /// holds the write lock, so every entry this controller wrote is committed already; an uncommitted tail can only
    /// be a predecessor's entries plus this term's no-op, and Raft commits them together (bounded wait). Without it a
    /// new controller could validate against an image that lacks committed records (and, say, hand out a producer id
    /// block or a topic name a second time).
    /// </summary>
    private async ValueTask<ControllerResult> CatchUpAsync(CancellationToken cancellationToken)
    {
        long end = _log.Log.LogEndOffset;
        if (end > 0 && _log.HighWatermark < end)
        {
            var waited = await _log.WaitForCommitAsync(end - 1, _options.CommitTimeout, cancellationToken).ConfigureAwait(false);
            if (waited != ErrorCode.None) return new(MapLogError(waited), "the metadata log did not commit its predecessors' entries in time");
        }
        return TryCatchUp();
    }

    /// <summary>Brings the image up to the high watermark. Caller holds the lock.</summary>
    private ControllerResult TryCatchUp()
    {
        try
        {
            _applier.CatchUp();
            return ControllerResult.Ok;
        }
        catch (Exception ex)
        {
            _logger.Error("applying the metadata log failed", ex);
            return new(ErrorCode.UnknownServerError, $"applying the metadata log failed: {ex.Message}");
        }
    }

    /// <summary>Offset the next appended metadata record will get.</summary>
    private long NextMetadataOffset => _log.Log.LogEndOffset;

    private static ErrorCode MapLogError(ErrorCode error) =>
        error == ErrorCode.NotLeaderOrFollower ? ErrorCode.NotController : error;

    private static string? AcceptAnyConfig(string name, string? value) => null;

    /// <summary>Names that occur more than once (Kafka answers all of them with INVALID_REQUEST).</summary>
    private static HashSet<string> FindDuplicates(IEnumerable<string?> names)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
            if (name is not null && !seen.Add(name)) duplicates.Add(name);
        return duplicates;
    }

    public void Dispose() => _writeLock.Dispose();
}
