using Broker.Cli.Arguments;
using Broker.Cli.Output;
using Broker.Client;
using Broker.Core.Model;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>topic describe</c>: per topic a summary block, its configurations (DescribeConfigs) and its partitions
/// (leader, epoch, replicas, ISR, earliest and latest offsets from ListOffsets).
/// </summary>
internal static class TopicDescribeCommand
{
    public static readonly CommandDef Describe = new()
    {
        Path = "topic describe",
        Summary = "Show a topic's summary, configurations and partitions (leader, replicas, ISR, offsets).",
        Synopsis = "NAME [NAME...] [-s] [-c] [-p] [options]",
        Description = "Without -s/-c/-p every section is printed. Sections are separated by a blank line, topics\n" +
                      "by a line '---'. A topic that does not exist is reported on stderr (exit status 1).",
        Options =
        [
            OptionSpec.Flag("-s|--summary", "Print the summary section."),
            OptionSpec.Flag("-c|--configs", "Print the configurations section."),
            OptionSpec.Flag("-p|--partitions", "Print the partitions section."),
        ],
        CommonOptions = CommonOptions.KafkaSpecs,
        MinPositional = 1,
        MaxPositional = int.MaxValue,
        PositionalName = "topic name",
        Run = RunAsync,
    };

    internal readonly record struct Sections(bool Summary, bool Configs, bool Partitions);

    internal static Sections ParseSections(ParsedArgs a)
    {
        bool s = a.Has("summary"), c = a.Has("configs"), p = a.Has("partitions");
        return !s && !c && !p ? new Sections(true, true, true) : new Sections(s, c, p);
    }

    /// <summary>Earliest/latest offsets of one partition; null when ListOffsets failed.</summary>
    internal sealed record PartitionOffsets(long Earliest, long Latest);

    private static async Task<int> RunAsync(ParsedArgs a, ToolContext ctx)
    {
        TopicCommands.CheckNames(a);
        var names = a.Positionals.ToArray();
        var sections = ParseSections(a);
        ctx.UseCommon(a);
        await using var client = ctx.CreateClient();
        var md = await ctx.Bounded(ct => client.GetMetadataAsync(names, false, ct)).ConfigureAwait(false);

        int failed = 0;
        bool first = true;
        foreach (string name in names)
        {
            TopicInfo? topic = null;
            foreach (var t in md.Topics)
                if (t.Name == name) topic = t;
            if (topic is null || topic.Error == ErrorCode.UnknownTopicOrPartition || topic.Error == ErrorCode.InvalidTopicException)
            {
                failed++;
                var code = topic?.Error ?? ErrorCode.UnknownTopicOrPartition;
                ctx.Err.WriteLine(Formats.ErrorLine(code, null,
                    code == ErrorCode.UnknownTopicOrPartition ? $"Topic '{name}' does not exist." : $"'{name}' is not a valid topic name."));
                continue;
            }

            IReadOnlyList<ConfigEntry>? configs = null;
            if (sections.Configs)
            {
                var described = await ctx.Bounded(ct =>
                    client.DescribeConfigsAsync(new[] { (ConfigResourceKind.Topic, name) }, ct)).ConfigureAwait(false);
                var r = described.Count > 0 ? described[0] : null;
                if (r is null || r.Error != ErrorCode.None)
                {
                    failed++;
                    ctx.Err.WriteLine(Formats.ErrorLine(r?.Error ?? ErrorCode.UnknownServerError, r?.Message,
                        $"Could not read the configuration of topic '{name}'."));
                }
                else configs = r.Entries;
            }

            PartitionOffsets?[]? offsets = null;
            if (sections.Partitions)
                offsets = await ctx.Bounded(ct => ReadOffsetsAsync(client, topic, ctx.Err, ct)).ConfigureAwait(false);

            if (!first) ctx.Out.Write("---\n");
            first = false;
            ctx.Out.Write(Render(topic, sections, configs, offsets));
        }
        return failed == 0 ? BrokerTool.ExitOk : BrokerTool.ExitFailed;
    }

