using System.Diagnostics;
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.LoadGen.Net;

/// <summary>
/// The setup steps of a run over one connection: ApiVersions negotiation (v3, falling back to v0), topic lookup
/// through Metadata, CreateTopics (RF 1) when the topic is missing, and ListOffsets for earliest/latest offsets.
/// </summary>
public sealed class AdminClient
{
    public const long Earliest = -2;
    public const long Latest = -1;

    private readonly KafkaConnection _connection;
    private readonly int _timeoutMs;

    public AdminClient(KafkaConnection connection, int timeoutMs)
    {
        _connection = connection;
        _timeoutMs = timeoutMs;
    }

    /// <summary>Asks for ApiVersions (v3, then v0 on UNSUPPORTED_VERSION) and picks the versions to use.</summary>
    public async Task<ApiVersionSet> NegotiateAsync(CancellationToken ct)
    {
        var request = new ApiVersionsRequest { ClientSoftwareName = "broker-loadgen", ClientSoftwareVersion = "0.1" };
        var response = await _connection.RoundTripAsync(ApiVersionsRequest.ApiKey, 3, request, ReadApiVersionsOrNull, ct).ConfigureAwait(false)
            ?? await _connection.RoundTripAsync(ApiVersionsRequest.ApiKey, 0, request, ReadApiVersionsOrNull, ct).ConfigureAwait(false)
            ?? throw new LoadGenException("ApiVersions failed at v3 and v0");
        return ApiVersionSet.From(response);
    }

