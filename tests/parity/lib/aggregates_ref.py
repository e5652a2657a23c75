"""aggregates_ref.py — an independent reference for rtml's per-key aggregates (src/features/aggregate.c).

    aggregates_ref.py gen OUT N KEYS SEED [--disorder S] [--late F]   a stream with out-of-order event times
    aggregates_ref.py check DATA PREDICTIONS LATENESS                   rtml's features against the reference
    aggregates_ref.py pandas DATA PREDICTIONS                            in-order data: against pandas' rolling
    aggregates_ref.py hll PREDICTIONS TRUE_DISTINCT BOUND              an estimate within its stated error

The semantics it encodes (docs/features.md): a record at event time t gets, over the records of its key that
arrived before it and were kept, the values of those with times in [t - window, t); it is then kept unless it is
older than its key's newest kept time by more than the lateness. The config the checks assume is
tests/parity/aggregates.sh's; features carry the raw aggregate (absent values imputed to -1).
"""
import json
import math
import random
import sys

WINDOWS = {"cnt_10m": 600, "sum_10m": 600, "mean_1h": 3600, "min_1h": 3600, "max_1h": 3600, "std_1h": 3600,
           "distinct_1h": 3600}
ABSENT = -1.0


def gen(out, n, keys, seed, disorder=20.0, late=0.0):
    rng = random.Random(seed)
    weights = [1.0 / (k + 1) for k in range(keys)]  # Zipf-like: a few hot keys, many cold ones
    t = 1_700_000_000.0
    with open(out, "w") as f:
        for i in range(n):
            t += rng.expovariate(1 / 0.5)
            ts = t - rng.uniform(0, disorder)  # out of order by up to `disorder` seconds
            if late and rng.random() < late:
                ts -= 3600  # far too late: kept out of the state
            k = rng.choices(range(keys), weights)[0]
            rec = {"card": f"c{k}", "amount": round(rng.lognormvariate(3, 1), 2), "merchant": f"m{rng.randrange(40)}",
                   "ts_ms": int(round(ts * 1000)), "y": rng.randrange(2)}
            f.write(json.dumps(rec) + "\n")


def reference(records, lateness):
    """Each record's expected aggregates, in stream order."""
    kept = {}  # key -> list of (t, amount, merchant) kept so far
    newest = {}
    out = []
    for r in records:
        k, t = r["card"], r["ts_ms"]  # milliseconds, as rtml keeps them
        ev = kept.get(k, [])
        if k in newest and t < newest[k] - lateness * 1000:
            out.append(None)  # beyond the lateness: scored from what is kept (not compared), and not kept
            continue
        def window(w):
            return [e for e in ev if t - w <= e[0] < t]
        row = {}
        w10, w1h = window(600_000), window(3_600_000)
        row["cnt_10m"] = len(w10)
        row["sum_10m"] = sum(e[1] for e in w10)
        a1h = [e[1] for e in w1h]
        row["mean_1h"] = sum(a1h) / len(a1h) if a1h else ABSENT
        row["min_1h"] = min(a1h) if a1h else ABSENT
        row["max_1h"] = max(a1h) if a1h else ABSENT
        if len(a1h) >= 2:
            m = sum(a1h) / len(a1h)
            row["std_1h"] = math.sqrt(sum((x - m) ** 2 for x in a1h) / (len(a1h) - 1))
        else:
            row["std_1h"] = ABSENT
        row["distinct_1h"] = len({e[2] for e in w1h})
        before = [e for e in ev if e[0] < t]
        last = max(before, key=lambda e: e[0]) if before else None
        row["last_amount"] = last[1] if last else ABSENT
        row["since_last"] = (t - last[0]) / 1000.0 if last else ABSENT
        row["cnt_all"] = len(before)
        h = 1_800_000.0
        num = sum(e[1] * 2 ** (-(t - e[0]) / h) for e in before)
        den = sum(2 ** (-(t - e[0]) / h) for e in before)
        row["ewm_mean"] = num / den if den > 0 else ABSENT
        out.append(row)
        ev.append((t, r["amount"], r["merchant"]))
        kept[k] = ev
        newest[k] = max(newest.get(k, t), t)
    return out


def load(data, preds):
    records = [json.loads(line) for line in open(data)]
    features = [json.loads(line)["features"] for line in open(preds)]
    if len(records) != len(features):
        sys.exit(f"{len(records)} records but {len(features)} predictions")
    return records, features


def close(a, b, rel=1e-9, absolute=1e-9):
    return abs(a - b) <= max(absolute, rel * max(abs(a), abs(b)))


def check(data, preds, lateness):
    records, got = load(data, preds)
    want = reference(records, float(lateness))
    bad = late = 0
    for i, (w, g) in enumerate(zip(want, got)):
        if w is None:
            late += 1
            continue
        for name, v in w.items():
            if not close(v, g[name]):
                bad += 1
                if bad <= 10:
                    print(f"record {i} ({records[i]['card']} at {records[i]['ts_ms']}): {name} rtml {g[name]} "
                          f"reference {v}")
    n = (len(want) - late) * len(next(w for w in want if w))
    print(f"{len(want)} records ({late} beyond the lateness, not compared), {n} aggregate values compared, "
          f"{bad} differ")
    sys.exit(1 if bad else 0)


def check_pandas(data, preds):
    """In event-time order, rtml's windowed aggregates equal pandas' groupby(key).rolling(closed="left")."""
    import pandas as pd
    records, got = load(data, preds)
    df = pd.DataFrame(records)
    df["t"] = pd.to_datetime(df["ts_ms"], unit="ms")
    df["i"] = range(len(df))
    cols = {"cnt_10m": ("600s", "count"), "sum_10m": ("600s", "sum"), "mean_1h": ("3600s", "mean"),
            "min_1h": ("3600s", "min"), "max_1h": ("3600s", "max"), "std_1h": ("3600s", "std")}
    bad = total = 0
    for name, (w, fn) in cols.items():
        for _, sub in df.groupby("card", sort=False):  # rows in stream (= time) order within each key
            ref = getattr(sub.set_index("t")["amount"].rolling(w, closed="left"), fn)().to_numpy()
            for row, v in zip(sub["i"], ref):
                g = got[int(row)][name]
                if math.isnan(v):
                    v = 0.0 if fn in ("count", "sum") else ABSENT
                total += 1
                if not close(float(v), g):
                    bad += 1
                    if bad <= 10:
                        print(f"record {row}: {name} rtml {g} pandas {v}")
    print(f"pandas: {total} values compared, {bad} differ")
    sys.exit(1 if bad else 0)


def check_hll(preds, true_distinct, bound):
    got = [json.loads(line)["features"]["distinct_1h"] for line in open(preds)]
    est = got[-1]
    err = abs(est - int(true_distinct)) / int(true_distinct)
    print(f"distinct over the window: estimate {est}, true {true_distinct}, relative error {err:.4f} (bound {bound})")
    sys.exit(0 if err <= float(bound) else 1)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "gen":
        import argparse
        ap = argparse.ArgumentParser()
        ap.add_argument("out"), ap.add_argument("n", type=int), ap.add_argument("keys", type=int)
        ap.add_argument("seed", type=int)
        ap.add_argument("--disorder", type=float, default=20.0), ap.add_argument("--late", type=float, default=0.0)
        o = ap.parse_args(args)
        gen(o.out, o.n, o.keys, o.seed, o.disorder, o.late)
    elif cmd == "check":
        check(*args)
    elif cmd == "pandas":
        check_pandas(*args)
    elif cmd == "hll":
        check_hll(*args)
    else:
        sys.exit(__doc__)
