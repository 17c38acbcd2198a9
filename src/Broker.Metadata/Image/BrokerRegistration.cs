namespace Broker.Metadata.Image;

/// <summary>A listener a broker advertises: name, host, port and Kafka security protocol id (0 = PLAINTEXT).</summary>
public sealed record BrokerEndpoint(string Name, string Host, int Port, short SecurityProtocol);

/// <summary>
/// A broker as registered in the metadata log. <see cref="BrokerEpoch"/> is the offset of its latest
/// RegisterBrokerRecord; fenced brokers get no new replicas and lead no partitions.
/// </summary>
public sealed record BrokerRegistration(
    int BrokerId,
    Guid IncarnationId,
    long BrokerEpoch,
    IReadOnlyList<BrokerEndpoint> Endpoints,
    string? Rack,
    bool Fenced,
    bool InControlledShutdown = false)
{
    /// <summary>The endpoint for listener <paramref name="listenerName"/>, or null.</summary>
    public BrokerEndpoint? FindEndpoint(string listenerName)
    {
        for (int i = 0; i < Endpoints.Count; i++)
            if (string.Equals(Endpoints[i].Name, listenerName, StringComparison.Ordinal)) return Endpoints[i];
        return null;
    }
}