    /// <summary>
    /// Returns the partition count of <paramref name="topic"/>, creating it with <paramref name="partitions"/>
    /// partitions (RF 1) when it does not exist, and waiting until every partition has a leader.
    /// </summary>
    public async Task<int> EnsureTopicAsync(ApiVersionSet versions, string topic, int partitions, short replicationFactor, bool noteOtherCount, CancellationToken ct)
    {
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * Math.Max(10, _timeoutMs / 1000 * 2);
        bool created = false;
        while (true)
        {
            var t = await DescribeTopicAsync(versions, topic, ct).ConfigureAwait(false);
            var code = (ErrorCode)t.ErrorCode;
            if (code == ErrorCode.None && t.Partitions.Count > 0 && AllLed(t))
            {
                if (!created && noteOtherCount && t.Partitions.Count != partitions)
                    Console.Error.WriteLine($"note: topic '{topic}' exists with {t.Partitions.Count} partitions; using them (not {partitions})");
                return t.Partitions.Count;
            }
            if (code == ErrorCode.UnknownTopicOrPartition && !created)
            {
                await CreateTopicAsync(versions, topic, partitions, replicationFactor, ct).ConfigureAwait(false);
                created = true;
            }
            else if (code is not (ErrorCode.None or ErrorCode.LeaderNotAvailable or ErrorCode.UnknownTopicOrPartition))
            {
                throw new LoadGenException($"Metadata for '{topic}': {ErrorName(t.ErrorCode)}");
            }
            if (Stopwatch.GetTimestamp() > deadline)
                throw new LoadGenException($"topic '{topic}' has no leader for every partition yet ({ErrorName(t.ErrorCode)})");
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Offsets of each partition at <paramref name="timestamp"/> (<see cref="Earliest"/> or <see cref="Latest"/>).</summary>
    public async Task<long[]> ListOffsetsAsync(ApiVersionSet versions, string topic, int partitions, long timestamp, CancellationToken ct)
    {
        var t = new ListOffsetsRequest.ListOffsetsTopic { Name = topic };
        for (int p = 0; p < partitions; p++)
            t.Partitions.Add(new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = p, Timestamp = timestamp });
        var request = new ListOffsetsRequest { ReplicaId = -1, Topics = { t } };
        var response = await _connection.RoundTripAsync(ListOffsetsRequest.ApiKey, versions.ListOffsets, request,
            ListOffsetsResponse.Read, ct).ConfigureAwait(false);
        var result = new long[partitions];
        Array.Fill(result, -1);
        foreach (var rt in response.Topics)
            foreach (var rp in rt.Partitions)
            {
                if (rp.ErrorCode != 0)
                    throw new LoadGenException($"ListOffsets {topic}/{rp.PartitionIndex}: {ErrorName(rp.ErrorCode)}");
                if (rp.PartitionIndex >= 0 && rp.PartitionIndex < partitions) result[rp.PartitionIndex] = rp.Offset;
            }
        for (int p = 0; p < partitions; p++)
            if (result[p] < 0) throw new LoadGenException($"ListOffsets gave no offset for {topic}/{p}");
        return result;
    }

    /// <summary>"NAME (code)" for a Kafka error code.</summary>
    public static string ErrorName(short code) =>
        Enum.IsDefined((ErrorCode)code) ? $"{ToUpperSnake(((ErrorCode)code).ToString())} ({code})" : $"error {code}";

    private async Task<MetadataResponse.MetadataResponseTopic> DescribeTopicAsync(ApiVersionSet versions, string topic, CancellationToken ct)
    {
        var request = new MetadataRequest
        {
            Topics = [new MetadataRequest.MetadataRequestTopic { Name = topic }],
            AllowAutoTopicCreation = false,
        };
        var response = await _connection.RoundTripAsync(MetadataRequest.ApiKey, versions.Metadata, request,
            MetadataResponse.Read, ct).ConfigureAwait(false);
        foreach (var t in response.Topics)
            if (t.Name == topic) return t;
        return new MetadataResponse.MetadataResponseTopic { Name = topic, ErrorCode = (short)ErrorCode.UnknownTopicOrPartition };
    }

    private async Task CreateTopicAsync(ApiVersionSet versions, string topic, int partitions, short replicationFactor, CancellationToken ct)
    {
        if (versions.CreateTopics < 0) throw new LoadGenException($"topic '{topic}' is missing and the broker has no CreateTopics");
        var request = new CreateTopicsRequest
        {
            Topics = [new CreateTopicsRequest.CreatableTopic { Name = topic, NumPartitions = partitions, ReplicationFactor = replicationFactor }],
            TimeoutMs = _timeoutMs,
        };
        var response = await _connection.RoundTripAsync(CreateTopicsRequest.ApiKey, versions.CreateTopics, request,
            CreateTopicsResponse.Read, ct).ConfigureAwait(false);
        foreach (var r in response.Topics)
            if (r.ErrorCode != 0 && r.ErrorCode != (short)ErrorCode.TopicAlreadyExists)
                throw new LoadGenException($"CreateTopics '{topic}': {ErrorName(r.ErrorCode)} {r.ErrorMessage}");
        Console.Error.WriteLine($"created topic '{topic}' with {partitions} partition(s), RF 1");
    }

    private static bool AllLed(MetadataResponse.MetadataResponseTopic t)
    {
        foreach (var p in t.Partitions)
            if (p.ErrorCode != 0 || p.LeaderId < 0) return false;
        return true;
    }

    /// <summary>Reads an ApiVersions body, or null when it carries UNSUPPORTED_VERSION (a v0 body follows then).</summary>
    private static ApiVersionsResponse? ReadApiVersionsOrNull(ref KafkaReader reader, short version)
    {
        var probe = reader;
        short error = probe.ReadInt16();
        if (error == (short)ErrorCode.UnsupportedVersion && version > 0) return null;
        if (error != 0) throw new LoadGenException($"ApiVersions: {ErrorName(error)}");
        return ApiVersionsResponse.Read(ref reader, version);
    }

    private static string ToUpperSnake(string pascal)
    {
        var sb = new System.Text.StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (i > 0 && char.IsUpper(c)) sb.Append('_');
            sb.Append(char.ToUpperInvariant(c));
        }
        return sb.ToString();
    }
}
