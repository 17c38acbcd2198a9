using Broker.Raft.Messages;

namespace Broker.Raft.Tests;

public sealed class RaftMessageCodecTests
{
    public static TheoryData<int> Cases() => new() { 0, 1, 2, 3, 4, 5, 6, 7, 8 };

    private static RaftMessage Sample(int i) => i switch
    {
        0 => new VoteRequest(1, 2, 7, true, 1234567890123, 6, false),
        1 => new VoteRequest(3, 1, long.MaxValue, false, -1, 0, true),
        2 => new VoteResponse(2, 1, 8, true, true),
        3 => new AppendRequest(1, 3, 9, 99, 8, 97, [
            new RaftEntry(9, 100, 1, ReadOnlyMemory<byte>.Empty),
            new RaftEntry(9, 101, 5, new byte[] { 1, 2, 3, 255 }),
        ]),
        4 => new AppendRequest(1, 3, 9, -1, 0, -1, []),
        5 => new AppendResponse(3, 1, 9, false, -1, 99, 42, 7),
        6 => new SnapshotRequest(1, 2, 10, 500, new RaftSnapshot(499, 9, new byte[] { 9, 8, 7 })),
        7 => new SnapshotResponse(2, 1, 10, 499),
        _ => new TimeoutNow(1, 2, 11),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void RoundTrip_PreservesEveryField(int i)
    {
        RaftMessage m = Sample(i);
        byte[] bytes = RaftMessageCodec.Encode(m);
        Assert.Equal(RaftMessageCodec.GetEncodedSize(m), bytes.Length);
        RaftMessage back = RaftMessageCodec.Read(bytes);
        Assert.Equal(m.GetType(), back.GetType());
        Assert.Equal(bytes, RaftMessageCodec.Encode(back));
        switch (m, back)
        {
            case (AppendRequest a, AppendRequest b):
                Assert.Equal(a with { Entries = [] }, b with { Entries = [] });
                Assert.Equal(a.Entries.Length, b.Entries.Length);
                for (int k = 0; k < a.Entries.Length; k++)
                {
                    Assert.Equal((a.Entries[k].Term, a.Entries[k].FirstOffset, a.Entries[k].Count),
                                 (b.Entries[k].Term, b.Entries[k].FirstOffset, b.Entries[k].Count));
                    Assert.Equal(a.Entries[k].Payload.ToArray(), b.Entries[k].Payload.ToArray());
                }
                break;
            case (SnapshotRequest a, SnapshotRequest b):
                Assert.Equal((a.From, a.To, a.Term, a.Commit), (b.From, b.To, b.Term, b.Commit));
                Assert.Equal((a.Snapshot.LastOffset, a.Snapshot.LastTerm), (b.Snapshot.LastOffset, b.Snapshot.LastTerm));
                Assert.Equal(a.Snapshot.Payload.ToArray(), b.Snapshot.Payload.ToArray());
                break;
            default:
                Assert.Equal(m, back);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryTruncation_AndTrailingBytes_AreClearErrors(int i)
    {
        byte[] bytes = RaftMessageCodec.Encode(Sample(i));
        for (int len = 0; len < bytes.Length; len++)
            Assert.Throws<RaftCodecException>(() => RaftMessageCodec.Read(bytes.AsSpan(0, len)));
        byte[] longer = [.. bytes, 0];
        Assert.Throws<RaftCodecException>(() => RaftMessageCodec.Read(longer));
    }

    [Fact]
    public void InvalidContent_IsRejected()
    {
        byte[] bytes = RaftMessageCodec.Encode(Sample(3));
        byte[] badType = (byte[])bytes.Clone();
        badType[0] = 99;
        Assert.Contains("unknown", Assert.Throws<RaftCodecException>(() => RaftMessageCodec.Read(badType)).Message);
        byte[] badBool = RaftMessageCodec.Encode(Sample(2));
        badBool[17] = 2;
        Assert.Throws<RaftCodecException>(() => RaftMessageCodec.Read(badBool));
        // Entries must be dense and start right after PrevOffset.
        var gap = new AppendRequest(1, 2, 3, 10, 3, 0, [new RaftEntry(3, 12, 1, new byte[] { 1 })]);
        Assert.Throws<RaftCodecException>(() => RaftMessageCodec.Read(RaftMessageCodec.Encode(gap)));
        // A huge entry count is refused before allocating.
        byte[] hugeCount = RaftMessageCodec.Encode(Sample(4));
        hugeCount[^1] = 0x7f;
        hugeCount[^4] = 0x7f;
        Assert.Throws<RaftCodecException>(() => RaftMessageCodec.Read(hugeCount));
    }
}
