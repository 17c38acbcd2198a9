using Broker.Core.Records;
using System.Text;
using Xunit;

namespace Broker.Compression.Tests;

/// <summary>Inputs shared by the codec tests: the vector plain text, compressible and incompressible data.</summary>
internal static class TestData
{
    public static readonly CompressionCodec[] RealCodecs =
        [CompressionCodec.Gzip, CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd];

    public static TheoryData<CompressionCodec> Codecs() => new(RealCodecs);

    /// <summary>The text Vectors/generate.sh compresses.</summary>
    public static byte[] PlainText()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 300; i++) sb.Append($"record {i:0000}: the quick brown fox jumps over the lazy dog {i * i % 997}\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    public static string VectorPath(string name) => Path.Combine(AppContext.BaseDirectory, "Vectors", name);

    public static byte[] Vector(string name) => File.ReadAllBytes(VectorPath(name));

    /// <summary>Log-like text: compresses well but is not trivially repetitive.</summary>
    public static byte[] Compressible(int size, int seed = 1)
    {
        var random = new Random(seed);
        var data = new byte[size];
        string[] words = ["alpha", "beta", "gamma", "delta", "kafka", "broker", "offset", "partition", "record", "batch"];
        int p = 0;
        while (p < size)
        {
            string w = words[random.Next(words.Length)];
            for (int i = 0; i < w.Length && p < size; i++) data[p++] = (byte)w[i];
            if (p < size) data[p++] = random.Next(8) == 0 ? (byte)'\n' : (byte)' ';
            if (p < size && random.Next(4) == 0) data[p++] = (byte)('0' + random.Next(10));
        }
        return data;
    }

    public static byte[] Random(int size, int seed = 2)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }
}
