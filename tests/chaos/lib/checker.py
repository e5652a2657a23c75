"""checker.py — the campaign's independent checker: it reads the topics back with its own consumer
(confluent-kafka, read_committed) and judges the invariants from them, not from rtml's reports.

check(boot, topics, delivery, learned_total, relearn_allowance) -> (violations, counts)
  topics: {"input", "output", "dlq", "labels" (or None)}
  - every input record that is valid JSON with a numeric x1 has a prediction: exactly one under
    exactly_once, at least one under at_least_once; each prediction names its source (topic, partition,
    offset) and carries that input's key;
  - every other input record is a dead letter (exactly once under exactly_once), byte for byte its input's
    value and key, with the reason the input deserves (wrong_type / malformed) and its source in the headers;
    nothing else is in the dead-letter topic, and no malformed input has a prediction;
  - the models learned every labelled record exactly once: the sum of the learned counts of every state
    directory equals the labelled records (inline labels: valid inputs with a label; label.topic: labels
    whose record is valid); more only by as many as rtml said a handover left uncommitted (relearn_allowance,
    read from its logs: a lost assignment, docs/scaling.md; it may also get them back itself and learn none
    again, hence a range)."""
import collections
import json

from confluent_kafka import Consumer, TopicPartition


def read_all(boot, topic, timeout=120):
    """Every record of topic up to its end offsets now, read_committed: [(partition, offset, key, value, headers)]."""
    import time
    c = Consumer({"bootstrap.servers": boot, "group.id": "rtml-chaos-checker", "enable.auto.commit": False,
                  "isolation.level": "read_committed", "log_level": 0})
    md = c.list_topics(topic, timeout=30)
    if topic not in md.topics or md.topics[topic].error:
        c.close()
        return []
    parts = sorted(md.topics[topic].partitions)
    ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in parts}
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    pos, out, deadline = {p: 0 for p in parts}, [], time.time() + timeout
    while any(pos[p] < ends[p] for p in parts):
        if time.time() > deadline:
            c.close()
            raise RuntimeError(f"reading {topic}: timed out at {pos} of {ends}")
        for m in c.consume(5000, timeout=0.5):
            if m.error():
                continue
            pos[m.partition()] = m.offset() + 1
            out.append((m.partition(), m.offset(), m.key(), m.value(), dict(m.headers() or [])))
        # transaction markers and aborted data are never delivered: the position says where the reader is
        for tp in c.position([TopicPartition(topic, p) for p in parts]):
            if tp.offset >= 0:
                pos[tp.partition] = max(pos[tp.partition], tp.offset)
    c.close()
    return out


def expected_reason(value):
    """None for a valid input, else the rejection reason rtml must give it."""
    try:
        v = json.loads(value)
    except ValueError:
        return "malformed"
    return None if isinstance(v.get("x1"), (int, float)) else "wrong_type"


def check(boot, topics, delivery, learned_total, relearn_allowance):
    exact = delivery == "exactly_once"
    bad = []
    inputs = {(p, o): (k, v) for p, o, k, v, _ in read_all(boot, topics["input"])}
    valid = {src for src, (_, v) in inputs.items() if expected_reason(v) is None}
    labelled = sum(1 for src in valid if "label" in json.loads(inputs[src][1]))
    if topics.get("labels"):
        valid_keys = {inputs[src][0] for src in valid}
        labelled = sum(1 for _, _, k, _, _ in read_all(boot, topics["labels"]) if k in valid_keys)

    answered = collections.Counter()
    for p, o, k, v, _ in read_all(boot, topics["output"]):
        pred = json.loads(v)
        src = (pred["source"]["partition"], pred["source"]["offset"])
        if pred["source"]["topic"] != topics["input"] or src not in inputs:
            bad.append(f"prediction {p}@{o} names an input that does not exist: {pred['source']}")
        elif src not in valid:
            bad.append(f"prediction {p}@{o} answers malformed input {src}")
        elif k != inputs[src][0]:
            bad.append(f"prediction {p}@{o} has key {k!r}, its input {src} {inputs[src][0]!r}")
        answered[src] += 1
    missing = sorted(valid - set(answered))
    if missing:
        bad.append(f"{len(missing)} inputs without a prediction, e.g. {missing[:5]}")
    dups = {src: n for src, n in answered.items() if n > 1}
    if exact and dups:
        first = sorted(dups)
        by_part = collections.Counter(p for p, _ in first)
        bad.append(f"{sum(n - 1 for n in dups.values())} duplicate predictions under exactly_once (by input "
                   f"partition {dict(by_part)}; from {first[0]} to {first[-1]})")

    dead = collections.Counter()
    for p, o, k, v, h in read_all(boot, topics["dlq"]):
        h = {name: val.decode() for name, val in h.items()}
        try:
            src = (int(h["rtml.source.partition"]), int(h["rtml.source.offset"]))
        except (KeyError, ValueError):
            bad.append(f"dead letter {p}@{o} without its source headers: {h}")
            continue
        want = inputs.get(src)
        if want is None or src in valid:
            bad.append(f"dead letter {p}@{o} for {src}, which is not a malformed input")
        elif (k, v) != want:
            bad.append(f"dead letter {p}@{o} is not byte for byte its input {src}")
        elif h.get("rtml.reason") != expected_reason(want[1]):
            bad.append(f"dead letter {p}@{o} says {h.get('rtml.reason')}, {src} is {expected_reason(want[1])}")
        dead[src] += 1
    malformed = set(inputs) - valid
    missing_dead = sorted(malformed - set(dead))
    if missing_dead:
        bad.append(f"{len(missing_dead)} malformed inputs not in the dead-letter topic, e.g. {missing_dead[:5]}")
    dead_dups = sum(n - 1 for n in dead.values())
    if exact and dead_dups:
        bad.append(f"{dead_dups} duplicate dead letters under exactly_once")

    if not labelled <= learned_total <= labelled + relearn_allowance:
        bad.append(f"the models learned {learned_total} records; {labelled} are labelled"
                   + (f" (up to {relearn_allowance} more may be learned again after handovers that rtml said it "
                      f"could not commit)" if relearn_allowance else ""))
    counts = {"inputs": len(inputs), "predictions": sum(answered.values()), "duplicates": sum(n - 1 for n in dups.values()),
              "dead_letters": sum(dead.values()), "labelled": labelled, "learned": learned_total}
    return bad, counts
