namespace Broker.Core.Diagnostics;

public enum LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 }

/// <summary>
/// A small allocation-light logger: one line per event on stderr, "timestamp LEVEL [component] message".
/// No reflection, so it is safe under NativeAOT. Components create one <see cref="Logger"/> each.
/// </summary>
public static class Log
{
    private static readonly object Gate = new();
    public static LogLevel MinLevel { get; set; } = LogLevel.Info;
    public static TextWriter Output { get; set; } = Console.Error;

    public static Logger For(string component) => new(component);

    internal static void Write(LogLevel level, string component, string message)
    {
        if (level < MinLevel) return;
        string line = $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {LevelName(level)} [{component}] {message}";
        lock (Gate) { Output.WriteLine(line); Output.Flush(); }
    }

    private static string LevelName(LogLevel l) => l switch
    {
        LogLevel.Debug => "DEBUG",
        LogLevel.Info => "INFO ",
        LogLevel.Warn => "WARN ",
        _ => "ERROR",
    };
}

public sealed class Logger(string component)
{
    public string Component { get; } = component;
    public bool IsDebugEnabled => Log.MinLevel <= LogLevel.Debug;
    public void Debug(string message) => Log.Write(LogLevel.Debug, Component, message);
    public void Info(string message) => Log.Write(LogLevel.Info, Component, message);
    public void Warn(string message) => Log.Write(LogLevel.Warn, Component, message);
    public void Error(string message) => Log.Write(LogLevel.Error, Component, message);
    public void Error(string message, Exception ex) => Log.Write(LogLevel.Error, Component, $"{message}: {ex}");
}
