"""latency.py - the `latency` benchmark: end-to-end latency under a fixed offered load (open loop), for
    kafka one hop      no pipeline: the probe reads the topic it writes (one broker hop; a pipeline has two)
    passthrough        bench/passthrough.c (librdkafka consume -> produce, no ML): two hops and a relay
    rtml default       rtml run with its defaults: SEA JSON, logistic regression, JSON out
    rtml low-latency   the same with the low-latency profile (LOW_LATENCY below; docs/latency.md)
at BENCH_LAT_RATES records/s (10000,50000) each.

usage: latency.py RTML_BINARY PASSTHROUGH_BINARY PROBE_BINARY RESULTS_DIR
       (bench/run.sh latency builds the passthrough and bench/latency_probe.c, starts a private broker on
       BENCH_LAT_PORT (39392) and stops it; env: BENCH_LAT_RATES, BENCH_LAT_SECONDS (10), BENCH_LAT_REPS (3),
       BENCH_LAT_PARTITIONS (4))

Each run: fresh input and output topics, the contender started, then bench/latency_probe sends a ping and
waits for it on the output (the contender has its partitions and has fetched), then sends RATE x SECONDS
records on a fixed schedule whatever the contender does (open loop: a slow contender cannot slow the load and
hide its own delay) and reads the output topic. Latency of a record = when the probe read its output - when it
was due to be sent, on one clock: the probe's producer, the broker twice, the contender, the probe's consumer.
Percentiles over the records due after the first second. Contenders alternate in a rotated order on each
repetition, after a discarded warm-up run of each at the highest rate. Writes RESULTS_DIR/<date>-latency.md,
.png and .json.
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
PORT = int(ENV("BENCH_LAT_PORT", 39392))
BROKERS = f"127.0.0.1:{PORT}"
RATES = [int(r) for r in ENV("BENCH_LAT_RATES", "10000,50000").split(",")]
SECONDS = float(ENV("BENCH_LAT_SECONDS", 10))
REPS = int(ENV("BENCH_LAT_REPS", 3))
PARTITIONS = int(ENV("BENCH_LAT_PARTITIONS", 4))
STAMP = time.strftime("%H%M%S")
CONTENDERS = ("kafka one hop", "passthrough", "rtml default", "rtml low-latency")
PCTS = ("p50", "p99", "p999")
# The low-latency profile: librdkafka settings in rtml's kafka section (docs/latency.md says why each; linger.ms
# 0 measured worse than 1: a produce request per record).
LOW_LATENCY = {"linger.ms": 1, "socket.nagle.disable": "true"}

log, sh = benchlib.log, benchlib.sh


def rtml_config(path, topic, out, group, state, profile):
    extra = "".join(f", {k}: {v}" for k, v in profile.items())
    with open(path, "w") as f:
        f.write(f"""kafka: {{bootstrap.servers: "{BROKERS}", group.id: {group}, auto.offset.reset: earliest{extra}}}
