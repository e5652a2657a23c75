"""peers.py — records written, and predictions read back, by the peers' own libraries (Python's protobuf
runtime, fastavro, confluent-kafka), never by rtml: the reference side of tests/unit/test_protobuf.c,
test_avro.c, test_format_parity.c and tests/integration/formats_peers.sh.

    peers.py wkt OUT.desc
        the protobuf runtime's own descriptors of timestamp.proto, duration.proto and wrappers.proto, as a
        FileDescriptorSet for `protoc --descriptor_set_in` (protoc's include files are not installed)
    peers.py editions OUT.desc
        a descriptor set in edition 2023 (protoc here predates editions; the runtime reads them):
        rtml.ed.E {int32 a = 1; int32 b = 2 [field_presence EXPLICIT]; Inner inner = 3} in a file whose
        features say IMPLICIT; Inner {int32 c = 1} with message features EXPLICIT; rtml.ed2.F {int32 x = 1}
        in a file with the edition's defaults (EXPLICIT)
    peers.py pb-write DESC MESSAGE [--confluent ID] < JSON lines
        each line a message in protobuf's JSON mapping (json_format.Parse), serialized by the runtime; prints
        its hex, with Confluent framing when asked (magic byte 0, the id, the message indexes)
    peers.py pb-read DESC MESSAGE [--confluent] < hex lines
        parses each message with the runtime; prints {"value": {...}, "same": B, "schema_id": N, "indexes": [..]}
        ("same": the runtime serializes the parsed message to the very same bytes)
    peers.py avro-write AVSC [--confluent ID] < Python expressions
        each line a datum as a Python expression over datetime, date, time, timezone, Decimal and UUID (the
        values a producer hands fastavro for logical types); prints fastavro's encoding as hex
    peers.py payments DESC AVSC N SEED OUTDIR
        N payment records, the same ones three ways: payments.jsonl (json.dumps), payments.avro.hex (fastavro,
        Confluent-framed, id 7) and payments.pb.hex (rtml.peers.Payment by the protobuf runtime,
        Confluent-framed, id 9)
    peers.py produce BOOTSTRAP TOPIC FILE [--hex]
        each line of FILE (hex-decoded with --hex) as one record keyed by its number (1, 2, ...)
    peers.py read-pb BOOTSTRAP TOPIC DESC MESSAGE [--confluent]
        every protobuf record of the topic as a JSON line {"key", "value", "same", "schema_id", "indexes"}

Confluent framing is written and read here as confluent-kafka's ProtobufSerializer does (SchemaId.id_to_bytes,
_create_index_array, _read_index_array in confluent_kafka/schema_registry): that module needs the schema
registry's extra packages (authlib, httpx, ...), which the pinned environment does not hold.
"""
import datetime
import decimal
import io
import json
import random
import struct
import sys
import time
import uuid

from google.protobuf import descriptor_pb2, descriptor_pool, duration_pb2, json_format, message_factory
from google.protobuf import timestamp_pb2, wrappers_pb2

WRAPPERS = {"google.protobuf." + n for n in ("DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value",
                                              "UInt32Value", "BoolValue", "StringValue", "BytesValue")}
TIMES = {"google.protobuf.Timestamp", "google.protobuf.Duration"}


# ---- protobuf: descriptors, Confluent framing, plain values ---------------------------------------------

def wkt(out_path):
    s = descriptor_pb2.FileDescriptorSet()
    for m in (timestamp_pb2, duration_pb2, wrappers_pb2):
        s.file.add().ParseFromString(m.DESCRIPTOR.serialized_pb)
    with open(out_path, "wb") as f:
        f.write(s.SerializeToString())


