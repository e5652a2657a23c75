#!/usr/bin/env python3
"""avro_tool.py — the Avro peer of tests/unit/test_avro.c: fastavro writes the datums rtml decodes, and
reads back the prediction records rtml encodes.

    avro_tool.py write SCHEMA.avsc  < lines   each line a Python literal (a datum, for ast.literal_eval);
                                              prints each datum's Avro binary (schemaless_writer) as hex
    avro_tool.py read SCHEMA.avsc   < lines   each line the hex of one datum; prints it read back
                                              (schemaless_reader) as JSON; SCHEMA "-" is rtml's built-in
                                              prediction schema, given as JSON on the first input line

Run by the test through .venv/bin/python (scripts/setup.sh installs fastavro there)."""
import ast
import io
import json
import sys

import fastavro


def main():
    mode, path = sys.argv[1], sys.argv[2]
    lines = sys.stdin.read().splitlines()
    if path == "-":
        schema, lines = json.loads(lines[0]), lines[1:]
    else:
        with open(path) as f:
            schema = json.load(f)
    parsed = fastavro.parse_schema(schema)
    for line in lines:
        if mode == "write":
            out = io.BytesIO()
            fastavro.schemaless_writer(out, parsed, ast.literal_eval(line))
            print(out.getvalue().hex())
        else:
            datum = fastavro.schemaless_reader(io.BytesIO(bytes.fromhex(line)), parsed)
            print(json.dumps(datum, separators=(",", ":")))


if __name__ == "__main__":
    main()
