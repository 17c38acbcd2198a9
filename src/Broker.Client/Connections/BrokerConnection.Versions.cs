using System.Buffers.Binary;
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.Client.Connections;

// ApiVersions negotiation and version choice of a connection.
internal sealed partial class BrokerConnection
{
    private const string SoftwareName = "broker-client";
    private const string SoftwareVersion = "1.0";

    private Dictionary<short, (short Min, short Max)> _versions = new();

    /// <summary>The broker's advertised range per API key (empty before negotiation).</summary>
    public IReadOnlyDictionary<short, (short Min, short Max)> ApiVersions => _versions;

    /// <summary>
    /// The highest version within [<paramref name="min"/>, <paramref name="max"/>] that the broker and our codec both
    /// support, or -1 when there is none.
    /// </summary>
    public short ChooseVersion(short apiKey, short min, short max)
    {
        if (!_versions.TryGetValue(apiKey, out var broker)) return -1;
        if (!ApiMessages.TryGet(apiKey, out var codec)) return -1;
        short high = Math.Min(max, Math.Min(broker.Max, codec.HighestVersion));
        short low = Math.Max(min, Math.Max(broker.Min, codec.LowestVersion));
        return high >= low ? high : (short)-1;
    }

    /// <summary>
    /// ApiVersions at our highest version; a broker that does not know it answers UNSUPPORTED_VERSION in the v0 format
    /// with its own range for ApiVersions (KIP-511), and we ask again at the highest version both support.
    /// </summary>
    private async Task NegotiateVersionsAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        short version = ApiVersionsRequest.HighestVersion;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            var request = new ApiVersionsRequest { ClientSoftwareName = SoftwareName, ClientSoftwareVersion = SoftwareVersion };
            var frame = await SendAsync((short)ApiKey.ApiVersions, version, request, expectResponse: true, timeout, cancellationToken)
                .ConfigureAwait(false);
            var body = frame.Body;
            if (body.Length < 2) throw new KafkaException(ErrorCode.CorruptMessage, $"empty ApiVersions response from {Endpoint}");
            var error = (ErrorCode)BinaryPrimitives.ReadInt16BigEndian(body.Span);
            // An UNSUPPORTED_VERSION answer is always in the v0 format.
            var response = ParseApiVersions(body, error == ErrorCode.UnsupportedVersion ? (short)0 : version);
            if (error == ErrorCode.None)
            {
                var versions = new Dictionary<short, (short Min, short Max)>(response.ApiKeys.Count);
                foreach (var k in response.ApiKeys) versions[k.ApiKey] = (k.MinVersion, k.MaxVersion);
                _versions = versions;
                return;
            }
            if (error != ErrorCode.UnsupportedVersion || attempt > 0)
                throw new KafkaException(error, $"ApiVersions v{version} to {Endpoint} failed: {error}");
            short brokerMax = -1;
            foreach (var k in response.ApiKeys)
                if (k.ApiKey == (short)ApiKey.ApiVersions) brokerMax = k.MaxVersion;
            if (brokerMax < 0 || brokerMax >= version)
                throw new KafkaException(ErrorCode.UnsupportedVersion, $"{Endpoint} refused ApiVersions v{version} without offering a lower version");
            version = brokerMax;
        }
        throw new KafkaException(ErrorCode.UnsupportedVersion, $"ApiVersions negotiation with {Endpoint} failed");
    }

    private ApiVersionsResponse ParseApiVersions(ReadOnlyMemory<byte> body, short version)
    {
        var reader = new KafkaReader(body);
        try
        {
            return ApiVersionsResponse.Read(ref reader, version);
        }
        catch (KafkaProtocolException ex)
        {
            throw new KafkaException(ErrorCode.CorruptMessage, $"malformed ApiVersions v{version} response from {Endpoint}: {ex.Message}");
        }
    }
}
