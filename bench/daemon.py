"""daemon.py - the `daemon` benchmark: instructions per record of the whole `rtml run` process (every thread:
the loop, librdkafka's broker threads) beside bench/passthrough.c's, topic to topic on one private broker.

    daemon.py RTML PASSTHROUGH RESULTS_DIR      (bench/run.sh daemon starts the broker on $BENCH_DAEMON_PORT)

Why: the pipeline scenario's records/s ratio moves by tens of percent from run to run on this 2-core machine,
where the broker shares the cores with the contenders; a count of instructions does not (callgrind runs each
process alone, serialising its threads), so a change to the daemon's own cost shows. It is not a throughput:
the broker's share and the waiting are outside it.

Both read the same N SEA records (`rtml gen --stream sea`, 4 partitions, keyed by id) from the beginning in a
fresh group and write one record per input to a topic of their own: the passthrough copies the bytes (at least
once: an offset stored after its output is acknowledged), rtml scores them with logistic regression (SGD) on
three standardised features, at least once, checkpointing every 5 s. Each runs once under
`valgrind --tool=callgrind --separate-threads=yes`; the figures are the sum over its threads / N, and the
main thread's alone. BENCH_BASELINE_BIN: an older rtml, run the same way after them (its own group and output
topic), for a before/after in one run; BENCH_BASELINE_NAME names it in the report (default: its path). Writes RESULTS_DIR/<date>-daemon.md and .json; prints a summary."""
import datetime
import glob
import json
import os
import subprocess
import sys
import tempfile

from confluent_kafka.admin import AdminClient, NewTopic

import benchlib

PORT = int(os.environ.get("BENCH_DAEMON_PORT", 39592))
BROKERS = f"127.0.0.1:{PORT}"
N = int(os.environ.get("BENCH_DAEMON_N", 200000))
STAMP = datetime.datetime.now().strftime("%H%M%S")


def create(*topics):
    admin = AdminClient({"bootstrap.servers": BROKERS})
    for f in admin.create_topics([NewTopic(t, 4, 1) for t in topics]).values():
        f.result()


def callgrind(tag, cmd, work):
    """{threads: {n: instructions}, total, main} of cmd under callgrind; cmd's stdout."""
    out = f"{work}/callgrind-{tag}.out"
    run = subprocess.run(["valgrind", "--tool=callgrind", "--separate-threads=yes", f"--callgrind-out-file={out}",
                          *cmd], capture_output=True, text=True, check=True)
    threads = {}
    for path in sorted(glob.glob(out + "-*")):
        with open(path) as f:
            for line in f:
                if line.startswith("summary:"):
                    threads[int(path.rsplit("-", 1)[1])] = int(line.split()[1])
                    break
    return {"threads": threads, "total": sum(threads.values()), "main": threads.get(1, 0)}, run.stdout


def main():
    rtml, passthrough, results = sys.argv[1:4]
    work = tempfile.mkdtemp(prefix="rtml-bench-daemon-")
    baseline = os.environ.get("BENCH_BASELINE_BIN")
    src, out_pt, out_rtml = f"daemon-in-{STAMP}", f"daemon-pt-{STAMP}", f"daemon-rtml-{STAMP}"
    create(src, out_pt, out_rtml, f"{out_rtml}-baseline")
    data = f"{work}/sea.jsonl"
    benchlib.sh([rtml, "gen", "--stream", "sea", "--n", str(N), "--seed", "1", "-o", data])
    benchlib.sh([rtml, "produce", "--topic", src, "--input", data, "--key-field", "/id", "--brokers", BROKERS],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    benchlib.log(f"daemon: {N} SEA records in {src}; passthrough, then rtml, each under callgrind")
    pt, _ = callgrind("passthrough", [passthrough, BROKERS, src, out_pt, str(N), f"daemon-pt-{STAMP}"], work)
    runs = {"passthrough": pt}
    for tag, binary, out in (("rtml", rtml, out_rtml), ("baseline", baseline, f"{out_rtml}-baseline")):
        if not binary:
            continue
        cfg = f"{work}/{tag}.yaml"
        with open(cfg, "w") as f:
            f.write(f"""kafka: {{bootstrap.servers: "{BROKERS}", group.id: daemon-{tag}-{STAMP}, auto.offset.reset: earliest}}
input: {{topics: [{src}], format: json}}
features:
{benchlib.SEA_FEATURES}label: {{field: /label}}
model: {{engine: native, type: logistic, optimizer: {{name: sgd, learning_rate: 0.05}}}}
output: {{topic: {out}, format: json}}
state: {{dir: {work}/state-{tag}, checkpoint_every: 5s}}
log: {{level: warn}}
""")
        runs[tag], report = callgrind(tag, [binary, "run", "-c", cfg, "--exit-on-idle", "3"], work)
        r = json.loads(report.strip().splitlines()[-1])
        assert r["records"] == N, f"{tag} read {r['records']} of {N} records"
        runs[tag]["pauses"] = r["pauses"]
    per = {k: {"total": v["total"] / N, "main": v["main"] / N} for k, v in runs.items()}
    ratio = per["passthrough"]["total"] / per["rtml"]["total"]
    lines = [f"# Daemon: instructions per record, rtml against the raw client ({datetime.date.today()})\n",
             f"`bench/run.sh daemon` ({N:,} SEA records, 4 partitions, one private broker; callgrind, every thread "
             "of each process; see bench/daemon.py for what each does). Not a throughput: the broker and the "
             "waiting are outside it; it shows the client side's cost where a records/s ratio is noise.\n",
             "| process | per record, all threads | main thread | threads |", "|---|---:|---:|---:|"]
    label = os.environ.get("BENCH_BASELINE_NAME", baseline)
    names = {"passthrough": "passthrough", "rtml": "rtml logistic", "baseline": f"rtml logistic, baseline ({label})"}
    for k, v in runs.items():
        lines.append(f"| {names[k]} | {per[k]['total']:,.0f} | {per[k]['main']:,.0f} | {len(v['threads'])} |")
    lines.append(f"\npassthrough / rtml, all threads: **{ratio:.2f}**"
                 + (f" (baseline: {per['passthrough']['total'] / per['baseline']['total']:.2f})" if baseline else "")
                 + f"; input pauses: rtml {runs['rtml']['pauses']}"
                 + (f", baseline {runs['baseline']['pauses']}" if baseline else "") + "\n")
    os.makedirs(results, exist_ok=True)
    base = f"{results}/{datetime.date.today()}-daemon"
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines))
    with open(base + ".json", "w") as f:
        json.dump({"n": N, "per_record": per, "ratio": ratio, "baseline": baseline,
                   "threads": {k: v["threads"] for k, v in runs.items()}}, f, indent=1)
    benchlib.log(f"daemon: passthrough {per['passthrough']['total']:,.0f}, rtml {per['rtml']['total']:,.0f} "
                 f"instructions per record (all threads; ratio {ratio:.2f}); wrote {base}.md")


if __name__ == "__main__":
    main()
