
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
