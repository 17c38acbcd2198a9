using Broker.Integration.Tests.Groups;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Http;

/// <summary>
/// Prometheus metrics of a running broker: kcat produces a known number of messages to known partitions, kcat
/// consumes them, a confluent-kafka group member consumes and commits them; then GET /metrics and /public_metrics
/// on the Admin API are parsed and checked against what happened: records and bytes in per topic (bytes equal to
/// the partitions' log sizes), records out, high watermarks, the group's committed offsets and zero lag, request
/// counts and latency histograms for Produce and Fetch, the active controller, connections, process basics; and the
/// public subset has no per-partition series.
/// </summary>
public sealed class MetricsTests : IntegrationTest
{
    private const string Topic = "metrics-orders";
    private const string Group = "metrics-group";
    private static readonly int[] PerPartition = [30, 20];

    public MetricsTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void Metrics_ReflectProduceConsumeAndGroupCommits()
    {
        var broker = StartBroker("metrics", new Dictionary<string, string>
        {
            ["offsets.topic.num.partitions"] = "1",
            ["offsets.topic.replication.factor"] = "1",
            ["group.initial.rebalance.delay.ms"] = "0",
        });
        AssertScriptOk(Confluent(broker, "create-topic", "--topic", Topic, "--partitions", "2"), broker, "create topic");

        var before = MetricsScrape.Get(broker.AdminUrl + "/metrics");
        Assert.Equal(0, before.TryValue("broker_topic_records_in_total", ("topic", Topic)) ?? 0);

        for (int p = 0; p < PerPartition.Length; p++) KcatProduce(broker, p, PerPartition[p]);
        int total = PerPartition.Sum();
        var consumed = KcatConsumeAll(broker);
        Assert.Equal(total, consumed);

        using (var session = new GroupClientSession(Output, ScratchDir, broker.Bootstrap, Group, Topic))
        {
            var (log, result) = session.RunMember(GroupClientKind.Confluent, "m1", "--max-messages", total.ToString(), "--idle-exit", "20");
            Assert.True(result.Succeeded, $"group member failed\n{result.Describe()}\n{broker.DescribeState()}");
            Assert.Equal(total, log.Messages.Count);
        }

        var m = MetricsScrape.Get(broker.AdminUrl + "/metrics");
        Assert.StartsWith("text/plain", m.ContentType);
        Assert.Contains("version=0.0.4", m.ContentType);
        string context = "\n--- /metrics ---\n" + m.Text;

        // Traffic per topic.
        Assert.Equal(total, m.Value("broker_topic_records_in_total", ("topic", Topic)));
        double bytesIn = m.Value("broker_topic_bytes_in_total", ("topic", Topic));
        double logBytes = m.Find("broker_partition_log_size_bytes", ("topic", Topic)).Sum(s => s.Value);
        Assert.True(bytesIn > total && bytesIn == logBytes, $"bytes in {bytesIn}, log sizes {logBytes}{context}");
        double recordsOut = m.Value("broker_topic_records_out_total", ("topic", Topic));
        Assert.True(recordsOut >= 2 * total, $"records out {recordsOut}: kcat and the group member each read {total}{context}");
        Assert.True(m.Value("broker_topic_bytes_out_total", ("topic", Topic)) >= 2 * bytesIn, $"bytes out below twice the bytes in{context}");

        // Partitions.
        for (int p = 0; p < PerPartition.Length; p++)
        {
            var tp = new[] { ("topic", Topic), ("partition", p.ToString()) };
            Assert.Equal(PerPartition[p], m.Value("broker_partition_high_watermark", tp));
            Assert.Equal(PerPartition[p], m.Value("broker_partition_log_end_offset", tp));
            Assert.Equal(1, m.Value("broker_partition_leader", tp));
            // The group committed everything it consumed: committed = high watermark, lag 0.
            var gtp = new[] { ("group", Group), ("topic", Topic), ("partition", p.ToString()) };
            Assert.Equal(PerPartition[p], m.Value("broker_group_committed_offset", gtp));
            Assert.Equal(0, m.Value("broker_group_lag", gtp));
        }
        Assert.Equal(0, m.Value("broker_group_lag_sum", ("group", Group)));
        Assert.Equal(2 + 1, m.Value("broker_partitions", ("role", "leader"))); // two data partitions + __consumer_offsets-0

        // Requests: counted per API; every Produce was answered (acks=all), so the histogram counts them all.
        double produces = m.Value("broker_kafka_requests_total", ("api", "Produce"));
        Assert.True(produces >= PerPartition.Length, $"Produce requests {produces}{context}");
        Assert.Equal(produces, m.Value("broker_kafka_request_duration_seconds_count", ("api", "Produce")));
        Assert.Equal(produces, m.Value("broker_kafka_request_duration_seconds_bucket", ("api", "Produce"), ("le", "+Inf")));
        Assert.True(m.Value("broker_kafka_request_duration_seconds_sum", ("api", "Produce")) > 0);
        Assert.True(m.Value("broker_kafka_requests_total", ("api", "Fetch")) >= 2, $"Fetch requests{context}");
        Assert.True(m.Value("broker_kafka_requests_total", ("api", "OffsetCommit")) >= 1, $"OffsetCommit requests{context}");
        Assert.Equal("histogram", m.Types["broker_kafka_request_duration_seconds"]);
        AssertBucketsCumulative(m, "broker_kafka_request_duration_seconds_bucket", ("api", "Fetch"));

        // Controller, connections, storage, process.
        Assert.Equal(1, m.Value("broker_controller_active"));
        Assert.Equal(1, m.Value("broker_metadata_raft_leader_id"));
        Assert.True(m.Value("broker_connections_accepted_total", ("listener", "PLAINTEXT")) >= 4, $"connections{context}");
        Assert.True(m.Value("broker_connections_active", ("listener", "PLAINTEXT")) >= 0);
        Assert.True(m.Find("broker_storage_bytes").Sum(s => s.Value) >= logBytes, $"storage bytes{context}");
        Assert.True(m.Value("process_resident_memory_bytes") > 1_000_000);
        Assert.True(m.Value("broker_uptime_seconds") > 0);

        // The public subset: stable names, no per-partition series.
        var pub = MetricsScrape.Get(broker.AdminUrl + "/public_metrics");
        Assert.Equal(total, pub.Value("broker_topic_records_in_total", ("topic", Topic)));
        Assert.Equal(1, pub.Value("broker_controller_active"));
        Assert.Equal(0, pub.Value("broker_group_lag_sum", ("group", Group)));
        Assert.DoesNotContain(pub.Samples, s => s.Labels.ContainsKey("partition"));
        Assert.DoesNotContain(pub.Types.Keys, name => name.StartsWith("broker_partition_", StringComparison.Ordinal) || name.StartsWith("dotnet_", StringComparison.Ordinal));
        Output.WriteLine($"bytes in {bytesIn}, records out {recordsOut}, produce requests {produces}, /metrics {m.Text.Length} chars, /public_metrics {pub.Text.Length} chars");
    }

