#!/usr/bin/python3
"""Consumer-group member for the group tests, with either Python client: confluent-kafka (librdkafka) or
kafka-python. Subscribes to one topic in a group, processes messages (values "id-<n>|..."), commits processed
offsets synchronously every --commit-interval-ms and when partitions are revoked, and writes everything it does to
--events as one line per event, written and flushed at once (so the file is complete even after kill -9):

  START <ms> <client> <name>          process up, before the consumer is created
  SUBSCRIBE <ms>                      subscribe() called (the join starts)
  ASSIGN <ms> <p,p,...|->             a new assignment (the whole set, eager protocol)
  REVOKE <ms> <p,p,...|->             partitions revoked
  M <ms> <partition> <offset> <id>    one processed message (id -1 when the value has no "id-<n>" head)
  COMMIT <ms> <p>:<next>,...          a commit the coordinator acknowledged (next offset to read)
  COMMITFAIL <ms> <error>             a commit that failed
  COORD <ms> <node-id>                the group coordinator changed (kafka-python only: librdkafka does not expose it)
  ERROR <ms> <text>                   a consumer error (logged, not fatal)
  STOP <ms>                           closed (after the final commit and LeaveGroup)

Times are wall clock ms since the epoch. It runs until SIGTERM/SIGINT, --duration, --max-messages processed
messages (then commits exactly those and closes), or --idle-exit seconds without a message once it had an
assignment. Output: one JSON summary line on stdout; logs on stderr. Exit 0 on a clean close, 1 on a client error,
2 on a usage error.

  /usr/bin/python3 group_consumer.py --client confluent --bootstrap 127.0.0.1:9092 --group g --topic t \
      --events g1.events [--name c1] [--commit-interval-ms 500] [--session-timeout-ms 6000] [--heartbeat-ms 1000]
"""

import argparse
import os
import signal
import sys
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_common as sc  # noqa: E402

_stop = False
_in_blocking_poll = False


class Stopping(Exception):
    """Raised by the signal handler to leave a client call that would otherwise wait without a deadline
    (kafka-python 2.0's poll() and commit() wait for a coordinator forever)."""


def on_signal(signum, frame):
    global _stop
    if _stop:
        os._exit(3)  # second signal: give up on a clean close
    _stop = True
    if _in_blocking_poll:
        raise Stopping()


def now_ms():
    return int(time.time() * 1000)


def parse_id(value):
    head = (value or b"").split(b"|")[0]
    return int(head[3:]) if head.startswith(b"id-") and head[3:].isdigit() else -1


def plist(parts):
    return ",".join(str(p) for p in sorted(parts)) or "-"


class Events:
    """The event file: every line is written and flushed before the next step."""

    def __init__(self, path):
        self._f = open(path, "a")

    def write(self, *fields):
        self._f.write(" ".join(str(f) for f in fields) + "\n")
        self._f.flush()

    def close(self):
        self._f.close()


class Member:
    """Client-independent bookkeeping: processed and committed offsets, assignment, counters."""

    def __init__(self, args, events):
        self.args = args
        self.events = events
        self.assigned = set()
        self.processed = {}   # partition -> next offset after the last processed message
        self.committed = {}   # partition -> last acknowledged committed offset
        self.stats = {"consumed": 0, "commits": 0, "commit_failures": 0, "rebalances": 0, "errors": 0}
        self.last_commit = time.monotonic()
        self.last_message = time.monotonic()

    def on_message(self, partition, offset, value):
        self.events.write("M", now_ms(), partition, offset, parse_id(value))
        self.processed[partition] = offset + 1
        self.stats["consumed"] += 1
        self.last_message = time.monotonic()

    def pending(self, only=None):
        return {p: o for p, o in self.processed.items()
                if (only is None or p in only) and o > self.committed.get(p, -1)}

    def committed_ok(self, offsets):
        for p, o in offsets.items():
            self.committed[p] = o
        self.stats["commits"] += 1
        self.events.write("COMMIT", now_ms(), ",".join("%d:%d" % (p, o) for p, o in sorted(offsets.items())))

    def commit_failed(self, error):
        self.stats["commit_failures"] += 1
        self.events.write("COMMITFAIL", now_ms(), str(error).replace("\n", " "))
        sc.log("%s: commit failed: %s" % (self.args.name, error))

    def set_assignment(self, parts):
        self.assigned = set(parts)
        self.stats["rebalances"] += 1
        self.events.write("ASSIGN", now_ms(), plist(self.assigned))
        sc.log("%s: assigned %s" % (self.args.name, plist(self.assigned)))

    def revoke(self, parts):
        self.events.write("REVOKE", now_ms(), plist(parts))
        self.assigned -= set(parts)
        for p in parts:
            self.processed.pop(p, None)

    def error(self, text):
        self.stats["errors"] += 1
        self.events.write("ERROR", now_ms(), str(text).replace("\n", " "))
        sc.log("%s: consumer error: %s" % (self.args.name, text))


