using Broker.Cli.Arguments;
using Broker.Cli.Output;
using Broker.Client;
using Broker.Core.Model;

namespace Broker.Cli.Commands;

/// <summary><c>topic create|list|delete|alter-config</c> (describe lives in <see cref="TopicDescribeCommand"/>).</summary>
internal static class TopicCommands
{
    // ---- topic create -------------------------------------------------------------------------------------------

    public static readonly CommandDef Create = new()
    {
        Path = "topic create",
        Summary = "Create topics.",
        Synopsis = "NAME [NAME...] [-p N] [-r N] [-c KEY=VALUE ...] [options]",
        Description = "Partitions and replication factor default to the cluster's num.partitions and\n" +
                      "default.replication.factor. Prints 'created topic NAME' for each topic created.",
        Options =
        [
            OptionSpec.Value("-p|--partitions", "N", "Number of partitions (default: the cluster's)."),
            OptionSpec.Value("-r|--replicas|--replication-factor", "N", "Replication factor (default: the cluster's)."),
            OptionSpec.Repeated("-c|--config", "KEY=VALUE", "A topic configuration, e.g. retention.ms=3600000. Repeatable."),
            OptionSpec.Flag("--if-not-exists", "Succeed when the topic already exists."),
            OptionSpec.Flag("--dry-run", "Only ask the cluster to validate the request."),
        ],
        CommonOptions = CommonOptions.KafkaSpecs,
        MinPositional = 1,
        MaxPositional = int.MaxValue,
        PositionalName = "topic name",
        Examples = "  broker topic create orders -p 6 -r 3 -c retention.ms=86400000\n" +
                   "  broker topic create a b c --if-not-exists",
        Run = RunCreateAsync,
    };

    internal sealed record CreateOptions(IReadOnlyList<string> Names, int Partitions, short ReplicationFactor,
        IReadOnlyDictionary<string, string> Configs, bool IfNotExists, bool DryRun);

