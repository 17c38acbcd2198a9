using System.Text;
using Broker.Client;
using Broker.Core.Model;
using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Scale;

/// <summary>
/// max.message.bytes end to end: against a topic limited to 1 KiB, a larger batch is refused with MESSAGE_TOO_LARGE
/// (and the reason in the error message) for our client and for librdkafka (kcat), nothing of it is stored, and
/// batches under the limit still go through.
/// </summary>
public sealed class MessageSizeLimitTests : IntegrationTest
{
    public MessageSizeLimitTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public async Task A_batch_over_max_message_bytes_is_refused_with_message_too_large()
    {
        var broker = StartBroker("msg-too-large");
        await using var client = new KafkaClient(new KafkaClientOptions
        {
            BootstrapServers = broker.Bootstrap,
            ClientId = "msg-size-it",
            RequestTimeout = TimeSpan.FromSeconds(10),
            RetryBudget = TimeSpan.FromSeconds(10),
        });
        var created = Assert.Single(await client.CreateTopicsAsync(
            [new NewTopic("small", 1, 1, new Dictionary<string, string> { ["max.message.bytes"] = "1024" })]));
        Assert.True(created.Error == ErrorCode.None, $"{created.Error} {created.Message}");

        var ok = await client.ProduceAsync("small", 0, [new ProducerRecord(null, Encoding.ASCII.GetBytes("fits"))]);
        Assert.Equal(ErrorCode.None, ok.Error);

        var big = await client.ProduceAsync("small", 0, [new ProducerRecord(null, new byte[4000])]);
        Assert.Equal(ErrorCode.MessageTooLarge, big.Error);
        Assert.Contains("max.message.bytes", big.ErrorMessage);

        // librdkafka: its own limit (message.max.bytes, 1 MB by default) lets the batch go; the broker refuses it.
        var kcat = ScriptRunner.Run("/bin/sh", ["-c",
            $"head -c 4000 /dev/zero | tr '\\0' x | timeout 30 kcat -P -b {broker.Bootstrap} -t small -p 0 " +
            "-X acks=all -X retries=0 -X message.timeout.ms=10000 -X message.max.bytes=1000000"], TimeSpan.FromSeconds(40));
        Output.WriteLine($"kcat: exit {kcat.ExitCode}, stderr '{kcat.Stderr.Trim()}'");
        Assert.Contains("Message size too large", kcat.Stdout + kcat.Stderr);

        var again = await client.ProduceAsync("small", 0, [new ProducerRecord(null, Encoding.ASCII.GetBytes("still fits"))]);
        Assert.Equal(ErrorCode.None, again.Error);
        Assert.Equal(1, again.BaseOffset); // nothing of the refused batches was stored

        var fetched = await client.FetchAsync("small", 0, 0, 1 << 20, TimeSpan.FromMilliseconds(200));
        Assert.Equal(ErrorCode.None, fetched.Error);
        Assert.Equal(["fits", "still fits"], fetched.Records.Select(r => Encoding.ASCII.GetString(r.Value!)).ToArray());
    }
}
