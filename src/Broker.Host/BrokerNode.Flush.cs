namespace Broker.Host;

// The log flusher: every log.flush.scheduler.interval.ms, fsyncs the local replicas whose oldest unflushed append is
// older than their flush.ms / log.flush.interval.ms (PartitionManager.FlushDue). The count half of the policy
// (flush.messages) and write.caching=false act on the append path itself.
public sealed partial class BrokerNode
{
    private Task _flusher = Task.CompletedTask;

    private void StartLogFlusher()
    {
        _flusher = RunLogFlusherAsync(TimeSpan.FromMilliseconds(Math.Max(1, Config.LogFlushSchedulerIntervalMs)), _stopping.Token);
    }

    private async Task RunLogFlusherAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    _partitions!.FlushDue(_clock.UnixTimeMilliseconds);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Logger.Error("scheduled log flush failed", ex);
                }
            }
        }
        catch (OperationCanceledException) { }
    }
}
