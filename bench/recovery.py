"""recovery.py - how long a crash keeps predictions away (issue 19): restart to first output, and takeover.

    python bench/recovery.py RTML_BIN RESULTS_DIR [--reps 3]
needs a broker on 127.0.0.1:$BENCH_RECOVERY_PORT (bench/run.sh recovery starts one).

For each group membership variant, and each delivery mode:
  - restart: rtml runs on a live stream (2,000 records/s into 3 partitions); once its predictions flow it is
    killed with SIGKILL and started again at once. Measured: from the restart (the new process's start) to the
    first prediction it produces, seen by an independent consumer (read_committed) tailing the output topic.
  - takeover: two instances share the group; one is killed and never comes back. Measured: from the kill to the
    moment every input partition has a new prediction again (the survivor took over the dead one's partitions).
Variants:
  classic, dynamic    cooperative-sticky, no group.instance.id: rtml's default before issue 19
  classic, static     cooperative-sticky, group.instance.id derived from the host and state directory: the
                      default since issue 19
  consumer, dynamic   the broker-side protocol of KIP-848 (group.protocol: consumer), no group.instance.id: the
                      default under that protocol
  consumer, static    KIP-848 with a group.instance.id of its own
Session timeouts are the defaults (45 s; KIP-848: the broker's group.consumer.session.timeout.ms, 45 s).
Writes RESULTS_DIR/<date>-recovery.md and .json."""
import datetime
import json
import os
import signal
import subprocess
import sys
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition

from benchlib import SEA_FEATURES, log, run_scenario

PORT = int(os.environ.get("BENCH_RECOVERY_PORT", "39492"))
BROKERS = f"127.0.0.1:{PORT}"
VARIANTS = [
    ("classic, dynamic", {"group.instance.id": '""'}),
    ("classic, static", {}),
    ("consumer, dynamic", {"group.protocol": "consumer", "group.instance.id": '""'}),
    ("consumer, static", {"group.protocol": "consumer", "group.instance.id": "STATIC"}),
]
RATE = 2000
DEADLINE = 120  # seconds to wait for the first output or the takeover before calling it failed


def topics_create(rtml, *names):
    for n in names:
        subprocess.run([rtml, "topics", "create", n, "--partitions", "3", "--brokers", BROKERS], check=True,
                       capture_output=True)


def config(work, name, group, inp, out, mode, extra):
    """STATIC: an explicit group.instance.id of the instance's own (rtml derives one only for the classic
    protocol)."""
    kafka = "".join(f"  {k}: {f'{group}-{name}' if v == 'STATIC' else v}\n" for k, v in extra.items())
    path = os.path.join(work, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"kafka:\n  bootstrap.servers: {BROKERS}\n  group.id: {group}\n  auto.offset.reset: earliest\n{kafka}"
                f"input: {{topics: [{inp}], format: json}}\nfeatures:\n{SEA_FEATURES}label: {{field: /label}}\n"
                f"model: {{type: logistic}}\noutput: {{topic: {out}}}\ndelivery: {mode}\n"
                f"state: {{dir: {work}/state-{name}, checkpoint_every: 1s}}\n")
    return path


def assigned(log_path):
    with open(log_path, errors="replace") as f:
        return any("assigned" in line and "assigned 0 " not in line for line in f)


def start(rtml, cfg, log_path):
    return subprocess.Popen([rtml, "run", "-c", cfg], stdout=subprocess.DEVNULL, stderr=open(log_path, "a"))


def tail_consumer(topic):
    """A read_committed consumer positioned at the end of every partition of topic, now."""
    c = Consumer({"bootstrap.servers": BROKERS, "group.id": f"bench-recovery-{time.time_ns()}",
                  "isolation.level": "read_committed", "enable.auto.commit": False})
    parts = sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)
    ends = [end_offset(c, topic, p) for p in parts]
    c.assign([TopicPartition(topic, p, e) for p, e in zip(parts, ends)])
    return c


def end_offset(c, topic, p, seconds=30):
    """The partition's end offset, asked again while the broker is still electing its leader (a new topic)."""
    deadline = time.time() + seconds
    while True:
        try:
            return c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        except KafkaException:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def wait_outputs(topic, n, deadline):
    """Until n new predictions arrived on topic (from now), or the deadline: True if they did."""
    c = tail_consumer(topic)
    seen = 0
    while seen < n and time.time() < deadline:
        seen += sum(1 for m in c.consume(1000, timeout=0.5) if not m.error())
    c.close()
    return seen >= n


def first_output_after(c, since, deadline, sources=None):
    """Seconds from `since` to the first prediction produced after it (its timestamp, the producer's clock on this
    machine: an at_least_once output of the killed process still on its way is not a new one), read from c
    (with sources: once every input partition in sources answered again); None past the deadline."""
    left = set(sources) if sources else None
    while time.time() < deadline:
        for m in c.consume(1000, timeout=0.2):
            if m.error() or m.timestamp()[1] < since * 1000:
                continue
            if left is None:
                return time.time() - since
            left.discard(json.loads(m.value())["source"]["partition"])
            if not left:
                return time.time() - since
    return None


