using Broker.Protocol.Messages;

namespace Broker.LoadGen.Net;

/// <summary>
/// The request versions this tool uses against one broker: for each API the highest version both the broker
/// (from ApiVersions) and our codec support, within the range this tool was written for.
/// </summary>
public sealed class ApiVersionSet
{
    public short Produce { get; init; }
    public short Fetch { get; init; }
    public short ListOffsets { get; init; }
    public short Metadata { get; init; }
    public short CreateTopics { get; init; }

    /// <summary>Picks versions from the broker's advertised ranges; throws when an API has no common version.</summary>
    public static ApiVersionSet From(ApiVersionsResponse response) => new()
    {
        // Produce >= 3 and Fetch >= 4 carry record batch v2; Fetch stays <= 12 (topic names, not ids).
        Produce = Pick(response, ApiKey.Produce, 3, ProduceRequest.HighestVersion),
        Fetch = Pick(response, ApiKey.Fetch, 4, Math.Min((short)12, FetchRequest.HighestVersion)),
        ListOffsets = Pick(response, ApiKey.ListOffsets, 1, ListOffsetsRequest.HighestVersion),
        Metadata = Pick(response, ApiKey.Metadata, 1, MetadataRequest.HighestVersion),
        CreateTopics = Pick(response, ApiKey.CreateTopics, 2, CreateTopicsRequest.HighestVersion, required: false),
    };

    public override string ToString() =>
        $"Produce v{Produce}, Fetch v{Fetch}, ListOffsets v{ListOffsets}, Metadata v{Metadata}, CreateTopics v{CreateTopics}";

    private static short Pick(ApiVersionsResponse response, ApiKey key, short ourMin, short ourMax, bool required = true)
    {
        foreach (var api in response.ApiKeys)
        {
            if (api.ApiKey != (short)key) continue;
            short v = Math.Min(api.MaxVersion, ourMax);
            if (v >= Math.Max(api.MinVersion, ourMin)) return v;
            break;
        }
        if (!required) return -1;
        throw new LoadGenException($"the broker supports no {key} version in {ourMin}..{ourMax}");
    }
}
