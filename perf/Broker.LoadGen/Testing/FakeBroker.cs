using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Broker.Core.Buffers;
using Broker.Core.Model;
using Broker.Core.Records;
using Broker.Protocol.Codec;
using Broker.Protocol.Messages;

namespace Broker.LoadGen.Testing;

/// <summary>
/// `loadgen fake-broker --port N [--stall-after N]`: a tiny in-memory single-node Kafka stand-in (ApiVersions,
/// Metadata, CreateTopics, ListOffsets, Produce, Fetch) to test the load generator without the real broker.
/// Batches are validated with RecordBatchValidator and kept in memory. --stall-after stops answering after that many
/// requests (to test the "broker stops answering" path). Not a benchmark target: it is for checking the tool.
/// </summary>
public sealed class FakeBroker
{
    private readonly Dictionary<string, List<PartitionLog>> _topics = new(StringComparer.Ordinal);
    private readonly int _port;
    private readonly long _stallAfter;
    private long _requests;

    private sealed class PartitionLog
    {
        public readonly List<(long Base, byte[] Batch)> Batches = new();
        public long Next;
    }

    public FakeBroker(int port, long stallAfter)
    {
        _port = port;
        _stallAfter = stallAfter;
    }

    public static int Run(string[] args)
    {
        int port = 0;
        long stall = long.MaxValue;
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--port") port = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
            else if (args[i] == "--stall-after") stall = long.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
            else { Console.Error.WriteLine("usage: loadgen fake-broker --port N [--stall-after REQUESTS]"); return 2; }
        }
        if (port <= 0) { Console.Error.WriteLine("usage: loadgen fake-broker --port N [--stall-after REQUESTS]"); return 2; }
        new FakeBroker(port, stall).RunAsync().GetAwaiter().GetResult();
        return 0;
    }

    public async Task RunAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, _port);
        listener.Start();
        Console.Error.WriteLine($"fake-broker listening on 127.0.0.1:{_port}");
        while (true)
        {
            var client = await listener.AcceptSocketAsync().ConfigureAwait(false);
            client.NoDelay = true;
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket s)
    {
        var sizeBuf = new byte[4];
        try
        {
            while (true)
            {
                if (!await ReadExactAsync(s, sizeBuf).ConfigureAwait(false)) return;
                var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(sizeBuf)];
                if (!await ReadExactAsync(s, frame).ConfigureAwait(false)) return;
                if (Interlocked.Increment(ref _requests) > _stallAfter) continue; // swallow: never answer
                var response = await HandleAsync(frame).ConfigureAwait(false);
                if (response is null) continue;
                using (response)
                    foreach (var chunk in response.GetChunks()) await s.SendAsync(chunk, SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (SocketException) { }
        finally { s.Dispose(); }
    }

    private static async Task<bool> ReadExactAsync(Socket s, byte[] buf)
    {
        int got = 0;
        while (got < buf.Length)
        {
            int n = await s.ReceiveAsync(buf.AsMemory(got), SocketFlags.None).ConfigureAwait(false);
            if (n == 0) return false;
            got += n;
        }
        return true;
    }

    private async Task<ChunkedBufferWriter?> HandleAsync(byte[] frame)
    {
        var r = new KafkaReader(frame);
        var h = RequestHeader.Read(ref r);
        IKafkaMessage? body;
        switch ((ApiKey)h.ApiKey)
        {
            case ApiKey.ApiVersions: body = ApiVersions(); break;
            case ApiKey.Metadata: body = Metadata(MetadataRequest.Read(ref r, h.ApiVersion)); break;
            case ApiKey.CreateTopics: body = CreateTopics(CreateTopicsRequest.Read(ref r, h.ApiVersion)); break;
            case ApiKey.ListOffsets: body = ListOffsets(ListOffsetsRequest.Read(ref r, h.ApiVersion)); break;
            case ApiKey.Produce:
                var pr = ProduceRequest.Read(ref r, h.ApiVersion);
                body = Produce(pr);
                if (pr.Acks == 0) return null;
                break;
            case ApiKey.Fetch:
                var fr = FetchRequest.Read(ref r, h.ApiVersion);
                body = await FetchAsync(fr).ConfigureAwait(false);
                break;
            default: throw new SocketException((int)SocketError.ConnectionReset);
        }
        var w = new ChunkedBufferWriter();
        var kw = new KafkaWriter(w);
        h.WriteResponseHeader(ref kw);
        body.Write(ref kw, h.ApiVersion);
        w.WriteSizePrefix();
        return w;
    }

    private static ApiVersionsResponse ApiVersions()
    {
        var r = new ApiVersionsResponse();
        void Add(ApiKey k, short min, short max) => r.ApiKeys.Add(new ApiVersionsResponse.ApiVersion { ApiKey = (short)k, MinVersion = min, MaxVersion = max });
        Add(ApiKey.Produce, 0, 11); Add(ApiKey.Fetch, 4, 12); Add(ApiKey.ListOffsets, 1, 7);
        Add(ApiKey.Metadata, 0, 12); Add(ApiKey.ApiVersions, 0, 3); Add(ApiKey.CreateTopics, 2, 7);
        return r;
    }

    private MetadataResponse Metadata(MetadataRequest req)
    {
        var resp = new MetadataResponse { ClusterId = "fake", ControllerId = 1 };
        resp.Brokers.Add(new MetadataResponse.MetadataResponseBroker { NodeId = 1, Host = "127.0.0.1", Port = _port });
        lock (_topics)
            foreach (var t in req.Topics ?? [])
            {
                var name = t.Name ?? "";
                var mt = new MetadataResponse.MetadataResponseTopic { Name = name };
                if (!_topics.TryGetValue(name, out var parts)) mt.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                else
                    for (int p = 0; p < parts.Count; p++)
                        mt.Partitions.Add(new MetadataResponse.MetadataResponsePartition { PartitionIndex = p, LeaderId = 1, LeaderEpoch = 0, ReplicaNodes = [1], IsrNodes = [1] });
                resp.Topics.Add(mt);
            }
        return resp;
    }

    private CreateTopicsResponse CreateTopics(CreateTopicsRequest req)
    {
        var resp = new CreateTopicsResponse();
        lock (_topics)
            foreach (var t in req.Topics)
            {
                var res = new CreateTopicsResponse.CreatableTopicResult { Name = t.Name, NumPartitions = t.NumPartitions, ReplicationFactor = 1 };
                if (_topics.ContainsKey(t.Name)) res.ErrorCode = (short)ErrorCode.TopicAlreadyExists;
                else _topics[t.Name] = Enumerable.Range(0, t.NumPartitions).Select(_ => new PartitionLog()).ToList();
                resp.Topics.Add(res);
            }
        return resp;
    }

    private PartitionLog? Find(string topic, int partition)
    {
        lock (_topics)
            return _topics.TryGetValue(topic, out var parts) && partition >= 0 && partition < parts.Count ? parts[partition] : null;
    }

    private ListOffsetsResponse ListOffsets(ListOffsetsRequest req)
    {
        var resp = new ListOffsetsResponse();
        foreach (var t in req.Topics)
        {
            var rt = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = t.Name };
            foreach (var p in t.Partitions)
            {
                var log = Find(t.Name, p.PartitionIndex);
                var rp = new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = p.PartitionIndex };
                if (log is null) rp.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                else lock (log) rp.Offset = p.Timestamp == -2 ? 0 : log.Next;
                rt.Partitions.Add(rp);
            }
            resp.Topics.Add(rt);
        }
        return resp;
    }

    private ProduceResponse Produce(ProduceRequest req)
    {
        var resp = new ProduceResponse();
        foreach (var t in req.TopicData)
        {
            var rt = new ProduceResponse.TopicProduceResponse { Name = t.Name };
            foreach (var p in t.PartitionData)
            {
                var rp = new ProduceResponse.PartitionProduceResponse { Index = p.Index };
                var log = Find(t.Name, p.Index);
                var bytes = p.Records ?? ReadOnlyMemory<byte>.Empty;
                if (log is null) rp.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                else if (RecordBatchValidator.ValidatePrefix(bytes.Span, 64 << 20, out var err, out _) != bytes.Length || err != BatchError.None)
                    rp.ErrorCode = (short)ErrorCode.CorruptMessage;
                else
                    lock (log)
                    {
                        var copy = bytes.ToArray();
                        RecordBatchHeader.TryRead(copy, out var h);
                        RecordBatchHeader.WriteBaseOffset(copy, log.Next);
                        rp.BaseOffset = log.Next;
                        log.Batches.Add((log.Next, copy));
                        log.Next += h.LastOffsetDelta + 1;
                    }
                rt.PartitionResponses.Add(rp);
            }
            resp.Responses.Add(rt);
        }
        return resp;
    }

    private async Task<FetchResponse> FetchAsync(FetchRequest req)
    {
        var deadline = Environment.TickCount64 + req.MaxWaitMs;
        while (true)
        {
            var resp = new FetchResponse();
            long total = 0;
            foreach (var t in req.Topics)
            {
                var rt = new FetchResponse.FetchableTopicResponse { Topic = t.Topic };
                foreach (var p in t.Partitions)
                {
                    var pd = new FetchResponse.PartitionData { PartitionIndex = p.Partition };
                    var log = Find(t.Topic, p.Partition);
                    if (log is null) { pd.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition; rt.Partitions.Add(pd); continue; }
                    var ms = new MemoryStream();
                    lock (log)
                    {
                        pd.HighWatermark = pd.LastStableOffset = log.Next;
                        pd.LogStartOffset = 0;
                        int lo = 0, hi = log.Batches.Count; // first batch whose last offset >= fetch offset
                        while (lo < hi)
                        {
                            int mid = (lo + hi) / 2;
                            var (b, batch) = log.Batches[mid];
                            if (b + BinaryPrimitives.ReadInt32BigEndian(batch.AsSpan(RecordBatchHeader.LastOffsetDeltaOffset)) < p.FetchOffset) lo = mid + 1;
                            else hi = mid;
                        }
                        for (int i = lo; i < log.Batches.Count; i++)
                        {
                            var batch = log.Batches[i].Batch;
                            if (ms.Length > 0 && ms.Length + batch.Length > p.PartitionMaxBytes) break;
                            ms.Write(batch);
                        }
                    }
                    pd.Records = ms.ToArray();
                    total += ms.Length;
                    rt.Partitions.Add(pd);
                }
                resp.Responses.Add(rt);
            }
            if (total >= Math.Max(1, req.MinBytes) || Environment.TickCount64 >= deadline) return resp;
            await Task.Delay(2).ConfigureAwait(false);
        }
    }
}
