using Broker.Core.Hashing;

namespace Broker.Storage.Compaction;

/// <summary>
/// The log cleaner's map from record key to the offset of its latest record. Keys are stored exactly (bytes copied
/// into one arena, compared on lookup), so a hash collision can never drop a live record; an open-addressing table of
/// entry indexes over parallel arrays keeps the per-key cost at ~20 bytes plus the key. Memory is bounded by
/// <see cref="MaxBytes"/>: <see cref="TryPut"/> refuses a new key once the map would pass it, and the cleaner then
/// only cleans what the map covers. Each entry also remembers whether the latest record is a tombstone (so the pass can
/// tell when its kept tombstones expire). One pass owns one map; not thread-safe.
/// </summary>
internal sealed class KeyOffsetMap
{
    private const int EntryOverhead = sizeof(long) + 3 * sizeof(int) + sizeof(bool) + 2 * sizeof(int); // arrays + ~2 buckets

    private int[] _buckets;        // entry index + 1, 0 = empty; length is a power of two
    private long[] _offsets;
    private int[] _keyStarts;
    private int[] _keyLengths;
    private uint[] _hashes;
    private bool[] _tombstones;
    private byte[] _arena;
    private int _arenaUsed;

    public KeyOffsetMap(long maxBytes)
    {
        MaxBytes = Math.Max(maxBytes, 4096);
        _buckets = new int[64];
        _offsets = new long[32];
        _keyStarts = new int[32];
        _keyLengths = new int[32];
        _hashes = new uint[32];
        _tombstones = new bool[32];
        _arena = new byte[4096];
    }

    public long MaxBytes { get; }
    public int Count { get; private set; }

    /// <summary>Approximate memory the map accounts for (keys + per-entry overhead).</summary>
    public long UsedBytes => _arenaUsed + (long)Count * EntryOverhead;

    /// <summary>Records <paramref name="offset"/> as the latest of <paramref name="key"/> (a tombstone when
    /// <paramref name="tombstone"/>); false when a new key does not fit in <see cref="MaxBytes"/> (the map is unchanged then).</summary>
    public bool TryPut(ReadOnlySpan<byte> key, long offset, bool tombstone = false)
    {
        uint hash = Hash(key);
        int slot = FindSlot(key, hash, out int entry);
        if (entry >= 0)
        {
            _offsets[entry] = offset;
            _tombstones[entry] = tombstone;
            return true;
        }
        if (UsedBytes + key.Length + EntryOverhead > MaxBytes || (long)_arenaUsed + key.Length > int.MaxValue - 64) return false;
        int index = Count;
        EnsureEntryCapacity(index + 1);
        EnsureArena(key.Length);
        key.CopyTo(_arena.AsSpan(_arenaUsed));
        _keyStarts[index] = _arenaUsed;
        _keyLengths[index] = key.Length;
        _hashes[index] = hash;
        _offsets[index] = offset;
        _tombstones[index] = tombstone;
        _arenaUsed += key.Length;
        _buckets[slot] = index + 1;
        Count = index + 1;
        if (Count * 2 > _buckets.Length) GrowBuckets();
        return true;
    }

    /// <summary>The latest offset of <paramref name="key"/>, or false when the map does not hold it.</summary>
    public bool TryGet(ReadOnlySpan<byte> key, out long offset)
    {
        FindSlot(key, Hash(key), out int entry);
        offset = entry >= 0 ? _offsets[entry] : -1;
        return entry >= 0;
    }

    /// <summary>Offsets below <paramref name="below"/> whose record is the latest of its key and a tombstone.</summary>
    public List<long> LatestTombstones(long below)
    {
        var result = new List<long>();
        for (int i = 0; i < Count; i++)
            if (_tombstones[i] && _offsets[i] < below) result.Add(_offsets[i]);
        return result;
    }

    private static uint Hash(ReadOnlySpan<byte> key)
    {
        uint h = Crc32C.Compute(key) ^ (uint)key.Length * 0x9E3779B1u;
        // Finaliser so that low bits (the bucket index) depend on every input bit.
        h ^= h >> 16;
        h *= 0x85EBCA6Bu;
        h ^= h >> 13;
        return h;
    }

    /// <summary>The bucket holding <paramref name="key"/> (entry set) or the empty bucket where it would go (entry -1).</summary>
    private int FindSlot(ReadOnlySpan<byte> key, uint hash, out int entry)
    {
        int mask = _buckets.Length - 1;
        int slot = (int)(hash & (uint)mask);
        while (true)
        {
            int candidate = _buckets[slot] - 1;
            if (candidate < 0)
            {
                entry = -1;
                return slot;
            }
            if (_hashes[candidate] == hash && _keyLengths[candidate] == key.Length &&
                _arena.AsSpan(_keyStarts[candidate], key.Length).SequenceEqual(key))
            {
                entry = candidate;
                return slot;
            }
            slot = (slot + 1) & mask;
        }
    }

    private void GrowBuckets()
    {
        var buckets = new int[_buckets.Length * 2];
        int mask = buckets.Length - 1;
        for (int i = 0; i < Count; i++)
        {
            int slot = (int)(_hashes[i] & (uint)mask);
            while (buckets[slot] != 0) slot = (slot + 1) & mask;
            buckets[slot] = i + 1;
        }
        _buckets = buckets;
    }

    private void EnsureEntryCapacity(int needed)
    {
        if (needed <= _offsets.Length) return;
        int size = _offsets.Length * 2;
        Array.Resize(ref _offsets, size);
        Array.Resize(ref _keyStarts, size);
        Array.Resize(ref _keyLengths, size);
        Array.Resize(ref _hashes, size);
        Array.Resize(ref _tombstones, size);
    }

    private void EnsureArena(int extra)
    {
        long needed = (long)_arenaUsed + extra;
        if (needed <= _arena.Length) return;
        long size = Math.Max(needed, (long)_arena.Length * 2);
        Array.Resize(ref _arena, (int)Math.Min(size, Array.MaxLength));
    }
}
