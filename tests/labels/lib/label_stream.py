"""label_stream.py — delayed-label streams for tests/labels (confluent-kafka and River, not rtml's code).

  label_stream.py produce BROKERS FEATURES LABELS SEA_JSONL EXPECT --delay D [--messy] [--rate R]
      Produce the records of SEA_JSONL (from `rtml gen`, "label" removed) to FEATURES keyed by id, and their
      labels {"id", "y"} to LABELS, in one interleaved order of "positions": record i at position i, its
      label at i + D (before the record at that position, as River's simulate_qa reveals answers). Timestamps
      are positions: 10 ms each from the start, so the label delay is D * 10 ms of stream time.
      --messy, by i % 20: 0 no label (missing), 1 the label twice (duplicate), 2 the label 5 positions
      before its record (early), 3 a label for an unknown id, 4 the label 600 positions late (past a 5 s ttl).
      Writes the counts the join must end with to EXPECT (JSON).
  label_stream.py check EXPECT REPORT [--restarted]
      The report's "labels" and learned counts against EXPECT; exit 1 on a mismatch. The join's counts and the
      model live in checkpoints, so a restarted run's report still holds the whole stream's (--restarted: the
      per-run record counts are not checked).
  label_stream.py river SEA_JSONL REPORT --delay D
      River's progressive validation (evaluate.progressive_val_score, delay D) of the same model rtml runs
      (StandardScaler | LogisticRegression, SGD 0.05, under learn_during_predict as in tests/parity) against
      the report's accuracy: within 0.5 percentage points.
"""
import argparse
import json
import sys
import time

STEP_MS = 10
LATE = 600


def events(rows, delay, messy):
    """(position, order, kind, record) in production order; labels sort before records at one position."""
    ev, expect = [], {"records": len(rows), "joined": 0, "duplicates": 0, "late": 0, "unknown": 0, "missing": 0,
                      "early": 0, "label_records": 0}
    for i, r in enumerate(rows):
        x = {k: v for k, v in r.items() if k != "label"}
        ev.append((i, 1, "f", x))
        kind = i % 20 if messy else -1
        lab = {"id": r["id"], "y": r["label"]}
        if kind == 0:
            expect["missing"] += 1
            continue
        if kind == 3:
            ev.append((i + delay, 0, "l", {"id": r["id"] + 10**9, "y": r["label"]}))
            ev.append((i + delay, 0, "l", lab))
            expect["unknown"] += 1
            expect["label_records"] += 2
            expect["joined"] += 1
            continue
        at = {2: i - 5, 4: i + LATE}.get(kind, i + delay)
        ev.append((at, 0, "l", lab))
        expect["label_records"] += 1
        if kind == 4:
            expect["late"] += 1
            continue
        expect["joined"] += 1
        expect["early"] += kind == 2
        if kind == 1:
            ev.append((i + delay + 7, 0, "l", lab))
            expect["duplicates"] += 1
            expect["label_records"] += 1
    ev.sort(key=lambda e: (e[0], e[1]))
    return ev, expect


def produce(a):
    from confluent_kafka import Producer

    rows = [json.loads(line) for line in open(a.stream)]
    ev, expect = events(rows, a.delay, a.messy)
    p = Producer({"bootstrap.servers": a.brokers, "linger.ms": 5, "enable.idempotence": True})
    started = time.time()
    base_ms = int(started * 1000)  # now: the broker's retention reads record timestamps (old ones are deleted)
    for n, (pos, _, kind, rec) in enumerate(ev):
        topic = a.features if kind == "f" else a.labels
        p.produce(topic, json.dumps(rec).encode(), key=str(rec["id"]).encode(), timestamp=base_ms + pos * STEP_MS)
        p.poll(0)
        if a.rate and n % 50 == 0:  # paced: rtml reads the two topics about in this order
            ahead = n / a.rate - (time.time() - started)
            if ahead > 0:
                time.sleep(ahead)
    if p.flush(60):
        sys.exit("label_stream: records left unacknowledged")
    json.dump(expect, open(a.expect, "w"))
    print(f"produced {len(ev)} records: {json.dumps(expect)}")


def report_of(path):
    return json.loads(open(path).read().strip().splitlines()[-1])


def check(a):
    want, r = json.load(open(a.expect)), report_of(a.report)
    lab = r["labels"]
    got = {
        "records": r["records"] if not a.restarted else want["records"],
        "joined": lab["joined"],
        "learned (model)": r["model_learned"],
        "duplicates": lab["duplicates"],
        "late": lab["late"],
        "unknown + still waiting": lab["unknown"] + lab["waiting"],
        "evicted by ttl + still pending": lab["evicted"]["ttl"] + lab["pending"],
        "label records": lab["records"] if not a.restarted else want["label_records"],
    }
    exp = {
        "records": want["records"],
        "joined": want["joined"],
        "learned (model)": want["joined"],
        "duplicates": want["duplicates"],
        "late": want["late"],
        "unknown + still waiting": want["unknown"],
        "evicted by ttl + still pending": want["missing"] + want["late"],
        "label records": want["label_records"],
    }
    ok = True
    for k in exp:
        good = got[k] == exp[k]
        ok &= good
        print(f"{k}: {got[k]} (expected {exp[k]}){'' if good else '  <-- MISMATCH'}")
    if lab["evicted"]["capacity"] or r["errors"]:
        print(f"unexpected: capacity evictions {lab['evicted']['capacity']}, errors {r['errors']}")
        ok = False
    if want["early"] and not lab["joined_early"]:
        print("no label was joined before its record, though some were sent first")
        ok = False
    print(f"joined early {lab['joined_early']}, hit rate {lab['hit_rate']:.4f}, "
          f"{lab['bytes_per_pending']:.0f} bytes per pending record, delay p50 {lab['delay_seconds']['p50']} s")
    return 0 if ok else 1


def river(a):
    from river import compose, evaluate, linear_model, metrics, optim, preprocessing

    rows = [json.loads(line) for line in open(a.stream)]
    data = [({k: v for k, v in r.items() if k not in ("id", "label")}, bool(r["label"])) for r in rows]
    model = preprocessing.StandardScaler() | linear_model.LogisticRegression(optimizer=optim.SGD(0.05),
                                                                              intercept_lr=0.05)
    with compose.learn_during_predict():
        acc = evaluate.progressive_val_score(data, model, metrics.Accuracy(), delay=a.delay)
    theirs = acc.get()
    mine = report_of(a.report)["metrics"]["accuracy"]
    diff = 100 * (mine - theirs)
    print(f"delay {a.delay}: rtml accuracy {mine:.4f}, River progressive_val_score {theirs:.4f} ({diff:+.2f} pp)")
    return 0 if abs(diff) <= 0.5 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("produce")
    for name in ("brokers", "features", "labels", "stream", "expect"):
        p.add_argument(name)
    p.add_argument("--delay", type=int, required=True)
    p.add_argument("--messy", action="store_true")
    p.add_argument("--rate", type=float, default=0)
    c = sub.add_parser("check")
    c.add_argument("expect")
    c.add_argument("report")
    c.add_argument("--restarted", action="store_true",
                   help="the report is a restarted run's: its records and label records are its own, not checked")
    r = sub.add_parser("river")
    r.add_argument("stream")
    r.add_argument("report")
    r.add_argument("--delay", type=int, required=True)
    a = ap.parse_args()
    return {"produce": produce, "check": check, "river": river}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
