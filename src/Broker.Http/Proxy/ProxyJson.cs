using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Http.Proxy;

// The control-plane JSON shapes of the REST proxy v2 (pandaproxy / Confluent names), serialized through the
// source-generated ProxyJsonContext: no reflection. Record payloads are read and written by hand (ProduceRequestParser,
// RecordJsonWriter) because their key/value are free-form JSON or base64.

internal sealed class ErrorBody
{
    [JsonPropertyName("error_code")] public int ErrorCode { get; init; }
    [JsonPropertyName("message")] public string Message { get; init; } = "";
}

internal sealed class BrokersBody
{
    [JsonPropertyName("brokers")] public required int[] Brokers { get; init; }
}

internal sealed class ProduceOffset
{
    [JsonPropertyName("partition")] public int Partition { get; init; }
    /// <summary>The Kafka error code; only present when the record was not written.</summary>
    [JsonPropertyName("error_code")] public int? ErrorCode { get; init; }
    [JsonPropertyName("offset")] public long Offset { get; init; }
}

internal sealed class ProduceResponseBody
{
    [JsonPropertyName("offsets")] public required ProduceOffset[] Offsets { get; init; }
}

/// <summary>POST /consumers/{group}. Values are JSON strings in pandaproxy; numbers and booleans are accepted too.</summary>
internal sealed class CreateConsumerRequest
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("format")] public string? Format { get; init; }
    [JsonPropertyName("auto.offset.reset"), JsonConverter(typeof(ScalarAsStringConverter))]
    public string? AutoOffsetReset { get; init; }
    [JsonPropertyName("auto.commit.enable"), JsonConverter(typeof(ScalarAsStringConverter))]
    public string? AutoCommitEnable { get; init; }
    [JsonPropertyName("fetch.min.bytes"), JsonConverter(typeof(ScalarAsStringConverter))]
    public string? FetchMinBytes { get; init; }
    [JsonPropertyName("consumer.request.timeout.ms"), JsonConverter(typeof(ScalarAsStringConverter))]
    public string? ConsumerRequestTimeoutMs { get; init; }
}

internal sealed class CreateConsumerResponse
{
    [JsonPropertyName("instance_id")] public required string InstanceId { get; init; }
    [JsonPropertyName("base_uri")] public required string BaseUri { get; init; }
}

internal sealed class SubscriptionRequest
{
    [JsonPropertyName("topics")] public string[]? Topics { get; init; }
    [JsonPropertyName("topic_pattern")] public string? TopicPattern { get; init; }
}

internal sealed class PartitionRef
{
    [JsonPropertyName("topic"), JsonRequired] public string Topic { get; init; } = "";
    [JsonPropertyName("partition"), JsonRequired] public int Partition { get; init; }
}

internal sealed class PartitionsRequest
{
    [JsonPropertyName("partitions")] public PartitionRef[]? Partitions { get; init; }
}

internal sealed class PartitionOffsetRef
{
    [JsonPropertyName("topic"), JsonRequired] public string Topic { get; init; } = "";
    [JsonPropertyName("partition"), JsonRequired] public int Partition { get; init; }
    [JsonPropertyName("offset"), JsonRequired] public long Offset { get; init; }
    [JsonPropertyName("metadata")] public string? Metadata { get; init; }
}

internal sealed class PartitionOffsetsRequest
{
    [JsonPropertyName("partitions")] public PartitionOffsetRef[]? Partitions { get; init; }
}

internal sealed class CommittedOffsetBody
{
    [JsonPropertyName("topic")] public required string Topic { get; init; }
    [JsonPropertyName("partition")] public int Partition { get; init; }
    [JsonPropertyName("offset")] public long Offset { get; init; }
    [JsonPropertyName("metadata")] public string Metadata { get; init; } = "";
}

internal sealed class OffsetsResponseBody
{
    [JsonPropertyName("offsets")] public required CommittedOffsetBody[] Offsets { get; init; }
}

internal sealed class ReadyBody
{
    [JsonPropertyName("status")] public required string Status { get; init; }
}

internal sealed class EmptyBody;

/// <summary>Reads a JSON string, number or boolean as its text (so "1000", 1000 and false all bind to a string).</summary>
internal sealed class ScalarAsStringConverter : JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.HasValueSequence
                ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan),
            JsonTokenType.True => "true",
            JsonTokenType.False => "false",
            JsonTokenType.Null => null,
            _ => throw new JsonException($"expected a string, number or boolean, got {reader.TokenType}"),
        };

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        if (value is null) writer.WriteNullValue();
        else writer.WriteStringValue(value);
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(BrokersBody))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(ProduceResponseBody))]
[JsonSerializable(typeof(CreateConsumerRequest))]
[JsonSerializable(typeof(CreateConsumerResponse))]
[JsonSerializable(typeof(SubscriptionRequest))]
[JsonSerializable(typeof(PartitionsRequest))]
[JsonSerializable(typeof(PartitionOffsetsRequest))]
[JsonSerializable(typeof(OffsetsResponseBody))]
[JsonSerializable(typeof(ReadyBody))]
[JsonSerializable(typeof(EmptyBody))]
internal sealed partial class ProxyJsonContext : JsonSerializerContext;
