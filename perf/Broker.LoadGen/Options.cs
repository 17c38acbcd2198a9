using System.Globalization;

namespace Broker.LoadGen;

/// <summary>The scenario to run.</summary>
public enum Scenario { Produce, Consume, E2E, SelfTest }

/// <summary>Command-line options of the load generator, with their defaults and validation.</summary>
public sealed class Options
{
    public Scenario Scenario { get; set; } = Scenario.Produce;
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 9092;
    public string Topic { get; set; } = "loadgen";
    public int Partitions { get; set; } = 1;
    /// <summary>True when --partitions was given (a different existing count is then worth a note).</summary>
    public bool PartitionsGiven { get; set; }
    /// <summary>Replication factor when the topic is created (-1 = the broker's default.replication.factor).</summary>
    public short ReplicationFactor { get; set; } = 1;
    public int RecordSize { get; set; } = 1024;
    public int KeyCardinality { get; set; }
    public short Acks { get; set; } = 1;
    public int BatchRecords { get; set; } = 100;
    public double LingerMs { get; set; } = 5;
    public int Producers { get; set; } = 1;
    public int Consumers { get; set; } = 1;
    public double Rate { get; set; }
    public double WarmupSeconds { get; set; } = 2;
    public double DurationSeconds { get; set; } = 10;
    public int MaxInflight { get; set; } = 5;
    public int RequestTimeoutMs { get; set; } = 5000;
    public int FetchMaxWaitMs { get; set; } = 500;
    public int FetchMinBytes { get; set; } = 1;
    public int FetchMaxBytes { get; set; } = 16 * 1024 * 1024;
    public int PartitionMaxBytes { get; set; } = 4 * 1024 * 1024;
    public bool CheckCrc { get; set; }
    public bool Follow { get; set; }
    public string? JsonFile { get; set; }
    public string? ReportFile { get; set; }
    public string? Label { get; set; }
    public string ClientId { get; set; } = "broker-loadgen";

    /// <summary>Bootstrap as given (for reports).</summary>
    public string Bootstrap => $"{Host}:{Port}";

