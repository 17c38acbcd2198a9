using Broker.Consensus;
using Broker.Core.Diagnostics;
using Broker.Core.Records;
using Broker.Metadata.Image;
using Broker.Metadata.Records;
using Broker.Storage;

namespace Broker.Metadata;

/// <summary>
/// Keeps <see cref="Current"/> in step with the committed part of the metadata log. <see cref="Replay"/> reads
/// the log from its start to the high watermark at startup; afterwards every
/// <see cref="IReplicatedLog.HighWatermarkAdvanced"/> schedules a catch-up on the thread pool (the event handler
/// itself only sets a flag), and the controller calls <see cref="CatchUp"/> directly after its own commits.
/// Each catch-up applies whole batches below the high watermark and publishes one new image.
/// </summary>
public sealed class MetadataApplier : IDisposable
{
    private const int ReadChunkBytes = 1 << 20;

    private readonly IReplicatedLog _log;
    private readonly MetadataStateMachine _stateMachine;
    private readonly Func<int> _controllerId;
    private readonly Logger _logger;
    private readonly object _applyGate = new();
    private readonly Action<IReplicatedLog> _onHighWatermark;
    private MetadataImage _current;
    private long _nextOffset;
    private int _scheduled;
    private bool _subscribed;
    private volatile bool _disposed;

    /// <param name="controllerId">Reports the active controller's node id; stamped into each new image.</param>
    public MetadataApplier(IReplicatedLog log, string clusterId, Func<int> controllerId, MetadataStateMachine? stateMachine = null, Logger? logger = null)
    {
        _log = log;
        _controllerId = controllerId;
        _logger = logger ?? Log.For("metadata");
        _stateMachine = stateMachine ?? new MetadataStateMachine(_logger);
        _current = MetadataImage.Empty(clusterId, controllerId());
        _nextOffset = log.Log.LogStartOffset;
        _onHighWatermark = OnHighWatermarkAdvanced;
    }

    /// <summary>The latest published image. Never null; replaced atomically.</summary>
    public MetadataImage Current => Volatile.Read(ref _current);

    /// <summary>Next metadata log offset to apply.</summary>
    public long NextOffset { get { lock (_applyGate) return _nextOffset; } }

    /// <summary>
    /// Raised after each new image is published, in order, while the applier's lock is held. Handlers must be quick
    /// and must not wait on controller operations (post such work elsewhere).
    /// </summary>
    public event Action<MetadataImage>? ImageChanged;

    /// <summary>
    /// Applies everything committed so far, then subscribes to high-watermark advances. Throws
    /// <see cref="MetadataFormatException"/> if the log cannot be interpreted.
    /// </summary>
    public MetadataImage Replay()
    {
        var image = CatchUp();
        if (!_subscribed)
        {
            _log.HighWatermarkAdvanced += _onHighWatermark;
            _subscribed = true;
            image = CatchUp(); // anything committed between the first pass and the subscription
        }
        return image;
    }

    /// <summary>Applies committed batches from <see cref="NextOffset"/> to the high watermark; returns the image.</summary>
    public MetadataImage CatchUp()
    {
        lock (_applyGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            long highWatermark = _log.HighWatermark;
            if (_nextOffset >= highWatermark) return _current;
            var builder = new MetadataImageBuilder(_current);
            long startOffset = _nextOffset;
            try
            {
                while (_nextOffset < highWatermark && ApplyChunk(builder, highWatermark)) { }
            }
            catch
            {
                _nextOffset = startOffset; // nothing of this pass was published
                throw;
            }
            builder.ControllerId = _controllerId();
            if (builder.LastAppliedOffset < _nextOffset - 1) builder.LastAppliedOffset = _nextOffset - 1;
            var image = builder.Build();
            Volatile.Write(ref _current, image);
            if (_logger.IsDebugEnabled)
                _logger.Debug($"applied metadata offsets {startOffset}..{_nextOffset - 1}: {image}");
            PublishImageChanged(image);
            return image;
        }
    }

    /// <summary>Reads one chunk of batches and applies it; false when the log returned nothing.</summary>
    private bool ApplyChunk(MetadataImageBuilder builder, long highWatermark)
    {
        using var read = _log.Log.Read(_nextOffset, ReadChunkBytes, highWatermark, minOneBatch: true);
        if (read.OutOfRange)
            throw new MetadataFormatException(
                $"metadata log offset {_nextOffset} is out of range (log start {_log.Log.LogStartOffset}, end {_log.Log.LogEndOffset})");
        var bytes = read.Records.Span;
        if (bytes.IsEmpty) return false;
        int position = 0;
        while (position < bytes.Length)
        {
            var error = RecordBatchValidator.ValidateOne(bytes[position..], int.MaxValue, out var header);
            if (error == BatchError.Truncated && position > 0) break; // partial tail: read again from here
            if (error != BatchError.None)
                throw new MetadataFormatException($"corrupt metadata batch at offset {_nextOffset}: {error}");
            ApplyBatch(builder, bytes.Slice(position, header.TotalSize), header);
            position += header.TotalSize;
        }
        return position > 0;
    }

    private void ApplyBatch(MetadataImageBuilder builder, ReadOnlySpan<byte> batch, in RecordBatchHeader header)
    {
        if (header.LastOffset < _nextOffset) return; // already applied
        if (!header.IsControl)
        {
            if (header.Compression != CompressionCodec.None)
                throw new MetadataFormatException($"metadata batch at offset {header.BaseOffset} is compressed ({header.Compression}); not supported");
            var records = new RecordReader(batch);
            string? error;
            while (records.TryRead(out var view, out error))
            {
                long offset = view.Offset;
                if (view.ValueIsNull) throw new MetadataFormatException($"metadata record at offset {offset} has a null value");
                if (offset < _nextOffset) continue;
                MetadataRecord record;
                try { record = MetadataRecordSerde.Deserialize(view.Value); }
                catch (MetadataFormatException ex)
                {
                    throw new MetadataFormatException($"cannot decode metadata record at offset {offset}: {ex.Message}", ex);
                }
                _stateMachine.Apply(builder, offset, record);
            }
            if (error is not null)
                throw new MetadataFormatException($"malformed record in the metadata batch at offset {header.BaseOffset}: {error}");
        }
        _nextOffset = header.LastOffset + 1;
    }

    /// <summary>Calls each subscriber; one that throws is logged and does not stop the others or the caller.</summary>
    private void PublishImageChanged(MetadataImage image)
    {
        var handlers = ImageChanged;
        if (handlers is null) return;
        foreach (var handler in handlers.GetInvocationList())
        {
            try { ((Action<MetadataImage>)handler)(image); }
            catch (Exception ex) { _logger.Error($"an ImageChanged subscriber failed on {image}", ex); }
        }
    }

    private void OnHighWatermarkAdvanced(IReplicatedLog log)
    {
        if (_disposed || Interlocked.Exchange(ref _scheduled, 1) != 0) return;
        ThreadPool.UnsafeQueueUserWorkItem(static self => self.RunScheduledCatchUp(), this, preferLocal: false);
    }

    private void RunScheduledCatchUp()
    {
        Volatile.Write(ref _scheduled, 0);
        if (_disposed) return;
        try { CatchUp(); }
        catch (ObjectDisposedException) { }
        catch (Exception ex) { _logger.Error("applying committed metadata records failed", ex); }
    }

    public void Dispose()
    {
        lock (_applyGate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_subscribed) _log.HighWatermarkAdvanced -= _onHighWatermark;
        }
    }
}
