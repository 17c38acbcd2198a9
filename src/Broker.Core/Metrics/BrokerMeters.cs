using System.Diagnostics.Metrics;

namespace Broker.Core.Metrics;

/// <summary>
/// The broker's <see cref="Meter"/> and the instruments its hot paths update (Kafka requests, topic traffic,
/// connections). Instrument names are final Prometheus names (prefix <c>broker_</c>, unit suffixes, <c>_total</c> on
/// counters); see docs/metrics.md. Instruments created with <see cref="PublicTags"/> belong to the stable
/// <c>/public_metrics</c> subset. Touching this type starts <see cref="MetricsCollector.Default"/>, so no measurement
/// is lost to a listener that does not exist yet. Other components create their observable instruments on
/// <see cref="Meter"/> or on their own meter named <c>Broker.*</c> (both are collected).
/// Hot-path cost: one listener callback per Add/Record, a lock-free series lookup by tag values, no allocation once
/// the series exists (callers pass cached <see cref="KeyValuePair{TKey,TValue}"/> tags, never arrays).
/// </summary>
public static partial class BrokerMeters
{
    /// <summary>Name of the broker's meter; meters named <c>Broker.*</c> are collected too.</summary>
    public const string MeterName = "Broker";

    /// <summary>Instrument tag marking an instrument as part of <c>/public_metrics</c>; never rendered as a label.</summary>
    public const string ScopeTagName = "broker.metrics.scope";

    /// <summary>Instrument tags for instruments in the public subset (pass as the instrument's <c>tags</c>).</summary>
    public static readonly KeyValuePair<string, object?>[] PublicTags = [new(ScopeTagName, "public")];

    /// <summary>Bucket upper bounds (seconds) of <see cref="KafkaRequestDuration"/>: 100 µs to 30 s.</summary>
    public static readonly double[] RequestDurationBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    public static readonly Meter Meter = new(MeterName);

    /// <summary>broker_kafka_requests_total{api}: Kafka requests dispatched (any outcome).</summary>
    public static readonly Counter<long> KafkaRequests = Meter.CreateCounter<long>(
        "broker_kafka_requests_total", null, "Kafka requests received, by API.", PublicTags);

    /// <summary>broker_kafka_request_errors_total{api}: requests that failed as a whole (malformed, unsupported
    /// version, handler failure); the connection is closed. Per-partition error codes in a response do not count.</summary>
    public static readonly Counter<long> KafkaRequestErrors = Meter.CreateCounter<long>(
        "broker_kafka_request_errors_total", null,
        "Kafka requests that failed as a whole (malformed, unsupported version, handler failure), by API.", PublicTags);

    /// <summary>broker_kafka_request_duration_seconds{api}: dispatch to response built (excludes queueing and sending).</summary>
    public static readonly Histogram<double> KafkaRequestDuration = Meter.CreateHistogram<double>(
        "broker_kafka_request_duration_seconds", "s",
        "Time from dispatching a Kafka request to its response being ready (long polls and acks=all waits included), by API.",
        PublicTags, new InstrumentAdvice<double> { HistogramBucketBoundaries = RequestDurationBuckets });

    /// <summary>broker_topic_bytes_in_total{topic}: record-batch bytes appended by Produce.</summary>
    public static readonly Counter<long> TopicBytesIn = Meter.CreateCounter<long>(
        "broker_topic_bytes_in_total", "By", "Record-batch bytes appended by Produce requests, by topic.", PublicTags);

    /// <summary>broker_topic_records_in_total{topic}: records appended by Produce (batch record counts).</summary>
    public static readonly Counter<long> TopicRecordsIn = Meter.CreateCounter<long>(
        "broker_topic_records_in_total", null, "Records appended by Produce requests, by topic.", PublicTags);

    /// <summary>broker_topic_bytes_out_total{topic}: record-batch bytes returned by Fetch.</summary>
    public static readonly Counter<long> TopicBytesOut = Meter.CreateCounter<long>(
        "broker_topic_bytes_out_total", "By", "Record-batch bytes returned by Fetch responses, by topic.", PublicTags);

    /// <summary>broker_topic_records_out_total{topic}: records in complete batches returned by Fetch.</summary>
    public static readonly Counter<long> TopicRecordsOut = Meter.CreateCounter<long>(
        "broker_topic_records_out_total", null, "Records (in complete batches) returned by Fetch responses, by topic.", PublicTags);

    /// <summary>broker_connections_accepted_total{listener}.</summary>
    public static readonly Counter<long> ConnectionsAccepted = Meter.CreateCounter<long>(
        "broker_connections_accepted_total", null, "TCP connections accepted, by Kafka listener.", PublicTags);

    /// <summary>broker_connections_closed_total{listener}.</summary>
    public static readonly Counter<long> ConnectionsClosed = Meter.CreateCounter<long>(
        "broker_connections_closed_total", null, "TCP connections closed (fully drained), by Kafka listener.", PublicTags);

    /// <summary>broker_connections_active{listener}: accepted and not yet closed.</summary>
    public static readonly UpDownCounter<long> ConnectionsActive = Meter.CreateUpDownCounter<long>(
        "broker_connections_active", null, "Open TCP connections, by Kafka listener.", PublicTags);

    static BrokerMeters()
    {
        CreateProcessInstruments();
        // Last: the default collector's listener publishes every instrument created above.
        _ = MetricsCollector.Default;
    }

    /// <summary>Makes sure the instruments above exist and the default collector listens to them.</summary>
    public static void EnsureInitialized() => _ = Meter;

    /// <summary>A tag for <paramref name="name"/>=<paramref name="value"/>; cache it where it is used per request.</summary>
    public static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);
}
