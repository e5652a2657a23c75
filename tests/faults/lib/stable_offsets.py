"""stable_offsets.py — whether a topic has a transaction open, from the broker's offsets.

    python stable_offsets.py BROKERS TOPIC open|closed SECONDS

A partition's last stable offset (LSO) stays below its high watermark while a transaction that wrote to it is
open; the broker moves it up when the transaction commits or is aborted (by its producer, or by the coordinator
when it timed out). A ListOffsets request answers with the LSO under read_committed and with the high watermark
under read_uncommitted, so two clients ask for each partition, the high watermark first: while the writer is
frozen it can only grow by the commit or abort marker, which moves the LSO past the value read.
  open:   exit 0 as soon as some partition has LSO < high watermark (a transaction holds outputs);
  closed: exit 0 as soon as every partition has LSO >= high watermark (none is open any more).
Exit 1 when SECONDS pass first."""
import sys
import time

from confluent_kafka import Consumer, TopicPartition


def main():
    brokers, topic, want, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    conf = {"bootstrap.servers": brokers, "group.id": "stable-offsets", "log_level": 0}
    committed = Consumer({**conf, "isolation.level": "read_committed"})
    uncommitted = Consumer({**conf, "isolation.level": "read_uncommitted"})
    try:
        n = len(committed.list_topics(topic, timeout=10).topics[topic].partitions)
        deadline = time.time() + seconds
        seen = []
        while time.time() < deadline:
            seen = []
            for p in range(n):
                hw = uncommitted.get_watermark_offsets(TopicPartition(topic, p), timeout=5, cached=False)[1]
                lso = committed.get_watermark_offsets(TopicPartition(topic, p), timeout=5, cached=False)[1]
                seen.append((p, lso, hw))
            is_open = any(lso < hw for _, lso, hw in seen)
            if (want == "open") == is_open:
                print(f"{want}: " + ", ".join(f"{p}: LSO {lso} / high {hw}" for p, lso, hw in seen))
                return 0
            time.sleep(0.05)  # the next look at the broker's offsets
        print(f"not {want} after {seconds:.0f} s: {seen}")
        return 1
    finally:
        committed.close()
        uncommitted.close()


if __name__ == "__main__":
    sys.exit(main())
