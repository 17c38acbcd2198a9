using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Tools;

/// <summary><c>broker consume --group</c> commits what it printed; <c>broker group list|describe|delete</c> show it.</summary>
public sealed class ToolGroupTests : ToolTest
{
    public ToolGroupTests(ITestOutputHelper output) : base(output) { }

    private static readonly Regex s_offsetRow = new(@"^(?<topic>\S+)\s+(?<p>\d+)\s+(?<cur>\S+)\s+(?<end>\S+)\s+(?<lag>\S+)\s+\S+$");

    [Fact]
    public void GroupConsumeCommits_DescribeShowsOffsetsAndLag_Delete()
    {
        var broker = StartToolBroker("tool-group");
        AssertOk(Tool(broker, "topic", "create", "work", "-p", "2"), broker, "topic create");
        // Five records per partition, so printing six commits offsets in both partitions.
        for (int p = 0; p < 2; p++)
        {
            string input = string.Concat(Enumerable.Range(p * 5, 5).Select(i => $"k{i}:job-{i}\n"));
            AssertOk(ToolIn(broker, input, "produce", "work", "--key-separator", ":", "--partition", p.ToString()), broker, $"produce 5 to partition {p}");
        }

        var first = Tool(broker, "consume", "work", "--group", "workers", "--from-beginning", "--count", "6", "--timeout-ms", "20000");
        AssertOk(first, broker, "group consume of 6");
        Assert.Equal(6, first.Lines().Length);

        var r = Tool(broker, "group", "list");
        AssertOk(r, broker, "group list");
        Assert.Matches(new Regex(@"^GROUP\s+STATE\s+PROTOCOL-TYPE\n"), r.Stdout);
        Assert.Contains(r.Lines(), l => Regex.IsMatch(l, @"^workers\s+\S+\s+consumer$"));

        r = Tool(broker, "group", "describe", "workers");
        AssertOk(r, broker, "group describe");
        Assert.Equal("workers", r.Field("GROUP"));
        Assert.Equal("1", r.Field("COORDINATOR"));
        Assert.Equal("0", r.Field("MEMBERS"));
        Assert.Equal("4", r.Field("TOTAL-LAG"));
        var rows = r.Lines().Select(l => s_offsetRow.Match(l)).Where(m => m.Success && m.Groups["topic"].Value == "work").ToList();
        Assert.True(rows.Count == 2, "expected a row per partition\n" + r.Stdout);
        Assert.Equal(6, rows.Sum(m => long.Parse(m.Groups["cur"].Value)));
        Assert.Equal(10, rows.Sum(m => long.Parse(m.Groups["end"].Value)));
        Assert.Equal(4, rows.Sum(m => long.Parse(m.Groups["lag"].Value)));

        // The same group resumes after what was printed: the other 4, no duplicates.
        var second = Tool(broker, "consume", "work", "--group", "workers", "--from-beginning", "--count", "4", "--timeout-ms", "20000");
        AssertOk(second, broker, "group consume of the rest");
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"job-{i}").OrderBy(v => v),
            first.Lines().Concat(second.Lines()).OrderBy(v => v));
        r = Tool(broker, "group", "describe", "workers");
        AssertOk(r, broker, "group describe after the rest");
        Assert.Equal("0", r.Field("TOTAL-LAG"));

        // Nothing left: an idle member ends after the timeout, commits nothing new.
        r = Tool(broker, "consume", "work", "--group", "workers", "--timeout-ms", "1500");
        AssertOk(r, broker, "idle group consume");
        Assert.Equal("", r.Stdout);

        // While a member is active: describe shows it and its assignment; the group cannot be deleted.
        var member = Task.Run(() => ToolRunner.Run(
            new[] { "consume", "work", "--group", "workers", "--timeout-ms", "5000", "-b", broker.Bootstrap }, null, ToolTimeout));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            Thread.Sleep(300);
            r = ToolRunner.Run(new[] { "group", "describe", "workers", "-b", broker.Bootstrap }, null, ToolTimeout);
        }
        while (r.Field("MEMBERS") != "1" && sw.Elapsed < TimeSpan.FromSeconds(10) && !member.IsCompleted);
        Log(r);
        Assert.True(r.Field("MEMBERS") == "1", "the active member is not shown\n" + r.Describe());
        Assert.Matches(new Regex(@"(?m)^MEMBER-ID\s+INSTANCE-ID\s+CLIENT-ID\s+HOST\s+ASSIGNMENT$"), r.Stdout);
        Assert.Matches(new Regex(@"(?m)^\S+\s+-\s+broker-cli\s+\S+\s+work:0,1$"), r.Stdout);
        r = Tool(broker, "group", "delete", "workers");
        AssertExit(1, r, broker, "deleting a group with a member");
        Assert.StartsWith("error: NON_EMPTY_GROUP: ", r.Stderr);
        AssertOk(Log(member.Result), broker, "the member");

        r = Tool(broker, "group", "delete", "workers");
        AssertOk(r, broker, "group delete");
        Assert.Equal("deleted group workers\n", r.Stdout);

        r = Tool(broker, "group", "describe", "workers");
        AssertExit(1, r, broker, "describing a deleted group");
        Assert.StartsWith("error: GROUP_ID_NOT_FOUND: ", r.Stderr);

        r = Tool(broker, "group", "delete", "workers");
        AssertExit(1, r, broker, "deleting a deleted group");
        Assert.StartsWith("error: GROUP_ID_NOT_FOUND: ", r.Stderr);
    }
}
