using System.Globalization;
using System.Text;
using Broker.Core.Records;

namespace Broker.Benchmarks;

/// <summary>
/// Deterministic, realistic-looking payloads: JSON-ish event records of a fixed size (field names repeat, values
/// vary, like typical application events), and v2 record batches built from them.
/// </summary>
public static class SampleData
{
    private static readonly string[] Events = ["page_view", "add_to_cart", "checkout", "login", "search", "logout"];
    private static readonly string[] Countries = ["DE", "FR", "US", "BR", "JP", "IN", "NG", "CA"];
    private static readonly string[] Words =
    [
        "order", "shipped", "customer", "returned", "payment", "declined", "accepted", "warehouse", "berlin", "paris",
        "delivery", "express", "standard", "gift", "wrap", "coupon", "discount", "basket", "item", "size", "colour",
        "blue", "red", "large", "small", "review", "rating", "stars", "mobile", "desktop", "app", "session", "timeout",
        "retry", "inventory", "low", "restock", "supplier", "invoice", "refund", "pending", "complete", "cancelled",
    ];

    /// <summary>One JSON-ish record of exactly <paramref name="size"/> bytes (padded with a filler field).</summary>
    public static byte[] JsonRecord(Random rng, int size)
    {
        var sb = new StringBuilder(size + 64);
        sb.Append(CultureInfo.InvariantCulture,
            $"{{\"id\":\"{rng.Next():x8}-{rng.Next(0xffff):x4}\",\"ts\":{1_790_000_000_000L + rng.Next(1_000_000)},");
        sb.Append(CultureInfo.InvariantCulture,
            $"\"event\":\"{Events[rng.Next(Events.Length)]}\",\"user\":{rng.Next(1_000_000)},\"country\":\"{Countries[rng.Next(Countries.Length)]}\",");
        sb.Append(CultureInfo.InvariantCulture,
            $"\"amount\":{rng.Next(100_000) / 100.0:F2},\"session\":\"{rng.NextInt64():x16}\",\"tags\":[\"a{rng.Next(50)}\",\"b{rng.Next(50)}\"],\"note\":\"");
        while (sb.Length < size - 2) sb.Append(Words[rng.Next(Words.Length)]).Append(' ');
        if (sb.Length > size - 2) sb.Length = size - 2;
        sb.Append("\"}");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>About <paramref name="totalBytes"/> of back-to-back JSON-ish records of <paramref name="recordSize"/> bytes.</summary>
    public static byte[] JsonRecords(int totalBytes, int recordSize, int seed = 7)
    {
        var rng = new Random(seed);
        var all = new byte[totalBytes];
        for (int pos = 0; pos < totalBytes; pos += recordSize)
        {
            byte[] record = JsonRecord(rng, recordSize);
            record.AsSpan(0, Math.Min(recordSize, totalBytes - pos)).CopyTo(all.AsSpan(pos));
        }
        return all;
    }

    /// <summary>An uncompressed v2 batch of <paramref name="records"/> JSON-ish values of <paramref name="valueSize"/> bytes.</summary>
    public static byte[] Batch(int records, int valueSize, int seed = 11)
    {
        var rng = new Random(seed);
        var builder = new RecordBatchBuilder(records * (valueSize + 32) + 128);
        builder.Reset(1_790_000_000_000L);
        for (int i = 0; i < records; i++)
            builder.Add(1_790_000_000_000L + i, ReadOnlySpan<byte>.Empty, JsonRecord(rng, valueSize), keyIsNull: true);
        return builder.ToArray();
    }
}
