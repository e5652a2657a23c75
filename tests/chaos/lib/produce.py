"""produce.py — the campaign's live producer (confluent-kafka, idempotent: not rtml's code).

    python produce.py BOOTSTRAP RECORDS.jsonl TOPIC --rate R [--labels TOPIC --label-delay D]
RECORDS.jsonl holds one object per line: {"key": text, "value": text, "label": 0|1|null}. Each value goes to
TOPIC keyed by key, R per second. With --labels, each record whose "label" is not null also gets a label record
{"id": key, "y": label} on the label topic, D records after its own (so labels arrive later, as in
production). Exits 0 once the broker acknowledged every record; 1 (saying why) otherwise. Librdkafka's
retries carry it over broker restarts and leader changes (message.timeout.ms 10 min)."""
import argparse
import json
import sys
import time

from confluent_kafka import Producer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bootstrap")
    ap.add_argument("records")
    ap.add_argument("topic")
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--labels")
    ap.add_argument("--label-delay", type=int, default=50)
    a = ap.parse_args()
    failed = []
    p = Producer({"bootstrap.servers": a.bootstrap, "enable.idempotence": True, "linger.ms": 5,
                  "message.timeout.ms": 600000, "log_level": 0})

    def on_delivery(err, msg):
        if err is not None:
            failed.append(str(err))

    rows = [json.loads(line) for line in open(a.records)]
    pending = []  # (due index, label record, key)
    start = time.monotonic()
    for i, r in enumerate(rows):
        due = start + i / a.rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        while pending and pending[0][0] <= i:
            _, lab, key = pending.pop(0)
            send(p, a.labels, key, lab, on_delivery)
        send(p, a.topic, r["key"], r["value"], on_delivery)
        if a.labels and r.get("label") is not None:
            pending.append((i + a.label_delay, json.dumps({"id": r["key"], "y": r["label"]}), r["key"]))
        p.poll(0)
    for _, lab, key in pending:
        send(p, a.labels, key, lab, on_delivery)
    left = p.flush(900)
    if left or failed:
        print(f"produce: {left} unacknowledged, {len(failed)} failed (first: {failed[:1]})", file=sys.stderr)
        return 1
    return 0


def send(p, topic, key, value, cb):
    while True:
        try:
            p.produce(topic, key=key.encode(), value=value.encode(), on_delivery=cb)
            return
        except BufferError:  # the local queue is full (the broker is down): wait for room
            p.poll(0.1)


if __name__ == "__main__":
    sys.exit(main())