def producer(rtml, work, inp, n):
    data = os.path.join(work, "sea.jsonl")
    if not os.path.exists(data):
        with open(data, "w") as f:
            subprocess.run([rtml, "gen", "--stream", "sea", "--n", str(n)], stdout=f, check=True)
    return subprocess.Popen([rtml, "produce", "--topic", inp, "--input", data, "--key-field", "/id", "--rate",
                             str(RATE), "--brokers", BROKERS], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def restart_once(rtml, work, tag, mode, extra):
    inp, out, group = f"rc-{tag}-in", f"rc-{tag}-out", f"rc-{tag}"
    topics_create(rtml, inp, out)
    cfg = config(work, tag, group, inp, out, mode, extra)
    prod = producer(rtml, work, inp, RATE * 90)
    logf = os.path.join(work, f"{tag}.log")
    p = start(rtml, cfg, logf)
    try:
        if not wait_outputs(out, 2000, time.time() + DEADLINE):
            return None
        c = tail_consumer(out)
        p.send_signal(signal.SIGKILL)
        p.wait()
        t0 = time.time()
        p = start(rtml, cfg, logf)
        return first_output_after(c, t0, t0 + DEADLINE)
    finally:
        for proc in (p, prod):
            proc.kill()
            proc.wait()


def takeover_once(rtml, work, tag, mode, extra):
    inp, out, group = f"tk-{tag}-in", f"tk-{tag}-out", f"tk-{tag}"
    topics_create(rtml, inp, out)
    a_cfg, b_cfg = (config(work, f"{tag}-{x}", group, inp, out, mode, extra) for x in "ab")
    prod = producer(rtml, work, inp, RATE * 150)
    logs = [os.path.join(work, f"{tag}-{x}.log") for x in "ab"]
    a, b = start(rtml, a_cfg, logs[0]), start(rtml, b_cfg, logs[1])
    try:
        deadline = time.time() + DEADLINE
        while not all(assigned(path) for path in logs):  # both members hold partitions: the group settled
            if time.time() > deadline:
                return None
            time.sleep(0.2)
        if not wait_outputs(out, 2000, deadline):
            return None
        c = tail_consumer(out)
        a.send_signal(signal.SIGKILL)
        a.wait()
        t0 = time.time()
        return first_output_after(c, t0, t0 + DEADLINE, sources=[0, 1, 2])
    finally:
        for proc in (a, b, prod):
            proc.kill()
            proc.wait()


def measure(rtml, reps):
    def run(work):
        res = {"restart": {}, "takeover": {}}
        for mode in ("exactly_once", "at_least_once"):
            for name, extra in VARIANTS:
                key = f"{name} | {mode}"
                res["restart"][key] = []
                for r in range(reps):
                    tag = f"{len(res['restart'])}-{r}-{int(time.time())}"
                    s = restart_once(rtml, work, tag, mode, extra)
                    log(f"restart {key} #{r + 1}: {'failed' if s is None else f'{s:.2f} s'}")
                    res["restart"][key].append(s)
        for name, extra in VARIANTS:
            tag = f"t{name.replace(', ', '-')}-{int(time.time())}"
            s = takeover_once(rtml, work, tag, "exactly_once", extra)
            log(f"takeover {name}: {'failed' if s is None else f'{s:.2f} s'}")
            res["takeover"][name] = s
        return res
    return run


def fmt(xs):
    got = sorted(x for x in xs if x is not None)
    if not got:
        return "failed", "", ""
    med = got[len(got) // 2]
    return f"{med:.2f}", f"{got[0]:.2f} - {got[-1]:.2f}", f"{len(xs) - len(got)} failed" if len(got) < len(xs) else ""


def report(results_dir):
    def write(res, version):
        day = datetime.date.today().isoformat()
        md = os.path.join(results_dir, f"{day}-recovery.md")
        with open(os.path.join(results_dir, f"{day}-recovery.json"), "w") as f:
            json.dump(res, f, indent=1)
        lines = [f"# Recovery after kill -9 ({day})", "", f"{version}; `bench/run.sh recovery`. A live stream of "
                 f"{RATE} records/s into 3 partitions; default session timeouts (45 s).", "",
                 "## Restart: from the restart to the first new prediction", "",
                 "| variant | delivery | median (s) | min - max (s) | |", "|---|---|---:|---:|---|"]
        for key, xs in res["restart"].items():
            name, mode = key.split(" | ")
            lines.append(f"| {name} | {mode} | " + " | ".join(fmt(xs)) + " |")
        lines += ["", "## Takeover: from the kill of one of two instances to every partition answered again", "",
                  "| variant | seconds |", "|---|---:|"]
        for name, s in res["takeover"].items():
            lines.append(f"| {name} | {'failed' if s is None else f'{s:.2f}'} |")
        with open(md, "w") as f:
            f.write("\n".join(lines) + "\n")
        return md
    return write


def main():
    rtml, results = sys.argv[1], sys.argv[2]
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 3
    run_scenario("recovery", rtml, measure(rtml, reps), report(results))


if __name__ == "__main__":
    main()