input: {{topics: [{topic}], format: json}}
features:
{benchlib.SEA_FEATURES}label: {{field: /label}}
model: {{type: logistic, optimizer: {{name: sgd, learning_rate: 0.05}}}}
output: {{topic: {out}, format: json}}
state: {{dir: {state}, checkpoint_every: 5s}}
log: {{level: warn}}
""")


def start(bins, work, who, topic, out, group, n):
    """The contender's process, reading topic from the start: n records plus the probe's ping."""
    rtml, passthrough, _ = bins
    if who == "passthrough":
        cmd = [passthrough, BROKERS, topic, out, str(n + 1), group]
    else:
        cfg = f"{work}/{group}.yaml"
        rtml_config(cfg, topic, out, group, f"{work}/state-{group}", LOW_LATENCY if who == "rtml low-latency" else {})
        cmd = [rtml, "run", "-c", cfg, "--max-records", str(n + 1), "--exit-on-idle", "30"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(f"{work}/{group}.err", "w"))


def run_once(bins, work, who, rate, tag):
    rtml, probe = bins[0], bins[2]
    topic, out, group = f"lat-in-{STAMP}-{tag}", f"lat-out-{STAMP}-{tag}", f"lat-{STAMP}-{tag}"
    if who == "kafka one hop":
        out = topic
    topics = sorted({topic, out})
    for t in topics:
        sh([rtml, "topics", "create", t, "--partitions", str(PARTITIONS), "--brokers", BROKERS],
           stdout=subprocess.DEVNULL)
    n = int(rate * SECONDS)
    proc = None if who == "kafka one hop" else start(bins, work, who, topic, out, group, n)
    try:
        r = subprocess.run([probe, BROKERS, topic, out, str(rate), str(SECONDS)], capture_output=True, text=True,
                           timeout=SECONDS + 200)
        if proc and proc.wait(timeout=60) != 0:
            raise RuntimeError(f"{who} exited {proc.returncode}: see {work}/{group}.err")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
    if r.returncode != 0:
        raise RuntimeError(f"{who} at {rate}/s: latency_probe exited {r.returncode}: {r.stderr.strip()} {r.stdout}")
    for t in topics:
        sh([rtml, "topics", "delete", t, "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    return json.loads(r.stdout)


def measure(bins, work):
    log(f"latency: {', '.join(f'{r:,}' for r in RATES)} records/s for {SECONDS:g} s each, {REPS} repetitions "
        "after a warm-up")
    for c in CONTENDERS:  # discarded: a fresh broker is slow until its JIT has compiled the hot paths
        run_once(bins, work, c, max(RATES), f"warmup-{CONTENDERS.index(c)}")
    res = {(c, r): [] for c in CONTENDERS for r in RATES}
    for rep in range(REPS):
        k = rep % len(CONTENDERS)
        for c in CONTENDERS[k:] + CONTENDERS[:k]:
            for rate in RATES:
                s = run_once(bins, work, c, rate, f"{rep}-{CONTENDERS.index(c)}-{rate}")["steady"]
                res[(c, rate)].append(s)
                log(f"  rep {rep + 1}: {c:17s} {rate:>7,}/s  p50 {s['p50']:7.2f}  p99 {s['p99']:7.2f}  "
                    f"p99.9 {s['p999']:7.2f}  max {s['max']:7.2f} ms")
    return res


def summary(res):
    out = {"rates": RATES, "seconds": SECONDS, "reps": REPS, "partitions": PARTITIONS, "low_latency": LOW_LATENCY,
           "runs": {}}
    for (c, rate), rs in res.items():
        row = {p: statistics.median(r[p] for r in rs) for p in PCTS + ("max",)}
        row.update({f"{p}_min": min(r[p] for r in rs) for p in PCTS})
        row.update({f"{p}_max": max(r[p] for r in rs) for p in PCTS})
        out["runs"][f"{c} @ {rate}"] = row
    return out


def chart(summ, png):
    fig, axes = plt.subplots(1, len(RATES), figsize=(5 * len(RATES), 4), sharey=True, squeeze=False)
    for ax, rate in zip(axes[0], RATES):
        for i, c in enumerate(CONTENDERS):
            row = summ["runs"][f"{c} @ {rate}"]
            w = 0.8 / len(CONTENDERS)
            ax.bar([j + i * w for j in range(len(PCTS))], [row[p] for p in PCTS], width=w, label=c)
        ax.set_xticks([j + 0.4 - 0.4 / len(CONTENDERS) for j in range(len(PCTS))], ["p50", "p99", "p99.9"])
        ax.set_yscale("log")
        ax.set_title(f"{rate:,} records/s offered")
    axes[0][0].set_ylabel("end-to-end latency, ms (median of runs)")
    axes[0][0].legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def write_report(results_dir, res, version):
    stamp = datetime.date.today().isoformat()
    base = f"{results_dir}/{stamp}-latency"
    os.makedirs(results_dir, exist_ok=True)
    summ = summary(res)
    with open(base + ".json", "w") as f:
        json.dump(summ, f, indent=1)
    chart(summ, base + ".png")
    profile = ", ".join(f"{k}: {v}" for k, v in LOW_LATENCY.items())
    lines = [f"# Latency under a fixed load: rtml against the raw client ({stamp})", "",
             f"`make bench` / `bench/run.sh latency` ({version}); open loop, {SECONDS:g} s per run, topics of "
             f"{PARTITIONS} partitions, {REPS} repetitions in rotated order after a warm-up of each, a private broker on "
             f"this machine's {os.cpu_count()} cores. Latency = the probe reading a record's output - the moment "
             "the record was due to be sent (bench/latency_probe.c, one clock); records due after the first "
             "second. Milliseconds, median of the runs (spread of the runs in parentheses).", "",
             f"**rtml low-latency**: `kafka: {{{profile}}}` (docs/latency.md). **rtml default**: no such settings "
             "(linger.ms 2). **passthrough**: librdkafka's defaults but linger.ms 2, as rtml's. **kafka one hop**: "
             "no pipeline, the probe reads the topic it writes; a pipeline's records take two such hops. The "
             "probe's producer: linger.ms 1, Nagle off.", "",
             "| offered records/s | contender | p50 | p99 | p99.9 | max |", "|---:|---|---:|---:|---:|---:|"]
    for rate in RATES:
        for c in CONTENDERS:
            row = summ["runs"][f"{c} @ {rate}"]
            cells = [f"{row[p]:.2f} ({row[p + '_min']:.2f} - {row[p + '_max']:.2f})" for p in PCTS]
            lines.append(f"| {rate:,} | {c} | {' | '.join(cells)} | {row['max']:.1f} |")
    lines += ["", f"![latency]({os.path.basename(base)}.png)", ""]
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines))
    return base + ".md"


def main():
    bins, results_dir = sys.argv[1:4], sys.argv[4]
    benchlib.run_scenario("latency", bins[0], lambda work: measure(bins, work),
                          lambda res, version: write_report(results_dir, res, version))


if __name__ == "__main__":
    main()
