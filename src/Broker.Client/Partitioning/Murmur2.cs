namespace Broker.Client.Partitioning;

/// <summary>
/// Kafka's murmur2 (the Java client's Utils.murmur2: seed 0x9747b28c, little-endian 4-byte blocks, signed result), the
/// hash behind the default partitioner: partition = (hash &amp; 0x7fffffff) % partitionCount.
/// </summary>
public static class Murmur2
{
    private const uint Seed = 0x9747b28c;
    private const uint M = 0x5bd1e995;
    private const int R = 24;

    public static int Hash(ReadOnlySpan<byte> data)
    {
        int length = data.Length;
        uint h = Seed ^ (uint)length;
        int blocks = length / 4;
        for (int i = 0; i < blocks; i++)
        {
            int o = i * 4;
            uint k = data[o] | (uint)data[o + 1] << 8 | (uint)data[o + 2] << 16 | (uint)data[o + 3] << 24;
            k *= M;
            k ^= k >> R;
            k *= M;
            h *= M;
            h ^= k;
        }
        int tail = blocks * 4;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= M;
                break;
        }
        h ^= h >> 13;
        h *= M;
        h ^= h >> 15;
        return (int)h;
    }

    /// <summary>The partition Kafka's default partitioner picks for a non-null key.</summary>
    public static int Partition(ReadOnlySpan<byte> key, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitionCount);
        return (Hash(key) & 0x7fffffff) % partitionCount;
    }
}
