using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Lifecycle;

namespace Broker.Server.Admin;

/// <summary>
/// <see cref="ITopicAdmin"/> for any node of a cluster: while this node is the active controller the calls go to the
/// local admin (<see cref="ControllerTopicAdmin"/>); otherwise they are forwarded as CreateTopics v7, DeleteTopics v6
/// and CreatePartitions v3 requests to the active controller's listener, and the answers mapped back to the
/// controller's result types; config changes (AlterConfigsAsync, see ForwardingTopicAdmin.Configs.cs) go as
/// IncrementalAlterConfigs v1 with SET/DELETE operations. Rules:
/// * Entries the controller would refuse for the request's shape alone (a name given twice, a null name) are
///   answered here, as the controller would, and not sent: the Kafka handlers fold duplicates in their responses,
///   so a forwarded request holds each topic once and answers map back one to one.
/// * NOT_CONTROLLER from the controller (leadership moved): the controller is resolved again and the refused
///   entries are tried once more; a second NOT_CONTROLLER is returned as is.
/// * No known active controller, or a connection that fails or times out: REQUEST_TIMED_OUT with a message (the
///   change may or may not have been made, as Kafka's REQUEST_TIMED_OUT means).
/// * CreateTopics results carry the configs the controller reports with source DYNAMIC_TOPIC_CONFIG (1), i.e. the
///   topic's explicit configs, which is what the local controller returns; broker defaults are dropped.
/// Forwarded calls share one connection, one call at a time (admin calls are rare, the controller serialises them
/// anyway); the caller's cancellation token bounds the wait and drops the connection.
/// </summary>
public sealed partial class ForwardingTopicAdmin : ITopicAdmin, IDisposable
{
    private const short CreateTopicsVersion = 7;
    private const short DeleteTopicsVersion = 6;
    private const short CreatePartitionsVersion = 3;
    /// <summary>CreateTopics v5+ lists every config of every topic: allow far more than lifecycle responses.</summary>
    private const int MaxResponseBytes = 64 * 1024 * 1024;
    private static readonly IReadOnlyDictionary<string, string> NoConfigs = new Dictionary<string, string>();

    private readonly ITopicAdmin _local;
    private readonly Func<bool> _isActiveController;
    private readonly Func<(string Host, int Port)?> _activeController;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeSpan _connectTimeout;
    private readonly string _clientId;
    private readonly Logger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ControllerChannel? _channel;
    private (string Host, int Port) _channelTarget;

