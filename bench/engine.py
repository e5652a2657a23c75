"""engine.py - the `engine` benchmark: prequential replay throughput of rtml's native models beside River
and Vowpal Wabbit on the same data, in the same run; then where rtml's time goes (callgrind).

usage: engine.py RTML_BINARY RESULTS_DIR   (bench/run.sh engine calls it; env: BENCH_DATA, BENCH_N_DENSE,
       BENCH_N_CAT, BENCH_N_RIVER, BENCH_REPS, BENCH_CALLGRIND_N)

Streams: dense = `rtml gen --stream hyperplane --features 10` (10 numeric fields); cat = gen_categorical.py
(40 string fields of skewed cardinality, hashed into 2^20 weights in total). Models: logistic (SGD), FTRL,
MLP (one hidden layer of 16). Contenders per (stream, model), run in turn and in a rotated order on each
repetition: rtml replay (JSON parse included, wall clock of the process), River (json.loads included;
fewer records: it is ~100x slower), VW through its Python API per example, and VW's own driver (its
CLI path, which parses on a second thread). VW reads its own text format, converted beforehand, so it does
no JSON parsing: that favours VW.
Writes RESULTS_DIR/<date>-engine.md and .png; prints a summary.
"""
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
ENV = os.environ.get
N_DENSE = int(ENV("BENCH_N_DENSE", 500000))
N_CAT = int(ENV("BENCH_N_CAT", 200000))
N_RIVER = int(ENV("BENCH_N_RIVER", 50000))
REPS = int(ENV("BENCH_REPS", 3))
N_CALLGRIND = int(ENV("BENCH_CALLGRIND_N", 20000))
FIELDS = 40
TOTAL_BUCKETS = 1 << 20

MODELS = {  # rtml model section; VW options for the same model
    "logistic": ("  type: logistic\n  optimizer: {name: sgd, learning_rate: 0.05}\n", "--loss_function logistic"),
    "ftrl": ("  type: ftrl\n  ftrl: {alpha: 0.1, beta: 1.0}\n",
             "--loss_function logistic --ftrl --ftrl_alpha 0.1 --ftrl_beta 1"),
    "mlp": ("  type: mlp\n  hidden: [16]\n  optimizer: {name: sgd, learning_rate: 0.01}\n",
            "--loss_function logistic --nn 16"),
}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def prepare(rtml, data):
    """Data files (kept between runs in BENCH_DATA), VW conversions, small copies for callgrind, configs."""
    os.makedirs(data, exist_ok=True)
    files = {"dense": f"{data}/dense-{N_DENSE}.jsonl", "cat": f"{data}/cat-{N_CAT}.jsonl"}
    if not os.path.exists(files["dense"]):
        with open(files["dense"] + ".tmp", "w") as f:
            sh([rtml, "gen", "--stream", "hyperplane", "--features", "10", "--n", str(N_DENSE), "--seed", "1"],
               stdout=f)
        os.rename(files["dense"] + ".tmp", files["dense"])
    if not os.path.exists(files["cat"]):
        with open(files["cat"] + ".tmp", "w") as f:
            sh([PY, f"{HERE}/gen_categorical.py", str(N_CAT), "1"], stdout=f)
        os.rename(files["cat"] + ".tmp", files["cat"])
    for kind, path in files.items():
        vw = path.replace(".jsonl", ".vw")
        if not os.path.exists(vw):
            sh([PY, f"{HERE}/peers.py", "to-vw", kind, path, vw + ".tmp"])
            os.rename(vw + ".tmp", vw)
        small = path.replace(".jsonl", f"-head{N_CALLGRIND}.jsonl")
        with open(path) as src, open(small, "w") as dst:
            for i, line in enumerate(src):
                if i >= N_CALLGRIND:
                    break
                dst.write(line)
    dense_feats = "".join(f"  - {{name: x{i}, field: /x{i}, transforms: [standardize]}}\n" for i in range(1, 11))
    per_field = TOTAL_BUCKETS // FIELDS
    cat_feats = "".join(f"  - {{name: c{i}, field: /c{i}, transforms: [{{hash: {per_field}}}]}}\n" for i in range(FIELDS))
    configs = {}
    for kind, feats in (("dense", dense_feats), ("cat", cat_feats)):
        for model, (section, _) in MODELS.items():
            path = f"{data}/{kind}-{model}.yaml"
            with open(path, "w") as f:
                f.write(f"input: {{format: json}}\nfeatures:\n{feats}label: {{field: /label}}\nmodel:\n{section}")
            configs[kind, model] = path
    return files, configs


