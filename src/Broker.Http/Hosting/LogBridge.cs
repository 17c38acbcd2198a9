using Broker.Core.Diagnostics;
using Microsoft.Extensions.Logging;
using CoreLogLevel = Broker.Core.Diagnostics.LogLevel;
using MsLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Broker.Http.Hosting;

/// <summary>
/// Routes ASP.NET Core / Kestrel logging into the broker's own log (one component per server, e.g. "admin-http"):
/// warnings and errors as such, information and debug as our Debug (framework chatter such as "Now listening" or
/// per-request lines stays out of the normal log), trace dropped. The generic host's own start/stop failure reports
/// are Debug too: the exception reaches the caller, which reports it once.
/// </summary>
public sealed class LogBridgeProvider(string component) : ILoggerProvider
{
    private readonly Logger _logger = Log.For(component);

    public ILogger CreateLogger(string categoryName) => new Bridge(_logger, categoryName);

    public void Dispose() { }

    private sealed class Bridge(Logger logger, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(MsLogLevel logLevel) => logLevel switch
        {
            MsLogLevel.None or MsLogLevel.Trace => false,
            MsLogLevel.Debug or MsLogLevel.Information => Broker.Core.Diagnostics.Log.MinLevel <= CoreLogLevel.Debug,
            _ => true,
        };

        public void Log<TState>(MsLogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            // The host reports start and stop failures by throwing to its caller, which logs them once, clearly.
            if (logLevel >= MsLogLevel.Error && category.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal))
                logLevel = MsLogLevel.Debug;
            if (!IsEnabled(logLevel)) return;
            string text = $"{category}: {formatter(state, exception)}";
            switch (logLevel)
            {
                case MsLogLevel.Warning: logger.Warn(exception is null ? text : $"{text}: {exception.Message}"); break;
                case MsLogLevel.Error or MsLogLevel.Critical:
                    if (exception is null) logger.Error(text);
                    else logger.Error(text, exception);
                    break;
                default: logger.Debug(exception is null ? text : $"{text}: {exception.Message}"); break;
            }
        }
    }
}
