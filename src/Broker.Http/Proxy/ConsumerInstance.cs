namespace Broker.Http.Proxy;

/// <summary>
/// One REST proxy consumer instance (<c>/consumers/{group}/instances/{name}</c>): a group member plus the settings it
/// was created with. Requests on one instance run one at a time (<see cref="Gate"/>); the registry closes the
/// instance after <see cref="HttpProxyOptions.ConsumerInstanceTimeout"/> without requests.
/// </summary>
internal sealed class ConsumerInstance(string groupId, string name, ProxyFormat format, TimeSpan requestTimeout,
    IProxyConsumer consumer, long nowMs)
{
    private long _lastUsedMs = nowMs;

    public string GroupId { get; } = groupId;
    public string Name { get; } = name;
    /// <summary>The "format" it was created with (binary or json); records are rendered in the Accept format.</summary>
    public ProxyFormat Format { get; } = format;
    /// <summary>consumer.request.timeout.ms: how long a records request waits when it names no timeout.</summary>
    public TimeSpan RequestTimeout { get; } = requestTimeout;
    public IProxyConsumer Consumer { get; } = consumer;

    /// <summary>Held while a request uses the instance (and while it is being closed).</summary>
    internal SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Set (under <see cref="Gate"/>) once a subscription succeeded: polling needs one.</summary>
    internal bool Subscribed { get; set; }

    /// <summary>Set once, under <see cref="Gate"/>, when the instance is deleted or expires.</summary>
    internal bool Closed { get; set; }

    /// <summary>Monotonic milliseconds of the end of the last request (or of creation).</summary>
    internal long LastUsedMs
    {
        get => Interlocked.Read(ref _lastUsedMs);
        set => Interlocked.Exchange(ref _lastUsedMs, value);
    }
}
