"""compare.py PREDICTIONS.jsonl EXPECTED.jsonl [--output output_0] [--tol 1e-5] [--name NAME]

Compares rtml's predictions with the values make_models.py computed by calling the model in Python.

PREDICTIONS: rtml's output, one JSON object a line, e.g.
  {"prediction":1,"score":0.93,"model_version":1,"source":{...},"id":17,"outputs":{"output_0":[0.93]}}
EXPECTED: {"id": i, "outputs": {"output_0": [v, ...]}} a line (make_models.py's expected_<model>.jsonl).

Matching: if every prediction carries "id", predictions are matched to expected lines by id (ids compared
as text, so 17 and "17" match), in any order; if none does, by line order (prediction line i = record i).
Predictions where only some lines carry an id are an error.
Compared values: the prediction's outputs[NAME] when it has "outputs", else [score]; against the expected
outputs[NAME] (nested lists are flattened). Every expected record must have exactly one prediction.

Exit 0 and one line, e.g. `mlp: 1000 predictions, max |diff| 3.1e-08 <= 1e-05 (by id)`; exit 1 on any
difference beyond the tolerance, a missing, extra or duplicate prediction, or a prediction without the
value (or a line that is not JSON); the first mismatches are printed. Exit 2 on bad arguments or an
unreadable file. Needs only Python (no TensorFlow): fast.
"""
import argparse
import json
import math
import os
import sys


def read_jsonl(path, what):
    rows = []
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rows.append((n, json.loads(line)))
                except json.JSONDecodeError as e:
                    raise SystemExit(f"compare: {what} {path} line {n}: not JSON ({e})")
    except OSError as e:
        print(f"compare: {what}: {e}", file=sys.stderr)
        sys.exit(2)
    return rows


def flat(v):
    if isinstance(v, list):
        out = []
        for x in v:
            out += flat(x)
        return out
    return [v]


def values(pred, name):
    if isinstance(pred, dict):
        outs = pred.get("outputs")
        if isinstance(outs, dict) and name in outs:
            return flat(outs[name])
        if "score" in pred:
            return flat(pred["score"])
    return None


def main():
    p = argparse.ArgumentParser(description="Compare rtml's predictions with Python's expected outputs.",
                                epilog="Matching: by id when every prediction has one, else by line order.")
    p.add_argument("predictions")
    p.add_argument("expected")
    p.add_argument("--output", default="output_0", help="output name (default output_0)")
    p.add_argument("--tol", type=float, default=1e-5, help="max absolute difference (default 1e-5)")
    p.add_argument("--name", help="label of the report line (default: from EXPECTED, expected_<name>.jsonl)")
    p.add_argument("--show", type=int, default=5, help="mismatches to print (default 5)")
    a = p.parse_args()
    name = a.name or os.path.basename(a.expected).removesuffix(".jsonl").removeprefix("expected_")

    preds = read_jsonl(a.predictions, "predictions")
    exp = read_jsonl(a.expected, "expected")
    problems = []

    has_id = [isinstance(r, dict) and "id" in r for _, r in preds]
    if preds and all(has_id):
        mode = "by id"
        by_id = {}
        for n, r in preds:
            k = str(r["id"])
            if k in by_id:
                problems.append(f"id {k}: duplicate prediction (lines {by_id[k][0]} and {n})")
            else:
                by_id[k] = (n, r)
        pairs = []
        exp_ids = set()
        for _, e in exp:
            k = str(e["id"])
            exp_ids.add(k)
            if k in by_id:
                pairs.append((k, by_id[k][1], e))
            else:
                problems.append(f"id {k}: no prediction")
        for k in by_id:
            if k not in exp_ids:
                problems.append(f"id {k}: prediction for no expected record (line {by_id[k][0]})")
    elif any(has_id):
        print(f"{name}: FAIL: {sum(has_id)} of {len(preds)} predictions carry an id: all or none must")
        return 1
    else:
        mode = "by line"
        pairs = [(e.get("id", i), r, e) for i, ((_, r), (_, e)) in enumerate(zip(preds, exp))]
        if len(preds) != len(exp):
            problems.append(f"{len(preds)} predictions for {len(exp)} expected records")

    max_diff = 0.0
    mismatches = []
    for k, r, e in pairs:
        got = values(r, a.output)
        want = flat(e["outputs"][a.output])
        if got is None:
            mismatches.append(f"id {k}: the prediction has neither outputs.{a.output} nor score: {json.dumps(r)[:200]}")
            continue
        if len(got) != len(want):
            mismatches.append(f"id {k}: {len(got)} values, expected {len(want)}: got {got}, expected {want}")
            continue
        for g, w in zip(got, want):
            if not isinstance(g, (int, float)) or isinstance(g, bool) or not math.isfinite(g):
                d = math.inf
            else:
                d = abs(float(g) - float(w))
            max_diff = max(max_diff, d)
            if d > a.tol:
                mismatches.append(f"id {k}: got {g}, expected {w}, |diff| {d:.3g}")
                break

    n = len(pairs)
    if problems or mismatches:
        print(f"{name}: FAIL: {len(preds)} predictions, {len(exp)} expected ({mode}); {len(problems)} missing/extra, "
              f"{len(mismatches)} mismatches; max |diff| {max_diff:.3g} (tol {a.tol:g})")
        for line in (problems + mismatches)[:max(a.show, 1)]:
            print("  " + line)
        return 1
    print(f"{name}: {n} predictions, max |diff| {max_diff:.2g} <= {a.tol:g} ({mode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
