"""pipeline.py - the `pipeline` benchmark: records/s through Kafka, topic to topic, on one broker, for two streams.
SEA (rtml gen --stream sea, JSON, 3 numeric fields, keyed by id):
    passthrough           bench/passthrough.c: librdkafka consume -> produce the same bytes, no ML (the floor's
                          ceiling: what any pipeline can do on this machine and broker)
    rtml logistic         rtml run: JSON in, three standardised features, logistic regression (SGD), JSON out
    rtml mlp              the same with the MLP (16 ReLU units, SGD)
    python + river        bench/river_peer.py: confluent-kafka + River predict_proba_one/learn_one per record
cat (bench/gen_categorical.py: 40 string fields c0..c39, records ~10x bigger, no key):
    passthrough (cat)     the same passthrough binary on this topic (this stream's floor's ceiling)
    rtml ftrl (cat)       rtml run: each field hashed into 2^20 / 40 buckets (2^20 weights), FTRL, JSON out
                          (the configuration of bench/engine.py's cat / ftrl)
    python + river (cat)  river_peer.py cat: LogisticRegression (SGD) over the one-hot {"c<i>=<value>": 1}, as
                          bench/peers.py feeds River (River has no FTRL)

usage: pipeline.py RTML_BINARY PASSTHROUGH_BINARY RESULTS_DIR
       (bench/run.sh pipeline builds the passthrough, starts a private broker on BENCH_PIPE_PORT (39292) and
       stops it; env: BENCH_PIPE_N (SEA records, 1000000), BENCH_PIPE_CAT_N (cat records, 300000),
       BENCH_PIPE_RIVER_N (60000), BENCH_PIPE_RIVER_CAT_N (the lesser of 20000 and BENCH_PIPE_RIVER_N),
       BENCH_PIPE_REPS (3))

Data: each stream pre-filled into its own 4-partition input topic, every record labelled. Each run has a fresh
group and output topic; all seven contenders alternate in a rotated order on each repetition, after one
discarded warm-up run. records/s: the middle 80% of the outputs over the span of their timestamps (the same
measure for every contender). River reads the first BENCH_PIPE_RIVER_N (SEA) or BENCH_PIPE_RIVER_CAT_N (cat)
records only (it would take minutes to read them all); its rate is measured the same way. Writes
RESULTS_DIR/<date>-pipeline.md, .png and .json (per contender: median, min, max, accuracy, records; plus n, reps).
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

import benchlib  # noqa: E402

ENV = os.environ.get
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = int(ENV("BENCH_PIPE_PORT", 39292))
BROKERS = f"127.0.0.1:{PORT}"
N = int(ENV("BENCH_PIPE_N", 1000000))
CAT_N = int(ENV("BENCH_PIPE_CAT_N", 300000))
RIVER_N = min(int(ENV("BENCH_PIPE_RIVER_N", 60000)), N)
RIVER_CAT_N = min(int(ENV("BENCH_PIPE_RIVER_CAT_N", min(20000, RIVER_N))), CAT_N)
REPS = int(ENV("BENCH_PIPE_REPS", 3))
STAMP = time.strftime("%H%M%S")
PY = sys.executable
FIELDS, BUCKETS = 40, 1 << 20
STREAMS = {"sea": "SEA JSON, 3 numeric fields", "cat": f"{FIELDS} hashed categoricals"}
SIZES = {"sea": (N, RIVER_N), "cat": (CAT_N, RIVER_CAT_N)}  # records: (everyone else, River)
FEATURES = {"sea": benchlib.SEA_FEATURES,
            "cat": "".join(f"  - {{name: c{i}, field: /c{i}, transforms: [{{hash: {BUCKETS // FIELDS}}}]}}\n"
                           for i in range(FIELDS))}
CONTENDERS = {  # name: (stream, runner, rtml's model section or River's KIND); each stream's in table order
    "passthrough": ("sea", "passthrough", None),
    "rtml logistic": ("sea", "rtml", "{type: logistic, optimizer: {name: sgd, learning_rate: 0.05}}"),
    "rtml mlp": ("sea", "rtml", "{type: mlp, hidden: [16], optimizer: {name: sgd, learning_rate: 0.05}}"),
    "python + river": ("sea", "river", "dense"),
    "passthrough (cat)": ("cat", "passthrough", None),
    "rtml ftrl (cat)": ("cat", "rtml", "{type: ftrl, ftrl: {alpha: 0.1, beta: 1.0}}"),
    "python + river (cat)": ("cat", "river", "cat"),
}
NAMES = list(CONTENDERS)
COLORS = {"passthrough": "#999999", "rtml logistic": "#4c72b0", "rtml mlp": "#55a868", "rtml ftrl": "#8172b2",
          "python + river": "#c44e52"}


log, sh = benchlib.log, benchlib.sh


def records(who):
    stream, runner, _ = CONTENDERS[who]
    return SIZES[stream][runner == "river"]


def peer(stream, runner):
    """The contender of a stream that its others are compared with (passthrough, river)."""
    return next(c for c, (s, r, _) in CONTENDERS.items() if s == stream and r == runner)


def rtml_config(path, stream, topic, out, group, state, model):
    with open(path, "w") as f:
        f.write(f"""kafka: {{bootstrap.servers: "{BROKERS}", group.id: {group}, auto.offset.reset: earliest}}
