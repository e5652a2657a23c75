"""benchlib.py - what the Kafka benchmarks (scaling.py, pipeline.py, latency.py) measure and do alike."""
import shutil
import subprocess
import tempfile
import time

from confluent_kafka import Consumer, TopicPartition

# The features section of every benchmark config over SEA records (x1..x3, standardised), as YAML lines.
SEA_FEATURES = "".join(f"  - {{name: x{i}, field: /x{i}, transforms: [standardize]}}\n" for i in (1, 2, 3))


def log(msg):
    print(msg, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def output_rate(brokers, topic, timeout=120):
    """(records, rate, seconds) of an output topic: its record count, and the steady rate: the middle 80% of its
    records over the span of their timestamps (the first 10% hold the group's join and the first fetches, the
    last 10% the members finishing at different times)."""
    c = Consumer({"bootstrap.servers": brokers, "group.id": f"bench-span-{time.time_ns()}",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    parts = c.list_topics(topic, timeout=10).topics[topic].partitions
    c.assign([TopicPartition(topic, p, 0) for p in parts])
    stamps, eof, deadline = [], set(), time.time() + timeout
    while len(eof) < len(parts) and time.time() < deadline:
        for m in c.consume(10000, timeout=1):
            if m.error():
                eof.add(m.partition())
            else:
                stamps.append(m.timestamp()[1])
    c.close()
    stamps.sort()
    if len(stamps) < 10:
        return len(stamps), 0.0, 0.0
    lo, hi = len(stamps) // 10, len(stamps) * 9 // 10
    secs = (stamps[hi] - stamps[lo]) / 1000.0
    return len(stamps), (hi - lo) / secs if secs > 0 else 0.0, (stamps[-1] - stamps[0]) / 1000.0


def run_scenario(name, rtml, measure, report):
    """A scenario's frame: measure(work) in a fresh work directory (removed afterwards, whatever happens), then
    report(result, rtml's version line) writes the report and returns its path; the report is printed."""
    work = tempfile.mkdtemp(prefix=f"rtml-bench-{name}-")
    try:
        res = measure(work)
        version = subprocess.run([rtml, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        md = report(res, version)
        with open(md) as f:
            log(f.read())
        log(f"{name}: wrote {md}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
