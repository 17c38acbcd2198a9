#!/usr/bin/python3
"""Real-client scenarios with confluent-kafka-python (librdkafka) against a Kafka-compatible broker.

Run with the Debian interpreter (the Debian python3-confluent-kafka package only loads there):
  /usr/bin/python3 confluent_scenario.py SCENARIO --bootstrap 127.0.0.1:9092 --topic T [options]

Scenarios:
  roundtrip          create topic T-<codec> per codec (--partitions N), produce --count keyed messages (binary keys,
                     values and headers; acks=all), wait for every delivery report, consume everything back with
                     assign() from the beginning and compare byte for byte (and at the reported offsets).
                     --expected-out FILE also writes the expected set for a later `verify`.
  produce            like roundtrip without the consume step; writes --expected-out FILE.
  verify             consume the topics named in --expected FILE and compare (use after a broker restart).
  create-topic       create topic T (--partitions N) and wait until its metadata shows leaders.
  offsets-for-times  produce --count messages with explicit timestamps t0, t0+1000, ... and check
                     offsets_for_times() (before first, exact, between, last, after last -> -1) and the watermarks.
                     --state FILE stores t0/count; with --skip-produce only the checks run (after a restart).
  produce-until-killed  acks=all producer of numbered messages "id-<n>"; each id acknowledged successfully is
                     appended (and flushed) to --acked-file; runs until SIGTERM/SIGKILL or --max-seconds.
  verify-acked       consume topic T and check every id in --acked-file is present (duplicates are reported,
                     not failed).

Output: exactly one JSON summary line on stdout; diagnostics on stderr. Exit status 0 = everything matched,
1 = mismatch or error, 2 = usage error. Every wait is bounded (--timeout, default 60 s per phase).
"""

import argparse
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_common as sc  # noqa: E402

try:
    import confluent_kafka as ck
except ImportError as ex:  # pragma: no cover - environment problem, reported clearly
    sys.stderr.write("confluent_kafka not importable under %s: %s (use /usr/bin/python3; "
                     "apt-get install python3-confluent-kafka)\n" % (sys.executable, ex))
    sys.exit(2)
from confluent_client import (ScenarioError, base_conf, consume_all, create_topic,  # noqa: E402
                              make_producer, produce_messages)


# ---------------------------------------------------------------- scenarios

def scenario_roundtrip(args, consume=True):
    codecs = sc.parse_codecs(args.codecs)
    summary = {"scenario": args.scenario, "client": "confluent-kafka", "librdkafka": ck.libversion()[0],
               "codecs": {}}
    all_expected = []
    for codec in codecs:
        topic = "%s-%s" % (args.topic, codec) if len(codecs) > 1 or args.codec_suffix else args.topic
        deadline = sc.Deadline(args.timeout)
        if not args.no_create:
            create_topic(args, topic, args.partitions, deadline)
        messages = sc.make_messages(args.count, seed=hash_seed(topic))
        expected = produce_messages(args, topic, codec, messages, deadline)
        all_expected.extend(expected)
        info = {"topic": topic, "produced": len(expected)}
        if consume:
            consumed, _ = consume_all(args, [topic], sc.Deadline(args.timeout))
            errors = sc.compare(expected, consumed)
            info.update({"consumed": len(consumed), "errors": errors})
        summary["codecs"][codec] = info
        sc.log("%s: %s" % (codec, {k: v for k, v in info.items() if k != "errors"}))
    if args.expected_out:
        sc.write_expected(args.expected_out, all_expected)
    failed = any(info.get("errors") for info in summary["codecs"].values())
    summary["ok"] = not failed
    return summary


def hash_seed(text):
    h = 2166136261
    for ch in text.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def scenario_verify(args):
    expected = sc.read_expected(args.expected)
    topics = sc.topics_of(expected)
    consumed, high = consume_all(args, topics, sc.Deadline(args.timeout))
    errors = sc.compare(expected, consumed, allow_extra=args.allow_extra)
    return {"scenario": "verify", "client": "confluent-kafka", "topics": topics, "expected": len(expected),
            "consumed": len(consumed), "errors": errors, "ok": not errors}


def scenario_create_topic(args):
    created = create_topic(args, args.topic, args.partitions, sc.Deadline(args.timeout))
    return {"scenario": "create-topic", "topic": args.topic, "partitions": args.partitions, "created": created,
            "ok": True}


