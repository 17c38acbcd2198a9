#!/usr/bin/python3
"""Dynamic config scenarios with real admin clients: confluent-kafka (librdkafka) AdminClient describe_configs /
alter_configs and kafka-python KafkaAdminClient describe_configs / alter_configs.

Run with the Debian interpreter:
  /usr/bin/python3 configs_scenario.py SCENARIO --bootstrap 127.0.0.1:9092 --topic T [options]

Scenarios:
  describe-alter   (confluent) create T; describe its configs (retention.ms inherited); alter_configs (replace)
                   retention.ms + cleanup.policy and see them described as DYNAMIC_TOPIC_CONFIG; a bad value is
                   INVALID_CONFIG; validate_only changes nothing; describe broker --broker-id (listeners read-only,
                   log.retention.ms dynamic); altering listeners is INVALID_REQUEST "Cannot update these configs
                   dynamically: listeners".
  retention        (confluent) create T with segment.bytes=--segment-bytes, produce --count messages stamped an hour
                   ago (several closed segments), then alter_configs retention.ms=1000 on the live topic and wait until
                   the low watermark (ListOffsets earliest) moves, without any restart.
  cluster-default  (kafka-python alter, confluent describe/watermarks) create T-plain and T-kept (retention.ms=-1),
                   produce to both, set the cluster default log.retention.ms=1000 (BROKER resource "") and wait until
                   T-plain's low watermark moves while T-kept keeps its data; T-plain describes retention.ms with
                   source DYNAMIC_DEFAULT_BROKER_CONFIG.
  kafkapython      (kafka-python) describe topic T (with synonyms) and broker --broker-id, alter T, refuse listeners.
  produce-size     (confluent) produce one --size byte message to each of --partitions partitions of T (existing);
                   reports each partition's delivery error name (or null), checks nothing.

Output: exactly one JSON summary line on stdout ({"ok": bool, ...}); diagnostics on stderr. Exit status 0 = all
checks passed, 1 = a check failed or an error, 2 = usage error. Every wait is bounded (--timeout per phase).
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_common as sc  # noqa: E402

try:
    import confluent_kafka as ck
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
except ImportError as ex:  # pragma: no cover - environment problem, reported clearly
    sys.stderr.write("confluent_kafka not importable under %s: %s (use /usr/bin/python3)\n" % (sys.executable, ex))
    sys.exit(2)
from confluent_client import ScenarioError, base_conf, wait_for_topic  # noqa: E402

INVALID_CONFIG = 40
INVALID_REQUEST = 42


class Checks:
    """Named boolean checks with the observed values; all must pass."""

    def __init__(self):
        self.results = {}
        self.observed = {}

    def check(self, name, ok, observed=None):
        self.results[name] = bool(ok)
        if observed is not None:
            self.observed[name] = observed
        sc.log("%s %s: %r" % ("PASS" if ok else "FAIL", name, observed))

    def ok(self):
        return all(self.results.values())


# ---------------------------------------------------------------- confluent helpers

def admin_client(args):
    return AdminClient(base_conf(args))


def create_topic(args, admin, topic, partitions, config=None):
    deadline = sc.Deadline(args.timeout)
    fs = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=args.replication_factor,
                                       config=config or {})], request_timeout=15.0, operation_timeout=15.0)
    fs[topic].result(timeout=30)
    wait_for_topic(admin, topic, partitions, deadline)


def describe(admin, restype, name):
    """{config name: ConfigEntry} of one resource (raises KafkaException on a resource error)."""
    resource = ConfigResource(restype, name)
    fs = admin.describe_configs([resource], request_timeout=15.0)
    return fs[resource].result(timeout=30)


def alter(admin, restype, name, configs, validate_only=False):
    """None on success, else (error code, message)."""
    resource = ConfigResource(restype, name, set_config=configs)
    fs = admin.alter_configs([resource], request_timeout=15.0, validate_only=validate_only)
    try:
        fs[resource].result(timeout=30)
        return None
    except ck.KafkaException as ex:
        err = ex.args[0]
        return err.code(), err.str()


def source_name(entry):
    """The entry's config source name (confluent-kafka 1.7 hands out the raw int, newer versions the enum)."""
    source = entry.source
    if hasattr(source, "name"):
        return source.name
    try:
        return ck.admin.ConfigSource(source).name
    except ValueError:
        return str(source)


