"""confluent-kafka (librdkafka) helpers for confluent_scenario.py: client configuration, topic creation with
bounded retries, produce with delivery reports, and consume-everything with assign() from the beginning.
Every wait takes a scenario_common.Deadline."""

import os
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_common as sc  # noqa: E402

import confluent_kafka as ck  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


class ScenarioError(Exception):
    pass


def librdkafka_logger(verbose):
    import logging
    logger = logging.getLogger("librdkafka")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s librdkafka %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    return logger


def base_conf(args):
    conf = {"bootstrap.servers": args.bootstrap, "socket.timeout.ms": 10000,
            "logger": librdkafka_logger(args.verbose), "broker.address.family": "v4"}
    if args.debug:
        conf["debug"] = args.debug
    return conf


# ---------------------------------------------------------------- topics

def create_topic(args, topic, partitions, deadline):
    admin = AdminClient(base_conf(args))
    created = False
    last_error = None
    while not deadline.expired():
        fs = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)],
                                 request_timeout=min(15.0, max(1.0, deadline.remaining())),
                                 operation_timeout=min(15.0, max(1.0, deadline.remaining())))
        try:
            fs[topic].result(timeout=max(1.0, deadline.remaining()))
            created = True
            break
        except ck.KafkaException as ex:
            kerr = ex.args[0]
            if kerr.code() == ck.KafkaError.TOPIC_ALREADY_EXISTS:
                if args.exists_ok:
                    break
                raise ScenarioError("create_topics(%s): topic already exists" % topic)
            if not kerr.retriable() and kerr.code() not in (ck.KafkaError._TIMED_OUT, ck.KafkaError._TRANSPORT):
                raise ScenarioError("create_topics(%s) failed: %s" % (topic, kerr))
            last_error = kerr
            sc.log("create_topics(%s): retriable error %s; retrying" % (topic, kerr))
            time.sleep(0.5)
        except Exception as ex:  # futures timeout
            last_error = ex
            sc.log("create_topics(%s): %r; retrying" % (topic, ex))
            time.sleep(0.5)
    else:
        raise ScenarioError("create_topics(%s) did not succeed before the deadline: %s" % (topic, last_error))
    wait_for_topic(admin, topic, partitions, deadline)
    return created


def wait_for_topic(client, topic, partitions, deadline):
    """Waits until metadata lists the topic with `partitions` partitions, each with a leader."""
    last = None
    while not deadline.expired():
        try:
            md = client.list_topics(topic, timeout=min(5.0, max(0.5, deadline.remaining())))
            tm = md.topics.get(topic)
            if tm is not None and tm.error is None and len(tm.partitions) == partitions and all(
                    p.leader >= 0 and p.error is None for p in tm.partitions.values()):
                return md
            last = "topic=%s error=%s partitions=%s" % (
                topic, None if tm is None else tm.error,
                None if tm is None else {i: (p.leader, str(p.error)) for i, p in tm.partitions.items()})
        except ck.KafkaException as ex:
            last = str(ex)
        time.sleep(0.2)
    raise ScenarioError("metadata for %s never became ready (%d partitions with leaders): %s"
                        % (topic, partitions, last))


def partition_count(client, topic, deadline):
    last = None
    while not deadline.expired():
        try:
            md = client.list_topics(topic, timeout=min(5.0, max(0.5, deadline.remaining())))
            tm = md.topics.get(topic)
            if tm is not None and tm.error is None and tm.partitions:
                return len(tm.partitions)
            last = None if tm is None else tm.error
        except ck.KafkaException as ex:
            last = ex
        time.sleep(0.2)
    raise ScenarioError("topic %s not found in metadata: %s" % (topic, last))


# ---------------------------------------------------------------- produce / consume

def make_producer(args, codec, extra=None):
    conf = base_conf(args)
    conf.update({"acks": "all", "compression.type": codec, "linger.ms": 5, "enable.idempotence": False,
                 "max.in.flight.requests.per.connection": 1, "message.timeout.ms": int(args.timeout * 1000),
                 "batch.num.messages": 100})
    if extra:
        conf.update(extra)
    return ck.Producer(conf)


