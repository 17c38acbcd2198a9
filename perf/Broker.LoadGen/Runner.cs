using System.Diagnostics;
using Broker.LoadGen.Net;
using Broker.LoadGen.Output;
using Broker.LoadGen.Workers;

namespace Broker.LoadGen;

/// <summary>
/// Runs one scenario end to end: setup (versions, topic, offsets), connections, workers, the per-second progress
/// line, the stop (window end, consumers caught up, or the first failure) and a bounded drain. Every wait is
/// bounded: a broker that stops answering fails the run within the request timeout plus a few seconds.
/// </summary>
public sealed class Runner
{
    private readonly Options _o;
    private readonly ErrorCounter _errors = new();
    private readonly LiveCounters _live = new();
    private readonly uint _runId = (uint)Random.Shared.Next(1, int.MaxValue);

    public Runner(Options o) => _o = o;

    public async Task<RunResult> RunAsync()
    {
        using var cts = new CancellationTokenSource();
        await using var watchdog = new Watchdog(_o.RequestTimeoutMs);
        var ct = cts.Token;
        var result = new RunResult(_o) { StartedAt = DateTimeOffset.Now };
        var connections = new List<KafkaConnection>();
        try
        {
            await RunCoreAsync(watchdog, connections, result, cts).ConfigureAwait(false);
        }
        catch (LoadGenException e)
        {
            result.Failure ??= e.Message;
            _errors.Add("transport: " + Shorten(e.Message));
        }
        catch (OperationCanceledException) when (result.Failure is not null) { }
        finally
        {
            cts.Cancel();
            foreach (var c in connections) c.Dispose();
        }
        result.Errors = _errors.Snapshot();
        return result;
    }

    private async Task RunCoreAsync(Watchdog watchdog, List<KafkaConnection> connections, RunResult result, CancellationTokenSource cts)
    {
        var ct = cts.Token;
        async Task<KafkaConnection> Connect(string name)
        {
            var c = await KafkaConnection.ConnectAsync(_o.Host, _o.Port, name, _o.ClientId, _o.RequestTimeoutMs, ct).ConfigureAwait(false);
            lock (connections) connections.Add(c);
            watchdog.Register(c);
            return c;
        }

        // Setup on its own connection.
        var adminConn = await Connect("setup").ConfigureAwait(false);
        var admin = new AdminClient(adminConn, _o.RequestTimeoutMs);
        var versions = await admin.NegotiateAsync(ct).ConfigureAwait(false);
        result.Versions = versions.ToString();
        int partitions = await admin.EnsureTopicAsync(versions, _o.Topic, _o.Partitions, _o.ReplicationFactor, _o.PartitionsGiven, ct).ConfigureAwait(false);
        result.PartitionCount = partitions;
        long[]? startOffsets = null, endOffsets = null;
        if (_o.Scenario is Scenario.Consume)
        {
            startOffsets = await admin.ListOffsetsAsync(versions, _o.Topic, partitions, AdminClient.Earliest, ct).ConfigureAwait(false);
            endOffsets = await admin.ListOffsetsAsync(versions, _o.Topic, partitions, AdminClient.Latest, ct).ConfigureAwait(false);
            long available = 0;
            for (int p = 0; p < partitions; p++) available += endOffsets[p] - startOffsets[p];
            result.AvailableRecords = available;
            if (available == 0 || _o.Follow) endOffsets = null; // nothing to catch up with: tail for the whole window
        }
        else if (_o.Scenario is Scenario.E2E)
        {
            startOffsets = await admin.ListOffsetsAsync(versions, _o.Topic, partitions, AdminClient.Latest, ct).ConfigureAwait(false);
        }
        Console.Error.WriteLine($"{_o.Scenario.ToString().ToLowerInvariant()}: {_o.Bootstrap} topic={_o.Topic} partitions={partitions} ({versions})");

        // Connections and workers.
        var producers = new List<ProducerWorker>();
        var consumers = new List<ConsumerWorker>();
        int producerCount = _o.Scenario is Scenario.Produce or Scenario.E2E ? _o.Producers : 0;
        int consumerCount = _o.Scenario is Scenario.Consume or Scenario.E2E ? Math.Min(_o.Consumers, partitions) : 0;
        if (consumerCount < _o.Consumers && consumerCount > 0)
            Console.Error.WriteLine($"note: {_o.Consumers} consumers requested, {partitions} partition(s): using {consumerCount}");
        var producerConns = new KafkaConnection[producerCount];
        var consumerConns = new KafkaConnection[consumerCount];
        for (int i = 0; i < producerCount; i++) producerConns[i] = await Connect($"producer-{i}").ConfigureAwait(false);
        for (int i = 0; i < consumerCount; i++) consumerConns[i] = await Connect($"consumer-{i}").ConfigureAwait(false);

        var clock = new RunClock(_o.WarmupSeconds, _o.DurationSeconds);
        result.Clock = clock;
        for (int i = 0; i < consumerCount; i++)
        {
            var assigned = Enumerable.Range(0, partitions).Where(p => p % consumerCount == i).ToArray();
            var starts = assigned.Select(p => startOffsets![p]).ToArray();
            var ends = endOffsets is null ? null : assigned.Select(p => endOffsets[p]).ToArray();
            consumers.Add(new ConsumerWorker(_o, consumerConns[i], versions, assigned, starts, ends, clock, _live, _errors, _runId));
        }
        using var pacer = new Pacer();
        for (int i = 0; i < producerCount; i++)
            producers.Add(new ProducerWorker(i, _o, producerConns[i], versions, partitions, clock, _live, _errors, _runId, pacer));

        var tasks = new List<Task>();
        foreach (var c in consumers) tasks.Add(Task.Run(() => c.RunAsync(ct), CancellationToken.None));
        foreach (var p in producers) tasks.Add(Task.Run(() => p.RunAsync(ct), CancellationToken.None));

        await SuperviseAsync(tasks, consumers, clock, watchdog, result, cts).ConfigureAwait(false);

        foreach (var p in producers) result.Produce.Add(p.Stats);
        foreach (var c in consumers) result.Consume.Add(c.Stats);
        result.EndTicks = Math.Min(clock.MeasureEndTicks, Stopwatch.GetTimestamp());
    }

