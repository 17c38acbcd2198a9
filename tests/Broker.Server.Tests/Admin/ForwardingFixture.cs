using System.Net;
using Broker.Config;
using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Network;
using Broker.Server.Admin;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;
using Broker.Storage;

namespace Broker.Server.Tests.Admin;

/// <summary>An <see cref="ITopicAdmin"/> that records calls and answers every entry with one error (or throws).</summary>
internal sealed class RecordingTopicAdmin(ErrorCode? answer = null) : ITopicAdmin
{
    public int Calls;

    public Task<IReadOnlyList<CreateTopicResult>> CreateTopicsAsync(IReadOnlyList<NewTopicSpec> topics, bool validateOnly, CancellationToken cancellationToken)
    {
        var error = Answer();
        return Task.FromResult<IReadOnlyList<CreateTopicResult>>(
            [.. topics.Select(t => new CreateTopicResult(t.Name, error, $"recorded: {error}", Guid.Empty, -1, -1, new Dictionary<string, string>()))]);
    }

    public Task<IReadOnlyList<DeleteTopicResult>> DeleteTopicsAsync(IReadOnlyList<TopicReference> topics, CancellationToken cancellationToken)
    {
        var error = Answer();
        return Task.FromResult<IReadOnlyList<DeleteTopicResult>>([.. topics.Select(t => new DeleteTopicResult(t.Name, t.TopicId, error, $"recorded: {error}"))]);
    }

    public Task<IReadOnlyList<CreatePartitionsResult>> CreatePartitionsAsync(IReadOnlyList<NewPartitionsSpec> specs, bool validateOnly, CancellationToken cancellationToken)
    {
        var error = Answer();
        return Task.FromResult<IReadOnlyList<CreatePartitionsResult>>([.. specs.Select(s => new CreatePartitionsResult(s.Topic, error, $"recorded: {error}"))]);
    }

    private ErrorCode Answer()
    {
        Interlocked.Increment(ref Calls);
        return answer ?? throw new InvalidOperationException("this admin must not be called");
    }
}

/// <summary>
/// The active controller as another node sees it: a started single-node MetadataNode (node 1, real log in a temp
/// directory, topic configs validated by TopicConfigCatalog) whose CreateTopics, DeleteTopics and CreatePartitions
/// handlers are served on a loopback <see cref="KafkaListener"/>, as on the controller listener.
/// <see cref="StartListener"/> serves other admins (e.g. one answering NOT_CONTROLLER) the same way.
/// </summary>
internal sealed class ForwardingFixture : IAsyncDisposable
{
    private readonly DirectoryInfo _dir;
    private readonly LogManager _logs;
    private readonly TopicConfigDefaults _defaults;
    private readonly List<KafkaListener> _listeners = new();

    private ForwardingFixture(DirectoryInfo dir, LogManager logs, MetadataNode node, TopicConfigDefaults defaults)
    {
        _dir = dir;
        _logs = logs;
        Node = node;
        _defaults = defaults;
        Controller = StartListener(new ControllerTopicAdmin(() => node.Controller));
    }

    public MetadataNode Node { get; }
    public MetadataImage Image => Node.Current;
    /// <summary>The active controller's listener.</summary>
    public (string Host, int Port) Controller { get; }

    public static async Task<ForwardingFixture> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("broker-forwarding-tests-");
        var data = Path.Combine(dir.FullName, "data");
        var logs = new LogManager(data, SystemClock.Instance);
        try
        {
            var metadataLog = logs.GetOrCreate(new TopicPartition("__cluster_metadata", 0), new LogOptions());
            var node = new MetadataNode(new ControllerOptions { NodeId = 1 }, data, new LocalReplicatedLog(metadataLog, leaderEpoch: 1),
                [new BrokerEndpoint("PLAINTEXT", "localhost", 9092, 0)], validateTopicConfig: TopicConfigCatalog.Validate);
            await node.StartAsync();
            return new ForwardingFixture(dir, logs, node, TopicConfigDefaults.FromBrokerConfig(BrokerConfig.Default(data)));
        }
        catch
        {
            logs.Dispose();
            dir.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>Serves the admin handlers over <paramref name="admin"/> on a loopback port.</summary>
    public (string Host, int Port) StartListener(ITopicAdmin admin)
    {
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table))
            .Register(new CreateTopicsHandler(admin, _defaults))
            .Register(new DeleteTopicsHandler(admin))
            .Register(new CreatePartitionsHandler(admin));
        var listener = new KafkaListener(new KafkaListenerOptions
        {
            ListenerName = "CONTROLLER",
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ShutdownTimeout = TimeSpan.FromSeconds(2),
        }, new KafkaRequestDispatcher(table));
        listener.Start();
        _listeners.Add(listener);
        return ("127.0.0.1", listener.BoundEndPoint!.Port);
    }

    /// <summary>A forwarder on a node that is not the controller; <paramref name="resolve"/> defaults to the fixture's controller.</summary>
    public ForwardingTopicAdmin Forwarder(Func<(string Host, int Port)?>? resolve = null, ITopicAdmin? local = null) =>
        new(local ?? new RecordingTopicAdmin(), () => false, resolve ?? (() => Controller),
            requestTimeout: TimeSpan.FromSeconds(5), connectTimeout: TimeSpan.FromSeconds(1));

    public async ValueTask DisposeAsync()
    {
        foreach (var l in _listeners) await l.DisposeAsync();
        Node.Dispose();
        _logs.Dispose();
        try { _dir.Delete(recursive: true); }
        catch (IOException) { }
    }
}
