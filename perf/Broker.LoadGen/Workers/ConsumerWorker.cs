using System.Diagnostics;
using Broker.Core.Records;
using Broker.LoadGen.Net;
using Broker.Protocol.Messages;

namespace Broker.LoadGen.Workers;

/// <summary>
/// One consumer connection fetching a fixed set of partitions (sessionless Fetch, one request in flight: the next
/// offsets depend on the answer). It decodes every record (payload bytes, e2e stamps of this run), optionally
/// checks batch CRCs, and stops when the window ends or, unless following, when every partition reached the end
/// offset seen at the start.
/// </summary>
public sealed class ConsumerWorker
{
    private readonly Options _o;
    private readonly KafkaConnection _conn;
    private readonly short _version;
    private readonly int[] _partitions;
    private readonly long[] _next;
    private readonly long[]? _end;
    private readonly bool[] _done;
    private readonly RunClock _clock;
    private readonly LiveCounters _live;
    private readonly ErrorCounter _errors;
    private readonly uint _runId;

    /// <param name="endOffsets">Stop at these offsets (per assigned partition), or null to fetch until the window ends.</param>
    public ConsumerWorker(Options o, KafkaConnection conn, ApiVersionSet versions, int[] partitions, long[] startOffsets,
        long[]? endOffsets, RunClock clock, LiveCounters live, ErrorCounter errors, uint runId)
    {
        _o = o;
        _conn = conn;
        _version = versions.Fetch;
        _partitions = partitions;
        _next = (long[])startOffsets.Clone();
        _end = endOffsets;
        _done = new bool[partitions.Length];
        _clock = clock;
        _live = live;
        _errors = errors;
        _runId = runId;
    }

    /// <summary>Figures inside the measured window; Latency holds produce→consume latency of stamped records.</summary>
    public SideStats Stats { get; } = new();

    /// <summary>When this consumer reached its end offsets (Stopwatch ticks), or 0.</summary>
    public long CaughtUpTicks { get; private set; }

    public async Task RunAsync(CancellationToken ct)
    {
        var topic = new FetchRequest.FetchTopic { Topic = _o.Topic };
        var request = new FetchRequest
        {
            ReplicaId = -1,
            MaxWaitMs = _o.FetchMaxWaitMs,
            MinBytes = _o.FetchMinBytes,
            MaxBytes = _o.FetchMaxBytes,
            IsolationLevel = 0,
            SessionId = 0,
            SessionEpoch = -1,
            Topics = [topic],
        };
        for (int i = 0; i < _partitions.Length; i++) MarkDoneIfAtEnd(i);
        while (!ct.IsCancellationRequested && !_clock.IsOver(Stopwatch.GetTimestamp()))
        {
            topic.Partitions.Clear();
            for (int i = 0; i < _partitions.Length; i++)
                if (!_done[i])
                    topic.Partitions.Add(new FetchRequest.FetchPartition
                    {
                        Partition = _partitions[i],
                        FetchOffset = _next[i],
                        PartitionMaxBytes = _o.PartitionMaxBytes,
                    });
            if (topic.Partitions.Count == 0)
            {
                CaughtUpTicks = Stopwatch.GetTimestamp();
                return;
            }
            await _conn.SendAsync(FetchRequest.ApiKey, _version, request, expectResponse: true, ct).ConfigureAwait(false);
            var response = await _conn.ReceiveAsync(ct).ConfigureAwait(false);
            long now = Stopwatch.GetTimestamp();
            var fr = _conn.Parse(response, FetchResponse.Read);
            bool inWindow = _clock.InWindow(now);
            if (inWindow)
            {
                Stats.Requests++;
                Stats.RequestLatency.Record(RunClock.TicksToNs(now - response.SentTicks));
            }
            bool anyError = false;
            if (fr.ErrorCode != 0) { _errors.Add("fetch: " + AdminClient.ErrorName(fr.ErrorCode)); anyError = true; }
            foreach (var t in fr.Responses)
            {
                if (t.Topic != _o.Topic) continue;
                foreach (var pd in t.Partitions) anyError |= !HandlePartition(pd, now, inWindow);
            }
            if (anyError) await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Consumes the batches of one partition's answer; false on an error code.</summary>
    private bool HandlePartition(FetchResponse.PartitionData pd, long now, bool inWindow)
    {
        int i = Array.IndexOf(_partitions, pd.PartitionIndex);
        if (i < 0) return true;
        if (pd.ErrorCode != 0)
        {
            _errors.Add("fetch: " + AdminClient.ErrorName(pd.ErrorCode));
            if (pd.ErrorCode == (short)Broker.Core.Model.ErrorCode.OffsetOutOfRange) _done[i] = true;
            return false;
        }
        if (pd.Records is not { } records) return true;
        var span = records.Span;
        int pos = 0;
        long recordCount = 0, payload = 0, batchBytes = 0;
        while (pos < span.Length)
        {
            if (!RecordBatchHeader.TryRead(span[pos..], out var h) || h.TotalSize > span.Length - pos || h.BatchLength < 49)
                break; // a partial batch at the end of the answer
            var batch = span.Slice(pos, h.TotalSize);
            pos += h.TotalSize;
            if (h.Magic != 2) { _errors.Add("fetch: record batch magic " + h.Magic); _done[i] = true; return false; }
            if (_o.CheckCrc)
            {
                var err = RecordBatchValidator.ValidateOne(batch, int.MaxValue, out _);
                if (err != BatchError.None) { _errors.Add("fetch: corrupt batch (" + err + ")"); _done[i] = true; return false; }
            }
            if (h.LastOffset < _next[i]) continue;
            batchBytes += h.TotalSize;
            if (h.Compression != CompressionCodec.None || h.IsControl)
            {
                recordCount += h.IsControl ? 0 : h.LastOffset - Math.Max(h.BaseOffset, _next[i]) + 1;
                payload += h.IsControl ? 0 : h.TotalSize;
            }
            else if (!DecodeRecords(batch, _next[i], now, inWindow, ref recordCount, ref payload))
            {
                _done[i] = true;
                return false;
            }
            _next[i] = h.LastOffset + 1;
        }
        _live.Consumed(recordCount, payload);
        if (inWindow)
        {
            Stats.Records += recordCount;
            Stats.PayloadBytes += payload;
            Stats.BatchBytes += batchBytes;
        }
        MarkDoneIfAtEnd(i);
        return true;
    }

    private bool DecodeRecords(ReadOnlySpan<byte> batch, long next, long now, bool inWindow, ref long count, ref long payload)
    {
        var records = new RecordReader(batch);
        string? error;
        while (records.TryRead(out var r, out error))
        {
            if (r.Offset < next) continue;
            count++;
            payload += r.Key.Length + r.Value.Length;
            if (inWindow && E2EStamp.TryRead(r.Value, _runId, out long sent))
                Stats.Latency.Record(RunClock.TicksToNs(now - sent));
        }
        if (error is null) return true;
        _errors.Add("fetch: malformed record (" + error + ")");
        return false;
    }

    private void MarkDoneIfAtEnd(int i)
    {
        if (_end is not null && !_o.Follow && _next[i] >= _end[i]) _done[i] = true;
    }
}