def entry_view(entry):
    return {"value": entry.value, "source": source_name(entry), "read_only": bool(entry.is_read_only)}


def watermarks(args, topic, partition=0):
    consumer = ck.Consumer(dict(base_conf(args), **{"group.id": "configs-scenario-wm", "enable.auto.commit": False}))
    try:
        return consumer.get_watermark_offsets(ck.TopicPartition(topic, partition), timeout=10, cached=False)
    finally:
        consumer.close()


def produce_old(args, topics, count, size):
    """Produces `count` messages of `size` bytes stamped an hour ago to partition 0 of each topic (acks=all)."""
    producer = ck.Producer(dict(base_conf(args), **{"acks": "all", "linger.ms": 5, "batch.num.messages": 10,
                                                    "message.timeout.ms": int(args.timeout * 1000)}))
    errors = []
    stamp = int(time.time() * 1000) - 3600 * 1000
    for topic in topics:
        for i in range(count):
            producer.produce(topic, value=(b"%06d" % i) + b"x" * max(0, size - 6), partition=0, timestamp=stamp + i,
                             on_delivery=lambda err, msg: errors.append(str(err)) if err else None)
            producer.poll(0)
    left = producer.flush(args.timeout)
    if left or errors:
        raise ScenarioError("produce: %d undelivered, errors %s" % (left, errors[:3]))


def wait_low_watermark(args, topic, above=0):
    deadline = sc.Deadline(args.timeout)
    start = time.monotonic()
    low, high = watermarks(args, topic)
    while low <= above and not deadline.expired():
        time.sleep(0.5)
        low, high = watermarks(args, topic)
    return low, high, round(time.monotonic() - start, 1)


# ---------------------------------------------------------------- scenarios

def scenario_describe_alter(args, checks):
    admin = admin_client(args)
    create_topic(args, admin, args.topic, 1)
    configs = describe(admin, ConfigResource.Type.TOPIC, args.topic)
    checks.check("topic lists every topic config", len(configs) >= 15, sorted(configs))
    checks.check("retention.ms inherited", source_name(configs["retention.ms"]) != "DYNAMIC_TOPIC_CONFIG",
                 entry_view(configs["retention.ms"]))

    checks.check("alter topic accepted", alter(admin, ConfigResource.Type.TOPIC, args.topic,
                                               {"retention.ms": "123456", "cleanup.policy": "compact"}) is None)
    configs = describe(admin, ConfigResource.Type.TOPIC, args.topic)
    checks.check("retention.ms now the topic's own",
                 configs["retention.ms"].value == "123456" and source_name(configs["retention.ms"]) == "DYNAMIC_TOPIC_CONFIG",
                 entry_view(configs["retention.ms"]))
    checks.check("cleanup.policy now compact", configs["cleanup.policy"].value == "compact", entry_view(configs["cleanup.policy"]))

    bad = alter(admin, ConfigResource.Type.TOPIC, args.topic, {"retention.ms": "soon"})
    checks.check("bad value is INVALID_CONFIG naming the key", bad is not None and bad[0] == INVALID_CONFIG and "retention.ms" in bad[1], bad)
    checks.check("validate_only accepted", alter(admin, ConfigResource.Type.TOPIC, args.topic, {"retention.ms": "1"}, validate_only=True) is None)
    configs = describe(admin, ConfigResource.Type.TOPIC, args.topic)
    checks.check("validate_only changed nothing", configs["retention.ms"].value == "123456", entry_view(configs["retention.ms"]))

    broker = describe(admin, ConfigResource.Type.BROKER, str(args.broker_id))
    checks.check("listeners is read-only", broker["listeners"].is_read_only, entry_view(broker["listeners"]))
    checks.check("log.retention.ms is dynamic", not broker["log.retention.ms"].is_read_only, entry_view(broker["log.retention.ms"]))
    refused = alter(admin, ConfigResource.Type.BROKER, str(args.broker_id), {"listeners": "PLAINTEXT://127.0.0.1:1"})
    checks.check("read-only key refused with INVALID_REQUEST",
                 refused is not None and refused[0] == INVALID_REQUEST and "Cannot update these configs dynamically: listeners" in refused[1],
                 refused)


