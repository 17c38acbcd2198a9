using System.Threading.Channels;
using Broker.Cli.Output;
using Broker.Client;
using Broker.Core.Model;

namespace Broker.Cli.Commands;

// consume without a group: one fetch loop per partition feeding a bounded channel; the main loop prints.
internal static partial class ConsumeCommand
{
    private static readonly TimeSpan s_fetchWait = TimeSpan.FromMilliseconds(500);
    private const int FetchMaxBytes = 1024 * 1024;

    private static async Task ConsumePartitionsAsync(KafkaClient client, ToolContext ctx, Options o, int partitionCount,
        RecordSink sink)
    {
        var partitions = new List<int>();
        if (o.Partition >= 0) partitions.Add(o.Partition);
        else for (int p = 0; p < partitionCount; p++) partitions.Add(p);

        var starts = await ctx.Bounded(ct => StartOffsetsAsync(client, o, partitions, ct),
            $"the cluster (bootstrap servers {ctx.Common!.Bootstrap}) while looking up start offsets").ConfigureAwait(false);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ctx.Interrupt);
        var results = Channel.CreateBounded<FetchResult>(new BoundedChannelOptions(Math.Max(4, partitions.Count))
        {
            SingleReader = true,
        });
        var fetchers = new Task[partitions.Count];
        for (int i = 0; i < partitions.Count; i++)
            fetchers[i] = FetchLoopAsync(client, o.Topic, partitions[i], starts[i], results.Writer, ctx.Err, stop.Token);

        try
        {
            await PrintLoopAsync(results.Reader, o, sink, ctx.Interrupt).ConfigureAwait(false);
        }
        finally
        {
            stop.Cancel();
            try
            {
                await Task.WhenAll(fetchers).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The loops end by cancellation (or found the channel closed); a fatal error already went
                // through the channel and is what the print loop reports.
            }
        }
    }

    /// <summary>Where each partition starts, from the options (ListOffsets for earliest/latest/timestamp).</summary>
    private static async Task<long[]> StartOffsetsAsync(KafkaClient client, Options o, List<int> partitions, CancellationToken ct)
    {
        var tasks = new Task<long>[partitions.Count];
        for (int i = 0; i < partitions.Count; i++)
        {
            int p = partitions[i];
            tasks[i] = o.Start switch
            {
                StartKind.Offset => Task.FromResult(o.StartValue),
                StartKind.Earliest => client.ListOffsetAsync(o.Topic, p, -2, ct),
                StartKind.Latest => client.ListOffsetAsync(o.Topic, p, -1, ct),
                _ => ForTimestampAsync(client, o.Topic, p, o.StartValue, ct),
            };
        }
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private static async Task<long> ForTimestampAsync(KafkaClient client, string topic, int partition, long timestamp, CancellationToken ct)
    {
        long offset = await client.ListOffsetAsync(topic, partition, timestamp, ct).ConfigureAwait(false);
        // No record at or after the time: start at the end (only newer records will match).
        return offset >= 0 ? offset : await client.ListOffsetAsync(topic, partition, -1, ct).ConfigureAwait(false);
    }

    /// <summary>Prints what the fetchers deliver until --count, --timeout-ms idle, a closed stdout or an error.</summary>
    private static async Task PrintLoopAsync(ChannelReader<FetchResult> results, Options o, RecordSink sink, CancellationToken interrupt)
    {
        while (!sink.Done)
        {
            FetchResult? next;
            try
            {
                next = await ReadWithIdleTimeoutAsync(results, o.IdleTimeoutMs, interrupt).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
            {
                return; // Ctrl-C ends a consume normally
            }
            catch (ChannelClosedException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
            if (next is null) return; // idle
            sink.Print(next.Records);
        }
    }

    private static async Task<FetchResult?> ReadWithIdleTimeoutAsync(ChannelReader<FetchResult> reader, int idleMs, CancellationToken interrupt)
    {
        if (reader.TryRead(out var ready)) return ready;
        if (idleMs < 0) return await reader.ReadAsync(interrupt).ConfigureAwait(false);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(interrupt);
        idle.CancelAfter(idleMs);
        try
        {
            return await reader.ReadAsync(idle.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!interrupt.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Fetches one partition forever (until cancelled); retriable errors are retried with a back-off,
    /// others end the run through the channel.</summary>
    private static async Task FetchLoopAsync(KafkaClient client, string topic, int partition, long offset,
        ChannelWriter<FetchResult> results, TextWriter err, CancellationToken ct)
    {
        try
        {
            await FetchUntilCancelledAsync(client, topic, partition, offset, results, err, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && ex is not ChannelClosedException)
        {
            results.TryComplete(ex); // an unexpected failure ends the run instead of leaving it waiting
        }
    }

    private static async Task FetchUntilCancelledAsync(KafkaClient client, string topic, int partition, long offset,
        ChannelWriter<FetchResult> results, TextWriter err, CancellationToken ct)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        ErrorCode lastWarned = ErrorCode.None;
        while (!ct.IsCancellationRequested)
        {
            FetchResult r;
            ErrorCode error;
            string? message = null;
            try
            {
                r = await client.FetchAsync(topic, partition, offset, FetchMaxBytes, s_fetchWait, ct).ConfigureAwait(false);
                error = r.Error;
            }
            catch (KafkaException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (KafkaException ex)
            {
                r = null!;
                error = ex.Error;
                message = ex.Message;
            }
            if (error == ErrorCode.None)
            {
                backoff = TimeSpan.FromMilliseconds(100);
                lastWarned = ErrorCode.None;
                if (r.Records.Count > 0) await results.WriteAsync(r, ct).ConfigureAwait(false);
                if (r.NextOffset > offset) offset = r.NextOffset;
                continue;
            }
            if (!IsRetriable(error))
            {
                results.TryComplete(new ToolFailure(
                    $"{Formats.ErrorName(error)}: {(string.IsNullOrWhiteSpace(message) ? Describe(error, offset) : message)} (fetching {topic}-{partition} at offset {offset})"));
                return;
            }
            if (error != lastWarned)
            {
                lock (err) err.WriteLine($"warning: fetching {topic}-{partition}: {Formats.ErrorName(error)}; retrying");
                lastWarned = error;
            }
            await Task.Delay(backoff, ct).ConfigureAwait(false);
            backoff = TimeSpan.FromMilliseconds(Math.Min(2000, backoff.TotalMilliseconds * 2));
        }
    }

    private static string Describe(ErrorCode error, long offset) => error == ErrorCode.OffsetOutOfRange
        ? $"offset {offset} is outside the partition's range"
        : Formats.DefaultMessage(error);

    internal static bool IsRetriable(ErrorCode e) => e is ErrorCode.NotLeaderOrFollower or ErrorCode.LeaderNotAvailable
        or ErrorCode.RequestTimedOut or ErrorCode.NetworkException or ErrorCode.BrokerNotAvailable
        or ErrorCode.ReplicaNotAvailable or ErrorCode.FencedLeaderEpoch or ErrorCode.UnknownLeaderEpoch
        or ErrorCode.KafkaStorageError or ErrorCode.OffsetNotAvailable or ErrorCode.NotEnoughReplicas;
}
