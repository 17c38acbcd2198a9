using System.Collections.Immutable;

namespace Broker.Metadata.Controller;

/// <summary>
/// Round-robin replica placement over the unfenced brokers, sorted by id. Partition p of a placement starting at
/// index s gets brokers s+p, s+p+1, … (mod n); the first is the preferred leader. The controller advances the
/// start index between placements, so leaders spread across brokers over many topics as well as within one.
/// </summary>
public static class ReplicaPlacer
{
    /// <summary>
    /// Replica lists for <paramref name="partitionCount"/> partitions of <paramref name="replicationFactor"/>
    /// replicas each. The caller guarantees replicationFactor ≤ brokers.Length and brokers is non-empty.
    /// </summary>
    public static int[][] Place(ImmutableArray<int> brokers, int partitionCount, int replicationFactor, int startIndex)
    {
        if (brokers.IsDefaultOrEmpty) throw new ArgumentException("no brokers to place replicas on", nameof(brokers));
        if (replicationFactor < 1 || replicationFactor > brokers.Length)
            throw new ArgumentOutOfRangeException(nameof(replicationFactor));
        int n = brokers.Length;
        int start = (int)((uint)startIndex % (uint)n);
        var result = new int[partitionCount][];
        for (int p = 0; p < partitionCount; p++)
        {
            var replicas = new int[replicationFactor];
            for (int r = 0; r < replicationFactor; r++) replicas[r] = brokers[(start + p + r) % n];
            result[p] = replicas;
        }
        return result;
    }
}