    internal static CreateOptions ParseCreate(ParsedArgs a)
    {
        var configs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string kv in a.GetAll("config"))
        {
            var (k, v) = ValueParsers.ParseKeyValue(kv, "--config", a.CommandPath);
            if (!configs.TryAdd(k, v)) throw a.Error($"--config {k} given more than once");
        }
        CheckNames(a);
        return new CreateOptions(
            a.Positionals.ToArray(),
            a.GetInt("partitions", -1, 1, 1_000_000),
            (short)a.GetInt("replication-factor", -1, 1, short.MaxValue),
            configs,
            a.Has("if-not-exists"),
            a.Has("dry-run"));
    }

    private static async Task<int> RunCreateAsync(ParsedArgs a, ToolContext ctx)
    {
        var o = ParseCreate(a);
        ctx.UseCommon(a);
        await using var client = ctx.CreateClient();
        var requests = new List<NewTopic>(o.Names.Count);
        foreach (string name in o.Names)
            requests.Add(new NewTopic(name, o.Partitions, o.ReplicationFactor, o.Configs.Count > 0 ? o.Configs : null));
        var results = await ctx.Bounded(ct => client.CreateTopicsAsync(requests, o.DryRun, ct)).ConfigureAwait(false);

        int failed = 0;
        foreach (string name in o.Names)
        {
            var r = FindResult(results, name);
            var error = r?.Error ?? ErrorCode.UnknownServerError;
            if (error == ErrorCode.None)
                ctx.Out.WriteLine(o.DryRun ? $"validated topic {name} (not created: --dry-run)" : $"created topic {name}");
            else if (error == ErrorCode.TopicAlreadyExists && o.IfNotExists)
                ctx.Out.WriteLine($"topic {name} already exists");
            else
            {
                failed++;
                ctx.Err.WriteLine(Formats.ErrorLine(error, r?.Message, error switch
                {
                    ErrorCode.TopicAlreadyExists => $"Topic '{name}' already exists.",
                    ErrorCode.UnknownServerError when r is null => $"The cluster did not answer for topic '{name}'.",
                    _ => null,
                }));
            }
        }
        return failed == 0 ? BrokerTool.ExitOk : BrokerTool.ExitFailed;
    }

    // ---- topic list ---------------------------------------------------------------------------------------------

    public static readonly CommandDef List = new()
    {
        Path = "topic list",
        Summary = "List topics with their partition and replica counts.",
        Synopsis = "[--internal] [options]",
        Description = "Output: a table NAME PARTITIONS REPLICAS, sorted by name.",
        Options = [OptionSpec.Flag("-i|--internal", "Include internal topics such as __consumer_offsets.")],
        CommonOptions = CommonOptions.KafkaSpecs,
        Run = RunListAsync,
    };

    private static async Task<int> RunListAsync(ParsedArgs a, ToolContext ctx)
    {
        bool includeInternal = a.Has("internal");
        ctx.UseCommon(a);
        await using var client = ctx.CreateClient();
        var md = await ctx.Bounded(ct => client.GetMetadataAsync(null, false, ct)).ConfigureAwait(false);
        ctx.Out.Write(RenderList(md.Topics, includeInternal));
        return BrokerTool.ExitOk;
    }

    internal static string RenderList(IReadOnlyList<TopicInfo> topics, bool includeInternal)
    {
        var sorted = new List<TopicInfo>(topics.Count);
        foreach (var t in topics)
            if (includeInternal || !t.IsInternal) sorted.Add(t);
        sorted.Sort((x, y) => string.CompareOrdinal(x.Name, y.Name));
        var table = new TextTable("NAME", "PARTITIONS", "REPLICAS");
        foreach (var t in sorted)
        {
            int replicas = 0;
            foreach (var p in t.Partitions) replicas = Math.Max(replicas, p.Replicas.Length);
            table.Add(t.Name, Formats.Int(t.Partitions.Count), Formats.Int(replicas));
        }
        return table.Render();
    }

    // ---- topic delete -------------------------------------------------------------------------------------------

    public static readonly CommandDef Delete = new()
    {
        Path = "topic delete",
        Summary = "Delete topics and their data.",
        Synopsis = "NAME [NAME...] [options]",
        Description = "Prints 'deleted topic NAME' for each topic deleted.",
        Options = [OptionSpec.Flag("--if-exists", "Succeed when a topic does not exist.")],
        CommonOptions = CommonOptions.KafkaSpecs,
        MinPositional = 1,
        MaxPositional = int.MaxValue,
        PositionalName = "topic name",
        Run = RunDeleteAsync,
    };

    private static async Task<int> RunDeleteAsync(ParsedArgs a, ToolContext ctx)
    {
        CheckNames(a);
        var names = a.Positionals.ToArray();
        bool ifExists = a.Has("if-exists");
        ctx.UseCommon(a);
        await using var client = ctx.CreateClient();
        var results = await ctx.Bounded(ct => client.DeleteTopicsAsync(names, ct)).ConfigureAwait(false);
        int failed = 0;
        foreach (string name in names)
        {
            var r = FindResult(results, name);
            var error = r?.Error ?? ErrorCode.UnknownServerError;
            if (error == ErrorCode.None) ctx.Out.WriteLine($"deleted topic {name}");
            else if (error == ErrorCode.UnknownTopicOrPartition && ifExists) ctx.Out.WriteLine($"topic {name} does not exist");
            else
            {
                failed++;
                ctx.Err.WriteLine(Formats.ErrorLine(error, r?.Message, error switch
                {
                    ErrorCode.UnknownTopicOrPartition => $"Topic '{name}' does not exist.",
                    ErrorCode.UnknownServerError when r is null => $"The cluster did not answer for topic '{name}'.",
                    _ => null,
                }));
            }
        }
        return failed == 0 ? BrokerTool.ExitOk : BrokerTool.ExitFailed;
    }

    // ---- topic alter-config -------------------------------------------------------------------------------------

    public static readonly CommandDef AlterConfig = new()
    {
        Path = "topic alter-config",
        Summary = "Set, delete (back to the default), append to or subtract from topic configurations.",
        Synopsis = "NAME [--set KEY=VALUE ...] [--delete KEY ...] [options]",
        Description = "Changes are incremental (IncrementalAlterConfigs): keys not named keep their values.\n" +
                      "Prints one line per change: 'topic NAME: set KEY=VALUE', 'topic NAME: delete KEY'.",
        Options =
        [
            OptionSpec.Repeated("-s|--set", "KEY=VALUE", "Set a configuration. Repeatable."),
            OptionSpec.Repeated("-d|--delete", "KEY", "Remove an override (the default applies again). Repeatable."),
            OptionSpec.Repeated("--append", "KEY=VALUE", "Append a value to a list configuration. Repeatable."),
            OptionSpec.Repeated("--subtract", "KEY=VALUE", "Remove a value from a list configuration. Repeatable."),
            OptionSpec.Flag("--dry-run", "Only ask the cluster to validate the change."),
        ],
        CommonOptions = CommonOptions.KafkaSpecs,
        MinPositional = 1,
        MaxPositional = 1,
        PositionalName = "topic name",
        Examples = "  broker topic alter-config orders --set retention.ms=3600000 --delete cleanup.policy",
        Run = RunAlterConfigAsync,
    };

    internal sealed record AlterOptions(string Topic, IReadOnlyList<ConfigAlteration> Alterations, bool DryRun);

    internal static AlterOptions ParseAlter(ParsedArgs a)
    {
        CheckNames(a);
        var alterations = new List<ConfigAlteration>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void AddPairs(string key, ConfigAlterOp op)
        {
            foreach (string kv in a.GetAll(key))
            {
                var (k, v) = ValueParsers.ParseKeyValue(kv, "--" + key, a.CommandPath);
                if (!seen.Add(k)) throw a.Error($"configuration {k} is changed more than once");
                alterations.Add(new ConfigAlteration(k, op, v));
            }
        }
        AddPairs("set", ConfigAlterOp.Set);
        foreach (string k in a.GetAll("delete"))
        {
            string key = k.Trim();
            if (key.Length == 0 || key.Contains('=')) throw a.Error($"--delete expects a configuration name, got '{k}'");
            if (!seen.Add(key)) throw a.Error($"configuration {key} is changed more than once");
            alterations.Add(new ConfigAlteration(key, ConfigAlterOp.Delete, null));
        }
        AddPairs("append", ConfigAlterOp.Append);
        AddPairs("subtract", ConfigAlterOp.Subtract);
        if (alterations.Count == 0) throw a.Error("nothing to change: give --set, --delete, --append or --subtract");
        return new AlterOptions(a.Positionals[0], alterations, a.Has("dry-run"));
    }

    private static async Task<int> RunAlterConfigAsync(ParsedArgs a, ToolContext ctx)
    {
        var o = ParseAlter(a);
        ctx.UseCommon(a);
        await using var client = ctx.CreateClient();
        var result = await ctx.Bounded(ct =>
            client.IncrementalAlterConfigsAsync(ConfigResourceKind.Topic, o.Topic, o.Alterations, o.DryRun, ct)).ConfigureAwait(false);
        if (result.Error != ErrorCode.None)
        {
            ctx.Err.WriteLine(Formats.ErrorLine(result.Error, result.Message,
                result.Error == ErrorCode.UnknownTopicOrPartition ? $"Topic '{o.Topic}' does not exist." : null));
            return BrokerTool.ExitFailed;
        }
        string prefix = o.DryRun ? "(dry run) " : "";
        foreach (var alt in o.Alterations)
        {
            ctx.Out.WriteLine(alt.Op switch
            {
                ConfigAlterOp.Set => $"{prefix}topic {o.Topic}: set {alt.Name}={alt.Value}",
                ConfigAlterOp.Delete => $"{prefix}topic {o.Topic}: delete {alt.Name}",
                ConfigAlterOp.Append => $"{prefix}topic {o.Topic}: append {alt.Name}={alt.Value}",
                _ => $"{prefix}topic {o.Topic}: subtract {alt.Name}={alt.Value}",
            });
        }
        return BrokerTool.ExitOk;
    }

    // ---- shared -------------------------------------------------------------------------------------------------

    /// <summary>Rejects empty or blank topic names before anything is sent.</summary>
    internal static void CheckNames(ParsedArgs a)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in a.Positionals)
        {
            if (name.Trim().Length == 0) throw a.Error("a topic name must not be empty");
            if (!seen.Add(name)) throw a.Error($"topic {name} named more than once");
        }
    }

    private static TopicOperationResult? FindResult(IReadOnlyList<TopicOperationResult> results, string name)
    {
        foreach (var r in results)
            if (r.Name == name) return r;
        return null;
    }
}
