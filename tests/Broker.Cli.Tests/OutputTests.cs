using System.Text;
using Broker.Cli.Arguments;
using Broker.Cli.Commands;
using Broker.Cli.Output;
using Broker.Client;
using Broker.Core.Model;
using Broker.Core.Records;
using Xunit;

namespace Broker.Cli.Tests;

/// <summary>Record formats, error names, tables, progress lines and the renderers of the describe/list commands.</summary>
public class OutputTests
{
    private static ConsumedRecord Record(string? key, string? value, long offset = 7, int partition = 2, long ts = 1000,
        params RecordHeader[] headers) =>
        new("orders", partition, offset, ts, key is null ? null : Encoding.UTF8.GetBytes(key),
            value is null ? null : Encoding.UTF8.GetBytes(value), headers);

    [Fact]
    public void RecordFormatFields()
    {
        var f = RecordFormat.Parse(@"%t|%p|%o|%T|%k|%v|%K|%V|%h|100%%\n");
        Assert.Equal("orders|2|7|1000|k|value|1|5|a=1,b=|100%\n",
            f.Format(Record("k", "value", headers: new[] { new RecordHeader("a", "1"u8.ToArray()), new RecordHeader("b", null) })));
        Assert.Equal("orders|2|7|1000|null|null|-1|-1||100%\n", f.Format(Record(null, null)));
    }

    [Fact]
    public void RecordFormatKeepsBytesAndEscapes()
    {
        var f = RecordFormat.Parse(@"%k\t%v\n");
        var r = new ConsumedRecord("t", 0, 0, 0, new byte[] { 0xff, 0x00 }, new byte[] { 0x80 }, Array.Empty<RecordHeader>());
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        f.Write(r, buffer);
        Assert.Equal(new byte[] { 0xff, 0x00, (byte)'\t', 0x80, (byte)'\n' }, buffer.WrittenSpan.ToArray());
        Assert.Equal(@"\%v", RecordFormat.Parse(@"\\%%v").Format(Record("k", "v")));
    }

    [Fact]
    public void RecordFormatFromFlags()
    {
        Assert.Equal(@"%v\n", RecordFormat.FromFlags(false, false, false));
        Assert.Equal(@"%p:%o\t%T\t%k\t%v\n", RecordFormat.FromFlags(true, true, true));
        Assert.Equal("2:7\tk\tv\n", RecordFormat.Parse(RecordFormat.FromFlags(true, false, true)).Format(Record("k", "v")));
    }

    [Theory]
    [InlineData("%")]
    [InlineData("%z")]
    [InlineData("abc %")]
    public void RecordFormatErrors(string format) =>
        Assert.StartsWith("--format:", Assert.Throws<UsageException>(() => RecordFormat.Parse(format)).Message);

    [Theory]
    [InlineData(ErrorCode.TopicAlreadyExists, "TOPIC_ALREADY_EXISTS")]
    [InlineData(ErrorCode.UnknownTopicOrPartition, "UNKNOWN_TOPIC_OR_PARTITION")]
    [InlineData(ErrorCode.NotLeaderOrFollower, "NOT_LEADER_OR_FOLLOWER")]
    [InlineData(ErrorCode.InvalidTopicException, "INVALID_TOPIC_EXCEPTION")]
    [InlineData(ErrorCode.UnknownServerError, "UNKNOWN_SERVER_ERROR")]
    [InlineData(ErrorCode.None, "NONE")]
    [InlineData((ErrorCode)999, "ERROR_999")]
    public void ErrorNames(ErrorCode code, string name) => Assert.Equal(name, Formats.ErrorName(code));

    [Fact]
    public void ErrorLines()
    {
        Assert.Equal("error: TOPIC_ALREADY_EXISTS: Topic 'x' already exists.",
            Formats.ErrorLine(ErrorCode.TopicAlreadyExists, "Topic 'x' already exists."));
        Assert.Equal("error: TOPIC_ALREADY_EXISTS: fallback", Formats.ErrorLine(ErrorCode.TopicAlreadyExists, " ", "fallback"));
        Assert.Equal("error: TOPIC_ALREADY_EXISTS: The topic already exists.", Formats.ErrorLine(ErrorCode.TopicAlreadyExists, null));
        Assert.Equal("error: FEATURE_UPDATE_FAILED", Formats.ErrorLine(ErrorCode.FeatureUpdateFailed, null));
    }

