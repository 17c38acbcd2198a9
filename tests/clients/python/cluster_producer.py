#!/usr/bin/python3
"""Failover load producer for the cluster tests (confluent-kafka / librdkafka).

Produces numbered messages "id-<n>|<padding>" (n = 0, 1, 2, ... in order, all with ONE key so they land in one
partition) with acks=all, unlimited retries and one request in flight (so the order on the wire is the id order),
at a modest fixed rate, for --duration seconds or until SIGTERM/SIGINT. Every message the broker acknowledged is
appended to --acked-file as "<id> <delivery-time-ms>" (wall clock, ms since the epoch) and flushed at once, so the
file is complete even if this process is killed. Delivery errors go to --errors-file as "<time-ms> <id> <error>".

  /usr/bin/python3 cluster_producer.py --bootstrap 127.0.0.1:9092,127.0.0.2:9092 --topic T \
      --acked-file acked.txt --errors-file errors.txt [--duration 30] [--rate 200] [--count N] [--first-id N] [--key k]

Output: one JSON summary line on stdout (sent, acked, failed, first_error); logs on stderr.
Exit 0 when it ran to the end (delivery errors are counted, not failed: the test judges them), 1 on a client
error it could not recover from, 2 on a usage error.
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


def now_ms():
    return int(time.time() * 1000)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True, help="comma list of host:port")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--acked-file", required=True)
    ap.add_argument("--errors-file", required=True)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of production")
    ap.add_argument("--rate", type=float, default=200.0, help="messages per second")
    ap.add_argument("--count", type=int, default=0, help="stop after this many messages (0 = no limit)")
    ap.add_argument("--first-id", type=int, default=0, help="id of the first message (to continue an earlier run)")
    ap.add_argument("--key", default="failover-key")
    ap.add_argument("--message-timeout", type=float, default=60.0, help="librdkafka message.timeout.ms, seconds")
    ap.add_argument("--debug", default="")
    args = ap.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0:
        ap.error("--rate and --duration must be positive")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    conf = {"bootstrap.servers": args.bootstrap, "broker.address.family": "v4", "acks": "all",
            "enable.idempotence": False, "max.in.flight.requests.per.connection": 1, "retries": 1000000,
            "retry.backoff.ms": 50, "linger.ms": 5, "socket.timeout.ms": 5000,
            "message.timeout.ms": int(args.message_timeout * 1000), "topic.metadata.refresh.interval.ms": 2000,
            "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500}
    if args.debug:
        conf["debug"] = args.debug
    producer = ck.Producer(conf)
    acked = open(args.acked_file, "a")
    errors = open(args.errors_file, "a")
    stats = {"sent": 0, "acked": 0, "failed": 0}
    first_error = []
    partitions = set()

    def on_delivery(err, msg):
        ident = msg.value().split(b"|")[0].decode()[3:]
        if err is None:
            acked.write("%s %d\n" % (ident, now_ms()))
            acked.flush()
            stats["acked"] += 1
            partitions.add(msg.partition())
        else:
            errors.write("%d %s %s\n" % (now_ms(), ident, str(err).replace("\n", " ")))
            errors.flush()
            stats["failed"] += 1
            if not first_error:
                first_error.append(str(err))
                sc.log("first delivery error (id %s): %s" % (ident, err))

    key = args.key.encode()
    started = time.monotonic()
    n = 0
    while not _stop and time.monotonic() - started < args.duration and (args.count <= 0 or n < args.count):
        due = (time.monotonic() - started) * args.rate
        if n >= due:
            producer.poll(min(0.05, (n + 1 - due) / args.rate))
            continue
        try:
            producer.produce(args.topic, value=b"id-%d|" % (args.first_id + n) + b"x" * 64, key=key, on_delivery=on_delivery)
            stats["sent"] += 1
            n += 1
        except BufferError:
            producer.poll(0.05)
        producer.poll(0)
    # Give outstanding messages a bounded chance to be delivered (they are retried across the failover).
    left = producer.flush(3.0 if _stop else 20.0)
    acked.close()
    errors.close()
    summary = {"client": "confluent-kafka", "librdkafka": ck.libversion()[0], "topic": args.topic,
               "stopped_by_signal": _stop, "undelivered_at_exit": left, "partitions": sorted(partitions),
               "first_error": first_error[0] if first_error else None, "ok": True}
    summary.update(stats)
    sc.emit_summary(summary)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ck.KafkaException as ex:
        sc.emit_summary({"client": "confluent-kafka", "ok": False, "errors": ["KafkaException: %s" % ex]})
        sys.exit(1)
