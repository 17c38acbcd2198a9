using Broker.Protocol.Messages;

namespace Broker.Server.Pipeline;

/// <summary>The registered handlers by API key. ApiVersions answers from this table, so what is advertised is
/// exactly what is registered, except node-to-node APIs registered with <see cref="RegisterInternal"/>, which are
/// served but never advertised (clients must only ever see Kafka's own keys).</summary>
public sealed class HandlerTable
{
    private readonly IKafkaHandler?[] _byKey = new IKafkaHandler?[128];
    private readonly bool[] _internal = new bool[128];
    private readonly List<IKafkaHandler> _all = new();

    public IReadOnlyList<IKafkaHandler> All => _all;

    public HandlerTable Register(IKafkaHandler handler) => Add(handler, advertise: true);

    /// <summary>Registers a private node-to-node API (Raft envelopes, leadership reports): served, not advertised.</summary>
    public HandlerTable RegisterInternal(IKafkaHandler handler) => Add(handler, advertise: false);

    /// <summary>True when <paramref name="apiKey"/> was registered with <see cref="RegisterInternal"/>.</summary>
    public bool IsInternal(short apiKey) => (uint)apiKey < (uint)_internal.Length && _internal[apiKey];

    private HandlerTable Add(IKafkaHandler handler, bool advertise)
    {
        int key = (int)handler.Key;
        if ((uint)key >= (uint)_byKey.Length) throw new ArgumentOutOfRangeException(nameof(handler), $"API key {key} out of range");
        if (_byKey[key] is not null) throw new InvalidOperationException($"API key {handler.Key} registered twice");
        if (ApiMessages.TryGet((short)key, out var codec) && (handler.MaxVersion > codec.HighestVersion || handler.MinVersion < codec.LowestVersion))
            throw new InvalidOperationException($"{handler.Key} advertises {handler.MinVersion}-{handler.MaxVersion} beyond its codec {codec.LowestVersion}-{codec.HighestVersion}");
        _byKey[key] = handler;
        if (!advertise)
        {
            _internal[key] = true;
            return this;
        }
        _all.Add(handler);
        _all.Sort((a, b) => ((short)a.Key).CompareTo((short)b.Key));
        return this;
    }

    public IKafkaHandler? Get(short apiKey) => (uint)apiKey < (uint)_byKey.Length ? _byKey[apiKey] : null;
}
