using System.Diagnostics;
using Xunit;

namespace Broker.Integration.Tests.Infrastructure;

// ClusterProcess: what the cluster says about itself (Metadata v7 from its brokers) and topic creation, with
// bounded waits for brokers to be listed, partitions to have live leaders and a controller to be elected.
public sealed partial class ClusterProcess
{
    private static readonly TimeSpan s_call = TimeSpan.FromSeconds(3);

    /// <summary>Metadata v7 from broker <paramref name="nodeId"/> (topics null = all). Throws on I/O errors.</summary>
    public WireMetadata Metadata(int nodeId, params string[] topics)
    {
        var node = Node(nodeId);
        Assert.True(node.IsBroker, $"node {nodeId} is a pure controller; Metadata goes to brokers");
        return ClusterWire.Metadata(node.Host, node.KafkaPort, topics.Length == 0 ? null : topics, s_call);
    }

    /// <summary>Metadata from the first running broker that answers; null when none does.</summary>
    public WireMetadata? TryMetadata(out string? problem, params string[] topics)
    {
        problem = "no running broker";
        foreach (var node in RunningBrokers)
        {
            try
            {
                return Metadata(node.Id, topics);
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidDataException)
            {
                problem = $"node {node.Id}: {ex.GetType().Name}: {ex.Message}";
            }
        }
        return null;
    }

