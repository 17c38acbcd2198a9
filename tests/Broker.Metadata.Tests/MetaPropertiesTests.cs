namespace Broker.Metadata.Tests;

public sealed class MetaPropertiesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "meta-props-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Created_once_then_reloaded()
    {
        var created = MetaProperties.LoadOrCreate(_dir, nodeId: 3);
        Assert.Equal(1, created.Version);
        Assert.Equal(3, created.NodeId);
        Assert.Matches("^[A-Za-z0-9_][A-Za-z0-9_-]{21}$", created.ClusterId);
        Assert.True(TopicIds.TryParseKafkaString(created.ClusterId, out _));

        var text = File.ReadAllText(Path.Combine(_dir, MetaProperties.FileName));
        Assert.Contains("version=1\n", text);
        Assert.Contains($"cluster.id={created.ClusterId}\n", text);
        Assert.Contains("node.id=3\n", text);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));

        Assert.Equal(created, MetaProperties.LoadOrCreate(_dir, nodeId: 3));
        Assert.Equal(created, MetaProperties.LoadOrCreate(_dir, nodeId: 3, clusterId: created.ClusterId));
    }

    [Fact]
    public void Node_id_or_cluster_id_mismatch_is_refused()
    {
        MetaProperties.LoadOrCreate(_dir, nodeId: 1, clusterId: "MkU3OEVBNTcwNTJENDM2Qg");
        var ex = Assert.Throws<InvalidDataException>(() => MetaProperties.LoadOrCreate(_dir, nodeId: 2));
        Assert.Contains("node.id=1", ex.Message);
        Assert.Contains("node.id=2", ex.Message);
        Assert.Throws<InvalidDataException>(() => MetaProperties.LoadOrCreate(_dir, nodeId: 1, clusterId: "other"));
    }

    [Theory]
    [InlineData("version=1\nnode.id=1\n", "cluster.id is missing")]
    [InlineData("version=1\ncluster.id=abc\n", "node.id is missing")]
    [InlineData("version=1\ncluster.id=abc\nnode.id=x\n", "not an integer")]
    [InlineData("version=7\ncluster.id=abc\nnode.id=1\n", "unsupported version")]
    [InlineData("garbage\n", "malformed line")]
    public void Malformed_files_give_clear_errors(string content, string expected)
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, MetaProperties.FileName), content);
        var ex = Assert.Throws<InvalidDataException>(() => MetaProperties.LoadOrCreate(_dir, 1));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Kafka_written_file_with_comments_is_read()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, MetaProperties.FileName),
            "#\n#Tue Oct 01 12:00:00 UTC 2024\nnode.id=1\ndirectory.id=abc\nversion=1\ncluster.id=q1Sh-9_ISia_zwGINzRvyQ\n");
        var props = MetaProperties.LoadOrCreate(_dir, 1);
        Assert.Equal("q1Sh-9_ISia_zwGINzRvyQ", props.ClusterId);
    }
}