    private static void AssertBucketsCumulative(MetricsScrape m, string name, params (string, string)[] labels)
    {
        var buckets = m.Find(name, labels)
            .Select(s => (Le: s["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(s["le"]!, System.Globalization.CultureInfo.InvariantCulture), s.Value))
            .OrderBy(b => b.Le).ToList();
        Assert.True(buckets.Count > 2 && double.IsPositiveInfinity(buckets[^1].Le), $"{name}: {buckets.Count} buckets");
        for (int i = 1; i < buckets.Count; i++)
            Assert.True(buckets[i].Value >= buckets[i - 1].Value, $"{name} not cumulative at le={buckets[i].Le}");
    }

    /// <summary>kcat -P: <paramref name="count"/> messages to one partition, acks=all, uncompressed.</summary>
    private void KcatProduce(BrokerProcess broker, int partition, int count)
    {
        string input = Scratch($"p{partition}.txt");
        File.WriteAllLines(input, Enumerable.Range(0, count).Select(i => $"p{partition}-message-{i:D4}"));
        var result = Log(ScriptRunner.Run("/bin/sh", ["-c",
            $"kcat -b {broker.Bootstrap} -X broker.address.family=v4 -X acks=all -z none -P -t {Topic} -p {partition} -l \"$0\"", input],
            TimeSpan.FromSeconds(60)));
        Assert.True(result.Succeeded, $"kcat produce to partition {partition} failed\n{result.Describe()}\n{broker.DescribeState()}");
    }

    /// <summary>kcat -C from the beginning of both partitions until their ends; returns the messages read.</summary>
    private int KcatConsumeAll(BrokerProcess broker)
    {
        var result = Log(ScriptRunner.Run("kcat",
            ["-b", broker.Bootstrap, "-X", "broker.address.family=v4", "-C", "-t", Topic, "-o", "beginning", "-e", "-q", "-f", "%p %o\\n"],
            TimeSpan.FromSeconds(60)));
        Assert.True(result.Succeeded, $"kcat consume failed\n{result.Describe()}\n{broker.DescribeState()}");
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }
}
