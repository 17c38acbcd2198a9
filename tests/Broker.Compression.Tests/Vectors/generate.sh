#!/bin/bash
# Regenerates the known-answer vectors of CodecVectorTests from the Debian command-line tools and Python modules
# (gzip, lz4, zstd; python3-snappy, python3-lz4, python3-zstandard). The plain text is the same text
# CodecVectorTests.PlainText() builds.
set -euo pipefail
cd "$(dirname "$0")"
/usr/bin/python3 - <<'PY'
text = "".join(f"record {i:04d}: the quick brown fox jumps over the lazy dog {i * i % 997}\n" for i in range(300))
open("plain.txt", "wb").write(text.encode())
PY
gzip -9 -n -c plain.txt > plain.txt.gz
lz4 -q -f -c plain.txt > plain.txt.lz4
zstd -q -f -c plain.txt > plain.txt.zst
/usr/bin/python3 - <<'PY'
import struct, snappy, lz4.frame, zstandard
data = open("plain.txt", "rb").read()
open("plain.txt.snappy-raw", "wb").write(snappy.compress(data))
# xerial framing (Kafka's Java client) with 4 KiB blocks, so the vector has several blocks
out = bytearray(b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1))
for i in range(0, len(data), 4096):
    block = snappy.compress(data[i:i + 4096])
    out += struct.pack(">i", len(block)) + block
open("plain.txt.snappy-xerial", "wb").write(bytes(out))
# lz4 frame with block checksums, content checksum, content size and linked blocks
open("plain.txt.lz4-checksums", "wb").write(lz4.frame.compress(data, block_size=lz4.frame.BLOCKSIZE_MAX64KB,
    block_linked=True, content_checksum=True, block_checksum=True, store_size=True))
# zstd streamed: no content size in the frame header (what zstd-jni's output stream writes)
c = zstandard.ZstdCompressor(level=3).compressobj()
open("plain.txt.zst-nosize", "wb").write(c.compress(data) + c.flush())
# two gzip members back to back
import gzip
open("plain.txt.gz-2members", "wb").write(gzip.compress(data[:5000], mtime=0) + gzip.compress(data[5000:], mtime=0))
PY
