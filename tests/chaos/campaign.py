"""campaign.py — a randomized fault campaign against `rtml run` (issue 18), in the spirit of Jepsen.

    python tests/chaos/campaign.py --seeds 1,2,3 [--cluster]        these schedules
    python tests/chaos/campaign.py --seed 17 [--cluster] [--keep]    replay one (its seed names it)
    python tests/chaos/campaign.py --hours 2 [--first-seed 1000]     seeds from first-seed on, until the time is up;
                                                                     every 5th on the 3-broker cluster (--cluster-every)
Each seed draws a configuration and a fault schedule (lib/schedule.py): delivery mode, partitions, workers,
checkpoint interval, model and batch sizes, inline or delayed labels, and 2-6 faults among kill -9, SIGTERM,
restarts after a delay, broker restarts (a leader kill on the cluster), instances joining and leaving the group.
rtml runs against a live producer (lib/produce.py) while the faults are injected; committed offsets are sampled
every 100 ms (lib/sample_committed.py). When the stream is produced and the faults are over, the instances
catch up (the group's committed offsets reach the end of the input), stop with SIGTERM, and the independent
checker (lib/checker.py) reads the topics back. A schedule fails on any violation: a missing, duplicated
(exactly_once) or wrong output, a dead letter that is not its input byte for byte, a committed offset that
moved backwards, learned records that are not the labelled ones, an instance that exited by itself or not
cleanly, or a stream that never caught up; with one partition and one model lineage, also a final model
(digest) that differs from a crash-free run's over the same input.

Prints one line per schedule, the totals (schedules, faults by kind, rebalances, records checked, violations)
and, for each failed schedule, its seed and the command that replays it. Exit 0 when every schedule passed.

Needs: build/rtml (or $RTML_BIN), .venv, the broker jars (scripts/setup.sh). Starts its own broker (single on
--port, default 29400; the cluster on --cluster-port, default 29500) with a clean data dir, and stops it at
the end."""
import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "lib"))
from checker import check  # noqa: E402
from sample_committed import check_monotonic, count as count_samples  # noqa: E402
from schedule import describe, make_schedule  # noqa: E402

PY = os.path.join(ROOT, ".venv", "bin", "python")
KAFKA = os.path.join(ROOT, "scripts", "kafka.sh")
SESSION_MS = 45000  # Kafka's default: a static member restarted within it takes its partitions back


class Violation(Exception):
    pass


def sh(*args, timeout=300, check_rc=True):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.strip()[-2000:]}")
    return r.stdout


def wait_until(cond, seconds, what, poll=0.2):
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise Violation(f"{what}: not within {seconds} s")
        time.sleep(poll)


# ---- brokers ----------------------------------------------------------------------------------------------

class Broker:
    """The single broker (port) or the 3-node cluster (port .. port+2), started clean, owned by the campaign."""

    def __init__(self, port, cluster):
        self.port, self.cluster = port, cluster
        self.flag = ["--brokers", "3"] if cluster else []
        self.boot = ",".join(f"127.0.0.1:{port + k}" for k in range(3)) if cluster else f"127.0.0.1:{port}"

    def kafka(self, *args, timeout=300):
        return sh("bash", KAFKA, *args, "--port", str(self.port), *self.flag, timeout=timeout)

    def start_clean(self):
        self.kafka("wipe")
        self.kafka("start")

    def stop(self):
        self.kafka("wipe")

    def save_logs(self, work, since):
        """The broker's server.log lines from the schedule's start on (log4j's "[yyyy-MM-dd HH:mm:ss,SSS]" sorts as
        text), into work/broker-K.log: why the broker held what it held, kept with the failed schedule's logs."""
        nodes = [os.path.join(ROOT, ".run", f"kafka-cluster-{self.port}", f"node-{k}") for k in (1, 2, 3)] \
            if self.cluster else [os.path.join(ROOT, ".run", f"kafka-{self.port}")]
        stamp = "[" + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since - 5))
        for k, d in enumerate(nodes, 1):
            try:
                with open(os.path.join(d, "server.log"), errors="replace") as f, \
                        open(os.path.join(work, f"broker-{k}.log"), "w") as out:
                    keep = False
                    for line in f:
                        keep = keep or (line.startswith("[") and line[:20] >= stamp)
                        if keep:
                            out.write(line)
            except OSError as e:
                print(f"campaign: saving {d}/server.log: {e}", file=sys.stderr)

    def fault(self, e, topic):
        """broker: stop (SIGTERM or SIGKILL) and start again after e["down"] s; leader: SIGKILL the node that leads
        partition 0 of topic, start it again after e["down"] s. Returns what was done, for the log."""
        if not self.cluster:
            if e["how"] == "kill":
                pid = self.kafka("status").split()[2]
                os.kill(int(pid), signal.SIGKILL)
                wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 30, "the killed broker to go")
            else:
                self.kafka("stop")
            time.sleep(e["down"])
            self.kafka("start")
            return f"broker {e['how']}, down {e['down']} s"
        from confluent_kafka.admin import AdminClient
        md = AdminClient({"bootstrap.servers": self.boot}).list_topics(topic, timeout=30)
        leader = md.topics[topic].partitions[0].leader
        node = leader
        self.kafka("kill-node", str(node))
        time.sleep(e["down"])
        self.kafka("start-node", str(node))
        return f"leader node {node} killed, down {e['down']} s"


