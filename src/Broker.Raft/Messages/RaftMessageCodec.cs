using System.Buffers.Binary;

namespace Broker.Raft.Messages;

/// <summary>Thrown when bytes do not decode to a valid Raft message.</summary>
public sealed class RaftCodecException(string message) : FormatException(message);

/// <summary>
/// Compact big-endian binary encoding of <see cref="RaftMessage"/>s for a transport:
/// type:u8 from:i32 to:i32 term:i64, then the fields of the type in declaration order
/// (bool = u8, entry = term:i64 first:i64 count:i32 len:i32 bytes, snapshot = last:i64 term:i64 len:i32 bytes).
/// The driver's logStartOffset:i64 follows AppendRequest's commit (before the entries) and ends AppendResponse.
/// </summary>
public static class RaftMessageCodec
{
    private const int HeaderSize = 1 + 4 + 4 + 8;
    private const int EntryHeaderSize = 8 + 8 + 4 + 4;

    public static int GetEncodedSize(RaftMessage message) => HeaderSize + message switch
    {
        VoteRequest => 1 + 8 + 8 + 1,
        VoteResponse => 1 + 1,
        AppendRequest a => 8 + 8 + 8 + 4 + EntriesSize(a.Entries) + 8,
        AppendResponse => 1 + 8 + 8 + 8 + 8 + 8,
        SnapshotRequest s => 8 + 8 + 8 + 4 + s.Snapshot.Payload.Length,
        SnapshotResponse => 8,
        TimeoutNow => 0,
        _ => throw new ArgumentException($"unknown message {message.GetType().Name}", nameof(message)),
    };

    private static int EntriesSize(RaftEntry[] entries)
    {
        int size = 0;
        foreach (RaftEntry e in entries) size += EntryHeaderSize + e.Payload.Length;
        return size;
    }

    public static byte[] Encode(RaftMessage message)
    {
        byte[] buffer = new byte[GetEncodedSize(message)];
        Write(message, buffer);
        return buffer;
    }

    /// <summary>Writes <paramref name="message"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(RaftMessage message, Span<byte> destination)
    {
        int size = GetEncodedSize(message);
        if (destination.Length < size) throw new ArgumentException($"destination needs {size} bytes", nameof(destination));
        var w = new Writer(destination);
        w.U8((byte)message.Type);
        w.I32(message.From);
        w.I32(message.To);
        w.I64(message.Term);
        switch (message)
        {
            case VoteRequest v: w.Bool(v.PreVote); w.I64(v.LastOffset); w.I64(v.LastTerm); w.Bool(v.Transfer); break;
            case VoteResponse v: w.Bool(v.PreVote); w.Bool(v.Granted); break;
            case AppendRequest a:
                w.I64(a.PrevOffset); w.I64(a.PrevTerm); w.I64(a.Commit); w.I64(a.LogStartOffset); w.I32(a.Entries.Length);
                foreach (RaftEntry e in a.Entries)
                {
                    w.I64(e.Term); w.I64(e.FirstOffset); w.I32(e.Count); w.Bytes(e.Payload.Span);
                }
                break;
            case AppendResponse r:
                w.Bool(r.Success); w.I64(r.MatchOffset); w.I64(r.RejectedPrev); w.I64(r.HintOffset); w.I64(r.HintTerm);
                w.I64(r.LogStartOffset);
                break;
            case SnapshotRequest s:
                w.I64(s.Commit); w.I64(s.Snapshot.LastOffset); w.I64(s.Snapshot.LastTerm); w.Bytes(s.Snapshot.Payload.Span);
                break;
            case SnapshotResponse s: w.I64(s.MatchOffset); break;
            case TimeoutNow: break;
        }
        return w.Position;
    }