def run_rtml(rtml, config, data, n):
    t0 = time.perf_counter()
    out = sh([rtml, "replay", "-c", config, "--input", data], capture_output=True, text=True).stdout
    seconds = time.perf_counter() - t0
    report = json.loads(out.strip().splitlines()[-1])
    assert report["records"] == n and report["errors"] == 0, report
    return {"records": n, "seconds": seconds, "accuracy": report["metrics"].get("accuracy")}


def run_peer(*args):
    out = sh([PY, f"{HERE}/peers.py", *args], capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def contenders(rtml, files, configs):
    """(stream, model, contender, thunk) for every measurement of one repetition."""
    out = []
    for kind, n in (("dense", N_DENSE), ("cat", N_CAT)):
        data, vw = files[kind], files[kind].replace(".jsonl", ".vw")
        for model, (_, vwargs) in MODELS.items():
            vwargs = f"{vwargs} -b 20"
            out.append((kind, model, "rtml", lambda c=configs[kind, model], d=data, n=n: run_rtml(rtml, c, d, n)))
            if model == "logistic":
                out.append((kind, model, "River", lambda k=kind, d=data: run_peer("river", k, d, str(N_RIVER))))
            out.append((kind, model, "VW api", lambda a=vwargs, d=vw, n=n: run_peer("vw-api", a, d, str(n))))
            out.append((kind, model, "VW driver", lambda a=vwargs, d=vw: run_peer("vw-driver", a, d)))
    return out


def measure(runs):
    results = {}
    for rep in range(REPS):
        k = rep * len(runs) // REPS
        for kind, model, who, thunk in runs[k:] + runs[:k]:  # a rotated order on each repetition
            r = thunk()
            r["rate"] = r["records"] / r["seconds"]
            results.setdefault((kind, model, who), []).append(r)
            print(f"  rep {rep + 1}: {kind:5} {model:8} {who:9} {r['rate']:>12,.0f} records/s", flush=True)
    return results


def summarize(results):
    rows = []
    for (kind, model, who), rs in results.items():
        rates = [r["rate"] for r in rs]
        acc = rs[-1].get("accuracy")
        rows.append({"stream": kind, "model": model, "who": who, "records": rs[0]["records"],
                     "median": statistics.median(rates), "min": min(rates), "max": max(rates), "accuracy": acc})
    return rows


def callgrind(rtml, configs, files):
    text = []
    for kind, model in (("dense", "logistic"), ("cat", "logistic"), ("cat", "ftrl"), ("cat", "mlp")):
        small = files[kind].replace(".jsonl", f"-head{N_CALLGRIND}.jsonl")
        out = f"{os.path.dirname(small)}/callgrind-{kind}-{model}.out"
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", rtml, "replay", "-c",
                            configs[kind, model], "--input", small], capture_output=True, text=True)
        if r.returncode != 0:
            text.append(f"### {kind} / {model}: callgrind failed\n\n```\n{r.stderr[-2000:]}\n```\n")
            continue
        ann = subprocess.run(["callgrind_annotate", "--inclusive=no", out], capture_output=True, text=True).stdout
        lines = ann.splitlines()
        start = next((i for i, l in enumerate(lines) if "file:function" in l), 0)
        top = [l for l in lines[start:start + 16] if l.strip()]
        total = next((l for l in lines if "PROGRAM TOTALS" in l), "")
        text.append(f"### {kind} / {model} ({N_CALLGRIND} records; instructions, self cost)\n\n```\n{total}\n"
                    + "\n".join(top) + "\n```\n")
    return "\n".join(text)


def ratio(rows, kind, model, a, b):
    get = {(r["stream"], r["model"], r["who"]): r["median"] for r in rows}
    if (kind, model, a) in get and (kind, model, b) in get:
        return get[kind, model, a] / get[kind, model, b]
    return None


