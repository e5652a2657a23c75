"""summary.py - bench/results/<date>.md: the benchmark targets (issues 9 and 21) against the newest figures.

usage: summary.py RESULTS_DIR   (bench/run.sh calls it after its scenarios)

Reads the .json each scenario writes beside its report (<date>-pipeline.json, <date>-latency.json,
<date>-tensorflow.json, <date>-instructions.json, <date>-engine.json); for each scenario the newest file, whose date the table
names, so that a run of one scenario alone still gives a complete summary. Every ratio in the table comes from
one scenario's run, where the contenders alternated: ratios are never taken across runs.
"""
import datetime
import glob
import json
import os
import sys


def newest(results_dir, scenario):
    """(date, figures) of the newest <date>-<scenario>.json, or (None, None)."""
    files = sorted(glob.glob(f"{results_dir}/????-??-??-{scenario}.json"))
    if not files:
        return None, None
    with open(files[-1]) as f:
        return os.path.basename(files[-1])[:10], json.load(f)


def row(target, measured, ok, source):
    """A table row; ok is True (met), False (missed) or None (a figure for context, not a target)."""
    verdict = "-" if ok is None else "met" if ok else "**missed**"
    return f"| {target} | {measured} | {verdict} | {source} |"


def pipeline_rows(date, p):
    src = f"[pipeline]({date}-pipeline.md)"
    floor, river = p["passthrough"]["median"], p["python + river"]["median"]
    lo = p["rtml logistic"]["median"] / floor
    rows = [row("rtml logistic / passthrough >= 0.8 (records/s)", f"{lo:.2f}", lo >= 0.8, src)]
    for who, peer in (("rtml logistic", "python + river"), ("rtml mlp", "python + river"),
                      ("rtml ftrl (cat)", "python + river (cat)")):
        if who in p and peer in p:
            x = p[who]["median"] / p[peer]["median"]
            rows.append(row(f"{who} / {peer} >= 50x", f"{x:.1f}x", x >= 50, src))
    rows.append(row("(context) passthrough / python + river", f"{floor / river:.1f}x", None, src))
    return rows


def tensorflow_rows(date, t):
    src = f"[tensorflow]({date}-tensorflow.md)"
    return [row(f"rtml tensorflow / Python + Keras >= 10x ({v})", f"{x:.1f}x", x >= 10, src)
            for v, x in t["ratios"].items()]


def latency_rows(date, lat):
    src = f"[latency]({date}-latency.md)"
    rows = []
    for rate in lat["rates"]:
        for who in ("rtml low-latency", "rtml default", "passthrough", "kafka one hop"):
            r = lat["runs"][f"{who} @ {rate}"]
            gated = who == "rtml low-latency" and rate == 10000
            target = f"p99 at {rate:,}/s, {who}" + (" <= 5 ms" if gated else "")
            rows.append(row(target, f"{r['p99']:.2f} ms (p50 {r['p50']:.2f}, p99.9 {r['p999']:.2f})",
                            r["p99"] <= 5 if gated else None, src))
        base = lat["runs"][f"passthrough @ {rate}"]
        for who in ("rtml low-latency", "rtml default"):  # issue 21: within 1 ms of the passthrough's
            r = lat["runs"][f"{who} @ {rate}"]
            d50, d99 = r["p50"] - base["p50"], r["p99"] - base["p99"]
            rows.append(row(f"{who} - passthrough at {rate:,}/s: p50 and p99 <= +1 ms",
                            f"p50 {d50:+.2f} ms, p99 {d99:+.2f} ms", d50 <= 1 and d99 <= 1, src))
    return rows


def engine_rows(date, eng):
    """Issue 21's replay targets: rtml replay beside VW's own driver and River, one core, one run."""
    src = f"[engine]({date}-engine.md)"
    med = {(r["stream"], r["model"], r["who"]): r["median"] for r in eng["rows"]}
    rows = []
    for kind, model, peer, want in (("dense", "logistic", "VW driver", 2), ("cat", "ftrl", "VW driver", 1),
                                    ("dense", "logistic", "River", 50), ("cat", "logistic", "River", 50)):
        mine, theirs = med.get((kind, model, "rtml")), med.get((kind, model, peer))
        if mine and theirs:
            x = mine / theirs
            rows.append(row(f"replay, {kind} {model}: rtml / {peer} >= {want}x", f"{x:.2f}x", x >= want, src))
    if med.get(("dense", "logistic", "rtml")):
        r = med["dense", "logistic", "rtml"]
        rows.append(row("replay, dense logistic >= 1.5M records/s on one core", f"{r / 1e6:.2f}M", r >= 1.5e6, src))
    return rows


def instructions_rows(date, ins):
    src = f"[instructions]({date}-instructions.md)"
    rows = []
    for kind, what, target in (("dense", "dense logistic, JSON in and out", 3000),
                               ("cat", "FTRL, 40 hashed categoricals", 8000)):
        if kind in ins:
            r = ins[kind]["rtml"]
            st = ", ".join(f"{s} {r['stages'][s]:,.0f}" for s in ("decode", "featurize", "model", "encode")
                           if s in r["stages"])
            rows.append(row(f"instructions per record, {what} <= {target:,} (callgrind)",
                            f"{r['per_record']:,.0f} ({st})", r["per_record"] <= target, src))
    return rows


def main():
    results_dir = sys.argv[1]
    today = datetime.date.today().isoformat()
    lines = [f"# rtml benchmarks: targets, {today}", "",
             "`make bench` (bench/run.sh) on this machine: each scenario's contenders alternate in one run on one "
             "private broker; the ratios below are of medians within one scenario's run. Details, spreads and "
             "charts: the scenario reports linked on each row.", "",
             "| target | measured | | report |", "|---|---|---|---|"]
    missing = []
    for scenario, rows in (("pipeline", pipeline_rows), ("tensorflow", tensorflow_rows), ("latency", latency_rows),
                            ("instructions", instructions_rows), ("engine", engine_rows)):
        date, figures = newest(results_dir, scenario)
        if figures is None:
            missing.append(scenario)
            continue
        lines += rows(date, figures)
    if missing:
        lines += ["", f"No figures yet for: {', '.join(missing)} (run `bench/run.sh {' '.join(missing)}`)."]
    lines.append("")
    path = f"{results_dir}/{today}.md"
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    print(f"bench: wrote {path}")


if __name__ == "__main__":
    main()