    /// <param name="local">The admin of this node's own controller (used while it is active).</param>
    /// <param name="isActiveController">Whether this node is the active controller right now.</param>
    /// <param name="activeController">The active controller's listener endpoint, or null while unknown.</param>
    /// <param name="requestTimeout">TimeoutMs sent to the controller (default 30 s); the round trip is allowed 5 s more.</param>
    /// <param name="connectTimeout">Bound on connecting to the controller (default 5 s).</param>
    public ForwardingTopicAdmin(
        ITopicAdmin local,
        Func<bool> isActiveController,
        Func<(string Host, int Port)?> activeController,
        TimeSpan? requestTimeout = null,
        TimeSpan? connectTimeout = null,
        string? clientId = null,
        Logger? logger = null)
    {
        _local = local ?? throw new ArgumentNullException(nameof(local));
        _isActiveController = isActiveController ?? throw new ArgumentNullException(nameof(isActiveController));
        _activeController = activeController ?? throw new ArgumentNullException(nameof(activeController));
        _requestTimeout = requestTimeout ?? TimeSpan.FromSeconds(30);
        _connectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5);
        if (_requestTimeout <= TimeSpan.Zero || _requestTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(requestTimeout));
        if (_connectTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(connectTimeout));
        _clientId = clientId ?? "admin-forwarder";
        _logger = logger ?? Log.For("admin");
    }

    private int TimeoutMs => (int)_requestTimeout.TotalMilliseconds;

    public Task<IReadOnlyList<CreateTopicResult>> CreateTopicsAsync(
        IReadOnlyList<NewTopicSpec> topics, bool validateOnly, CancellationToken cancellationToken)
    {
        var duplicates = Duplicates(topics, static t => t.Name);
        return RunAsync<CreateTopicResult>(topics.Count,
            precheck: i => topics[i].Name is null ? FailedTopic("", ErrorCode.InvalidTopicException, "Topic name is null.")
                : duplicates.Contains(topics[i].Name) ? FailedTopic(topics[i].Name, ErrorCode.InvalidRequest, $"Create topics request contains duplicate topic name '{topics[i].Name}'")
                : null,
            local: (todo, ct) => _local.CreateTopicsAsync(Select(topics, todo), validateOnly, ct),
            remote: (channel, todo, ct) => ForwardCreateTopicsAsync(channel, topics, todo, validateOnly, ct),
            failed: (i, error, message) => FailedTopic(topics[i].Name ?? "", error, message),
            errorOf: static r => r.Error,
            cancellationToken);
    }

    public Task<IReadOnlyList<DeleteTopicResult>> DeleteTopicsAsync(
        IReadOnlyList<TopicReference> topics, CancellationToken cancellationToken)
    {
        var duplicates = Duplicates(topics, static t => t.Name);
        var firstById = new Dictionary<Guid, int>();
        for (int i = 0; i < topics.Count; i++)
            if (topics[i].Name is null) firstById.TryAdd(topics[i].TopicId, i);
        return RunAsync<DeleteTopicResult>(topics.Count,
            precheck: i =>
            {
                var t = topics[i];
                if (t.Name is not null)
                    return duplicates.Contains(t.Name) ? new DeleteTopicResult(t.Name, t.TopicId, ErrorCode.InvalidRequest, $"Duplicate topic name '{t.Name}' in request") : null;
                return firstById[t.TopicId] != i ? new DeleteTopicResult(null, t.TopicId, ErrorCode.InvalidRequest, $"Topic id {t.TopicId} is named more than once in the request") : null;
            },
            local: (todo, ct) => _local.DeleteTopicsAsync(Select(topics, todo), ct),
            remote: (channel, todo, ct) => ForwardDeleteTopicsAsync(channel, topics, todo, ct),
            failed: (i, error, message) => new DeleteTopicResult(topics[i].Name, topics[i].TopicId, error, message),
            errorOf: static r => r.Error,
            cancellationToken);
    }

    public Task<IReadOnlyList<CreatePartitionsResult>> CreatePartitionsAsync(
        IReadOnlyList<NewPartitionsSpec> specs, bool validateOnly, CancellationToken cancellationToken)
    {
        var duplicates = Duplicates(specs, static s => s.Topic);
        return RunAsync<CreatePartitionsResult>(specs.Count,
            precheck: i => specs[i].Topic is null ? new CreatePartitionsResult(specs[i].Topic!, ErrorCode.UnknownTopicOrPartition, "Topic '' does not exist.")
                : duplicates.Contains(specs[i].Topic) ? new CreatePartitionsResult(specs[i].Topic, ErrorCode.InvalidRequest, $"Duplicate topic '{specs[i].Topic}' in request")
                : null,
            local: (todo, ct) => _local.CreatePartitionsAsync(Select(specs, todo), validateOnly, ct),
            remote: (channel, todo, ct) => ForwardCreatePartitionsAsync(channel, specs, todo, validateOnly, ct),
            failed: (i, error, message) => new CreatePartitionsResult(specs[i].Topic, error, message),
            errorOf: static r => r.Error,
            cancellationToken);
    }

    /// <summary>
    /// Answers the prechecked entries, sends the rest to the local or the remote controller, and tries the entries
    /// refused with NOT_CONTROLLER once more after resolving the controller again.
    /// </summary>
    private async Task<IReadOnlyList<T>> RunAsync<T>(
        int count,
        Func<int, T?> precheck,
        Func<List<int>, CancellationToken, Task<IReadOnlyList<T>>> local,
        Func<ControllerChannel, List<int>, CancellationToken, Task<T[]>> remote,
        Func<int, ErrorCode, string, T> failed,
        Func<T, ErrorCode> errorOf,
        CancellationToken cancellationToken)
        where T : class
    {
        var results = new T[count];
        var todo = new List<int>(count);
        for (int i = 0; i < count; i++)
        {
            var early = precheck(i);
            if (early is null) todo.Add(i);
            else results[i] = early;
        }

        for (int attempt = 0; todo.Count > 0; attempt++)
        {
            IReadOnlyList<T> answers;
            if (_isActiveController())
            {
                answers = await local(todo, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var target = _activeController();
                if (target is null)
                {
                    foreach (int i in todo) results[i] = failed(i, ErrorCode.RequestTimedOut, "No active controller is known at the moment; try again.");
                    break;
                }
                try
                {
                    answers = await SendAsync(target.Value, (channel, ct) => remote(channel, todo, ct), cancellationToken).ConfigureAwait(false);
                }
                catch (ControllerChannelException ex)
                {
                    _logger.Warn($"forwarding an admin request to the controller at {target.Value.Host}:{target.Value.Port} failed: {ex.Message}");
                    foreach (int i in todo) results[i] = failed(i, ErrorCode.RequestTimedOut, $"Forwarding to the active controller failed: {ex.Message}");
                    break;
                }
            }

            var retry = new List<int>();
            for (int j = 0; j < todo.Count; j++)
            {
                results[todo[j]] = answers[j];
                if (attempt == 0 && errorOf(answers[j]) == ErrorCode.NotController) retry.Add(todo[j]);
            }
            if (retry.Count > 0)
            {
                _logger.Info($"the controller answered NOT_CONTROLLER for {retry.Count} entr{(retry.Count == 1 ? "y" : "ies")}; resolving it again");
                await DropChannelAsync().ConfigureAwait(false);
            }
            todo = retry;
        }
        return results;
    }

    /// <summary>Runs <paramref name="call"/> on the shared connection to <paramref name="target"/> (one call at a time).</summary>
    private async Task<T[]> SendAsync<T>((string Host, int Port) target, Func<ControllerChannel, CancellationToken, Task<T[]>> call, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_channel is null || _channelTarget != target)
            {
                _channel?.Dispose();
                _channel = null;
                _channel = await ControllerChannel.ConnectAsync(target.Host, target.Port, _clientId, _connectTimeout, cancellationToken, MaxResponseBytes)
                    .ConfigureAwait(false);
                _channelTarget = target;
            }
            try { return await call(_channel, cancellationToken).ConfigureAwait(false); }
            catch
            {
                _channel.Dispose(); // broken or abandoned mid-request: a response may still arrive on it
                _channel = null;
                throw;
            }
        }
        finally { _gate.Release(); }
    }

    private async Task<CreateTopicResult[]> ForwardCreateTopicsAsync(
        ControllerChannel channel, IReadOnlyList<NewTopicSpec> topics, List<int> todo, bool validateOnly, CancellationToken cancellationToken)
    {
        var request = new CreateTopicsRequest { TimeoutMs = TimeoutMs, ValidateOnly = validateOnly };
        foreach (int i in todo)
        {
            var spec = topics[i];
            var topic = new CreateTopicsRequest.CreatableTopic
            {
                Name = spec.Name,
                NumPartitions = spec.NumPartitions,
                ReplicationFactor = spec.ReplicationFactor,
            };
            if (spec.ManualAssignment is not null)
            {
                var partitions = new List<int>(spec.ManualAssignment.Keys);
                partitions.Sort();
                foreach (int p in partitions)
                    topic.Assignments.Add(new CreateTopicsRequest.CreatableReplicaAssignment
                    {
                        PartitionIndex = p,
                        BrokerIds = new List<int>(spec.ManualAssignment[p] ?? []),
                    });
            }
            if (spec.Configs is not null)
                foreach (var (name, value) in spec.Configs)
                    topic.Configs.Add(new CreateTopicsRequest.CreatableTopicConfig { Name = name, Value = value });
            request.Topics.Add(topic);
        }

        var response = await channel.SendAsync(ApiKey.CreateTopics, CreateTopicsVersion, request,
            static (ref KafkaReader r, short v) => CreateTopicsResponse.Read(ref r, v), RoundTripTimeout, cancellationToken).ConfigureAwait(false);
        var byName = new Dictionary<string, CreateTopicsResponse.CreatableTopicResult>(StringComparer.Ordinal);
        foreach (var t in response.Topics) byName.TryAdd(t.Name, t);

        var results = new CreateTopicResult[todo.Count];
        for (int j = 0; j < todo.Count; j++)
        {
            string name = topics[todo[j]].Name;
            if (!byName.TryGetValue(name, out var r))
            {
                results[j] = FailedTopic(name, ErrorCode.UnknownServerError, $"The controller at {channel.Endpoint} did not answer for topic '{name}'.");
                continue;
            }
            var error = (ErrorCode)r.ErrorCode;
            results[j] = error != ErrorCode.None
                ? FailedTopic(name, error, r.ErrorMessage)
                : new CreateTopicResult(name, ErrorCode.None, null, r.TopicId, r.NumPartitions, r.ReplicationFactor, ExplicitConfigs(r));
        }
        return results;
    }

    /// <summary>The entries the controller reports as the topic's own (DYNAMIC_TOPIC_CONFIG).</summary>
    private static IReadOnlyDictionary<string, string> ExplicitConfigs(CreateTopicsResponse.CreatableTopicResult result)
    {
        if (result.Configs is null || result.Configs.Count == 0) return NoConfigs;
        var configs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var c in result.Configs)
            if (c.ConfigSource == ConfigSources.DynamicTopicConfig && c.Value is not null) configs[c.Name] = c.Value;
        return configs;
    }

    private async Task<DeleteTopicResult[]> ForwardDeleteTopicsAsync(
        ControllerChannel channel, IReadOnlyList<TopicReference> topics, List<int> todo, CancellationToken cancellationToken)
    {
        var request = new DeleteTopicsRequest { TimeoutMs = TimeoutMs };
        foreach (int i in todo)
            request.Topics.Add(topics[i].Name is not null
                ? new DeleteTopicsRequest.DeleteTopicState { Name = topics[i].Name, TopicId = Guid.Empty }
                : new DeleteTopicsRequest.DeleteTopicState { Name = null, TopicId = topics[i].TopicId });

        var response = await channel.SendAsync(ApiKey.DeleteTopics, DeleteTopicsVersion, request,
            static (ref KafkaReader r, short v) => DeleteTopicsResponse.Read(ref r, v), RoundTripTimeout, cancellationToken).ConfigureAwait(false);
        var results = new DeleteTopicResult[todo.Count];
        // One answer per entry, in order (the request holds no duplicates, so the handler folds nothing).
        bool aligned = response.Responses.Count == todo.Count;
        for (int j = 0; j < todo.Count; j++)
        {
            var reference = topics[todo[j]];
            if (!aligned)
            {
                results[j] = new DeleteTopicResult(reference.Name, reference.TopicId, ErrorCode.UnknownServerError,
                    $"The controller at {channel.Endpoint} answered {response.Responses.Count} results for {todo.Count} topics.");
                continue;
            }
            var r = response.Responses[j];
            results[j] = new DeleteTopicResult(r.Name ?? reference.Name, r.TopicId, (ErrorCode)r.ErrorCode, r.ErrorMessage);
        }
        return results;
    }

    private async Task<CreatePartitionsResult[]> ForwardCreatePartitionsAsync(
        ControllerChannel channel, IReadOnlyList<NewPartitionsSpec> specs, List<int> todo, bool validateOnly, CancellationToken cancellationToken)
    {
        var request = new CreatePartitionsRequest { TimeoutMs = TimeoutMs, ValidateOnly = validateOnly };
        foreach (int i in todo)
        {
            var spec = specs[i];
            List<CreatePartitionsRequest.CreatePartitionsAssignment>? assignments = null;
            if (spec.Assignment is not null)
            {
                assignments = new List<CreatePartitionsRequest.CreatePartitionsAssignment>(spec.Assignment.Count);
                foreach (var brokers in spec.Assignment)
                    assignments.Add(new CreatePartitionsRequest.CreatePartitionsAssignment { BrokerIds = new List<int>(brokers ?? []) });
            }
            request.Topics.Add(new CreatePartitionsRequest.CreatePartitionsTopic { Name = spec.Topic, Count = spec.TotalCount, Assignments = assignments });
        }

        var response = await channel.SendAsync(ApiKey.CreatePartitions, CreatePartitionsVersion, request,
            static (ref KafkaReader r, short v) => CreatePartitionsResponse.Read(ref r, v), RoundTripTimeout, cancellationToken).ConfigureAwait(false);
        var byName = new Dictionary<string, CreatePartitionsResponse.CreatePartitionsTopicResult>(StringComparer.Ordinal);
        foreach (var r in response.Results) byName.TryAdd(r.Name, r);
        var results = new CreatePartitionsResult[todo.Count];
        for (int j = 0; j < todo.Count; j++)
        {
            string name = specs[todo[j]].Topic;
            results[j] = byName.TryGetValue(name, out var r)
                ? new CreatePartitionsResult(name, (ErrorCode)r.ErrorCode, r.ErrorMessage)
                : new CreatePartitionsResult(name, ErrorCode.UnknownServerError, $"The controller at {channel.Endpoint} did not answer for topic '{name}'.");
        }
        return results;
    }

    /// <summary>The controller answers REQUEST_TIMED_OUT itself at TimeoutMs; the round trip gets a margin beyond it.</summary>
    private TimeSpan RoundTripTimeout => _requestTimeout + TimeSpan.FromSeconds(5);

    private static CreateTopicResult FailedTopic(string name, ErrorCode error, string? message) =>
        new(name, error, message, Guid.Empty, -1, -1, NoConfigs);

    private static List<T> Select<T>(IReadOnlyList<T> items, List<int> indices)
    {
        var selected = new List<T>(indices.Count);
        foreach (int i in indices) selected.Add(items[i]);
        return selected;
    }

    private static HashSet<string> Duplicates<T>(IReadOnlyList<T> items, Func<T, string?> name)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var n = name(item);
            if (n is not null && !seen.Add(n)) duplicates.Add(n);
        }
        return duplicates;
    }

    private async Task DropChannelAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _channel?.Dispose();
            _channel = null;
        }
        finally { _gate.Release(); }
    }

    public void Dispose()
    {
        _channel?.Dispose();
        _channel = null;
        _gate.Dispose();
    }
}
