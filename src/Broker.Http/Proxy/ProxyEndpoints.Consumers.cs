using System.Globalization;
using Broker.Client;
using Broker.Core.Model;
using Microsoft.AspNetCore.Http;

namespace Broker.Http.Proxy;

// Consumer instances: create, subscribe, poll records, committed offsets (read / commit), delete.
internal sealed partial class ProxyEndpoints
{
    /// <summary>consumer.request.timeout.ms when the create request names none (Confluent's default).</summary>
    internal static readonly TimeSpan DefaultConsumerRequestTimeout = TimeSpan.FromSeconds(1);
    private const int DefaultConsumerMaxBytes = 1024 * 1024;

    /// <summary>POST /consumers/{group}: {"name"?, "format"?, "auto.offset.reset"?, "auto.commit.enable"?, ...}.</summary>
    private async Task CreateConsumerAsync(HttpContext context)
    {
        var request = context.Request;
        ProxyHttp.ContentType(request, [ProxyFormat.V2], allowNone: false);
        var format = ProxyHttp.Accept(request, [ProxyFormat.V2], allowNone: true);
        string group = ProxyHttp.RouteValue(context, "group");
        var body = await ProxyHttp.ReadBodyAsync(request, context.RequestAborted).ConfigureAwait(false);
        var create = ProxyHttp.ParseBody(body, ProxyJsonContext.Default.CreateConsumerRequest);

        var recordFormat = create.Format switch
        {
            null => ProxyFormat.Binary,
            _ when create.Format.Equals("binary", StringComparison.OrdinalIgnoreCase) => ProxyFormat.Binary,
            _ when create.Format.Equals("json", StringComparison.OrdinalIgnoreCase) => ProxyFormat.Json,
            _ => throw ProxyErrorCodes.BadParameter($"format must be 'binary' or 'json', got '{create.Format}'"),
        };
        if (create.AutoOffsetReset is not (null or "earliest"))
            throw ProxyErrorCodes.BadParameter($"auto.offset.reset must be 'earliest', got '{create.AutoOffsetReset}'");
        if (create.AutoCommitEnable is not (null or "false"))
            throw ProxyErrorCodes.BadParameter($"auto.commit.enable must be 'false', got '{create.AutoCommitEnable}'");
        NonNegative(create.FetchMinBytes, "fetch.min.bytes");
        var requestTimeout = NonNegative(create.ConsumerRequestTimeoutMs, "consumer.request.timeout.ms") is { } ms
            ? TimeSpan.FromMilliseconds(ms)
            : DefaultConsumerRequestTimeout;
        if (create.Name is { Length: > 0 } name && !IsValidInstanceName(name))
            throw ProxyErrorCodes.BadParameter($"invalid consumer name '{name}': use letters, digits, '.', '_' and '-' (at most 249)");

        var instance = consumers.Create(group, create.Name, recordFormat, requestTimeout);
        var answer = new CreateConsumerResponse { InstanceId = instance.Name, BaseUri = BaseUri(context, group, instance.Name) };
        await ProxyHttp.WriteJsonAsync(context, 200, answer, ProxyJsonContext.Default.CreateConsumerResponse, format)
            .ConfigureAwait(false);
    }

    private static int? NonNegative(string? text, string name)
    {
        if (text is null) return null;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            throw ProxyErrorCodes.BadParameter($"{name} must be a non-negative integer, got '{text}'");
        return value;
    }

