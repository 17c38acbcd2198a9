namespace Broker.Compression;

/// <summary>The compression codec of a record batch: the low three bits of the batch attributes (Kafka's ids).</summary>
public enum CompressionCodec : byte
{
    None = 0,
    Gzip = 1,
    Snappy = 2,
    Lz4 = 3,
    Zstd = 4,
}
