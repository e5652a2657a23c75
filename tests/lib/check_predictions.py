"""check_predictions.py — do the predictions on a topic answer the inputs one by one?

    python check_predictions.py IN.jsonl OUT.jsonl N [--exactly-one]
IN/OUT are read_topic.py dumps. The inputs must be the records with ids 0..N-1, once each (the producer lost
or duplicated nothing). Every prediction's source must point at an input, keep that input's key, and hold a
binary prediction with a probability score; every id must have a prediction, and with --exactly-one no id more
than one. Prints what it counted; exits 1 with the first discrepancy."""
import argparse
import collections
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs")
    ap.add_argument("outputs")
    ap.add_argument("n", type=int)
    ap.add_argument("--exactly-one", action="store_true")
    a = ap.parse_args()
    inputs = {}
    for line in open(a.inputs):
        r = json.loads(line)
        inputs[(r["partition"], r["offset"])] = (r["key"], json.loads(r["value"])["id"])
    ids = sorted(rid for _, rid in inputs.values())
    assert ids == list(range(a.n)), f"{len(inputs)} inputs on the topic, expected ids 0..{a.n - 1} once each"
    per_id, total = collections.Counter(), 0
    for line in open(a.outputs):
        r = json.loads(line)
        p = json.loads(r["value"])
        src = (p["source"]["partition"], p["source"]["offset"])
        assert src in inputs, f"prediction for {src}, which is no input"
        key, rid = inputs[src]
        assert r["key"] == key == str(rid), f"prediction key {r['key']} != input key {key} / id {rid}"
        assert p["prediction"] in (0, 1) and 0 <= p["score"] <= 1, p
        per_id[rid] += 1
        total += 1
    missing = sorted(set(range(a.n)) - set(per_id))
    assert not missing, f"{len(missing)} ids without a prediction, e.g. {missing[:10]}"
    dups = sum(c - 1 for c in per_id.values())
    assert not (a.exactly_one and dups), f"{dups} duplicate predictions, e.g. {[i for i, c in per_id.items() if c > 1][:5]}"
    print(f"ok: every one of {a.n} input ids has a prediction ({total} predictions, {dups} duplicates), "
          f"keys and sources match")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
