using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Broker.Benchmarks;

/// <summary>
/// Declares how many payload bytes one benchmark operation moves: a fixed number, or the value of a parameter
/// (for example RegionBytes). <see cref="ThroughputColumn"/> turns it into MB/s.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OperationBytesAttribute : Attribute
{
    public OperationBytesAttribute() { }

    public OperationBytesAttribute(long bytes) => Bytes = bytes;

    public long Bytes { get; }

    /// <summary>Name of a [Params] property whose value is the byte count (wins over <see cref="Bytes"/>).</summary>
    public string? Parameter { get; init; }

    /// <summary>Multiplies the parameter's value (e.g. a record count times the record size).</summary>
    public long Multiplier { get; init; } = 1;
}

/// <summary>A benchmark parameter value that knows how many payload bytes one operation with it moves.</summary>
public interface IOperationBytes
{
    long OperationBytes { get; }
}

/// <summary>The "MB/s" summary column: 10^6 payload bytes per second from the mean time per operation.</summary>
public sealed class ThroughputColumn : IColumn
{
    public string Id => "MBps";
    public string ColumnName => "MB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Payload throughput: 10^6 bytes per second at the mean time per operation";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <summary>Shown only for benchmarks that declare their bytes per operation.</summary>
    public bool IsAvailable(Summary summary)
    {
        foreach (var benchmarkCase in summary.BenchmarksCases)
            if (BytesPerOperation(benchmarkCase) > 0) return true;
        return false;
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        long bytes = BytesPerOperation(benchmarkCase);
        if (bytes <= 0) return "-";
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats is null || stats.Mean <= 0) return "NA";
        double mbPerSecond = bytes / (stats.Mean * 1e-9) / 1e6;
        return mbPerSecond.ToString(mbPerSecond >= 100 ? "N0" : "N1", CultureInfo.InvariantCulture);
    }

    private static long BytesPerOperation(BenchmarkCase benchmarkCase)
    {
        var attribute = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<OperationBytesAttribute>();
        if (attribute is null) return 0;
        if (attribute.Parameter is null) return attribute.Bytes;
        object? value = benchmarkCase.Parameters[attribute.Parameter];
        if (value is IOperationBytes sized) return sized.OperationBytes * attribute.Multiplier;
        return value is null ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture) * attribute.Multiplier;
    }

    public override string ToString() => ColumnName;
}