input: {{topics: [{topic}], format: json}}
features:
{FEATURES[stream]}label: {{field: /label}}
model: {model}
output: {{topic: {out}, format: json}}
state: {{dir: {state}, checkpoint_every: 5s}}
log: {{level: warn}}
""")


def run_once(bins, work, topics, who, tag):
    rtml, passthrough = bins
    (stream, runner, model), n = CONTENDERS[who], records(who)
    topic, out, group = topics[stream], f"pipe-out-{STAMP}-{tag}", f"pipe-{STAMP}-{tag}"
    sh([rtml, "topics", "create", out, "--partitions", "4", "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    acc = None
    if runner == "passthrough":
        sh([passthrough, BROKERS, topic, out, str(n), group], stdout=subprocess.DEVNULL)
    elif runner == "river":
        r = subprocess.run([PY, f"{ROOT}/bench/river_peer.py", BROKERS, topic, out, group, str(n), model],
                           capture_output=True, text=True, check=True)
        acc = json.loads(r.stdout.strip().splitlines()[-1])["accuracy"]
    else:
        cfg = f"{work}/{tag}.yaml"
        rtml_config(cfg, stream, topic, out, group, f"{work}/state-{tag}", model)
        r = subprocess.run([rtml, "run", "-c", cfg, "--exit-on-idle", "3"], capture_output=True, text=True, check=True)
        acc = json.loads(r.stdout.strip().splitlines()[-1])["metrics"]["accuracy"]
    count, rate, secs = benchlib.output_rate(BROKERS, out)
    sh([rtml, "topics", "delete", out, "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    if count != n:
        raise RuntimeError(f"{who}: {count} outputs, expected {n}")
    return {"rate": rate, "seconds": secs, "accuracy": acc, "records": n}


def fill(rtml, work, stream):
    """Generates the stream's data and produces it into a fresh topic; returns (topic, mean bytes per record)."""
    topic, data, n = f"pipe-in-{STAMP}-{stream}", f"{work}/{stream}.jsonl", SIZES[stream][0]
    sh([rtml, "topics", "create", topic, "--partitions", "4", "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    with open(data, "w") as f:
        if stream == "sea":
            sh([rtml, "gen", "--stream", "sea", "--n", str(n), "--seed", "7"], stdout=f)
        else:
            sh([PY, f"{ROOT}/bench/gen_categorical.py", str(n), "7"], stdout=f)
    key = ["--key-field", "/id"] if stream == "sea" else []  # cat records have no id: sent without a key
    sh([rtml, "produce", "--topic", topic, "--input", data, *key, "--brokers", BROKERS],
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    size = os.path.getsize(data) / n
    os.remove(data)
    return topic, size


def measure(bins, work):
    rtml = bins[0]
    filled = {s: fill(rtml, work, s) for s in STREAMS}
    topics = {s: t for s, (t, _) in filled.items()}
    log(f"pipeline: {N} SEA records in {topics['sea']}, {CAT_N} cat records in {topics['cat']}; "
        f"{REPS} repetitions after a warm-up")
    run_once(bins, work, topics, "rtml logistic", "warmup")  # a fresh broker's first run is slow (JIT, page cache)
    res = {c: [] for c in NAMES}
    for rep in range(REPS):
        k = rep % len(NAMES)
        for c in NAMES[k:] + NAMES[:k]:
            r = run_once(bins, work, topics, c, f"{rep}-{NAMES.index(c)}")
            res[c].append(r)
            log(f"  rep {rep + 1}: {c:20s} {r['rate']:>10,.0f} records/s")
    for t in topics.values():
        sh([rtml, "topics", "delete", t, "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    return res, {s: size for s, (_, size) in filled.items()}


def med(rs, key="rate"):
    return statistics.median(r[key] for r in rs)


def summary(res):
    """contender -> {median, min, max, accuracy, records}, plus n and reps: the .json sidecar."""
    out = {c: {"stream": CONTENDERS[c][0], "median": med(rs), "min": min(r["rate"] for r in rs),
               "max": max(r["rate"] for r in rs),
               "accuracy": None if rs[0]["accuracy"] is None else med(rs, "accuracy"), "records": rs[0]["records"]}
           for c, rs in res.items()}
    return {"n": N, "reps": REPS, **out}


def chart(summ, png):
    fig, axes = plt.subplots(1, len(STREAMS), figsize=(10, 4.2), sharey=True)
    for ax, (stream, title) in zip(axes, STREAMS.items()):
        names = [c for c in NAMES if CONTENDERS[c][0] == stream]
        rates = [summ[c]["median"] for c in names]
        short = [c.replace(f" ({stream})", "") for c in names]
        ax.bar(range(len(rates)), rates, color=[COLORS[s] for s in short])
        ax.set_xticks(range(len(rates)), short, rotation=15)
        ax.set_title(title)
        for i, v in enumerate(rates):
            ax.text(i, v, f"{v:,.0f}", ha="center", va="bottom", fontsize=8)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("records/s (median, log scale)")
    fig.suptitle("Kafka topic to topic, 2 cores shared with the broker")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def table(summ):
    lines = ["| stream | contender | records | records/s (median) | min - max | / passthrough | / python + river "
             "| accuracy |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for c in NAMES:
        s, stream = summ[c], CONTENDERS[c][0]
        floor, river = summ[peer(stream, "passthrough")]["median"], summ[peer(stream, "river")]["median"]
        acc = "" if s["accuracy"] is None else f"{s['accuracy']:.4f}"
        lines.append(f"| {stream} | {c} | {s['records']:,} | {s['median']:,.0f} | {s['min']:,.0f} - {s['max']:,.0f}"
                     f" | {s['median'] / floor:.2f} | {s['median'] / river:.1f}x | {acc} |")
    return lines


def write_report(results_dir, res, sizes, version):
    stamp = datetime.date.today().isoformat()
    base = f"{results_dir}/{stamp}-pipeline"
    os.makedirs(results_dir, exist_ok=True)
    summ = summary(res)
    chart(summ, base + ".png")
    with open(base + ".json", "w") as f:
        json.dump(summ, f, indent=1)
    lines = [f"# Pipeline: rtml against the raw client and Python + River ({stamp})", "",
             f"`make bench` / `bench/run.sh pipeline` ({version}); two streams, each in a 4-partition topic: "
             f"**sea**, {N:,} SEA JSON records ({sizes['sea']:.0f} bytes each on average; River: the first "
             f"{RIVER_N:,}), and **cat**, {CAT_N:,} records of {FIELDS} string fields from `bench/gen_categorical.py` "
             f"({sizes['cat']:.0f} bytes; River: the first {RIVER_CAT_N:,}). {REPS} repetitions, all contenders in "
             f"rotated order, after a warm-up, a private broker on this machine's {os.cpu_count()} cores. records/s: "
             "the middle 80% of each run's outputs over the span of their timestamps. Ratios are to the same "
             "stream's passthrough and Python + River.", "",
             f"rtml ftrl (cat) hashes each field into {BUCKETS // FIELDS:,} buckets (2^20 weights), FTRL alpha 0.1, "
             "beta 1 (bench/engine.py's configuration). River has no FTRL: python + river (cat) runs "
             "LogisticRegression (SGD 0.05) over the one-hot dict {\"c<i>=<value>\": 1} (no hashing, so no "
             "collisions), the model bench/engine.py gives River on this stream.", ""]
    lines += table(summ) + ["", f"![records/s]({os.path.basename(base)}.png)", ""]
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines))
    return base + ".md"


def main():
    bins, results_dir = sys.argv[1:3], sys.argv[3]
    benchlib.run_scenario("pipeline", bins[0], lambda work: measure(bins, work),
                          lambda res, version: write_report(results_dir, res[0], res[1], version))


if __name__ == "__main__":
    main()
