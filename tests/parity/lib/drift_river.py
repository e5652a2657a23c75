"""drift_river.py - the Python side of tests/parity/drift.sh: River 0.26.1's drift detectors on the same
streams as `rtml drift`.

  drift_river.py stream OUT --kind bernoulli|real --n N --seed S --before P --after Q --at K [--width W]
      a stream of N values, one per line: error bits with P(1) = P before record K and Q after (bernoulli),
      or values in [0, 1] with mean P then Q (real: clip(mean + 0.15 * gauss, 0, 1)). --width W > 0 makes
      the change gradual: record i is from the new regime with probability 1/(1 + exp(-4 (i - K) / W)), as
      `rtml gen --drift-width` does. Python's random.Random(S) draws it.
  drift_river.py shift IN OUT --at K --offset D
      a copy of the JSON-lines file IN with D added to "label" from record K on (a regression drift).
  drift_river.py errors IN PRED OUT --task classification|regression
      the prequential error stream of a `rtml replay --output PRED` run over IN: per prediction (matched to
      its input line by source.offset, the 1-based line number), 0/1 for prediction != label, or
      |prediction - label|, written with repr() so the values read back exactly.
  drift_river.py detect DETECTOR FILE [--delta X] [--threshold X] [--alpha X] [--min-instances N]
                        [--warning-level X] [--drift-level X]
      River's detector over FILE, printing what `rtml drift` prints: a line per detection
      {"index","estimation","width"[,"change_at"]} (change_at for ADWIN only: River does not expose where
      Page-Hinkley's or DDM's change began), then {"values","detections"}.
  drift_river.py compare NAME RTML_OUT RIVER_OUT [--min-detections K]
      exit 1 unless both found the same detections: same indices and widths, estimations within 1e-9
      (relative), ADWIN's change_at equal; and River found at least K (so that a stream meant to exercise
      the detector does). Prints a one-line summary either way.

The rtml option names map to River's: ADWIN --min-instances = grace_period; Page-Hinkley --min-instances =
min_instances (mode "both"); DDM --min-instances = warm_start, --warning-level/--drift-level =
warning_threshold/drift_threshold.
"""
import argparse
import json
import math
import random
import sys


def regime(rng, i, at, width):
    """True when record i is from the new regime."""
    if width <= 0:
        return i >= at
    z = -4.0 * (i - at) / width
    return rng.random() < (0.0 if z > 700 else 1.0 / (1.0 + math.exp(z)))


def stream(args):
    rng = random.Random(args.seed)
    with open(args.out, "w") as f:
        for i in range(args.n):
            mean = args.after if regime(rng, i, args.at, args.width) else args.before
            if args.kind == "bernoulli":
                f.write("1\n" if rng.random() < mean else "0\n")
            else:
                f.write(repr(min(1.0, max(0.0, mean + 0.15 * rng.gauss(0.0, 1.0)))) + "\n")


def shift(args):
    with open(args.inp) as src, open(args.out, "w") as dst:
        for i, line in enumerate(src):
            r = json.loads(line)
            if i >= args.at:
                r["label"] = r["label"] + args.offset
            dst.write(json.dumps(r) + "\n")


def errors(args):
    with open(args.inp) as f:
        labels = [json.loads(line)["label"] for line in f]
    n = 0
    with open(args.pred) as f, open(args.out, "w") as out:
        for line in f:
            p = json.loads(line)
            y = labels[p["source"]["offset"] - 1]
            if args.task == "classification":
                out.write("1\n" if p["prediction"] != y else "0\n")
            else:
                out.write(repr(abs(float(p["prediction"]) - float(y))) + "\n")
            n += 1
    if n != len(labels):
        sys.exit(f"drift_river.py errors: {n} predictions for {len(labels)} input records")


def detector(args):
    from river import drift

    if args.detector == "adwin":
        kw = {"delta": args.delta, "grace_period": args.min_instances}
        return drift.ADWIN(**{k: v for k, v in kw.items() if v is not None})
    if args.detector == "page_hinkley":
        kw = {"delta": args.delta, "threshold": args.threshold, "alpha": args.alpha,
              "min_instances": args.min_instances}
        return drift.PageHinkley(mode="both", **{k: v for k, v in kw.items() if v is not None})
    if args.detector == "ddm":
        kw = {"warm_start": args.min_instances, "warning_threshold": args.warning_level,
              "drift_threshold": args.drift_level}
        return drift.binary.DDM(**{k: v for k, v in kw.items() if v is not None})
    sys.exit(f"drift_river.py: unknown detector {args.detector}")


