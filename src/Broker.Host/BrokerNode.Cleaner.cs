namespace Broker.Host;

// The log cleaner (log.cleaner.enable): every log.cleaner.backoff.ms, compacts the local replicas of topics with
// cleanup.policy=compact whose dirty ratio reached min.cleanable.dirty.ratio (PartitionManager.RunCompaction).
public sealed partial class BrokerNode
{
    private Task _cleaner = Task.CompletedTask;

    private void StartLogCleaner()
    {
        if (!Config.LogCleanerEnable) return;
        _cleaner = RunLogCleanerAsync(TimeSpan.FromMilliseconds(Math.Max(100, Config.LogCleanerBackoffMs)), _stopping.Token);
    }

    private async Task RunLogCleanerAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    _partitions!.RunCompaction(_clock.UnixTimeMilliseconds);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Logger.Error("log cleaner pass failed", ex);
                }
            }
        }
        catch (OperationCanceledException) { }
    }
}