    public const string Usage = """
        usage: loadgen <produce|consume|e2e|selftest> [options]
          --bootstrap HOST:PORT      broker address (default 127.0.0.1:9092); all traffic goes there
          --topic NAME               topic (default loadgen); created with RF 1 if missing
          --partitions N             partitions when creating the topic (default 1)
          --replication-factor N     replication factor when creating the topic (default 1; -1 = broker default)
          --record-size BYTES        value size per record (default 1024); keys are extra
          --key-cardinality N        N distinct 8-byte keys, round robin; 0 = null keys (default 0)
          --acks 0|1|-1              produce acks (default 1)
          --batch-records N          max records per batch (default 100)
          --linger-ms MS             max wait to fill a batch when --rate is set (default 5)
          --producers N              producer connections (default 1)
          --consumers N              consumer connections, partitions split among them (default 1)
          --rate RECORDS/S           total target rate, 0 = unlimited (default 0); open model: latency is
                                     measured from each record's intended send time
          --warmup S                 seconds excluded from the figures (default 2)
          --duration S               measured seconds (default 10)
          --max-inflight N           produce requests in flight per connection (default 5)
          --request-timeout-ms MS    a request unanswered this long fails the run (default 5000)
          --fetch-max-wait-ms MS     Fetch MaxWaitMs (default 500)
          --fetch-min-bytes N        Fetch MinBytes (default 1)
          --fetch-max-bytes N        Fetch MaxBytes (default 16 MiB)
          --partition-max-bytes N    Fetch PartitionMaxBytes (default 4 MiB)
          --check-crc                consumers verify each batch's CRC-32C
          --follow                   consume: keep tailing instead of stopping at the end offsets seen at start
          --json FILE                write the results as JSON
          --report FILE.md           write a Markdown report
          --label TEXT               a name for this run in the outputs
          --client-id ID             Kafka client id (default broker-loadgen)
        exit code: 0 ok, 1 errors during the run (connection, timeout, error codes), 2 bad arguments
        """;

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> with a clear message.</summary>
    public static Options Parse(string[] args)
    {
        var o = new Options();
        if (args.Length == 0) throw new ArgumentException("missing scenario (produce, consume, e2e or selftest)");
        o.Scenario = args[0].ToLowerInvariant() switch
        {
            "produce" => Scenario.Produce,
            "consume" => Scenario.Consume,
            "e2e" => Scenario.E2E,
            "selftest" => Scenario.SelfTest,
            _ => throw new ArgumentException($"unknown scenario '{args[0]}' (produce, consume, e2e or selftest)"),
        };
        for (int i = 1; i < args.Length; i++)
        {
            string name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{name}'");
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq > 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (name is "--check-crc" or "--follow")
            {
                if (inline is not null) throw new ArgumentException($"{name} takes no value");
                if (name == "--check-crc") o.CheckCrc = true; else o.Follow = true;
                continue;
            }
            string value = inline ?? (i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value"));
            o.Set(name, value);
        }
        o.Validate();
        return o;
    }

    private void Set(string name, string v)
    {
        switch (name)
        {
            case "--bootstrap": ParseBootstrap(v); break;
            case "--topic": Topic = v; break;
            case "--partitions": Partitions = Int(name, v, 1, 100_000); PartitionsGiven = true; break;
            case "--replication-factor": ReplicationFactor = (short)Int(name, v, -1, 32); break;
            case "--record-size": RecordSize = Int(name, v, 0, 64 * 1024 * 1024); break;
            case "--key-cardinality": KeyCardinality = Int(name, v, 0, 100_000_000); break;
            case "--acks": Acks = (short)Int(name, v, -1, 1); break;
            case "--batch-records": BatchRecords = Int(name, v, 1, 1_000_000); break;
            case "--linger-ms": LingerMs = Dbl(name, v, 0, 60_000); break;
            case "--producers": Producers = Int(name, v, 0, 1024); break;
            case "--consumers": Consumers = Int(name, v, 0, 1024); break;
            case "--rate": Rate = Dbl(name, v, 0, 1e9); break;
            case "--warmup": WarmupSeconds = Dbl(name, v, 0, 3600); break;
            case "--duration": DurationSeconds = Dbl(name, v, 0.1, 24 * 3600); break;
            case "--max-inflight": MaxInflight = Int(name, v, 1, 1024); break;
            case "--request-timeout-ms": RequestTimeoutMs = Int(name, v, 100, 600_000); break;
            case "--fetch-max-wait-ms": FetchMaxWaitMs = Int(name, v, 0, 60_000); break;
            case "--fetch-min-bytes": FetchMinBytes = Int(name, v, 0, int.MaxValue); break;
            case "--fetch-max-bytes": FetchMaxBytes = Int(name, v, 1024, int.MaxValue); break;
            case "--partition-max-bytes": PartitionMaxBytes = Int(name, v, 1024, int.MaxValue); break;
            case "--json": JsonFile = v; break;
            case "--report": ReportFile = v; break;
            case "--label": Label = v; break;
            case "--client-id": ClientId = v; break;
            default: throw new ArgumentException($"unknown option '{name}' (see --help)");
        }
    }

    private void ParseBootstrap(string v)
    {
        int colon = v.LastIndexOf(':');
        if (colon <= 0 || colon == v.Length - 1) throw new ArgumentException($"--bootstrap must be HOST:PORT, got '{v}'");
        string host = v[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        Host = host;
        Port = Int("--bootstrap port", v[(colon + 1)..], 1, 65535);
    }

    private void Validate()
    {
        if (Topic.Length == 0 || Topic.Length > 249) throw new ArgumentException("--topic must be 1..249 characters");
        foreach (char c in Topic)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                throw new ArgumentException($"--topic '{Topic}' has an invalid character '{c}' (allowed: a-z A-Z 0-9 . _ -)");
        if (Scenario is Scenario.Produce or Scenario.E2E && Producers < 1) throw new ArgumentException("--producers must be at least 1");
        if (Scenario is Scenario.Consume or Scenario.E2E && Consumers < 1) throw new ArgumentException("--consumers must be at least 1");
        if (Scenario == Scenario.E2E && RecordSize < E2EStamp.Size)
            throw new ArgumentException($"e2e needs --record-size of at least {E2EStamp.Size} (the value carries the send time)");
        long batchBytes = (long)BatchRecords * (RecordSize + 40);
        if (batchBytes > 256L * 1024 * 1024)
            throw new ArgumentException($"--batch-records x --record-size is {batchBytes / (1024 * 1024)} MiB per batch; keep it under 256 MiB");
        if (FetchMaxWaitMs >= RequestTimeoutMs)
            throw new ArgumentException("--fetch-max-wait-ms must be below --request-timeout-ms");
    }

    private static int Int(string name, string v, int min, int max)
    {
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
            throw new ArgumentException($"{name}: '{v}' is not an integer");
        if (n < min || n > max) throw new ArgumentException($"{name}: {n} is outside {min}..{max}");
        return n;
    }

    private static double Dbl(string name, string v, double min, double max)
    {
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || double.IsNaN(d))
            throw new ArgumentException($"{name}: '{v}' is not a number");
        if (d < min || d > max) throw new ArgumentException($"{name}: {d} is outside {min}..{max}");
        return d;
    }
}
