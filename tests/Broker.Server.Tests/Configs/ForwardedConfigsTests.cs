using System.Net;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Records;
using Broker.Network;
using Broker.Server.Admin;
using Broker.Server.Configs;
using Broker.Server.Handlers;
using Broker.Server.Pipeline;
using Broker.Server.Tests.Admin;
using Xunit;

namespace Broker.Server.Tests.Configs;

/// <summary>
/// Config changes from a node that is not the active controller: ForwardingTopicAdmin sends them as
/// IncrementalAlterConfigs over a real socket to a controller listener serving the handler over the controller.
/// </summary>
public sealed class ForwardedConfigsTests : IAsyncLifetime
{
    private ConfigsFixture _f = null!;
    private KafkaListener _listener = null!;

    public async Task InitializeAsync()
    {
        _f = await ConfigsFixture.StartAsync();
        var table = new HandlerTable();
        table.Register(new ApiVersionsHandler(table))
            .Register(new IncrementalAlterConfigsHandler(new ConfigAlterService(_f.Admin, () => _f.Node.Current), _f.Dynamic));
        _listener = new KafkaListener(new KafkaListenerOptions
        {
            ListenerName = "CONTROLLER",
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ShutdownTimeout = TimeSpan.FromSeconds(2),
        }, new KafkaRequestDispatcher(table));
        _listener.Start();
    }

    public async Task DisposeAsync()
    {
        await _listener.DisposeAsync();
        _f.Dispose();
    }

    private ForwardingTopicAdmin Forwarder() =>
        new(new RecordingTopicAdmin(), () => false, () => ("127.0.0.1", _listener.BoundEndPoint!.Port),
            requestTimeout: TimeSpan.FromSeconds(5), connectTimeout: TimeSpan.FromSeconds(1));

    [Fact]
    public async Task Changes_are_forwarded_applied_and_answered_in_order()
    {
        await _f.CreateTopicAsync("t", configs: new() { ["retention.ms"] = "5000" });
        using var forwarder = Forwarder();
        var results = await forwarder.AlterConfigsAsync(
        [
            new ConfigResourceChange(ConfigResourceType.Topic, "t", new Dictionary<string, string?> { ["retention.ms"] = null, ["segment.bytes"] = "8192" }),
            new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["log.retention.ms"] = "60000" }),
            new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["num.partitions"] = "2" }),
            new ConfigResourceChange(ConfigResourceType.Broker, "1", new Dictionary<string, string?> { ["listeners"] = "PLAINTEXT://:1" }),
            new ConfigResourceChange(ConfigResourceType.Topic, "ghost", new Dictionary<string, string?> { ["retention.ms"] = "1" }),
        ], validateOnly: false, CancellationToken.None);

        Assert.Equal(
            [ErrorCode.None, ErrorCode.InvalidRequest, ErrorCode.InvalidRequest, ErrorCode.InvalidRequest, ErrorCode.UnknownTopicOrPartition],
            results.Select(r => r.Error));
        Assert.Equal(["t", "", "", "1", "ghost"], results.Select(r => r.ResourceName));
        Assert.Contains("more than once", results[1].Message);   // answered by the forwarder, not sent
        Assert.Equal("Cannot update these configs dynamically: listeners", results[3].Message);   // the controller's answer
        Assert.Equal(new Dictionary<string, string> { ["segment.bytes"] = "8192" }, _f.Image.GetTopic("t")!.Configs);
        Assert.Empty(_f.Image.GetBrokerConfigs(""));
        Assert.Equal(8192, _f.Partition("t").Log.Options.SegmentBytes);
    }

    [Fact]
    public async Task The_service_over_a_forwarder_waits_for_the_change_and_validate_only_passes_through()
    {
        using var forwarder = Forwarder();
        var service = new ConfigAlterService(forwarder, () => _f.Node.Current);
        var dryRun = await service.AlterAsync(
            [new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["log.retention.ms"] = "60000" })],
            validateOnly: true, CancellationToken.None);
        Assert.Equal(ErrorCode.None, dryRun[0].Error);
        Assert.Empty(_f.Image.GetBrokerConfigs(""));

        var applied = await service.AlterAsync(
            [new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["log.retention.ms"] = "60000" })],
            validateOnly: false, CancellationToken.None);
        Assert.Equal(ErrorCode.None, applied[0].Error);
        Assert.Equal("60000", _f.Image.GetBrokerConfigs("")["log.retention.ms"]);
    }

    [Fact]
    public async Task No_reachable_controller_is_a_timeout_answer()
    {
        using var forwarder = new ForwardingTopicAdmin(new RecordingTopicAdmin(), () => false, () => null,
            requestTimeout: TimeSpan.FromSeconds(2), connectTimeout: TimeSpan.FromSeconds(1));
        var results = await forwarder.AlterConfigsAsync(
            [new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["num.partitions"] = "2" })],
            validateOnly: false, CancellationToken.None);
        Assert.Equal(ErrorCode.RequestTimedOut, Assert.Single(results).Error);
    }
}
