using Broker.Core.Model;
using Xunit;

namespace Broker.Server.Tests.Configs;

/// <summary>The Admin API's view of cluster config (GET/PUT /v1/cluster_config) over the broker resource "".</summary>
public class DynamicConfigAdminTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Reads_list_given_and_dynamic_keys_or_everything_with_defaults()
    {
        using var f = await ConfigsFixture.StartAsync();
        var given = f.DynamicConfigAdmin.ClusterConfig(includeDefaults: false);
        Assert.Equal("100", given["log.retention.hours"]);
        Assert.Equal("1048576", given["log.segment.bytes"]);
        Assert.Equal("1", given["node.id"]);
        Assert.False(given.ContainsKey("num.partitions"));

        var all = f.DynamicConfigAdmin.ClusterConfig(includeDefaults: true);
        Assert.Equal("1", all["num.partitions"]);
        Assert.Equal("360000000", all["log.retention.ms"]);
        Assert.True(all.ContainsKey("log.flush.interval.ms"));
        Assert.Null(all["log.flush.interval.ms"]);
        Assert.False(all.ContainsKey("log.retention.hours"));   // alias rows fold into their key

        var change = await f.DynamicConfigAdmin.AlterClusterConfigAsync(
            new Dictionary<string, string> { ["num.partitions"] = "4", ["log.retention.ms"] = " 60000 " }, [], validateOnly: false, None);
        Assert.Equal((ErrorCode.None, (string?)null), (change.Error, change.Message));
        Assert.Equal(f.Image.LastAppliedOffset, change.ConfigVersion);
        given = f.DynamicConfigAdmin.ClusterConfig(includeDefaults: false);
        Assert.Equal("4", given["num.partitions"]);
        Assert.Equal("60000", given["log.retention.ms"]);   // stored trimmed
        Assert.Equal("60000", f.DynamicConfigAdmin.ClusterConfig(includeDefaults: true)["log.retention.ms"]);
    }

    [Fact]
    public async Task Writes_upsert_and_remove_in_one_step_and_refuse_bad_keys()
    {
        using var f = await ConfigsFixture.StartAsync();
        var first = await f.DynamicConfigAdmin.AlterClusterConfigAsync(new Dictionary<string, string> { ["num.partitions"] = "4" }, [], false, None);
        var second = await f.DynamicConfigAdmin.AlterClusterConfigAsync(
            new Dictionary<string, string> { ["min.insync.replicas"] = "2" }, ["num.partitions"], false, None);
        Assert.Equal(ErrorCode.None, second.Error);
        Assert.True(second.ConfigVersion > first.ConfigVersion);
        Assert.Equal(new Dictionary<string, string> { ["min.insync.replicas"] = "2" }, f.Image.GetBrokerConfigs(""));

        var readOnly = await f.DynamicConfigAdmin.AlterClusterConfigAsync(
            new Dictionary<string, string> { ["listeners"] = "PLAINTEXT://:1", ["num.partitions"] = "2" }, [], false, None);
        Assert.Equal((ErrorCode.InvalidRequest, "Cannot update these configs dynamically: listeners"), (readOnly.Error, readOnly.Message));
        var unknown = await f.DynamicConfigAdmin.AlterClusterConfigAsync(new Dictionary<string, string> { ["not.a.key"] = "1" }, [], false, None);
        Assert.Equal(ErrorCode.InvalidConfig, unknown.Error);
        Assert.Contains("not.a.key", unknown.Message);
        var removeReadOnly = await f.DynamicConfigAdmin.AlterClusterConfigAsync(new Dictionary<string, string>(), ["node.id"], false, None);
        Assert.Equal(ErrorCode.InvalidRequest, removeReadOnly.Error);
        var both = await f.DynamicConfigAdmin.AlterClusterConfigAsync(
            new Dictionary<string, string> { ["num.partitions"] = "2" }, ["num.partitions"], false, None);
        Assert.Equal(ErrorCode.InvalidRequest, both.Error);
        Assert.Equal(new Dictionary<string, string> { ["min.insync.replicas"] = "2" }, f.Image.GetBrokerConfigs(""));

        long offset = f.Image.LastAppliedOffset;
        var dryRun = await f.DynamicConfigAdmin.AlterClusterConfigAsync(new Dictionary<string, string> { ["num.partitions"] = "9" }, [], validateOnly: true, None);
        Assert.Equal((ErrorCode.None, offset), (dryRun.Error, dryRun.ConfigVersion));
        var nothing = await f.DynamicConfigAdmin.AlterClusterConfigAsync(new Dictionary<string, string>(), [], false, None);
        Assert.Equal((ErrorCode.None, offset), (nothing.Error, nothing.ConfigVersion));
        Assert.Equal(offset, f.Image.LastAppliedOffset);
    }
}