    internal static bool IsValidInstanceName(string name)
    {
        if (name.Length is 0 or > 249) return false;
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        }
        return true;
    }

    /// <summary>DELETE /consumers/{group}/instances/{instance}: the member leaves its group; 204.</summary>
    private async Task DeleteConsumerAsync(HttpContext context)
    {
        ProxyHttp.ContentType(context.Request, [ProxyFormat.V2], allowNone: true);
        ProxyHttp.Accept(context.Request, [ProxyFormat.V2], allowNone: true);
        await consumers.RemoveAsync(ProxyHttp.RouteValue(context, "group"), ProxyHttp.RouteValue(context, "instance"),
            context.RequestAborted).ConfigureAwait(false);
        ProxyHttp.NoContent(context);
    }

    /// <summary>POST .../subscription {"topics":[...]}: replaces the subscription; 204.</summary>
    private async Task SubscribeAsync(HttpContext context)
    {
        var request = context.Request;
        ProxyHttp.ContentType(request, [ProxyFormat.V2], allowNone: false);
        ProxyHttp.Accept(request, [ProxyFormat.V2], allowNone: true);
        var body = await ProxyHttp.ReadBodyAsync(request, context.RequestAborted).ConfigureAwait(false);
        var subscription = ProxyHttp.ParseBody(body, ProxyJsonContext.Default.SubscriptionRequest);
        if (subscription.Topics is null)
        {
            if (subscription.TopicPattern is not null) throw ProxyErrorCodes.BadParameter("topic_pattern subscriptions are not supported");
            throw ProxyErrorCodes.BadBody("the body must have a \"topics\" array");
        }
        if (subscription.Topics.Length == 0) throw ProxyErrorCodes.BadParameter("topics must not be empty");
        foreach (string? topic in subscription.Topics)
        {
            if (string.IsNullOrEmpty(topic)) throw ProxyErrorCodes.BadBody("topics must be non-empty strings");
        }
        var topics = subscription.Topics;
        await consumers.UseAsync(ProxyHttp.RouteValue(context, "group"), ProxyHttp.RouteValue(context, "instance"),
            async instance =>
            {
                await instance.Consumer.SubscribeAsync(topics, context.RequestAborted).ConfigureAwait(false);
                instance.Subscribed = true;
                return true;
            }, context.RequestAborted).ConfigureAwait(false);
        ProxyHttp.NoContent(context);
    }

    /// <summary>GET .../records?timeout=&amp;max_bytes=: polls the member (joining its group first if needed).</summary>
    private async Task ConsumerRecordsAsync(HttpContext context)
    {
        var request = context.Request;
        var format = ProxyHttp.Accept(request, [ProxyFormat.Binary, ProxyFormat.Json], allowNone: false);
        long? timeoutMs = ProxyHttp.QueryLong(request, "timeout", required: false, 0, int.MaxValue);
        long? maxBytes = ProxyHttp.QueryLong(request, "max_bytes", required: false, 1, int.MaxValue);
        var records = await consumers.UseAsync(ProxyHttp.RouteValue(context, "group"), ProxyHttp.RouteValue(context, "instance"),
            instance =>
            {
                if (!instance.Subscribed)
                {
                    throw ProxyErrorCodes.BadParameter(
                        $"consumer instance '{instance.Name}' has no subscription: POST .../subscription first");
                }
                var timeout = timeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : instance.RequestTimeout;
                if (timeout > MaxFetchWait) timeout = MaxFetchWait;
                return instance.Consumer.PollAsync(timeout, (int)(maxBytes ?? DefaultConsumerMaxBytes), context.RequestAborted);
            }, context.RequestAborted).ConfigureAwait(false);
        await WriteRecordsAsync(context, records, format).ConfigureAwait(false);
    }

    /// <summary>GET .../offsets with body {"partitions":[{"topic","partition"}]}: the group's committed offsets.</summary>
    private async Task GetOffsetsAsync(HttpContext context)
    {
        var request = context.Request;
        ProxyHttp.ContentType(request, [ProxyFormat.V2], allowNone: false);
        var format = ProxyHttp.Accept(request, [ProxyFormat.V2], allowNone: true);
        var body = await ProxyHttp.ReadBodyAsync(request, context.RequestAborted).ConfigureAwait(false);
        var partitions = ProxyHttp.ParseBody(body, ProxyJsonContext.Default.PartitionsRequest).Partitions
            ?? throw ProxyErrorCodes.BadBody("the body must have a \"partitions\" array");
        var wanted = new TopicPartition[partitions.Length];
        for (int i = 0; i < wanted.Length; i++)
        {
            if (partitions[i] is not { } p || string.IsNullOrEmpty(p.Topic) || p.Partition < 0)
                throw ProxyErrorCodes.BadBody($"partitions[{i}] needs a topic and a non-negative partition");
            wanted[i] = new TopicPartition(p.Topic, p.Partition);
        }
        var committed = await consumers.UseAsync(ProxyHttp.RouteValue(context, "group"), ProxyHttp.RouteValue(context, "instance"),
            instance => instance.Consumer.CommittedAsync(wanted, context.RequestAborted), context.RequestAborted).ConfigureAwait(false);
        var offsets = new CommittedOffsetBody[committed.Count];
        for (int i = 0; i < offsets.Length; i++)
        {
            var c = committed[i];
            offsets[i] = new CommittedOffsetBody { Topic = c.Topic, Partition = c.Partition, Offset = c.Offset, Metadata = c.Metadata ?? "" };
        }
        await ProxyHttp.WriteJsonAsync(context, 200, new OffsetsResponseBody { Offsets = offsets },
            ProxyJsonContext.Default.OffsetsResponseBody, format).ConfigureAwait(false);
    }

    /// <summary>POST .../offsets {"partitions":[{"topic","partition","offset"}]}; an empty body commits everything polled. 204.</summary>
    private async Task CommitOffsetsAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await ProxyHttp.ReadBodyAsync(request, context.RequestAborted).ConfigureAwait(false);
        bool commitAll = body.Span.Trim(" \t\r\n"u8).IsEmpty;
        ProxyHttp.ContentType(request, [ProxyFormat.V2], allowNone: commitAll);
        ProxyHttp.Accept(request, [ProxyFormat.V2], allowNone: true);
        TopicPartitionOffset[]? offsets = null;
        if (!commitAll)
        {
            var partitions = ProxyHttp.ParseBody(body, ProxyJsonContext.Default.PartitionOffsetsRequest).Partitions
                ?? throw ProxyErrorCodes.BadBody("the body must have a \"partitions\" array");
            offsets = new TopicPartitionOffset[partitions.Length];
            for (int i = 0; i < offsets.Length; i++)
            {
                if (partitions[i] is not { } p || string.IsNullOrEmpty(p.Topic) || p.Partition < 0 || p.Offset < 0)
                    throw ProxyErrorCodes.BadBody($"partitions[{i}] needs a topic, a non-negative partition and offset");
                offsets[i] = new TopicPartitionOffset(p.Topic, p.Partition, p.Offset, p.Metadata);
            }
        }
        await consumers.UseAsync(ProxyHttp.RouteValue(context, "group"), ProxyHttp.RouteValue(context, "instance"),
            async instance =>
            {
                await instance.Consumer.CommitAsync(offsets, context.RequestAborted).ConfigureAwait(false);
                return true;
            }, context.RequestAborted).ConfigureAwait(false);
        ProxyHttp.NoContent(context);
    }
}
