#!/usr/bin/python3
"""Real-client scenarios with kafka-python (pure Python client) against a Kafka-compatible broker.

Run with the Debian interpreter (python3-kafka, plus python3-snappy / python3-lz4 / python3-zstandard for those
codecs):
  /usr/bin/python3 kafkapython_scenario.py SCENARIO --bootstrap 127.0.0.1:9092 --topic T [options]

Scenarios:
  roundtrip   KafkaAdminClient.create_topics (T-<codec>, --partitions N), KafkaProducer (acks=all) of --count keyed
              messages with binary keys/values/headers per codec, then KafkaConsumer with assign() +
              seek_to_beginning() reads every partition to its end offset; compared byte for byte at the offsets
              the producer reported. --expected-out FILE writes the expected set for a later `verify`.
  verify      consume the topics named in --expected FILE and compare.
  codecs      print which codecs this kafka-python installation can use (no broker needed).

--codecs: comma list of none,gzip,snappy,lz4,zstd, 'all' (missing codec libraries are an error) or 'available'
(the default: codecs whose Python library is missing are skipped and listed under "skipped").
Output: one JSON summary line on stdout, diagnostics on stderr; exit 0 = match, 1 = mismatch/error, 2 = usage.
"""

import argparse
import logging
import os
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_common as sc  # noqa: E402

try:
    import kafka
    import kafka.codec
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    from kafka import errors as kerrors
except ImportError as ex:  # pragma: no cover
    sys.stderr.write("kafka-python not importable under %s: %s (use /usr/bin/python3; "
                     "apt-get install python3-kafka)\n" % (sys.executable, ex))
    sys.exit(2)


class ScenarioError(Exception):
    pass


def available_codecs():
    have = {"none": True, "gzip": kafka.codec.has_gzip(), "snappy": kafka.codec.has_snappy(),
            "lz4": kafka.codec.has_lz4(), "zstd": kafka.codec.has_zstd()}
    return [c for c in sc.CODECS if have[c]]


def common_kwargs(args):
    return {"bootstrap_servers": args.bootstrap, "request_timeout_ms": 30000, "api_version_auto_timeout_ms": 10000,
            "client_id": "kafkapython-scenario"}


def create_topic(args, topic, partitions, deadline):
    last = None
    admin = None
    try:
        while not deadline.expired():
            try:
                if admin is None:
                    admin = KafkaAdminClient(**common_kwargs(args))
                resp = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)],
                                           timeout_ms=10000)
                errs = [e for e in getattr(resp, "topic_errors", []) if e[1] != 0]
                if errs:
                    raise ScenarioError("create_topics(%s) returned errors: %s" % (topic, errs))
                sc.log("created %s via KafkaAdminClient (api_version %s)" % (topic, admin.config.get("api_version")))
                return
            except kerrors.TopicAlreadyExistsError:
                if args.exists_ok:
                    return
                raise ScenarioError("create_topics(%s): topic already exists" % topic)
            except (kerrors.NoBrokersAvailable, kerrors.KafkaTimeoutError, kerrors.NodeNotReadyError,
                    kerrors.NotControllerError, kerrors.RequestTimedOutError) as ex:
                last = ex
                sc.log("create_topics(%s): %r; retrying" % (topic, ex))
                if admin is not None:
                    admin.close()
                    admin = None
                time.sleep(0.5)
            except kerrors.KafkaError as ex:
                raise ScenarioError("KafkaAdminClient.create_topics(%s) failed: %r" % (topic, ex))
        raise ScenarioError("create_topics(%s) did not succeed before the deadline: %r" % (topic, last))
    finally:
        if admin is not None:
            admin.close()


def produce_messages(args, topic, codec, messages, deadline):
    kwargs = common_kwargs(args)
    kwargs.update({"acks": "all", "compression_type": None if codec == "none" else codec, "linger_ms": 5,
                   "retries": 5, "max_in_flight_requests_per_connection": 1, "batch_size": 64 * 1024,
                   "max_request_size": 4 * 1024 * 1024})
    producer = KafkaProducer(**kwargs)
    try:
        futures = []
        for m in messages:
            futures.append(producer.send(topic, value=m["v"], key=m["k"], headers=list(m["h"]),
                                         partition=m["p"], timestamp_ms=m.get("ts")))
        producer.flush(timeout=max(0.1, deadline.remaining()))
        records = []
        for m, fut in zip(messages, futures):
            try:
                md = fut.get(timeout=max(0.1, deadline.remaining()))
            except kerrors.KafkaError as ex:
                raise ScenarioError("%s: send failed: %r" % (topic, ex))
            records.append(sc.record(topic, md.partition, md.offset, m["k"], m["v"], m["h"], m.get("ts")))
        return records
    finally:
        producer.close(timeout=5)


