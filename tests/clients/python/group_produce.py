#!/usr/bin/python3
"""Producer for the consumer-group tests (confluent-kafka / librdkafka, acks=all).

Produces messages with unique ids n = --first-id, --first-id+1, ...: value "id-<n>|<padding>", key "k-<n>" (the
default partitioner spreads them over the partitions). Either --count messages as fast as possible (then flush),
or at --rate messages/s until --count, --duration or SIGTERM/SIGINT. Every acknowledged message is appended to
--acked-file as "<id> <delivery-ms> <partition> <offset>" and flushed at once.

  /usr/bin/python3 group_produce.py --bootstrap 127.0.0.1:9092 --topic t --acked-file a.txt --count 1000
  /usr/bin/python3 group_produce.py --bootstrap ... --topic t --acked-file a.txt --first-id 1000 --rate 100 --duration 60

Output: one JSON summary line on stdout (sent, acked, failed, per-partition counts); logs on stderr. Exit 0 when
everything sent was acknowledged, 1 otherwise (or on a client error), 2 on a usage error.
"""

import argparse
import os
import signal
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

_stop = False


def on_signal(signum, frame):
    global _stop
    _stop = True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--acked-file", required=True)
    ap.add_argument("--count", type=int, default=0, help="messages to send (0 = until --duration / signal)")
    ap.add_argument("--first-id", type=int, default=0)
    ap.add_argument("--rate", type=float, default=0.0, help="messages per second (0 = as fast as possible)")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of production at most")
    ap.add_argument("--timeout", type=float, default=30.0, help="flush deadline, seconds")
    args = ap.parse_args(argv)
    if args.count <= 0 and args.rate <= 0:
        ap.error("give --count, or --rate (with --duration or a signal to stop)")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    producer = ck.Producer({"bootstrap.servers": args.bootstrap, "broker.address.family": "v4", "acks": "all",
                            "enable.idempotence": False, "retries": 1000000, "retry.backoff.ms": 50,
                            "linger.ms": 5, "socket.timeout.ms": 5000, "message.timeout.ms": 60000,
                            "topic.metadata.refresh.interval.ms": 2000, "reconnect.backoff.ms": 50,
                            "reconnect.backoff.max.ms": 500})
    acked = open(args.acked_file, "a")
    stats = {"sent": 0, "acked": 0, "failed": 0}
    per_partition = {}
    first_error = []

    def on_delivery(err, msg):
        ident = msg.value().split(b"|")[0].decode()[3:]
        if err is None:
            acked.write("%s %d %d %d\n" % (ident, int(time.time() * 1000), msg.partition(), msg.offset()))
            acked.flush()
            stats["acked"] += 1
            per_partition[msg.partition()] = per_partition.get(msg.partition(), 0) + 1
        else:
            stats["failed"] += 1
            if not first_error:
                first_error.append(str(err))
                sc.log("delivery error (id %s): %s" % (ident, err))

    started = time.monotonic()
    n = 0
    while not _stop and (args.count <= 0 or n < args.count) and time.monotonic() - started < args.duration:
        if args.rate > 0 and n >= (time.monotonic() - started) * args.rate:
            producer.poll(0.01)
            continue
        ident = args.first_id + n
        try:
            producer.produce(args.topic, value=b"id-%d|" % ident + b"p" * 32, key=b"k-%d" % ident,
                             on_delivery=on_delivery)
            stats["sent"] += 1
            n += 1
        except BufferError:
            producer.poll(0.05)
        producer.poll(0)
    left = producer.flush(args.timeout)
    acked.close()
    ok = left == 0 and stats["failed"] == 0 and stats["acked"] == stats["sent"]
    summary = {"client": "confluent-kafka", "topic": args.topic, "first_id": args.first_id, "next_id": args.first_id + n,
               "undelivered_at_exit": left, "per_partition": {str(p): c for p, c in sorted(per_partition.items())},
               "first_error": first_error[0] if first_error else None, "stopped_by_signal": _stop, "ok": ok}
    summary.update(stats)
    sc.emit_summary(summary)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ck.KafkaException as ex:
        sc.emit_summary({"client": "confluent-kafka", "ok": False, "errors": ["KafkaException: %s" % ex]})
        sys.exit(1)
