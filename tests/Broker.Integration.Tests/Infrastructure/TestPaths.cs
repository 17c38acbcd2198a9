using System.Runtime.CompilerServices;

namespace Broker.Integration.Tests.Infrastructure;

/// <summary>
/// Locates what the integration tests run: the broker binary (env <c>BROKER_BIN</c>, else
/// <c>artifacts/publish/broker</c> in the repository) and the client scenario scripts under <c>tests/clients</c>.
/// </summary>
public static class TestPaths
{
    /// <summary>The Debian interpreter: the Debian Kafka client packages only load under it.</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);

    public static string RepoRoot => s_repoRoot.Value;

    public static string ClientsDir => Path.Combine(RepoRoot, "tests", "clients");

    public static string ConfluentScript => Path.Combine(ClientsDir, "python", "confluent_scenario.py");

    public static string KafkaPythonScript => Path.Combine(ClientsDir, "python", "kafkapython_scenario.py");

    public static string KcatScript => Path.Combine(ClientsDir, "kcat", "kcat_scenario.sh");

    public static string KafkaJsScript => Path.Combine(ClientsDir, "node", "kafkajs_scenario.js");

    /// <summary>Absolute path of the broker executable; throws a message saying how to get one.</summary>
    public static string BrokerBin
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("BROKER_BIN");
            if (!string.IsNullOrWhiteSpace(env))
            {
                string full = Path.GetFullPath(env);
                if (!File.Exists(full))
                    throw new InvalidOperationException($"BROKER_BIN={env} does not exist. Publish it with: dotnet publish src/Broker.Host -c Release -r linux-x64 -o artifacts/publish (tests/run-all.sh does this).");
                return full;
            }
            string fallback = Path.Combine(RepoRoot, "artifacts", "publish", "broker");
            if (File.Exists(fallback)) return fallback;
            throw new InvalidOperationException(
                "BROKER_BIN is not set and artifacts/publish/broker does not exist: the integration tests need the published broker. " +
                "Run tests/run-all.sh, or: dotnet publish src/Broker.Host -c Release -r linux-x64 -o artifacts/publish && " +
                "BROKER_BIN=$PWD/artifacts/publish/broker dotnet test tests/Broker.Integration.Tests");
        }
    }

    private static string FindRepoRoot()
    {
        string? env = Environment.GetEnvironmentVariable("BROKER_REPO_ROOT");
        if (!string.IsNullOrWhiteSpace(env) && IsRepoRoot(env)) return Path.GetFullPath(env);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (IsRepoRoot(dir.FullName)) return dir.FullName;
        }
        // Built with --artifacts-path outside the repository: fall back to where this source file was compiled.
        string? source = SourceDir();
        for (var dir = source is null ? null : new DirectoryInfo(source); dir is not null; dir = dir.Parent)
        {
            if (IsRepoRoot(dir.FullName)) return dir.FullName;
        }
        throw new InvalidOperationException(
            $"cannot find the repository root (a folder with tests/clients/python/confluent_scenario.py) above {AppContext.BaseDirectory}; set BROKER_REPO_ROOT");
    }

    private static bool IsRepoRoot(string dir) =>
        File.Exists(Path.Combine(dir, "tests", "clients", "python", "confluent_scenario.py"));

    private static string? SourceDir([CallerFilePath] string path = "") =>
        string.IsNullOrEmpty(path) ? null : Path.GetDirectoryName(path);
}
