using Broker.Integration.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Groups;

/// <summary>
/// Committed offsets survive kill -9 of the broker: a confluent-kafka member consumes part of a topic, commits what
/// it processed and leaves; the broker is SIGKILLed and restarted; the committed offsets read back unchanged and a
/// new kafka-python member of the same group starts exactly at them (nothing committed is delivered again, nothing
/// after is skipped). A second round does the same with a kafkajs member after another kill -9.
/// </summary>
public sealed class GroupClientOffsetsTests : IntegrationTest
{
    private const int Partitions = 4;

    public GroupClientOffsetsTests(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void CommittedOffsets_SurviveBrokerKill9_NewMemberResumesThere()
    {
        var broker = StartBroker("group-offsets", new Dictionary<string, string>
        {
            ["offsets.topic.num.partitions"] = "4",
            ["offsets.topic.replication.factor"] = "1",
            ["group.initial.rebalance.delay.ms"] = "0",
        });
        const string topic = "offsets-restart";
        AssertScriptOk(Confluent(broker, "create-topic", "--topic", topic, "--partitions", Partitions.ToString()), broker, "create topic");
        using var s = new GroupClientSession(Output, ScratchDir, broker.Bootstrap, "restart-group", topic);
        string ackedFile = Scratch("acked.txt");
        var produced = s.Produce(ackedFile, 400, firstId: 0);

        // Round 1: a member processes 150 messages, commits exactly those, leaves.
        var (first, firstRun) = s.RunMember(GroupClientKind.Confluent, "first-confluent", "--max-messages", "150");
        GroupClientSession.AssertOk(firstRun, "first member (confluent, 150 messages)");
        Assert.Equal(150, first.Messages.Count);
        var committedByFirst = first.MaxCommitted();
        Assert.Equal(150L, committedByFirst.Values.Sum()); // contiguous from offset 0 in every partition it read
        var before = s.Committed(" before the kill");
        AssertSameOffsets(committedByFirst, before, "OffsetFetch before the kill vs the member's acknowledged commits");

        broker.Kill();
        broker.Restart();
        var after = s.Committed(" after kill -9 and restart");
        AssertSameOffsets(committedByFirst, after, "OffsetFetch after kill -9 + restart vs before");

        // A new member of the same group (another client) starts at the committed offsets.
        var (second, secondRun) = s.RunMember(GroupClientKind.KafkaPython, "second-kafka-python", "--idle-exit", "4");
        GroupClientSession.AssertOk(secondRun, "second member (kafka-python)");
        AssertResumedAt(second, after, produced, "kafka-python after the restart");
        Assert.Equal(250, second.Messages.Count);

        // Round 2: more data, another kill -9, a kafkajs member resumes after the kafka-python member's commits.
        var committedBySecond = Merge(after, second.MaxCommitted());
        var more = s.Produce(ackedFile, 100, firstId: 400, context: " (round 2)");
        broker.Kill();
        broker.Restart();
        AssertSameOffsets(committedBySecond, s.Committed(" after the second kill -9"), "OffsetFetch after the second kill -9");
        var third = s.StartMember(GroupClientKind.KafkaJs, "third-kafkajs");
        s.WaitUntil("kafkajs consumed the 100 new messages", () =>
        {
            int n = third.Read().Messages.Count;
            return n >= 100 ? null : $"{n} of 100 consumed";
        }, TimeSpan.FromSeconds(45), broker.DescribeState);
        Thread.Sleep(1500); // anything re-delivered would arrive now
        s.Stop(third);
        var thirdLog = third.Read();
        AssertResumedAt(thirdLog, committedBySecond, produced.Concat(more).ToList(), "kafkajs after the second restart");
        Assert.Equal(100, thirdLog.Messages.Count);
        Output.WriteLine($"committed after round 1: {Show(after)}; after round 2: {Show(committedBySecond)}");
    }

    private static Dictionary<int, long> Merge(Dictionary<int, long> a, Dictionary<int, long> b)
    {
        var r = new Dictionary<int, long>(a);
        foreach (var (p, o) in b) r[p] = o;
        return r;
    }

    private static string Show(IReadOnlyDictionary<int, long> offsets) =>
        string.Join(' ', offsets.OrderBy(kv => kv.Key).Select(kv => $"p{kv.Key}={kv.Value}"));

    /// <summary>Partitions the member committed must read back equal; others must have no commit (negative).</summary>
    private static void AssertSameOffsets(IReadOnlyDictionary<int, long> expected, IReadOnlyDictionary<int, long> actual, string what)
    {
        for (int p = 0; p < Partitions; p++)
        {
            long want = expected.TryGetValue(p, out long e) ? e : -1;
            long got = actual.TryGetValue(p, out long a) ? a : -1;
            Assert.True(want < 0 ? got < 0 : got == want, $"{what}: partition {p} committed {got}, expected {(want < 0 ? "none" : want)} " +
                                                         $"(expected {Show(expected)}, got {Show(actual)})");
        }
    }

    /// <summary>The member read, per partition, exactly the offsets from the committed one (0 when none) to the end:
    /// no committed message again, none skipped.</summary>
    private static void AssertResumedAt(GroupMemberLog member, IReadOnlyDictionary<int, long> committed,
        IReadOnlyList<ProducedMessage> produced, string what)
    {
        foreach (var part in produced.GroupBy(m => m.Partition))
        {
            int p = part.Key;
            long start = committed.TryGetValue(p, out long c) && c >= 0 ? c : 0;
            var expected = part.Where(m => m.Offset >= start).Select(m => m.Offset).Order().ToList();
            var got = member.Messages.Where(m => m.Partition == p).Select(m => m.Offset).ToList();
            Assert.True(expected.SequenceEqual(got),
                $"{what}: partition {p} should be read from committed offset {start}: expected offsets " +
                $"[{Brief(expected)}], got [{Brief(got)}]\n{member}");
        }
    }

    private static string Brief(List<long> offsets) =>
        offsets.Count <= 12 ? string.Join(',', offsets) : $"{string.Join(',', offsets.Take(6))},...,{string.Join(',', offsets.TakeLast(3))} ({offsets.Count})";
}
