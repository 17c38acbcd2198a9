using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Records;

namespace Broker.Metadata.Tests.Configs;

/// <summary>The controller's checks of broker-resource config changes (BrokerConfigPolicy) and what it writes.</summary>
public class ControllerConfigPolicyTests
{
    /// <summary>A stand-in for the host's policy: "ro.*" keys are read-only, "bad" values invalid.</summary>
    private static ConfigRefusal? Policy(IReadOnlyDictionary<string, string?> changes)
    {
        var readOnly = changes.Keys.Where(k => k.StartsWith("ro.", StringComparison.Ordinal)).ToList();
        if (readOnly.Count > 0) return new ConfigRefusal(ErrorCode.InvalidRequest, "Cannot update these configs dynamically: " + string.Join(", ", readOnly));
        foreach (var (k, v) in changes)
            if (v == "bad") return new ConfigRefusal(ErrorCode.InvalidConfig, $"Invalid value 'bad' for broker config {k}");
        return null;
    }

    [Fact]
    public async Task Read_only_keys_refuse_the_whole_resource_and_nothing_is_written()
    {
        using var f = await ControllerFixture.StartAsync();
        f.Controller.BrokerConfigPolicy = Policy;
        long before = f.Storage.LogEndOffset;

        var results = await f.Controller.AlterConfigsAsync(
        [
            new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["log.retention.ms"] = "100", ["ro.listeners"] = "x", ["ro.node.id"] = null }),
            new ConfigResourceChange(ConfigResourceType.Broker, "1", new Dictionary<string, string?> { ["num.partitions"] = "bad" }),
        ], validateOnly: false);

        Assert.Equal((ErrorCode.InvalidRequest, "Cannot update these configs dynamically: ro.listeners, ro.node.id"), (results[0].Error, results[0].Message));
        Assert.Equal(ErrorCode.InvalidConfig, results[1].Error);
        Assert.Contains("bad", results[1].Message);
        Assert.Equal(before, f.Storage.LogEndOffset);
        Assert.Empty(f.Image.GetBrokerConfigs(""));
    }

    [Fact]
    public async Task Accepted_resources_are_written_together_and_deletes_and_no_ops_behave()
    {
        using var f = await ControllerFixture.StartAsync();
        f.Controller.BrokerConfigPolicy = Policy;

        var results = await f.Controller.AlterConfigsAsync(
        [
            new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["log.retention.ms"] = "100", ["num.partitions"] = "3" }),
            new ConfigResourceChange(ConfigResourceType.Broker, "1", new Dictionary<string, string?> { ["min.insync.replicas"] = "2" }),
            new ConfigResourceChange(ConfigResourceType.Broker, "2", new Dictionary<string, string?> { ["ro.x"] = "1" }),
        ], validateOnly: false);
        Assert.Equal([ErrorCode.None, ErrorCode.None, ErrorCode.InvalidRequest], results.Select(r => r.Error));
        Assert.Equal(new Dictionary<string, string> { ["log.retention.ms"] = "100", ["num.partitions"] = "3" }, f.Image.GetBrokerConfigs(""));
        Assert.Equal("2", f.Image.GetBrokerConfigs("1")["min.insync.replicas"]);
        Assert.Empty(f.Image.GetBrokerConfigs("2"));

        // Setting the same value again and deleting an absent key write nothing.
        long offset = f.Storage.LogEndOffset;
        var again = await f.Controller.AlterConfigsAsync(
            [new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["log.retention.ms"] = "100", ["absent"] = null })], false);
        Assert.Equal(ErrorCode.None, again[0].Error);
        Assert.Equal(offset, f.Storage.LogEndOffset);

        // A delete removes the key from the image; validate-only changes nothing.
        var validated = await f.Controller.AlterConfigsAsync(
            [new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["num.partitions"] = null })], validateOnly: true);
        Assert.Equal(ErrorCode.None, validated[0].Error);
        Assert.Equal("3", f.Image.GetBrokerConfigs("")["num.partitions"]);
        await f.Controller.AlterConfigsAsync(
            [new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["num.partitions"] = null })], false);
        Assert.False(f.Image.GetBrokerConfigs("").ContainsKey("num.partitions"));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("one")]
    public async Task Broker_resource_names_must_be_empty_or_a_plain_broker_id(string name)
    {
        using var f = await ControllerFixture.StartAsync();
        f.Controller.BrokerConfigPolicy = Policy;
        var result = (await f.Controller.AlterConfigsAsync(
            [new ConfigResourceChange(ConfigResourceType.Broker, name, new Dictionary<string, string?> { ["log.retention.ms"] = "1" })], false))[0];
        Assert.Equal(ErrorCode.InvalidRequest, result.Error);
        Assert.Contains(name, result.Message);
    }

    [Fact]
    public async Task Without_a_policy_the_per_entry_validator_still_applies()
    {
        using var f = await ControllerFixture.StartAsync();
        // Default: no broker validator at all, any key is accepted (the host installs the policy).
        var result = (await f.Controller.AlterConfigsAsync(
            [new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["ro.anything"] = "1" })], false))[0];
        Assert.Equal(ErrorCode.None, result.Error);
        Assert.Equal("1", f.Image.GetBrokerConfigs("")["ro.anything"]);
    }

    [Fact]
    public async Task Changes_survive_a_replay_of_the_metadata_log()
    {
        var storage = new InMemoryPartitionLog();
        using (var f = await ControllerFixture.StartAsync(storage: storage))
        {
            f.Controller.BrokerConfigPolicy = Policy;
            await f.CreateTopicAsync("t");
            var results = await f.Controller.AlterConfigsAsync(
            [
                new ConfigResourceChange(ConfigResourceType.Topic, "t", new Dictionary<string, string?> { ["retention.ms"] = "5" }),
                new ConfigResourceChange(ConfigResourceType.Broker, "", new Dictionary<string, string?> { ["log.retention.ms"] = "7" }),
            ], false);
            Assert.All(results, r => Assert.Equal(ErrorCode.None, r.Error));
        }
        var log = new Broker.Consensus.LocalReplicatedLog(storage, leaderEpoch: 1);
        using var applier = new MetadataApplier(log, "test-cluster", () => 1);
        var image = applier.Replay();
        Assert.Equal("5", image.GetTopic("t")!.Configs["retention.ms"]);
        Assert.Equal("7", image.GetBrokerConfigs("")["log.retention.ms"]);
    }
}
