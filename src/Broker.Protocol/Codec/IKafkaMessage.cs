namespace Broker.Protocol.Codec;

/// <summary>A generated top-level message (request, response or embedded data) that can write itself.</summary>
public interface IKafkaMessage
{
    void Write(ref KafkaWriter writer, short version);
}