def run_confluent(args, member):
    import confluent_kafka as ck
    conf = {"bootstrap.servers": args.bootstrap, "broker.address.family": "v4", "group.id": args.group,
            "client.id": args.name, "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "session.timeout.ms": args.session_timeout_ms, "heartbeat.interval.ms": args.heartbeat_ms,
            "partition.assignment.strategy": args.assignor or "range,roundrobin",
            "fetch.wait.max.ms": 100, "socket.timeout.ms": 5000, "topic.metadata.refresh.interval.ms": 2000,
            "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500,
            "error_cb": lambda err: member.error("error_cb: %s" % err)}
    if args.debug:
        conf["debug"] = args.debug
    consumer = ck.Consumer(conf)

    def commit(only=None):
        offsets = member.pending(only)
        if not offsets:
            return
        try:
            result = consumer.commit(offsets=[ck.TopicPartition(args.topic, p, o) for p, o in offsets.items()],
                                     asynchronous=False)
            bad = [tp for tp in (result or []) if tp.error is not None]
            if bad:
                member.commit_failed("; ".join("p%d: %s" % (tp.partition, tp.error) for tp in bad))
                good = {tp.partition: tp.offset for tp in result if tp.error is None}
                if good:
                    member.committed_ok(good)
            else:
                member.committed_ok(offsets)
        except ck.KafkaException as ex:
            member.commit_failed(ex)
        member.last_commit = time.monotonic()

    def on_assign(c, parts):
        member.set_assignment(tp.partition for tp in parts if tp.topic == args.topic)

    def on_revoke(c, parts):
        revoked = set(tp.partition for tp in parts if tp.topic == args.topic)
        commit(revoked)
        member.revoke(revoked)

    member.events.write("SUBSCRIBE", now_ms())
    consumer.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke)
    try:
        loop(args, member, lambda: poll_confluent(consumer, member), commit)
        commit()
    finally:
        consumer.close()


def poll_confluent(consumer, member):
    import confluent_kafka as ck
    budget = member.args.max_messages - member.stats["consumed"] if member.args.max_messages > 0 else 500
    for msg in consumer.consume(num_messages=max(1, min(500, budget)), timeout=0.2):
        if msg.error():
            if msg.error().code() != ck.KafkaError._PARTITION_EOF:
                member.error(msg.error())
            continue
        member.on_message(msg.partition(), msg.offset(), msg.value())


def run_kafka_python(args, member):
    from kafka import KafkaConsumer, TopicPartition
    from kafka.consumer.subscription_state import ConsumerRebalanceListener
    from kafka.errors import KafkaError
    from kafka.structs import OffsetAndMetadata

    kwargs = {"bootstrap_servers": args.bootstrap.split(","), "group_id": args.group, "client_id": args.name,
              "enable_auto_commit": False, "auto_offset_reset": "earliest",
              "session_timeout_ms": args.session_timeout_ms, "heartbeat_interval_ms": args.heartbeat_ms,
              "request_timeout_ms": max(30000, args.session_timeout_ms + 5000), "fetch_max_wait_ms": 100,
              "max_poll_records": 500, "api_version_auto_timeout_ms": 10000, "metadata_max_age_ms": 2000,
              "reconnect_backoff_ms": 50, "reconnect_backoff_max_ms": 500, "retry_backoff_ms": 100}
    consumer = KafkaConsumer(**kwargs)

    def commit(only=None):
        offsets = member.pending(only)
        if not offsets:
            return
        try:
            consumer.commit({TopicPartition(args.topic, p): OffsetAndMetadata(o, None) for p, o in offsets.items()})
            member.committed_ok(offsets)
        except KafkaError as ex:
            member.commit_failed("%s: %s" % (type(ex).__name__, ex))
        member.last_commit = time.monotonic()

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            parts = set(tp.partition for tp in revoked if tp.topic == args.topic)
            commit(parts)
            member.revoke(parts)

        def on_partitions_assigned(self, assigned):
            member.set_assignment(tp.partition for tp in assigned if tp.topic == args.topic)

    member.events.write("SUBSCRIBE", now_ms())
    consumer.subscribe([args.topic], listener=Listener())
    coordinator = [None]

    def poll():
        global _in_blocking_poll
        budget = args.max_messages - member.stats["consumed"] if args.max_messages > 0 else 500
        _in_blocking_poll = True
        try:
            records = consumer.poll(timeout_ms=200, max_records=max(1, min(500, budget)))
        except Stopping:
            return
        except IndexError:
            # kafka-python 2.0.2 fails on a fetch response whose only batch holds no records
            # (dpkp/kafka-python#2132, fixed after 2.0.2): tolerated only when asked to.
            if not args.tolerate_empty_batch or "_parse_fetched_data" not in traceback.format_exc():
                raise
            member.stats["empty_batch_errors"] = member.stats.get("empty_batch_errors", 0) + 1
            member.events.write("ERROR", now_ms(), "kafka-python IndexError on a fetch response holding only an empty batch")
            time.sleep(0.05)
            return
        finally:
            _in_blocking_poll = False
        for tp, batch in records.items():
            for rec in batch:
                member.on_message(tp.partition, rec.offset, rec.value)
        # The coordinator this client talks to: a private attribute of kafka-python's ConsumerCoordinator, which
        # names the coordinator connection "coordinator-<node id>".
        coord = getattr(getattr(consumer, "_coordinator", None), "coordinator_id", None)
        if coord is not None and coord != coordinator[0]:
            coordinator[0] = coord
            text = str(coord)
            node = text[len("coordinator-"):] if text.startswith("coordinator-") else text
            member.events.write("COORD", now_ms(), node if node.lstrip("-").isdigit() else -1)

    try:
        loop(args, member, poll, commit)
        commit()
    finally:
        consumer.close(autocommit=False)


