using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Image;
using Broker.Protocol.Messages;
using Broker.Server.Lifecycle;

namespace Broker.Server.LogAdmin;

/// <summary>
/// Sends the preferred elections of partitions led by another broker to that broker: one ElectLeaders v2 request
/// (election type 0) to its inter-broker listener as registered in the metadata image, with client id
/// <see cref="ClientId"/> so the receiver answers from its own replicas and never forwards again. A fresh connection
/// per call (elections are rare); connection failures, timeouts and missing answers become per-partition errors.
/// </summary>
public sealed class ElectLeadersForwarder
{
    /// <summary>Client id of forwarded requests (the receiving handler recognises it).</summary>
    public const string ClientId = "broker-elect-leaders-forwarder";
    private const short Version = 2;
    private static readonly Logger Logger = Log.For("log-admin");

    private readonly string _listenerName;
    private readonly TimeSpan _connectTimeout;

    /// <param name="interBrokerListenerName">The listener other brokers are reached on (inter.broker.listener.name).</param>
    public ElectLeadersForwarder(string interBrokerListenerName, TimeSpan? connectTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(interBrokerListenerName);
        _listenerName = interBrokerListenerName;
        _connectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5);
    }

    /// <summary>The outcomes of <paramref name="targets"/> as broker <paramref name="brokerId"/> answered them.</summary>
    public async Task<ElectionOutcome[]> ForwardAsync(int brokerId, MetadataImage? image, IReadOnlyList<ElectionTarget> targets,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var endpoint = image?.GetBroker(brokerId)?.FindEndpoint(_listenerName);
        if (endpoint is null)
            return Fill(targets.Count, new(ErrorCode.PreferredLeaderNotAvailable,
                $"The leader, broker {brokerId}, has no {_listenerName} endpoint in the metadata."));
        var request = BuildRequest(targets, timeout);
        try
        {
            using var channel = await ControllerChannel.ConnectAsync(endpoint.Host, endpoint.Port, ClientId, _connectTimeout,
                cancellationToken, maxResponseBytes: 16 * 1024 * 1024).ConfigureAwait(false);
            var response = await channel.SendAsync(ApiKey.ElectLeaders, Version, request, ElectLeadersResponse.Read,
                timeout + TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            return MapResponse(targets, response, brokerId);
        }
        catch (ControllerChannelException ex)
        {
            Logger.Warn($"forwarding ElectLeaders to broker {brokerId} at {endpoint.Host}:{endpoint.Port} failed: {ex.Message}");
            return Fill(targets.Count, new(ErrorCode.RequestTimedOut, $"Forwarding to the leader, broker {brokerId}, failed: {ex.Message}"));
        }
    }

    private static ElectLeadersRequest BuildRequest(IReadOnlyList<ElectionTarget> targets, TimeSpan timeout)
    {
        var request = new ElectLeadersRequest
        {
            ElectionType = 0,
            TopicPartitions = new(),
            TimeoutMs = (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue),
        };
        var byTopic = new Dictionary<string, ElectLeadersRequest.ElectLeadersTopic>(StringComparer.Ordinal);
        foreach (var (topic, partition) in targets)
        {
            if (!byTopic.TryGetValue(topic, out var entry))
            {
                byTopic[topic] = entry = new ElectLeadersRequest.ElectLeadersTopic { Topic = topic, Partitions = new() };
                request.TopicPartitions.Add(entry);
            }
            entry.Partitions.Add(partition);
        }
        return request;
    }

    private static ElectionOutcome[] MapResponse(IReadOnlyList<ElectionTarget> targets, ElectLeadersResponse response, int brokerId)
    {
        if (response.ErrorCode != 0)
            return Fill(targets.Count, new((ErrorCode)response.ErrorCode, $"Broker {brokerId} refused the election request."));
        var answers = new Dictionary<ElectionTarget, ElectionOutcome>();
        foreach (var topic in response.ReplicaElectionResults)
            foreach (var p in topic.PartitionResult)
                answers[new ElectionTarget(topic.Topic, p.PartitionId)] = new((ErrorCode)p.ErrorCode, p.ErrorMessage);
        var outcomes = new ElectionOutcome[targets.Count];
        for (int i = 0; i < outcomes.Length; i++)
            outcomes[i] = answers.TryGetValue(targets[i], out var outcome)
                ? outcome
                : new(ErrorCode.UnknownServerError, $"Broker {brokerId} did not answer for {targets[i].Topic}-{targets[i].Partition}.");
        return outcomes;
    }

    private static ElectionOutcome[] Fill(int count, ElectionOutcome outcome)
    {
        var outcomes = new ElectionOutcome[count];
        Array.Fill(outcomes, outcome);
        return outcomes;
    }
}
