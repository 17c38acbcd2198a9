using System.Diagnostics;
using Broker.Core.Records;
using Broker.LoadGen.Net;
using Broker.Protocol.Messages;

namespace Broker.LoadGen.Workers;

/// <summary>
/// One producer connection. A send loop builds record batches (one partition per request, round robin) and keeps
/// up to --max-inflight Produce requests outstanding; a receive loop matches the acks in order and records:
/// per record latency from its intended send time (batch build time when unlimited, the rate schedule otherwise)
/// to the ack, and per request latency from send to ack. With acks=0 nothing is answered: records count when sent.
/// </summary>
public sealed class ProducerWorker
{
    private readonly record struct InFlight(long FirstIntendedTicks, long StepTicks, int Records, long PayloadBytes, int BatchBytes, int Partition);

    private readonly int _id;
    private readonly Options _o;
    private readonly KafkaConnection _conn;
    private readonly short _version;
    private readonly int _partitionCount;
    private readonly RunClock _clock;
    private readonly LiveCounters _live;
    private readonly ErrorCounter _errors;
    private readonly uint _runId;
    private readonly Pacer _pacer;
    private readonly RecordBatchBuilder _builder;
    private readonly byte[] _valueTemplate;
    private readonly Queue<InFlight> _inFlight = new();
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _sent = new(0);
    private readonly ProduceRequest _request;
    private readonly ProduceRequest.PartitionProduceData _partitionData = new();
    private volatile bool _sendingDone;
    private long _keyCounter;

    public ProducerWorker(int id, Options o, KafkaConnection conn, ApiVersionSet versions, int partitionCount,
        RunClock clock, LiveCounters live, ErrorCounter errors, uint runId, Pacer pacer)
    {
        _pacer = pacer;
        _id = id;
        _o = o;
        _conn = conn;
        _version = versions.Produce;
        _partitionCount = partitionCount;
        _clock = clock;
        _live = live;
        _errors = errors;
        _runId = runId;
        int capacity = BatchCapacity(o);
        _builder = new RecordBatchBuilder(capacity, maxBatchBytes: capacity); // fixed size: never grows
        _valueTemplate = new byte[o.RecordSize];
        for (int i = 0; i < _valueTemplate.Length; i++) _valueTemplate[i] = (byte)('a' + i % 26);
        _slots = new SemaphoreSlim(o.MaxInflight, o.MaxInflight);
        _request = new ProduceRequest
        {
            Acks = o.Acks,
            TimeoutMs = o.RequestTimeoutMs,
            TopicData = [new ProduceRequest.TopicProduceData { Name = o.Topic, PartitionData = [_partitionData] }],
        };
        _keyCounter = id;
    }

    /// <summary>Figures inside the measured window.</summary>
    public SideStats Stats { get; } = new();

    /// <summary>Bytes a batch of --batch-records records can take: the builder's fixed buffer size.</summary>
    public static int BatchCapacity(Options o) =>
        RecordBatchHeader.Size
        + o.BatchRecords * RecordBatchBuilder.RecordSize(o.KeyCardinality > 0 ? KeyLength : -1, o.RecordSize, int.MaxValue, o.BatchRecords);

    public const int KeyLength = 8;

