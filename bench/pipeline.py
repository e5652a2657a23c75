"""pipeline.py - the `pipeline` benchmark: records/s through Kafka, topic to topic, on one broker, for
    passthrough     bench/passthrough.c: librdkafka consume -> produce the same bytes, no ML (the floor's
                    ceiling: what any pipeline can do on this machine and broker)
    rtml logistic   rtml run: JSON in, three standardised features, logistic regression (SGD), JSON out
    rtml mlp        the same with the MLP (16 ReLU units, SGD)
    python + river  bench/river_peer.py: confluent-kafka + River predict_proba_one/learn_one per record

usage: pipeline.py RTML_BINARY PASSTHROUGH_BINARY RESULTS_DIR
       (bench/run.sh pipeline builds the passthrough, starts a private broker on BENCH_PIPE_PORT (39292) and
       stops it; env: BENCH_PIPE_N (records, 1000000), BENCH_PIPE_RIVER_N (60000), BENCH_PIPE_REPS (3))

Data: SEA records (rtml gen, JSON, every one labelled) pre-filled into one 4-partition input topic. Each run
has a fresh group and output topic; contenders alternate in a rotated order on each repetition, after one
discarded warm-up run. records/s: the middle 80% of the outputs over the span of their timestamps (the same
measure for every contender). River reads the first BENCH_PIPE_RIVER_N records only (it would take minutes
to read them all); its rate is measured the same way. Writes RESULTS_DIR/<date>-pipeline.md and .png.
"""
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import benchlib  # noqa: E402

ENV = os.environ.get
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = int(ENV("BENCH_PIPE_PORT", 39292))
BROKERS = f"127.0.0.1:{PORT}"
N = int(ENV("BENCH_PIPE_N", 1000000))
RIVER_N = int(ENV("BENCH_PIPE_RIVER_N", 60000))
REPS = int(ENV("BENCH_PIPE_REPS", 3))
STAMP = time.strftime("%H%M%S")
PY = sys.executable
CONTENDERS = ("passthrough", "rtml logistic", "rtml mlp", "python + river")
MODELS = {"rtml logistic": "{type: logistic, optimizer: {name: sgd, learning_rate: 0.05}}",
          "rtml mlp": "{type: mlp, hidden: [16], optimizer: {name: sgd, learning_rate: 0.05}}"}


log, sh = benchlib.log, benchlib.sh


def rtml_config(path, topic, out, group, state, model):
    with open(path, "w") as f:
        f.write(f"""kafka: {{bootstrap.servers: "{BROKERS}", group.id: {group}, auto.offset.reset: earliest}}
input: {{topics: [{topic}], format: json}}
features:
  - {{name: x1, field: /x1, transforms: [standardize]}}
  - {{name: x2, field: /x2, transforms: [standardize]}}
  - {{name: x3, field: /x3, transforms: [standardize]}}
label: {{field: /label}}
model: {model}
output: {{topic: {out}, format: json}}
state: {{dir: {state}, checkpoint_every: 5s}}
log: {{level: warn}}
""")