    private static async Task<PartitionOffsets?[]> ReadOffsetsAsync(KafkaClient client, TopicInfo topic, TextWriter err,
        CancellationToken ct)
    {
        var tasks = new Task<PartitionOffsets?>[topic.Partitions.Count];
        for (int i = 0; i < tasks.Length; i++)
            tasks[i] = ReadOneAsync(client, topic.Name, topic.Partitions[i].Partition, err, ct);
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private static async Task<PartitionOffsets?> ReadOneAsync(KafkaClient client, string topic, int partition, TextWriter err,
        CancellationToken ct)
    {
        try
        {
            long earliest = await client.ListOffsetAsync(topic, partition, -2, ct).ConfigureAwait(false);
            long latest = await client.ListOffsetAsync(topic, partition, -1, ct).ConfigureAwait(false);
            return new PartitionOffsets(earliest, latest);
        }
        catch (KafkaException ex)
        {
            lock (err) err.WriteLine($"warning: offsets of {topic}-{partition}: {Formats.ErrorName(ex.Error)}: {ex.Message}");
            return null;
        }
    }

    /// <summary>The text of one topic (pure; unit-tested).</summary>
    internal static string Render(TopicInfo topic, Sections sections, IReadOnlyList<ConfigEntry>? configs,
        IReadOnlyList<PartitionOffsets?>? offsets)
    {
        var w = new StringWriter { NewLine = "\n" };
        bool needGap = false;
        if (sections.Summary)
        {
            int replicas = 0;
            foreach (var p in topic.Partitions) replicas = Math.Max(replicas, p.Replicas.Length);
            new KeyValueBlock()
                .Add("NAME", topic.Name)
                .Add("TOPIC-ID", topic.TopicId == Guid.Empty ? "-" : topic.TopicId.ToString())
                .Add("INTERNAL", topic.IsInternal ? "true" : "false")
                .Add("PARTITIONS", Formats.Int(topic.Partitions.Count))
                .Add("REPLICAS", Formats.Int(replicas))
                .WriteTo(w);
            needGap = true;
        }
        if (sections.Configs && configs is not null)
        {
            if (needGap) w.Write('\n');
            w.Write("CONFIGS\n");
            var sorted = new List<ConfigEntry>(configs);
            sorted.Sort((x, y) => string.CompareOrdinal(x.Name, y.Name));
            var table = new TextTable("KEY", "VALUE", "SOURCE");
            foreach (var e in sorted)
                table.Add(e.Name, e.IsSensitive ? "(sensitive)" : e.Value ?? "-", e.Source.Length == 0 ? "-" : e.Source);
            table.WriteTo(w);
            needGap = true;
        }
        if (sections.Partitions)
        {
            if (needGap) w.Write('\n');
            w.Write("PARTITIONS\n");
            var parts = new List<(PartitionInfo Info, PartitionOffsets? Offsets)>(topic.Partitions.Count);
            for (int i = 0; i < topic.Partitions.Count; i++)
                parts.Add((topic.Partitions[i], offsets is not null && i < offsets.Count ? offsets[i] : null));
            parts.Sort((x, y) => x.Info.Partition.CompareTo(y.Info.Partition));
            var table = new TextTable("PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "EARLIEST", "LATEST");
            foreach (var (p, o) in parts)
            {
                table.Add(Formats.Int(p.Partition),
                    p.Leader < 0 ? "-" : Formats.Int(p.Leader),
                    p.LeaderEpoch < 0 ? "-" : Formats.Int(p.LeaderEpoch),
                    Formats.IdList(p.Replicas),
                    Formats.IdList(p.Isr),
                    o is null ? "-" : Formats.Int(o.Earliest),
                    o is null ? "-" : Formats.Int(o.Latest));
            }
            table.WriteTo(w);
        }
        return w.ToString();
    }
}
