namespace Broker.Server.Partitions;

// The time half of the flush policy: the host calls FlushDue every log.flush.scheduler.interval.ms.
public sealed partial class PartitionManager
{
    /// <summary>
    /// Fsyncs every local replica whose oldest unflushed append is at least its flush.ms old at
    /// <paramref name="nowMs"/> (see <see cref="Broker.Storage.IPartitionLog.FlushIfDue"/>). A failure on one log is
    /// logged and the others still run. Returns how many logs were flushed.
    /// </summary>
    public int FlushDue(long nowMs)
    {
        int flushed = 0;
        foreach (var entry in _states)
        {
            try
            {
                if (entry.Value.Log.FlushIfDue(nowMs)) flushed++;
            }
            catch (ObjectDisposedException)
            {
                // removed concurrently
            }
            catch (Exception ex)
            {
                Logger.Error($"scheduled flush failed for {entry.Key}", ex);
            }
        }
        return flushed;
    }
}