def scenario_retention(args, checks):
    admin = admin_client(args)
    create_topic(args, admin, args.topic, 1, {"segment.bytes": str(args.segment_bytes)})
    produce_old(args, [args.topic], args.count, args.size)
    low, high = watermarks(args, args.topic)
    checks.check("all messages stored, nothing deleted yet", low == 0 and high == args.count, {"low": low, "high": high})

    checks.check("alter retention.ms on the live topic", alter(admin, ConfigResource.Type.TOPIC, args.topic,
                                                                {"segment.bytes": str(args.segment_bytes), "retention.ms": "1000"}) is None)
    low, high, seconds = wait_low_watermark(args, args.topic)
    checks.check("old segments deleted (low watermark moved)", 0 < low <= high == args.count,
                 {"low": low, "high": high, "seconds": seconds})
    checks.observed["low_after"] = low
    checks.observed["seconds_to_effect"] = seconds


def kafka_python_admin(args):
    from kafka import KafkaAdminClient
    return KafkaAdminClient(bootstrap_servers=args.bootstrap.split(","), client_id="configs-scenario",
                            request_timeout_ms=30000, api_version_auto_timeout_ms=10000)


def kp_alter(admin, restype, name, configs):
    """(error code, message) of a kafka-python alter_configs of one resource."""
    from kafka.admin import ConfigResource as KpResource
    response = admin.alter_configs([KpResource(restype, name, configs=configs)])
    code, message, _type, _name = response.resources[0]
    return code, message


def kp_describe(admin, restype, name, synonyms=False):
    """{name: (value, read_only, source or None)} of one resource; raises on a resource error."""
    from kafka.admin import ConfigResource as KpResource
    responses = admin.describe_configs([KpResource(restype, name)], include_synonyms=synonyms)
    result = {}
    for response in responses:
        for code, message, _type, _name, entries in response.resources:
            if code != 0:
                raise ScenarioError("describe_configs(%s %r): error %d %s" % (restype, name, code, message))
            for e in entries:
                # v0: (name, value, read_only, is_default, is_sensitive); v1+: (name, value, read_only, source, sensitive, synonyms)
                result[e[0]] = (e[1], bool(e[2]), e[3] if response.API_VERSION >= 1 else None)
    return result


def scenario_cluster_default(args, checks):
    from kafka.admin import ConfigResourceType
    admin = admin_client(args)
    plain, kept = args.topic + "-plain", args.topic + "-kept"
    create_topic(args, admin, plain, 1, {"segment.bytes": str(args.segment_bytes)})
    create_topic(args, admin, kept, 1, {"segment.bytes": str(args.segment_bytes), "retention.ms": "-1"})
    produce_old(args, [plain, kept], args.count, args.size)

    kp = kafka_python_admin(args)
    try:
        result = kp_alter(kp, ConfigResourceType.BROKER, "", {"log.retention.ms": "1000"})
    finally:
        kp.close()
    checks.check("cluster default set through kafka-python", result[0] == 0, result)
    configs = describe(admin, ConfigResource.Type.TOPIC, plain)
    checks.check("topic without override inherits the cluster default",
                 configs["retention.ms"].value == "1000" and source_name(configs["retention.ms"]) == "DYNAMIC_DEFAULT_BROKER_CONFIG",
                 entry_view(configs["retention.ms"]))
    low, high, seconds = wait_low_watermark(args, plain)
    checks.check("topic without override lost its old segments", low > 0, {"low": low, "high": high, "seconds": seconds})
    kept_low, kept_high = watermarks(args, kept)
    checks.check("topic with retention.ms=-1 kept everything", kept_low == 0 and kept_high == args.count, {"low": kept_low, "high": kept_high})


