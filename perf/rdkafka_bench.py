#!/usr/bin/python3
"""The load generator's produce and consume scenarios driven by librdkafka (confluent-kafka), to check that
loadgen's figures are of the same order as a real client's (perf/README.md, "Cross-check with librdkafka").

  /usr/bin/python3 perf/rdkafka_bench.py produce --bootstrap 127.0.0.1:9092 --topic t --record-size 1024 \
      --acks 1 --warmup 2 --duration 8 [--rate N] [--linger-ms 5] [--batch-bytes 1000000] [--json out.json]
  /usr/bin/python3 perf/rdkafka_bench.py consume --bootstrap 127.0.0.1:9092 --topic t [--duration 8] [--json out.json]

produce: one producer; values are the record size in bytes, the first 8 bytes the send time (perf_counter_ns);
unlimited (as fast as librdkafka's queue takes them; produce() blocks on a full queue by polling) or at --rate
records/s (open model: latency counts from the intended send time). Latency = delivery report time - send time
(librdkafka calls the report from poll(), so it includes up to one poll interval). Only records acknowledged inside
the window after --warmup count.
consume: one consumer (no group commits, assign() from the earliest offset of every partition) until it has read
up to the end offsets seen at the start or --duration passes; MB/s counts key + value bytes.
Prints a one-line JSON summary (also to --json): records/s, MB/s, latency p50/p90/p99/p99.9/max in ms, errors.
Exit 0 when there were no errors, 1 otherwise, 2 on bad arguments.
"""
import argparse
import json
import sys
import time

try:
    from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError:  # Debian's python3-confluent-kafka loads under /usr/bin/python3 only
    print("rdkafka_bench: confluent_kafka not importable; run with /usr/bin/python3 "
          "(apt-get install python3-confluent-kafka)", file=sys.stderr)
    sys.exit(2)


def percentiles(samples):
    if not samples:
        return {}
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]
    return {"p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99), "p999": pick(0.999), "max": s[-1],
            "mean": sum(s) / len(s)}


def ensure_topic(args):
    """Creates the topic with --partitions partitions (RF 1) unless it exists."""
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    if args.topic in admin.list_topics(timeout=10).topics:
        return
    futures = admin.create_topics([NewTopic(args.topic, num_partitions=args.partitions, replication_factor=1)])
    try:
        futures[args.topic].result(15)
    except Exception as ex:  # a concurrent creation is fine
        if "TOPIC_ALREADY_EXISTS" not in str(ex):
            raise


def produce(args):
    ensure_topic(args)
    conf = {"bootstrap.servers": args.bootstrap, "acks": str(args.acks), "linger.ms": args.linger_ms,
            "batch.size": args.batch_bytes, "queue.buffering.max.kbytes": 1048576,
            "queue.buffering.max.messages": 1000000, "compression.type": args.compression,
            "enable.idempotence": False, "socket.nagle.disable": True}
    p = Producer(conf)
    payload = bytearray(args.record_size)
    for i in range(8, len(payload)):
        payload[i] = 97 + i % 26
    state = {"ok": 0, "bytes": 0, "errors": 0, "lat": [], "first_error": None}
    t0 = time.perf_counter_ns()
    warm_end = t0 + int(args.warmup * 1e9)
    end = warm_end + int(args.duration * 1e9)

    def report(err, msg):
        now = time.perf_counter_ns()
        if err is not None:
            state["errors"] += 1
            state["first_error"] = state["first_error"] or str(err)
            return
        if now < warm_end or now > end:
            return
        sent = int.from_bytes(msg.value()[:8], "little")
        state["ok"] += 1
        state["bytes"] += len(msg.value())
        state["lat"].append((now - sent) / 1e6)

    i = 0
    interval = 1e9 / args.rate if args.rate > 0 else 0
    while True:
        now = time.perf_counter_ns()
        if now >= end:
            break
        if interval:
            intended = t0 + int(i * interval)
            if intended > now:
                p.poll(0)
                if intended - now > 200_000:
                    time.sleep((intended - now) / 1e9 / 2)
                continue
            stamp = intended
        else:
            stamp = now
        payload[0:8] = stamp.to_bytes(8, "little")
        while True:
            try:
                p.produce(args.topic, bytes(payload), partition=i % args.partitions, on_delivery=report)
                break
            except BufferError:
                p.poll(0.001)
        i += 1
        if i % 1000 == 0:
            p.poll(0)
    p.flush(30)
    window = args.duration
    return {"scenario": "produce", "client": "librdkafka", "recordSize": args.record_size, "acks": args.acks,
            "recordsPerSec": state["ok"] / window, "mbPerSec": state["bytes"] / window / 1e6,
            "produceLatencyMs": percentiles(state["lat"]), "errors": state["errors"],
            "firstError": state["first_error"], "sent": i}


def consume(args):
    c = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "rdkafka-bench", "enable.auto.commit": False,
                  "fetch.max.bytes": 16 << 20, "max.partition.fetch.bytes": 4 << 20,
                  "queued.max.messages.kbytes": 262144, "fetch.wait.max.ms": 100})
    md = c.list_topics(args.topic, timeout=10)
    parts = sorted(md.topics[args.topic].partitions)
    ends = {}
    tps = []
    for pid in parts:
        low, high = c.get_watermark_offsets(TopicPartition(args.topic, pid), timeout=10)
        ends[pid] = high
        tps.append(TopicPartition(args.topic, pid, low))
    c.assign(tps)
    target = sum(ends.values())
    got = 0
    nbytes = 0
    errors = 0
    done = {pid for pid in parts if ends[pid] == 0}
    start = time.perf_counter()
    while time.perf_counter() - start < args.duration and len(done) < len(parts):
        for m in c.consume(num_messages=10000, timeout=0.2):
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF:
                    errors += 1
                continue
            got += 1
            nbytes += len(m.value() or b"") + len(m.key() or b"")
            if m.offset() + 1 >= ends[m.partition()]:
                done.add(m.partition())
    elapsed = time.perf_counter() - start
    c.close()
    return {"scenario": "consume", "client": "librdkafka", "records": got, "target": target,
            "recordsPerSec": got / elapsed, "mbPerSec": nbytes / elapsed / 1e6, "seconds": elapsed, "errors": errors}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=["produce", "consume"])
    ap.add_argument("--bootstrap", default="127.0.0.1:9092")
    ap.add_argument("--topic", default="rdkafka-bench")
    ap.add_argument("--partitions", type=int, default=2)
    ap.add_argument("--record-size", type=int, default=1024)
    ap.add_argument("--acks", type=int, default=1, choices=[0, 1, -1])
    ap.add_argument("--linger-ms", type=float, default=5)
    ap.add_argument("--batch-bytes", type=int, default=1000000)
    ap.add_argument("--compression", default="none")
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--duration", type=float, default=8)
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.record_size < 8 or args.partitions < 1 or args.duration <= 0:
        ap.error("--record-size must be >= 8, --partitions >= 1, --duration > 0")
    result = produce(args) if args.scenario == "produce" else consume(args)
    line = json.dumps(result)
    print(line)
    if args.json:
        with open(args.json, "w") as f:
            f.write(line + "\n")
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
