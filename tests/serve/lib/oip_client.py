"""oip_client.py — a stock Open Inference Protocol client (tritonclient[http], PyPI) against rtml's serve endpoint.

    python oip_client.py URL MODEL QUERIES.jsonl OUT.json [--token T] [--cafile F] [--live]
Checks the server and the model (live, ready, metadata: the inputs the pipeline reads, the outputs), then answers
every record of QUERIES three ways and writes what it got to OUT.json:
  bytes_json    records as a BYTES tensor in JSON (binary_data=False), 50 a request
  bytes_binary  records as a BYTES tensor in Triton's binary extension (tritonclient's default), one a request
  fp64, fp32    the features each record was served on (asked for as the "features" output), sent back as ready
                FP64 / FP32 tensors
with each answer's model_version and parameters (snapshot, learned). Exit 1 with a reason on any mismatch between
the ways (BYTES JSON = BYTES binary = FP64 exactly; FP32 within float precision) or a protocol error. --live: the
model learns meanwhile (each request may meet a newer snapshot), so the ways are not compared."""
import json
import sys

import numpy as np
import tritonclient.http as httpclient

def client(url, cafile):
    if url.startswith("https://"):
        import gevent.ssl
        ctx = lambda: gevent.ssl.create_default_context(cafile=cafile)
        return httpclient.InferenceServerClient(url[8:], ssl=True, ssl_context_factory=ctx)
    return httpclient.InferenceServerClient(url[7:] if url.startswith("http://") else url)

def infer(c, model, name, array, dtype, binary, outputs, headers):
    inp = httpclient.InferInput(name, list(array.shape), dtype)
    inp.set_data_from_numpy(array, binary_data=binary)
    outs = [httpclient.InferRequestedOutput(o, binary_data=False) for o in outputs]
    r = c.infer(model, [inp], outputs=outs, headers=headers)
    return r, r.get_response()

def fail(msg):
    print(f"oip_client: {msg}", file=sys.stderr)
    sys.exit(1)

def main():
    url, model, queries, out = sys.argv[1:5]
    token = sys.argv[sys.argv.index("--token") + 1] if "--token" in sys.argv else None
    cafile = sys.argv[sys.argv.index("--cafile") + 1] if "--cafile" in sys.argv else None
    headers = {"Authorization": f"Bearer {token}"} if token else None
    c = client(url, cafile)
    if not c.is_server_live() or not c.is_server_ready() or not c.is_model_ready(model, headers=headers):
        fail("server not live/ready")
    meta = c.get_model_metadata(model, headers=headers)
    ins = {i["name"]: i for i in meta["inputs"]}
    outs = {o["name"] for o in meta["outputs"]}
    if ins.get("records", {}).get("datatype") != "BYTES" or "features" not in ins or not {"prediction", "score"} <= outs:
        fail(f"metadata: {meta}")
    width = ins["features"]["shape"][1]
    docs = [l.strip() for l in open(queries) if l.strip()]
    got = {"metadata": meta, "bytes_json": [], "bytes_binary": [], "fp64": [], "fp32": [], "features": [], "answers": []}
    for at in range(0, len(docs), 50):  # BYTES in JSON, with the features each record was served on
        batch = np.array([d.encode() for d in docs[at:at + 50]], dtype=np.object_)
        r, resp = infer(c, model, "records", batch, "BYTES", False, ["prediction", "score", "features"], headers)
        got["bytes_json"] += r.as_numpy("score").tolist()
        got["features"] += r.as_numpy("features").reshape(-1, width).tolist()
        got["answers"].append({"model_version": resp["model_version"], **resp["parameters"]})
    for d in docs:  # BYTES in Triton's binary extension, one record a request
        r, resp = infer(c, model, "records", np.array([d.encode()], dtype=np.object_), "BYTES", True, ["score"], headers)
        got["bytes_binary"] += r.as_numpy("score").tolist()
        got["answers"].append({"model_version": resp["model_version"], **resp["parameters"]})
    feats = np.array(got["features"], dtype=np.float64)
    for dtype, np_type, key in (("FP64", np.float64, "fp64"), ("FP32", np.float32, "fp32")):
        for at in range(0, len(docs), 50):
            r, _ = infer(c, model, "features", feats[at:at + 50].astype(np_type), dtype, True, ["score"], headers)
            got[key] += r.as_numpy("score").tolist()
    if "--live" in sys.argv:
        json.dump(got, open(out, "w"))
        print(f"oip_client: {len(docs)} records answered 4 ways on a live model")
        return
    if got["bytes_json"] != got["bytes_binary"] or got["bytes_json"] != got["fp64"]:
        fail("BYTES (JSON), BYTES (binary) and FP64 features disagree")
    worst = max(abs(a - b) for a, b in zip(got["bytes_json"], got["fp32"]))
    if worst > 1e-5:
        fail(f"FP32 features differ from BYTES by up to {worst}")
    json.dump(got, open(out, "w"))
    print(f"oip_client: {len(docs)} records answered 4 ways (BYTES JSON, BYTES binary, FP64, FP32 within {worst:.2g})")

main()
