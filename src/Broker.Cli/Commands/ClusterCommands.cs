using System.Diagnostics;
using Broker.Cli.Admin;
using Broker.Cli.Arguments;
using Broker.Cli.Output;
using Broker.Client;

namespace Broker.Cli.Commands;

/// <summary><c>cluster info</c> (Kafka Metadata) and <c>cluster health</c> (Admin API health overview).</summary>
internal static class ClusterCommands
{
    public static readonly CommandDef Info = new()
    {
        Path = "cluster info",
        Summary = "Show the cluster id, controller, brokers and topic/partition counts.",
        Synopsis = "[options]",
        Description = "From a Kafka Metadata request. The controller is marked with '*' in the broker table.",
        CommonOptions = CommonOptions.KafkaSpecs,
        Run = RunInfoAsync,
    };

    public static readonly CommandDef Health = new()
    {
        Path = "cluster health",
        Summary = "Show the cluster's health (Admin API); exit status 1 when it is unhealthy.",
        Synopsis = "[--wait] [options]",
        Description = "Reads GET /v1/cluster/health_overview from the first Admin API URL that answers. Exit status:\n" +
                      "0 healthy, 1 unhealthy or the Admin API unreachable (said on stderr).",
        Options = [OptionSpec.Flag("-w|--wait", "Ask again every second until healthy or --timeout has passed.")],
        CommonOptions = CommonOptions.AdminSpecs,
        Run = RunHealthAsync,
    };

    private static async Task<int> RunInfoAsync(ParsedArgs a, ToolContext ctx)
    {
        ctx.UseCommon(a);
        await using var client = ctx.CreateClient();
        var md = await ctx.Bounded(ct => client.GetMetadataAsync(null, false, ct)).ConfigureAwait(false);
        ctx.Out.Write(RenderInfo(md));
        return BrokerTool.ExitOk;
    }

    internal static string RenderInfo(ClusterInfo md)
    {
        int topics = 0, internalTopics = 0, partitions = 0;
        foreach (var t in md.Topics)
        {
            if (t.IsInternal) internalTopics++;
            else topics++;
            partitions += t.Partitions.Count;
        }
        var w = new StringWriter { NewLine = "\n" };
        new KeyValueBlock()
            .Add("CLUSTER-ID", string.IsNullOrEmpty(md.ClusterId) ? "-" : md.ClusterId!)
            .Add("CONTROLLER", md.ControllerId < 0 ? "-" : Formats.Int(md.ControllerId))
            .Add("BROKERS", Formats.Int(md.Brokers.Count))
            .Add("TOPICS", Formats.Int(topics))
            .Add("INTERNAL-TOPICS", Formats.Int(internalTopics))
            .Add("PARTITIONS", Formats.Int(partitions))
            .WriteTo(w);
        w.Write('\n');
        var brokers = new List<BrokerInfo>(md.Brokers);
        brokers.Sort((x, y) => x.NodeId.CompareTo(y.NodeId));
        var table = new TextTable("ID", "HOST", "PORT", "RACK");
        foreach (var b in brokers)
        {
            string id = Formats.Int(b.NodeId) + (b.NodeId == md.ControllerId ? "*" : "");
            table.Add(id, b.Host, Formats.Int(b.Port), string.IsNullOrEmpty(b.Rack) ? "-" : b.Rack!);
        }
        table.WriteTo(w);
        return w.ToString();
    }

    private static async Task<int> RunHealthAsync(ParsedArgs a, ToolContext ctx)
    {
        bool wait = a.Has("wait");
        var common = ctx.UseCommon(a);
        // One request may take at most 5 s (or --timeout when shorter); --wait keeps asking until --timeout.
        var perRequest = common.Timeout < TimeSpan.FromSeconds(5) ? common.Timeout : TimeSpan.FromSeconds(5);
        using var admin = new AdminApiClient(common.AdminUrls, wait ? perRequest : common.Timeout);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            HealthOverview? overview = null;
            ToolFailure? failure = null;
            try
            {
                using var doc = await admin.GetJsonAsync(HealthOverview.Path, ctx.Interrupt).ConfigureAwait(false);
                overview = HealthOverview.Parse(doc.RootElement);
            }
            catch (ToolFailure ex)
            {
                failure = ex;
            }
            catch (FormatException ex)
            {
                failure = new ToolFailure($"unexpected answer from {admin.AnsweredBy}{HealthOverview.Path}: {ex.Message}");
            }
            bool done = !wait || (overview?.IsHealthy ?? false) || clock.Elapsed + TimeSpan.FromSeconds(1) > common.Timeout;
            if (done)
            {
                if (failure is not null) throw failure;
                if (common.Verbose) ctx.Err.WriteLine($"answered by {admin.AnsweredBy}");
                ctx.Out.Write(overview!.Render());
                return overview.IsHealthy ? BrokerTool.ExitOk : BrokerTool.ExitFailed;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), ctx.Interrupt).ConfigureAwait(false);
        }
    }
}
