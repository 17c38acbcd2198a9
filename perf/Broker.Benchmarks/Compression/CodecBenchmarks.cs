using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Broker.Compression;
using Broker.Core.Records;

namespace Broker.Benchmarks.Compression;

/// <summary>The codec variants measured: Kafka's four codecs, snappy both framed (xerial, what the Java client
/// writes and what the broker writes) and raw (one block, what librdkafka writes).</summary>
public enum CodecKind
{
    Gzip,
    SnappyXerial,
    SnappyRaw,
    Lz4,
    Zstd,
}

/// <summary>
/// Compress and decompress 1 MiB of JSON-ish 1 KiB records (a record batch's records section) with each codec,
/// through Broker.Compression's Codecs (gzip from the BCL; snappy, lz4 and zstd from the Debian system libraries).
/// MB/s counts uncompressed bytes; the "Ratio" column is uncompressed / compressed size.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(RatioConfig))]
public class CodecBenchmarks
{
    private const int DataBytes = 1024 * 1024;
    private static readonly ConcurrentDictionary<CodecKind, double> Ratios = new();
    private byte[] _data = [];
    private byte[] _compressed = [];
    private readonly ArrayBufferWriter<byte> _output = new(2 * DataBytes);

    [ParamsAllValues]
    public CodecKind Codec { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var codec = ToCodec(Codec);
        if (!Codecs.IsAvailable(codec, out string? reason)) throw new InvalidOperationException(reason);
        _data = SampleData.JsonRecords(DataBytes, 1024);
        Compress();
        _compressed = _output.WrittenSpan.ToArray();
        Ratios[Codec] = (double)DataBytes / _compressed.Length;
        _output.ResetWrittenCount();
        Decompress();
        if (!_output.WrittenSpan.SequenceEqual(_data)) throw new InvalidOperationException($"{Codec} did not round-trip");
    }

    [Benchmark]
    [OperationBytes(DataBytes)]
    public int Compress()
    {
        _output.ResetWrittenCount();
        if (Codec == CodecKind.SnappyRaw) Codecs.CompressSnappyRaw(_data, _output);
        else Codecs.Compress(ToCodec(Codec), _data, _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    [OperationBytes(DataBytes)]
    public int Decompress()
    {
        _output.ResetWrittenCount();
        return Codecs.Decompress(ToCodec(Codec), _compressed, _output);
    }

    private static CompressionCodec ToCodec(CodecKind kind) => kind switch
    {
        CodecKind.Gzip => CompressionCodec.Gzip,
        CodecKind.SnappyXerial or CodecKind.SnappyRaw => CompressionCodec.Snappy,
        CodecKind.Lz4 => CompressionCodec.Lz4,
        _ => CompressionCodec.Zstd,
    };

    private sealed class RatioConfig : ManualConfig
    {
        public RatioConfig() => AddColumn(new RatioColumn());
    }

    /// <summary>Compression ratio recorded by the (in-process) setup of each codec.</summary>
    private sealed class RatioColumn : IColumn
    {
        public string Id => "CompressionRatio";
        public string ColumnName => "Ratio";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 1;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Uncompressed bytes / compressed bytes of the 1 MiB sample";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
            benchmarkCase.Parameters["Codec"] is CodecKind kind && Ratios.TryGetValue(kind, out double ratio)
                ? ratio.ToString("F2", CultureInfo.InvariantCulture)
                : "?";
    }
}
