"""tensorflow.py - the `tensorflow` benchmark: a small Keras MLP served (and trained) through Kafka, rtml's
TensorFlow engine against a Python consumer (confluent-kafka + Keras), on the same broker in the same run;
plus the fixed cost of one TF_SessionRun per batch size.

usage: tensorflow.py RTML_BINARY TF_SESSIONRUN_BINARY RESULTS_DIR
       (bench/run.sh tensorflow builds both binaries, starts a private broker on BENCH_TF_PORT (39092) and
       stops it afterwards; env: BENCH_TF_N, BENCH_TF_N_PY, BENCH_TF_REPS, BENCH_TF_LAT_RATE,
       BENCH_TF_LAT_SECONDS, BENCH_TF_LAT_REPS, BENCH_TF_BATCH, BENCH_DATA)

Model: Input(3) -> Dense(16, relu) -> Dense(1, sigmoid) on SEA's x1..x3 (raw: no transforms on either
side), exported by rtml_tf.export (adam 0.01, binary_crossentropy). Variants: "serve" (rtml:
train_signature: none; Python: predict only) and "serve+train" (test-then-train on every record, which
all carry a label). Both contenders use micro-batches of BENCH_TF_BATCH (64) with a 5 ms max delay.

Throughput: a pre-filled 2-partition topic of BENCH_TF_N SEA records; each contender reads it with its
own consumer group into an output topic of its own. records/s = predictions / (last - first prediction
timestamp on the output topic), the same for both. The Python peer reads only the first BENCH_TF_N_PY.
Contenders: rtml (its defaults), rtml inter_op 1 (a TensorFlow pool thread runs the ops), Python; then
single runs of rtml at other batch sizes / thread counts, and rtml replay (no Kafka) on the same data.
Latency: a fresh input topic, the contender started and assigned first, then `rtml produce --rate
BENCH_TF_LAT_RATE` for BENCH_TF_LAT_SECONDS (open loop); latency = output record timestamp - input record
timestamp (both set by the producing client), per record, joined by the prediction's source offset.
Contenders alternate in a rotated order on each repetition. Writes RESULTS_DIR/<date>-tensorflow.md
and .png, prints a summary.
"""
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from confluent_kafka import Consumer, KafkaError, TopicPartition  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
ENV = os.environ.get
PORT = int(ENV("BENCH_TF_PORT", 39092))
BROKERS = f"127.0.0.1:{PORT}"
N = int(ENV("BENCH_TF_N", 300000))
N_PY = int(ENV("BENCH_TF_N_PY", 20000))
REPS = int(ENV("BENCH_TF_REPS", 3))
LAT_RATE = int(ENV("BENCH_TF_LAT_RATE", 5000))
LAT_SECONDS = float(ENV("BENCH_TF_LAT_SECONDS", 6))
LAT_REPS = int(ENV("BENCH_TF_LAT_REPS", 3))
BATCH = int(ENV("BENCH_TF_BATCH", 64))
MAX_DELAY = 0.005
PARTITIONS = 2
FIXED_BATCHES = [1, 8, 64, 256]
# "rtml inter_op 1": rtml with model.tensorflow.inter_op_threads 1, a TensorFlow pool thread running the ops
# (rtml hands each session run over and waits), beside rtml's default -1 (the ops run in rtml's own thread).
TUNED = "rtml inter_op 1"
SENSITIVITY = ((64, 2), (256, 1))  # (batch, intra_op_threads) of single rtml runs
WHO = ("rtml", TUNED, "Python")
VARIANTS = ("serve", "serve+train")
STAMP = time.strftime("%H%M%S")
TOPICS = []


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def log(msg):
    print(msg, flush=True)


# ---- the Python peer (one long-lived process) --------------------------------------------------------

