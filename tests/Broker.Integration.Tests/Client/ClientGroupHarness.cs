using System.Diagnostics;
using System.Text;
using Broker.Client;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Integration.Tests.Client;

/// <summary>
/// One <see cref="GroupConsumer"/> polling in the background (200 ms polls, as an application loop would) and
/// recording every record it receives; a poll failure stops the loop and is reported by <see cref="Problem"/>.
/// </summary>
public sealed class ClientGroupMember : IAsyncDisposable
{
    private readonly List<ConsumedRecord> _records = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private Exception? _error;
    private bool _disposed;

    private ClientGroupMember(string name, GroupConsumer consumer)
    {
        Name = name;
        Consumer = consumer;
    }

    public string Name { get; }
    public GroupConsumer Consumer { get; }

    public static async Task<ClientGroupMember> StartAsync(string name, KafkaClient client, GroupConsumerOptions options, string topic)
    {
        var member = new ClientGroupMember(name, new GroupConsumer(client, options));
        await member.Consumer.SubscribeAsync(new[] { topic });
        member._loop = Task.Run(member.LoopAsync);
        return member;
    }

    public List<ConsumedRecord> Records
    {
        get { lock (_records) return new List<ConsumedRecord>(_records); }
    }

    public int[] AssignedPartitions => Consumer.Assignment.Select(tp => tp.Partition).Order().ToArray();

    /// <summary>The poll loop's failure, if any.</summary>
    public string? Problem => _error is null ? null : $"{Name}: poll failed: {_error}";

    private async Task LoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var records = await Consumer.PollAsync(TimeSpan.FromMilliseconds(200), cancellationToken: _stop.Token);
                if (records.Count == 0) continue;
                lock (_records) _records.AddRange(records);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _error = ex;
        }
    }

    /// <summary>Stops polling (the member stays in the group until its session times out or it is disposed).</summary>
    public async Task StopPollingAsync()
    {
        _stop.Cancel();
        await _loop;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await StopPollingAsync();
        await Consumer.DisposeAsync();
    }

    public override string ToString() =>
        $"{Name}: member {Consumer.MemberId} generation {Consumer.GenerationId} assigned [{string.Join(",", AssignedPartitions)}], {Records.Count} records";
}

/// <summary>Shared steps of the client-group tests: topics, numbered records, waiting for conditions.</summary>
public static class ClientGroupSteps
{
    /// <summary>Broker settings: a small offsets topic and no initial rebalance delay (members form generations at once).</summary>
    public static Dictionary<string, string> BrokerOverrides() => new()
    {
        ["offsets.topic.num.partitions"] = "4",
        ["offsets.topic.replication.factor"] = "1",
        ["group.initial.rebalance.delay.ms"] = "0",
    };

    /// <summary>Member settings for tests: heartbeats every 500 ms, so rebalances are noticed quickly.</summary>
    public static GroupConsumerOptions MemberOptions(string group, string reset = "earliest") => new()
    {
        GroupId = group,
        SessionTimeout = TimeSpan.FromSeconds(6),
        RebalanceTimeout = TimeSpan.FromSeconds(10),
        HeartbeatInterval = TimeSpan.FromMilliseconds(500),
        AutoOffsetReset = reset,
    };

    public static KafkaClient NewClient(string bootstrap, string clientId) => new(new KafkaClientOptions
    {
        BootstrapServers = bootstrap,
        ClientId = clientId,
        RequestTimeout = TimeSpan.FromSeconds(15),
        RetryBudget = TimeSpan.FromSeconds(20),
    });

    public static async Task CreateTopicAsync(KafkaClient client, string topic, int partitions)
    {
        var results = await client.CreateTopicsAsync(new[] { new NewTopic(topic, partitions, 1) });
        Assert.True(results.Count == 1 && results[0].Error == ErrorCode.None, $"creating {topic}: {results[0].Error} {results[0].Message}");
    }

