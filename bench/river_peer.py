"""river_peer.py - the Python pipeline users write today instead of rtml: a confluent-kafka consumer glued to
River, one record at a time (json.loads, predict_proba_one, learn_one when labelled, a JSON prediction produced
with the input's key), offsets auto-committed as confluent-kafka does by default.

usage: river_peer.py BROKERS IN OUT GROUP N [KIND]
Stops after N records; prints {"records", "seconds", "accuracy"} (seconds from the first record to the last
acknowledged prediction). KIND dense (the default) is the model rtml runs on the `pipeline` benchmark's SEA
stream: StandardScaler | LogisticRegression(SGD 0.05) on x1..x3. KIND cat is for its categorical stream:
LogisticRegression(SGD 0.05) over the one-hot dict {"c<i>=<value>": 1} (as bench/peers.py feeds River; River has
no FTRL, and its dict weights need no hashing, so they have no collisions).
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer
from river import linear_model, optim, preprocessing


def main():
    brokers, topic, out, group, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    kind = sys.argv[6] if len(sys.argv) > 6 else "dense"
    if kind not in ("dense", "cat"):
        sys.exit(f"river_peer.py: unknown KIND {kind} (expected dense or cat)")
    c = Consumer({"bootstrap.servers": brokers, "group.id": group, "auto.offset.reset": "earliest"})
    p = Producer({"bootstrap.servers": brokers, "linger.ms": 2, "enable.idempotence": True})
    c.subscribe([topic])
    model = linear_model.LogisticRegression(optimizer=optim.SGD(0.05))
    if kind == "dense":
        model = preprocessing.StandardScaler() | model
    hits = labelled = read = 0
    t0 = None
    deadline = time.time() + 600
    while read < n and time.time() < deadline:
        for m in c.consume(500, timeout=0.5):
            if m.error():
                continue
            if t0 is None:
                t0 = time.perf_counter()
            x = json.loads(m.value())
            y = x.pop("label", None)
            x.pop("id", None)
            if kind == "cat":
                x = {f"{k}={v}": 1.0 for k, v in x.items()}
            prob = model.predict_proba_one(x).get(True, 0.5)
            if y is not None:
                hits += (prob >= 0.5) == (y == 1)
                labelled += 1
                model.learn_one(x, y == 1)
            pred = {"prediction": int(prob >= 0.5), "score": prob,
                    "source": {"topic": m.topic(), "partition": m.partition(), "offset": m.offset()}}
            while True:
                try:
                    p.produce(out, json.dumps(pred).encode(), key=m.key())
                    break
                except BufferError:
                    p.poll(0.01)
            p.poll(0)
            read += 1
            if read == n:
                break
    p.flush(60)
    secs = time.perf_counter() - t0 if t0 else 0
    c.close()
    print(json.dumps({"records": read, "seconds": secs, "accuracy": hits / labelled if labelled else 0}))
    return 0 if read == n else 1


if __name__ == "__main__":
    sys.exit(main())
