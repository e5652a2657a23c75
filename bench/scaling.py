"""scaling.py - the `scaling` benchmark: records/s of `rtml run` with 1 and 2 workers in one process, and with
1 and 2 processes in one consumer group, on this machine, where the broker shares the cores.

usage: scaling.py RTML_BINARY RESULTS_DIR
       (bench/run.sh scaling starts a private broker on BENCH_SCALE_PORT (39192) and stops it afterwards;
       env: BENCH_SCALE_N (records, 1500000), BENCH_SCALE_REPS (5), BENCH_SCALE_PARTITIONS (8))

Data: BENCH_SCALE_N SEA records (rtml gen, JSON) pre-filled into one input topic of BENCH_SCALE_PARTITIONS
partitions. Pipeline: three standardised features, logistic regression (SGD), test-then-train on every
record, JSON predictions out, at_least_once (rtml's default).

Contenders, each with a fresh consumer group, output topic and state directory per repetition, in a rotated
order on each repetition:
    1 process x 1 worker, 1 process x 2 workers, 2 processes x 1 worker, 2 processes x 2 workers
records/s: the middle 80% of the predictions over the span of their timestamps on the output topic (start-up
and the finish of the members excluded), the same measure for all.
CPU: the rtml processes' user+sys seconds (getrusage of the children) and the broker's (/proc/PID/stat),
each divided by the span (how many of the 2 cores each used) and by the records (the cost of one record,
which docs/scaling.md extends to more cores, partitions and machines). Accuracy: the prequential accuracy of the run,
weighted by records over the workers (each worker's model learns from its own partitions only).
Writes RESULTS_DIR/<date>-scaling.md and .png, and prints a summary.
"""
import datetime
import json
import os
import resource
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
PORT = int(ENV("BENCH_SCALE_PORT", 39192))
BROKERS = f"127.0.0.1:{PORT}"
N = int(ENV("BENCH_SCALE_N", 1500000))
REPS = int(ENV("BENCH_SCALE_REPS", 5))
PARTITIONS = int(ENV("BENCH_SCALE_PARTITIONS", 8))
STAMP = time.strftime("%H%M%S")
# (processes, workers per process)
CONTENDERS = ((1, 1), (1, 2), (2, 1), (2, 2))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def name(c):
    p, w = c
    return f"{p} process{'es' if p > 1 else ''} x {w} worker{'s' if w > 1 else ''}"


log, sh = benchlib.log, benchlib.sh


def broker_cpu():
    """The broker's user+sys CPU seconds so far (its pid from scripts/kafka.sh's run directory)."""
    with open(f"{ROOT}/.run/kafka-{PORT}/broker.pid") as f:
        pid = f.read().strip()
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def output_rate(topic):
    return benchlib.output_rate(BROKERS, topic)


def config(path, topic, out, group, state, workers):
    with open(path, "w") as f:
        f.write(f"""kafka:
  bootstrap.servers: {BROKERS}
  group.id: {group}
  auto.offset.reset: earliest
input: {{topics: [{topic}], format: json}}
features:
{benchlib.SEA_FEATURES}label: {{field: /label}}
model: {{engine: native, type: logistic, optimizer: {{name: sgd, learning_rate: 0.05}}}}
output: {{topic: {out}, format: json}}
state: {{dir: {state}, checkpoint_every: 5s}}
workers: {workers}
log: {{level: warn}}
""")


