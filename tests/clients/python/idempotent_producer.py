#!/usr/bin/python3
"""Idempotent producer for the failover tests (confluent-kafka / librdkafka, enable.idempotence=true, acks=all).

Produces ids 0, 1, 2, ... (value "id-<n>|<padding>") to partition n % --partitions of --topic at --rate messages/s
until --count messages, --duration or SIGTERM/SIGINT, then flushes. librdkafka's idempotent producer keeps up to 5
requests in flight per partition and retries them with their original sequence numbers, so a leader kill must
leave every id in its partition exactly once and in id order. Every acknowledged message is appended to
--acked-file as "<id> <delivery-ms> <partition> <offset>" and flushed at once; delivery errors to --errors-file as
"<ms> <id> <error>". Fatal idempotence errors (librdkafka raises them for e.g. OUT_OF_ORDER_SEQUENCE_NUMBER) are
reported in the summary as "fatal_error".

  /usr/bin/python3 idempotent_producer.py --bootstrap H:P,H:P --topic t --partitions 3 --acked-file a --errors-file e \
      [--count 3000] [--rate 300] [--duration 60]

Output: one JSON summary line on stdout; logs on stderr. Exit 0 when it ran to the end without a fatal error
(delivery errors are counted: the test judges them), 1 on a fatal or client error, 2 on a usage error.
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
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--partitions", type=int, default=1, help="id n goes to partition n %% partitions")
    ap.add_argument("--acked-file", required=True)
    ap.add_argument("--errors-file", required=True)
    ap.add_argument("--count", type=int, default=0, help="messages to send (0 = until --duration / signal)")
    ap.add_argument("--rate", type=float, default=300.0, help="messages per second")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--flush-timeout", type=float, default=60.0)
    ap.add_argument("--debug", default="")
    args = ap.parse_args(argv)
    if args.partitions < 1 or args.rate <= 0 or args.duration <= 0:
        ap.error("--partitions, --rate and --duration must be positive")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fatal = []
    errors_seen = []

    def on_error(err):
        errors_seen.append(str(err))
        if err.fatal():
            if not fatal:
                fatal.append(str(err))
            sc.log("FATAL producer error: %s" % err)
        else:
            sc.log("producer error: %s" % err)

    conf = {"bootstrap.servers": args.bootstrap, "broker.address.family": "v4", "enable.idempotence": True,
            "acks": "all", "linger.ms": 5, "retry.backoff.ms": 50, "socket.timeout.ms": 5000,
            "message.timeout.ms": int(args.flush_timeout * 1000), "topic.metadata.refresh.interval.ms": 2000,
            "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500, "error_cb": on_error}
    if args.debug:
        conf["debug"] = args.debug
    producer = ck.Producer(conf)
    acked = open(args.acked_file, "a")
    errors = open(args.errors_file, "a")
    stats = {"sent": 0, "acked": 0, "failed": 0}

    def on_delivery(err, msg):
        ident = msg.value().split(b"|")[0].decode()[3:]
        if err is None:
            acked.write("%s %d %d %d\n" % (ident, now_ms(), msg.partition(), msg.offset()))
            acked.flush()
            stats["acked"] += 1
        else:
            errors.write("%d %s %s\n" % (now_ms(), ident, str(err).replace("\n", " ")))
            errors.flush()
            stats["failed"] += 1

    started = time.monotonic()
    n = 0
    while not _stop and not fatal and time.monotonic() - started < args.duration and (args.count <= 0 or n < args.count):
        if n >= (time.monotonic() - started) * args.rate:
            producer.poll(0.01)
            continue
        try:
            producer.produce(args.topic, value=b"id-%d|" % n + b"i" * 48, partition=n % args.partitions,
                             on_delivery=on_delivery)
            stats["sent"] += 1
            n += 1
        except BufferError:
            producer.poll(0.05)
        producer.poll(0)
    left = producer.flush(args.flush_timeout)
    acked.close()
    errors.close()
    summary = {"client": "confluent-kafka", "librdkafka": ck.libversion()[0], "idempotent": True, "topic": args.topic,
               "next_id": n, "undelivered_at_exit": left, "fatal_error": fatal[0] if fatal else None,
               "client_errors": errors_seen[:10], "stopped_by_signal": _stop, "ok": not fatal}
    summary.update(stats)
    sc.emit_summary(summary)
    return 0 if not fatal else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ck.KafkaException as ex:
        sc.emit_summary({"client": "confluent-kafka", "ok": False, "errors": ["KafkaException: %s" % ex]})
        sys.exit(1)