class Peer:
    def __init__(self, errlog):
        self.err = open(errlog, "w")
        self.p = subprocess.Popen([PY, f"{HERE}/tf_peer.py"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, text=True, bufsize=1)

    def send(self, **cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()

    def recv(self):
        for line in self.p.stdout:
            line = line.strip()
            if line.startswith("{"):
                msg = json.loads(line)
                if "error" in msg:
                    raise RuntimeError(f"tf_peer: {msg['error']}")
                return msg
        raise RuntimeError(f"tf_peer exited (status {self.p.wait()}): see {self.err.name}")

    def close(self):
        try:
            self.send(cmd="quit")
            self.p.wait(30)
        except Exception:
            self.p.kill()
        self.err.close()


# ---- Kafka helpers -----------------------------------------------------------------------------------

def create_topic(rtml, name):
    sh([rtml, "topics", "create", name, "--partitions", str(PARTITIONS), "--brokers", BROKERS],
       stdout=subprocess.DEVNULL)
    TOPICS.append(name)
    return name


def read_topic(topic):
    """Every record of topic: (partition, offset, timestamp ms, value)."""
    c = Consumer({"bootstrap.servers": BROKERS, "group.id": f"bench-read-{STAMP}", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    parts = c.list_topics(topic, timeout=10).topics[topic].partitions
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    out, eof = [], set()
    deadline = time.time() + 60
    while len(eof) < len(parts) and time.time() < deadline:
        for m in c.consume(10000, timeout=1):
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                continue
            out.append((m.partition(), m.offset(), m.timestamp()[1], m.value()))
    c.close()
    return out


def output_span(topic):
    """(records, seconds) of an output topic: its record count, and the time between its first and last
    record timestamps (each partition is written in order, so its first and last records suffice)."""
    c = Consumer({"bootstrap.servers": BROKERS, "group.id": f"bench-span-{STAMP}", "enable.auto.commit": False})
    parts = c.list_topics(topic, timeout=10).topics[topic].partitions
    count, first, last = 0, None, None
    for p in parts:
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        if hi <= lo:
            continue
        count += hi - lo
        for off in (lo, hi - 1):
            c.assign([TopicPartition(topic, p, off)])
            m, deadline = None, time.time() + 30
            while m is None or m.error():
                if time.time() > deadline:
                    raise RuntimeError(f"cannot read {topic} [{p}] at offset {off}")
                m = c.poll(5)
            ts = m.timestamp()[1]
            first = ts if first is None else min(first, ts)
            last = ts if last is None else max(last, ts)
    c.close()
    return count, (last - first) / 1000.0 if count else 0.0


# ---- rtml ---------------------------------------------------------------------------------------------

def rtml_config(path, model, topic, out, group, variant, work, batch=None, intra=None, inter=None, tuned=False):
    train = "" if variant == "serve+train" else ", train_signature: none"
    if tuned:
        inter = 1
    threads = (f", intra_op_threads: {intra}" if intra else "") + (f", inter_op_threads: {inter}" if inter else "")
    extra = ""
    with open(path, "w") as f:
        f.write(f"""kafka:
  bootstrap.servers: {BROKERS}
  group.id: {group}
  auto.offset.reset: earliest
{extra}input: {{topics: [{topic}], format: json}}
features:
  - {{name: x1}}
  - {{name: x2}}
  - {{name: x3}}
label: {{field: /label}}
model:
  engine: tensorflow
  tensorflow: {{saved_model: {model}, batch: {batch or BATCH}, max_delay: 5ms{train},
               export_dir: {work}/models{threads}}}
output: {{topic: {out}, format: json}}
state: {{dir: {work}/state}}
""")
    return path


class RtmlRun:
    """`rtml run` in the background; `assigned` is set once it logs its partition assignment."""

    def __init__(self, rtml, config, extra, errlog):
        self.assigned = threading.Event()
        self.errlog = errlog
        self.p = subprocess.Popen([rtml, "run", "-c", config, *extra], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.t = threading.Thread(target=self._drain, daemon=True)
        self.t.start()

    def _drain(self):
        with open(self.errlog, "a") as f:
            for line in self.p.stderr:
                f.write(line)
                if "assigned" in line:
                    self.assigned.set()

    def wait(self):
        out = self.p.stdout.read()
        rc = self.p.wait()
        self.t.join()
        if rc != 0:
            raise RuntimeError(f"rtml run exited {rc}: see {self.errlog}")
        return json.loads(out.strip().splitlines()[-1])


# ---- measurements -------------------------------------------------------------------------------------

def throughput_run(rtml, peer, who, variant, files, topic, tag, **tf):
    out = create_topic(rtml, f"bench-tf-{STAMP}-{tag}-out")
    group = f"bench-tf-{STAMP}-{tag}"
    if who.startswith("rtml"):
        work = tempfile.mkdtemp(dir=files["dir"], prefix=f"{tag}-")
        cfg = rtml_config(f"{work}/run.yaml", files["model"], topic, out, group, variant, work, tuned=who == TUNED,
                          **tf)
        rep = RtmlRun(rtml, cfg, ["--exit-on-idle", "3"], f"{files['dir']}/rtml.log").wait()
        own = rep["records"] / rep["seconds"] if rep["seconds"] else 0
        expect = N
    else:
        peer.send(cmd="run", brokers=BROKERS, topic=topic, out=out, group=group, model=files["keras"], batch=BATCH,
                  max_delay=MAX_DELAY, train=variant == "serve+train", max_records=N_PY, idle=3)
        msg = peer.recv()
        while msg.get("event") != "done":
            msg = peer.recv()
        own = msg["records"] / msg["seconds"] if msg["seconds"] else 0
        expect = N_PY
    count, seconds = output_span(out)
    if count != expect:
        raise RuntimeError(f"{who} {variant}: {count} predictions on {out}, expected {expect}")
    return {"records": count, "seconds": seconds, "rate": count / seconds, "own_rate": own}


def latency_run(rtml, peer, who, variant, files, tag):
    topic = create_topic(rtml, f"bench-tf-{STAMP}-{tag}-in")
    out = create_topic(rtml, f"bench-tf-{STAMP}-{tag}-out")
    group = f"bench-tf-{STAMP}-{tag}"
    n = int(LAT_RATE * LAT_SECONDS)
    if who == "rtml":
        work = tempfile.mkdtemp(dir=files["dir"], prefix=f"{tag}-")
        cfg = rtml_config(f"{work}/run.yaml", files["model"], topic, out, group, variant, work)
        run = RtmlRun(rtml, cfg, ["--max-records", str(n), "--exit-on-idle", "10"], f"{files['dir']}/rtml.log")
        if not run.assigned.wait(90):
            raise RuntimeError("rtml run got no partitions within 90 s")
    else:
        peer.send(cmd="run", brokers=BROKERS, topic=topic, out=out, group=group, model=files["keras"], batch=BATCH,
                  max_delay=MAX_DELAY, train=variant == "serve+train", max_records=n, idle=10)
        if peer.recv().get("event") != "assigned":
            raise RuntimeError("tf_peer: expected the assigned event")
    time.sleep(1)  # let the consumer's first fetch settle: records must not wait for the start-up
    sh([rtml, "produce", "--topic", topic, "--input", files["lat"], "--key-field", "/id", "--rate", str(LAT_RATE),
        "--brokers", BROKERS], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if who == "rtml":
        run.wait()
    else:
        msg = peer.recv()
        if msg.get("event") != "done":
            raise RuntimeError(f"tf_peer: unexpected {msg}")
    ins = {(p, o): ts for p, o, ts, _ in read_topic(topic)}
    t0 = min(ins.values())
    lat, steady = [], []
    for _, _, ts, value in read_topic(out):
        src = json.loads(value)["source"]
        t_in = ins[(src["partition"], src["offset"])]
        lat.append(ts - t_in)
        if t_in - t0 >= 1000:
            steady.append(ts - t_in)
    if len(lat) != n:
        raise RuntimeError(f"{who} {variant}: {len(lat)} predictions for {n} records")
    lat.sort()
    steady.sort()
    pct = lambda xs, q: xs[min(len(xs) - 1, int(len(xs) * q))]  # noqa: E731
    return {"records": n, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "max": lat[-1], "mean": sum(lat) / n,
            "steady_p50": pct(steady, 0.5), "steady_p99": pct(steady, 0.99), "steady_max": steady[-1]}


def rotated(runs, rep, reps):
    k = rep * len(runs) // max(reps, 1) % len(runs)
    return runs[k:] + runs[:k]


# TensorFlow thread settings measured: rtml's defaults (intra 1, inter 1), the same pinned to one core
# (taskset: TensorFlow's pool thread then wakes on the caller's core), two intra-op threads, and ops run in the
# caller's thread (inter_op_parallelism_threads = -1: TensorFlow's option; rtml's config takes >= 1).
THREADS = ((1, 1, False), (1, 1, True), (2, 1, False), (1, -1, False))


def fixed_cost(tfrun, peer, files, sigs):
    s, t = sigs["serving_default"], sigs["train"]
    args = [tfrun, files["model"] + "/1", s["inputs"]["x"]["tensor"], s["outputs"]["output_0"]["tensor"],
            t["inputs"]["x"]["tensor"], t["inputs"]["label"]["tensor"], t["outputs"]["loss"]["tensor"], "3"]
    rows = []
    for intra, inter, pinned in THREADS:
        pin = ["taskset", "-c", "0"] if pinned else []
        out = sh(pin + args + [str(intra), str(inter), "2000", *map(str, FIXED_BATCHES)], capture_output=True,
                 text=True).stdout
        for line in out.splitlines():
            r = json.loads(line)
            r.update(intra=intra, inter=inter, pinned=pinned)
            rows.append(r)
    peer.send(cmd="fixed_cost", model=files["keras"], batches=FIXED_BATCHES, reps=300)
    return rows, peer.recv()["rows"]


def sessionrun(rows, kind, batch, intra=1, inter=1, pinned=False):
    return next(r for r in rows
                if (r["kind"], r["batch"], r["intra"], r["inter"], r["pinned"]) == (kind, batch, intra, inter, pinned))


def replay_rate(rtml, files, variant):
    """rtml replay over the same records: the pipeline without Kafka (JSON decode, TF, encode). The rate is
    taken between a replay of the first third and one of the whole file (replay's own clock), so the cold
    first session runs and the load cancel out."""
    secs = {}
    for name, n in (("head", N // 3), ("data", N)):
        work = tempfile.mkdtemp(dir=files["dir"], prefix="replay-")
        cfg = rtml_config(f"{work}/replay.yaml", files["model"], "unused", "unused", "unused", variant, work)
        out = sh([rtml, "replay", "-c", cfg, "--input", files[name], "--output", "/dev/null"], capture_output=True,
                 text=True).stdout
        rep = json.loads(out.strip().splitlines()[-1])
        assert rep["records"] == n and rep["errors"] == 0, rep
        secs[name] = rep["seconds"]
    return {"rate": (N - N // 3) / (secs["data"] - secs["head"]), "whole_file": N / secs["data"]}


def measure_all(rtml, tfrun, peer, files):
    res = {"load_before": os.getloadavg()}
    peer.send(cmd="export", dir=files["dir"])
    ex = peer.recv()
    res["versions"] = ex["versions"]
    files["model"], files["keras"] = f"{files['dir']}/model", f"{files['dir']}/model.keras"
    n_lat = int(LAT_RATE * LAT_SECONDS)
    files["data"], files["lat"] = f"{files['dir']}/sea-{N}.jsonl", f"{files['dir']}/sea-lat-{n_lat}.jsonl"
    sh([rtml, "gen", "--stream", "sea", "--n", str(N), "--seed", "1", "-o", files["data"]])
    sh([rtml, "gen", "--stream", "sea", "--n", str(n_lat), "--seed", "2", "-o", files["lat"]])
    files["head"] = f"{files['dir']}/sea-{N // 3}.jsonl"
    with open(files["data"]) as src, open(files["head"], "w") as dst:
        for i, line in zip(range(N // 3), src):
            dst.write(line)
    topic = create_topic(rtml, f"bench-tf-{STAMP}-in")
    sh([rtml, "produce", "--topic", topic, "--input", files["data"], "--key-field", "/id", "--brokers", BROKERS],
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log(f"tensorflow: model exported, {N:,} records in {topic}")

    log("tensorflow: fixed cost of one call per batch size")
    rows, py = fixed_cost(tfrun, peer, files, ex["signatures"])
    res["fixed"] = {"sessionrun": rows, "keras": py}
    for b, k in zip(FIXED_BATCHES, py):
        log(f"  batch {b:3}: TF_SessionRun serve {sessionrun(rows, 'serve', b)['median_us']:6.1f} us, train "
            f"{sessionrun(rows, 'train', b)['median_us']:6.1f} us (caller's thread: "
            f"{sessionrun(rows, 'serve', b, 1, -1)['median_us']:5.1f}, {sessionrun(rows, 'train', b, 1, -1)['median_us']:5.1f})"
            f" | Keras predict_on_batch {k['predict_on_batch_us']:5.0f} us, train_on_batch {k['train_on_batch_us']:5.0f} us")

    runs = [(v, who) for v in VARIANTS for who in WHO]
    tp = res["throughput"] = {}
    for rep in range(REPS):
        for v, who in rotated(runs, rep, REPS):
            tag = f"tp{rep}-{v.replace('+', '')}-{who.replace(' ', '')}"
            r = throughput_run(rtml, peer, who, v, files, topic, tag)
            tp.setdefault(f"{v}/{who}", []).append(r)
            log(f"  rep {rep + 1}: throughput {v:11} {who:10} {r['rate']:>10,.0f} records/s "
                f"({r['records']:,} in {r['seconds']:.2f} s; own clock {r['own_rate']:,.0f}/s)")

    res["replay"] = {v: replay_rate(rtml, files, v) for v in VARIANTS}
    for v, r in res["replay"].items():
        log(f"  rtml replay (no Kafka) {v:11} {r['rate']:>10,.0f} records/s (whole file {r['whole_file']:,.0f}/s)")
    sens = res["sensitivity"] = []
    for v in VARIANTS:
        for batch, intra in SENSITIVITY:
            r = throughput_run(rtml, peer, "rtml", v, files, topic, f"sens-{v.replace('+', '')}-{batch}-{intra}",
                               batch=batch, intra=intra)
            r.update(variant=v, batch=batch, intra=intra)
            sens.append(r)
            log(f"  rtml {v:11} batch {batch:3} intra_op_threads {intra}: {r['rate']:>10,.0f} records/s")

    lat = res["latency"] = {}
    runs = [(v, who) for v in VARIANTS for who in ("rtml", "Python")]
    for rep in range(LAT_REPS):
        for v, who in rotated(runs, rep, LAT_REPS):
            tag = f"lat{rep}-{v.replace('+', '')}-{who}"
            r = latency_run(rtml, peer, who, v, files, tag)
            lat.setdefault(f"{v}/{who}", []).append(r)
            log(f"  rep {rep + 1}: latency {v:11} {who:6} p50 {r['p50']:4.0f} ms  p99 {r['p99']:4.0f} ms  "
                f"max {r['max']:4.0f} ms | after the first second: p99 {r['steady_p99']:4.0f} ms  "
                f"max {r['steady_max']:4.0f} ms")
    res["load_after"] = os.getloadavg()
    return res


# ---- report -------------------------------------------------------------------------------------------

def med(xs):
    return statistics.median(xs)


def spread(xs, fmt="{:,.0f}"):
    return f"{fmt.format(min(xs))} - {fmt.format(max(xs))}"


def chart(res, path):
    tp, lat, (rows, py) = res["throughput"], res["latency"], (res["fixed"]["sessionrun"], res["fixed"]["keras"])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    for j, who in enumerate(WHO):
        ys = [med([r["rate"] for r in tp[f"{v}/{who}"]]) for v in VARIANTS]
        bars = ax.bar([i + (j - 1) * 0.27 for i in range(len(VARIANTS))], ys, 0.27,
                      label=who)
        ax.bar_label(bars, [f"{y / 1000:,.0f}k" for y in ys], fontsize=8)
    ax.set_xticks(range(len(VARIANTS)), VARIANTS)
    ax.set_ylabel("records / s (median)")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.25)
    ax.set_title(f"throughput through Kafka (batch {BATCH})")
    ax.legend(loc="upper right", fontsize=8)
    ax = axes[1]
    labels = [f"{who}\n{v}" for v in VARIANTS for who in ("rtml", "Python")]
    keys = [f"{v}/{who}" for v in VARIANTS for who in ("rtml", "Python")]
    xs = list(range(len(keys)))
    for off, field, name in ((-0.27, "p50", "p50"), (0, "p99", "p99"), (0.27, "steady_p99", "p99 after 1st s")):
        ax.bar([x + off for x in xs], [med([r[field] for r in lat[k]]) for k in keys], 0.27, label=name)
    ax.set_xticks(xs, labels, fontsize=8)
    ax.set_ylabel("ms, input record produced -> prediction produced")
    ax.set_title(f"end-to-end latency at {LAT_RATE:,} records/s (median of runs)")
    ax.legend()
    ax = axes[2]
    for kind, mark in (("serve", "o"), ("train", "s")):
        ax.plot(FIXED_BATCHES, [sessionrun(rows, kind, b)["median_us"] for b in FIXED_BATCHES], mark + "-",
                label=f"TF_SessionRun {kind} (rtml's threads)")
        ax.plot(FIXED_BATCHES, [sessionrun(rows, kind, b, 1, -1)["median_us"] for b in FIXED_BATCHES], mark + ":",
                label=f"TF_SessionRun {kind}, caller's thread")
    ax.plot(FIXED_BATCHES, [k["predict_on_batch_us"] for k in py], "o--", label="Keras predict_on_batch")
    ax.plot(FIXED_BATCHES, [k["train_on_batch_us"] for k in py], "s--", label="Keras train_on_batch")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_ylim(5, ax.get_ylim()[1] * 15)  # room for the legend above the lines
    ax.set_xticks(FIXED_BATCHES, [str(b) for b in FIXED_BATCHES])
    ax.set_xlabel("batch size")
    ax.set_ylabel("µs per call (median)")
    ax.set_title("fixed cost of one call")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_report(results_dir, res, rtml_version):
    stamp = datetime.date.today().isoformat()
    md, png = f"{results_dir}/{stamp}-tensorflow.md", f"{results_dir}/{stamp}-tensorflow.png"
    os.makedirs(results_dir, exist_ok=True)
    chart(res, png)
    tp, lat, rows, py = res["throughput"], res["latency"], res["fixed"]["sessionrun"], res["fixed"]["keras"]
    v = res["versions"]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    rate = {k: med([r["rate"] for r in rs]) for k, rs in tp.items()}
    ratio = {x: rate[f"{x}/rtml"] / rate[f"{x}/Python"] for x in VARIANTS}
    ratio_tuned = {x: rate[f"{x}/{TUNED}"] / rate[f"{x}/Python"] for x in VARIANTS}
    out = [f"# tensorflow benchmark, {stamp}\n",
           f"Reproduce: `bench/run.sh tensorflow` (env BENCH_TF_N={N} BENCH_TF_N_PY={N_PY} BENCH_TF_REPS={REPS} "
           f"BENCH_TF_BATCH={BATCH} BENCH_TF_LAT_RATE={LAT_RATE} BENCH_TF_LAT_SECONDS={LAT_SECONDS:g} "
           f"BENCH_TF_LAT_REPS={LAT_REPS}). CPU: {cpu}, {os.cpu_count()} cores; load average (1 min) "
           f"{res['load_before'][0]:.2f} before, {res['load_after'][0]:.2f} after. The scenario took "
           f"{res['seconds']:.0f} s, broker start and build excluded.\n",
           f"rtml: {rtml_version}. Python peer: Python {v['python']}, TensorFlow {v['tensorflow']}, Keras "
           f"{v['keras']}, confluent-kafka {v['confluent_kafka']} (its own librdkafka {v['librdkafka']}), numpy "
           f"{v['numpy']}. One single-node KRaft broker (`scripts/kafka.sh start --port {PORT}`) on the same "
           "machine, shared by every run; topics of 2 partitions.\n",
           "**Model**: Keras `Input(3) -> Dense(16, relu) -> Dense(1, sigmoid)` over SEA's raw x1..x3 (no "
           "transforms on either side), exported once by `rtml_tf.export` (adam 0.01, binary_crossentropy) as a "
           "SavedModel for rtml and saved as `.keras` (same initial weights) for Python; every run starts from "
           "those weights. **serve**: rtml with `train_signature: none`, Python `predict_on_batch` only. "
           "**serve+train**: test-then-train on every record (all SEA records are labelled): rtml runs the "
           "SavedModel's train signature on each scored micro-batch, Python `train_on_batch` on it. "
           f"Both use micro-batches of {BATCH} records, at most {MAX_DELAY * 1000:g} ms waiting for a batch to "
           "fill (rtml `max_delay: 5ms`, Python `consume(num_messages=64, timeout=0.005)`).\n",
           "**rtml**: `rtml run -c CONFIG` (engine tensorflow with its defaults: `intra_op_threads: 1`, "
           "`inter_op_threads: -1` (the ops run in rtml's own thread), consumer `queued.min.messages: 1000000`), at least once (an input offset is committed only after its prediction was "
           "acknowledged). **Python** (`bench/tf_peer.py`): confluent-kafka consumer (auto-commit: less work "
           "than rtml's bookkeeping), `json.loads`, numpy, Keras, one `json.dumps` prediction per record in "
           "rtml's format, keyed like the input, producer configured like rtml's (idempotent, linger.ms 2); "
           "TensorFlow's default thread pools (2 cores). The model is loaded and warmed up (Keras traces its "
           "functions on first use) before the consumer subscribes; rtml warms both signatures when it loads the model.\n",
           "## Throughput through Kafka\n",
           f"A pre-filled topic of {N:,} SEA records (`rtml gen --stream sea`, `rtml produce --key-field /id`); "
           "each run reads it from the start with a consumer group of its own and writes to an output topic of "
           "its own. **records/s = predictions / (last - first prediction timestamp on the output topic)**, the "
           "same measure for both (timestamps set by each contender's producer at produce time, read back from "
           f"the broker). Python reads only the first {N_PY:,} records (it is several times slower; its rate is "
           "steady after its warm-up, which happens before it subscribes). *own clock*: each contender's own "
           "first-to-last consumed record span (rtml's final report). "
           f"{REPS} repetitions, contenders in a rotated order on each. **rtml inter_op 1** is rtml with "
           "`inter_op_threads: 1`: a TensorFlow pool thread runs the ops and rtml hands each session run over "
           "(see *Fixed cost of one call*).\n",
           "| variant | contender | records | median records/s | spread (min - max) | own clock, median |",
           "|---|---|---:|---:|---|---:|"]
    for x in VARIANTS:
        for who in WHO:
            rs = tp[f"{x}/{who}"]
            out.append(f"| {x} | {who} | {rs[0]['records']:,} | {rate[f'{x}/{who}']:,.0f} | "
                       f"{spread([r['rate'] for r in rs])} | {med([r['own_rate'] for r in rs]):,.0f} |")
    out += ["", "| variant | rtml / Python (medians) | rtml inter_op 1 / Python | target |", "|---|---:|---:|---:|"]
    for x in VARIANTS:
        out.append(f"| {x} | **{ratio[x]:.1f}x** | **{ratio_tuned[x]:.1f}x** | 10x |")
    out += ["", "## End-to-end latency\n",
            f"A fresh input topic per run; the contender is started, gets its partitions, then `rtml produce "
            f"--rate {LAT_RATE}` sends {int(LAT_RATE * LAT_SECONDS):,} records over {LAT_SECONDS:g} s (open loop). "
            "Latency of a record = timestamp of its prediction on the output topic - timestamp of the input record "
            "(both set by the producing client: input by `rtml produce`, whose linger.ms of 5 is included; output "
            "by the contender at produce time). *after the first second*: records produced from the second second "
            "on, i.e. without the start-up transient (rtml's first TF_SessionRun of each signature is cold, see "
            f"below). Milliseconds; median over {LAT_REPS} runs, with the spread of the runs' p99.\n",
            "| variant | contender | p50 | p99 | p99 spread | max | p50 after 1st s | p99 after 1st s | "
            "max after 1st s |", "|---|---|---:|---:|---|---:|---:|---:|---:|"]
    for x in VARIANTS:
        for who in ("rtml", "Python"):
            rs = lat[f"{x}/{who}"]
            m = {f: med([r[f] for r in rs]) for f in ("p50", "p99", "max", "steady_p50", "steady_p99", "steady_max")}
            out.append(f"| {x} | {who} | {m['p50']:.0f} | {m['p99']:.0f} | {spread([r['p99'] for r in rs])} | "
                       f"{m['max']:.0f} | {m['steady_p50']:.0f} | {m['steady_p99']:.0f} | {m['steady_max']:.0f} |")
    s1, t1 = sessionrun(rows, "serve", FIXED_BATCHES[0]), sessionrun(rows, "train", FIXED_BATCHES[0])
    out += ["", "## Fixed cost of one call\n",
            "`bench/tf_sessionrun.c`: the exported SavedModel loaded through the TensorFlow C API with rtml's "
            "session options, then per batch size 50 warm-up calls and 2000 timed `TF_SessionRun` calls (the "
            "call only: input tensors built once, outside the clock); median µs per call and per record, p10 - "
            "p90 in parentheses. *pool threads*: intra_op 1, inter_op 1 (`inter_op_threads: 1`). *2 intra*: "
            "intra_op_threads 2. *pinned*: pool threads, the process pinned to one core (`taskset -c 0`). "
            "*caller's thread*: inter_op_parallelism_threads = -1, TensorFlow's setting "
            "for running every op in the thread that calls TF_SessionRun (rtml's default, `inter_op_threads: -1`). "
            "With pool threads every call hands its ops to a TensorFlow pool thread and waits for it; when "
            "that thread sleeps on the other core, the wake-up dominates the call (this VM: a serve call has "
            "measured from ~19 µs to ~90 µs on different runs, unpinned); pinned, it wakes on the same core; in "
            "the caller's thread there is no hand-off at all. "
            "Keras: median of 300 calls of `predict_on_batch`, `model(x, training=False)` and "
            "`train_on_batch` on the same model (TensorFlow's default threads).\n",
            "| batch | serve µs (pool threads) | µs/record | train µs (pool threads) | µs/record | serve, 2 intra | "
            "serve, pinned | train, pinned | serve, caller's thread | train, caller's thread | Keras predict_on_batch | "
            "Keras model(x) | Keras train_on_batch |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for b, k in zip(FIXED_BATCHES, py):
        sv, tr = sessionrun(rows, "serve", b), sessionrun(rows, "train", b)
        s2, sc, tc = sessionrun(rows, "serve", b, 2, 1), sessionrun(rows, "serve", b, 1, -1), sessionrun(rows, "train", b, 1, -1)
        sp, tp_ = sessionrun(rows, "serve", b, pinned=True), sessionrun(rows, "train", b, pinned=True)
        out.append(f"| {b} | {sv['median_us']:.1f} ({sv['p10_us']:.0f} - {sv['p90_us']:.0f}) | "
                   f"{sv['median_us'] / b:.2f} | {tr['median_us']:.1f} ({tr['p10_us']:.0f} - {tr['p90_us']:.0f}) | "
                   f"{tr['median_us'] / b:.2f} | {s2['median_us']:.1f} | {sp['median_us']:.1f} | {tp_['median_us']:.1f} | "
                   f"{sc['median_us']:.1f} | {tc['median_us']:.1f} | "
                   f"{k['predict_on_batch_us']:.0f} | {k['call_us']:.0f} | {k['train_on_batch_us']:.0f} |")
    out += ["", f"The first call of each signature in a fresh session (cold: TensorFlow instantiates and optimises "
            f"the signature's function): serve {s1['first_us'] / 1000:.1f} ms, train {t1['first_us'] / 1000:.1f} ms "
            "(pool threads). rtml pays it once per model load (start, hot reload), in its warm-up, before records are scored.\n"]
    # where rtml's time goes
    out += ["## What limits rtml\n",
            "librdkafka before 2.3 (rtml links Debian 12's 2.0.2) stops fetching a partition for a fixed second "
            "once its prefetch queue holds `queued.min.messages` records (librdkafka's default 100,000; issue "
            "#2879), so a fast consumer drains the queue and idles; rtml sets 1,000,000 unless the config says "
            "otherwise. What remains is the Kafka path itself: one broker, rtml's consumer and producer threads "
            "and its pipeline share 2 cores, so rtml runs well below its replay rate (no Kafka), where the "
            "TensorFlow calls are a small part of each micro-batch.\n",
            "| measurement | serve | serve+train |", "|---|---:|---:|"]
    for who in ("rtml", TUNED):
        out.append(f"| {who} run through Kafka, records/s (median, above) | " +
                   " | ".join(f"{rate[f'{x}/{who}']:,.0f}" for x in VARIANTS) + " |")
    out.append("| rtml replay of the same records, no Kafka (`rtml replay --output /dev/null`; rate between "
               "replays of the first third and of the whole file, so that the cold first calls cancel out) | " +
               " | ".join(f"{res['replay'][x]['rate']:,.0f}" for x in VARIANTS) + " |")
    per_batch = {x: BATCH / rate[f"{x}/rtml"] * 1e6 for x in VARIANTS}
    tf_us = {"serve": sessionrun(rows, "serve", BATCH)["median_us"],
             "serve+train": sessionrun(rows, "serve", BATCH)["median_us"] + sessionrun(rows, "train", BATCH)["median_us"]}
    tf_caller = {"serve": sessionrun(rows, "serve", BATCH, 1, -1)["median_us"],
                 "serve+train": sessionrun(rows, "serve", BATCH, 1, -1)["median_us"] +
                 sessionrun(rows, "train", BATCH, 1, -1)["median_us"]}
    out.append(f"| µs per micro-batch of {BATCH} in rtml run | " +
               " | ".join(f"{per_batch[x]:,.0f}" for x in VARIANTS) + " |")
    out.append(f"| of which TF_SessionRun (batch {BATCH}, ops in the caller's thread as rtml runs them) | " +
               " | ".join(f"{tf_caller[x]:,.0f} ({100 * tf_caller[x] / per_batch[x]:.0f}%)" for x in VARIANTS) + " |")
    out.append("| the same TF_SessionRun calls handed to pool threads (`inter_op_threads: 1`) | " +
               " | ".join(f"{tf_us[x]:,.0f}" for x in VARIANTS) + " |")
    for batch, intra in SENSITIVITY:
        cells = []
        for x in VARIANTS:
            r = next(r for r in res["sensitivity"] if (r["variant"], r["batch"], r["intra"]) == (x, batch, intra))
            cells.append(f"{r['rate']:,.0f}")
        out.append(f"| rtml, batch {batch}, intra_op_threads {intra} (one run), records/s | " +
                   " | ".join(cells) + " |")
    out += ["", "The Python peer's budget, for comparison: at its median rate a batch of "
            f"{BATCH} takes " + ", ".join(f"{BATCH / rate[f'{x}/Python'] * 1e6:,.0f} µs ({x})" for x in VARIANTS) +
            f", of which Keras predict_on_batch {py[FIXED_BATCHES.index(BATCH)]['predict_on_batch_us']:,.0f} µs and "
            f"train_on_batch {py[FIXED_BATCHES.index(BATCH)]['train_on_batch_us']:,.0f} µs; the rest is Python "
            "per record (json.loads, numpy, json.dumps, produce).\n",
            f"![tensorflow benchmark]({os.path.basename(png)})", ""]
    with open(md, "w") as f:
        f.write("\n".join(out) + "\n")
    with open(md[:-3] + ".json", "w") as f:  # what bench/summary.py reads
        json.dump({"rates": rate, "ratios": ratio, "ratios_inter_op_1": ratio_tuned, "n": N, "n_python": N_PY,
                   "reps": REPS, "batch": BATCH}, f, indent=1)
    summary = [f"tensorflow: throughput {x:11} rtml {rate[f'{x}/rtml']:>8,.0f}/s  {TUNED} "
               f"{rate[f'{x}/{TUNED}']:>8,.0f}/s  Python {rate[f'{x}/Python']:>7,.0f}/s  rtml/Python {ratio[x]:.1f}x, "
               f"inter_op 1 {ratio_tuned[x]:.1f}x (target 10x)" for x in VARIANTS]
    for x in VARIANTS:
        a, b = lat[f"{x}/rtml"], lat[f"{x}/Python"]
        summary.append(f"tensorflow: latency    {x:11} p50/p99 ms rtml {med([r['p50'] for r in a]):.0f}/"
                       f"{med([r['p99'] for r in a]):.0f} (after 1st s {med([r['steady_p99'] for r in a]):.0f})  "
                       f"Python {med([r['p50'] for r in b]):.0f}/{med([r['p99'] for r in b]):.0f} (after 1st s "
                       f"{med([r['steady_p99'] for r in b]):.0f})")
    summary.append(f"tensorflow: TF_SessionRun batch 1/8/64/256 serve µs " +
                   "/".join(f"{sessionrun(rows, 'serve', b)['median_us']:.0f}" for b in FIXED_BATCHES) + ", train µs " +
                   "/".join(f"{sessionrun(rows, 'train', b)['median_us']:.0f}" for b in FIXED_BATCHES))
    print("\n".join(summary))
    print(f"tensorflow: wrote {md} and {png} ({res['seconds']:.0f} s)")


def main():
    rtml, tfrun, results_dir = sys.argv[1:4]
    t_start = time.time()
    data = ENV("BENCH_DATA", "/tmp/rtml-bench")
    os.makedirs(data, exist_ok=True)
    files = {"dir": tempfile.mkdtemp(dir=data, prefix="tensorflow-")}
    log(f"tensorflow: work dir {files['dir']}, broker {BROKERS}, {N:,} records (Python {N_PY:,}), batch {BATCH}, "
        f"{REPS} repetitions; latency {LAT_RATE:,}/s for {LAT_SECONDS:g} s x {LAT_REPS}")
    peer = Peer(f"{files['dir']}/tf_peer.log")
    try:
        res = measure_all(rtml, tfrun, peer, files)
    finally:
        peer.close()
        for t in TOPICS:
            subprocess.run([rtml, "topics", "delete", t, "--if-exists", "--brokers", BROKERS],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res["seconds"] = time.time() - t_start
    with open(f"{files['dir']}/results.json", "w") as f:
        json.dump(res, f, indent=1, default=str)
    for name in os.listdir(files["dir"]):  # keep the model, logs and results.json; drop data and run dirs
        path = os.path.join(files["dir"], name)
        if name.endswith(".jsonl"):
            os.remove(path)
        elif os.path.isdir(path) and name != "model":
            shutil.rmtree(path)
    version = subprocess.run([rtml, "--version"], capture_output=True, text=True).stdout.split("\n")
    write_report(results_dir, res, ", ".join(l.strip() for l in version if l.strip()))


if __name__ == "__main__":
    main()
