using System.Collections.Concurrent;
using Broker.Core.Model;
using Broker.Metadata.Controller;
using Broker.Server.Producers;

namespace Broker.Server.Tests.Producers;

/// <summary>
/// A controller stand-in that hands out consecutive blocks of <see cref="BlockSize"/> ids, records every call, and
/// can be scripted per call (<see cref="Script"/>: call number from 1 → a block, an error, or an exception), made
/// slow (<see cref="Delay"/>) or held until released (<see cref="Hold"/>).
/// </summary>
internal sealed class FakeAllocator(int blockSize = 10) : IProducerIdAllocator
{
    private long _nextStart;
    private int _calls;
    private volatile TaskCompletionSource? _hold;

    public int BlockSize { get; set; } = blockSize;
    public int Calls => Volatile.Read(ref _calls);
    public ConcurrentQueue<(int BrokerId, long BrokerEpoch)> Requests { get; } = new();
    public Func<int, ProducerIdBlock?>? Script { get; set; }
    public TimeSpan Delay { get; set; }

    /// <summary>Calls from now on wait until <see cref="Release"/> (or their cancellation).</summary>
    public void Hold() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Interlocked.Exchange(ref _hold, null)?.TrySetResult();

    public static ProducerIdBlock Error(ErrorCode error) => new(error, -1, 0);

    public async Task<ProducerIdBlock> AllocateAsync(int brokerId, long brokerEpoch, CancellationToken cancellationToken)
    {
        int call = Interlocked.Increment(ref _calls);
        Requests.Enqueue((brokerId, brokerEpoch));
        if (_hold is { } hold) await hold.Task.WaitAsync(cancellationToken);
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay, cancellationToken);
        var scripted = Script?.Invoke(call);
        if (scripted is { } block) return block;
        long start = Interlocked.Add(ref _nextStart, BlockSize) - BlockSize;
        return new ProducerIdBlock(ErrorCode.None, start, BlockSize);
    }
}
