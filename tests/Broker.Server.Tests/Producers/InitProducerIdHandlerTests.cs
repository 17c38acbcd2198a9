using Broker.Core.Model;
using Broker.Protocol.Messages;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;
using Broker.Server.Producers;
using Broker.Server.Tests.Harness;
using Xunit;

namespace Broker.Server.Tests.Producers;

public class InitProducerIdHandlerTests
{
    private static HandlerHarness Serve(ProducerIdManager manager, TimeSpan? maxWait = null)
    {
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table)).Register(new InitProducerIdHandler(manager, maxWait));
        return new HandlerHarness(new KafkaRequestDispatcher(table));
    }

    private static ProducerIdManager Manager(FakeAllocator allocator) =>
        new(allocator, () => 1, () => 3, maxAttempts: 2, retryBackoff: TimeSpan.FromMilliseconds(5));

    /// <summary>A request without a transactional id (the generated default is "", which is a transactional id).</summary>
    private static InitProducerIdRequest Idempotent(long producerId = -1, short producerEpoch = -1) =>
        new() { TransactionalId = null, TransactionTimeoutMs = 60000, ProducerId = producerId, ProducerEpoch = producerEpoch };

    private static Task<InitProducerIdResponse> CallAsync(HandlerHarness harness, short version, InitProducerIdRequest request) =>
        harness.CallAsync(InitProducerIdRequest.ApiKey, version, request, InitProducerIdResponse.Read);

    [Fact]
    public async Task Every_version_hands_an_idempotent_producer_a_new_id_with_epoch_0()
    {
        await using var manager = Manager(new FakeAllocator(blockSize: 1000));
        var harness = Serve(manager);
        var ids = new List<long>();
        for (short version = 0; version <= 4; version++)
        {
            for (int i = 0; i < 2; i++)
            {
                var response = await CallAsync(harness, version, new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = 60000 });
                Assert.Equal((ErrorCode.None, (short)0), ((ErrorCode)response.ErrorCode, response.ProducerEpoch));
                ids.Add(response.ProducerId);
            }
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), ids);
    }

    [Theory]
    [InlineData((short)3)]
    [InlineData((short)4)]
    public async Task An_existing_id_and_epoch_still_get_a_fresh_id_with_epoch_0(short version)
    {
        await using var manager = Manager(new FakeAllocator(blockSize: 1000));
        var harness = Serve(manager);
        var first = await CallAsync(harness, version, Idempotent());
        var again = await CallAsync(harness, version, Idempotent(first.ProducerId, 5));
        Assert.Equal(ErrorCode.None, (ErrorCode)again.ErrorCode);
        Assert.NotEqual(first.ProducerId, again.ProducerId);
        Assert.Equal(0, again.ProducerEpoch);
    }

    [Theory]
    [InlineData(17L, (short)-1)]
    [InlineData(-1L, (short)2)]
    public async Task An_id_without_an_epoch_or_the_reverse_is_an_invalid_request(long producerId, short epoch)
    {
        var allocator = new FakeAllocator(blockSize: 1000);
        await using var manager = Manager(allocator);
        var response = await CallAsync(Serve(manager), 4, Idempotent(producerId, epoch));
        Assert.Equal((ErrorCode.InvalidRequest, -1L, (short)-1), ((ErrorCode)response.ErrorCode, response.ProducerId, response.ProducerEpoch));
        Assert.Equal(0, allocator.Calls);
    }

    [Theory]
    [InlineData((short)0, "orders-tx")]
    [InlineData((short)2, "")]
    [InlineData((short)4, "orders-tx")]
    public async Task A_transactional_id_is_refused_with_a_fatal_error(short version, string transactionalId)
    {
        var allocator = new FakeAllocator(blockSize: 1000);
        await using var manager = Manager(allocator);
        var response = await CallAsync(Serve(manager), version, new InitProducerIdRequest { TransactionalId = transactionalId, TransactionTimeoutMs = 60000 });
        Assert.Equal((ErrorCode.TransactionalIdAuthorizationFailed, -1L, (short)-1),
            ((ErrorCode)response.ErrorCode, response.ProducerId, response.ProducerEpoch));
        Assert.Equal(0, allocator.Calls);
    }

    [Fact]
    public async Task Without_a_producer_id_block_the_answer_is_coordinator_load_in_progress()
    {
        var allocator = new FakeAllocator(blockSize: 1000) { Script = _ => FakeAllocator.Error(ErrorCode.NotController) };
        await using var manager = Manager(allocator);
        var harness = Serve(manager, maxWait: TimeSpan.FromMilliseconds(300));
        var response = await CallAsync(harness, 4, Idempotent());
        Assert.Equal((ErrorCode.CoordinatorLoadInProgress, -1L, (short)-1),
            ((ErrorCode)response.ErrorCode, response.ProducerId, response.ProducerEpoch));

        allocator.Script = null; // the controller is back: the client's retry succeeds
        var retried = await CallAsync(harness, 4, Idempotent());
        Assert.Equal((ErrorCode.None, 0L, (short)0), ((ErrorCode)retried.ErrorCode, retried.ProducerId, retried.ProducerEpoch));
    }

    [Fact]
    public async Task The_handler_waits_for_a_block_that_is_on_its_way()
    {
        var allocator = new FakeAllocator(blockSize: 1000) { Delay = TimeSpan.FromMilliseconds(150) };
        await using var manager = Manager(allocator);
        var response = await CallAsync(Serve(manager, maxWait: TimeSpan.FromSeconds(5)), 1, Idempotent());
        Assert.Equal((ErrorCode.None, 0L), ((ErrorCode)response.ErrorCode, response.ProducerId));
    }

    [Fact]
    public void ApiVersions_advertises_init_producer_id_0_to_4()
    {
        var table = new HandlerTable();
        table.Register(new InitProducerIdHandler(Manager(new FakeAllocator())));
        var handler = Assert.Single(table.All);
        Assert.Equal((ApiKey.InitProducerId, (short)0, (short)4), (handler.Key, handler.MinVersion, handler.MaxVersion));
    }
}
