using System.Text;
using Broker.Cli.Arguments;
using Broker.Cli.Output;
using Broker.Client;
using Broker.Compression;
using Broker.Core.Model;
using Broker.Core.Records;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>produce</c>: records from stdin or a file (one per line, optionally "key SEP value"), or synthetic records
/// (<c>--count N --size BYTES</c>). Records are batched per partition (one batch in flight per partition, so order is
/// kept) and a summary is printed on stdout; a progress line goes to stderr every 2 s on long runs.
/// </summary>
internal static partial class ProduceCommand
{
    public static readonly CommandDef Definition = new()
    {
        Path = "produce",
        Summary = "Produce records from stdin, a file, or synthetic records.",
        Synopsis = "TOPIC [--key-separator SEP] [--partition N] [--compression CODEC] [--acks all|1|0]\n" +
                   "                      [--file FILE | --count N [--size BYTES]] [options]",
        Description =
            "Each input line is one record (UTF-8, the line end removed). With --key-separator the text before the\n" +
            "first separator is the key and the rest the value; a line without the separator gets a null key.\n" +
            "Keyed records go to the partition Kafka's default partitioner picks (murmur2); records without a\n" +
            "key fill one partition's batch after another. When all records are acknowledged a summary is\n" +
            "printed: 'produced N records (B bytes) to TOPIC in T s (R records/s, M MB/s)'.",
        Options =
        [
            OptionSpec.Value("-k|--key-separator", "SEP", "Split each line into key and value at SEP (escapes such as \\t work)."),
            OptionSpec.Value("--partition", "N", "Send every record to partition N."),
            OptionSpec.Value("-z|--compression", "CODEC", "none, gzip, snappy, lz4 or zstd (default: none)."),
            OptionSpec.Value("--acks", "ACKS", "all (or -1), 1 or 0 (default: all)."),
            OptionSpec.Value("-f|--file", "FILE", "Read lines from FILE instead of stdin ('-' is stdin)."),
            OptionSpec.Value("-n|--count", "N", "Produce N synthetic records instead of reading input."),
            OptionSpec.Value("--size", "BYTES", "Value size of synthetic records (default: 100)."),
            OptionSpec.Repeated("-H|--header", "KEY=VALUE", "Add a header to every record. Repeatable."),
            OptionSpec.Value("--batch-records", "N", "Records per batch at most (default: 1000)."),
            OptionSpec.Flag("-q|--quiet", "Print neither progress lines (stderr) nor the summary (stdout)."),
        ],
        CommonOptions = CommonOptions.KafkaSpecs,
        MinPositional = 1,
        MaxPositional = 1,
        PositionalName = "topic name",
        Examples = "  printf 'k1\\tv1\\nk2\\tv2\\n' | broker produce orders --key-separator '\\t'\n" +
                   "  broker produce orders --file events.txt --compression zstd\n" +
                   "  broker produce bench --count 1000000 --size 512 --acks 1",
        Run = RunAsync,
    };

    /// <summary>Uncompressed bytes per batch at most (well under the default max.message.bytes of 1 MiB).</summary>
    internal const int MaxBatchBytes = 512 * 1024;

    /// <summary>How long a partial batch waits for more input lines before it is sent.</summary>
    internal static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(20);

    internal sealed record Options(string Topic, string? KeySeparator, int Partition, CompressionCodec Compression, short Acks,
        string? File, long Count, int Size, IReadOnlyList<RecordHeader> Headers, int BatchRecords, bool Quiet)
    {
        public bool Synthetic => Count >= 0;
    }

    internal static Options Parse(ParsedArgs a)
    {
        TopicCommands.CheckNames(a);
        string? sep = a.Get("key-separator");
        if (sep is not null)
        {
            sep = ValueParsers.Unescape(sep);
            if (sep.Length == 0) throw a.Error("--key-separator must not be empty");
        }
        long count = a.GetLong("count", -1, 0, long.MaxValue);
        if (count >= 0 && a.Has("file")) throw a.Error("give either --file or --count, not both");
        if (count >= 0 && sep is not null) throw a.Error("--key-separator applies to input lines, not to --count records");
        if (count < 0 && a.Has("size")) throw a.Error("--size applies to synthetic records: give --count too");
        var headers = new List<RecordHeader>();
        foreach (string kv in a.GetAll("header"))
        {
            var (k, v) = ValueParsers.ParseKeyValue(kv, "--header", a.CommandPath);
            headers.Add(new RecordHeader(k, Encoding.UTF8.GetBytes(v)));
        }
        string? compression = a.Get("compression");
        string? acks = a.Get("acks");
        string? file = a.Get("file");
        if (file is { Length: 0 }) throw a.Error("--file needs a file name");
        return new Options(
            a.Positionals[0],
            sep,
            a.GetInt("partition", -1, 0, int.MaxValue),
            compression is null ? CompressionCodec.None : ValueParsers.ParseCompression(compression, "--compression", a.CommandPath),
            acks is null ? (short)-1 : ValueParsers.ParseAcks(acks, "--acks", a.CommandPath),
            file == "-" ? null : file,
            count,
            a.GetInt("size", 100, 0, 64 * 1024 * 1024),
            headers,
            a.GetInt("batch-records", 1000, 1, 1_000_000),
            a.Has("quiet"));
    }