    /// <summary>Decodes one message occupying all of <paramref name="source"/>. Payloads are copied.</summary>
    public static RaftMessage Read(ReadOnlySpan<byte> source)
    {
        var r = new Reader(source);
        byte type = r.U8();
        int from = r.I32(), to = r.I32();
        long term = r.I64();
        if (term < 0) throw new RaftCodecException($"negative term {term}");
        RaftMessage message = (RaftMessageType)type switch
        {
            RaftMessageType.VoteRequest => new VoteRequest(from, to, term, r.Bool(), r.I64(), r.I64(), r.Bool()),
            RaftMessageType.VoteResponse => new VoteResponse(from, to, term, r.Bool(), r.Bool()),
            RaftMessageType.AppendRequest => ReadAppend(ref r, from, to, term),
            RaftMessageType.AppendResponse => new AppendResponse(from, to, term, r.Bool(), r.I64(), r.I64(), r.I64(), r.I64())
            {
                LogStartOffset = r.I64(),
            },
            RaftMessageType.SnapshotRequest => new SnapshotRequest(from, to, term, r.I64(), new RaftSnapshot(r.I64(), r.I64(), r.Bytes())),
            RaftMessageType.SnapshotResponse => new SnapshotResponse(from, to, term, r.I64()),
            RaftMessageType.TimeoutNow => new TimeoutNow(from, to, term),
            _ => throw new RaftCodecException($"unknown raft message type {type}"),
        };
        if (r.Remaining != 0) throw new RaftCodecException($"{r.Remaining} trailing bytes after {(RaftMessageType)type}");
        return message;
    }

    private static AppendRequest ReadAppend(ref Reader r, int from, int to, long term)
    {
        long prevOffset = r.I64(), prevTerm = r.I64(), commit = r.I64(), logStart = r.I64();
        int count = r.I32();
        if (count < 0 || count > r.Remaining / EntryHeaderSize)
            throw new RaftCodecException($"invalid entry count {count}");
        var entries = new RaftEntry[count];
        long expected = prevOffset + 1;
        for (int i = 0; i < count; i++)
        {
            long eTerm = r.I64(), first = r.I64();
            int n = r.I32();
            if (n < 1) throw new RaftCodecException($"entry {i} covers {n} offsets");
            if (first != expected) throw new RaftCodecException($"entry {i} starts at {first}, expected {expected}");
            entries[i] = new RaftEntry(eTerm, first, n, r.Bytes());
            expected = first + n;
        }
        return new AppendRequest(from, to, term, prevOffset, prevTerm, commit, entries) { LogStartOffset = logStart };
    }

    private ref struct Writer(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        public int Position;
        public void U8(byte v) => _buffer[Position++] = v;
        public void Bool(bool v) => U8(v ? (byte)1 : (byte)0);
        public void I32(int v) { BinaryPrimitives.WriteInt32BigEndian(_buffer[Position..], v); Position += 4; }
        public void I64(long v) { BinaryPrimitives.WriteInt64BigEndian(_buffer[Position..], v); Position += 8; }
        public void Bytes(ReadOnlySpan<byte> v) { I32(v.Length); v.CopyTo(_buffer[Position..]); Position += v.Length; }
    }

    private ref struct Reader(ReadOnlySpan<byte> buffer)
    {
        private readonly ReadOnlySpan<byte> _buffer = buffer;
        private int _position;
        public int Remaining => _buffer.Length - _position;

        private void Need(int n)
        {
            if (Remaining < n) throw new RaftCodecException($"truncated raft message: need {n} bytes at {_position}, have {Remaining}");
        }

        public byte U8() { Need(1); return _buffer[_position++]; }
        public bool Bool()
        {
            byte b = U8();
            return b switch { 0 => false, 1 => true, _ => throw new RaftCodecException($"invalid boolean {b}") };
        }
        public int I32() { Need(4); int v = BinaryPrimitives.ReadInt32BigEndian(_buffer[_position..]); _position += 4; return v; }
        public long I64() { Need(8); long v = BinaryPrimitives.ReadInt64BigEndian(_buffer[_position..]); _position += 8; return v; }
        public byte[] Bytes()
        {
            int n = I32();
            if (n < 0) throw new RaftCodecException($"negative length {n}");
            Need(n);
            byte[] v = _buffer.Slice(_position, n).ToArray();
            _position += n;
            return v;
        }
    }
}
