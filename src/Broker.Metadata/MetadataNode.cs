using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;

namespace Broker.Metadata;

/// <summary>
/// The metadata side of one node, wired together: identity (meta.properties), the metadata log applier that
/// publishes <see cref="MetadataImage"/>s, and the controller. <see cref="StartAsync"/> replays the log,
/// bootstraps an empty log, and registers the local broker. The same path serves one node or, once Raft is behind
/// <see cref="IReplicatedLog"/>, many. The metadata log itself is owned (and disposed) by the caller.
/// </summary>
public sealed class MetadataNode : IDisposable
{
    private readonly ControllerOptions _options;
    private readonly string _metadataDirectory;
    private readonly IReplicatedLog _log;
    private readonly IReadOnlyList<BrokerEndpoint> _endpoints;
    private readonly string? _rack;
    private readonly Func<string, string?, string?>? _validateTopicConfig;
    private readonly Func<string, string?, string?>? _validateBrokerConfig;
    private readonly IClock _clock;
    private readonly Func<int>? _activeControllerId;
    private readonly bool _registerInProcess;
    private readonly Logger _logger = Log.For("metadata");
    private MetadataApplier? _applier;
    private ClusterController? _controller;

    /// <param name="metadataDirectory">Directory for meta.properties (metadata.log.dir, default the first log dir).</param>
    /// <param name="metadataLog">The replicated __cluster_metadata-0 log (retention must keep every record).</param>
    /// <param name="activeControllerId">The metadata log's current leader (stamped into images); default this node.</param>
    /// <param name="registerInProcess">Register the local broker directly with the local controller in
    /// <see cref="StartAsync"/> (tests and embedded use); a broker process registers over the controller listener
    /// with its lifecycle client instead.</param>
    public MetadataNode(
        ControllerOptions options,
        string metadataDirectory,
        IReplicatedLog metadataLog,
        IReadOnlyList<BrokerEndpoint> endpoints,
        string? rack = null,
        Func<string, string?, string?>? validateTopicConfig = null,
        Func<string, string?, string?>? validateBrokerConfig = null,
        IClock? clock = null,
        Func<int>? activeControllerId = null,
        bool registerInProcess = true)
    {
        _options = options;
        _metadataDirectory = metadataDirectory;
        _log = metadataLog;
        _endpoints = endpoints;
        _rack = rack;
        _validateTopicConfig = validateTopicConfig;
        _validateBrokerConfig = validateBrokerConfig;
        _clock = clock ?? SystemClock.Instance;
        _activeControllerId = activeControllerId;
        _registerInProcess = registerInProcess;
    }

    public int NodeId => _options.NodeId;
    public string ClusterId => Applier.Current.ClusterId;
    /// <summary>New per process start (Kafka's incarnation id).</summary>
    public Guid IncarnationId { get; } = Guid.NewGuid();
    /// <summary>The local broker's epoch from its registration; -1 before <see cref="StartAsync"/>.</summary>
    public long BrokerEpoch { get; private set; } = -1;

    public MetadataImage Current => Applier.Current;
    public ClusterController Controller => _controller ?? throw NotStarted();
    public MetadataApplier Applier => _applier ?? throw NotStarted();

    /// <summary>Raised for every published image after <see cref="StartAsync"/> began replaying (see MetadataApplier.ImageChanged).</summary>
    public event Action<MetadataImage>? ImageChanged;

    /// <summary>
    /// Reads or creates meta.properties and replays the metadata log; with in-process registration it also
    /// bootstraps a new cluster and registers the local broker. Throws when the identity does not match, the log is unreadable or registration fails.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_applier is not null) throw new InvalidOperationException("metadata node already started");
        var identity = MetaProperties.LoadOrCreate(_metadataDirectory, _options.NodeId, _options.ClusterId);
        _logger.Info($"node {identity.NodeId} of cluster {identity.ClusterId}; replaying {_log.Partition}");

        int nodeId = _options.NodeId;
        _applier = new MetadataApplier(_log, identity.ClusterId, _activeControllerId ?? (() => nodeId));
        _applier.ImageChanged += image => ImageChanged?.Invoke(image);
        var image = _applier.Replay();
        _logger.Info($"replayed metadata log up to offset {image.LastAppliedOffset}: {image}");

        _controller = new ClusterController(_options, _log, _applier, _validateTopicConfig, _validateBrokerConfig, _clock);
        if (!_registerInProcess) return;
        if (_log.IsLeader)
        {
            var bootstrap = await _controller.BootstrapAsync(cancellationToken).ConfigureAwait(false);
            if (!bootstrap.IsSuccess) throw new InvalidOperationException($"bootstrapping the metadata log failed: {bootstrap.Error} {bootstrap.Message}");
        }

        var registration = await _controller.RegisterBrokerAsync(nodeId, IncarnationId, _endpoints, _rack, cancellationToken).ConfigureAwait(false);
        if (registration.Error != ErrorCode.None)
            throw new InvalidOperationException($"registering broker {nodeId} failed: {registration.Error} {registration.Message}");
        BrokerEpoch = registration.BrokerEpoch;
    }

    private static InvalidOperationException NotStarted() => new("the metadata node has not been started (call StartAsync)");

    public void Dispose()
    {
        _controller?.Dispose();
        _applier?.Dispose();
    }
}
