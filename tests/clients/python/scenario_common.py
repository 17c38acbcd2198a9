"""Shared helpers for the Python client scenario scripts (confluent_scenario.py, kafkapython_scenario.py).

Pure standard library: deterministic test-message generation with distinctive (binary, non-UTF-8) bytes, the
"expected set" file format shared by every client (JSON lines, bytes in hex), and the comparison of an expected
set against what a consumer read. Also used by tests/clients/kcat and written to by tests/clients/node.

Expected-set file: one JSON object per line:
  {"t": topic, "p": partition|null, "o": offset|null, "k": hex|null, "v": hex|null,
   "h": [[name, hex|null], ...], "ts": create-timestamp-ms|null}
A null "p"/"o" means "not known at produce time"; then only per-partition order and content are checked.
"""

import json
import random
import sys
import time

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


def log(*args):
    """Diagnostics go to stderr; stdout carries exactly one JSON summary line."""
    print(*args, file=sys.stderr, flush=True)


def emit_summary(summary):
    sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
    sys.stdout.flush()


class Deadline:
    """A wall-clock budget: every wait loop in the scenarios checks one of these."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def remaining(self):
        return max(0.0, self.end - time.monotonic())

    def expired(self):
        return time.monotonic() >= self.end


def parse_codecs(text, available=CODECS):
    if text in ("all", ""):
        return list(CODECS)
    if text == "available":
        return [c for c in CODECS if c in available]
    codecs = [c.strip() for c in text.split(",") if c.strip()]
    for c in codecs:
        if c not in CODECS:
            raise SystemExit("unknown codec %r (expected one of %s)" % (c, ",".join(CODECS)))
    return codecs


def make_messages(count, seed, partitions=None, header_values_ascii=False, allow_nulls=True, avoid=b""):
    """Deterministic messages with awkward bytes.

    Keys are unique (they embed the index) and contain 0x00, 0xff, 0x80 and invalid UTF-8 sequences; values vary
    from empty to ~64 KiB, mixing random (incompressible) and repetitive (compressible) bytes. When allow_nulls is
    set, a few messages have a null value (tombstone) or a null key. Bytes listed in `avoid` never appear in keys
    or values (used by kcat, which splits its input on delimiter bytes). partitions=None leaves the partition to
    the client's partitioner; otherwise message i goes to partition i % partitions.
    """
    rng = random.Random(seed)
    avoid_set = set(avoid)

    def clean(data):
        if not avoid_set:
            return data
        return bytes(b if b not in avoid_set else (b + 1) % 256 if (b + 1) % 256 not in avoid_set else 0x41
                     for b in data)

    messages = []
    for i in range(count):
        key = clean(b"key-%06d-" % i + bytes([0x00, 0xFF, 0x80, 0xC3, 0x28, i % 256]))
        kind = i % 7
        if kind == 0:
            value = b""
        elif kind == 1:
            value = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
        elif kind == 2:
            value = (b"repetitive-%d-" % i) * rng.randint(10, 400)
        elif kind == 3:
            value = bytes([0x00] * 17 + [0xFF, 0xFE, 0xFD] + [0xE2, 0x82]) + b"\n\r\t" + bytes(range(256))
        elif kind == 4:
            value = bytes(rng.getrandbits(8) for _ in range(rng.randint(1000, 4000)))
        elif kind == 5:
            value = ("ünïcødé-%d-€" % i).encode("utf-8") * 3
        else:
            value = b"v%d" % i
        if i == count // 2 and count > 10:
            value = bytes(rng.getrandbits(8) for _ in range(2048)) * 32  # one 64 KiB message
        value = clean(value)
        if header_values_ascii:
            headers = [("h1", b"v%d" % i), ("trace", b"abc")]
        else:
            headers = [("h1", bytes([0x00, 0xFF, i % 256])), ("trace", b"t-%d" % i)]
            if i % 5 == 0:
                headers.append(("h1", b"duplicate-name"))  # header names may repeat; order must be kept
            if i % 11 == 0:
                headers = []
        if allow_nulls and i % 37 == 36:
            value = None
        if allow_nulls and i % 53 == 52:
            key = None
        part = None if partitions is None else i % partitions
        if key is None and part is None:
            part = 0
        messages.append({"k": key, "v": value, "h": headers, "p": part, "ts": None, "i": i})
    return messages


def _hex(b):
    return None if b is None else b.hex()


def _unhex(s):
    return None if s is None else bytes.fromhex(s)


def record(topic, partition, offset, key, value, headers, ts=None):
    return {"t": topic, "p": partition, "o": offset, "k": key, "v": value,
            "h": [(n, v) for n, v in (headers or [])], "ts": ts}


def write_expected(path, records, append=False):
    with open(path, "a" if append else "w") as f:
        for r in records:
            f.write(json.dumps({"t": r["t"], "p": r["p"], "o": r["o"], "k": _hex(r["k"]), "v": _hex(r["v"]),
                                "h": [[n, _hex(v)] for n, v in r["h"]], "ts": r.get("ts")}) + "\n")


def read_expected(path):
    records = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            d = json.loads(line)
            records.append({"t": d["t"], "p": d["p"], "o": d["o"], "k": _unhex(d["k"]), "v": _unhex(d["v"]),
                            "h": [(n, _unhex(v)) for n, v in d["h"]], "ts": d.get("ts")})
    return records


def _describe(r):
    def short(b):
        if b is None:
            return "null"
        return (b[:24].hex() + ("..(%d bytes)" % len(b) if len(b) > 24 else ""))
    return "p=%s o=%s key=%s value=%s headers=%s ts=%s" % (
        r["p"], r["o"], short(r["k"]), short(r["v"]), [(n, short(v)) for n, v in r["h"]], r.get("ts"))


def _same(e, c, check_ts):
    if e["k"] != c["k"] or e["v"] != c["v"]:
        return False
    if [(n, v) for n, v in e["h"]] != [(n, v) for n, v in c["h"]]:
        return False
    if check_ts and e.get("ts") is not None and e["ts"] != c.get("ts"):
        return False
    return True


def compare(expected, consumed, allow_extra=False, check_ts=True, max_errors=20):
    """Compares records per topic-partition. Returns a list of human-readable errors (empty = match).

    Expected records with a known offset must be found at exactly that offset. Records without a known partition
    are matched by key (keys must be unique among them) and checked for per-partition produce order.
    """
    errors = []

    def err(msg):
        if len(errors) < max_errors:
            errors.append(msg)
        elif len(errors) == max_errors:
            errors.append("... more errors omitted")

    by_tp = {}
    for c in consumed:
        by_tp.setdefault((c["t"], c["p"]), []).append(c)
    for (t, p), lst in by_tp.items():
        offsets = [c["o"] for c in lst]
        if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
            err("%s[%s]: consumed offsets not strictly increasing: %s" % (t, p, offsets[:50]))

    matched = set()  # ids of consumed records accounted for
    at_offset = {(c["t"], c["p"], c["o"]): c for c in consumed}
    unplaced = []
    for e in expected:
        if e["p"] is not None and e["o"] is not None:
            c = at_offset.get((e["t"], e["p"], e["o"]))
            if c is None:
                err("%s: missing record at %s" % (e["t"], _describe(e)))
            elif not _same(e, c, check_ts):
                err("%s: mismatch at partition %s offset %s:\n    expected %s\n    consumed %s"
                    % (e["t"], e["p"], e["o"], _describe(e), _describe(c)))
            else:
                matched.add(id(c))
        else:
            unplaced.append(e)

    if unplaced:
        by_key = {}
        for c in consumed:
            if id(c) not in matched:
                by_key.setdefault((c["t"], c["k"]), []).append(c)
        last_index = {}  # (topic, partition) -> (offset, produce index) of the last matched record
        for idx, e in enumerate(unplaced):
            cands = by_key.get((e["t"], e["k"]), [])
            if e["p"] is not None:
                cands = [c for c in cands if c["p"] == e["p"]]
            if not cands:
                err("%s: missing record %s" % (e["t"], _describe(e)))
                continue
            c = cands.pop(0)
            if not _same(e, c, check_ts):
                err("%s: mismatch for key:\n    expected %s\n    consumed %s" % (e["t"], _describe(e), _describe(c)))
                continue
            matched.add(id(c))
            prev = last_index.get((c["t"], c["p"]))
            if prev is not None and prev[0] > c["o"]:
                err("%s[%s]: order broken: produce #%d landed at offset %d before produce #%d at offset %d"
                    % (c["t"], c["p"], idx, c["o"], prev[1], prev[0]))
            last_index[(c["t"], c["p"])] = (c["o"], idx)

    if not allow_extra:
        extra = [c for c in consumed if id(c) not in matched]
        for c in extra[:5]:
            err("%s: unexpected extra record %s" % (c["t"], _describe(c)))
        if len(extra) > 5:
            err("%d more unexpected records" % (len(extra) - 5))
    return errors


def topics_of(records):
    seen = []
    for r in records:
        if r["t"] not in seen:
            seen.append(r["t"])
    return seen
