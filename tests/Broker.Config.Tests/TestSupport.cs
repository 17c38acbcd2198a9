using Broker.Config;

namespace Broker.Config.Tests;

/// <summary>A scratch directory under the system temp dir, removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "broker-config-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, string text)
    {
        string p = System.IO.Path.Combine(Path, name);
        File.WriteAllText(p, text);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Valid configuration texts used as starting points by the tests.</summary>
public static class Configs
{
    /// <summary>A valid combined-mode file (Kafka's sample shape). Line numbers matter to tests: see comments.</summary>
    public static string Combined(string dataDir) =>
        "process.roles=broker,controller\n" +                                            // 1
        "node.id=1\n" +                                                                  // 2
        "controller.quorum.voters=1@localhost:9093\n" +                                  // 3
        "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n" +                             // 4
        "advertised.listeners=PLAINTEXT://localhost:9092\n" +                            // 5
        "controller.listener.names=CONTROLLER\n" +                                       // 6
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n" +   // 7
        $"log.dirs={dataDir}\n";                                                          // 8

    /// <summary>Replaces the line starting with "key=" (or appends when absent); null removes it.</summary>
    public static string With(string text, string key, string? value)
    {
        var lines = text.TrimEnd('\n').Split('\n').ToList();
        int idx = lines.FindIndex(l => l.StartsWith(key + "=", StringComparison.Ordinal));
        if (value is null) { if (idx >= 0) lines.RemoveAt(idx); }
        else if (idx >= 0) lines[idx] = $"{key}={value}";
        else lines.Add($"{key}={value}");
        return string.Join("\n", lines) + "\n";
    }

    public static int LineOf(string text, string key) =>
        text.Split('\n').ToList().FindIndex(l => l.StartsWith(key + "=", StringComparison.Ordinal)) + 1;
}
