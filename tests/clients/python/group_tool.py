#!/usr/bin/python3
"""Looks at a consumer group from the outside, for the group tests. Two modes, each retried (coordinator not
available / loading / not coordinator while a coordinator moves) until --timeout:

  describe   kafka-python's KafkaAdminClient: FindCoordinator (the coordinator's node id) and DescribeGroups
             (state, protocol, members with client id and decoded assignment).
      /usr/bin/python3 group_tool.py describe --bootstrap H:P --group g
  committed  confluent-kafka: the committed offsets of --topic's partitions (OffsetFetch; -1001 = none).
      /usr/bin/python3 group_tool.py committed --bootstrap H:P --group g --topic t [--expect-committed]

Output: one JSON summary line on stdout; logs on stderr. Exit 0 on an answer (with --expect-committed: only
when every partition has a committed offset), 1 otherwise, 2 on a usage error.
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_common as sc  # noqa: E402


def describe(args, deadline):
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError
    last = None
    admin = None
    try:
        while not deadline.expired():
            try:
                if admin is None:
                    admin = KafkaAdminClient(bootstrap_servers=args.bootstrap.split(","), client_id="group-tool",
                                             request_timeout_ms=10000, api_version_auto_timeout_ms=10000)
                coordinator = admin._find_coordinator_ids([args.group])[args.group]
                info = admin.describe_consumer_groups([args.group], group_coordinator_id=coordinator)[0]
                members = []
                for m in info.members:
                    assignment = {}
                    if m.member_assignment is not None and not isinstance(m.member_assignment, (bytes, bytearray)):
                        for topic, parts in m.member_assignment.assignment:
                            assignment[topic] = sorted(parts)
                    members.append({"member_id": m.member_id, "client_id": m.client_id, "client_host": m.client_host,
                                    "assignment": assignment})
                return {"mode": "describe", "group": args.group, "coordinator": coordinator, "state": info.state,
                        "protocol_type": info.protocol_type, "protocol": info.protocol, "members": members, "ok": True}
            except KafkaError as ex:
                last = "%s: %s" % (type(ex).__name__, ex)
                sc.log("describe: %s (retrying)" % last)
                time.sleep(0.3)
    finally:
        if admin is not None:
            admin.close()
    return {"mode": "describe", "group": args.group, "ok": False, "errors": ["no answer before the deadline: %s" % last]}


def committed(args, deadline):
    import confluent_kafka as ck
    consumer = ck.Consumer({"bootstrap.servers": args.bootstrap, "broker.address.family": "v4", "group.id": args.group,
                            "enable.auto.commit": False, "socket.timeout.ms": 5000})
    last = None
    try:
        while not deadline.expired():
            try:
                md = consumer.list_topics(args.topic, timeout=min(5.0, max(0.5, deadline.remaining())))
                tm = md.topics.get(args.topic)
                if tm is None or tm.error is not None or not tm.partitions:
                    last = "topic not in metadata: %s" % (None if tm is None else tm.error)
                    time.sleep(0.2)
                    continue
                tps = [ck.TopicPartition(args.topic, p) for p in sorted(tm.partitions)]
                result = consumer.committed(tps, timeout=min(10.0, max(0.5, deadline.remaining())))
                errors = [str(tp.error) for tp in result if tp.error is not None]
                if errors:
                    last = "; ".join(errors)
                    time.sleep(0.3)
                    continue
                offsets = {str(tp.partition): tp.offset for tp in result}
                missing = [p for p, o in offsets.items() if o < 0]
                ok = not (args.expect_committed and missing)
                out = {"mode": "committed", "group": args.group, "topic": args.topic, "offsets": offsets, "ok": ok}
                if not ok:
                    out["errors"] = ["no committed offset for partitions %s" % ",".join(missing)]
                return out
            except ck.KafkaException as ex:
                last = "KafkaException: %s" % ex
                sc.log("committed: %s (retrying)" % last)
                time.sleep(0.3)
    finally:
        consumer.close()
    return {"mode": "committed", "group": args.group, "ok": False, "errors": ["no answer before the deadline: %s" % last]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["describe", "committed"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--topic", help="committed: the topic")
    ap.add_argument("--expect-committed", action="store_true", help="committed: fail when a partition has none")
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args(argv)
    if args.mode == "committed" and not args.topic:
        ap.error("committed needs --topic")
    deadline = sc.Deadline(args.timeout)
    result = describe(args, deadline) if args.mode == "describe" else committed(args, deadline)
    sc.emit_summary(result)
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