    [Fact]
    public void TablesAlignWithoutTrailingBlanks()
    {
        var t = new TextTable("NAME", "PARTITIONS", "X");
        t.Add("orders", "12", "");
        t.Add("a", "1", "y");
        Assert.Equal("NAME    PARTITIONS  X\norders  12\na       1           y\n", t.Render());
        Assert.Throws<ArgumentException>(() => t.Add("only-one"));
    }

    [Fact]
    public void ProgressLineAndInterval()
    {
        Assert.Equal("produce: 120000 records, 11.40 MB in 4.00 s (last 2.00 s: 30000 records/s, 2.85 MB/s)",
            ProgressMeter.FormatLine("produce", 120_000, 11_400_000, TimeSpan.FromSeconds(4), 60_000, 5_700_000, TimeSpan.FromSeconds(2)));

        var now = TimeSpan.Zero;
        var err = new StringWriter();
        var meter = new ProgressMeter(err, "consume", enabled: true, TimeSpan.FromSeconds(2), () => now);
        meter.Add(10, 100);
        Assert.Equal(0, meter.Reports);
        now = TimeSpan.FromSeconds(2.5);
        meter.Add(10, 100);
        Assert.Equal(1, meter.Reports);
        Assert.StartsWith("consume: 20 records, 0.00 MB in 2.50 s", err.ToString());
        now = TimeSpan.FromSeconds(3);
        meter.Tick();
        Assert.Equal(1, meter.Reports);

        var quiet = new StringWriter();
        var off = new ProgressMeter(quiet, "produce", enabled: false, TimeSpan.FromSeconds(2), () => now);
        now = TimeSpan.FromSeconds(100);
        off.Add(5, 5);
        Assert.Equal("", quiet.ToString());
        Assert.Equal(5, off.Records);
    }

    private static TopicInfo Topic(string name, bool isInternal, int partitions, int replicas, int leaderOffset = 1) =>
        new(name, Guid.Empty, ErrorCode.None, isInternal,
            Enumerable.Range(0, partitions).Select(p => new PartitionInfo(p, ErrorCode.None, (p + leaderOffset) % 3 + 1, 4,
                Enumerable.Range(1, replicas).ToArray(), Enumerable.Range(1, replicas).ToArray())).ToList());

    [Fact]
    public void TopicListSortsAndHidesInternal()
    {
        var topics = new[] { Topic("zeta", false, 3, 3), Topic("__consumer_offsets", true, 50, 3), Topic("alpha", false, 1, 1) };
        Assert.Equal("NAME   PARTITIONS  REPLICAS\nalpha  1           1\nzeta   3           3\n", TopicCommands.RenderList(topics, false));
        Assert.StartsWith("NAME                PARTITIONS  REPLICAS\n__consumer_offsets  50", TopicCommands.RenderList(topics, true));
        Assert.Equal("NAME  PARTITIONS  REPLICAS\n", TopicCommands.RenderList(Array.Empty<TopicInfo>(), false));
    }

    [Fact]
    public void TopicDescribeSections()
    {
        var topic = new TopicInfo("orders", Guid.Empty, ErrorCode.None, false, new[]
        {
            new PartitionInfo(1, ErrorCode.None, -1, -1, new[] { 2, 3 }, new[] { 3 }),
            new PartitionInfo(0, ErrorCode.None, 1, 5, new[] { 1, 2 }, new[] { 1, 2 }),
        });
        var configs = new[]
        {
            new ConfigEntry("retention.ms", "1000", false, false, false, "DYNAMIC_TOPIC_CONFIG"),
            new ConfigEntry("cleanup.policy", "delete", false, true, false, "DEFAULT_CONFIG"),
            new ConfigEntry("secret", "x", false, false, true, "DYNAMIC_TOPIC_CONFIG"),
        };
        // Offsets in metadata order (partition 1 failed, partition 0 known).
        var offsets = new TopicDescribeCommand.PartitionOffsets?[] { null, new(3, 10) };
        string text = TopicDescribeCommand.Render(topic, new TopicDescribeCommand.Sections(true, true, true), configs, offsets);
        Assert.Equal(
            "NAME        orders\n" +
            "TOPIC-ID    -\n" +
            "INTERNAL    false\n" +
            "PARTITIONS  2\n" +
            "REPLICAS    2\n" +
            "\n" +
            "CONFIGS\n" +
            "KEY             VALUE        SOURCE\n" +
            "cleanup.policy  delete       DEFAULT_CONFIG\n" +
            "retention.ms    1000         DYNAMIC_TOPIC_CONFIG\n" +
            "secret          (sensitive)  DYNAMIC_TOPIC_CONFIG\n" +
            "\n" +
            "PARTITIONS\n" +
            "PARTITION  LEADER  EPOCH  REPLICAS  ISR    EARLIEST  LATEST\n" +
            "0          1       5      [1,2]     [1,2]  3         10\n" +
            "1          -       -      [2,3]     [3]    -         -\n", text);

        string onlyPartitions = TopicDescribeCommand.Render(topic, new TopicDescribeCommand.Sections(false, false, true), null, offsets);
        Assert.StartsWith("PARTITIONS\nPARTITION", onlyPartitions);
    }

