"""binary_io.py — the binary-format peer of tests/integration/formats.sh (fastavro and a hand-written
Protobuf encoder, not rtml's code).

    binary_io.py produce BOOTSTRAP TOPIC avro|protobuf SCHEMA < sea.jsonl
        sends each JSON record as a Confluent-framed Avro datum (schema id 7) or a Protobuf message, keyed
        by its id, then three malformed messages
    binary_io.py read BOOTSTRAP TOPIC SCHEMA.avsc
        prints each Avro prediction record of the topic as a JSON line {"key":..., "value": {...}}
"""
import io
import json
import struct
import sys

import fastavro
from confluent_kafka import Producer

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import read_topic  # noqa: E402  (same folder)


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def protobuf_sea(r):
    msg = b"\x08" + varint(r["id"])
    for field, name in ((2, "x1"), (3, "x2"), (4, "x3")):
        msg += bytes([field << 3 | 1]) + struct.pack("<d", r[name])
    return msg + b"\x28" + varint(r["label"])


def produce(boot, topic, fmt, schema_path):
    p = Producer({"bootstrap.servers": boot})
    schema = fastavro.parse_schema(json.load(open(schema_path))) if fmt == "avro" else None
    for line in sys.stdin:
        r = json.loads(line)
        if fmt == "avro":
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, schema, r)
            value = b"\x00" + struct.pack(">I", 7) + buf.getvalue()
        else:
            value = protobuf_sea(r)
        p.produce(topic, value, key=str(r["id"]))
        p.poll(0)
    for bad in (b"\x00\x00\x00\x00\x07\xff", b"\xff\xff\xff", b"\x0a\x05ab"):  # truncated / garbage
        p.produce(topic, bad, key="bad")
    assert p.flush(30) == 0


def read(boot, topic, schema_path):
    schema = fastavro.parse_schema(json.load(open(schema_path)))
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": boot, "group.id": "rtml-test-binary", "enable.auto.commit": False})
    parts = sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)
    ends = {q: c.get_watermark_offsets(TopicPartition(topic, q), timeout=10)[1] for q in parts}
    c.assign([TopicPartition(topic, q, 0) for q in parts])
    pos = {q: 0 for q in parts}
    while any(pos[q] < ends[q] for q in parts):
        for m in c.consume(1000, timeout=1):
            if m.error():
                continue
            pos[m.partition()] = m.offset() + 1
            value = fastavro.schemaless_reader(io.BytesIO(m.value()), schema)
            print(json.dumps({"key": m.key().decode(), "value": value}))
    c.close()


if __name__ == "__main__":
    if sys.argv[1] == "produce":
        produce(*sys.argv[2:6])
    else:
        read(*sys.argv[2:5])
