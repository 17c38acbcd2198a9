using Broker.Core.Buffers;

namespace Broker.Network;

/// <summary>One dispatched request: the handler's pending response and the pooled frame it may still read.</summary>
internal readonly struct PendingResponse(ValueTask<ChunkedBufferWriter?> response, byte[]? frame)
{
    public readonly ValueTask<ChunkedBufferWriter?> Response = response;
    /// <summary>Rented frame buffer, returned once <see cref="Response"/> completed; null for an empty frame.</summary>
    public readonly byte[]? Frame = frame;
}

/// <summary>
/// The per-connection FIFO between the receive loop (single producer) and the send loop (single consumer).
/// An entry stays queued until its response was written, so <see cref="Count"/> is the number of requests in
/// flight and the receive loop applies backpressure with <see cref="HasSpace"/>. A ring buffer that grows by
/// doubling up to the in-flight limit; no allocation per request in steady state.
/// </summary>
internal sealed class PendingResponseQueue
{
    private readonly object _lock = new();
    private readonly int _limit;
    private PendingResponse[] _items;
    private int _head;
    private int _count;
    private bool _addingCompleted;

    public PendingResponseQueue(int limit)
    {
        _limit = limit;
        _items = new PendingResponse[Math.Min(limit, 8)];
    }

    /// <summary>
    /// Signalled after an entry was added or adding was completed (wakes the send loop). The send loop resumes
    /// inline on the receive loop's thread: a response that is already complete is written right away without a
    /// thread-pool hop or allocation, and control returns to the receive loop when the send loop next waits.
    /// </summary>
    public AsyncSignal ItemAdded { get; } = new(runContinuationsAsynchronously: false);

    /// <summary>Signalled after the head entry was removed (wakes the receive loop waiting for space; rare path).</summary>
    public AsyncSignal SpaceFreed { get; } = new(runContinuationsAsynchronously: true);

    public int Count
    {
        get { lock (_lock) return _count; }
    }

    public bool HasSpace
    {
        get { lock (_lock) return _count < _limit; }
    }

    public void Enqueue(in PendingResponse item)
    {
        lock (_lock)
        {
            if (_addingCompleted) throw new InvalidOperationException("Adding was completed.");
            if (_count >= _limit) throw new InvalidOperationException("The in-flight limit was reached.");
            if (_count == _items.Length) Grow();
            _items[(_head + _count) % _items.Length] = item;
            _count++;
        }
        ItemAdded.Set();
    }

    /// <summary>
    /// Reads the head entry without removing it. When there is none, <paramref name="completed"/> tells
    /// (atomically with the emptiness check) whether more entries can still arrive.
    /// </summary>
    public bool TryPeek(out PendingResponse item, out bool completed)
    {
        lock (_lock)
        {
            completed = _addingCompleted;
            if (_count == 0)
            {
                item = default;
                return false;
            }
            item = _items[_head];
            return true;
        }
    }

    public void RemoveHead()
    {
        lock (_lock)
        {
            if (_count == 0) throw new InvalidOperationException("The queue is empty.");
            _items[_head] = default;
            _head = (_head + 1) % _items.Length;
            _count--;
        }
        SpaceFreed.Set();
    }

    /// <summary>No more entries will be added; the consumer drains what is queued and stops.</summary>
    public void CompleteAdding()
    {
        lock (_lock) _addingCompleted = true;
        ItemAdded.Set();
    }

    private void Grow()
    {
        var bigger = new PendingResponse[Math.Min(_limit, _items.Length * 2)];
        for (int i = 0; i < _count; i++) bigger[i] = _items[(_head + i) % _items.Length];
        _items = bigger;
        _head = 0;
    }
}
