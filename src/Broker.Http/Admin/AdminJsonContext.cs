using System.Text.Json.Serialization;

namespace Broker.Http.Admin;

/// <summary>Source-generated JSON metadata for the Admin API bodies (no reflection; NativeAOT-safe), snake_case keys.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(ReadyStatus))]
[JsonSerializable(typeof(ClusterUuidBody))]
[JsonSerializable(typeof(ConfigVersionBody))]
[JsonSerializable(typeof(HealthOverview))]
[JsonSerializable(typeof(BrokerInfo))]
[JsonSerializable(typeof(List<BrokerInfo>))]
[JsonSerializable(typeof(PartitionInfo))]
[JsonSerializable(typeof(List<PartitionInfo>))]
[JsonSerializable(typeof(NodeConfigInfo))]
public sealed partial class AdminJsonContext : JsonSerializerContext;
