using System.Buffers.Binary;
using Broker.Core.Hashing;
using Broker.Storage;

namespace Broker.Consensus.Raft;

/// <summary>
/// Persists a partition's leader-epoch history, (start offset, term) pairs oldest first, like Kafka's
/// leader-epoch-checkpoint. The log itself carries each batch's epoch, so the file only matters for offsets the log
/// no longer holds: after retention (or a snapshot install) the term of the offset just before the log start must
/// survive a restart for Raft's log matching. Layout, big-endian: magic "RFEP", version:i16=1, count:i32, then
/// count × (start:i64, term:i64), then crc32c:u32 of everything before. Saved with temp file + fsync + rename +
/// directory fsync.
/// </summary>
public sealed class EpochCheckpointFile
{
    public const string FileName = "raft-epochs";
    private const uint Magic = 0x52464550; // "RFEP"
    private const short Version = 1;
    private const int HeaderSize = 10;
    private const int MaxPairs = 1 << 20;

    public EpochCheckpointFile(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        FilePath = Path.Combine(directory, FileName);
    }

    public string FilePath { get; }

    /// <summary>The stored pairs; empty when no file exists. A damaged file is an <see cref="InvalidDataException"/>.</summary>
    public List<(long Start, long Term)> Load()
    {
        var result = new List<(long Start, long Term)>();
        if (!File.Exists(FilePath)) return result;
        byte[] data = File.ReadAllBytes(FilePath);
        var span = data.AsSpan();
        if (data.Length < HeaderSize + 4 || BinaryPrimitives.ReadUInt32BigEndian(span) != Magic)
            throw new InvalidDataException($"epoch checkpoint {FilePath} is damaged (bad size or magic)");
        if (BinaryPrimitives.ReadInt16BigEndian(span[4..]) != Version)
            throw new InvalidDataException($"epoch checkpoint {FilePath} has an unsupported version");
        int count = BinaryPrimitives.ReadInt32BigEndian(span[6..]);
        if (count < 0 || count > MaxPairs || data.Length != HeaderSize + count * 16 + 4)
            throw new InvalidDataException($"epoch checkpoint {FilePath} is damaged (count {count}, {data.Length} bytes)");
        int end = data.Length - 4;
        if (Crc32C.Compute(span[..end]) != BinaryPrimitives.ReadUInt32BigEndian(span[end..]))
            throw new InvalidDataException($"epoch checkpoint {FilePath} fails its checksum");
        for (int i = 0; i < count; i++)
        {
            int pos = HeaderSize + i * 16;
            result.Add((BinaryPrimitives.ReadInt64BigEndian(span[pos..]), BinaryPrimitives.ReadInt64BigEndian(span[(pos + 8)..])));
        }
        return result;
    }

    /// <summary>Durably replaces the stored pairs.</summary>
    public void Save(IReadOnlyList<(long Start, long Term)> epochs)
    {
        var data = new byte[HeaderSize + epochs.Count * 16 + 4];
        var span = data.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, Magic);
        BinaryPrimitives.WriteInt16BigEndian(span[4..], Version);
        BinaryPrimitives.WriteInt32BigEndian(span[6..], epochs.Count);
        for (int i = 0; i < epochs.Count; i++)
        {
            int pos = HeaderSize + i * 16;
            BinaryPrimitives.WriteInt64BigEndian(span[pos..], epochs[i].Start);
            BinaryPrimitives.WriteInt64BigEndian(span[(pos + 8)..], epochs[i].Term);
        }
        int end = data.Length - 4;
        BinaryPrimitives.WriteUInt32BigEndian(span[end..], Crc32C.Compute(span[..end]));
        DurableFile.WriteAtomic(FilePath, data);
    }
}