    /// <summary>Splits an input line into key and value (null key without a separator or without one in the line).</summary>
    internal static ProducerRecord ToRecord(string line, string? separator, IReadOnlyList<RecordHeader>? headers)
    {
        if (separator is not null)
        {
            int i = line.IndexOf(separator, StringComparison.Ordinal);
            if (i >= 0)
                return new ProducerRecord(Encoding.UTF8.GetBytes(line.Substring(0, i)),
                    Encoding.UTF8.GetBytes(line.Substring(i + separator.Length)), headers);
        }
        return new ProducerRecord(null, Encoding.UTF8.GetBytes(line), headers);
    }

    /// <summary>Synthetic value number <paramref name="index"/>: its decimal index, then '.' up to <paramref name="size"/>.</summary>
    internal static byte[] SyntheticValue(long index, int size)
    {
        var value = new byte[size];
        value.AsSpan().Fill((byte)'.');
        Span<byte> digits = stackalloc byte[20];
        System.Buffers.Text.Utf8Formatter.TryFormat(index, digits, out int n);
        digits.Slice(0, Math.Min(n, size)).CopyTo(value);
        return value;
    }

    private static async Task<int> RunAsync(ParsedArgs a, ToolContext ctx)
    {
        var o = Parse(a);
        ctx.UseCommon(a);
        TextReader? input = null;
        if (!o.Synthetic)
        {
            if (o.File is null) input = ctx.Console.Stdin;
            else if (!System.IO.File.Exists(o.File)) throw new ToolFailure($"cannot read {o.File}: no such file");
            else
            {
                try
                {
                    input = new StreamReader(o.File, new UTF8Encoding(false), false, 64 * 1024);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new ToolFailure($"cannot read {o.File}: {(ex is UnauthorizedAccessException ? "permission denied" : ex.Message)}");
                }
            }
        }

        try
        {
            await using var client = ctx.CreateClient();
            var md = await ctx.Bounded(ct => client.GetMetadataAsync(new[] { o.Topic }, false, ct)).ConfigureAwait(false);
            int partitions = PartitionCount(md, o.Topic);
            if (o.Partition >= partitions)
                throw new ToolFailure($"partition {o.Partition} does not exist: topic '{o.Topic}' has {partitions} partition{(partitions == 1 ? "" : "s")}");

            var meter = new ProgressMeter(ctx.Err, "produce", !o.Quiet);
            var producer = new BatchingProducer(client, o, partitions, meter, ctx.Interrupt);
            if (o.Synthetic) await producer.ProduceSyntheticAsync().ConfigureAwait(false);
            else await producer.ProduceLinesAsync(input!).ConfigureAwait(false);

            var elapsed = meter.Elapsed;
            if (!o.Quiet)
                ctx.Out.WriteLine($"produced {Formats.Int(meter.Records)} records ({Formats.Int(meter.Bytes)} bytes) to {o.Topic} " +
                                  $"in {Formats.Seconds(elapsed)} s ({Formats.Rate(meter.Records, elapsed)} records/s, {Formats.MbRate(meter.Bytes, elapsed)} MB/s)");
            return BrokerTool.ExitOk;
        }
        finally
        {
            if (o.File is not null) input?.Dispose();
        }
    }

    /// <summary>The topic's partition count from a Metadata answer; a missing topic is a <see cref="ToolFailure"/>.</summary>
    internal static int PartitionCount(ClusterInfo md, string topic)
    {
        foreach (var t in md.Topics)
        {
            if (t.Name != topic) continue;
            if (t.Error is ErrorCode.UnknownTopicOrPartition or ErrorCode.InvalidTopicException || t.Partitions.Count == 0)
            {
                var code = t.Error == ErrorCode.None ? ErrorCode.UnknownTopicOrPartition : t.Error;
                throw new ToolFailure($"{Formats.ErrorName(code)}: " +
                    (code == ErrorCode.InvalidTopicException ? $"'{topic}' is not a valid topic name." : $"Topic '{topic}' does not exist."));
            }
            return t.Partitions.Count;
        }
        throw new ToolFailure($"{Formats.ErrorName(ErrorCode.UnknownTopicOrPartition)}: Topic '{topic}' does not exist.");
    }
}
