using System.Threading.Channels;
using Broker.Cli.Output;
using Broker.Client;
using Broker.Core.Model;

namespace Broker.Cli.Commands;

/// <summary>
/// The produce engine of the <c>produce</c> command: per-partition batches of at most --batch-records records or
/// <see cref="ProduceCommand.MaxBatchBytes"/> bytes, one batch in flight per partition (so each partition keeps the
/// input order) and several partitions in flight at once. Records without a key stick to one partition until its
/// batch is sent, then move to the next (like Kafka's sticky partitioner). The first failed batch stops the run.
/// </summary>
internal sealed class BatchingProducer
{
    private sealed class PartitionBatch(int partition)
    {
        public int Partition { get; } = partition;
        public List<ProducerRecord> Records { get; set; } = new();
        public long Bytes { get; set; }
        public Task? InFlight { get; set; }
    }

    private readonly KafkaClient _client;
    private readonly ProduceCommand.Options _options;
    private readonly int _partitionCount;
    private readonly ProgressMeter _meter;
    private readonly CancellationToken _cancel;
    private readonly PartitionBatch[] _batches;
    private readonly object _gate = new();
    private int _sticky = -1;
    private int _nextSticky;
    private Exception? _failure;

    public BatchingProducer(KafkaClient client, ProduceCommand.Options options, int partitionCount, ProgressMeter meter,
        CancellationToken cancel)
    {
        _client = client;
        _options = options;
        _partitionCount = partitionCount;
        _meter = meter;
        _cancel = cancel;
        _nextSticky = Random.Shared.Next(partitionCount); // runs do not all start on partition 0
        _batches = new PartitionBatch[partitionCount];
        for (int p = 0; p < partitionCount; p++) _batches[p] = new PartitionBatch(p);
    }

    public async Task ProduceSyntheticAsync()
    {
        var headers = _options.Headers.Count > 0 ? _options.Headers : null;
        for (long i = 0; i < _options.Count; i++)
        {
            ThrowIfStopped();
            await AddAsync(new ProducerRecord(null, ProduceCommand.SyntheticValue(i, _options.Size), headers)).ConfigureAwait(false);
        }
        await FinishAsync().ConfigureAwait(false);
    }

    /// <summary>Reads lines on a background task (a blocking stdin read cannot be cancelled) and produces them;
    /// a partial batch is sent when no new line arrived for <see cref="ProduceCommand.Linger"/>.</summary>
    public async Task ProduceLinesAsync(TextReader input)
    {
        var lines = Channel.CreateBounded<string>(new BoundedChannelOptions(8192) { SingleReader = true, SingleWriter = true });
        var reader = Task.Run(async () =>
        {
            try
            {
                string? line;
                while ((line = input.ReadLine()) is not null)
                    await lines.Writer.WriteAsync(line, _cancel).ConfigureAwait(false);
                lines.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                lines.Writer.TryComplete(ex is OperationCanceledException ? null : new ToolFailure($"cannot read input: {ex.Message}"));
            }
        });

        var headers = _options.Headers.Count > 0 ? _options.Headers : null;
        bool pending = false;
        while (true)
        {
            ThrowIfStopped();
            while (lines.Reader.TryRead(out string? line))
            {
                await AddAsync(ProduceCommand.ToRecord(line, _options.KeySeparator, headers)).ConfigureAwait(false);
                pending = true;
                ThrowIfStopped();
            }
            if (pending)
            {
                var more = lines.Reader.WaitToReadAsync(_cancel).AsTask();
                if (await Task.WhenAny(more, Task.Delay(ProduceCommand.Linger, _cancel)).ConfigureAwait(false) != more)
                {
                    await FlushAllAsync().ConfigureAwait(false);
                    pending = false;
                    if (!await more.ConfigureAwait(false)) break;
                }
                else if (!await more.ConfigureAwait(false)) break;
            }
            else if (!await lines.Reader.WaitToReadAsync(_cancel).ConfigureAwait(false)) break;
        }
        await lines.Reader.Completion.ConfigureAwait(false); // surfaces a read error
        await reader.ConfigureAwait(false);
        await FinishAsync().ConfigureAwait(false);
    }

    private async Task AddAsync(ProducerRecord record)
    {
        int partition;
        if (_options.Partition >= 0) partition = _options.Partition;
        else if (record.Key is { } key) partition = _client.ChoosePartition(key, false, _partitionCount);
        else
        {
            if (_sticky < 0) _sticky = _nextSticky++ % _partitionCount;
            partition = _sticky;
        }
        var batch = _batches[partition];
        batch.Records.Add(record);
        batch.Bytes += (record.Key?.Length ?? 0) + (record.Value?.Length ?? 0);
        if (batch.Records.Count >= _options.BatchRecords || batch.Bytes >= ProduceCommand.MaxBatchBytes)
            await SendAsync(batch).ConfigureAwait(false);
    }

    private async Task FlushAllAsync()
    {
        foreach (var b in _batches)
            if (b.Records.Count > 0) await SendAsync(b).ConfigureAwait(false);
    }

    private async Task FinishAsync()
    {
        await FlushAllAsync().ConfigureAwait(false);
        foreach (var b in _batches)
            if (b.InFlight is { } t) await t.ConfigureAwait(false);
        ThrowIfStopped();
        _meter.Tick();
    }

    /// <summary>Sends the partition's batch after its previous one is acknowledged.</summary>
    private async Task SendAsync(PartitionBatch batch)
    {
        if (batch.InFlight is { } previous) await previous.ConfigureAwait(false);
        ThrowIfStopped();
        var records = batch.Records;
        long bytes = batch.Bytes;
        batch.Records = new List<ProducerRecord>(records.Count);
        batch.Bytes = 0;
        if (batch.Partition == _sticky) _sticky = -1;
        batch.InFlight = SendOneAsync(batch.Partition, records, bytes);
    }

    private async Task SendOneAsync(int partition, List<ProducerRecord> records, long bytes)
    {
        try
        {
            var result = await _client.ProduceAsync(_options.Topic, partition, records, _options.Acks, _options.Compression, _cancel)
                .ConfigureAwait(false);
            if (result.Error != ErrorCode.None)
            {
                string message = string.IsNullOrWhiteSpace(result.ErrorMessage) ? Formats.DefaultMessage(result.Error) : result.ErrorMessage!;
                throw new ToolFailure($"{Formats.ErrorName(result.Error)}: {message} (producing to {_options.Topic}-{partition})");
            }
            lock (_gate) _meter.Add(records.Count, bytes);
        }
        catch (Exception ex)
        {
            lock (_gate) _failure ??= ex;
        }
    }

    private void ThrowIfStopped()
    {
        _cancel.ThrowIfCancellationRequested();
        Exception? failure;
        lock (_gate) failure = _failure;
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }
}
