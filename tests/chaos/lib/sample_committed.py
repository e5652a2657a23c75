"""sample_committed.py — samples a consumer group's committed offsets while a run goes on (an independent
client: confluent-kafka, not rtml's code), so that a commit that moves backwards is seen even when a later
commit moves it forward again.

    python sample_committed.py BOOTSTRAP GROUP TOPIC OUT.jsonl [--every 0.1]
Appends one JSON line per sample, {"t": unix seconds, "offsets": {"0": 123, ...}} (partitions without a
committed offset are left out), until SIGTERM/SIGINT. A sample that fails (the broker down, the coordinator
moving) is skipped: the check needs the samples that exist, in order. check_monotonic(path) returns the
violations: [(partition, t, before, after)]."""
import json
import signal
import sys
import time


def check_monotonic(path):
    last, bad = {}, []
    for line in open(path):
        s = json.loads(line)
        for p, off in s["offsets"].items():
            if p in last and off < last[p]:
                bad.append((p, s["t"], last[p], off))
            last[p] = max(off, last.get(p, off))
    return bad


def count(path):
    return sum(1 for _ in open(path))


def main():
    from confluent_kafka import Consumer, TopicPartition
    boot, group, topic, out = sys.argv[1:5]
    every = float(sys.argv[sys.argv.index("--every") + 1]) if "--every" in sys.argv else 0.1
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False,
                  "socket.timeout.ms": 3000, "log_level": 0})
    parts = None
    with open(out, "a", buffering=1) as f:
        while not stop:
            try:
                if parts is None:
                    md = c.list_topics(topic, timeout=3)
                    if topic in md.topics and not md.topics[topic].error:
                        parts = sorted(md.topics[topic].partitions)
                if parts:
                    tps = c.committed([TopicPartition(topic, p) for p in parts], timeout=3)
                    offs = {str(tp.partition): tp.offset for tp in tps if tp.offset >= 0 and not tp.error}
                    f.write(json.dumps({"t": time.time(), "offsets": offs}) + "\n")
            except Exception:  # a broker restart, a coordinator moving: skip this sample
                pass
            time.sleep(every)
    c.close()


if __name__ == "__main__":
    main()