def scenario_kafkapython(args, checks):
    from kafka.admin import ConfigResourceType
    admin = admin_client(args)
    create_topic(args, admin, args.topic, 1)
    kp = kafka_python_admin(args)
    try:
        topic = kp_describe(kp, ConfigResourceType.TOPIC, args.topic, synonyms=True)
        checks.check("topic described", "retention.ms" in topic and "cleanup.policy" in topic, sorted(topic))
        checks.check("alter topic", kp_alter(kp, ConfigResourceType.TOPIC, args.topic, {"retention.ms": "7777"})[0] == 0)
        topic = kp_describe(kp, ConfigResourceType.TOPIC, args.topic)
        checks.check("alter visible with source DYNAMIC_TOPIC_CONFIG (1)",
                     topic["retention.ms"][0] == "7777" and topic["retention.ms"][2] in (None, 1), topic["retention.ms"])
        broker = kp_describe(kp, ConfigResourceType.BROKER, str(args.broker_id), synonyms=True)
        checks.check("broker described: listeners read-only, num.partitions dynamic",
                     broker["listeners"][1] and not broker["num.partitions"][1], {"listeners": broker["listeners"], "num.partitions": broker["num.partitions"]})
        refused = kp_alter(kp, ConfigResourceType.BROKER, str(args.broker_id), {"node.id": "9"})
        checks.check("read-only key refused", refused[0] == INVALID_REQUEST and "node.id" in (refused[1] or ""), refused)
        unknown = kp_alter(kp, ConfigResourceType.TOPIC, args.topic, {"not.a.config": "1"})
        checks.check("unknown key is INVALID_CONFIG", unknown[0] == INVALID_CONFIG and "not.a.config" in (unknown[1] or ""), unknown)
    finally:
        kp.close()


def scenario_produce_size(args, checks):
    producer = ck.Producer(dict(base_conf(args), **{"acks": "all", "message.timeout.ms": int(args.timeout * 1000),
                                                    "retries": 0}))
    outcome = {}

    def on_delivery(err, msg):
        outcome[msg.partition()] = None if err is None else err.name()

    for p in range(args.partitions):
        producer.produce(args.topic, value=b"s" * args.size, partition=p, on_delivery=on_delivery)
    producer.flush(args.timeout)
    checks.observed["errors"] = {str(p): outcome.get(p, "NO_REPORT") for p in range(args.partitions)}
    checks.check("every partition reported", len(outcome) == args.partitions, checks.observed["errors"])


SCENARIOS = {
    "describe-alter": scenario_describe_alter,
    "retention": scenario_retention,
    "cluster-default": scenario_cluster_default,
    "kafkapython": scenario_kafkapython,
    "produce-size": scenario_produce_size,
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--broker-id", type=int, default=1, help="broker whose configs are described/altered")
    ap.add_argument("--partitions", type=int, default=1)
    ap.add_argument("--replication-factor", type=int, default=1)
    ap.add_argument("--count", type=int, default=200, help="messages to produce")
    ap.add_argument("--size", type=int, default=200, help="message size in bytes")
    ap.add_argument("--segment-bytes", type=int, default=2048)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds allowed per phase")
    ap.add_argument("--debug", default="")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    checks = Checks()
    summary = {"scenario": args.scenario}
    try:
        SCENARIOS[args.scenario](args, checks)
        summary["ok"] = checks.ok()
    except Exception as ex:  # noqa: BLE001 - every failure becomes a summary line
        summary["ok"] = False
        summary["error"] = str(ex)
        sc.log("error: %s" % ex)
    summary["checks"] = checks.results
    summary["observed"] = checks.observed
    sc.emit_summary(summary)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