def chart(rows, path):
    groups = [(k, m) for k in ("dense", "cat") for m in MODELS]
    whos = ["rtml", "River", "VW api", "VW driver"]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.2
    for j, who in enumerate(whos):
        xs, ys = [], []
        for i, g in enumerate(groups):
            r = next((r for r in rows if (r["stream"], r["model"], r["who"]) == (*g, who)), None)
            if r:
                xs.append(i + (j - 1.5) * width)
                ys.append(r["median"])
        ax.bar(xs, ys, width, label=who)
    ax.set_xticks(range(len(groups)), [f"{k}\n{m}" for k, m in groups])
    ax.set_yscale("log")
    ax.set_ylabel("records / second (median, log scale)")
    ax.set_title("prequential replay throughput (predict + learn per record)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    rtml, results_dir = sys.argv[1], sys.argv[2]
    data = ENV("BENCH_DATA", "/tmp/rtml-bench")
    os.makedirs(results_dir, exist_ok=True)
    print(f"engine: data in {data} (dense {N_DENSE}, cat {N_CAT}, River {N_RIVER} records), {REPS} repetitions")
    files, configs = prepare(rtml, data)
    rows = summarize(measure(contenders(rtml, files, configs)))
    print("engine: callgrind on rtml", flush=True)
    profile = callgrind(rtml, configs, files)

    stamp = datetime.date.today().isoformat()
    md, png = f"{results_dir}/{stamp}-engine.md", f"{results_dir}/{stamp}-engine.png"
    chart(rows, png)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    out = [f"# engine benchmark, {stamp}\n",
           f"Reproduce: `make bench` or `bench/run.sh engine` (env BENCH_N_DENSE={N_DENSE} BENCH_N_CAT={N_CAT} "
           f"BENCH_N_RIVER={N_RIVER} BENCH_REPS={REPS}). CPU: {cpu}, {os.cpu_count()} cores.\n",
           "Prequential replay (predict, then learn, every record) on one core per contender, contenders taken "
           "in turn and in a rotated order on each repetition. **rtml**: `rtml replay` wall clock, reading and "
           "parsing JSON lines included. **River** 0.26: json.loads + predict_proba_one + learn_one, over the "
           f"first {N_RIVER} records only (it is ~100x slower; records/s are comparable across sizes). "
           "**VW api**: Vowpal Wabbit 9 through its Python API per example (parse, predict, learn, finish). "
           "**VW driver**: VW's own reader and loop (`-d FILE`, its CLI path); it parses on a thread of its own "
           "beside the learner (about 1.6 cores busy), where rtml replay uses one. VW reads its own text format, "
           "converted beforehand, so it parses no JSON: that favours VW. VW's learner defaults differ (adaptive, "
           "normalized updates); FTRL is `--ftrl`, MLP is `--nn 16`. River has no FTRL or MLP classifier.\n",
           "Streams: **dense** = `rtml gen --stream hyperplane --features 10` (standardized); **cat** = "
           f"`bench/gen_categorical.py`, 40 string fields, each hashed into {TOTAL_BUCKETS // FIELDS} buckets "
           "(2^20 weights in all; VW: `-b 20`; River: one-hot dict, no collisions).\n",
           "| stream | model | contender | records | median records/s | spread (min - max) | accuracy |",
           "|---|---|---|---:|---:|---|---:|"]
    for r in rows:
        acc = f"{r['accuracy']:.4f}" if r["accuracy"] is not None else "-"
        out.append(f"| {r['stream']} | {r['model']} | {r['who']} | {r['records']:,} | {r['median']:,.0f} | "
                   f"{r['min']:,.0f} - {r['max']:,.0f} | {acc} |")
    out += ["", "| stream | model | rtml / River | rtml / VW api | rtml / VW driver |", "|---|---|---:|---:|---:|"]
    summary = []
    for kind in ("dense", "cat"):
        for model in MODELS:
            rs = [ratio(rows, kind, model, "rtml", w) for w in ("River", "VW api", "VW driver")]
            cells = [f"{x:.1f}x" if x else "-" for x in rs]
            out.append(f"| {kind} | {model} | " + " | ".join(cells) + " |")
            summary.append(f"{kind:5} {model:8} rtml/River {cells[0]:>7}  rtml/VW api {cells[1]:>6}  "
                           f"rtml/VW driver {cells[2]:>6}")
    out += ["", f"![throughput]({os.path.basename(png)})", "", "## Where rtml's time goes (callgrind)\n", profile]
    with open(md, "w") as f:
        f.write("\n".join(out) + "\n")
    with open(md.replace(".md", ".json"), "w") as f:  # for bench/summary.py's targets
        json.dump({"rows": rows}, f, indent=1)
    print("\n".join(summary))
    print(f"engine: wrote {md} and {png}")


if __name__ == "__main__":
    main()
