namespace Broker.Storage;

/// <summary>
/// Runs work dominated by blocking file-system calls (opening thousands of logs, fsyncs of logs, directories and
/// checkpoints) from a few dedicated threads so the calls overlap: the kernel and the journal batch them, and the
/// thread pool would add threads too slowly for such bursts (start-up, shutdown, creating many partitions).
/// </summary>
public static class ParallelIo
{
    public const int MaxThreads = 16;
    private const int ItemsPerThread = 64;

    /// <summary>
    /// Calls <paramref name="action"/> once per item from up to <see cref="MaxThreads"/> threads (one per 64 items;
    /// inline for 64 or fewer) and returns when all are done. <paramref name="action"/> must catch its own failures:
    /// an exception escaping it ends the process, as on any thread.
    /// </summary>
    public static void ForEach<T>(IReadOnlyList<T> items, Action<T> action)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(action);
        int threads = Math.Min(MaxThreads, (items.Count + ItemsPerThread - 1) / ItemsPerThread);
        if (threads <= 1)
        {
            foreach (var item in items) action(item);
            return;
        }
        int next = -1;
        var workers = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            workers[i] = new Thread(() =>
            {
                int k;
                while ((k = Interlocked.Increment(ref next)) < items.Count) action(items[k]);
            })
            {
                IsBackground = true,
                Name = "storage-io",
            };
            workers[i].Start();
        }
        foreach (var worker in workers) worker.Join();
    }
}