    [Fact]
    public void GroupDescription()
    {
        var d = new GroupDescription("billing", ErrorCode.None, "Stable", "consumer", "range", new[]
        {
            new GroupMemberDescription("m-2", null, "cli", "/127.0.0.1", new[] { new TopicPartition("t", 1) }),
            new GroupMemberDescription("m-1", "static-1", "cli", "/127.0.0.1",
                new[] { new TopicPartition("t", 2), new TopicPartition("t", 0), new TopicPartition("a", 5) }),
        });
        var rows = new[]
        {
            new GroupCommands.PartitionLag("t", 0, 10, 15, "m-1"),
            new GroupCommands.PartitionLag("t", 1, -1, 4, "m-2"),
            new GroupCommands.PartitionLag("t", 2, 3, 3, null),
        };
        string text = GroupCommands.RenderDescription(d, 2, rows);
        Assert.Equal(
            "GROUP          billing\n" +
            "COORDINATOR    2\n" +
            "STATE          Stable\n" +
            "PROTOCOL-TYPE  consumer\n" +
            "PROTOCOL       range\n" +
            "MEMBERS        2\n" +
            "TOTAL-LAG      5\n" +
            "\n" +
            "MEMBER-ID  INSTANCE-ID  CLIENT-ID  HOST        ASSIGNMENT\n" +
            "m-1        static-1     cli        /127.0.0.1  a:5 t:0,2\n" +
            "m-2        -            cli        /127.0.0.1  t:1\n" +
            "\n" +
            "TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  MEMBER-ID\n" +
            "t      0          10              15              5    m-1\n" +
            "t      1          -               4               -    m-2\n" +
            "t      2          3               3               0    -\n", text);

        var empty = new GroupDescription("g", ErrorCode.None, "Empty", "consumer", "", Array.Empty<GroupMemberDescription>());
        Assert.Equal("GROUP          g\nCOORDINATOR    -\nSTATE          Empty\nPROTOCOL-TYPE  consumer\nPROTOCOL       -\nMEMBERS        0\nTOTAL-LAG      -\n",
            GroupCommands.RenderDescription(empty, -1, Array.Empty<GroupCommands.PartitionLag>()));
    }

    [Fact]
    public void GroupList() =>
        Assert.Equal("GROUP  STATE   PROTOCOL-TYPE\na      Empty   consumer\nb      Stable  -\n",
            GroupCommands.RenderList(new[] { new GroupListing("b", "", "Stable"), new GroupListing("a", "consumer", "Empty") }));

    [Fact]
    public void ClusterInfo()
    {
        var md = new ClusterInfo("abc", 2, new[] { new BrokerInfo(3, "h3", 9092, null), new BrokerInfo(2, "h2", 9092, "r1") },
            new[] { Topic("a", false, 3, 2), Topic("__consumer_offsets", true, 50, 2) });
        Assert.Equal(
            "CLUSTER-ID       abc\n" +
            "CONTROLLER       2\n" +
            "BROKERS          2\n" +
            "TOPICS           1\n" +
            "INTERNAL-TOPICS  1\n" +
            "PARTITIONS       53\n" +
            "\n" +
            "ID  HOST  PORT  RACK\n" +
            "2*  h2    9092  r1\n" +
            "3   h3    9092  -\n", ClusterCommands.RenderInfo(md));
    }
}
