using Broker.Client;
using Xunit;

namespace Broker.Integration.Tests.Client;

/// <summary>
/// <see cref="GroupConsumer"/> misuse gets clear exceptions without touching a broker (nothing listens on the
/// bootstrap port): bad options, polling without a subscription, bad arguments, use after dispose.
/// </summary>
public sealed class ClientGroupApiTests
{
    private static KafkaClient Client() => new(new KafkaClientOptions { BootstrapServers = "127.0.0.1:1" });

    [Theory]
    [InlineData("", "earliest")]
    [InlineData("g", "sometimes")]
    public async Task BadOptions_AreRejectedAtConstruction(string group, string reset)
    {
        await using var client = Client();
        var ex = Assert.Throws<ArgumentException>(() => new GroupConsumer(client, new GroupConsumerOptions { GroupId = group, AutoOffsetReset = reset }));
        Assert.Contains(group.Length == 0 ? "GroupId" : "AutoOffsetReset", ex.Message);
        Assert.Throws<ArgumentException>(() => new GroupConsumer(client, new GroupConsumerOptions { GroupId = "g", HeartbeatInterval = TimeSpan.Zero }));
    }

    [Fact]
    public async Task PollWithoutSubscription_BadArguments_UseAfterDispose()
    {
        await using var client = Client();
        var consumer = new GroupConsumer(client, new GroupConsumerOptions { GroupId = "g", AutoOffsetReset = "LATEST" });
        Assert.Equal("g", consumer.GroupId);
        Assert.Equal("", consumer.MemberId);
        Assert.Empty(consumer.Assignment);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => consumer.PollAsync(TimeSpan.FromMilliseconds(10)));
        Assert.Contains("SubscribeAsync", ex.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => consumer.PollAsync(TimeSpan.FromMilliseconds(-5)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => consumer.PollAsync(TimeSpan.Zero, maxBytes: 0));
        await Assert.ThrowsAsync<ArgumentException>(() => consumer.SubscribeAsync(new[] { "ok", "" }));
        // Nothing polled, nothing to commit: no request is made.
        await consumer.CommitAsync();

        await consumer.DisposeAsync();
        await consumer.DisposeAsync(); // twice is fine
        await Assert.ThrowsAsync<ObjectDisposedException>(() => consumer.PollAsync(TimeSpan.Zero));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => consumer.SubscribeAsync(new[] { "t" }));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => consumer.CommitAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => consumer.CommittedAsync(Array.Empty<Broker.Core.Model.TopicPartition>()));
    }
}