    /// <summary>Prints progress each second; ends the run at the window end, when all workers finished, or on a failure.</summary>
    private async Task SuperviseAsync(List<Task> tasks, List<ConsumerWorker> consumers, RunClock clock, Watchdog watchdog,
        RunResult result, CancellationTokenSource cts)
    {
        var all = Task.WhenAll(tasks);
        long lastTicks = clock.StartTicks, lastPr = 0, lastPb = 0, lastCr = 0, lastCb = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        Task<bool> tick = timer.WaitForNextTickAsync().AsTask();
        while (!all.IsCompleted)
        {
            if (tasks.Any(t => t.IsFaulted)) break;
            await Task.WhenAny(tick, Task.WhenAny(tasks.Where(t => !t.IsCompleted))).ConfigureAwait(false);
            if (tasks.Any(t => t.IsFaulted)) break;
            if (!tick.IsCompleted) continue;
            tick = timer.WaitForNextTickAsync().AsTask();
            long now = Stopwatch.GetTimestamp();
            double dt = (now - lastTicks) / (double)Stopwatch.Frequency;
            long pr = _live.ProducedRecords, pb = _live.ProducedBytes, cr = _live.ConsumedRecords, cb = _live.ConsumedBytes;
            Console.Error.WriteLine(Progress.Line(_o, clock, now, (pr - lastPr) / dt, (pb - lastPb) / dt, (cr - lastCr) / dt, (cb - lastCb) / dt,
                pr, cr, _errors.Total));
            (lastTicks, lastPr, lastPb, lastCr, lastCb) = (now, pr, pb, cr, cb);
            // Safety net: nothing may run far past the window (drain = one request timeout).
            if (now > clock.MeasureEndTicks + (_o.RequestTimeoutMs + 3000L) * Stopwatch.Frequency / 1000)
            {
                result.Failure ??= "workers did not stop after the measured window (broker not answering?)";
                break;
            }
        }

        var firstFailure = tasks.FirstOrDefault(t => t.IsFaulted);
        if (firstFailure is not null)
        {
            clock.EndAt(Stopwatch.GetTimestamp());
            var e = firstFailure.Exception!.InnerException!;
            result.Failure ??= e is LoadGenException ? e.Message : e.ToString();
            _errors.Add("transport: " + Shorten(result.Failure));
        }
        else if (all.IsCompleted && consumers.Count > 0 && _o.Scenario == Scenario.Consume)
        {
            long caughtUp = consumers.Max(c => c.CaughtUpTicks);
            if (caughtUp > 0) { clock.EndAt(caughtUp); result.CaughtUp = true; }
        }
        // Stop everything that is left, with a bounded grace period.
        cts.Cancel();
        var grace = Task.Delay(2000);
        if (await Task.WhenAny(all, grace).ConfigureAwait(false) == grace) watchdog.AbortAll("stopped at the end of the run");
        await Task.WhenAny(all, Task.Delay(2000)).ConfigureAwait(false);
        foreach (var t in tasks)
            if (t.IsFaulted && t != firstFailure && t.Exception!.InnerException is LoadGenException le && result.Failure is null)
                result.Failure = le.Message;
    }

    private static string Shorten(string s) => s.Length <= 120 ? s : s[..120] + "...";
}