def loop(args, member, poll, commit):
    started = time.monotonic()
    had_assignment = False
    while not _stop and time.monotonic() - started < args.duration:
        poll()
        had_assignment = had_assignment or bool(member.assigned)
        if args.max_messages > 0 and member.stats["consumed"] >= args.max_messages:
            sc.log("%s: processed %d messages, stopping" % (args.name, member.stats["consumed"]))
            break
        if (time.monotonic() - member.last_commit) * 1000 >= args.commit_interval_ms:
            commit()
        if args.idle_exit > 0 and had_assignment and time.monotonic() - member.last_message > args.idle_exit:
            sc.log("%s: idle for %.1f s, stopping" % (args.name, args.idle_exit))
            break


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", required=True, choices=["confluent", "kafka-python"])
    ap.add_argument("--bootstrap", required=True, help="comma list of host:port")
    ap.add_argument("--group", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--events", required=True, help="event file (appended to)")
    ap.add_argument("--name", default="member-%d" % os.getpid(), help="client.id and the name in the events")
    ap.add_argument("--commit-interval-ms", type=int, default=500)
    ap.add_argument("--session-timeout-ms", type=int, default=6000)
    ap.add_argument("--heartbeat-ms", type=int, default=1000)
    ap.add_argument("--assignor", default="", help="confluent: partition.assignment.strategy (default range,roundrobin)")
    ap.add_argument("--max-messages", type=int, default=0, help="stop after processing this many (0 = no limit)")
    ap.add_argument("--idle-exit", type=float, default=0.0, help="stop after this many seconds without a message")
    ap.add_argument("--duration", type=float, default=120.0, help="hard limit on the run, seconds")
    ap.add_argument("--debug", default="", help="confluent: librdkafka debug contexts")
    ap.add_argument("--tolerate-empty-batch", action="store_true",
                    help="kafka-python: log and retry instead of failing when poll() hits the IndexError kafka-python "
                         "2.0.2 raises for a fetch response holding only an empty batch (dpkp/kafka-python#2132)")
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.commit_interval_ms < 0:
        ap.error("--duration must be positive and --commit-interval-ms not negative")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    events = Events(args.events)
    events.write("START", now_ms(), args.client, args.name)
    member = Member(args, events)
    summary = {"client": args.client, "name": args.name, "group": args.group, "topic": args.topic}
    try:
        if args.client == "confluent":
            run_confluent(args, member)
        else:
            run_kafka_python(args, member)
        ok = True
    except Exception as ex:  # a client failure: reported in the summary, exit 1
        sc.log("%s: %s: %s\n%s" % (args.name, type(ex).__name__, ex, traceback.format_exc()))
        summary["errors"] = ["%s: %s" % (type(ex).__name__, ex)]
        ok = False
    events.write("STOP", now_ms())
    events.close()
    summary.update(member.stats)
    summary["committed"] = {str(p): o for p, o in sorted(member.committed.items())}
    summary["stopped_by_signal"] = _stop
    summary["ok"] = ok
    sc.emit_summary(summary)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
