"""check_outputs.py — after a run with faults: did every input get its output, and was every label learned once?

    python check_outputs.py MODE IN.jsonl OUT.jsonl DLQ.jsonl STATE.json
IN/OUT/DLQ are read_topic.py dumps (DLQ with --headers); STATE is `rtml state` output. Inputs carry an "id";
those whose x1 is not a number must be dead letters, the others predictions. MODE exactly_once demands exactly
one output per input; at_least_once at least one. The checkpoint's learned count must equal the number of valid
labelled inputs. Prints what it counted; exits 1 with the first discrepancy."""
import collections
import json
import sys


def main():
    mode, in_path, out_path, dlq_path, state_path = sys.argv[1:6]
    exact = mode == "exactly_once"
    inputs, valid, bad, labelled = {}, set(), set(), 0
    for line in open(in_path):
        r = json.loads(line)
        v = json.loads(r["value"])
        inputs[(r["partition"], r["offset"])] = v["id"]
        if isinstance(v.get("x1"), str):
            bad.add(v["id"])
        else:
            valid.add(v["id"])
            labelled += "label" in v
    preds = collections.Counter()
    where = collections.defaultdict(list)  # input id -> the output partitions/offsets that answered it
    for line in open(out_path):
        r = json.loads(line)
        p = json.loads(r["value"])
        src = (p["source"]["partition"], p["source"]["offset"])
        rid = inputs.get(src)
        assert rid is not None, f"prediction for unknown input {src}"
        assert r["key"] == str(rid), f"prediction key {r['key']} for input id {rid}"
        preds[rid] += 1
        where[rid].append((src, r["partition"], r["offset"], p.get("model_version")))
    dead = collections.Counter()
    for line in open(dlq_path):
        r = json.loads(line)
        h = r["headers"]
        src = (int(h["rtml.source.partition"]), int(h["rtml.source.offset"]))
        rid = inputs.get(src)
        assert rid in bad, f"dead letter for {src} (id {rid}) which is not malformed"
        assert h["rtml.reason"] == "wrong_type", h
        assert json.loads(r["value"])["id"] == rid, "dead letter payload is not the input's"
        dead[rid] += 1
    state = json.loads(open(state_path).read().strip().splitlines()[-1])

    missing = sorted(valid - set(preds))
    assert not missing, f"{len(missing)} inputs without a prediction, e.g. {missing[:5]}"
    assert not set(preds) - valid, "predictions for malformed inputs"
    dups = sum(c - 1 for c in preds.values())
    if exact and dups:  # where they are tells which restart answered twice
        by_part = collections.Counter(where[i][0][0][0] for i, c in preds.items() if c > 1)
        first = sorted(where[i][0][0] for i, c in preds.items() if c > 1)
        print(f"duplicates by input partition {dict(by_part)}; inputs from {first[0]} to {first[-1]}; e.g. "
              f"{[where[i] for i, c in list(preds.items()) if c > 1][:3]}", file=sys.stderr)
    assert not (exact and dups), f"{dups} duplicate predictions under exactly_once"
    missing_dead = sorted(bad - set(dead))
    assert not missing_dead, f"{len(missing_dead)} malformed inputs not in the dead-letter topic: {missing_dead[:5]}"
    dead_dups = sum(c - 1 for c in dead.values())
    assert not (exact and dead_dups), f"{dead_dups} duplicate dead letters under exactly_once"
    assert state["learned"] == labelled, f"model learned {state['learned']} records, {labelled} are labelled"
    print(f"ok: {len(valid)} inputs, each with {'exactly one' if exact else 'at least one'} prediction "
          f"({dups} duplicates); {len(bad)} malformed, each dead-lettered ({dead_dups} duplicates); "
          f"learned {state['learned']} == {labelled} labelled records")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