# ---- rtml instances ---------------------------------------------------------------------------------------

class Instance:
    """One `rtml run` process of the group: its config, its state.dir, its starts (a log per start)."""

    def __init__(self, rtml, work, name, config_text):
        self.rtml, self.name, self.work = rtml, name, work
        self.config = os.path.join(work, f"{name}.yaml")
        self.state = os.path.join(work, f"state-{name}")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.proc, self.starts, self.logs = None, 0, []
        self.expected_exit = True  # False while it runs: an exit we did not cause is a violation

    def start(self):
        self.starts += 1
        log = os.path.join(self.work, f"{self.name}-{self.starts}.err")
        self.logs.append(log)
        self.out = open(os.path.join(self.work, f"{self.name}-{self.starts}.out"), "w")
        self.proc = subprocess.Popen([self.rtml, "run", "-c", self.config], stdout=self.out, stderr=open(log, "w"))
        self.expected_exit = False
        wait_until(lambda: self.running_logged() or self.proc.poll() is not None, 90, f"{self.name} to start")
        self.check_alive()

    def running_logged(self):
        with open(self.logs[-1], errors="replace") as f:
            return "running:" in f.read()

    def check_alive(self):
        if self.proc and not self.expected_exit and self.proc.poll() is not None:
            raise Violation(f"instance {self.name} exited by itself with status {self.proc.returncode}: "
                            f"{tail(self.logs[-1])}")

    def kill9(self):
        self.check_alive()
        self.expected_exit = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def term(self, seconds=120):
        """SIGTERM: rtml must finish its work and exit 0 within `seconds`."""
        self.check_alive()
        self.expected_exit = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            stacks = self.stacks()
            self.proc.kill()
            raise Violation(f"instance {self.name} did not stop within {seconds} s of SIGTERM (its threads: {stacks}): "
                            f"{tail(self.logs[-1])}")
        if rc != 0:
            raise Violation(f"instance {self.name} exited {rc} after SIGTERM: {tail(self.logs[-1])}")

    def stacks(self):
        """Every thread's stack (gdb), into the work dir: where a hung instance waits. Returns the file's path."""
        path = os.path.join(self.work, f"{self.name}-{self.starts}.stacks")
        with open(path, "w") as f:
            subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-ex", "thread apply all bt"], stdout=f,
                           stderr=subprocess.STDOUT, timeout=120)
        return path

    def up(self):
        return self.proc is not None and not self.expected_exit

    def learned(self):
        """The learned count of each newest checkpoint under state.dir (workers: state.dir/worker-K)."""
        dirs = [self.state] + sorted(os.path.join(self.state, d) for d in os.listdir(self.state)
                                     if d.startswith("worker-")) if os.path.isdir(self.state) else []
        total = 0
        for d in dirs:
            if not any(f.startswith("checkpoint-") for f in os.listdir(d)):
                continue
            total += json.loads(sh(self.rtml, "state", "--dir", d).strip().splitlines()[-1])["learned"]
        return total

    def digest(self):
        return json.loads(sh(self.rtml, "state", "--dir", self.state).strip().splitlines()[-1])["digest"]

    def grep(self, pattern):
        found = []
        for log in self.logs:
            with open(log, errors="replace") as f:
                found += re.findall(pattern, f.read())
        return found


