using System.Buffers.Binary;
using Broker.Core.Hashing;
using Broker.Raft;
using Broker.Storage;

namespace Broker.Consensus.Raft;

/// <summary>Thrown when a persisted Raft hard state cannot be trusted (never silently reset: it holds a vote).</summary>
public sealed class HardStateCorruptException(string message) : IOException(message);

/// <summary>
/// Persists the <see cref="HardState"/> (term, vote, commit) of one Raft group in a small file of its own directory
/// (normally the partition directory). Layout, big-endian, 32 bytes: magic "RFHS", version:i16=1, reserved:i16=0,
/// term:i64, votedFor:i32, commit:i64, crc32c:u32 of the preceding 28 bytes. Saves are crash-safe: write a temp
/// file, fsync it, rename it over the old one, fsync the directory (<see cref="DurableFile"/>). A missing file is
/// <see cref="HardState.Initial"/>; a damaged one is a <see cref="HardStateCorruptException"/> naming the file.
/// </summary>
public sealed class FileHardStateStore
{
    public const string FileName = "raft-hard-state";
    private const int Size = 32;
    private const uint Magic = 0x52464853; // "RFHS"
    private const short Version = 1;

    private readonly byte[] _buffer = new byte[Size];
    private HardState? _lastSaved;

    public FileHardStateStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        FilePath = Path.Combine(directory, FileName);
    }

    public string FilePath { get; }

    /// <summary>Reads the stored state; <see cref="HardState.Initial"/> when none was ever saved.</summary>
    public HardState Load()
    {
        if (!File.Exists(FilePath)) return HardState.Initial;
        byte[] data = File.ReadAllBytes(FilePath);
        if (data.Length != Size)
            throw new HardStateCorruptException($"Raft hard state file {FilePath} has {data.Length} bytes, expected {Size}: " +
                                                "it is damaged; restore it or remove the replica's data to rejoin as a new replica");
        var span = data.AsSpan();
        uint crc = BinaryPrimitives.ReadUInt32BigEndian(span[28..]);
        if (BinaryPrimitives.ReadUInt32BigEndian(span) != Magic || Crc32C.Compute(span[..28]) != crc)
            throw new HardStateCorruptException($"Raft hard state file {FilePath} fails its magic/checksum check: " +
                                                "it is damaged; restore it or remove the replica's data to rejoin as a new replica");
        short version = BinaryPrimitives.ReadInt16BigEndian(span[4..]);
        if (version != Version)
            throw new HardStateCorruptException($"Raft hard state file {FilePath} has unsupported version {version}");
        long term = BinaryPrimitives.ReadInt64BigEndian(span[8..]);
        int votedFor = BinaryPrimitives.ReadInt32BigEndian(span[16..]);
        long commit = BinaryPrimitives.ReadInt64BigEndian(span[20..]);
        if (term < 0 || commit < -1)
            throw new HardStateCorruptException($"Raft hard state file {FilePath} holds invalid values (term {term}, commit {commit})");
        return new HardState(term, votedFor, commit);
    }

    /// <summary>Durably replaces the stored state (temp file + fsync + rename).</summary>
    public void Save(HardState state)
    {
        var span = _buffer.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, Magic);
        BinaryPrimitives.WriteInt16BigEndian(span[4..], Version);
        BinaryPrimitives.WriteInt16BigEndian(span[6..], 0);
        BinaryPrimitives.WriteInt64BigEndian(span[8..], state.Term);
        BinaryPrimitives.WriteInt32BigEndian(span[16..], state.VotedFor);
        BinaryPrimitives.WriteInt64BigEndian(span[20..], state.Commit);
        BinaryPrimitives.WriteUInt32BigEndian(span[28..], Crc32C.Compute(span[..28]));
        // A new term or vote must survive a power loss (the rename too: directory fsync); a commit-only change is a
        // hint that may harmlessly revert to the previous file.
        bool termOrVote = _lastSaved is not { } last || last.Term != state.Term || last.VotedFor != state.VotedFor;
        DurableFile.WriteAtomic(FilePath, _buffer, syncDirectory: termOrVote);
        _lastSaved = state;
    }
}