def run_once(bins, work, topic, who, tag):
    rtml, passthrough = bins
    out, group = f"pipe-out-{STAMP}-{tag}", f"pipe-{STAMP}-{tag}"
    sh([rtml, "topics", "create", out, "--partitions", "4", "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    n, acc = N, None
    if who == "passthrough":
        sh([passthrough, BROKERS, topic, out, str(N), group], stdout=subprocess.DEVNULL)
    elif who == "python + river":
        n = RIVER_N
        r = subprocess.run([PY, f"{ROOT}/bench/river_peer.py", BROKERS, topic, out, group, str(n)],
                           capture_output=True, text=True, check=True)
        acc = json.loads(r.stdout.strip().splitlines()[-1])["accuracy"]
    else:
        cfg = f"{work}/{tag}.yaml"
        rtml_config(cfg, topic, out, group, f"{work}/state-{tag}", MODELS[who])
        r = subprocess.run([rtml, "run", "-c", cfg, "--exit-on-idle", "3"], capture_output=True, text=True, check=True)
        acc = json.loads(r.stdout.strip().splitlines()[-1])["metrics"]["accuracy"]
    count, rate, secs = benchlib.output_rate(BROKERS, out)
    sh([rtml, "topics", "delete", out, "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    if count != n:
        raise RuntimeError(f"{who}: {count} outputs, expected {n}")
    return {"rate": rate, "seconds": secs, "accuracy": acc}


def measure(bins, work):
    rtml = bins[0]
    topic = f"pipe-in-{STAMP}"
    sh([rtml, "topics", "create", topic, "--partitions", "4", "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    data = f"{work}/sea.jsonl"
    with open(data, "w") as f:
        sh([rtml, "gen", "--stream", "sea", "--n", str(N), "--seed", "7"], stdout=f)
    sh([rtml, "produce", "--topic", topic, "--input", data, "--key-field", "/id", "--brokers", BROKERS],
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log(f"pipeline: {N} records in {topic}; {REPS} repetitions after a warm-up")
    run_once(bins, work, topic, "rtml logistic", "warmup")  # a fresh broker's first run is slow (JIT, page cache)
    res = {c: [] for c in CONTENDERS}
    for rep in range(REPS):
        k = rep % len(CONTENDERS)
        for c in CONTENDERS[k:] + CONTENDERS[:k]:
            r = run_once(bins, work, topic, c, f"{rep}-{CONTENDERS.index(c)}")
            res[c].append(r)
            log(f"  rep {rep + 1}: {c:16s} {r['rate']:>10,.0f} records/s")
    sh([rtml, "topics", "delete", topic, "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    return res


def med(rs, key="rate"):
    return statistics.median(r[key] for r in rs)


def write_report(results_dir, res, version):
    stamp = datetime.date.today().isoformat()
    md, png = f"{results_dir}/{stamp}-pipeline.md", f"{results_dir}/{stamp}-pipeline.png"
    os.makedirs(results_dir, exist_ok=True)
    rates = [med(res[c]) for c in CONTENDERS]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.bar(range(len(rates)), rates, color=["#999999", "#4c72b0", "#55a868", "#c44e52"])
    ax.set_xticks(range(len(rates)), CONTENDERS)
    ax.set_yscale("log")
    ax.set_ylabel("records/s (median, log scale)")
    ax.set_title("Kafka topic to topic, SEA JSON, 2 cores shared with the broker")
    for i, v in enumerate(rates):
        ax.text(i, v, f"{v:,.0f}", ha="center", va="bottom")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    floor, river = med(res["passthrough"]), med(res["python + river"])
    lines = [f"# Pipeline: rtml against the raw client and Python + River ({stamp})", "",
             f"`make bench` / `bench/run.sh pipeline` ({version}); {N:,} SEA JSON records in a 4-partition topic "
             f"(River: the first {RIVER_N:,}), {REPS} repetitions in rotated order after a warm-up, a private broker "
             f"on this machine's {os.cpu_count()} cores. records/s: the middle 80% of each run's outputs over the span "
             "of their timestamps.", "",
             "| contender | records/s (median) | min - max | / passthrough | / python + river | accuracy |",
             "|---|---:|---:|---:|---:|---:|"]
    for c in CONTENDERS:
        rs = res[c]
        acc = "" if rs[0]["accuracy"] is None else f"{med(rs, 'accuracy'):.4f}"
        lines.append(f"| {c} | {med(rs):,.0f} | {min(r['rate'] for r in rs):,.0f} - {max(r['rate'] for r in rs):,.0f}"
                     f" | {med(rs) / floor:.2f} | {med(rs) / river:.1f}x | {acc} |")
    lines += ["", f"![records/s]({os.path.basename(png)})", ""]
    with open(md, "w") as f:
        f.write("\n".join(lines))
    return md


def main():
    bins, results_dir = sys.argv[1:3], sys.argv[3]
    work = tempfile.mkdtemp(prefix="rtml-bench-pipe-")
    try:
        res = measure(bins, work)
        version = subprocess.run([bins[0], "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        md = write_report(results_dir, res, version)
        with open(md) as f:
            log(f.read())
        log(f"pipeline: wrote {md}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
