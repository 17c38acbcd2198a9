using Broker.Core.Model;
using Broker.Network;
using Broker.Server.Fetching;
using Broker.Server.Tests.Harness;
using Xunit;

namespace Broker.Server.Tests.Data;

public sealed class HotPathTests : IDisposable
{
    private readonly DataFixture _f = new();

    public void Dispose() => _f.Dispose();

    /// <summary>Bytes allocated by dispatching one pre-encoded acks=1 produce (completes synchronously).</summary>
    private long AllocatedByProduce(byte[] frame, ConnectionContext connection)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var pending = _f.Dispatcher.HandleAsync(connection, frame);
        Assert.True(pending.IsCompletedSuccessfully);
        pending.Result!.Dispose();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void ProduceAllocatesNothingPerRecord()
    {
        _f.CreateTopic("t");
        var connection = new ConnectionContext(3, "PLAINTEXT", null, null);
        byte[] Frame(int records) => HandlerHarness.EncodeRequest(0, 9,
            DataFixture.ProduceRequestFor("t", 0, TestBatches.Build(records, valueSize: 8), acks: 1), 1);
        var small = Frame(1);
        var large = Frame(2000);
        for (int i = 0; i < 5; i++)
        {
            AllocatedByProduce(small, connection);
            AllocatedByProduce(large, connection);
        }
        long one = long.MaxValue, many = long.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            one = Math.Min(one, AllocatedByProduce(small, connection));
            many = Math.Min(many, AllocatedByProduce(large, connection));
        }
        Assert.True(many - one < 512, $"1 record: {one} B, 2000 records: {many} B");
    }

    [Fact]
    public async Task WaiterSeesAnAdvanceThatHappenedBeforeTheWait()
    {
        _f.CreateTopic("t");
        var replica = _f.Replicas[new TopicPartition("t", 0)];
        using var waiter = new HighWatermarkWaiter();
        waiter.Watch(replica);
        waiter.Watch(replica); // once only
        Assert.Equal(1, replica.Subscribers);
        replica.Append(TestBatches.Build(1));
        Assert.Equal(WakeReason.Advanced, await waiter.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None));

        waiter.Rearm();
        Assert.Equal(WakeReason.TimedOut, await waiter.WaitAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None));

        using var cts = new CancellationTokenSource();
        waiter.Rearm();
        var wait = waiter.WaitAsync(TimeSpan.FromSeconds(30), cts.Token);
        cts.Cancel();
        Assert.Equal(WakeReason.Cancelled, await wait);

        waiter.Dispose();
        Assert.Equal(0, replica.Subscribers);
    }
}
