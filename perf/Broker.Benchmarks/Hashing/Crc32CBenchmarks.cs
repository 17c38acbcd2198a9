using BenchmarkDotNet.Attributes;
using Broker.Core.Hashing;

namespace Broker.Benchmarks.Hashing;

/// <summary>
/// CRC-32C over 1 KiB, 64 KiB and 1 MiB: Crc32C.Compute (the path the broker uses: SSE4.2 crc32 instructions in
/// three interleaved streams on this x64 machine, ARMv8 CRC on arm64) against Crc32C.ComputeSingleStream (one
/// dependent crc32 chain, the x64 path before 2026-11-22) and Crc32C.ComputeSoftware (the slicing-by-8 table
/// fallback for CPUs without them).
/// </summary>
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    [Params(1024, 64 * 1024, 1024 * 1024)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup() => _data = SampleData.JsonRecords(Bytes, 1024);

    [Benchmark(Baseline = true)]
    [OperationBytes(Parameter = nameof(Bytes))]
    public uint Hardware() => Crc32C.Compute(_data);

    [Benchmark]
    [OperationBytes(Parameter = nameof(Bytes))]
    public uint SingleStream() => Crc32C.ComputeSingleStream(_data);

    [Benchmark]
    [OperationBytes(Parameter = nameof(Bytes))]
    public uint Software() => Crc32C.ComputeSoftware(_data);
}
