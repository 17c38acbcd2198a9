using System.Numerics;

namespace Broker.LoadGen;

/// <summary>
/// A small HDR-style latency histogram in nanoseconds: log-linear buckets (each power of two split into
/// <see cref="SubBuckets"/> linear steps), fixed memory (~40 KiB), relative error at most 1/128 (reported values are
/// bucket midpoints, so typically within 0.4%). Values below 128 ns are exact; values above ~2.4 h are clamped.
/// Single writer; merge per-thread histograms with <see cref="Add"/> once the writers are done.
/// </summary>
public sealed class LatencyHistogram
{
    public const int SubBucketBits = 7;
    public const int SubBuckets = 1 << SubBucketBits;   // 128
    private const int MaxShift = 36;                     // top bucket: values up to 2^(36+8) ns ≈ 4.9 h
    public const long MaxTrackable = ((long)SubBuckets * 2 << MaxShift) - 1;
    private const int BucketCount = (MaxShift + 2) * SubBuckets;

    private readonly long[] _counts = new long[BucketCount];
    private long _count;
    private long _min = long.MaxValue;
    private long _max;
    private double _sum;

    public long Count => _count;
    public long Min => _count == 0 ? 0 : _min;
    public long Max => _max;
    public double Mean => _count == 0 ? 0 : _sum / _count;

    /// <summary>Records <paramref name="count"/> occurrences of <paramref name="valueNs"/> (negative counts as 0).</summary>
    public void Record(long valueNs, long count = 1)
    {
        if (count <= 0) return;
        if (valueNs < 0) valueNs = 0;
        if (valueNs > MaxTrackable) valueNs = MaxTrackable;
        _counts[IndexOf(valueNs)] += count;
        _count += count;
        _sum += (double)valueNs * count;
        if (valueNs < _min) _min = valueNs;
        if (valueNs > _max) _max = valueNs;
    }

    /// <summary>Adds all counts of <paramref name="other"/> to this histogram.</summary>
    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < BucketCount; i++) _counts[i] += other._counts[i];
        _count += other._count;
        _sum += other._sum;
        if (other._count > 0)
        {
            if (other._min < _min) _min = other._min;
            if (other._max > _max) _max = other._max;
        }
    }

    public void Reset()
    {
        Array.Clear(_counts);
        _count = 0;
        _min = long.MaxValue;
        _max = 0;
        _sum = 0;
    }

    /// <summary>The value at <paramref name="percentile"/> (0..100], in ns; 0 when empty. Never above the max.</summary>
    public long Percentile(double percentile)
    {
        if (_count == 0) return 0;
        if (percentile >= 100) return _max;
        long rank = (long)Math.Ceiling(percentile / 100.0 * _count);
        if (rank < 1) rank = 1;
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return Math.Clamp(MidpointOf(i), Min, _max);
        }
        return _max;
    }

    /// <summary>Bucket index: exact below 2*SubBuckets, then SubBuckets linear steps per power of two.</summary>
    public static int IndexOf(long value)
    {
        if (value < SubBuckets * 2) return (int)value;
        int shift = BitOperations.Log2((ulong)value) - SubBucketBits;
        return (shift + 1) * SubBuckets + (int)((value >> shift) - SubBuckets);
    }

    /// <summary>Lowest value that falls into bucket <paramref name="index"/>.</summary>
    public static long LowestOf(int index)
    {
        if (index < SubBuckets * 2) return index;
        int shift = index / SubBuckets - 1;
        return (long)(SubBuckets + index % SubBuckets) << shift;
    }

    /// <summary>Width of bucket <paramref name="index"/>.</summary>
    public static long WidthOf(int index) => index < SubBuckets * 2 ? 1 : 1L << (index / SubBuckets - 1);

    private static long MidpointOf(int index) => LowestOf(index) + WidthOf(index) / 2;
}
