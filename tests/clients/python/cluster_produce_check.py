#!/usr/bin/python3
"""Produces ONE message with a chosen acks setting and reports how the broker answered (confluent-kafka /
librdkafka). Used by the cluster replica-safety tests to probe min.insync.replicas: with few retries and a short
message timeout, the delivery report carries the broker's own error (e.g. NOT_ENOUGH_REPLICAS, Kafka error 19)
instead of being retried away.

  /usr/bin/python3 cluster_produce_check.py --bootstrap H:P,H:P --topic T --acks all [--partition 0]
      [--retries 0] [--message-timeout-ms 5000] [--value text]

Output: one JSON summary line on stdout:
  {"ok": true|false, "error_code": <librdkafka/Kafka error code or null>, "error": <text or null>,
   "error_name": <e.g. "NOT_ENOUGH_REPLICAS">, "partition": n, "offset": n, "elapsed_ms": n, ...}
Exit 0 when the message was acknowledged, 1 when its delivery failed (the summary says why), 2 on a usage error
or when the client could not be loaded. Every wait is bounded by the message timeout plus a small margin.
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True, help="comma list of host:port")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--acks", required=True, choices=["all", "-1", "0", "1"])
    ap.add_argument("--partition", type=int, default=0)
    ap.add_argument("--retries", type=int, default=0, help="librdkafka retries (0: report the first error)")
    ap.add_argument("--message-timeout-ms", type=int, default=5000)
    ap.add_argument("--value", default="check")
    args = ap.parse_args(argv)
    if args.message_timeout_ms <= 0 or args.retries < 0 or args.partition < 0:
        ap.error("--message-timeout-ms must be positive, --retries and --partition not negative")

    conf = {"bootstrap.servers": args.bootstrap, "broker.address.family": "v4", "acks": args.acks,
            "enable.idempotence": False, "retries": args.retries, "retry.backoff.ms": 100, "linger.ms": 0,
            "message.timeout.ms": args.message_timeout_ms, "socket.timeout.ms": min(5000, args.message_timeout_ms),
            "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500}
    producer = ck.Producer(conf)
    result = {}

    def on_delivery(err, msg):
        result["partition"] = msg.partition()
        if err is None:
            result.update(ok=True, error_code=None, error=None, error_name=None, offset=msg.offset())
        else:
            result.update(ok=False, error_code=err.code(), error=err.str(), error_name=err.name(), offset=None,
                          retriable=err.retriable())

    started = time.monotonic()
    producer.produce(args.topic, value=args.value.encode(), partition=args.partition, on_delivery=on_delivery)
    # The delivery report arrives at the latest when message.timeout.ms expires; the margin covers the rest.
    deadline = sc.Deadline(args.message_timeout_ms / 1000.0 + 5.0)
    while not result and not deadline.expired():
        producer.poll(min(0.2, max(0.01, deadline.remaining())))
    left = producer.flush(0)
    if not result:
        result.update(ok=False, error_code=None, error="no delivery report within the deadline", error_name=None,
                      offset=None)
    result.update(client="confluent-kafka", librdkafka=ck.libversion()[0], topic=args.topic, acks=args.acks,
                  elapsed_ms=int((time.monotonic() - started) * 1000), undelivered_at_exit=left)
    return result


if __name__ == "__main__":
    try:
        summary = main()
    except ck.KafkaException as ex:
        summary = {"client": "confluent-kafka", "ok": False, "error_code": None, "error": "KafkaException: %s" % ex}
    sc.emit_summary(summary)
    sys.exit(0 if summary.get("ok") else 1)