def tail(path, n=12):
    with open(path, errors="replace") as f:
        return " | ".join(line.rstrip() for line in f.readlines()[-n:])


# ---- one schedule -----------------------------------------------------------------------------------------

def make_records(s, path):
    """The live stream: SEA-like records keyed by id, every bad_every-th malformed (alternately x1 a string and
    broken JSON), every unlabelled_every-th without a label."""
    rng = random.Random(s["seed"] * 7919 + 1)
    with open(path, "w") as f:
        for i in range(s["records"]):
            x = [round(rng.uniform(0, 10), 6) for _ in range(3)]
            label = int(x[0] + x[1] <= 8) if rng.random() > 0.1 else int(x[0] + x[1] > 8)
            if i % s["unlabelled_every"] == 1:
                label = None
            rec = {"id": i, "x1": x[0], "x2": x[1], "x3": x[2]}
            if label is not None and s["labels"] == "inline":
                rec["label"] = label
            value = json.dumps(rec)
            if i % s["bad_every"] == s["bad_every"] - 1:
                label = None
                if (i // s["bad_every"]) % 2:
                    value = value[: len(value) // 2]  # broken JSON: malformed
                else:
                    value = json.dumps({**rec, "x1": "not a number"})  # wrong_type
            f.write(json.dumps({"key": str(i), "value": value, "label": label}) + "\n")


def config_text(s, boot, names, instance, state):
    kafka = {"bootstrap.servers": boot, "group.id": names["group"], "session.timeout.ms": SESSION_MS,
             "auto.offset.reset": "earliest",
             "fetch.message.max.bytes": s["kafka"]["max.partition.fetch.bytes"],
             "linger.ms": s["kafka"]["linger.ms"], "batch.num.messages": s["kafka"]["batch.num.messages"]}
    if instance in ("a", "ref"):  # static: restarts take the partitions back; the others are dynamic members
        kafka["group.instance.id"] = f"{names['group']}-{instance}"
    label = ("{field: /label}" if s["labels"] == "inline" else
             f"{{topic: {names['labels']}, key: /id, value: /y, ttl: 1h, wait: 1h}}")
    lines = ["kafka:"] + [f"  {k}: {v}" for k, v in kafka.items()] + [
        f"input: {{topics: [{names['input']}], format: json}}",
        "features:",
        "  - {name: x1, field: /x1, transforms: [standardize]}",
        "  - {name: x2, field: /x2, transforms: [standardize]}",
        "  - {name: x3, field: /x3, transforms: [standardize]}",
        f"label: {label}",
        f"model: {s['model']}",
        f"output: {{topic: {names['output']}, format: json}}",
        f"delivery: {s['delivery']}",
        f"state: {{dir: {state}, checkpoint_every: {s['checkpoint_every']}}}",
        f"dead_letter: {{topic: {names['dlq']}}}",
    ]
    if s["workers"] > 1:
        lines.append(f"workers: {s['workers']}")
    if os.environ.get("RTML_CHAOS_LOG"):  # e.g. debug, to see more of a failing schedule
        lines.append(f"log: {{level: {os.environ['RTML_CHAOS_LOG']}}}")
    return "\n".join(lines) + "\n"


class Run:
    """One schedule executed: topics, producer, sampler, instances, the faults, the drain, the check."""

    def __init__(self, s, broker, rtml, work):
        self.s, self.broker, self.rtml, self.work = s, broker, rtml, work
        tag = f"chaos-{s['seed']}-{int(time.time())}"
        self.names = {"input": f"{tag}-in", "output": f"{tag}-out", "dlq": f"{tag}-dlq", "group": tag,
                      "labels": f"{tag}-labels" if s["labels"] == "topic" else None}
        self.instances, self.procs = {}, []
        self.faults = collections.Counter()

    def instance(self, name):
        if name not in self.instances:
            state = os.path.join(self.work, f"state-{name}")
            self.instances[name] = Instance(self.rtml, self.work, name,
                                            config_text(self.s, self.broker.boot, self.names, name, state))
        return self.instances[name]

    def topics(self):
        rf = ["--replication-factor", "3"] if self.broker.cluster else []
        env = {**os.environ, "RTML_BROKERS": self.broker.boot}
        for key, parts in (("input", self.s["partitions"]), ("output", 3), ("dlq", 1), ("labels", 1)):
            if self.names[key]:
                subprocess.run([self.rtml, "topics", "create", self.names[key], "--partitions", str(parts), *rf],
                               env=env, check=True, capture_output=True, timeout=120)

    def background(self, args, name):
        p = subprocess.Popen(args, stdout=open(os.path.join(self.work, name + ".out"), "w"),
                             stderr=open(os.path.join(self.work, name + ".err"), "w"))
        self.procs.append(p)
        return p

    def check_all_alive(self):
        for inst in self.instances.values():
            inst.check_alive()

    def fault(self, e):
        kind = e["kind"]
        if kind in ("kill9", "term"):
            inst = self.instance(e["target"])
            inst.kill9() if kind == "kill9" else inst.term()
            time.sleep(e["delay"])
            inst.start()
        elif kind in ("broker", "leader"):
            self.broker.fault(e, self.names["input"])
        elif kind == "join":
            self.instance(e["target"]).start()
        elif kind == "leave":
            self.instance(e["target"]).term()
        self.faults[kind] += 1
        self.wait_stable()

    def wait_stable(self, seconds=120):
        """Until the group is Stable with every member of the running instances (each worker is one) and every
        partition of its topics assigned (a cooperative rebalance is stable between its two rounds too, with the
        revoked partitions assigned to no one): a fault starts from a group that settled the previous one."""
        from confluent_kafka.admin import AdminClient
        conf = {"bootstrap.servers": self.broker.boot, "log_level": 0}
        admin = [AdminClient(conf)]
        want = sum(self.s["workers"] for i in self.instances.values() if i.up())
        parts = {(self.names["input"], p) for p in range(self.s["partitions"])}
        if self.names["labels"]:
            parts.add((self.names["labels"], 0))

        seen = ["nothing yet"]  # what the last look at the group found, for the violation's message

        def stable():
            self.check_all_alive()
            try:
                d = admin[0].describe_consumer_groups([self.names["group"]], request_timeout=5)[self.names["group"]].result()
            except Exception as e:
                # A fresh client after a failure: librdkafka's own client can keep a restarted coordinator it
                # decommissioned in its cache and fail every lookup until its next metadata refresh (#5511), a
                # fault of the checker's client and not of rtml.
                seen[0] = f"describe failed: {e}"
                admin[0] = AdminClient(conf)
                return False
            held = {(tp.topic, tp.partition) for m in d.members for tp in (m.assignment.topic_partitions or [])}
            seen[0] = (f"{d.state.name}, {len(d.members)} members, coordinator {d.coordinator.id}, unassigned "
                       f"{sorted(parts - held)}")
            return d.state.name == "STABLE" and len(d.members) == want and parts <= held

        try:
            wait_until(stable, seconds, f"the group to be stable with {want} members", poll=0.3)
        except Violation as v:
            raise Violation(f"{v} (last seen: {seen[0]})") from None

    def caught_up(self):
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.broker.boot, "group.id": self.names["group"], "log_level": 0})
        behind = []
        try:
            for topic in filter(None, (self.names["input"], self.names["labels"])):
                parts = c.list_topics(topic, timeout=10).topics[topic].partitions
                tps = c.committed([TopicPartition(topic, p) for p in parts], timeout=10)
                for tp in tps:
                    end = c.get_watermark_offsets(tp, timeout=10)[1]
                    if tp.offset < end:
                        behind.append(f"{topic}/{tp.partition} committed {tp.offset} of {end}")
            self.last_catch_up = "; ".join(behind) or "caught up"
            return not behind
        except Exception as e:  # kept: the violation says why the last look failed (seed 8116)
            self.last_catch_up = f"{type(e).__name__}: {e}"
            return False
        finally:
            c.close()

    def offsets_report(self):
        """The group's committed offsets as the admin API reads them, with and without require_stable: a
        partition that fails only with it has a transaction's offsets pending (UNSTABLE_OFFSET_COMMIT)."""
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
        from confluent_kafka.admin import AdminClient
        admin = AdminClient({"bootstrap.servers": self.broker.boot, "log_level": 0})
        tps = [TopicPartition(self.names["input"], p) for p in range(self.s["partitions"])]
        out = []
        for stable in (False, True):
            try:
                req = [ConsumerGroupTopicPartitions(self.names["group"], tps)]
                got = admin.list_consumer_group_offsets(req, require_stable=stable, request_timeout=10)
                res = got[self.names["group"]].result(timeout=15)
                parts = ", ".join(f"{tp.partition}: {tp.error.str() if tp.error else tp.offset}"
                                  for tp in res.topic_partitions)
            except Exception as e:
                parts = f"{type(e).__name__}: {e}"
            out.append(f"require_stable={stable}: {parts}")
        return "; ".join(out)

    def execute(self):
        s = self.s
        self.topics()
        records = os.path.join(self.work, "records.jsonl")
        make_records(s, records)
        samplers = [self.background([PY, os.path.join(HERE, "lib", "sample_committed.py"), self.broker.boot,
                                     self.names["group"], t, os.path.join(self.work, f"samples-{k}.jsonl")], f"sampler-{k}")
                    for k, t in (("input", self.names["input"]), ("labels", self.names["labels"])) if t]
        a = self.instance("a")
        a.start()
        self.wait_stable()
        extra = ["--labels", self.names["labels"], "--label-delay", str(s["label_delay"])] if self.names["labels"] else []
        producer = self.background([PY, os.path.join(HERE, "lib", "produce.py"), self.broker.boot, records,
                                    self.names["input"], "--rate", str(s["rate"]), *extra], "producer")
        for e in s["events"]:
            deadline = time.monotonic() + e["gap"]
            while time.monotonic() < deadline:
                self.check_all_alive()
                time.sleep(0.1)
            self.fault(e)
        wait_until(lambda: producer.poll() is not None or self.check_all_alive(), 900, "the producer to finish")
        if producer.returncode != 0:
            raise Violation(f"the producer failed: {tail(os.path.join(self.work, 'producer.err'))}")
        deadline = 240 if self.broker.cluster else 180
        self.last_catch_up = "nothing yet"
        try:
            wait_until(lambda: self.check_all_alive() or self.caught_up(), deadline,
                       "the group's committed offsets to reach the end of the input", poll=1)
        except Violation as v:
            raise Violation(f"{v} (last seen: {self.last_catch_up}; {self.offsets_report()})") from None
        for inst in self.instances.values():
            if inst.up():
                inst.term()
        for p in samplers:
            p.send_signal(signal.SIGTERM)
            p.wait(30)
        return self.judge()

    def judge(self):
        s, bad = self.s, []
        for k in ("input", "labels"):
            path = os.path.join(self.work, f"samples-{k}.jsonl")
            if os.path.exists(path):
                for p, t, before, after in check_monotonic(path)[:3]:
                    bad.append(f"committed offset of {k} partition {p} moved backwards: {before} -> {after}")
                self.samples = getattr(self, "samples", 0) + count_samples(path)
        allowance = sum(int(n) for i in self.instances.values()
                        for n in i.grep(r"leaves with its last (\d+) records learned but not committed"))
        learned = sum(i.learned() for i in self.instances.values())
        topics = {k: self.names[k] for k in ("input", "output", "dlq", "labels")}
        found, counts = check(self.broker.boot, topics, s["delivery"], learned, allowance)
        bad += found
        counts["rebalances"] = sum(len(i.grep(r"assigned \d+ partition")) for i in self.instances.values())
        counts["aborts"] = sum(len(i.grep(r"transaction aborted")) for i in self.instances.values())
        counts["samples"] = getattr(self, "samples", 0)
        if not bad and self.one_lineage():
            bad += self.compare_with_crash_free()
            counts["digest_checked"] = 1
        return bad, counts

    def one_lineage(self):
        """One model saw the partition from start to end, in order: the final model must equal a crash-free run's
        (an MLP's pending micro-batch included: checkpoints keep it)."""
        s = self.s
        return s["partitions"] == 1 and s["workers"] == 1 and list(self.instances) == ["a"] and s["labels"] == "inline"

    def compare_with_crash_free(self):
        names = dict(self.names, group=self.names["group"] + "-ref", output=self.names["output"] + "-ref",
                     dlq=self.names["dlq"] + "-ref")
        state = os.path.join(self.work, "state-ref")
        ref = Instance(self.rtml, self.work, "ref", config_text(self.s, self.broker.boot, names, "ref", state))
        r = subprocess.run([self.rtml, "run", "-c", ref.config, "--exit-on-idle", "5"], capture_output=True,
                           text=True, timeout=600)
        if r.returncode != 0:
            return [f"the crash-free reference run failed (exit {r.returncode}): {r.stderr[-1500:]}"]
        got, want = self.instances["a"].digest(), ref.digest()
        return [] if got == want else [f"final model digest {got} != crash-free run's {want}"]

    def dump_stacks(self):
        """The stacks of the rtml instances still running, into the work dir (stack-NAME.txt)."""
        for inst in self.instances.values():
            if inst.proc and inst.proc.poll() is None:
                dump_stack(inst.proc.pid, os.path.join(self.work, f"stack-{inst.name}.txt"))

    def cleanup(self):
        for inst in self.instances.values():
            if inst.proc and inst.proc.poll() is None:
                inst.proc.kill()
                inst.proc.wait()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def dump_stack(pid, path):
    """Every thread's stack of a running process into path, with gdb when the machine has it (best effort: a
    missing gdb or one that cannot attach leaves a note instead)."""
    if not shutil.which("gdb"):
        return
    try:
        r = subprocess.run(["gdb", "-batch", "-p", str(pid), "-ex", "thread apply all bt"], capture_output=True,
                           text=True, timeout=60)
        text = r.stdout + r.stderr
    except (OSError, subprocess.TimeoutExpired) as e:
        text = f"gdb failed: {e}"
    with open(path, "w") as f:
        f.write(text)


