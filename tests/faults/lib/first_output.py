"""first_output.py — when does the next record appear on a topic? (an independent consumer: confluent-kafka)

    python first_output.py BOOTSTRAP TOPIC READY_FILE [--timeout 120]
Positions a read_committed consumer at the end of every partition of TOPIC, then creates READY_FILE (so the
caller knows that anything produced from now on is "next"), waits for the first record, and prints the wall
clock (unix seconds) at which it was read. Exits 1 if none arrives within the timeout."""
import sys
import time

from confluent_kafka import Consumer, TopicPartition


def main():
    boot, topic, ready = sys.argv[1:4]
    timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else 120
    c = Consumer({"bootstrap.servers": boot, "group.id": "rtml-test-first-output", "enable.auto.commit": False,
                  "isolation.level": "read_committed"})
    parts = sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)
    ends = [c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts]
    c.assign([TopicPartition(topic, p, e) for p, e in zip(parts, ends)])
    open(ready, "w").close()
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in c.consume(100, timeout=0.1):
            if not m.error():
                print(f"{time.time():.3f}")
                c.close()
                return 0
    print(f"first_output: nothing on {topic} within {timeout} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
