using System.Buffers;
using Broker.Cli.Arguments;
using Broker.Cli.Output;
using Broker.Client;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>consume</c>: prints records of a topic on stdout (raw bytes, through a <see cref="RecordFormat"/>), either
/// reading partitions directly from a start position (latest, earliest, an offset or a timestamp) or as a member
/// of a consumer group that commits what it printed. Stops after --count records, after --timeout-ms without a
/// record, or on Ctrl-C; then prints "consumed N records" on stderr.
/// </summary>
internal static partial class ConsumeCommand
{
    public static readonly CommandDef Definition = new()
    {
        Path = "consume",
        Summary = "Print records of a topic (from an offset or a timestamp, or in a consumer group).",
        Synopsis = "TOPIC [--from-beginning | --offset N | --timestamp TIME] [--partition N] [--group GROUP]\n" +
                   "                      [--count N] [--timeout-ms MS] [--format FMT | --print-key --print-offset] [options]",
        Description =
            "Without a start option reading begins at the end of each partition (new records only).\n" +
            "--timestamp takes milliseconds since the epoch or ISO-8601 (2024-05-01T12:00:00Z); each partition\n" +
            "starts at its first record at or after that time.\n" +
            "With --group the group's committed offsets decide where to start (--from-beginning: earliest when\n" +
            "the group has none) and the offsets of the printed records are committed (every second and at exit).\n" +
            "Format fields: %t topic, %p partition, %o offset, %k key, %v value, %T timestamp (ms), %h headers,\n" +
            "%K/%V key/value length (-1 if null), %% percent; escapes \\n \\t \\r \\\\. A null key or value prints\n" +
            "'null'. Default: '%v\\n'.",
        Options =
        [
            OptionSpec.Flag("--from-beginning", "Start at the earliest offset."),
            OptionSpec.Value("-o|--offset", "N", "Start at offset N in every partition read (or: earliest, latest)."),
            OptionSpec.Value("--timestamp", "TIME", "Start at the first record at or after TIME."),
            OptionSpec.Value("-p|--partition", "N", "Read only partition N."),
            OptionSpec.Value("-g|--group", "GROUP", "Consume as a member of GROUP and commit what is printed."),
            OptionSpec.Value("-n|--count", "N", "Exit after printing N records."),
            OptionSpec.Value("--timeout-ms", "MS", "Exit when no record arrived for MS milliseconds."),
            OptionSpec.Value("-F|--format", "FMT", "Output format, e.g. '%k\\t%v\\n'."),
            OptionSpec.Flag("--print-key", "Print the key before the value (tab-separated)."),
            OptionSpec.Flag("--print-offset", "Print partition:offset first (tab-separated)."),
            OptionSpec.Flag("--print-timestamp", "Print the timestamp (ms) before key and value."),
            OptionSpec.Flag("-q|--quiet", "Print neither progress lines nor the final count on stderr."),
        ],
        CommonOptions = CommonOptions.KafkaSpecs,
        MinPositional = 1,
        MaxPositional = 1,
        PositionalName = "topic name",
        Examples = "  broker consume orders --from-beginning --count 10 --print-key\n" +
                   "  broker consume orders --timestamp 2024-05-01T00:00:00Z --timeout-ms 5000 --format '%p %o %v\\n'\n" +
                   "  broker consume orders --group billing --from-beginning",
        Run = RunAsync,
    };

    internal enum StartKind { Latest, Earliest, Offset, Timestamp }

    internal sealed record Options(string Topic, StartKind Start, long StartValue, int Partition, string? Group, long Count,
        int IdleTimeoutMs, RecordFormat Format, bool Quiet);

