"""read_topic.py — an independent consumer for the integration tests (confluent-kafka, not rtml's code).

Reads every partition of a topic from the beginning up to its end offsets at the time of the call, and
prints one JSON object per record: {"partition", "offset", "key", "value"} (key and value as text).

    python read_topic.py BOOTSTRAP TOPIC [--isolation read_committed] [--timeout 60] [--headers]
Exits 1 if the end offsets are not reached within the timeout.
"""
import argparse
import json
import sys
import time

from confluent_kafka import Consumer, TopicPartition


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bootstrap")
    ap.add_argument("topic")
    ap.add_argument("--isolation", default="read_uncommitted")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--headers", action="store_true", help="include each record's headers (as text)")
    a = ap.parse_args()
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": "rtml-test-reader", "enable.auto.commit": False,
                  "isolation.level": a.isolation})
    md = c.list_topics(a.topic, timeout=10)
    if a.topic not in md.topics or md.topics[a.topic].error:
        print(f"read_topic: no topic {a.topic}", file=sys.stderr)
        return 1
    parts = sorted(md.topics[a.topic].partitions)
    ends = {p: c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=10)[1] for p in parts}
    c.assign([TopicPartition(a.topic, p, 0) for p in parts])
    pos = {p: 0 for p in parts}
    deadline = time.time() + a.timeout
    out = sys.stdout
    while any(pos[p] < ends[p] for p in parts):
        if time.time() > deadline:
            print(f"read_topic: timed out at {pos} of {ends}", file=sys.stderr)
            return 1
        for m in c.consume(1000, timeout=0.5):
            if m.error():
                continue
            pos[m.partition()] = m.offset() + 1
            key = m.key().decode() if m.key() is not None else None
            rec = {"partition": m.partition(), "offset": m.offset(), "key": key,
                   "value": m.value().decode(errors="replace")}
            if a.headers and m.headers():
                rec["headers"] = {k: v.decode(errors="replace") for k, v in m.headers()}
            out.write(json.dumps(rec) + "\n")
        # A transactional topic ends with control records (commit/abort markers) that are never delivered, and
        # read_committed skips aborted data: the consumer's position, not the last offset seen, says where it is.
        for tp in c.position([TopicPartition(a.topic, p) for p in parts]):
            if tp.offset >= 0:
                pos[tp.partition] = max(pos[tp.partition], tp.offset)
    c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