def state(det, name):
    """River's (estimation, width) right after an update."""
    if name == "adwin":
        return det.estimation, int(det.width)
    if name == "page_hinkley":
        return det._x_mean.get(), int(det._x_mean.n)
    return det._p.get(), int(det._p.n)


def detect(args):
    det = detector(args)
    seen = detections = 0
    with open(args.file) as f:
        for line in f:
            x = float(line)
            det.update(int(x) if args.detector == "ddm" else x)
            seen += 1
            if det.drift_detected:
                detections += 1
                est, width = state(det, args.detector)
                rec = {"index": seen - 1, "estimation": est, "width": width}
                if args.detector == "adwin":
                    rec["change_at"] = seen - width
                print(json.dumps(rec))
    print(json.dumps({"values": seen, "detections": detections}))


def read_out(path):
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows or "values" not in rows[-1]:
        sys.exit(f"drift_river.py compare: {path} has no summary line")
    return rows[:-1], rows[-1]


def same_detection(a, b):
    if a["index"] != b["index"] or a["width"] != b["width"]:
        return False
    if "change_at" in b and a.get("change_at") != b["change_at"]:
        return False
    return abs(a["estimation"] - b["estimation"]) <= 1e-9 * max(1.0, abs(b["estimation"]))


def compare(args):
    ours, our_sum = read_out(args.rtml)
    theirs, their_sum = read_out(args.river)
    idx = [d["index"] for d in theirs]
    if len(theirs) < args.min_detections:
        print(f"FAILED: {args.name}: River found {len(theirs)} detections, the test expects at least "
              f"{args.min_detections} (the stream does not exercise the detector)")
        sys.exit(1)
    ok = our_sum == their_sum and len(ours) == len(theirs) and all(map(same_detection, ours, theirs))
    shown = idx if len(idx) <= 12 else idx[:12] + ["..."]
    print(f"{'ok' if ok else 'MISMATCH'}: {args.name}: {their_sum['values']} values, River {len(theirs)} "
          f"detections, rtml {len(ours)}; River at {shown}")
    if not ok:
        for a, b in zip(ours, theirs):
            if not same_detection(a, b):
                print(f"  first difference: rtml {a} vs River {b}")
                break
        else:
            print(f"  rtml {our_sum} {[d['index'] for d in ours][:12]} vs River {their_sum}")
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("stream")
    s.add_argument("out")
    s.add_argument("--kind", choices=["bernoulli", "real"], default="bernoulli")
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--before", type=float, required=True)
    s.add_argument("--after", type=float, required=True)
    s.add_argument("--at", type=int, required=True)
    s.add_argument("--width", type=int, default=0)
    s = sub.add_parser("shift")
    s.add_argument("inp")
    s.add_argument("out")
    s.add_argument("--at", type=int, required=True)
    s.add_argument("--offset", type=float, required=True)
    s = sub.add_parser("errors")
    s.add_argument("inp")
    s.add_argument("pred")
    s.add_argument("out")
    s.add_argument("--task", choices=["classification", "regression"], required=True)
    s = sub.add_parser("detect")
    s.add_argument("detector", choices=["adwin", "page_hinkley", "ddm"])
    s.add_argument("file")
    s.add_argument("--delta", type=float)
    s.add_argument("--threshold", type=float)
    s.add_argument("--alpha", type=float)
    s.add_argument("--min-instances", type=int)
    s.add_argument("--warning-level", type=float)
    s.add_argument("--drift-level", type=float)
    s = sub.add_parser("compare")
    s.add_argument("name")
    s.add_argument("rtml")
    s.add_argument("river")
    s.add_argument("--min-detections", type=int, default=0)
    args = ap.parse_args()
    {"stream": stream, "shift": shift, "errors": errors, "detect": detect, "compare": compare}[args.cmd](args)


if __name__ == "__main__":
    main()
