using System.Text;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Tools;

/// <summary><c>broker produce</c> and <c>broker consume</c> (from the beginning, an offset, a timestamp) against a real broker.</summary>
public sealed class ToolProduceConsumeTests : ToolTest
{
    public ToolProduceConsumeTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void ProduceStdinWithKeys_ConsumeFromBeginning()
    {
        var broker = StartToolBroker("tool-produce");
        AssertOk(Tool(broker, "topic", "create", "events", "-p", "3"), broker, "topic create");

        var input = new StringBuilder();
        for (int i = 0; i < 30; i++) input.Append($"key-{i % 5}\tvalue-{i}\n");
        var r = ToolIn(broker, input.ToString(), "produce", "events", "--key-separator", @"\t");
        AssertOk(r, broker, "produce from stdin");
        Assert.Matches(new Regex(@"^produced 30 records \(\d+ bytes\) to events in \d+\.\d\d s \(\d+ records/s, \d+\.\d\d MB/s\)\n$"), r.Stdout);

        r = Tool(broker, "consume", "events", "--from-beginning", "--count", "30", "--timeout-ms", "10000", "--format", @"%p %o %k %v\n");
        AssertOk(r, broker, "consume --from-beginning --count 30");
        Assert.Equal("consumed 30 records\n", r.Stderr);
        var lines = r.Lines();
        Assert.Equal(30, lines.Length);
        var parsed = lines.Select(l => l.Split(' ')).Select(p => (Partition: int.Parse(p[0]), Offset: long.Parse(p[1]), Key: p[2], Value: p[3])).ToList();
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"value-{i}").OrderBy(v => v), parsed.Select(p => p.Value).OrderBy(v => v));
        foreach (var group in parsed.GroupBy(p => p.Key))
        {
            // One key, one partition; within it the input order.
            Assert.Single(group.Select(p => p.Partition).Distinct());
            var values = group.OrderBy(p => p.Offset).Select(p => int.Parse(p.Value["value-".Length..])).ToList();
            Assert.Equal(values.OrderBy(v => v), values);
            Assert.All(values, v => Assert.Equal(group.Key, $"key-{v % 5}"));
        }

        // --partition and --offset: partition 0 from offset 1.
        int p0 = parsed.Count(p => p.Partition == 0);
        if (p0 >= 2)
        {
            r = Tool(broker, "consume", "events", "-p", "0", "--offset", "1", "--timeout-ms", "2000", "--print-offset");
            AssertOk(r, broker, "consume -p 0 --offset 1");
            Assert.Equal(p0 - 1, r.Lines().Length);
            Assert.StartsWith("0:1\t", r.Lines()[0]);
        }

        // Default start is the end: nothing old is printed; the idle timeout ends the run.
        r = Tool(broker, "consume", "events", "--timeout-ms", "1500");
        AssertOk(r, broker, "consume from the end");
        Assert.Equal("", r.Stdout);
        Assert.Equal("consumed 0 records\n", r.Stderr);
    }

    [Fact]
    public void ProduceSynthetic_FileAndHeaders_Compressed()
    {
        var broker = StartToolBroker("tool-synth");
        AssertOk(Tool(broker, "topic", "create", "bench", "-p", "2"), broker, "topic create");
        var r = Tool(broker, "produce", "bench", "--count", "5000", "--size", "200", "--compression", "gzip", "--acks", "1");
        AssertOk(r, broker, "synthetic produce");
        Assert.StartsWith("produced 5000 records (1000000 bytes) to bench in ", r.Stdout);

        string file = Scratch("lines.txt");
        File.WriteAllText(file, "one\ntwo\nthree\n");
        AssertOk(Tool(broker, "produce", "bench", "--file", file, "--partition", "1", "-H", "source=file", "-q"), broker, "produce --file");

        r = Tool(broker, "consume", "bench", "-p", "1", "--from-beginning", "--timeout-ms", "3000", "--format", @"%V %h %v\n", "-q");
        AssertOk(r, broker, "consume partition 1");
        Assert.Equal("", r.Stderr);
        var lines = r.Lines();
        Assert.Equal(new[] { "3 source=file one", "3 source=file two", "5 source=file three" }, lines[^3..]);
        int synthetic = lines.Length - 3;
        Assert.All(lines[..synthetic], l => Assert.Matches(new Regex(@"^200  \d+\.+$"), l));

        r = Tool(broker, "consume", "bench", "--from-beginning", "--count", "5003", "--timeout-ms", "10000", "--format", "%o\n");
        AssertOk(r, broker, "consume all");
        Assert.Equal(5003, r.Lines().Length);
    }

    [Fact]
    public void ConsumeByTimestamp()
    {
        var broker = StartToolBroker("tool-timestamp");
        AssertOk(Tool(broker, "topic", "create", "ts", "-p", "2"), broker, "topic create");
        AssertOk(ToolIn(broker, "old-1\nold-2\nold-3\n", "produce", "ts"), broker, "produce old records");
        Thread.Sleep(100);
        long boundary = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Thread.Sleep(100);
        AssertOk(ToolIn(broker, "new-1\nnew-2\n", "produce", "ts"), broker, "produce new records");

        var r = Tool(broker, "consume", "ts", "--timestamp", boundary.ToString(), "--timeout-ms", "2000");
        AssertOk(r, broker, "consume --timestamp MS");
        Assert.Equal(new[] { "new-1", "new-2" }, r.Lines().OrderBy(l => l));

        string iso = DateTimeOffset.FromUnixTimeMilliseconds(boundary).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        r = Tool(broker, "consume", "ts", "--timestamp", iso, "--timeout-ms", "2000", "--format", @"%T %v\n");
        AssertOk(r, broker, "consume --timestamp ISO-8601");
        var lines = r.Lines();
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.True(long.Parse(l.Split(' ')[0]) >= boundary, $"{l} is older than {boundary}"));

        // A time after every record: nothing.
        r = Tool(broker, "consume", "ts", "--timestamp", (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 60_000).ToString(), "--timeout-ms", "1500");
        AssertOk(r, broker, "consume --timestamp in the future");
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void SlowRuns_PrintProgressOnStderr_NeverOnStdout()
    {
        var broker = StartToolBroker("tool-progress");
        AssertOk(Tool(broker, "topic", "create", "slow", "-p", "1"), broker, "topic create");

        // A consumer from the end waits for 30 records while a producer gets one line every 100 ms (3 s).
        var consumer = Task.Run(() => ToolRunner.Run(
            new[] { "consume", "slow", "--count", "30", "--timeout-ms", "15000", "-b", broker.Bootstrap }, null, ToolTimeout));
        Thread.Sleep(1000); // let it find the end of the (empty) partition first
        var produced = Log(ToolRunner.Run(new[] { "produce", "slow", "-b", broker.Bootstrap }, null, ToolTimeout, null, stdin =>
        {
            for (int i = 0; i < 30; i++)
            {
                stdin.Write($"line-{i}\n");
                stdin.Flush();
                Thread.Sleep(100);
            }
        }));
        AssertOk(produced, broker, "slow produce");
        Assert.StartsWith("produced 30 records ", produced.Stdout);
        Assert.Single(produced.Lines());
        Assert.Matches(new Regex(@"(?m)^produce: \d+ records, \d+\.\d\d MB in \d+\.\d\d s \(last \d+\.\d\d s: \d+ records/s, \d+\.\d\d MB/s\)$"), produced.Stderr);

        var consumed = Log(consumer.Result);
        AssertOk(consumed, broker, "consume while producing");
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"line-{i}"), consumed.Lines());
        Assert.Matches(new Regex(@"(?m)^consume: \d+ records, "), consumed.Stderr);
        Assert.EndsWith("consumed 30 records\n", consumed.Stderr);
    }
}
