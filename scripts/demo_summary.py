"""demo_summary.py — the closing summary of `make demo`.

Reads every prediction back from the output topic (an independent consumer, not rtml), joins it by key to
the generated records' labels, and prints: records, records/s (from rtml's report), and the prequential
accuracy before and after the drift, with a small chart of accuracy over the stream.

    python demo_summary.py BOOTSTRAP TOPIC INPUT.jsonl REPORT.json DRIFT_AT
"""
import json
import sys

from confluent_kafka import Consumer, TopicPartition


def read_predictions(boot, topic):
    c = Consumer({"bootstrap.servers": boot, "group.id": "rtml-demo-summary", "enable.auto.commit": False})
    parts = sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)
    ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    pos, preds, messages = {p: 0 for p in parts}, {}, 0
    while any(pos[p] < ends[p] for p in parts):
        for m in c.consume(5000, timeout=2):
            if m.error():
                continue
            pos[m.partition()] = m.offset() + 1
            preds[int(m.key())] = json.loads(m.value())["prediction"]
            messages += 1
    c.close()
    return preds, messages


def main():
    boot, topic, input_path, report_path, drift_at = sys.argv[1:6]
    input_rate = int(sys.argv[6]) if len(sys.argv) > 6 else 0  # records/s the producer was held to (0: as fast as it could)
    drift_at = int(drift_at)
    labels = {}
    for line in open(input_path):
        r = json.loads(line)
        labels[r["id"]] = r["label"]
    report = json.loads(open(report_path).read().strip().splitlines()[-1])
    preds, messages = read_predictions(boot, topic)

    def accuracy(lo, hi):
        hits = [preds[i] == labels[i] for i in range(lo, min(hi, len(labels))) if i in preds]
        return sum(hits) / max(1, len(hits))

    print(f"records in:            {len(labels)}")
    print(f"predictions out:       {messages} for {len(preds)} distinct records "
          f"(exactly one per record: {messages == len(preds) == len(labels)})")
    print(f"learned:               {report['learned']}   rejected: {report['errors']}")
    if input_rate:
        print(f"rtml kept up:          {report['records_per_second']:,.0f} records/s with the input arriving at "
              f"{input_rate:,}/s ({report['records']} records in {report['seconds']:.2f} s; `make bench` measures the ceiling)")
    else:
        print(f"rtml throughput:       {report['records_per_second']:,.0f} records/s "
              f"({report['records']} records in {report['seconds']:.2f} s, one process, 2 cores shared with Kafka)")
    print(f"prequential accuracy:  {report['metrics']['accuracy']:.4f} overall "
          "(the best possible on this stream is 0.90: 10% of labels are flipped)")
    print(f"  before the drift:    {accuracy(0, drift_at):.4f}  (records 0..{drift_at - 1})")
    print(f"  just after it:       {accuracy(drift_at, drift_at + 500):.4f}  (the first 500 records of the new concept)")
    print(f"  after the drift:     {accuracy(drift_at, len(labels)):.4f}  (records {drift_at}..{len(labels) - 1})")
    step = max(1, len(labels) // 20)
    print(f"accuracy per {step} records (by record id; | marks the drift):")
    for start in range(0, len(labels), step):
        acc = accuracy(start, start + step)
        bar = "#" * int(round((acc - 0.5) * 80)) if acc > 0.5 else ""
        mark = "|" if start <= drift_at < start + step else " "
        print(f"  {start:>7} {mark} {acc:.3f} {bar}")


if __name__ == "__main__":
    main()
