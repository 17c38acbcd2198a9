namespace Broker.Server.Admin;

/// <summary>
/// Runs an admin call under the request's TimeoutMs (and the connection's lifetime). A call that is cancelled
/// before it completes yields null; the handler answers REQUEST_TIMED_OUT, which, as in Kafka, means the change
/// may or may not have been made.
/// </summary>
internal static class AdminTimeout
{
    public static async Task<T?> RunAsync<T>(int timeoutMs, CancellationToken connectionClosed, Func<CancellationToken, Task<T>> call)
        where T : class
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(connectionClosed);
        if (timeoutMs > 0) cts.CancelAfter(timeoutMs);
        try
        {
            return await call(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return null;
        }
    }

    public static string Message(int timeoutMs) => $"The request did not complete within its timeout of {timeoutMs} ms.";
}
