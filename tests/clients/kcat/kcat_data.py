#!/usr/bin/python3
"""Data helper for kcat_scenario.sh: generates kcat producer input and checks kcat consumer output.

  kcat_data.py gen   --count N --seed S --input FILE --expected FILE
      Writes FILE in kcat -P input form: key 0x1f value 0x1e per message (-K '\\x1f' -D '\\x1e'); keys and values
      contain binary and non-UTF-8 bytes but never 0x1e/0x1f. The expected set goes to --expected (JSON lines).
  kcat_data.py check --expected FILE --output FILE --topic T [--headers h1=v1,trace=kcat] [--partitions N]
      Parses kcat -C output written with -f '%p %o %K %S %T %h\\n%k%s\\n' (lengths make it binary-safe) and
      compares: every expected message exactly once, payloads byte for byte, headers, per-partition order.
  kcat_data.py metadata --json FILE [--topic T --partitions N]
      Checks kcat -L -J output: at least one broker, and the topic with N partitions each with a leader.
Prints one JSON summary line; exit 0 = match, 1 = mismatch.
"""

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import scenario_common as sc  # noqa: E402

KEY_DELIM = b"\x1f"
MSG_DELIM = b"\x1e"


def cmd_gen(args):
    msgs = sc.make_messages(args.count, seed=args.seed, allow_nulls=False, avoid=KEY_DELIM + MSG_DELIM)
    with open(args.input, "wb") as f:
        for m in msgs:
            f.write(m["k"] + KEY_DELIM + m["v"] + MSG_DELIM)
    records = [sc.record(args.topic, None, None, m["k"], m["v"], [], None) for m in msgs]
    sc.write_expected(args.expected, records)
    return {"generated": len(msgs), "ok": True}


def parse_kcat_output(data, topic):
    records = []
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        fields = data[pos:nl].decode("ascii").split(" ", 5)
        if len(fields) < 5:
            raise ValueError("bad kcat header line at byte %d: %r" % (pos, data[pos:nl][:100]))
        part, off, klen, vlen, ts = (int(x) for x in fields[:5])
        hdrs = fields[5] if len(fields) > 5 else ""
        pos = nl + 1
        key = None if klen < 0 else data[pos:pos + klen]
        pos += max(klen, 0)
        value = None if vlen < 0 else data[pos:pos + vlen]
        pos += max(vlen, 0)
        if data[pos:pos + 1] != b"\n":
            raise ValueError("kcat record at offset %d not followed by newline (lengths wrong?)" % off)
        pos += 1
        headers = []
        if hdrs:
            for item in hdrs.split(","):
                name, _, val = item.partition("=")
                headers.append((name, val.encode()))
        records.append(sc.record(topic, part, off, key, value, headers, ts))
    return records


def cmd_check(args):
    expected = sc.read_expected(args.expected)
    headers = []
    if args.headers:
        for item in args.headers.split(","):
            name, _, val = item.partition("=")
            headers.append((name, val.encode()))
    for e in expected:
        e["t"] = args.topic
        e["h"] = headers
    with open(args.output, "rb") as f:
        consumed = parse_kcat_output(f.read(), args.topic)
    errors = sc.compare(expected, consumed, check_ts=False)
    parts = sorted({c["p"] for c in consumed})
    if args.partitions and len(expected) >= 10 * args.partitions and len(parts) < min(2, args.partitions):
        errors.append("all records landed in partitions %s of %d (partitioner not spreading keys?)"
                      % (parts, args.partitions))
    bad_ts = [c for c in consumed if not c["ts"] or c["ts"] <= 0]
    if bad_ts:
        errors.append("%d record(s) without a positive timestamp" % len(bad_ts))
    return {"topic": args.topic, "expected": len(expected), "consumed": len(consumed), "partitions_seen": parts,
            "errors": errors, "ok": not errors}


def cmd_metadata(args):
    with open(args.json) as f:
        md = json.load(f)
    errors = []
    brokers = md.get("brokers", [])
    if not brokers:
        errors.append("kcat -L -J listed no brokers")
    if args.topic:
        topics = {t["topic"]: t for t in md.get("topics", [])}
        t = topics.get(args.topic)
        if t is None:
            errors.append("topic %s not in metadata (topics: %s)" % (args.topic, sorted(topics)[:20]))
        else:
            if t.get("error"):
                errors.append("topic %s error %s" % (args.topic, t["error"]))
            parts = t.get("partitions", [])
            if args.partitions and len(parts) != args.partitions:
                errors.append("topic %s has %d partitions, expected %d" % (args.topic, len(parts), args.partitions))
            for p in parts:
                if p.get("leader", -1) < 0 or p.get("error"):
                    errors.append("partition %s: leader %s error %s" % (p.get("partition"), p.get("leader"),
                                                                        p.get("error")))
    return {"brokers": [b.get("name") for b in brokers], "topic": args.topic, "errors": errors, "ok": not errors}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--count", type=int, required=True)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--topic", default="")
    g.add_argument("--input", required=True)
    g.add_argument("--expected", required=True)
    c = sub.add_parser("check")
    c.add_argument("--expected", required=True)
    c.add_argument("--output", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--headers", default="")
    c.add_argument("--partitions", type=int, default=0)
    m = sub.add_parser("metadata")
    m.add_argument("--json", required=True)
    m.add_argument("--topic")
    m.add_argument("--partitions", type=int, default=0)
    args = ap.parse_args()
    try:
        summary = {"gen": cmd_gen, "check": cmd_check, "metadata": cmd_metadata}[args.cmd](args)
    except (ValueError, OSError, KeyError) as ex:
        summary = {"ok": False, "errors": ["%s: %s" % (type(ex).__name__, ex)]}
    sc.emit_summary(summary)
    for e in summary.get("errors", []):
        sc.log("ERROR: %s" % e)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
