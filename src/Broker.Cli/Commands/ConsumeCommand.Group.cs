using System.Diagnostics;
using Broker.Cli.Output;
using Broker.Client;
using Broker.Core.Model;

namespace Broker.Cli.Commands;

// consume --group: a GroupConsumer member; commits the offsets of printed records every second and at exit, then
// leaves the group.
internal static partial class ConsumeCommand
{
    private static readonly TimeSpan s_pollWait = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_commitEvery = TimeSpan.FromSeconds(1);

    private static async Task ConsumeGroupAsync(KafkaClient client, ToolContext ctx, Options o, RecordSink sink)
    {
        var common = ctx.Common!;
        string group = o.Group!;
        var consumer = new GroupConsumer(client, new GroupConsumerOptions
        {
            GroupId = group,
            AutoOffsetReset = o.Start == StartKind.Earliest ? "earliest" : "latest",
        });
        var pending = new Dictionary<TopicPartition, long>();
        Exception? failure = null;
        try
        {
            await consumer.SubscribeAsync(new[] { o.Topic }, ctx.Interrupt).ConfigureAwait(false);
            var sinceStart = Stopwatch.StartNew();
            var sinceCommit = Stopwatch.StartNew();
            Stopwatch? idle = null;
            while (!sink.Done)
            {
                var wait = s_pollWait;
                if (idle is not null && o.IdleTimeoutMs >= 0)
                {
                    var left = TimeSpan.FromMilliseconds(o.IdleTimeoutMs) - idle.Elapsed;
                    if (left <= TimeSpan.Zero) break;
                    if (left < wait) wait = left;
                }
                IReadOnlyList<ConsumedRecord> records;
                try
                {
                    records = await consumer.PollAsync(wait, 1024 * 1024, ctx.Interrupt).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ctx.Interrupt.IsCancellationRequested)
                {
                    break; // Ctrl-C: commit what was printed, leave the group
                }
                if (idle is null)
                {
                    // The idle clock starts once this member has joined (a join can take a rebalance delay).
                    if (consumer.MemberId.Length > 0) idle = Stopwatch.StartNew();
                    else if (sinceStart.Elapsed > common.Timeout)
                        throw new ToolFailure($"could not join group '{group}' within {ToolContext.Describe(common.Timeout)}");
                }
                if (records.Count > 0)
                {
                    sink.Print(records, r => pending[new TopicPartition(r.Topic, r.Partition)] = r.Offset + 1);
                    idle?.Restart();
                }
                if (pending.Count > 0 && sinceCommit.Elapsed >= s_commitEvery)
                {
                    await CommitAsync(consumer, pending, group, ctx, final: false).ConfigureAwait(false);
                    sinceCommit.Restart();
                }
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        // Commit what was printed (even after Ctrl-C), then leave the group.
        if (pending.Count > 0)
        {
            try
            {
                await CommitAsync(consumer, pending, group, ctx, final: true).ConfigureAwait(false);
            }
            catch (Exception ex) when (failure is null)
            {
                failure = ex;
            }
            catch (Exception)
            {
                // the first failure is the one reported
            }
        }
        try
        {
            using var leave = new CancellationTokenSource(common.Timeout);
            await consumer.DisposeAsync().AsTask().WaitAsync(leave.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is KafkaException or OperationCanceledException or TimeoutException)
        {
            ctx.Err.WriteLine($"warning: leaving group '{group}' failed: {ex.Message}");
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>Commits the printed positions of partitions still assigned; periodic failures only warn.</summary>
    private static async Task CommitAsync(GroupConsumer consumer, Dictionary<TopicPartition, long> pending, string group,
        ToolContext ctx, bool final)
    {
        var assigned = new HashSet<TopicPartition>(consumer.Assignment);
        var offsets = new List<TopicPartitionOffset>(pending.Count);
        foreach (var (tp, next) in pending)
            if (assigned.Contains(tp)) offsets.Add(new TopicPartitionOffset(tp.Topic, tp.Partition, next));
        if (offsets.Count == 0)
        {
            pending.Clear();
            return;
        }
        using var deadline = new CancellationTokenSource(ctx.Common!.Timeout);
        try
        {
            await consumer.CommitAsync(offsets, deadline.Token).ConfigureAwait(false);
            pending.Clear();
        }
        catch (Exception ex) when (!final && ex is KafkaException or OperationCanceledException)
        {
            ctx.Err.WriteLine($"warning: committing offsets of group '{group}' failed ({Describe(ex)}); will retry");
        }
        catch (KafkaException ex)
        {
            throw new ToolFailure($"{Formats.ErrorName(ex.Error)}: committing offsets of group '{group}' failed: {ex.Message}");
        }
        catch (OperationCanceledException)
        {
            throw new ToolFailure($"REQUEST_TIMED_OUT: committing offsets of group '{group}' took longer than {ToolContext.Describe(ctx.Common.Timeout)}");
        }
    }

    private static string Describe(Exception ex) =>
        ex is KafkaException k ? $"{Formats.ErrorName(k.Error)}: {k.Message}" : "timed out";
}
