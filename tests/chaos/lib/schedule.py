"""schedule.py — a fault schedule and a configuration, drawn from a seed (the same seed, the same schedule).

make_schedule(seed, cluster) returns a dict:
  seed, cluster                 as given (cluster: a 3-broker cluster, whose broker fault is a leader kill)
  delivery                      exactly_once | at_least_once
  partitions                    of the input topic, 1-4
  workers                       1 or 2 (members of the group in each rtml process)
  labels                        inline (a label field in each record) | topic (label.topic, delayed labels)
  checkpoint_every              50ms .. 1h (1h: one checkpoint at the start, then only at revokes and stops)
  model                         the model: section (logistic with SGD or Adam, or an MLP in micro-batches)
  kafka                         client settings that change batch sizes (fetch sizes, linger, batch counts)
  records, rate                 the live stream: how many records, how many per second
  bad_every, unlabelled_every   every k-th record malformed (alternately a wrong type and broken JSON) /
                                without a label
  label_delay                   label.topic: a label follows its record by this many records
  events                        the faults, in order; each waits `gap` seconds after the previous one ended:
      kill9 a delay             SIGKILL instance a, start it again `delay` s later
      term a delay              SIGTERM (it must finish cleanly, exit 0), start it again `delay` s later
      broker down how           the single broker stopped (how: term | kill), started again `down` s later
      leader down               cluster: SIGKILL the node leading input partition 0, started again `down` s later
      join TARGET               another instance (its own state.dir) joins the group: a rebalance
      leave TARGET              that instance stops for good (SIGTERM, leaving the group): a rebalance
The domain is rtml's promise (docs/delivery.md): instance a is a static member (group.instance.id, with the
session timeout of 45 s that is Kafka's default), killed or stopped and started again within seconds, so it takes
its partitions back; other instances (b, c, ...) join and leave cleanly as dynamic members; each fault waits for
the group to be stable again, so every partition changes hands only through a settled handover. (Outside it, a
member gone longer than its session while its partitions move, each model still learns each record at most once,
but the group's total can count twice what the dead member learned after its last commit.) label.topic needs one
instance with one worker (rtml refuses more), so its schedules have no join or leave."""
import random

CHECKPOINT_EVERY = ["50ms", "200ms", "1s", "3s", "10s", "1h"]
MODELS = [
    "{engine: native, type: logistic, optimizer: {name: sgd, learning_rate: 0.05}}",
    "{engine: native, type: logistic, optimizer: {name: adam, learning_rate: 0.01}}",
    "{engine: native, type: mlp, hidden: [8], batch: 1, optimizer: {name: adam, learning_rate: 0.01}}",
    "{engine: native, type: mlp, hidden: [8], batch: 4, optimizer: {name: adam, learning_rate: 0.01}}",
    "{engine: native, type: mlp, hidden: [8], batch: 16, optimizer: {name: sgd, learning_rate: 0.05}}",
]


def make_schedule(seed, cluster=False):
    rng = random.Random(seed)
    s = {"seed": seed, "cluster": cluster}
    s["delivery"] = rng.choice(["exactly_once", "at_least_once"])
    s["partitions"] = rng.randint(1, 4)
    s["labels"] = "topic" if rng.random() < 0.25 else "inline"
    s["workers"] = 1 if s["labels"] == "topic" else rng.choice([1, 1, 2])
    s["checkpoint_every"] = rng.choice(CHECKPOINT_EVERY)
    s["model"] = rng.choice(MODELS)
    s["kafka"] = {
        "max.partition.fetch.bytes": rng.choice([16384, 262144, 1048576]),
        "linger.ms": rng.choice([0, 2, 20]),
        "batch.num.messages": rng.choice([100, 10000]),
    }
    s["rate"] = rng.choice([2000, 4000, 8000])
    s["records"] = s["rate"] * rng.randint(8, 16)
    s["bad_every"] = rng.choice([300, 1000, 5000])
    s["unlabelled_every"] = rng.choice([3, 5, 10])
    s["label_delay"] = rng.choice([10, 200, 2000])
    s["events"] = events(rng, s)
    return s


def events(rng, s):
    out, extras_up, next_extra = [], [], iter(["b", "c", "d", "e", "f", "g"])
    kinds = ["kill9", "kill9", "term", "broker"]
    if s["labels"] == "inline":
        kinds += ["join", "leave"]
    for _ in range(rng.randint(2, 6)):
        kind = rng.choice(kinds)
        e = {"gap": round(rng.uniform(0.3, 4.0), 2), "kind": kind}
        if kind in ("kill9", "term"):
            e["target"] = "a"
            e["delay"] = round(rng.choice([0, 0, rng.uniform(0, 4)]), 2)
        elif kind == "broker":
            if s["cluster"]:
                e["kind"] = "leader"
            else:
                e["how"] = rng.choice(["term", "kill"])
            e["down"] = round(rng.uniform(0.5, 5), 2)
        elif kind == "join":
            if len(extras_up) >= 2:
                continue
            e["target"] = next(next_extra)
            extras_up.append(e["target"])
        elif kind == "leave":
            if not extras_up:
                continue
            e["target"] = extras_up.pop(rng.randrange(len(extras_up)))
        out.append(e)
    return out


def describe(s):
    ev = ", ".join(
        e["kind"] + (f" {e['target']}" if "target" in e else "") + (f" +{e['delay']}s" if "delay" in e else "")
        + (f" {e['how']}" if "how" in e else "") + (f" down {e['down']}s" if "down" in e else "")
        for e in s["events"])
    model = s["model"].split("type: ")[1].split(",")[0]
    if model == "mlp":
        model += " batch " + s["model"].split("batch: ")[1].split(",")[0]
    return (f"{s['delivery']}, {s['partitions']} partition(s), workers {s['workers']}, labels {s['labels']}, "
            f"checkpoint every {s['checkpoint_every']}, {model}, {s['records']} records at {s['rate']}/s; "
            f"faults: {ev or 'none'}")