    /// <summary>Sends until the measured window ends, then waits for the outstanding acks.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task receive = _o.Acks == 0 ? Task.CompletedTask : Task.Run(async () =>
        {
            try { await ReceiveLoopAsync(ct).ConfigureAwait(false); }
            catch { linked.Cancel(); throw; } // unblock the sender; the error surfaces below
        }, CancellationToken.None);
        try
        {
            await SendLoopAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // the receiver failed; awaiting it below throws its error
        }
        finally
        {
            _sendingDone = true;
            _sent.Release(); // wake the receiver so it can see that sending is over
        }
        await receive.ConfigureAwait(false);
    }

    private async Task SendLoopAsync(CancellationToken ct)
    {
        double perProducerRate = _o.Rate / _o.Producers;
        long step = perProducerRate > 0 ? Math.Max(1, (long)(Stopwatch.Frequency / perProducerRate)) : 0;
        long lingerTicks = (long)(_o.LingerMs * Stopwatch.Frequency / 1000);
        long start = _clock.StartTicks;
        long generated = 0;
        int partition = _id % _partitionCount;
        while (!ct.IsCancellationRequested && !_clock.IsOver(Stopwatch.GetTimestamp()))
        {
            if (_o.Acks != 0) await _slots.WaitAsync(ct).ConfigureAwait(false);
            int n;
            long firstIntended;
            if (step == 0)
            {
                n = _o.BatchRecords;
                firstIntended = Stopwatch.GetTimestamp();
            }
            else
            {
                n = await WaitForRecordsAsync(start, step, lingerTicks, generated, ct).ConfigureAwait(false);
                if (n == 0) { if (_o.Acks != 0) _slots.Release(); break; }
                firstIntended = start + generated * step;
            }
            n = BuildBatch(n, firstIntended, step, out var batch);
            generated += n;
            int keyLen = _o.KeyCardinality > 0 ? KeyLength : 0;
            var info = new InFlight(firstIntended, step, n, (long)n * (_o.RecordSize + keyLen), batch.Length, partition);
            _partitionData.Index = partition;
            _partitionData.Records = batch;
            if (_o.Acks != 0) lock (_inFlight) _inFlight.Enqueue(info);
            await _conn.SendAsync(ProduceRequest.ApiKey, _version, _request, _o.Acks != 0, ct).ConfigureAwait(false);
            if (_o.Acks != 0) _sent.Release();
            else Completed(info, Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp());
            partition = (partition + 1) % _partitionCount;
        }
    }

    /// <summary>Rate mode: waits until a full batch is due or the oldest due record has lingered; 0 when the window ended.</summary>
    private async Task<int> WaitForRecordsAsync(long start, long step, long lingerTicks, long generated, CancellationToken ct)
    {
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            if (_clock.IsOver(now)) return 0;
            long due = (now - start) / step + 1 - generated;   // records whose intended time has come
            long firstAt = start + generated * step;
            if (due >= _o.BatchRecords) return _o.BatchRecords;
            if (due > 0 && now >= firstAt + lingerTicks) return (int)due;
            // Wake when the oldest record has lingered long enough or a full batch is due, whichever comes first.
            long wakeAt = Math.Min(firstAt + lingerTicks, start + (generated + _o.BatchRecords - 1) * step);
            wakeAt = Math.Min(wakeAt, _clock.MeasureEndTicks);
            await _pacer.WaitUntilAsync(wakeAt, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Builds up to <paramref name="count"/> records (fewer if the buffer fills); returns how many.</summary>
    private int BuildBatch(int count, long firstIntended, long step, out ReadOnlyMemory<byte> batch)
    {
        long ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(); // CreateTime of every record in the batch
        _builder.Reset(ts);
        int keyLen = _o.KeyCardinality > 0 ? KeyLength : -1;
        for (int i = 0; i < count; i++)
        {
            if (!_builder.TryReserve(ts, keyLen, _valueTemplate.Length, out var key, out var value)) break;
            if (keyLen > 0) WriteKey(key, _keyCounter++ % _o.KeyCardinality);
            _valueTemplate.CopyTo(value);
            if (value.Length >= E2EStamp.Size) E2EStamp.Write(value, _runId, firstIntended + i * step);
        }
        batch = _builder.Build();
        return _builder.RecordCount;
    }

    private static void WriteKey(Span<byte> key, long k)
    {
        for (int i = key.Length - 1; i >= 0; i--) { key[i] = (byte)('0' + k % 10); k /= 10; }
    }

    private async Task ReceiveLoopAsync(CancellationToken ct)
    {
        while (true)
        {
            await _sent.WaitAsync(ct).ConfigureAwait(false);
            InFlight info;
            lock (_inFlight)
            {
                if (_inFlight.Count == 0)
                {
                    if (_sendingDone) return;
                    continue;
                }
                info = _inFlight.Peek();
            }
            var response = await _conn.ReceiveAsync(ct).ConfigureAwait(false);
            long ack = Stopwatch.GetTimestamp();
            lock (_inFlight) _inFlight.Dequeue();
            var pr = _conn.Parse(response, ProduceResponse.Read);
            _slots.Release();
            short error = ErrorOf(pr, _o.Topic, info.Partition);
            if (error != 0)
            {
                _errors.Add(AdminClient.ErrorName(error));
                if (_clock.InWindow(ack)) Stats.FailedRecords += info.Records;
                continue;
            }
            Completed(info, response.SentTicks, ack);
        }
    }

    private void Completed(in InFlight info, long sentTicks, long ackTicks)
    {
        _live.Produced(info.Records, info.PayloadBytes);
        if (!_clock.InWindow(ackTicks)) return;
        var s = Stats;
        s.Records += info.Records;
        s.PayloadBytes += info.PayloadBytes;
        s.BatchBytes += info.BatchBytes;
        s.Requests++;
        if (_o.Acks == 0) return; // no ack, no latency
        s.RequestLatency.Record(RunClock.TicksToNs(ackTicks - sentTicks));
        if (info.StepTicks == 0) s.Latency.Record(RunClock.TicksToNs(ackTicks - info.FirstIntendedTicks), info.Records);
        else
            for (int i = 0; i < info.Records; i++)
                s.Latency.Record(RunClock.TicksToNs(ackTicks - (info.FirstIntendedTicks + i * info.StepTicks)));
    }

    private static short ErrorOf(ProduceResponse response, string topic, int partition)
    {
        foreach (var t in response.Responses)
        {
            if (t.Name != topic) continue;
            foreach (var p in t.PartitionResponses)
                if (p.Index == partition) return p.ErrorCode;
        }
        throw new LoadGenException($"Produce response has no result for {topic}/{partition}");
    }
}
