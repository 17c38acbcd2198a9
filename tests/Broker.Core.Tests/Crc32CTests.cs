
using Broker.Core.Hashing;
using Xunit;

namespace Broker.Core.Tests;

public class Crc32CTests
{
    // Known CRC-32C vectors (RFC 3720 appendix B.4 and the common "123456789" check value).
    public static TheoryData<byte[], uint> Vectors => new()
    {
        { System.Text.Encoding.ASCII.GetBytes("123456789"), 0xE3069283u },
        { new byte[32], 0x8A9136AAu },
        { Enumerable.Repeat((byte)0xFF, 32).ToArray(), 0x62A8AB43u },
        { Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), 0x46DD794Eu },
        { Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray(), 0x113FDB5Cu },
        { Array.Empty<byte>(), 0x00000000u },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void HardwarePathMatchesKnownVectors(byte[] data, uint expected) => Assert.Equal(expected, Crc32C.Compute(data));

    [Theory]
    [MemberData(nameof(Vectors))]
    public void SoftwarePathMatchesKnownVectors(byte[] data, uint expected) => Assert.Equal(expected, Crc32C.ComputeSoftware(data));

    [Fact]
    public void PathsAgreeOnRandomInputsOfEveryLength()
    {
        var rng = new Random(42);
        for (int len = 0; len < 300; len++)
        {
            var data = new byte[len];
            rng.NextBytes(data);
            Assert.Equal(Crc32C.ComputeSoftware(data), Crc32C.Compute(data));
        }
    }

    [Fact]
    public void IncrementalUpdateEqualsOneShot()
    {
        var data = System.Text.Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog, twice over.");
        uint state = 0xFFFFFFFFu;
        state = Crc32C.Update(state, data.AsSpan(0, 13));
        state = Crc32C.Update(state, data.AsSpan(13));
        Assert.Equal(Crc32C.Compute(data), ~state);
    }
}

/// <summary>The three-stream x64 path (stripes of 3×256 and 3×4096 bytes) against the table and the single stream.</summary>
public class Crc32CInterleavedTests
{
    [Theory]
    [InlineData(767)] [InlineData(768)] [InlineData(769)] [InlineData(1535)] [InlineData(1536)] [InlineData(12287)]
    [InlineData(12288)] [InlineData(12289)] [InlineData(12288 + 768 + 5)] [InlineData(100_000)] [InlineData(1 << 20)]
    public void StripeBoundariesMatchTheSoftwarePath(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        uint expected = Crc32C.ComputeSoftware(data);
        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, Crc32C.ComputeSingleStream(data));
    }

    [Fact]
    public void RandomLengthsOffsetsAndRunningStatesAgree()
    {
        var rng = new Random(7);
        var data = new byte[64 * 1024];
        rng.NextBytes(data);
        for (int round = 0; round < 300; round++)
        {
            int start = rng.Next(0, 64), length = rng.Next(0, data.Length - start);
            int split = rng.Next(0, length + 1);
            var slice = data.AsSpan(start, length);
            uint state = Crc32C.Update(0xFFFFFFFFu, slice[..split]);
            state = Crc32C.Update(state, slice[split..]);
            Assert.Equal(Crc32C.ComputeSoftware(slice), ~state);
        }
    }

    [Fact]
    public void AFlippedBitInAnyChainChangesTheChecksum()
    {
        var data = new byte[3 * 4096 + 100];
        new Random(3).NextBytes(data);
        uint clean = Crc32C.Compute(data);
        foreach (int position in new[] { 0, 4095, 4096, 8191, 8192, 12287, 12288, data.Length - 1 })
        {
            data[position] ^= 0x10;
            Assert.NotEqual(clean, Crc32C.Compute(data));
            Assert.Equal(Crc32C.ComputeSoftware(data), Crc32C.Compute(data));
            data[position] ^= 0x10;
        }
    }
}