def consume_all(args, topics, deadline):
    kwargs = common_kwargs(args)
    kwargs.update({"group_id": None, "enable_auto_commit": False, "auto_offset_reset": "earliest",
                   "check_crcs": True, "fetch_max_wait_ms": 100, "max_partition_fetch_bytes": 4 * 1024 * 1024})
    consumer = KafkaConsumer(**kwargs)
    try:
        tps = []
        for t in topics:
            parts = None
            while not deadline.expired():
                parts = consumer.partitions_for_topic(t)
                if parts:
                    break
                consumer._client.cluster.request_update()  # noqa: SLF001 - force a metadata refresh
                consumer._client.poll(timeout_ms=200)  # noqa: SLF001
            if not parts:
                raise ScenarioError("topic %s not found in metadata" % t)
            tps.extend(TopicPartition(t, p) for p in sorted(parts))
        consumer.assign(tps)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(tps)
        records = []
        position = {tp: 0 for tp in tps}
        while not deadline.expired():
            if all(position[tp] >= end[tp] for tp in tps):
                break
            batch = consumer.poll(timeout_ms=int(min(500, max(50, deadline.remaining() * 1000))))
            for tp, msgs in batch.items():
                for msg in msgs:
                    ts = msg.timestamp if msg.timestamp_type == 0 else None
                    records.append(sc.record(msg.topic, msg.partition, msg.offset, msg.key, msg.value,
                                             list(msg.headers or []), ts))
                    position[tp] = max(position[tp], msg.offset + 1)
        else:
            short = {"%s[%d]" % (tp.topic, tp.partition): "%d/%d" % (position[tp], end[tp])
                     for tp in tps if position[tp] < end[tp]}
            raise ScenarioError("consume did not reach the end offsets before the deadline: %s" % short)
        return records
    finally:
        consumer.close()


def scenario_roundtrip(args):
    have = available_codecs()
    codecs = sc.parse_codecs(args.codecs, have)
    if args.codecs == "available":
        skipped = [c for c in sc.CODECS if c not in have]
    else:
        missing = [c for c in codecs if c not in have]
        if missing:
            raise ScenarioError("kafka-python cannot use codec(s) %s here (install python3-snappy, python3-lz4, "
                                "python3-zstandard)" % missing)
        skipped = []
    summary = {"scenario": "roundtrip", "client": "kafka-python", "version": kafka.__version__, "codecs": {},
               "skipped": skipped}
    all_expected = []
    for codec in codecs:
        topic = "%s-%s" % (args.topic, codec) if len(codecs) > 1 or args.codec_suffix else args.topic
        deadline = sc.Deadline(args.timeout)
        if not args.no_create:
            create_topic(args, topic, args.partitions, deadline)
        messages = sc.make_messages(args.count, seed=len(topic) * 7919 + sum(topic.encode()))
        base_ts = int(time.time() * 1000) - 60000
        for m in messages:
            m["ts"] = base_ts + m["i"]  # explicit CreateTime: must come back unchanged
        expected = produce_messages(args, topic, codec, messages, deadline)
        all_expected.extend(expected)
        consumed = consume_all(args, [topic], sc.Deadline(args.timeout))
        errors = sc.compare(expected, consumed)
        summary["codecs"][codec] = {"topic": topic, "produced": len(expected), "consumed": len(consumed),
                                    "errors": errors}
        sc.log("%s: produced %d consumed %d errors %d" % (codec, len(expected), len(consumed), len(errors)))
    if args.expected_out:
        sc.write_expected(args.expected_out, all_expected)
    summary["ok"] = not any(i["errors"] for i in summary["codecs"].values())
    return summary


def scenario_verify(args):
    expected = sc.read_expected(args.expected)
    topics = sc.topics_of(expected)
    consumed = consume_all(args, topics, sc.Deadline(args.timeout))
    errors = sc.compare(expected, consumed, allow_extra=args.allow_extra)
    return {"scenario": "verify", "client": "kafka-python", "topics": topics, "expected": len(expected),
            "consumed": len(consumed), "errors": errors, "ok": not errors}


def scenario_codecs(args):
    return {"scenario": "codecs", "client": "kafka-python", "version": kafka.__version__,
            "available": available_codecs(), "ok": True}


SCENARIOS = {"roundtrip": scenario_roundtrip, "verify": scenario_verify, "codecs": scenario_codecs}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--bootstrap", default="127.0.0.1:9092", help="host:port of the broker")
    ap.add_argument("--topic", default="kafkapython", help="topic (prefix when several codecs)")
    ap.add_argument("--partitions", type=int, default=3)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--codecs", default="available")
    ap.add_argument("--codec-suffix", action="store_true", help="always name topics T-<codec>")
    ap.add_argument("--expected-out")
    ap.add_argument("--expected")
    ap.add_argument("--allow-extra", action="store_true")
    ap.add_argument("--no-create", action="store_true")
    ap.add_argument("--exists-ok", action="store_true")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds allowed per phase")
    ap.add_argument("--verbose", action="store_true", help="kafka-python DEBUG logging on stderr")
    args = ap.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.scenario == "verify" and not args.expected:
        ap.error("verify needs --expected")
    try:
        summary = SCENARIOS[args.scenario](args)
    except ScenarioError as ex:
        summary = {"scenario": args.scenario, "ok": False, "errors": [str(ex)]}
    except kerrors.KafkaError as ex:
        summary = {"scenario": args.scenario, "ok": False, "errors": ["%s: %s" % (type(ex).__name__, ex)]}
    sc.emit_summary(summary)
    if not summary.get("ok"):
        for e in summary.get("errors", []) or [e for i in summary.get("codecs", {}).values() for e in i["errors"]]:
            sc.log("ERROR: %s" % e)
    return 0 if summary.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