def produce_messages(args, topic, codec, messages, deadline, flush_each=False):
    """Produces messages; returns expected records carrying the partition/offset of each delivery report.
    flush_each waits for every message before sending the next, so each one travels in its own batch."""
    producer = make_producer(args, codec)
    reports = [None] * len(messages)
    failures = []

    def on_delivery(index):
        def cb(err, msg):
            if err is not None:
                failures.append("message #%d: %s" % (index, err))
            else:
                reports[index] = (msg.partition(), msg.offset(), msg.timestamp())
        return cb

    for i, m in enumerate(messages):
        kwargs = {"value": m["v"], "key": m["k"], "on_delivery": on_delivery(i)}
        if m["h"]:
            kwargs["headers"] = list(m["h"])
        if m["p"] is not None:
            kwargs["partition"] = m["p"]
        if m.get("ts") is not None:
            kwargs["timestamp"] = m["ts"]
        while True:
            try:
                producer.produce(topic, **kwargs)
                break
            except BufferError:
                producer.poll(0.1)
                if deadline.expired():
                    raise ScenarioError("producer queue full until the deadline")
        producer.poll(0)
        if flush_each:
            producer.flush(max(0.1, deadline.remaining()))
    left = producer.flush(max(0.1, deadline.remaining()))
    if left:
        raise ScenarioError("%s: %d message(s) still undelivered at the deadline" % (topic, left))
    if failures:
        raise ScenarioError("%s: delivery failed for %d message(s): %s" % (topic, len(failures), failures[:5]))
    records = []
    for m, rep in zip(messages, reports):
        if rep is None:
            raise ScenarioError("%s: no delivery report for a message" % topic)
        ts = m.get("ts")
        if ts is None and rep[2][0] == ck.TIMESTAMP_CREATE_TIME:
            ts = rep[2][1]  # librdkafka stamped it: it must come back unchanged
        records.append(sc.record(topic, rep[0], rep[1], m["k"], m["v"], m["h"], ts))
    return records


def consume_all(args, topics, deadline):
    """Reads every partition of each topic from the beginning to the high watermark; returns records."""
    conf = base_conf(args)
    conf.update({"group.id": "scenario-%d" % os.getpid(), "enable.auto.commit": False,
                 "enable.auto.offset.store": False, "enable.partition.eof": True,
                 "auto.offset.reset": "earliest", "check.crcs": True, "fetch.wait.max.ms": 100})
    consumer = ck.Consumer(conf)
    try:
        tps = []
        for t in topics:
            n = partition_count(consumer, t, deadline)
            tps.extend(ck.TopicPartition(t, p, ck.OFFSET_BEGINNING) for p in range(n))
        high = {}
        for tp in tps:
            while True:
                try:
                    low, hi = consumer.get_watermark_offsets(tp, timeout=min(5.0, max(0.5, deadline.remaining())))
                    high[(tp.topic, tp.partition)] = hi
                    break
                except ck.KafkaException as ex:
                    if deadline.expired():
                        raise ScenarioError("watermarks of %s[%d]: %s" % (tp.topic, tp.partition, ex))
                    time.sleep(0.2)
        consumer.assign(tps)
        records = []
        next_offset = {k: 0 for k in high}
        eof = set()
        errors = []
        while not deadline.expired():
            if all(next_offset[k] >= high[k] for k in high):
                break
            msg = consumer.poll(min(0.5, max(0.05, deadline.remaining())))
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == ck.KafkaError._PARTITION_EOF:
                    key = (msg.topic(), msg.partition())
                    eof.add(key)
                    # At the end: offsets without records (control batches, a leader's no-op) count as consumed.
                    if key in next_offset:
                        next_offset[key] = max(next_offset[key], msg.offset())
                    continue
                errors.append(str(msg.error()))
                sc.log("consumer error: %s" % msg.error())
                if msg.error().fatal():
                    raise ScenarioError("fatal consumer error: %s" % msg.error())
                continue
            key = (msg.topic(), msg.partition())
            ts_type, ts = msg.timestamp()
            records.append(sc.record(msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value(),
                                     msg.headers() or [], ts if ts_type == ck.TIMESTAMP_CREATE_TIME else None))
            next_offset[key] = max(next_offset[key], msg.offset() + 1)
        else:
            short = {"%s[%d]" % k: "%d/%d" % (next_offset[k], high[k]) for k in high if next_offset[k] < high[k]}
            raise ScenarioError("consume did not reach the high watermark before the deadline: %s (errors: %s)"
                                % (short, errors[:5]))
        return records, high
    finally:
        consumer.close()
