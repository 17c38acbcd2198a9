using Broker.Config;
using Xunit;

namespace Broker.Config.Tests;

public sealed class LoadAndDefaultsTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _data;
    private readonly string _base;

    public LoadAndDefaultsTests()
    {
        _data = Path.Combine(_dir.Path, "data");
        _base = Configs.Combined(_data);
    }

    public void Dispose() => _dir.Dispose();

    private ConfigLoadResult LoadText(string text, IReadOnlyDictionary<string, string>? overrides = null, string? dataDir = null) =>
        BrokerConfig.Load(_dir.Write("server.properties", text), dataDir, overrides);

    [Fact]
    public void Kafka_defaults_apply_to_unset_keys()
    {
        var c = LoadText(_base).Config;
        Assert.True(c.AutoCreateTopicsEnable);
        Assert.Equal(1, c.NumPartitions);
        Assert.Equal((short)1, c.DefaultReplicationFactor);
        Assert.Equal(1, c.MinInsyncReplicas);
        Assert.Equal(1073741824, c.LogSegmentBytes);
        Assert.Equal(168L * 3600_000, c.LogRollMs);
        Assert.Equal(168L * 3600_000, c.LogRetentionMs);
        Assert.Equal(-1, c.LogRetentionBytes);
        Assert.Equal(300000, c.LogRetentionCheckIntervalMs);
        Assert.Equal(4096, c.LogIndexIntervalBytes);
        Assert.Equal(10485760, c.LogIndexSizeMaxBytes);
        Assert.Equal(1048588, c.MessageMaxBytes);
        Assert.Equal(104857600, c.SocketRequestMaxBytes);
        Assert.Equal(2000, c.BrokerHeartbeatIntervalMs);
        Assert.Equal(9000, c.BrokerSessionTimeoutMs);
        Assert.Equal(1000, c.ControllerQuorumElectionTimeoutMs);
        Assert.Equal(2000, c.ControllerQuorumFetchTimeoutMs);
        Assert.Equal(long.MaxValue, c.LogFlushIntervalMessages);
        Assert.Null(c.LogFlushIntervalMs);
        Assert.Equal(50, c.OffsetsTopicNumPartitions);
        Assert.Equal((short)3, c.OffsetsTopicReplicationFactor);
        Assert.Equal(3000, c.GroupInitialRebalanceDelayMs);
        Assert.True(c.DeleteTopicEnable);
        Assert.Equal(["delete"], c.LogCleanupPolicy);
        Assert.Equal("producer", c.CompressionType);
        Assert.Equal("CreateTime", c.LogMessageTimestampType);
        Assert.Equal(0.5, c.LogCleanerMinCleanableRatio);
    }

    [Fact]
    public void Typed_listener_values_of_the_kafka_sample()
    {
        var c = LoadText(_base).Config;
        Assert.Equal(1, c.NodeId);
        Assert.Equal([new QuorumVoter(1, "localhost", 9093)], c.QuorumVoters);
        Assert.Equal(2, c.Listeners.Count);
        var plain = c.Listeners[0];
        Assert.Equal(("PLAINTEXT", "0.0.0.0", 9092, SecurityProtocol.Plaintext, true),
            (plain.Name, plain.Host, plain.Port, plain.Protocol, plain.HostWasEmpty));
        Assert.Equal("CONTROLLER", Assert.Single(c.ControllerListeners).Name);
        Assert.Equal("PLAINTEXT", Assert.Single(c.BrokerListeners).Name);
        var adv = Assert.Single(c.AdvertisedListeners);
        Assert.Equal("PLAINTEXT://localhost:9092", adv.ToString());
        Assert.Equal(["CONTROLLER"], c.ControllerListenerNames);
        Assert.Equal("PLAINTEXT", c.InterBrokerListenerName);
        Assert.Equal([_data], c.LogDirs);
        Assert.Equal(_data, c.MetadataLogDir);
        Assert.Equal([new HttpEndpoint("0.0.0.0", 9644)], c.AdminListeners);
        Assert.Equal([new HttpEndpoint("0.0.0.0", 8082)], c.HttpProxyListeners);
    }

    [Fact]
    public void Advertised_listeners_default_to_listeners_minus_controller()
    {
        string text = Configs.With(_base, "advertised.listeners", null);
        text = Configs.With(text, "listeners", "PLAINTEXT://10.1.2.3:9092,CONTROLLER://10.1.2.3:9093,INTERNAL://[::1]:9095");
        text = Configs.With(text, "listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT");
        var c = LoadText(text).Config;
        Assert.Equal(["PLAINTEXT://10.1.2.3:9092", "INTERNAL://[::1]:9095"], c.AdvertisedListeners.Select(l => l.ToString()));
        var eff = c.Effective.Single(e => e.Key == "advertised.listeners");
        Assert.Equal(ConfigOriginKind.Derived, eff.Origin.Kind);
        Assert.Equal("PLAINTEXT://10.1.2.3:9092,INTERNAL://[::1]:9095", eff.Value);
    }

    [Fact]
    public void Empty_listener_host_is_advertised_under_the_host_name()
    {
        string text = Configs.With(_base, "advertised.listeners", null);
        var c = LoadText(text).Config;
        Assert.Equal(System.Net.Dns.GetHostName(), Assert.Single(c.AdvertisedListeners).Host);
    }

    [Fact]
    public void Port_zero_listener_is_allowed_for_ephemeral_binding()
    {
        string text = Configs.With(_base, "listeners", "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0");
        text = Configs.With(text, "advertised.listeners", null);
        var c = LoadText(text).Config;
        Assert.Equal(0, c.AdvertisedListeners[0].Port);
    }

    [Theory]
    [InlineData(null, null, "24", 24L * 3600_000)]
    [InlineData(null, "30", "24", 30L * 60_000)]
    [InlineData("1234", "30", "24", 1234L)]
    [InlineData("-1", "30", "24", -1L)]
    [InlineData(null, "-1", "24", -1L)]
    [InlineData(null, null, "-1", -1L)]
    [InlineData("0", null, null, 0L)]
    public void Retention_precedence_ms_then_minutes_then_hours(string? ms, string? minutes, string? hours, long expected)
    {
        string text = _base;
        if (ms is not null) text += $"log.retention.ms={ms}\n";
        if (minutes is not null) text += $"log.retention.minutes={minutes}\n";
        if (hours is not null) text += $"log.retention.hours={hours}\n";
        var c = LoadText(text).Config;
        Assert.Equal(expected, c.LogRetentionMs);
        Assert.Equal(expected.ToString(), c.GetEffective("log.retention.ms"));
    }

    [Fact]
    public void Roll_ms_overrides_roll_hours()
    {
        Assert.Equal(3600_000L, LoadText(_base + "log.roll.hours=1\n").Config.LogRollMs);
        Assert.Equal(500L, LoadText(_base + "log.roll.hours=1\nlog.roll.ms=500\n").Config.LogRollMs);
    }

    [Fact]
    public void Broker_id_is_an_alias_of_node_id()
    {
        string text = Configs.With(_base, "node.id", null) + "broker.id=1\n";
        var c = LoadText(text).Config;
        Assert.Equal(1, c.NodeId);
        Assert.Equal("1", c.GetEffective("node.id"));
        Assert.Equal(1, LoadText(_base + "broker.id=1\n").Config.NodeId);   // equal values are fine
    }

    [Fact]
    public void Log_dir_is_used_when_log_dirs_is_absent_and_metadata_dir_follows()
    {
        string text = Configs.With(_base, "log.dirs", null) + "log.dir=/srv/one\n";
        var c = LoadText(text).Config;
        Assert.Equal(["/srv/one"], c.LogDirs);
        Assert.Equal("/srv/one", c.MetadataLogDir);

        c = LoadText(Configs.With(_base, "log.dirs", "/a, /b") + "log.dir=/ignored\nmetadata.log.dir=/meta\n").Config;
        Assert.Equal(["/a", "/b"], c.LogDirs);
        Assert.Equal("/meta", c.MetadataLogDir);
    }

    [Fact]
    public void Data_dir_option_replaces_log_dirs_and_metadata_dir_unless_set()
    {
        string dd = Path.Combine(_dir.Path, "other");
        var c = LoadText(_base, dataDir: dd).Config;
        Assert.Equal([dd], c.LogDirs);
        Assert.Equal(dd, c.MetadataLogDir);
        Assert.Equal(ConfigOriginKind.DataDirFlag, c.Effective.Single(e => e.Key == "log.dirs").Origin.Kind);

        c = LoadText(_base + "metadata.log.dir=/meta\n", dataDir: dd).Config;
        Assert.Equal([dd], c.LogDirs);
        Assert.Equal("/meta", c.MetadataLogDir);
    }

    [Fact]
    public void Data_dir_option_rejects_commas_and_blank()
    {
        Assert.Throws<ConfigException>(() => LoadText(_base, dataDir: "/a,/b"));
        Assert.Throws<ConfigException>(() => LoadText(_base, dataDir: "  "));
    }

    [Fact]
    public void Overrides_win_over_the_file_and_are_recorded()
    {
        var c = LoadText(_base + "num.partitions=3\n", new Dictionary<string, string> { ["num.partitions"] = "6" }).Config;
        Assert.Equal(6, c.NumPartitions);
        Assert.Equal("6", c.Raw["num.partitions"]);
        Assert.Equal(ConfigOriginKind.Override, c.Effective.Single(e => e.Key == "num.partitions").Origin.Kind);
    }

    [Fact]
    public void Unknown_and_not_applicable_keys_are_warnings_with_lines()
    {
        string text = _base + "num.io.threads=8\nfoo.bar=1\n";
        var (c, warnings) = LoadText(text, new Dictionary<string, string> { ["baz"] = "2" });
        Assert.Equal(3, warnings.Count);
        var foo = warnings.Single(w => w.Key == "foo.bar");
        Assert.Equal(ConfigWarningKind.UnknownKey, foo.Kind);
        Assert.Equal(10, foo.LineNumber);
        Assert.Equal("unknown configuration key 'foo.bar' (line 10) ignored", foo.Message);
        var io = warnings.Single(w => w.Key == "num.io.threads");
        Assert.Equal(ConfigWarningKind.NotApplicable, io.Kind);
        Assert.Equal(9, io.LineNumber);
        var baz = warnings.Single(w => w.Key == "baz");
        Assert.Null(baz.LineNumber);
        Assert.Contains("--override", baz.Message);
        Assert.Equal("1", c.Raw["foo.bar"]);       // Raw keeps every given key
    }

    [Fact]
    public void Duplicate_keys_in_the_file_are_load_warnings()
    {
        var (c, warnings) = LoadText(_base + "num.partitions=2\nnum.partitions=4\n");
        Assert.Equal(4, c.NumPartitions);
        var w = Assert.Single(warnings);
        Assert.Equal(ConfigWarningKind.DuplicateKey, w.Kind);
        Assert.Contains("lines 9 and 10", w.Message);
    }

    [Fact]
    public void Default_config_is_the_valid_single_node()
    {
        string dd = Path.Combine(_dir.Path, "single");
        var c = BrokerConfig.Default(dd);
        Assert.Equal(ProcessRoles.Combined, c.Roles);
        Assert.Equal(1, c.NodeId);
        Assert.Equal([new QuorumVoter(1, "127.0.0.1", 9093)], c.QuorumVoters);
        Assert.Equal(["PLAINTEXT://127.0.0.1:9092", "CONTROLLER://127.0.0.1:9093"], c.Listeners.Select(l => l.ToString()));
        Assert.Equal(["PLAINTEXT://localhost:9092"], c.AdvertisedListeners.Select(l => l.ToString()));
        Assert.Equal(["CONTROLLER"], c.ControllerListenerNames);
        Assert.Equal(SecurityProtocol.Plaintext, c.ListenerSecurityProtocolMap["CONTROLLER"]);
        Assert.Equal([dd], c.LogDirs);
        Assert.Equal(dd, c.MetadataLogDir);
        Assert.Equal([new HttpEndpoint("127.0.0.1", 9644)], c.AdminListeners);
        Assert.Equal((short)1, c.OffsetsTopicReplicationFactor);
        Assert.Equal((short)1, c.TransactionStateLogReplicationFactor);
        Assert.Equal(ConfigOriginKind.BuiltIn, c.Effective.Single(e => e.Key == "process.roles").Origin.Kind);
    }

    [Fact]
    public void Load_without_a_file_applies_overrides_to_the_single_node()
    {
        string dd = Path.Combine(_dir.Path, "single");
        var (c, warnings) = BrokerConfig.Load(null, dd, new Dictionary<string, string> { ["num.partitions"] = "3" });
        Assert.Empty(warnings);
        Assert.Equal(3, c.NumPartitions);
        Assert.Equal([dd], c.LogDirs);
    }

    [Fact]
    public void Load_never_creates_anything()
    {
        string dd = Path.Combine(_dir.Path, "never", "created");
        string fileData = Path.Combine(_dir.Path, "file-data");
        string meta = Path.Combine(_dir.Path, "meta");
        string path = _dir.Write("server.properties", Configs.Combined(fileData) + $"metadata.log.dir={meta}\n");
        var before = Directory.GetFileSystemEntries(_dir.Path);

        BrokerConfig.Default(dd);
        BrokerConfig.Load(null, dd, null);
        BrokerConfig.Load(path);
        BrokerConfig.Load(path, dd, null);

        Assert.False(Directory.Exists(dd));
        Assert.False(Directory.Exists(fileData));
        Assert.False(Directory.Exists(meta));
        Assert.Equal(before.OrderBy(x => x), Directory.GetFileSystemEntries(_dir.Path).OrderBy(x => x));
    }

    [Fact]
    public void Effective_lists_every_non_alias_key_once_in_table_order()
    {
        var c = LoadText(_base).Config;
        var expected = ConfigKeys.All.Where(k => k.AliasOf is null).Select(k => k.Name).ToList();
        Assert.Equal(expected, c.Effective.Select(e => e.Key).ToList());
        var roles = c.Effective.Single(e => e.Key == "process.roles");
        Assert.Equal(ConfigOrigin.File(Path.Combine(_dir.Path, "server.properties"), 1), roles.Origin);
    }

    [Fact]
    public void Effective_output_reloads_to_the_same_config()
    {
        var c = LoadText(_base + "log.retention.hours=5\nnum.partitions=4\n").Config;
        var sb = new System.Text.StringBuilder();
        foreach (var e in c.Effective)
            if (e.Value is not null) sb.Append(e.Key).Append('=').Append(ServerPropertiesTemplate.EscapeValue(e.Value)).Append('\n');
        var (again, warnings) = BrokerConfig.Load(_dir.Write("effective.properties", sb.ToString()));
        Assert.Empty(warnings);
        foreach (var e in c.Effective) Assert.Equal(e.Value, again.GetEffective(e.Key));
        Assert.Equal(5L * 3600_000, again.LogRetentionMs);
    }
}

/// <summary>Tests that touch the process environment ($BROKER_DATA_DIR) — kept in one class so they never
/// run in parallel with each other.</summary>
public sealed class DataDirEnvironmentTests
{
    [Fact]
    public void Default_data_dir_uses_the_environment_then_cwd()
    {
        string? saved = Environment.GetEnvironmentVariable(BrokerConfig.DataDirEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(BrokerConfig.DataDirEnvironmentVariable, "/srv/broker-env");
            Assert.Equal("/srv/broker-env", BrokerConfig.DefaultDataDir());
            Environment.SetEnvironmentVariable(BrokerConfig.DataDirEnvironmentVariable, null);
            Assert.Equal(Path.Combine(Directory.GetCurrentDirectory(), "broker-data"), BrokerConfig.DefaultDataDir());
        }
        finally
        {
            Environment.SetEnvironmentVariable(BrokerConfig.DataDirEnvironmentVariable, saved);
        }
    }
}