    internal static Options Parse(ParsedArgs a)
    {
        TopicCommands.CheckNames(a);
        bool fromBeginning = a.Has("from-beginning");
        string? offsetText = a.Get("offset");
        string? timestampText = a.Get("timestamp");
        int starts = (fromBeginning ? 1 : 0) + (offsetText is null ? 0 : 1) + (timestampText is null ? 0 : 1);
        if (starts > 1) throw a.Error("give only one of --from-beginning, --offset and --timestamp");

        var start = StartKind.Latest;
        long startValue = 0;
        if (fromBeginning) start = StartKind.Earliest;
        else if (offsetText is not null)
        {
            switch (offsetText.ToLowerInvariant())
            {
                case "earliest" or "beginning" or "start": start = StartKind.Earliest; break;
                case "latest" or "end": start = StartKind.Latest; break;
                default:
                    start = StartKind.Offset;
                    startValue = ValueParsers.ParseLong(offsetText, "--offset", 0, long.MaxValue, a.CommandPath);
                    break;
            }
        }
        else if (timestampText is not null)
        {
            start = StartKind.Timestamp;
            startValue = ValueParsers.ParseTimestamp(timestampText, "--timestamp", a.CommandPath);
        }

        string? group = a.Get("group");
        if (group is not null)
        {
            if (group.Trim().Length == 0) throw a.Error("--group must not be empty");
            if (offsetText is not null || timestampText is not null)
                throw a.Error("--offset and --timestamp cannot be used with --group (the group's committed offsets decide)");
            if (a.Has("partition")) throw a.Error("--partition cannot be used with --group (the group assigns partitions)");
        }

        string? formatText = a.Get("format");
        bool printFlags = a.Has("print-key") || a.Has("print-offset") || a.Has("print-timestamp");
        if (formatText is not null && printFlags) throw a.Error("give either --format or --print-key/--print-offset/--print-timestamp");
        formatText ??= RecordFormat.FromFlags(a.Has("print-offset"), a.Has("print-timestamp"), a.Has("print-key"));

        return new Options(
            a.Positionals[0],
            start,
            startValue,
            a.GetInt("partition", -1, 0, int.MaxValue),
            group,
            a.GetLong("count", -1, 1, long.MaxValue),
            a.GetInt("timeout-ms", -1, 1, int.MaxValue),
            RecordFormat.Parse(formatText, "--format", a.CommandPath),
            a.Has("quiet"));
    }

    private static async Task<int> RunAsync(ParsedArgs a, ToolContext ctx)
    {
        var o = Parse(a);
        ctx.UseCommon(a);
        await using var client = ctx.CreateClient();
        var md = await ctx.Bounded(ct => client.GetMetadataAsync(new[] { o.Topic }, false, ct)).ConfigureAwait(false);
        int partitions = ProduceCommand.PartitionCount(md, o.Topic);
        if (o.Partition >= partitions)
            throw new ToolFailure($"partition {o.Partition} does not exist: topic '{o.Topic}' has {partitions} partition{(partitions == 1 ? "" : "s")}");

        var sink = new RecordSink(ctx, o);
        if (o.Group is null) await ConsumePartitionsAsync(client, ctx, o, partitions, sink).ConfigureAwait(false);
        else await ConsumeGroupAsync(client, ctx, o, sink).ConfigureAwait(false);
        sink.Finish();
        return BrokerTool.ExitOk;
    }

    /// <summary>
    /// Formats records into a buffer and writes them to stdout (raw bytes) batch by batch; counts them for the
    /// progress meter and --count. A closed stdout (reader went away) ends the run quietly.
    /// </summary>
    internal sealed class RecordSink
    {
        private readonly ToolContext _ctx;
        private readonly Options _options;
        private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
        private readonly ProgressMeter _meter;

        public RecordSink(ToolContext ctx, Options options)
        {
            _ctx = ctx;
            _options = options;
            _meter = new ProgressMeter(ctx.Err, "consume", !options.Quiet);
        }

        public long Printed { get; private set; }
        public bool OutputClosed { get; private set; }
        public bool Done => OutputClosed || (_options.Count > 0 && Printed >= _options.Count);

        /// <summary>Prints records in order until --count is reached; returns how many were printed.</summary>
        public int Print(IReadOnlyList<ConsumedRecord> records, Action<ConsumedRecord>? printed = null)
        {
            int n = 0;
            long bytes = 0;
            foreach (var r in records)
            {
                if (Done) break;
                _options.Format.Write(r, _buffer);
                Printed++;
                n++;
                bytes += (r.Key?.Length ?? 0) + (r.Value?.Length ?? 0);
                printed?.Invoke(r);
            }
            if (_buffer.WrittenCount > 0)
            {
                try
                {
                    _ctx.Console.StdoutStream.Write(_buffer.WrittenSpan);
                    _ctx.Console.StdoutStream.Flush();
                }
                catch (IOException)
                {
                    OutputClosed = true;
                }
                _buffer.ResetWrittenCount();
            }
            if (n > 0) _meter.Add(n, bytes);
            else _meter.Tick();
            return n;
        }

        public void Finish()
        {
            if (!_options.Quiet) _ctx.Err.WriteLine($"consumed {Formats.Int(Printed)} records");
        }
    }
}
