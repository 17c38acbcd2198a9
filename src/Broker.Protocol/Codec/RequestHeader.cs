using Broker.Protocol.Messages;

namespace Broker.Protocol.Codec;

/// <summary>
/// Kafka request header. v1: api_key, api_version, correlation_id, client_id (nullable string, always int16
/// length). v2 (requests at a flexible version) adds tagged fields. Response header v0 is the correlation id;
/// v1 adds an empty tagged-field byte, except ApiVersions, whose response header is always v0 (KIP-511).
/// </summary>
public readonly record struct RequestHeader(short ApiKey, short ApiVersion, int CorrelationId, string? ClientId)
{
    /// <summary>Size of api_key + api_version + correlation_id: enough to answer or reject a request.</summary>
    public const int FixedPrefixSize = 8;

    /// <summary>True when the request (and so the response) at this version uses flexible headers.</summary>
    public static bool IsFlexible(short apiKey, short apiVersion) =>
        ApiMessages.TryGet(apiKey, out var e) && e.FirstFlexibleVersion >= 0 && apiVersion >= e.FirstFlexibleVersion;

    public static RequestHeader Read(ref KafkaReader reader)
    {
        short apiKey = reader.ReadInt16();
        short apiVersion = reader.ReadInt16();
        int correlationId = reader.ReadInt32();
        string? clientId = reader.ReadNullableString(flexible: false);
        if (IsFlexible(apiKey, apiVersion)) reader.SkipTaggedFields();
        return new RequestHeader(apiKey, apiVersion, correlationId, clientId);
    }

    public void Write(ref KafkaWriter writer)
    {
        writer.WriteInt16(ApiKey);
        writer.WriteInt16(ApiVersion);
        writer.WriteInt32(CorrelationId);
        writer.WriteString(ClientId, flexible: false);
        if (IsFlexible(ApiKey, ApiVersion)) writer.WriteEmptyTaggedFields();
    }

    /// <summary>Writes the response header for a response to this request.</summary>
    public void WriteResponseHeader(ref KafkaWriter writer)
    {
        writer.WriteInt32(CorrelationId);
        if (ApiKey != (short)Messages.ApiKey.ApiVersions && IsFlexible(ApiKey, ApiVersion)) writer.WriteEmptyTaggedFields();
    }

    /// <summary>Reads a response header (client side) for a request with this key and version.</summary>
    public static int ReadResponseHeader(ref KafkaReader reader, short apiKey, short apiVersion)
    {
        int correlationId = reader.ReadInt32();
        if (apiKey != (short)Messages.ApiKey.ApiVersions && IsFlexible(apiKey, apiVersion)) reader.SkipTaggedFields();
        return correlationId;
    }
}
