#!/usr/bin/python3
"""Reads partitions back for the cluster tests (confluent-kafka / librdkafka), from the beginning to the high
watermark. Two modes:

  ids (default): one partition of a failover topic (cluster_producer.py / cluster_producer.js write values
    "id-<n>|..."); writes "<offset> <id>" lines in offset order to --out.
      /usr/bin/python3 cluster_verify.py --bootstrap H:P,H:P --topic T --out ids.txt [--partition 0]
  expected: every partition of the topics in an expected-set file (scenario_common format, written by
    `confluent_scenario.py produce --expected-out`) compared record by record with scenario_common.compare.
      /usr/bin/python3 cluster_verify.py --bootstrap H:P,H:P --expected FILE

"The end" is the high watermark read first (retried while leadership settles). A partition's log may end with
control batches (e.g. Raft leader-change markers), which consumers never see as records, so a partition is
complete when a record at HW-1 was read or when librdkafka reports end-of-partition at an offset >= HW.
Output: one JSON summary line on stdout; logs on stderr. Exit 0 when complete (and, with --expected, matching),
1 otherwise, 2 on a usage error. Every wait is bounded by --timeout.
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_common as sc  # noqa: E402

try:
    import confluent_kafka as ck
except ImportError as ex:  # pragma: no cover - environment problem, reported clearly
    sys.stderr.write("confluent_kafka not importable under %s: %s (use /usr/bin/python3)\n" % (sys.executable, ex))
    sys.exit(2)


def make_consumer(bootstrap):
    return ck.Consumer({"bootstrap.servers": bootstrap, "broker.address.family": "v4",
                        "group.id": "cluster-verify-%d" % os.getpid(), "enable.auto.commit": False,
                        "enable.auto.offset.store": False, "auto.offset.reset": "earliest",
                        "enable.partition.eof": True, "check.crcs": True, "fetch.wait.max.ms": 100,
                        "socket.timeout.ms": 5000, "topic.metadata.refresh.interval.ms": 1000})


def partition_count(consumer, topic, deadline):
    last = None
    while not deadline.expired():
        try:
            md = consumer.list_topics(topic, timeout=min(5.0, max(0.5, deadline.remaining())))
            tm = md.topics.get(topic)
            if tm is not None and tm.error is None and tm.partitions:
                return len(tm.partitions)
            last = None if tm is None else tm.error
        except ck.KafkaException as ex:
            last = ex
        time.sleep(0.2)
    raise RuntimeError("topic %s not in metadata before the deadline: %s" % (topic, last))


def watermarks(consumer, tp, deadline):
    last = None
    while not deadline.expired():
        try:
            return consumer.get_watermark_offsets(tp, timeout=min(5.0, max(0.5, deadline.remaining())))
        except ck.KafkaException as ex:
            last = ex
            time.sleep(0.2)
    raise RuntimeError("no watermarks for %s[%d] before the deadline: %s" % (tp.topic, tp.partition, last))


def read_to_end(consumer, tps, deadline, on_record):
    """Reads every (topic, partition) in tps from the beginning up to its high watermark; returns
    (high, position, errors) where position[k] >= high[k] for each complete partition."""
    high = {}
    for tp in tps:
        high[(tp.topic, tp.partition)] = watermarks(consumer, tp, deadline)[1]
    consumer.assign([ck.TopicPartition(tp.topic, tp.partition, ck.OFFSET_BEGINNING) for tp in tps])
    position = {k: 0 for k in high}
    errors = []
    while not deadline.expired() and any(position[k] < high[k] for k in high):
        msg = consumer.poll(min(0.5, max(0.05, deadline.remaining())))
        if msg is None:
            continue
        key = (msg.topic(), msg.partition())
        if msg.error():
            if msg.error().code() == ck.KafkaError._PARTITION_EOF:
                position[key] = max(position[key], msg.offset())
            else:
                errors.append(str(msg.error()))
                sc.log("consumer error: %s" % msg.error())
            continue
        on_record(msg)
        position[key] = max(position[key], msg.offset() + 1)
    return high, position, errors


def incomplete(high, position):
    return {"%s[%d]" % k: "%d/%d" % (position[k], high[k]) for k in high if position[k] < high[k]}


def mode_ids(args, consumer, deadline):
    counts = {"records": 0, "malformed": 0}
    with open(args.out, "w") as out:
        def on_record(msg):
            head = (msg.value() or b"").split(b"|")[0]
            if head.startswith(b"id-") and head[3:].isdigit():
                out.write("%d %s\n" % (msg.offset(), head[3:].decode()))
            else:
                counts["malformed"] += 1
            counts["records"] += 1
        tp = ck.TopicPartition(args.topic, args.partition)
        high, position, errors = read_to_end(consumer, [tp], deadline, on_record)
    short = incomplete(high, position)
    summary = {"mode": "ids", "topic": args.topic, "partition": args.partition,
               "high": high[(args.topic, args.partition)], "position": position[(args.topic, args.partition)],
               "count": counts["records"], "malformed": counts["malformed"], "ok": not short,
               "errors": ["stopped before the high watermark at the deadline: %s (errors: %s)" % (short, errors[:5])]
               if short else []}
    return summary


def mode_expected(args, consumer, deadline):
    expected = sc.read_expected(args.expected)
    topics = sc.topics_of(expected)
    tps = []
    for t in topics:
        tps.extend(ck.TopicPartition(t, p) for p in range(partition_count(consumer, t, deadline)))
    consumed = []

    def on_record(msg):
        ts_type, ts = msg.timestamp()
        consumed.append(sc.record(msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value(),
                                  msg.headers() or [], ts if ts_type == ck.TIMESTAMP_CREATE_TIME else None))
    high, position, errors = read_to_end(consumer, tps, deadline, on_record)
    short = incomplete(high, position)
    problems = []
    if short:
        problems.append("stopped before the high watermark at the deadline: %s (errors: %s)" % (short, errors[:5]))
    problems.extend(sc.compare(expected, consumed))
    return {"mode": "expected", "topics": topics, "expected": len(expected), "consumed": len(consumed),
            "high_watermarks": {"%s[%d]" % k: v for k, v in high.items()}, "errors": problems[:20],
            "ok": not problems}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", help="ids mode: the topic")
    ap.add_argument("--partition", type=int, default=0, help="ids mode: the partition")
    ap.add_argument("--out", help="ids mode: where the '<offset> <id>' lines go")
    ap.add_argument("--expected", help="expected mode: expected-set file to compare against")
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args(argv)
    if args.expected is None and (args.topic is None or args.out is None):
        ap.error("give --topic and --out (ids mode) or --expected FILE")
    deadline = sc.Deadline(args.timeout)
    consumer = make_consumer(args.bootstrap)
    try:
        return mode_expected(args, consumer, deadline) if args.expected else mode_ids(args, consumer, deadline)
    except RuntimeError as ex:
        return {"ok": False, "errors": [str(ex)]}
    finally:
        consumer.close()


if __name__ == "__main__":
    try:
        result = main()
    except ck.KafkaException as ex:
        result = {"ok": False, "errors": ["KafkaException: %s" % ex]}
    sc.emit_summary(result)
    sys.exit(0 if result.get("ok") else 1)