# ---- the campaign -----------------------------------------------------------------------------------------

def run_schedule(s, broker, rtml, keep, totals):
    work = tempfile.mkdtemp(prefix=f"rtml-chaos-{s['seed']}-")
    run = Run(s, broker, rtml, work)
    started, wall_started = time.monotonic(), time.time()
    try:
        bad, counts = run.execute()
    except Violation as v:
        bad, counts = [str(v)], {}
        run.dump_stacks()  # before cleanup kills them: where a silent instance waits (seed 4150)
        broker.save_logs(work, wall_started)
    except Exception as e:  # the harness itself: reported as a failure, with its reason
        bad, counts = [f"campaign error: {type(e).__name__}: {e}"], {}
    finally:
        run.cleanup()
    totals["schedules"] += 1
    for k, n in run.faults.items():
        totals[k] += n
    totals["restarts"] += sum(max(0, i.starts - 1) for i in run.instances.values())
    for k in ("rebalances", "aborts", "samples", "digest_checked"):
        totals[k] += counts.get(k, 0)
    totals["records"] += counts.get("inputs", 0)
    secs = time.monotonic() - started
    tag = f"seed {s['seed']}{' (cluster)' if s['cluster'] else ''}"
    if bad:
        totals["failed"] += 1
        print(f"FAILED {tag} in {secs:.0f} s: {describe(s)}", flush=True)
        for b in bad:
            print(f"  violation: {b}", flush=True)
        print(f"  replay: python tests/chaos/campaign.py --seed {s['seed']}{' --cluster' if s['cluster'] else ''}"
              f" --keep   (logs of this run: {work})", flush=True)
    else:
        print(f"ok {tag} in {secs:.0f} s: {describe(s)}; {counts['inputs']} inputs, {counts['predictions']} "
              f"predictions ({counts['duplicates']} duplicates), {counts['dead_letters']} dead letters, learned "
              f"{counts['learned']} of {counts['labelled']} labelled"
              + (f" (+{counts['learned'] - counts['labelled']} again after handovers rtml could not commit)"
                 if counts['learned'] > counts['labelled'] else "") + f", {counts['rebalances']} assignments, "
              f"{counts['aborts']} aborted transactions{', model = crash-free run' if counts.get('digest_checked') else ''}",
              flush=True)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return not bad


