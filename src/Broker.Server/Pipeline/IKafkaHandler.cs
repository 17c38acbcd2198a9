using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.Server.Pipeline;

/// <summary>
/// One Kafka API. Implementations live in Handlers/, one file per API key, each opening with a comment on the
/// versions served and the behaviour. The advertised range (<see cref="MinVersion"/>..<see cref="MaxVersion"/>)
/// is what ApiVersions reports, so it must be exactly what the handler implements (Produce is the documented
/// exception: advertised from 0 for old librdkafka feature checks, v0-2 answered with UNSUPPORTED_VERSION).
/// </summary>
public interface IKafkaHandler
{
    ApiKey Key { get; }
    short MinVersion { get; }
    short MaxVersion { get; }

    /// <summary>
    /// Parses the request body and does all order-sensitive work synchronously, before returning (two-phase:
    /// dispatch now, complete later). The result is the response message, or null when no response is due.
    /// Throw <see cref="KafkaProtocolException"/> for malformed input: the connection is closed.
    /// </summary>
    ValueTask<IKafkaMessage?> Handle(RequestContext context, ref KafkaReader reader);
}

/// <summary>Convenience base: parse into a generated request type, then handle it.</summary>
public abstract class KafkaHandler<TRequest> : IKafkaHandler
{
    public abstract ApiKey Key { get; }
    public abstract short MinVersion { get; }
    public abstract short MaxVersion { get; }

    public ValueTask<IKafkaMessage?> Handle(RequestContext context, ref KafkaReader reader) =>
        Handle(context, Parse(ref reader, context.ApiVersion));

    protected abstract TRequest Parse(ref KafkaReader reader, short version);

    /// <summary>Runs synchronously up to its first await; see <see cref="IKafkaHandler.Handle"/>.</summary>
    protected abstract ValueTask<IKafkaMessage?> Handle(RequestContext context, TRequest request);
}
