using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Protocol.Tests;

/// <summary>Populated messages survive encode → decode → encode at every version their definition covers.</summary>
public class RoundTripTests
{
    private static IEnumerable<short> Versions(short lo, short hi)
    {
        for (short v = lo; v <= hi; v++) yield return v;
    }

    [Fact]
    public void ProduceRequestAllVersions()
    {
        var records = new byte[] { 1, 2, 3, 4, 5 };
        foreach (var v in Versions(ProduceRequest.LowestVersion, ProduceRequest.HighestVersion))
        {
            var request = new ProduceRequest
            {
                TransactionalId = null,
                Acks = -1,
                TimeoutMs = 30000,
                TopicData =
                [
                    new ProduceRequest.TopicProduceData
                    {
                        Name = "t",
                        PartitionData = [new ProduceRequest.PartitionProduceData { Index = 3, Records = records }],
                    },
                ],
            };
            var back = Codec.RoundTrip(request, v, ProduceRequest.Read);
            Assert.Equal(-1, back.Acks);
            var partition = Assert.Single(Assert.Single(back.TopicData).PartitionData);
            Assert.Equal(3, partition.Index);
            Assert.Equal(records, partition.Records!.Value.ToArray());
        }
    }

    [Fact]
    public void FetchResponseAllVersions()
    {
        var records = Enumerable.Range(0, 2000).Select(i => (byte)i).ToArray();
        foreach (var v in Versions(FetchResponse.LowestVersion, FetchResponse.HighestVersion))
        {
            var response = new FetchResponse
            {
                ThrottleTimeMs = 1,
                Responses =
                [
                    new FetchResponse.FetchableTopicResponse
                    {
                        Topic = "topic",
                        Partitions =
                        [
                            new FetchResponse.PartitionData
                            {
                                PartitionIndex = 0, HighWatermark = 10, LastStableOffset = 10, LogStartOffset = 0,
                                AbortedTransactions = [], PreferredReadReplica = -1, Records = records,
                            },
                        ],
                    },
                ],
            };
            var back = Codec.RoundTrip(response, v, FetchResponse.Read);
            var p = Assert.Single(Assert.Single(back.Responses).Partitions);
            Assert.Equal(10, p.HighWatermark);
            Assert.Equal(records, p.Records!.Value.ToArray());
        }
    }

    [Fact]
    public void MetadataResponseAllVersions()
    {
        foreach (var v in Versions(MetadataResponse.LowestVersion, MetadataResponse.HighestVersion))
        {
            var response = new MetadataResponse
            {
                Brokers = [new MetadataResponse.MetadataResponseBroker { NodeId = 1, Host = "localhost", Port = 9092, Rack = null }],
                ClusterId = "abc",
                ControllerId = 1,
                Topics =
                [
                    new MetadataResponse.MetadataResponseTopic
                    {
                        Name = "t", TopicId = Guid.NewGuid(),
                        Partitions =
                        [
                            new MetadataResponse.MetadataResponsePartition
                            {
                                PartitionIndex = 0, LeaderId = 1, LeaderEpoch = 0, ReplicaNodes = [1], IsrNodes = [1], OfflineReplicas = [],
                            },
                        ],
                    },
                ],
            };
            var back = Codec.RoundTrip(response, v, MetadataResponse.Read);
            Assert.Equal("localhost", Assert.Single(back.Brokers).Host);
            Assert.Equal([1], Assert.Single(Assert.Single(back.Topics).Partitions).IsrNodes);
        }
    }

    [Fact]
    public void ListOffsetsAndCreateTopicsAllVersions()
    {
        foreach (var v in Versions(ListOffsetsRequest.LowestVersion, ListOffsetsRequest.HighestVersion))
        {
            var request = new ListOffsetsRequest
            {
                ReplicaId = -1,
                Topics = [new ListOffsetsRequest.ListOffsetsTopic { Name = "t", Partitions = [new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = 2, Timestamp = -2 }] }],
            };
            var back = Codec.RoundTrip(request, v, ListOffsetsRequest.Read);
            Assert.Equal(-2, Assert.Single(Assert.Single(back.Topics).Partitions).Timestamp);
        }
        foreach (var v in Versions(CreateTopicsRequest.LowestVersion, CreateTopicsRequest.HighestVersion))
        {
            var request = new CreateTopicsRequest
            {
                TimeoutMs = 5000,
                Topics =
                [
                    new CreateTopicsRequest.CreatableTopic
                    {
                        Name = "t", NumPartitions = 3, ReplicationFactor = 1,
                        Configs = [new CreateTopicsRequest.CreatableTopicConfig { Name = "retention.ms", Value = "1000" }],
                    },
                ],
            };
            var back = Codec.RoundTrip(request, v, CreateTopicsRequest.Read);
            Assert.Equal("1000", Assert.Single(Assert.Single(back.Topics).Configs).Value);
        }
    }
}
