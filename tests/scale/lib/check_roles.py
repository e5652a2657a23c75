"""check_roles.py — what tests/scale/roles.sh asserts about one trainer and three predictors.

    python check_roles.py TRAINER.err PRED.err... --in IN.jsonl --out OUT.jsonl --after-id K --pinned V --rollback-at T

From the logs (text format: an ISO-8601 UTC timestamp with milliseconds first):
  - propagation: for every version the trainer published ("published model version V") while a predictor was
    following the newest (from its first "serving model version" line to its last line, and before the rollback
    at unix time T), the predictor's first "serving model version W" with W >= V comes at most 2 s later;
  - rollback: every predictor still running after T logs "serving model version V" after T, and nothing else
    after that.
From the topics (read_topic.py dumps, the output read_committed):
  - every input record has exactly one prediction, whose source is that record;
  - every record with id >= K (produced after the rollback took effect) was scored by version V.
Prints the figures; exits 1 with the first failure."""
import argparse
import collections
import datetime
import json
import re
import sys

TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z")


def events(path, pattern):
    """(unix time, int) for each log line matching pattern (one group), and the time of the last line."""
    rx, out, last = re.compile(pattern), [], None
    for line in open(path, errors="replace"):
        m = TS.match(line)
        if not m:
            continue
        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        last = t
        g = rx.search(line)
        if g:
            out.append((t, int(g.group(1))))
    return out, last


def fail(msg):
    print("FAILED:", msg)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trainer")
    ap.add_argument("predictors", nargs="+")
    ap.add_argument("--in", dest="inp", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--after-id", type=int, required=True)
    ap.add_argument("--pinned", type=int, required=True)
    ap.add_argument("--rollback-at", type=float, required=True)
    a = ap.parse_args()

    published, _ = events(a.trainer, r"published model version (\d+)")
    if len(published) < 3:
        fail(f"the trainer published {len(published)} versions; the test needs at least 3")
    worst, checked = 0.0, 0
    for path in a.predictors:
        served, last = events(path, r"serving model version (\d+)")
        if not served:
            fail(f"{path}: never served a version")
        first = served[0][0]
        for t_pub, v in published:
            if t_pub <= first or t_pub + 2.0 > last or t_pub + 2.0 > a.rollback_at:
                continue  # before it started, after it died, or under the pin
            later = [t for t, w in served if w >= v]
            if not later:
                fail(f"{path}: never served version {v} (or newer), published at {t_pub:.3f}")
            delay = later[0] - t_pub
            worst, checked = max(worst, delay), checked + 1
            if delay > 2.0:
                fail(f"{path}: version {v} served {delay:.3f} s after it was published (limit 2 s)")
        # A version published just before the rollback may still be swapped in just after it; once the pinned
        # version is served, nothing else may be.
        after = [w for t, w in served if t >= a.rollback_at]
        if last > a.rollback_at + 5:  # still running well after the rollback
            if a.pinned not in after or any(w != a.pinned for w in after[after.index(a.pinned):]):
                fail(f"{path}: after the rollback it served {after}, expected {a.pinned} and then nothing else")
    if checked < 3:
        fail(f"only {checked} (version, predictor) propagation delays could be measured")
    print(f"ok: {checked} version arrivals measured over {len(a.predictors)} predictors, slowest {worst * 1000:.0f} ms (limit 2000)")
    print(f"ok: after the rollback every running predictor served only version {a.pinned}")

    ids = {}
    for line in open(a.inp):
        r = json.loads(line)
        ids[(r["partition"], r["offset"])] = json.loads(r["value"])["id"]
    seen = collections.Counter()
    late, late_wrong = 0, 0
    for line in open(a.out):
        p = json.loads(json.loads(line)["value"])
        src = (p["source"]["partition"], p["source"]["offset"])
        if src not in ids:
            fail(f"a prediction for {src}, which is no input record")
        seen[src] += 1
        if ids[src] >= a.after_id:
            late += 1
            late_wrong += p["model_version"] != a.pinned
    missing = [s for s in ids if seen[s] == 0]
    dupes = [s for s, n in seen.items() if n > 1]
    if missing:
        fail(f"{len(missing)} of {len(ids)} inputs have no prediction, e.g. {missing[:3]}")
    if dupes:
        fail(f"{len(dupes)} inputs have more than one prediction (exactly_once), e.g. {dupes[:3]}")
    print(f"ok: {len(ids)} inputs, each with exactly one prediction (read_committed)")
    if late == 0 or late_wrong:
        fail(f"{late_wrong} of {late} records produced after the rollback were not scored by version {a.pinned}")
    print(f"ok: all {late} records produced after the rollback were scored by version {a.pinned}")


if __name__ == "__main__":
    main()
