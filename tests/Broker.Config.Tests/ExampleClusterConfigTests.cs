using System.Runtime.CompilerServices;
using Broker.Config;
using Xunit;

namespace Broker.Config.Tests;

/// <summary>
/// The three-node example the README tells users to copy (docs/examples/three-node/node{1,2,3}.properties): each
/// file loads without warnings, and together they describe one cluster (same voters, distinct ids, each node's
/// controller listener is the address the voters line gives for it, brokers advertise distinct addresses).
/// </summary>
public class ExampleClusterConfigTests
{
    private static string ExampleDir([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "docs", "examples", "three-node"));

    [Fact]
    public void Three_node_example_files_form_one_consistent_cluster()
    {
        var configs = new List<BrokerConfig>();
        for (int i = 1; i <= 3; i++)
        {
            var (config, warnings) = BrokerConfig.Load(Path.Combine(ExampleDir(), $"node{i}.properties"));
            Assert.Empty(warnings);
            Assert.Equal(i, config.NodeId);
            Assert.Equal(ProcessRoles.Combined, config.Roles);
            Assert.Equal(3, config.DefaultReplicationFactor);
            Assert.Equal(2, config.MinInsyncReplicas);
            configs.Add(config);
        }

        string voters = string.Join(",", configs[0].QuorumVoters);
        var advertised = new HashSet<string>();
        foreach (var config in configs)
        {
            Assert.Equal(voters, string.Join(",", config.QuorumVoters));
            var self = Assert.Single(config.QuorumVoters, v => v.Id == config.NodeId);
            var controller = Assert.Single(config.ControllerListeners);
            Assert.Equal((self.Host, self.Port), (controller.Host, controller.Port));
            Assert.True(advertised.Add(Assert.Single(config.AdvertisedListeners).ToString()));
        }
    }
}