def editions(out_path):
    d = descriptor_pb2
    i32, opt = d.FieldDescriptorProto.TYPE_INT32, d.FieldDescriptorProto.LABEL_OPTIONAL
    f = d.FileDescriptorProto(name="ed.proto", package="rtml.ed", syntax="editions", edition=d.EDITION_2023)
    f.options.features.field_presence = d.FeatureSet.IMPLICIT
    e = f.message_type.add(name="E")
    e.field.add(name="a", number=1, type=i32, label=opt)
    e.field.add(name="b", number=2, type=i32, label=opt).options.features.field_presence = d.FeatureSet.EXPLICIT
    e.field.add(name="inner", number=3, type=d.FieldDescriptorProto.TYPE_MESSAGE, label=opt,
                type_name=".rtml.ed.Inner")
    inner = f.message_type.add(name="Inner")
    inner.options.features.field_presence = d.FeatureSet.EXPLICIT
    inner.field.add(name="c", number=1, type=i32, label=opt)
    g = d.FileDescriptorProto(name="ed2.proto", package="rtml.ed2", syntax="editions", edition=d.EDITION_2023)
    g.message_type.add(name="F").field.add(name="x", number=1, type=i32, label=opt)
    s = d.FileDescriptorSet(file=[f, g])
    pool = descriptor_pool.DescriptorPool()
    for fd in s.file:
        pool.Add(fd)  # the runtime accepts it
    with open(out_path, "wb") as out:
        out.write(s.SerializeToString())


def message_class(desc_path, name):
    with open(desc_path, "rb") as f:
        fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:  # protoc --include_imports lists dependencies first
        pool.Add(fd)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


def zigzag_varint(v):
    v = (v << 1) ^ (v >> 63)
    out = bytearray()
    while v & ~0x7F:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def message_indexes(desc):
    """Where desc sits in its file: confluent-kafka's _create_index_array."""
    idx = []
    while desc.containing_type is not None:
        idx.insert(0, list(desc.containing_type.nested_types).index(desc))
        desc = desc.containing_type
    idx.insert(0, list(desc.file.message_types_by_name).index(desc.name))
    return idx


def confluent_header(schema_id, desc):
    """SchemaId.id_to_bytes: magic byte 0, the id (big-endian), the indexes ([0] as the single byte 0)."""
    idx = message_indexes(desc)
    head = struct.pack(">bI", 0, schema_id)
    if idx == [0]:
        return head + b"\x00"
    return head + zigzag_varint(len(idx)) + b"".join(zigzag_varint(i) for i in idx)


def read_zigzag(buf, pos):
    v = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (v >> 1) ^ -(v & 1), pos


def split_confluent(buf):
    """The id, the message indexes (_read_index_array) and the message bytes of a framed record."""
    assert buf[0] == 0, "no magic byte"
    schema_id = struct.unpack(">I", buf[1:5])[0]
    n, pos = read_zigzag(buf, 5)
    idx = []
    for _ in range(n):
        i, pos = read_zigzag(buf, pos)
        idx.append(i)
    return schema_id, idx or [0], buf[pos:]


def plain(m):
    """A message's fields as Python values: explicit-presence fields not set are None, wrappers their value,
    Timestamp/Duration seconds (float), enums their names, repeated fields lists, maps dicts."""
    out = {}
    for f in m.DESCRIPTOR.fields:
        v = getattr(m, f.name)
        if f.message_type and f.message_type.GetOptions().map_entry:
            vf = f.message_type.fields_by_name["value"]
            out[f.name] = {k: (plain(x) if vf.message_type else x) for k, x in sorted(v.items())}
        elif f.is_repeated:
            out[f.name] = [value_of(f, x) for x in v]
        elif f.has_presence and not m.HasField(f.name):
            out[f.name] = None
        else:
            out[f.name] = value_of(f, v)
    return out


def value_of(f, v):
    if f.message_type is None:
        return f.enum_type.values_by_number[v].name if f.enum_type and v in f.enum_type.values_by_number else v
    name = f.message_type.full_name
    if name in WRAPPERS:
        return v.value
    if name in TIMES:
        return v.seconds + v.nanos / 1e9
    return plain(v)


def pb_write(desc_path, name, confluent_id=None):
    cls = message_class(desc_path, name)
    for line in sys.stdin:
        m = json_format.Parse(line, cls())
        data = m.SerializeToString()
        if confluent_id is not None:
            data = confluent_header(int(confluent_id), cls.DESCRIPTOR) + data
        print(data.hex())


def describe(cls, data, confluent):
    rec = {}
    if confluent:
        rec["schema_id"], rec["indexes"], data = split_confluent(data)
    m = cls()
    m.ParseFromString(data)
    rec["value"] = plain(m)
    rec["same"] = m.SerializeToString() == data
    return rec