def scenario_offsets_for_times(args):
    import json
    topic = args.topic
    step = 1000
    if args.skip_produce:
        with open(args.state) as f:
            state = json.load(f)
        t0, count, partitions = state["t0"], state["count"], state["partitions"]
    else:
        count, partitions = args.count, args.partitions
        t0 = (int(time.time() * 1000) // 1000 - 3600) * 1000  # an hour ago, whole second
        deadline = sc.Deadline(args.timeout)
        if not args.no_create:
            create_topic(args, topic, partitions, deadline)
        # First half one message per request (one batch each), second half in larger batches: the lookup
        # must find records inside a batch, not only batch boundaries.
        messages = []
        for i in range(count):
            messages.append({"k": b"ts-%d" % i, "v": b"value-%d" % i, "h": [], "p": i % partitions,
                             "ts": t0 + i * step})
        half = count // 2
        produce_messages(args, topic, "none", messages[:half], deadline, flush_each=True)
        produce_messages(args, topic, args.codec, messages[half:], deadline)
        if args.state:
            with open(args.state, "w") as f:
                json.dump({"t0": t0, "count": count, "partitions": partitions, "topic": topic}, f)

    # Expected: per partition p, messages i with i % partitions == p at offsets 0,1,2... in order.
    def expected_offset(p, ts):
        idx = [i for i in range(count) if i % partitions == p]
        for off, i in enumerate(idx):
            if t0 + i * step >= ts:
                return off
        return -1

    conf = base_conf(args)
    conf.update({"group.id": "scenario-oft-%d" % os.getpid(), "enable.auto.commit": False})
    consumer = ck.Consumer(conf)
    errors = []
    checks = 0
    try:
        deadline = sc.Deadline(args.timeout)
        probes = [t0 - 5000, t0, t0 + 1, t0 + step // 2, t0 + step, t0 + (count // 2) * step,
                  t0 + (count // 2) * step + 1, t0 + (count - 1) * step, t0 + (count - 1) * step + 1,
                  t0 + count * step + 60000]
        for p in range(partitions):
            for ts in probes:
                want = expected_offset(p, ts)
                got = None
                last_ex = None
                while not deadline.expired():
                    try:
                        res = consumer.offsets_for_times([ck.TopicPartition(topic, p, ts)],
                                                         timeout=min(10.0, max(0.5, deadline.remaining())))
                        if res[0].error:
                            last_ex = res[0].error
                            time.sleep(0.2)
                            continue
                        got = res[0].offset
                        break
                    except ck.KafkaException as ex:
                        last_ex = ex
                        time.sleep(0.2)
                checks += 1
                if got is None:
                    errors.append("offsets_for_times(p=%d, ts=t0%+d) failed: %s" % (p, ts - t0, last_ex))
                elif got != want:
                    errors.append("offsets_for_times(p=%d, ts=t0%+d) = %d, expected %d" % (p, ts - t0, got, want))
            n = len([i for i in range(count) if i % partitions == p])
            low, high = consumer.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=10)
            checks += 1
            if (low, high) != (0, n):
                errors.append("watermarks of partition %d = (%d, %d), expected (0, %d)" % (p, low, high, n))
    finally:
        consumer.close()
    # The timestamps must also come back on the records themselves.
    consumed, _ = consume_all(args, [topic], sc.Deadline(args.timeout))
    for r in consumed:
        i = int(r["k"].split(b"-")[1])
        checks += 1
        if r["ts"] != t0 + i * step:
            errors.append("record %r has timestamp %s, expected %d" % (r["k"], r["ts"], t0 + i * step))
            if len(errors) > 20:
                break
    if len(consumed) != count:
        errors.append("consumed %d records, expected %d" % (len(consumed), count))
    return {"scenario": "offsets-for-times", "topic": topic, "t0": t0, "count": count, "checks": checks,
            "errors": errors[:20], "ok": not errors}


_stop = False


def scenario_produce_until_killed(args):
    global _stop

    def on_signal(signum, frame):
        global _stop
        _stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    deadline = sc.Deadline(args.max_seconds)
    if not args.no_create:
        create_topic(args, args.topic, args.partitions, sc.Deadline(min(args.timeout, args.max_seconds)))
    producer = make_producer(args, args.codec, {"max.in.flight.requests.per.connection": 5, "linger.ms": 2,
                                                "message.timeout.ms": 30000, "retries": 1000000,
                                                "retry.backoff.ms": 100})
    acked_file = open(args.acked_file, "a")
    stats = {"sent": 0, "acked": 0, "failed": 0}
    first_error = []

    def cb(err, msg):
        if err is None:
            acked_file.write(msg.value().split(b"|")[0].decode() + "\n")
            acked_file.flush()
            stats["acked"] += 1
        else:
            stats["failed"] += 1
            if not first_error:
                first_error.append(str(err))

    n = 0
    started = time.monotonic()
    while not _stop and not deadline.expired():
        if len(producer) > 2000:
            producer.poll(0.05)
            continue
        value = b"id-%d|" % n + b"x" * 100
        try:
            producer.produce(args.topic, value=value, key=b"k%d" % n, on_delivery=cb)
            stats["sent"] += 1
            n += 1
        except BufferError:
            producer.poll(0.05)
            continue
        producer.poll(0)
        if args.max_rate:
            ahead = n - (time.monotonic() - started) * args.max_rate
            if ahead > 0:
                producer.poll(min(0.5, ahead / args.max_rate))
    producer.flush(2.0 if _stop else 10.0)
    acked_file.close()
    return {"scenario": "produce-until-killed", "topic": args.topic, "stopped_by_signal": _stop,
            "first_error": first_error[0] if first_error else None, "ok": True, **stats}


def scenario_verify_acked(args):
    with open(args.acked_file) as f:
        acked = [line.strip() for line in f if line.strip()]
    consumed, high = consume_all(args, [args.topic], sc.Deadline(args.timeout))
    counts = {}
    malformed = 0
    for r in consumed:
        try:
            ident = r["v"].split(b"|")[0].decode()
            if not ident.startswith("id-"):
                raise ValueError
        except (ValueError, AttributeError, UnicodeDecodeError):
            malformed += 1
            continue
        counts[ident] = counts.get(ident, 0) + 1
    missing = [a for a in dict.fromkeys(acked) if a not in counts]
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    errors = []
    if missing:
        errors.append("%d acknowledged id(s) missing, e.g. %s" % (len(missing), missing[:10]))
    if malformed:
        errors.append("%d malformed record(s)" % malformed)
    return {"scenario": "verify-acked", "topic": args.topic, "acked": len(acked), "acked_unique": len(set(acked)),
            "consumed": len(consumed), "distinct_consumed": len(counts), "duplicates": duplicates,
            "missing": len(missing), "errors": errors, "ok": not errors,
            "high_watermarks": {str(k[1]): v for k, v in high.items()}}


SCENARIOS = {
    "roundtrip": lambda a: scenario_roundtrip(a, consume=True),
    "produce": lambda a: scenario_roundtrip(a, consume=False),
    "verify": scenario_verify,
    "create-topic": scenario_create_topic,
    "offsets-for-times": scenario_offsets_for_times,
    "produce-until-killed": scenario_produce_until_killed,
    "verify-acked": scenario_verify_acked,
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--bootstrap", required=True, help="host:port of the broker")
    ap.add_argument("--topic", required=True, help="topic (roundtrip/produce with several codecs: prefix)")
    ap.add_argument("--partitions", type=int, default=3)
    ap.add_argument("--count", type=int, default=200, help="messages per topic")
    ap.add_argument("--codecs", default="all", help="comma list of none,gzip,snappy,lz4,zstd or 'all'")
    ap.add_argument("--codec", default="none", help="codec for offsets-for-times / produce-until-killed")
    ap.add_argument("--codec-suffix", action="store_true", help="always name topics T-<codec>")
    ap.add_argument("--expected-out", help="write the produced set here (roundtrip, produce)")
    ap.add_argument("--expected", help="expected-set file to verify against (verify)")
    ap.add_argument("--allow-extra", action="store_true", help="verify: tolerate records not in the file")
    ap.add_argument("--acked-file", help="produce-until-killed / verify-acked: file of acknowledged ids")
    ap.add_argument("--max-seconds", type=float, default=60.0, help="produce-until-killed: stop after this")
    ap.add_argument("--max-rate", type=float, default=0, help="produce-until-killed: messages/second (0 = no limit)")
    ap.add_argument("--state", help="offsets-for-times: state file (t0, count) written/read")
    ap.add_argument("--skip-produce", action="store_true", help="offsets-for-times: only check (needs --state)")
    ap.add_argument("--no-create", action="store_true", help="do not create topics (rely on existing ones)")
    ap.add_argument("--exists-ok", action="store_true", help="an existing topic is not an error")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds allowed per phase")
    ap.add_argument("--debug", default="", help="librdkafka debug contexts, e.g. protocol,msg")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    need = {"verify": ["expected"], "produce-until-killed": ["acked_file"], "verify-acked": ["acked_file"],
            "produce": ["expected_out"]}
    for attr in need.get(args.scenario, []):
        if getattr(args, attr) is None:
            ap.error("%s needs --%s" % (args.scenario, attr.replace("_", "-")))
    if args.scenario == "offsets-for-times" and args.skip_produce and not args.state:
        ap.error("--skip-produce needs --state")
    try:
        summary = SCENARIOS[args.scenario](args)
    except ScenarioError as ex:
        summary = {"scenario": args.scenario, "ok": False, "errors": [str(ex)]}
    except ck.KafkaException as ex:
        summary = {"scenario": args.scenario, "ok": False, "errors": ["KafkaException: %s" % ex]}
    sc.emit_summary(summary)
    if not summary.get("ok"):
        for e in summary.get("errors", []) or [e for i in summary.get("codecs", {}).values() for e in i["errors"]]:
            sc.log("ERROR: %s" % e)
    return 0 if summary.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