    /// <summary>Waits until Metadata from every running broker in <paramref name="expectedIds"/> lists exactly
    /// those brokers among the running ones (at least them).</summary>
    public void WaitForBrokersListed(int[] expectedIds, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        string last = "not asked";
        while (true)
        {
            bool all = true;
            foreach (int id in expectedIds)
            {
                try
                {
                    var md = Metadata(id);
                    var listed = md.Brokers.Select(b => b.NodeId).ToHashSet();
                    if (!expectedIds.All(listed.Contains))
                    {
                        all = false;
                        last = $"node {id} lists brokers [{string.Join(',', listed.Order())}], want [{string.Join(',', expectedIds)}]";
                    }
                }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidDataException)
                {
                    all = false;
                    last = $"node {id}: {ex.GetType().Name}: {ex.Message}";
                }
            }
            if (all)
            {
                Log($"Metadata from brokers [{string.Join(',', expectedIds)}] lists all of them after {sw.ElapsedMilliseconds} ms");
                return;
            }
            if (sw.Elapsed > timeout)
                Assert.Fail($"brokers not all listed within {timeout.TotalSeconds:F0} s: {last}\n{DescribeState()}");
            Thread.Sleep(200);
        }
    }

    /// <summary>
    /// Waits until the topic has <paramref name="partitions"/> partitions and each has a leader that is a running
    /// node (and satisfies <paramref name="accept"/> if given), as seen by a running broker. Returns that metadata.
    /// </summary>
    public WireTopic WaitForLeaders(string topic, int partitions, TimeSpan timeout, Func<WirePartition, bool>? accept = null)
    {
        var sw = Stopwatch.StartNew();
        string? last = "not asked";
        while (true)
        {
            var md = TryMetadata(out string? problem, topic);
            var t = md?.Topic(topic);
            if (t is null) last = problem ?? $"topic {topic} not listed";
            else if (t.ErrorCode != 0 || t.Partitions.Length != partitions) last = t.ToString();
            else if (t.Partitions.All(p => p.ErrorCode == 0 && p.Leader > 0 && p.Leader <= Nodes.Count && Node(p.Leader).IsRunning
                                           && (accept is null || accept(p))))
            {
                Log($"leaders after {sw.ElapsedMilliseconds} ms: {t}");
                return t;
            }
            else last = t.ToString();
            if (sw.Elapsed > timeout)
                Assert.Fail($"topic {topic} has no live leader for all {partitions} partition(s) within {timeout.TotalSeconds:F0} s: {last}\n{DescribeState()}");
            Thread.Sleep(100);
        }
    }

    /// <summary>The live leader of a partition of <paramref name="topic"/> (waits for one).</summary>
    public int LeaderOf(string topic, int partition = 0, TimeSpan? timeout = null) =>
        WaitForLeaders(topic, PartitionCount(topic, timeout), timeout ?? TimeSpan.FromSeconds(20)).Partitions[partition].Leader;

    private int PartitionCount(string topic, TimeSpan? timeout)
    {
        var sw = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        while (true)
        {
            var t = TryMetadata(out _, topic)?.Topic(topic);
            if (t is { ErrorCode: 0 } && t.Partitions.Length > 0) return t.Partitions.Length;
            if (sw.Elapsed > limit) Assert.Fail($"topic {topic} not in metadata within {limit.TotalSeconds:F0} s\n{DescribeState()}");
            Thread.Sleep(100);
        }
    }

    /// <summary>
    /// The active controller as Metadata's ControllerId reports it (a running node, and, when
    /// <paramref name="notId"/> is given, a different one), waited for.
    /// </summary>
    public int WaitForController(TimeSpan timeout, int? notId = null)
    {
        var sw = Stopwatch.StartNew();
        string last = "not asked";
        while (true)
        {
            var md = TryMetadata(out string? problem);
            if (md is null) last = problem ?? "?";
            else if (md.ControllerId > 0 && md.ControllerId <= Nodes.Count && Node(md.ControllerId).IsRunning && md.ControllerId != notId)
            {
                Log($"controller {md.ControllerId} after {sw.ElapsedMilliseconds} ms");
                return md.ControllerId;
            }
            else last = $"ControllerId {md.ControllerId}";
            if (sw.Elapsed > timeout)
                Assert.Fail($"no{(notId is null ? "" : " new")} live controller within {timeout.TotalSeconds:F0} s: {last}\n{DescribeState()}");
            Thread.Sleep(100);
        }
    }

    /// <summary>True once a CreateTopics only succeeded on a controller listener (no broker accepted it).</summary>
    public bool CreatedViaControllerListener { get; private set; }

    /// <summary>
    /// CreateTopics v2, sent to the controller named by Metadata (else any running broker) and retried on
    /// NOT_CONTROLLER / timeouts / I/O errors (trying every broker, then every controller listener) until <paramref name="timeout"/>; a retry that finds the topic
    /// already there counts as created. Then waits for live leaders. Fails the test on any other error.
    /// </summary>
    public WireTopic CreateTopic(string name, int partitions, short replicationFactor, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? configs = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var sw = Stopwatch.StartNew();
        string last = "not sent";
        bool sent = false;
        while (sw.Elapsed < limit)
        {
            var md = TryMetadata(out string? problem);
            // Brokers first (the active controller first when Metadata names one), then the controllers' own
            // listeners (Kafka's --bootstrap-controller path), for brokers that do not forward to the controller.
            var candidates = RunningBrokers.OrderBy(n => md is not null && n.Id == md.ControllerId ? 0 : 1)
                .Select(n => (Node: n, Port: n.KafkaPort, Via: "broker listener"))
                .Concat(Nodes.Where(n => n.IsController && n.IsRunning).Select(n => (Node: n, Port: n.ControllerPort, Via: "controller listener")))
                .ToList();
            if (candidates.Count == 0) { last = problem ?? "no running node"; break; }
            foreach (var (node, port, via) in candidates)
            {
                try
                {
                    var (error, message) = ClusterWire.CreateTopic(node.Host, port, name, partitions, replicationFactor, configs,
                        TimeSpan.FromSeconds(Math.Clamp((limit - sw.Elapsed).TotalSeconds, 1, 10)));
                    if (error == 0 || (error == 36 && sent))
                    {
                        if (via != "broker listener") CreatedViaControllerListener = true;
                        Log($"created topic {name} ({partitions} x RF {replicationFactor}) via node {node.Id}'s {via}{(error == 36 ? " (already there after a retry)" : "")}");
                        return WaitForLeaders(name, partitions, limit - sw.Elapsed < TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(10) : limit - sw.Elapsed);
                    }
                    sent = true;
                    last = $"node {node.Id} ({via}): error {error} {message}";
                    // 41 NOT_CONTROLLER, 7 REQUEST_TIMED_OUT, 5 LEADER_NOT_AVAILABLE, 19 NOT_ENOUGH_REPLICAS, 15 COORDINATOR_NOT_AVAILABLE
                    if (error is not (41 or 7 or 5 or 19 or 15 or 38 /* INVALID_REPLICATION_FACTOR while brokers register */))
                        Assert.Fail($"CreateTopics({name}) failed: {last}\n{DescribeState()}");
                }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or TimeoutException or InvalidDataException)
                {
                    sent = true;
                    last = $"node {node.Id} ({via}): {ex.GetType().Name}: {ex.Message}";
                }
            }
            Thread.Sleep(200);
        }
        Assert.Fail($"CreateTopics({name}) did not succeed within {limit.TotalSeconds:F0} s: {last}\n{DescribeState()}");
        return null!;
    }
}
