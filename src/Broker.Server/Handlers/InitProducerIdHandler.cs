// InitProducerId (key 22): v0-4 (v2+ flexible; v3+ carry ProducerId/ProducerEpoch for KIP-360 epoch bumps).
// Behaviour:
// * Idempotent producers (TransactionalId null): a new producer id from the ProducerIdManager, epoch 0. As in Kafka,
//   a v3+ request naming its current id and epoch still gets a fresh id with epoch 0 (there is no transaction state
//   to bump an epoch in); a request naming only one of the two (-1 for the other) is INVALID_REQUEST.
// * No id at hand (the first block not fetched yet, the controller unreachable): the handler waits up to 2 s for
//   one, then answers COORDINATOR_LOAD_IN_PROGRESS, which librdkafka, the Java client and kafkajs all retry.
// * Transactional producers (TransactionalId not null, even ""): this broker has no transaction coordinator, so the
//   answer is TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53). That is the one code every client treats as fatal and
//   reports at once instead of retrying: librdkafka raises it as a fatal error (rd_kafka_idemp_check_error), the Java
//   client's InitProducerIdHandler fails initTransactions() with TransactionalIdAuthorizationException, and kafkajs
//   does not retry it. The retriable "no coordinator" codes (COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, ...) would
//   make librdkafka retry every 500 ms forever, and UNSUPPORTED_VERSION is retried by librdkafka as well. The broker
//   logs a warning naming the client so the operator sees why. ProducerId and ProducerEpoch are -1 on every error.
// * TransactionTimeoutMs is ignored (no transactions). ThrottleTimeMs 0.
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;
using Broker.Server.Pipeline;
using Broker.Server.Producers;

namespace Broker.Server.Handlers;

/// <param name="producerIds">This broker's producer id source.</param>
/// <param name="maxWait">How long a request waits for a producer id block to arrive (default 2 s).</param>
public sealed class InitProducerIdHandler(ProducerIdManager producerIds, TimeSpan? maxWait = null) : KafkaHandler<InitProducerIdRequest>
{
    private static readonly Logger Logger = Log.For("producer-ids");
    private readonly TimeSpan _maxWait = maxWait ?? TimeSpan.FromSeconds(2);

    public override ApiKey Key => ApiKey.InitProducerId;
    public override short MinVersion => 0;
    public override short MaxVersion => 4;

    protected override InitProducerIdRequest Parse(ref KafkaReader reader, short version) => InitProducerIdRequest.Read(ref reader, version);

    protected override ValueTask<IKafkaMessage?> Handle(RequestContext context, InitProducerIdRequest request)
    {
        if (request.TransactionalId is not null)
        {
            Logger.Warn($"client '{context.ClientId}' asked for transactional id '{request.TransactionalId}': transactions are not " +
                        "supported by this broker (answered TRANSACTIONAL_ID_AUTHORIZATION_FAILED)");
            return new(Failed(ErrorCode.TransactionalIdAuthorizationFailed));
        }
        if ((request.ProducerId == -1) != (request.ProducerEpoch == -1)) return new(Failed(ErrorCode.InvalidRequest));

        if (producerIds.TryNextProducerId(out long id)) return new(Assigned(id));
        return WaitForIdAsync(context);
    }

    private async ValueTask<IKafkaMessage?> WaitForIdAsync(RequestContext context)
    {
        var result = await producerIds.NextProducerIdAsync(_maxWait, context.Connection.Closed).ConfigureAwait(false);
        return result.IsSuccess ? Assigned(result.ProducerId) : Failed(result.Error);
    }

    private static InitProducerIdResponse Assigned(long producerId) => new() { ProducerId = producerId, ProducerEpoch = 0 };

    private static InitProducerIdResponse Failed(ErrorCode error) =>
        new() { ErrorCode = (short)error, ProducerId = -1, ProducerEpoch = -1 };
}