def summary(totals, elapsed):
    faults = ", ".join(f"{k} {totals[k]}" for k in ("kill9", "term", "broker", "leader", "join", "leave") if totals[k])
    print(f"campaign: {totals['schedules']} schedules in {elapsed / 60:.1f} min; faults: {faults}; "
          f"restarts {totals['restarts']}; rebalances (assignments seen) {totals['rebalances']}; aborted "
          f"transactions {totals['aborts']}; records checked {totals['records']}; committed-offset samples "
          f"{totals['samples']}; final models compared with a crash-free run {totals['digest_checked']}; "
          f"violations in {totals['failed']} schedule(s)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", help="comma-separated seeds")
    ap.add_argument("--seed", type=int, help="one seed (replay)")
    ap.add_argument("--hours", type=float, help="run seeds from --first-seed on until this much time has passed")
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--cluster", action="store_true", help="the given seeds on the 3-broker cluster")
    ap.add_argument("--cluster-seeds", default="", help="comma-separated seeds to run on the cluster as well")
    ap.add_argument("--cluster-every", type=int, default=5, help="with --hours: every Nth seed on the cluster")
    ap.add_argument("--port", type=int, default=29400)
    ap.add_argument("--cluster-port", type=int, default=29500)
    ap.add_argument("--keep", action="store_true", help="keep every schedule's work dir (logs, configs, samples)")
    ap.add_argument("--stop-on-failure", action="store_true")
    a = ap.parse_args()
    rtml = os.environ.get("RTML_BIN", os.path.join(ROOT, "build", "rtml"))
    if not os.access(rtml, os.X_OK):
        ap.error(f"no rtml binary at {rtml} (build it, or set RTML_BIN)")
    plan = []  # (seed, cluster)
    if a.seed is not None:
        plan = [(a.seed, a.cluster)]
    elif a.seeds:
        plan = [(int(x), a.cluster) for x in a.seeds.split(",")]
    plan += [(int(x), True) for x in a.cluster_seeds.split(",") if x]
    if not plan and not a.hours:
        ap.error("give --seed, --seeds or --hours")
    import fcntl
    os.makedirs(os.path.join(ROOT, ".run"), exist_ok=True)
    lock = open(os.path.join(ROOT, ".run", f"chaos-{a.port}-{a.cluster_port}.lock"), "w")
    try:  # two campaigns on one broker would wipe and restart it under each other
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        ap.error(f"another campaign is using ports {a.port} and {a.cluster_port} (.run/chaos-*.lock)")
    brokers = {False: Broker(a.port, False), True: Broker(a.cluster_port, True)}
    started, totals, ok = time.monotonic(), collections.Counter(), True
    up = set()

    def schedule_of(seed, cluster):
        if cluster not in up:
            brokers[cluster].start_clean()
            up.add(cluster)
        return make_schedule(seed, cluster)

    def stop(signum, frame):  # SIGTERM, and SIGINT even where a shell started it in the background (ignored there)
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    interrupted = False
    try:
        if a.hours:
            seed = a.first_seed
            while time.monotonic() - started < a.hours * 3600:
                cluster = a.cluster_every > 0 and seed % a.cluster_every == 0
                ok &= run_schedule(schedule_of(seed, cluster), brokers[cluster], rtml, a.keep, totals)
                if not ok and a.stop_on_failure:
                    break
                seed += 1
        for seed, cluster in plan:
            ok &= run_schedule(schedule_of(seed, cluster), brokers[cluster], rtml, a.keep, totals)
            if not ok and a.stop_on_failure:
                break
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM: the counts so far still matter (the schedule cut short is not in them)
        interrupted = True
        print("campaign: interrupted; the schedule in progress is not counted", flush=True)
    finally:
        for cluster in up:
            try:
                brokers[cluster].stop()
            except Exception as e:
                print(f"campaign: stopping the broker: {e}", file=sys.stderr)
    summary(totals, time.monotonic() - started)
    return 130 if interrupted else 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
