"""peers.py - the benchmark's Python contenders, one timed prequential run per call; prints one JSON line
{"records": N, "seconds": S, "accuracy": A}.

  peers.py river KIND DATA N          River: JSON lines parsed with json.loads, then predict_proba_one and
                                      learn_one per record. KIND dense: StandardScaler | LogisticRegression
                                      (SGD 0.05); KIND cat: LogisticRegression(SGD 0.05) over one-hot
                                      {"c<i>=<value>": 1} (River's dict weights: hashing without collisions)
  peers.py vw-api ARGS DATA N         Vowpal Wabbit through its Python API, per example: parse the VW text
                                      line, predict, learn, finish (ARGS: VW options, one string)
  peers.py vw-driver ARGS DATA        VW's own reader and learning loop (-d DATA, run_parser): its CLI path
  peers.py to-vw KIND JSONL OUT       convert JSON lines to VW text: label -1/1, dense "|f x1:v ...",
                                      categorical "|c c0=v12 ..." (VW hashes the names itself, -b 20)
Time counts from the first record read to the last learned, not interpreter start-up or imports.
"""
import itertools
import json
import sys
import time


def river(kind, path, n):
    from river import linear_model, optim, preprocessing

    if kind == "dense":
        model = preprocessing.StandardScaler() | linear_model.LogisticRegression(optimizer=optim.SGD(0.05))
    else:
        model = linear_model.LogisticRegression(optimizer=optim.SGD(0.05))
    hits = count = 0
    t0 = time.perf_counter()
    with open(path) as f:
        for line in itertools.islice(f, n):
            x = json.loads(line)
            y = x.pop("label") == 1
            x.pop("id", None)
            if kind != "dense":
                x = {f"{k}={v}": 1.0 for k, v in x.items()}
            p = model.predict_proba_one(x).get(True, 0.5)
            hits += (p >= 0.5) == y
            model.learn_one(x, y)
            count += 1
    return count, time.perf_counter() - t0, hits / max(count, 1)


def vw_api(args, path, n):
    from vowpalwabbit import Workspace

    vw = Workspace(args + " --quiet")
    hits = count = 0
    t0 = time.perf_counter()
    with open(path) as f:
        for line in itertools.islice(f, n):
            ex = vw.parse(line)
            p = vw.predict(ex)
            vw.learn(ex)
            vw.finish_example(ex)
            hits += (p > 0) == (line[0] == "1")
            count += 1
    seconds = time.perf_counter() - t0
    vw.finish()
    return count, seconds, hits / max(count, 1)


def vw_driver(args, path):
    from vowpalwabbit import Workspace

    t0 = time.perf_counter()
    vw = Workspace(f"{args} -d {path} --quiet")
    vw.run_parser()
    count = int(vw.get_weighted_examples())
    seconds = time.perf_counter() - t0
    vw.finish()
    return count, seconds, None


def to_vw(kind, src, dst):
    with open(src) as f, open(dst, "w") as out:
        for line in f:
            x = json.loads(line)
            y = "1" if x.pop("label") == 1 else "-1"
            x.pop("id", None)
            if kind == "dense":
                out.write(f"{y} |f " + " ".join(f"{k}:{v!r}" for k, v in x.items()) + "\n")
            else:
                out.write(f"{y} |c " + " ".join(f"{k}={v}" for k, v in x.items()) + "\n")


def main():
    cmd = sys.argv[1]
    if cmd == "to-vw":
        to_vw(*sys.argv[2:5])
        return
    if cmd == "river":
        r = river(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "vw-api":
        r = vw_api(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "vw-driver":
        r = vw_driver(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"peers.py: unknown command {cmd}")
    print(json.dumps({"records": r[0], "seconds": r[1], "accuracy": r[2]}))


if __name__ == "__main__":
    main()