def pb_read(desc_path, name, confluent):
    cls = message_class(desc_path, name)
    for line in sys.stdin:
        print(json.dumps(describe(cls, bytes.fromhex(line.strip()), confluent), separators=(",", ":")))


def avro_write(avsc_path, confluent_id=None):
    import fastavro
    with open(avsc_path) as f:
        schema = fastavro.parse_schema(json.load(f))
    names = {"__builtins__": {}, "datetime": datetime.datetime, "date": datetime.date, "time": datetime.time,
             "timezone": datetime.timezone, "Decimal": decimal.Decimal, "UUID": uuid.UUID, "None": None,
             "True": True, "False": False}
    for line in sys.stdin:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, schema, eval(line, names))  # test input, written in the test itself
        head = b"" if confluent_id is None else b"\x00" + struct.pack(">I", int(confluent_id))
        print((head + buf.getvalue()).hex())


# ---- the payment records -------------------------------------------------------------------------------

KINDS = ["KIND_UNSPECIFIED", "CARD", "CASH", "WIRE"]
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def make_payment(i, rnd):
    """One payment as plain values; what each format writes is derived from it."""
    cents = rnd.randrange(100, 500000)
    created_ms = 1704067200000 + rnd.randrange(0, 90 * 86400 * 1000)  # Q1 2024
    kind = KINDS[0] if rnd.random() < 0.5 else rnd.choice(KINDS[1:])  # half at proto3's default
    installments = 0 if rnd.random() < 0.6 else rnd.randrange(1, 13)
    items = [{"sku": f"s{rnd.randrange(1000)}", "price": rnd.randrange(100, 20000) / 100}
             for _ in range(rnd.choice([0, 0, 1, 2, 3]))]
    attrs = {"channel": rnd.choice(["web", "app", "pos"])} if rnd.random() < 0.8 else {}
    if rnd.random() < 0.3:
        attrs["campaign"] = f"c{rnd.randrange(5)}"
    p = {"id": i, "cents": cents, "kind": kind, "installments": installments,
         "discount": rnd.choice([None, None, 0.0, 5.0, 10.5]),
         "merchant": {"country": rnd.choice(["PT", "ES", "FR", ""]), "mcc": rnd.choice([0, 5411, 5812])},
         "created_ms": created_ms, "tip": rnd.choice([None, None, None, 0.0, 1.5, 3.25]), "items": items,
         "attrs": attrs, "first_time": rnd.random() < 0.3, "txn_id": str(uuid.UUID(int=rnd.getrandbits(128)))}
    hour = (created_ms // 3600000) % 24
    z = 0.000006 * cents - 1.8 + (0.8 if kind == "WIRE" else 0) + (0.6 if hour < 6 else 0) \
        + (0.5 if p["discount"] is None else 0) - 0.1 * installments + (0.7 if p["first_time"] else 0)
    p["label"] = 1 if rnd.random() < 1 / (1 + pow(2.718281828, -3 * z)) else 0
    return p


def iso_ms(ms):
    t = EPOCH + datetime.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def as_json(p):
    """What a JSON producer writes: a decimal amount, ISO-8601 times, absent optional values left out."""
    r = {"id": p["id"], "amount": p["cents"] / 100, "kind": p["kind"], "installments": p["installments"],
         "merchant": p["merchant"], "created": iso_ms(p["created_ms"]),
         "day": iso_ms(p["created_ms"])[:10], "items": p["items"], "attrs": p["attrs"],
         "first_time": p["first_time"], "txn_id": p["txn_id"], "label": p["label"]}
    if p["discount"] is not None:
        r["discount"] = p["discount"]
    if p["tip"] is not None:
        r["tip"] = p["tip"]
    return r


def as_avro(p):
    created = EPOCH + datetime.timedelta(milliseconds=p["created_ms"])
    return {"id": p["id"], "amount": decimal.Decimal(p["cents"]).scaleb(-2), "kind": p["kind"],
            "installments": p["installments"], "discount": p["discount"], "merchant": p["merchant"],
            "created": created, "day": created.date(), "tip": p["tip"], "items": p["items"],
            "attrs": p["attrs"], "first_time": p["first_time"], "txn_id": uuid.UUID(p["txn_id"]),
            "label": p["label"]}


def as_protobuf_json(p):
    """The protobuf JSON mapping of the same payment (json_format.Parse sets each field the runtime writes)."""
    r = {"id": p["id"], "amount": p["cents"] / 100, "kind": p["kind"], "installments": p["installments"],
         "merchant": p["merchant"], "created": iso_ms(p["created_ms"]),
         "items": [{"sku": it["sku"], "price": it["price"]} for it in p["items"]], "attrs": p["attrs"],
         "firstTime": p["first_time"], "txnId": p["txn_id"], "label": p["label"]}
    if p["discount"] is not None:
        r["discount"] = p["discount"]
    if p["tip"] is not None:
        r["tip"] = p["tip"]
    return r


def payments(desc_path, avsc_path, n, seed, outdir):
    import fastavro  # only here: the other commands need no fastavro
    rnd = random.Random(int(seed))
    recs = [make_payment(i + 1, rnd) for i in range(int(n))]
    with open(avsc_path) as f:
        schema = fastavro.parse_schema(json.load(f))
    cls = message_class(desc_path, "rtml.peers.Payment")
    with open(f"{outdir}/payments.jsonl", "w") as fj, open(f"{outdir}/payments.avro.hex", "w") as fa, \
            open(f"{outdir}/payments.pb.hex", "w") as fp:
        for p in recs:
            fj.write(json.dumps(as_json(p)) + "\n")
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, schema, as_avro(p))
            fa.write((b"\x00" + struct.pack(">I", 7) + buf.getvalue()).hex() + "\n")
            m = json_format.ParseDict(as_protobuf_json(p), cls())
            fp.write((confluent_header(9, cls.DESCRIPTOR) + m.SerializeToString()).hex() + "\n")


