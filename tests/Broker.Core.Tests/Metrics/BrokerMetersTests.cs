using Broker.Core.Metrics;
using Xunit;

namespace Broker.Core.Tests.Metrics;

/// <summary>The process-wide exposition: the broker's instruments, process basics, and the public subset.</summary>
public sealed class BrokerMetersTests
{
    [Fact]
    public void Render_All_HasBrokerInstrumentsAndProcessBasics()
    {
        var tag = BrokerMeters.Tag("topic", "metrics-test-" + Guid.NewGuid().ToString("N"));
        BrokerMeters.TopicBytesIn.Add(100, tag);
        BrokerMeters.TopicBytesIn.Add(23, tag);
        var parsed = PrometheusTextParser.Parse(PrometheusExposition.Render(MetricsScope.All));

        Assert.Equal(123, parsed.Value("broker_topic_bytes_in_total", ("topic", (string)tag.Value!)));
        Assert.Equal("counter", parsed.Types["broker_kafka_requests_total"]);
        Assert.Equal("histogram", parsed.Types["broker_kafka_request_duration_seconds"]);
        Assert.Equal("gauge", parsed.Types["broker_connections_active"]);
        Assert.True(parsed.Value("process_resident_memory_bytes") > 1_000_000);
        Assert.True(parsed.Value("process_cpu_seconds_total") > 0);
        double start = parsed.Value("process_start_time_seconds");
        Assert.InRange(start, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.True(parsed.Value("broker_uptime_seconds") >= 0);
        Assert.True(parsed.Value("dotnet_gc_allocated_bytes_total") > 0);
        Assert.Equal(3, parsed.Find("dotnet_gc_collections_total").Count());
        if (OperatingSystem.IsLinux())
        {
            Assert.True(parsed.Value("process_open_fds") > 0);
            Assert.True(parsed.Value("process_max_fds") >= parsed.Value("process_open_fds"));
        }
    }

    [Fact]
    public void Render_Public_IsTheStableSubset()
    {
        var parsed = PrometheusTextParser.Parse(PrometheusExposition.Render(MetricsScope.Public));
        Assert.Contains("broker_kafka_requests_total", parsed.Types.Keys);
        Assert.Contains("broker_topic_records_out_total", parsed.Types.Keys);
        Assert.Contains("process_resident_memory_bytes", parsed.Types.Keys);
        Assert.DoesNotContain(parsed.Types.Keys, name => name.StartsWith("dotnet_", StringComparison.Ordinal));
    }

    [Fact]
    public void RequestDurationBuckets_AreAscending() =>
        Assert.Equal(BrokerMeters.RequestDurationBuckets.Order().ToArray(), BrokerMeters.RequestDurationBuckets);
}