def run_once(rtml, work, topic, c, tag):
    procs, workers = c
    out = f"scale-out-{STAMP}-{tag}"
    sh([rtml, "topics", "create", out, "--partitions", "4", "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    group = f"scale-{STAMP}-{tag}"
    cpu0, b0 = children_cpu(), broker_cpu()
    running = []
    for k in range(procs):
        cfg = f"{work}/{tag}-{k}.yaml"
        config(cfg, topic, out, group, f"{work}/state-{tag}-{k}", workers)
        running.append(subprocess.Popen([rtml, "run", "-c", cfg, "--exit-on-idle", "3"], stdout=subprocess.PIPE,
                                        stderr=open(f"{work}/{tag}-{k}.err", "w"), text=True))
    reports = []
    for p in running:
        stdout, _ = p.communicate(timeout=900)
        if p.returncode != 0:  # the work dir is removed on the way out: the error goes into the message
            errs = "".join(open(f"{work}/{tag}-{k}.err").read()[-1500:] for k in range(procs))
            raise RuntimeError(f"rtml run failed ({p.returncode}) in {tag}; its stderr:\n{errs}")
        reports.append(json.loads(stdout.strip().splitlines()[-1]))
    cpu, bcpu = children_cpu() - cpu0, broker_cpu() - b0
    count, rate, secs = output_rate(out)
    sh([rtml, "topics", "delete", out, "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    per = [w for r in reports for w in r.get("per_worker", [r])]
    records = sum(w["records"] for w in per)
    if count != N or records != N:
        raise RuntimeError(f"{name(c)}: {count} predictions and {records} records read, expected {N} of each")
    acc = sum(w["metrics"]["accuracy"] * w["records"] for w in per if w["records"]) / records
    # Idle time after the last record (--exit-on-idle) is not work: CPU is spread over the whole run, so the
    # cores used while working are an upper estimate of the rtml processes' CPU share divided by the span.
    return {"rate": rate, "seconds": secs, "accuracy": acc,
            "rtml_cpu": cpu, "broker_cpu": bcpu, "members": procs * workers}


def measure(rtml, work):
    topic = f"scale-in-{STAMP}"
    sh([rtml, "topics", "create", topic, "--partitions", str(PARTITIONS), "--brokers", BROKERS],
       stdout=subprocess.DEVNULL)
    data = f"{work}/sea.jsonl"
    with open(data, "w") as f:
        sh([rtml, "gen", "--stream", "sea", "--n", str(N), "--seed", "7"], stdout=f)
    sh([rtml, "produce", "--topic", topic, "--input", data, "--key-field", "/id", "--brokers", BROKERS],
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log(f"scaling: {N} records in {topic} ({PARTITIONS} partitions); {REPS} repetitions after a warm-up")
    # A fresh broker is slow for its first run (the JVM compiles its hot paths, the topic enters the page
    # cache): measured, the first run of any contender was up to 2x slower. One run is discarded.
    run_once(rtml, work, topic, CONTENDERS[0], "warmup")
    res = {name(c): [] for c in CONTENDERS}
    for rep in range(REPS):
        k = rep % len(CONTENDERS)
        for c in CONTENDERS[k:] + CONTENDERS[:k]:
            r = run_once(rtml, work, topic, c, f"{rep}-{c[0]}p{c[1]}w")
            res[name(c)].append(r)
            log(f"  rep {rep + 1}: {name(c):26s} {r['rate']:>10,.0f} records/s  accuracy {r['accuracy']:.4f}  "
                f"rtml CPU {r['rtml_cpu']:.1f} s, broker CPU {r['broker_cpu']:.1f} s over {r['seconds']:.2f} s")
    sh([rtml, "topics", "delete", topic, "--brokers", BROKERS], stdout=subprocess.DEVNULL)
    return res


def med(rs, key):
    return statistics.median(r[key] for r in rs)


def chart(res, path):
    names = list(res)
    rates = [med(res[n], "rate") for n in names]
    lo = [rates[i] - min(r["rate"] for r in res[n]) for i, n in enumerate(names)]
    hi = [max(r["rate"] for r in res[n]) - rates[i] for i, n in enumerate(names)]
    fig, ax = plt.subplots(figsize=(9, 4.4))
    ax.bar(range(len(names)), rates, yerr=[lo, hi], capsize=4, color=["#4c72b0", "#55a868", "#c44e52", "#8172b2"])
    ax.set_xticks(range(len(names)), [n.replace(" x ", "\nx ") for n in names])
    ax.set_ylabel("records/s (median, min-max)")
    ax.set_title(f"rtml run, SEA logistic, {N:,} records, {PARTITIONS} partitions, 2 cores shared with the broker")
    for i, v in enumerate(rates):
        ax.text(i, v, f"{v:,.0f}", ha="center", va="bottom")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_report(results_dir, res, version):
    stamp = datetime.date.today().isoformat()
    md, png = f"{results_dir}/{stamp}-scaling.md", f"{results_dir}/{stamp}-scaling.png"
    os.makedirs(results_dir, exist_ok=True)
    chart(res, png)
    base = med(res[name(CONTENDERS[0])], "rate")
    lines = [f"# Scaling: workers and instances ({stamp})", "",
             f"`bench/run.sh scaling` ({version}); {N:,} SEA records, {PARTITIONS} input partitions, logistic "
             f"regression, at_least_once, {REPS} repetitions in rotated order; a private broker on this machine's "
             f"{os.cpu_count()} cores. records/s: the middle 80% of the predictions over the span of their "
             "timestamps; CPU in cores used over the whole output span (rtml: all its processes, from getrusage, "
             "start-up and the idle wait included, so an upper estimate; broker: /proc).", "",
             "| contender | records/s (median) | min - max | vs 1x1 | accuracy | rtml cores | broker cores | "
             "rtml CPU µs/record | broker CPU µs/record |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, rs in res.items():
        rate = med(rs, "rate")
        secs = med(rs, "seconds")
        lines.append(f"| {n} | {rate:,.0f} | {min(r['rate'] for r in rs):,.0f} - {max(r['rate'] for r in rs):,.0f} | "
                     f"{rate / base:.2f}x | {med(rs, 'accuracy'):.4f} | {med(rs, 'rtml_cpu') / secs:.2f} | "
                     f"{med(rs, 'broker_cpu') / secs:.2f} | {med(rs, 'rtml_cpu') / N * 1e6:.1f} | "
                     f"{med(rs, 'broker_cpu') / N * 1e6:.1f} |")
    lines += ["", f"![records/s]({os.path.basename(png)})", ""]
    with open(md, "w") as f:
        f.write("\n".join(lines))
    return md


def main():
    rtml, results_dir = sys.argv[1:3]
    benchlib.run_scenario("scaling", rtml, lambda work: measure(rtml, work),
                          lambda res, version: write_report(results_dir, res, version))


if __name__ == "__main__":
    main()