    /// <summary>Produces ids [firstId, firstId + perPartition * partitions) round robin over partitions; values "id-N|..." (the group_consumer.py format).</summary>
    public static async Task<HashSet<long>> ProduceIdsAsync(KafkaClient client, string topic, int partitions, int perPartition, long firstId)
    {
        var ids = new HashSet<long>();
        for (int p = 0; p < partitions; p++)
        {
            var records = new List<ProducerRecord>(perPartition);
            for (int i = 0; i < perPartition; i++)
            {
                long id = firstId + (long)i * partitions + p;
                ids.Add(id);
                records.Add(new ProducerRecord(Encoding.UTF8.GetBytes($"k{id}"), Encoding.UTF8.GetBytes($"id-{id}|partition {p}")));
            }
            var result = await client.ProduceAsync(topic, p, records);
            Assert.True(result.Error == ErrorCode.None, $"producing to {topic}-{p}: {result.Error} {result.ErrorMessage}");
        }
        return ids;
    }

    /// <summary>The id of a record produced by <see cref="ProduceIdsAsync"/> (-1 for anything else).</summary>
    public static long IdOf(ConsumedRecord record)
    {
        string value = record.Value is null ? "" : Encoding.UTF8.GetString(record.Value);
        int bar = value.IndexOf('|');
        string head = bar < 0 ? value : value[..bar];
        return head.StartsWith("id-", StringComparison.Ordinal) && long.TryParse(head.AsSpan(3), out long id) ? id : -1;
    }

    /// <summary>Checks <paramref name="problem"/> (null = met) every 100 ms until <paramref name="timeout"/>; fails with the last problem and the context.</summary>
    public static async Task<TimeSpan> WaitUntilAsync(string what, Func<string?> problem, TimeSpan timeout, Func<string> context,
        ITestOutputHelper output)
    {
        var sw = Stopwatch.StartNew();
        string? last;
        while ((last = problem()) is not null && sw.Elapsed < timeout) await Task.Delay(100);
        if (last is not null) Assert.Fail($"{what}: not reached within {timeout.TotalSeconds:F0} s: {last}\n{context()}");
        output.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] {what}: after {sw.ElapsedMilliseconds} ms");
        return sw.Elapsed;
    }

    /// <summary>Null when the members hold disjoint assignments of <paramref name="sizes"/> partitions each, together all <paramref name="partitions"/>.</summary>
    public static string? SplitProblem(IReadOnlyList<ClientGroupMember> members, int partitions, params int[] sizes)
    {
        foreach (var m in members)
            if (m.Problem is { } p) return p;
        var all = new List<int>();
        for (int i = 0; i < members.Count; i++)
        {
            var assigned = members[i].AssignedPartitions;
            if (assigned.Length != sizes[i]) return $"{members[i].Name} holds [{string.Join(",", assigned)}], expected {sizes[i]} partitions";
            all.AddRange(assigned);
        }
        all.Sort();
        var generations = members.Select(m => m.Consumer.GenerationId).Distinct().ToList();
        if (generations.Count != 1) return $"the members are in generations [{string.Join(",", generations)}]";
        return all.SequenceEqual(Enumerable.Range(0, partitions)) ? null : $"the assignments together are [{string.Join(",", all)}]";
    }
}

/// <summary>
/// Captures the client library's log (Broker.Core Log, debug level) for the duration of a test and writes it to the
/// test output at the end: the member's join, rebalance and heartbeat decisions explain a failure. The tests run one
/// at a time (AssemblyInfo), so redirecting the process-wide log is safe.
/// </summary>
public sealed class ClientLogCapture : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly StringWriter _text = new();
    private readonly TextWriter _previousOutput;
    private readonly LogLevel _previousLevel;

    public ClientLogCapture(ITestOutputHelper output)
    {
        _output = output;
        _previousOutput = Log.Output;
        _previousLevel = Log.MinLevel;
        Log.Output = TextWriter.Synchronized(_text);
        Log.MinLevel = LogLevel.Debug;
    }

    public void Dispose()
    {
        Log.Output = _previousOutput;
        Log.MinLevel = _previousLevel;
        _output.WriteLine("--- client log ---\n" + _text);
    }
}