# ---- Kafka ---------------------------------------------------------------------------------------------

def produce(boot, topic, path, hexed):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": boot})
    with open(path) as f:
        for i, line in enumerate(f):
            value = bytes.fromhex(line.strip()) if hexed else line.rstrip("\n").encode()
            p.produce(topic, value, key=str(i + 1))
            p.poll(0)
    assert p.flush(60) == 0, "records not delivered"


def read_pb(boot, topic, desc_path, name, confluent):
    from confluent_kafka import Consumer, TopicPartition
    cls = message_class(desc_path, name)
    c = Consumer({"bootstrap.servers": boot, "group.id": "rtml-test-peers", "enable.auto.commit": False})
    parts = sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)
    ends = {q: c.get_watermark_offsets(TopicPartition(topic, q), timeout=10)[1] for q in parts}
    c.assign([TopicPartition(topic, q, 0) for q in parts])
    pos = {q: 0 for q in parts}
    deadline = time.time() + 60
    while any(pos[q] < ends[q] for q in parts):
        if time.time() > deadline:
            sys.exit(f"peers.py read-pb: timed out at {pos} of {ends}")
        for m in c.consume(1000, timeout=1):
            if m.error():
                continue
            pos[m.partition()] = m.offset() + 1
            rec = describe(cls, m.value(), confluent)
            rec["key"] = m.key().decode() if m.key() is not None else None
            print(json.dumps(rec, separators=(",", ":")))
    c.close()


def main(argv):
    cmd, args = argv[1], [a for a in argv[2:] if not a.startswith("--")]
    flags = [a for a in argv[2:] if a.startswith("--")]
    if cmd == "wkt":
        wkt(args[0])
    elif cmd == "editions":
        editions(args[0])
    elif cmd == "pb-write":
        pb_write(args[0], args[1], args[2] if "--confluent" in flags else None)
    elif cmd == "pb-read":
        pb_read(args[0], args[1], "--confluent" in flags)
    elif cmd == "avro-write":
        avro_write(args[0], args[1] if "--confluent" in flags else None)
    elif cmd == "payments":
        payments(*args[:5])
    elif cmd == "produce":
        produce(args[0], args[1], args[2], "--hex" in flags)
    elif cmd == "read-pb":
        read_pb(args[0], args[1], args[2], args[3], "--confluent" in flags)
    else:
        sys.exit(f"peers.py: unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
