"""train_parity.py - does rtml train a SavedModel exactly as TensorFlow in Python does?

  train_parity.py prepare OUTDIR [--steps 20] [--batch 32] [--seed 11]
      OUTDIR/model/1      a fresh test MLP (x float32 [None,4] -> 8 relu -> 1 sigmoid) exported by rtml_tf
                          (serving_default + train; adam lr 0.01, binary_crossentropy)
      OUTDIR/train.jsonl  steps*batch labelled records {"id","x1".."x4","label"}
      OUTDIR/parity.json  {"steps","batch","seed","records"}
  train_parity.py check OUTDIR --trained DIR [--tol 1e-5] [--predictions FILE] [--batch N]
      The reference: loads OUTDIR/model/1 with tf.saved_model.load and, for each consecutive batch of `batch`
      records of train.jsonl in file order (a last partial batch is a batch too), runs serving_default then
      train - what rtml does (each batch scored, then learned). Then reads DIR, the SavedModel rtml wrote
      after training (a copy of saved_model.pb whose variables/ rtml saved through saver_def), and
      compares every variable in it with the reference: the model's (trainable) variables and the
      optimizer's slots within --tol, the optimizer's iteration count exactly; and that DIR loads both
      with tf.saved_model.load and the C API's way (TF1 session, restore through saver_def).
      --predictions FILE: rtml's predictions for train.jsonl (JSON lines, by id if every line has one,
      else in order): each score (outputs.output_0, else score) must match the reference's score of
      that record before its batch was learned, within --tol.
      Exit 0 with one line; exit 1 with the differences.
  train_parity.py simulate OUTDIR --out DIR [--predictions FILE] [--batches N]
      Does what rtml's C side does, for testing this script without rtml: loads OUTDIR/model/1 in a TF1
      session (the C API's path: restore through saver_def, init op), runs serving_default then train on
      each batch by the signatures' tensor names, writes the scores as rtml-style predictions, then copies
      saved_model.pb (+ fingerprint.pb, assets/) to DIR, creates DIR/variables/ and runs the saver_def's
      save op with the filename DIR/variables/variables. --batches N: stop after N batches (a negative
      test: check must then fail).
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfcommon  # noqa: E402  (sets TF_CPP_MIN_LOG_LEVEL and sys.path first)

MODEL = os.path.join("model", "1")


def load_meta(outdir):
    with open(os.path.join(outdir, "parity.json")) as f:
        return json.load(f)


def batches(outdir, batch):
    import numpy as np
    rows = tfcommon.read_jsonl(os.path.join(outdir, "train.jsonl"))
    x = tfcommon.floats(rows, tfcommon.MLP_FIELDS)
    y = np.array([float(r["label"]) for r in rows], dtype=np.float32)
    ids = [r["id"] for r in rows]
    return [(ids[i:i + batch], x[i:i + batch], y[i:i + batch]) for i in range(0, len(rows), batch)]


def cmd_prepare(a):
    import numpy as np
    out = os.path.abspath(a.outdir)
    if os.path.exists(os.path.join(out, "model")):
        sys.exit(f"train_parity: {out}/model exists; use an empty OUTDIR")
    os.makedirs(out, exist_ok=True)
    n = a.steps * a.batch
    rng = np.random.default_rng(a.seed)
    x = np.round(rng.normal(size=(n, 4)), 4)
    z = 2.0 * x[:, 0] - 1.5 * x[:, 1] + x[:, 2] * x[:, 3]
    label = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    rows = [{"id": i, **{f"x{j + 1}": float(x[i, j]) for j in range(4)}, "label": int(label[i])} for i in range(n)]
    tfcommon.write_jsonl(os.path.join(out, "train.jsonl"), rows)
    tfcommon.tf()
    path = tfcommon.export_mlp(tfcommon.build_mlp(a.seed), os.path.join(out, "model"), version=1)
    meta = {"steps": a.steps, "batch": a.batch, "seed": a.seed, "records": n, "model": path}
    with open(os.path.join(out, "parity.json"), "w") as f:
        json.dump(meta, f)
    print(json.dumps(meta))
    return 0


def cmd_simulate(a):
    out = os.path.abspath(a.out)
    if os.path.exists(out):
        sys.exit(f"train_parity: {out} exists")
    meta = load_meta(a.outdir)
    s = tfcommon.Session(os.path.join(a.outdir, MODEL))
    preds = []
    done = 0
    for ids, xb, yb in batches(a.outdir, meta["batch"]):
        if a.batches is not None and done >= a.batches:
            break
        scores = s.run("serving_default", {"x": xb})["output_0"]
        s.run("train", {"x": xb, "label": yb})
        done += 1
        for i, v in zip(ids, scores):
            p = float(v[0])
            preds.append({"prediction": int(p >= 0.5), "score": p, "model_version": 1, "id": i,
                          "outputs": {"output_0": [p]}})
    s.save_copy(out)
    s.close()
    if a.predictions:
        tfcommon.write_jsonl(a.predictions, preds)
    print(json.dumps({"batches": done, "trained": out}))
    return 0


def checkpoint_values(tf, prefix):
    """{key: array} of every variable in the checkpoint at `prefix` (object-graph keys)."""
    r = tf.train.load_checkpoint(prefix)
    return {k: r.get_tensor(k) for k in r.get_variable_to_shape_map() if k.endswith("VARIABLE_VALUE")}


def group(key):
    if key.startswith("model_variables/"):
        return "model"
    if key.startswith("iterations/") or "iteration" in key:
        return "iterations"
    if key.startswith("optimizer_variables/"):
        return "optimizer"
    return "other"


def read_predictions(path):
    rows = tfcommon.read_jsonl(path)
    if rows and all("id" in r for r in rows):
        keyed = {str(r["id"]): r for r in rows}
    else:
        keyed = {str(i): r for i, r in enumerate(rows)}

    def value(r):
        outs = r.get("outputs")
        if isinstance(outs, dict) and "output_0" in outs:
            v = outs["output_0"]
            return float(v[0] if isinstance(v, list) else v)
        return float(r["score"])
    return {k: value(r) for k, r in keyed.items()}, len(rows)


def cmd_check(a):
    import numpy as np
    tf = tfcommon.tf()
    meta = load_meta(a.outdir)
    batch = a.batch or meta["batch"]
    trained = os.path.abspath(a.trained)
    problems = []
    if not os.path.exists(os.path.join(trained, "saved_model.pb")):
        print(f"train_parity: FAIL: {trained}/saved_model.pb: missing")
        return 1
    if not os.path.exists(os.path.join(trained, "variables", "variables.index")):
        print(f"train_parity: FAIL: {trained}/variables/variables.index: missing (rtml must save with the "
              f"filename {trained}/variables/variables)")
        return 1

    # the reference: TensorFlow in Python, the same batches in the same order
    ref = tf.saved_model.load(os.path.join(a.outdir, MODEL))
    serve, train = ref.signatures["serving_default"], ref.signatures["train"]
    scores = {}
    steps = 0
    for ids, xb, yb in batches(a.outdir, batch):
        out = serve(x=tf.constant(xb))["output_0"].numpy()
        for i, v in zip(ids, out):
            scores[str(i)] = float(v[0])
        train(x=tf.constant(xb), label=tf.constant(yb))
        steps += 1
    with tempfile.TemporaryDirectory() as tmp:
        want = checkpoint_values(tf, tf.train.Checkpoint(ref).write(os.path.join(tmp, "ref")))
    got = checkpoint_values(tf, os.path.join(trained, "variables", "variables"))

    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    if missing:
        problems.append(f"variables missing from {trained}: {missing[:5]}")
    if extra:
        problems.append(f"unexpected variables in {trained}: {extra[:5]}")
    worst = {}
    for k in sorted(set(want) & set(got)):
        w, g = want[k], got[k]
        if w.shape != g.shape or w.dtype != g.dtype:
            problems.append(f"{k}: {g.dtype}{list(g.shape)}, expected {w.dtype}{list(w.shape)}")
            continue
        grp = group(k)
        if np.issubdtype(w.dtype, np.integer):
            if not np.array_equal(w, g):
                problems.append(f"{k}: {g.tolist()}, expected {w.tolist()}")
            worst.setdefault(grp, 0.0)
            continue
        d = float(np.max(np.abs(w.astype(np.float64) - g.astype(np.float64)))) if w.size else 0.0
        if not np.isfinite(d) or d > a.tol:
            problems.append(f"{k}: max |diff| {d:.3g} > {a.tol:g}")
        worst[grp] = max(worst.get(grp, 0.0), d)
    it_key = next((k for k in want if group(k) == "iterations"), None)
    iterations = (int(got[it_key]) if it_key in got else None, int(want[it_key])) if it_key else (None, None)

    # the trained directory must load both ways; its scores are the reference model's after training
    loaded = tf.saved_model.load(trained)
    _, xb0, _ = batches(a.outdir, batch)[0]
    d_serve = float(np.max(np.abs(loaded.signatures["serving_default"](x=tf.constant(xb0))["output_0"].numpy()
                                  - serve(x=tf.constant(xb0))["output_0"].numpy())))
    if d_serve > a.tol:
        problems.append(f"{trained}: its scores differ from the reference's after training by {d_serve:.3g}")
    s = tfcommon.Session(trained)
    unrestored = s.uninitialized()
    s.close()
    if unrestored:
        problems.append(f"{trained}: variables not restored through saver_def: {unrestored[:5]}")

    d_pred = None
    if a.predictions:
        preds, n = read_predictions(a.predictions)
        if n != len(scores) or set(preds) != set(scores):
            problems.append(f"{a.predictions}: {n} predictions for {len(scores)} records (or other ids)")
        common = set(preds) & set(scores)
        d_pred = max((abs(preds[k] - scores[k]) for k in common), default=0.0)
        bad = sorted((k for k in common if abs(preds[k] - scores[k]) > a.tol), key=lambda k: int(k) if k.isdigit() else 0)
        if bad:
            problems.append(f"{len(bad)} predictions differ from the reference's test-then-train scores, first: "
                            + ", ".join(f"id {k}: {preds[k]} vs {scores[k]}" for k in bad[:3]))

    parts = [f"{g} max |diff| {worst[g]:.2g}" for g in ("model", "optimizer", "other") if g in worst]
    parts.append(f"iterations {iterations[0]} (expected {iterations[1]})")
    if d_pred is not None:
        parts.append(f"predictions max |diff| {d_pred:.2g}")
    summary = f"{steps} steps of {batch}: {len(got)} variables; " + ", ".join(parts)
    if problems:
        print(f"train_parity: FAIL: {summary}")
        for p in problems[:10]:
            print("  " + p)
        return 1
    print(f"train_parity: {summary}; all <= {a.tol:g}")
    return 0


def main():
    p = argparse.ArgumentParser(description="Training parity of rtml's TensorFlow engine with TensorFlow in Python.")
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("prepare", help="export a fresh MLP and write the training records")
    q.add_argument("outdir")
    q.add_argument("--steps", type=int, default=20)
    q.add_argument("--batch", type=int, default=32)
    q.add_argument("--seed", type=int, default=11)
    q = sub.add_parser("check", help="train in Python and compare with the SavedModel rtml trained")
    q.add_argument("outdir")
    q.add_argument("--trained", required=True, metavar="DIR")
    q.add_argument("--tol", type=float, default=1e-5)
    q.add_argument("--predictions", metavar="FILE")
    q.add_argument("--batch", type=int, help="default: the prepare step's")
    q = sub.add_parser("simulate", help="do what rtml's C side does (TF1 session), to test check")
    q.add_argument("outdir")
    q.add_argument("--out", required=True, metavar="DIR")
    q.add_argument("--predictions", metavar="FILE")
    q.add_argument("--batches", type=int)
    a = p.parse_args()
    for k in ("steps", "batch"):
        if getattr(a, k, None) is not None and getattr(a, k) < 1:
            p.error(f"--{k} must be >= 1")
    t0 = time.time()
    rc = {"prepare": cmd_prepare, "check": cmd_check, "simulate": cmd_simulate}[a.cmd](a)
    print(f"train_parity {a.cmd}: {time.time() - t0:.1f} s", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
