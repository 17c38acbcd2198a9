using System.Collections.Immutable;
using System.Net;
using Broker.Core.Diagnostics;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Metadata.Image;
using Broker.Network;
using Broker.Protocol.Codec;
using Broker.Server.Admin;
using Broker.Server.Pipeline;
using Broker.Server.Tests.Harness;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>A clock whose monotonic time only moves when told (creation back-off).</summary>
internal sealed class SteppedClock : IClock
{
    public long Monotonic = 1_000_000;
    public long UnixTimeMilliseconds => 1_700_000_000_000 + Interlocked.Read(ref Monotonic);
    public long MonotonicMilliseconds => Interlocked.Read(ref Monotonic);
}

/// <summary>
/// An <see cref="ITopicAdmin"/> for topic creation: records every spec; answers <see cref="Answer"/>, or holds the
/// call until <see cref="Release"/> when <see cref="Hold"/> is set.
/// </summary>
internal sealed class CapturingTopicAdmin : ITopicAdmin
{
    private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public List<NewTopicSpec> Created { get; } = new();
    public ErrorCode Answer { get; set; } = ErrorCode.None;
    public bool Hold { get; set; }
    public bool Throw { get; set; }

    public void Release()
    {
        var gate = _gate;
        _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.TrySetResult();
    }

    public async Task<IReadOnlyList<CreateTopicResult>> CreateTopicsAsync(IReadOnlyList<NewTopicSpec> topics, bool validateOnly, CancellationToken cancellationToken)
    {
        lock (Created) Created.AddRange(topics);
        if (Hold) await _gate.Task;
        if (Throw) throw new IOException("controller unreachable");
        var results = new List<CreateTopicResult>();
        foreach (var t in topics)
            results.Add(new CreateTopicResult(t.Name, Answer, Answer == ErrorCode.None ? null : $"refused: {Answer}", Guid.NewGuid(),
                t.NumPartitions, t.ReplicationFactor, new Dictionary<string, string>()));
        return results;
    }

    public Task<IReadOnlyList<DeleteTopicResult>> DeleteTopicsAsync(IReadOnlyList<TopicReference> topics, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("not expected");

    public Task<IReadOnlyList<CreatePartitionsResult>> CreatePartitionsAsync(IReadOnlyList<NewPartitionsSpec> specs, bool validateOnly, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("not expected");
}

/// <summary>Metadata images for the group handler tests, built with <see cref="MetadataImageBuilder"/>.</summary>
internal static class GroupImages
{
    public const string Plaintext = "PLAINTEXT";
    public const string External = "EXTERNAL";

    /// <summary>Broker n: PLAINTEXT broker{n}.local:9092 and EXTERNAL ext{n}.example:19092 (unless <paramref name="plaintextOnly"/>).</summary>
    public static BrokerRegistration Broker(int id, bool fenced = false, bool plaintextOnly = false)
    {
        var endpoints = new List<BrokerEndpoint> { new(Plaintext, $"broker{id}.local", 9092, 0) };
        if (!plaintextOnly) endpoints.Add(new BrokerEndpoint(External, $"ext{id}.example", 19092, 0));
        return new BrokerRegistration(id, Guid.NewGuid(), id * 10, endpoints, null, fenced);
    }

    public static MetadataImage Build(IEnumerable<BrokerRegistration> brokers, Action<MetadataImageBuilder>? edit = null)
    {
        var builder = new MetadataImageBuilder(MetadataImage.Empty("group-tests", 1));
        foreach (var b in brokers) builder.SetBroker(b);
        edit?.Invoke(builder);
        builder.LastAppliedOffset = 1;
        return builder.Build();
    }

    /// <summary>Adds a topic whose partition i is led by leaders[i] (-1 = none), with every broker 1..3 as replica.</summary>
    public static void AddTopic(MetadataImageBuilder builder, string name, params int[] leaders)
    {
        var id = Guid.NewGuid();
        Assert.True(builder.AddTopic(name, id));
        var draft = builder.EditTopic(id)!;
        for (int i = 0; i < leaders.Length; i++)
            Assert.True(draft.SetPartition(new PartitionImage(i, leaders[i], 3, 0, ImmutableArray.Create(1, 2, 3), ImmutableArray.Create(1, 2, 3))));
    }
}

/// <summary>Drives a handler table through a real dispatcher as a client on a chosen listener and address.</summary>
internal sealed class GroupWireHarness(HandlerTable table)
{
    private readonly KafkaRequestDispatcher _dispatcher = new(table);
    private int _correlation = 100;

    public async Task<T> CallAsync<T>(short apiKey, short version, IKafkaMessage request, HandlerHarness.ResponseReader<T> read,
        string listener = GroupImages.Plaintext, string clientId = "group-test", IPAddress? from = null)
    {
        int correlationId = Interlocked.Increment(ref _correlation);
        var frame = HandlerHarness.EncodeRequest(apiKey, version, request, correlationId, clientId);
        var connection = new ConnectionContext(7, listener, new IPEndPoint(from ?? IPAddress.Loopback, 40000), new IPEndPoint(IPAddress.Loopback, 9092));
        using var output = await _dispatcher.HandleAsync(connection, frame) ?? throw new InvalidOperationException("no response");
        output.WriteSizePrefix();
        var bytes = output.ToArray()[4..];
        var reader = new KafkaReader(bytes);
        Assert.Equal(correlationId, RequestHeader.ReadResponseHeader(ref reader, apiKey, version));
        var result = read(ref reader, version);
        Assert.True(reader.IsAtEnd, $"{reader.Remaining} unread bytes after the response body");
        return result;
    }

    /// <summary>Sends a raw frame; returns the exception the dispatcher raised (the connection would be closed), or null.</summary>
    public async Task<Exception?> SendExpectingCloseAsync(byte[] frame)
    {
        var connection = new ConnectionContext(8, GroupImages.Plaintext, new IPEndPoint(IPAddress.Loopback, 40001), null);
        try
        {
            using var output = await _dispatcher.HandleAsync(connection, frame);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}
