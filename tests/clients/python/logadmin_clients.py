#!/usr/bin/python3
"""Real-client checks for the log admin tests (DeleteRecords and friends). Two scenarios:

  produce: --count N records ("m-<i>") to one partition with confluent-kafka (librdkafka, acks=all), quickly, so
    they share a few batches (a log start offset set later falls inside a batch).
      /usr/bin/python3 logadmin_clients.py produce --bootstrap H:P --topic T --count 30 [--partition 0]
  consume: reads one partition from the beginning ("earliest": what ListOffsets says the log start offset is) to
    the high watermark with --client confluent (librdkafka) or kafka-python, and reports the low and high
    watermarks the client saw and the offsets of the records it got.
      /usr/bin/python3 logadmin_clients.py consume --bootstrap H:P --topic T --client confluent|kafka-python

Output: one JSON summary line on stdout ("ok", "first", "last", "count", "low", "high", "offsets"); logs on
stderr. Exit 0 on success, 1 on failure, 2 on a usage error. Every wait is bounded by --timeout.
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_common as sc  # noqa: E402


def produce(args, deadline):
    import confluent_kafka as ck
    producer = ck.Producer({"bootstrap.servers": args.bootstrap, "broker.address.family": "v4", "acks": "all",
                            "linger.ms": 20, "compression.type": "none", "message.timeout.ms": int(args.timeout * 1000)})
    delivered, errors = [], []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            delivered.append(msg.offset())

    for i in range(args.count):
        producer.produce(args.topic, value=("m-%d" % i).encode(), key=("k-%d" % i).encode(),
                         partition=args.partition, on_delivery=on_delivery)
    remaining = producer.flush(max(0.5, deadline.remaining()))
    ok = remaining == 0 and not errors and len(delivered) == args.count
    delivered.sort()
    return {"ok": ok, "produced": len(delivered), "errors": errors[:5],
            "first": delivered[0] if delivered else -1, "last": delivered[-1] if delivered else -1}


def consume_confluent(args, deadline):
    import confluent_kafka as ck
    consumer = ck.Consumer({"bootstrap.servers": args.bootstrap, "broker.address.family": "v4",
                            "group.id": "logadmin-%d" % os.getpid(), "enable.auto.commit": False,
                            "auto.offset.reset": "earliest", "enable.partition.eof": True, "fetch.wait.max.ms": 100,
                            "topic.metadata.refresh.interval.ms": 1000})
    try:
        tp = ck.TopicPartition(args.topic, args.partition)
        low = high = None
        last_error = None
        while not deadline.expired() and high is None:
            try:
                low, high = consumer.get_watermark_offsets(tp, timeout=min(5.0, max(0.5, deadline.remaining())))
            except ck.KafkaException as ex:
                last_error = ex
                time.sleep(0.2)
        if high is None:
            return {"ok": False, "error": "no watermarks: %s" % last_error}
        consumer.assign([ck.TopicPartition(args.topic, args.partition, ck.OFFSET_BEGINNING)])
        offsets, position = [], low
        while not deadline.expired() and position < high:
            msg = consumer.poll(min(0.5, max(0.05, deadline.remaining())))
            if msg is None:
                continue
            if msg.error() is not None:
                if msg.error().code() == ck.KafkaError._PARTITION_EOF:
                    position = max(position, msg.offset())
                    continue
                return {"ok": False, "error": str(msg.error()), "offsets": offsets}
            offsets.append(msg.offset())
            position = msg.offset() + 1
        return summarize(offsets, low, high, position >= high)
    finally:
        consumer.close()


def consume_kafkapython(args, deadline):
    import kafka
    consumer = kafka.KafkaConsumer(bootstrap_servers=args.bootstrap, enable_auto_commit=False,
                                   auto_offset_reset="earliest", consumer_timeout_ms=500,
                                   request_timeout_ms=15000, api_version_auto_timeout_ms=10000)
    try:
        tp = kafka.TopicPartition(args.topic, args.partition)
        consumer.assign([tp])
        low = consumer.beginning_offsets([tp])[tp]
        high = consumer.end_offsets([tp])[tp]
        consumer.seek_to_beginning(tp)
        offsets = []
        while not deadline.expired() and consumer.position(tp) < high:
            for records in consumer.poll(timeout_ms=500).values():
                offsets.extend(r.offset for r in records)
        return summarize(offsets, low, high, consumer.position(tp) >= high)
    finally:
        consumer.close()


def summarize(offsets, low, high, complete):
    ordered = all(a < b for a, b in zip(offsets, offsets[1:]))
    return {"ok": complete and ordered, "complete": complete, "low": low, "high": high, "count": len(offsets),
            "first": offsets[0] if offsets else -1, "last": offsets[-1] if offsets else -1, "offsets": offsets[:200]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=["produce", "consume"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partition", type=int, default=0)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--client", choices=["confluent", "kafka-python"], default="confluent")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    deadline = sc.Deadline(args.timeout)
    try:
        if args.scenario == "produce":
            summary = produce(args, deadline)
        elif args.client == "confluent":
            summary = consume_confluent(args, deadline)
        else:
            summary = consume_kafkapython(args, deadline)
    except Exception as ex:  # every failure ends in a summary line, never a hang
        summary = {"ok": False, "error": "%s: %s" % (type(ex).__name__, ex)}
    summary["scenario"] = args.scenario
    summary["client"] = "confluent" if args.scenario == "produce" else args.client
    sc.emit_summary(summary)
    sc.log("logadmin %s: %s" % (args.scenario, summary))
    return 0 if summary.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
