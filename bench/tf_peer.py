"""tf_peer.py - the Python contender of the `tensorflow` benchmark (bench/tensorflow.py), and its TensorFlow
helpers: what a user writes today instead of rtml, a confluent-kafka consumer glued to a Keras model.

It runs as one long-lived process that bench/tensorflow.py drives: one JSON command per line on stdin, one
JSON answer per line on stdout (TensorFlow is imported once, not once per measurement; the process sleeps
on stdin while rtml is measured). Commands:

  {"cmd": "export", "dir": D}     the benchmark's model: Input(3) -> Dense(16, relu) -> Dense(1, sigmoid),
                                  seeded; written as D/model/1 by rtml_tf.export (adam 0.01,
                                  binary_crossentropy: serving_default + train) and as D/model.keras (the
                                  same weights) for the Python contender. Answers rtml_tf's describe().
  {"cmd": "fixed_cost", "model": K, "batches": [1, 8, 64, 256], "reps": N}
                                  Keras' own per-call cost: median microseconds of predict_on_batch,
                                  model(x, training=False) and train_on_batch, per batch size.
  {"cmd": "run", "brokers": B, "topic": IN, "out": OUT, "group": G, "model": K, "batch": 64,
   "max_delay": 0.005, "train": true, "max_records": N, "idle": S}
                                  the contender (consume_predict_learn below): answers {"event": "assigned"}
                                  once it has its partitions, then {"records", "learned", "seconds", ...}.
  {"cmd": "quit"}

The contender, as a user would write it: consume up to `batch` records (waiting at most max_delay, like
rtml's model.tensorflow.max_delay), json.loads each, stack the raw x1..x3 (rtml is configured without
transforms too), one predict_on_batch per batch, then train_on_batch on the labelled records of the batch
(test-then-train, as rtml), then one JSON prediction per record, keyed like its input, in rtml's format
({"prediction", "score", "model_version", "source": {topic, partition, offset}}), to the output topic.
The producer is configured like rtml's (idempotent, linger.ms 2); offsets are auto-committed (simpler and
cheaper than rtml's commit-after-acknowledgement). The model is loaded fresh for each run and warmed up
(Keras traces its functions on the first calls) before the consumer subscribes: four predict/train calls on
synthetic batches, then the initial weights are put back (the optimizer keeps its four warm-up steps).
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
# bench/tensorflow.py (the benchmark driver) would shadow the tensorflow package: drop this directory.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, os.path.join(HERE, "..", "python"))  # rtml_tf

import numpy as np  # noqa: E402
import keras  # noqa: E402
from confluent_kafka import Consumer, Producer  # noqa: E402

LEARNING_RATE = 0.01


def answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def export(d):
    from rtml_tf.export import describe, export as rtml_export

    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((3,), name="x"), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.save(os.path.join(d, "model.keras"))  # before export: the initial weights, no optimizer state
    path = rtml_export(model, os.path.join(d, "model"), loss="binary_crossentropy", optimizer="adam",
                       learning_rate=LEARNING_RATE, version=1)
    import confluent_kafka
    import tensorflow as tf

    versions = {"tensorflow": tf.__version__, "keras": keras.__version__,
                "confluent_kafka": confluent_kafka.__version__, "librdkafka": confluent_kafka.libversion()[0],
                "python": sys.version.split()[0], "numpy": np.__version__}
    return {"path": path, "signatures": describe(path), "versions": versions}


def load(path):
    model = keras.models.load_model(path, compile=False)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="binary_crossentropy")
    return model


def warm_up(model, train):
    """Keras traces predict/train functions on first use, and once more for a second batch shape."""
    weights = model.get_weights()
    rng = np.random.default_rng(0)
    for b in (64, 1, 2, 64):
        x = rng.uniform(0, 10, (b, 3)).astype("float32")
        model.predict_on_batch(x)
        if train:
            model.train_on_batch(x, (x[:, 0] + x[:, 1] <= 8).astype("float32"))
    model.set_weights(weights)


def fixed_cost(path, batches, reps):
    model = load(path)
    warm_up(model, True)
    rng = np.random.default_rng(1)
    out = []
    for b in batches:
        x = rng.uniform(0, 10, (b, 3)).astype("float32")
        y = (x[:, 0] + x[:, 1] <= 8).astype("float32")
        calls = {"predict_on_batch": lambda: model.predict_on_batch(x),
                 "call": lambda: model(x, training=False).numpy(),
                 "train_on_batch": lambda: model.train_on_batch(x, y)}
        row = {"batch": b}
        for name, f in calls.items():
            for _ in range(20):
                f()
            ts = []
            for _ in range(reps):
                t0 = time.perf_counter()
                f()
                ts.append(time.perf_counter() - t0)
            row[name + "_us"] = float(np.median(ts) * 1e6)
        out.append(row)
    return out


def consume_predict_learn(brokers, topic, out, group, model, batch, max_delay, train, max_records, idle,
                          on_assigned):
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": True})
    producer = Producer({"bootstrap.servers": brokers, "enable.idempotence": True, "linger.ms": 2})
    consumer.subscribe([topic], on_assign=lambda c, parts: on_assigned())
    records = learned = 0
    first = last = None
    started = time.time()
    try:
        while records < max_records:
            msgs = consumer.consume(num_messages=min(batch, max_records - records), timeout=max_delay)
            now = time.time()
            if not msgs:
                if now - (last or started) >= (idle if last else max(idle, 60)):
                    break
                continue
            msgs = [m for m in msgs if m.error() is None]
            if not msgs:
                continue
            first = first or now
            last = now
            recs = [json.loads(m.value()) for m in msgs]
            x = np.array([[r["x1"], r["x2"], r["x3"]] for r in recs], dtype=np.float32)
            scores = model.predict_on_batch(x)[:, 0]
            if train:
                labelled = [i for i, r in enumerate(recs) if r.get("label") is not None]
                if labelled:
                    y = np.array([recs[i]["label"] for i in labelled], dtype=np.float32)
                    model.train_on_batch(x[labelled], y)
                    learned += len(labelled)
            for m, s in zip(msgs, scores):
                s = float(s)
                producer.produce(out, key=m.key(), value=json.dumps(
                    {"prediction": int(s >= 0.5), "score": s, "model_version": 1,
                     "source": {"topic": m.topic(), "partition": m.partition(), "offset": m.offset()}}))
            producer.poll(0)
            records += len(msgs)
    finally:
        producer.flush(60)
        consumer.close()
    return {"records": records, "learned": learned, "seconds": (last - first) if first else 0.0}


def run(c):
    model = load(c["model"])
    warm_up(model, c["train"])
    assigned = []

    def on_assigned():
        if not assigned:
            assigned.append(1)
            answer({"event": "assigned"})

    r = consume_predict_learn(c["brokers"], c["topic"], c["out"], c["group"], model, c["batch"], c["max_delay"],
                              c["train"], c["max_records"], c["idle"], on_assigned)
    r["event"] = "done"
    return r


def main():
    for line in sys.stdin:
        c = json.loads(line)
        if c["cmd"] == "quit":
            return
        if c["cmd"] == "export":
            answer(export(c["dir"]))
        elif c["cmd"] == "fixed_cost":
            answer({"rows": fixed_cost(c["model"], c["batches"], c["reps"])})
        elif c["cmd"] == "run":
            answer(run(c))
        else:
            answer({"error": f"unknown command {c['cmd']}"})


if __name__ == "__main__":
    main()
