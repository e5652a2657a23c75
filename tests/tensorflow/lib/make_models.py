"""make_models.py OUTDIR [--seed N] [--n 1000] - the SavedModels and data of rtml's TensorFlow tests.

Writes (every model in the versioned layout OUTDIR/<model>/1; deterministic for a given seed):
  mlp/1               Keras 3 MLP: x float32 [None,4] -> Dense(8,relu) -> Dense(1,sigmoid); rtml_tf.export
                      (serving_default + train; adam lr 0.01, binary_crossentropy)
  mlp_keras_export/1  the same model (same weights) by Keras 3 model.export(): serving_default only
  two_inputs/1        a plain tf.Module (tf.Variables, no Keras): a float32 [None,3], b float32 [None,2] ->
                      concat -> 4 tanh -> 1 sigmoid; plain tf.saved_model.save, serving_default only
  two_inputs_rtml/1   the same module (same weights) by rtml_tf.export: serving_default + train
  strings/1           Keras 3: country string [None] (rank 1: one string per record) -> StringLookup (fixed
                      vocabulary de fr us gb it es, 1 OOV index) -> Embedding(7,4); amount float32 [None,1]
                      -> Rescaling(0.01); concat -> Dense(1,sigmoid); rtml_tf.export (serving + train)
  data.jsonl          N records {"id","x1".."x4","a1".."a3","b1","b2","country","amount","label"}; countries
                      include values outside the vocabulary (nl, br, jp, and DE: lookups are case-sensitive)
  expected_<model>.jsonl  {"id": i, "outputs": {"output_0": [v]}} for every record: the model object itself
                      called in Python on the whole data (float32) - the reference rtml must match
                      (compare.py, tolerance 1e-5)
Prints one JSON line per model: its signatures (input/output names, dtypes, shapes) as
tf.saved_model.load(dir).signatures shows them. Then checks every model the way rtml's C side runs it (a
TF1 session: restore through saver_def, init op, signature tensors by name) against the expected values;
exit 1 if that differs by more than 1e-5 or a variable is not restored.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfcommon  # noqa: E402  (sets TF_CPP_MIN_LOG_LEVEL and sys.path first)

VOCAB = ["de", "fr", "us", "gb", "it", "es"]
OOV = ["nl", "br", "jp", "DE"]
A_FIELDS = ["a1", "a2", "a3"]
B_FIELDS = ["b1", "b2"]


def make_data(seed, n):
    import numpy as np
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(n, 4)), 4)
    a = np.round(rng.normal(size=(n, 3)), 4)
    b = np.round(rng.normal(size=(n, 2)), 4)
    countries = VOCAB + OOV
    weights = np.array([6, 5, 5, 4, 3, 3, 1, 1, 1, 1], dtype=float)
    country = rng.choice(countries, size=n, p=weights / weights.sum())
    amount = np.round(rng.lognormal(3.0, 1.0, size=n), 2)
    z = 1.5 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] * x[:, 3] + 0.3 * a[:, 0] - 0.2 * b[:, 1]
    label = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    rows = []
    for i in range(n):
        r = {"id": i}
        r.update({f"x{j + 1}": float(x[i, j]) for j in range(4)})
        r.update({f"a{j + 1}": float(a[i, j]) for j in range(3)})
        r.update({f"b{j + 1}": float(b[i, j]) for j in range(2)})
        r.update({"country": str(country[i]), "amount": float(amount[i]), "label": int(label[i])})
        rows.append(r)
    return rows


def two_inputs_module(tf, seed):
    import numpy as np
    rng = np.random.default_rng(seed + 1)

    class TwoInputs(tf.Module):
        def __init__(self):
            super().__init__(name="two_inputs")
            self.w1 = tf.Variable(rng.normal(0, 0.6, (5, 4)).astype(np.float32), name="w1")
            self.b1 = tf.Variable(rng.normal(0, 0.1, (4,)).astype(np.float32), name="b1")
            self.w2 = tf.Variable(rng.normal(0, 0.6, (4, 1)).astype(np.float32), name="w2")
            self.b2 = tf.Variable(rng.normal(0, 0.1, (1,)).astype(np.float32), name="b2")

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="a"),
                                      tf.TensorSpec([None, 2], tf.float32, name="b")])
        def __call__(self, a, b):
            h = tf.tanh(tf.matmul(tf.concat([a, b], axis=1), self.w1) + self.b1)
            return tf.sigmoid(tf.matmul(h, self.w2) + self.b2)

    return TwoInputs()


def strings_model(keras, seed):
    keras.utils.set_random_seed(seed + 2)
    country = keras.Input(shape=(), dtype="string", name="country")
    amount = keras.Input(shape=(1,), dtype="float32", name="amount")
    idx = keras.layers.StringLookup(vocabulary=VOCAB, num_oov_indices=1, name="lookup")(country)
    emb = keras.layers.Embedding(len(VOCAB) + 1, 4, name="embedding")(idx)
    amt = keras.layers.Rescaling(0.01, name="scale")(amount)
    h = keras.layers.Concatenate(name="concat")([emb, amt])
    y = keras.layers.Dense(1, activation="sigmoid", name="out")(h)
    return keras.Model({"country": country, "amount": amount}, y, name="strings")


def expected_rows(rows, y):
    return [{"id": r["id"], "outputs": {"output_0": [float(v) for v in y[i]]}} for i, r in enumerate(rows)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("outdir")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--n", type=int, default=1000, help="records in data.jsonl (default 1000)")
    p.add_argument("--tol", type=float, default=1e-5, help="tolerance of the C-path self-check")
    a = p.parse_args()
    t0 = time.time()
    out = os.path.abspath(a.outdir)
    os.makedirs(out, exist_ok=True)
    for name in ("mlp", "mlp_keras_export", "two_inputs", "two_inputs_rtml", "strings"):
        if os.path.exists(os.path.join(out, name)):
            sys.exit(f"make_models: {os.path.join(out, name)} exists; use an empty OUTDIR")

    import numpy as np
    tf = tfcommon.tf()
    import keras
    from rtml_tf.export import export

    rows = make_data(a.seed, a.n)
    tfcommon.write_jsonl(os.path.join(out, "data.jsonl"), rows)
    x = tfcommon.floats(rows, tfcommon.MLP_FIELDS)
    xa = tfcommon.floats(rows, A_FIELDS)
    xb = tfcommon.floats(rows, B_FIELDS)
    country = np.array([r["country"] for r in rows], dtype=object)
    amount = tfcommon.floats(rows, ["amount"])

    expected = {}
    # (a) the MLP, twice: rtml_tf.export and Keras' own model.export
    mlp = tfcommon.build_mlp(a.seed)
    expected["mlp"] = mlp(x, training=False).numpy()
    tfcommon.export_mlp(mlp, os.path.join(out, "mlp"))
    mlp.export(os.path.join(out, "mlp_keras_export", "1"), verbose=False)
    expected["mlp_keras_export"] = expected["mlp"]

    # (b) a plain tf.Module, plain tf.saved_model.save; and the same module through rtml_tf.export
    two = two_inputs_module(tf, a.seed)
    expected["two_inputs"] = two(xa, xb).numpy()
    tf.saved_model.save(two, os.path.join(out, "two_inputs", "1"),
                        signatures={"serving_default": two.__call__.get_concrete_function()})
    export(two, os.path.join(out, "two_inputs_rtml"), "binary_crossentropy", "sgd", learning_rate=0.05,
           version=1)
    expected["two_inputs_rtml"] = expected["two_inputs"]

    # (c) strings: StringLookup + Embedding, and a float
    sm = strings_model(keras, a.seed)
    expected["strings"] = sm({"country": tf.constant(country.astype(str)), "amount": tf.constant(amount)},
                             training=False).numpy()
    export(sm, os.path.join(out, "strings"), "binary_crossentropy", "adam", learning_rate=0.01, version=1)

    for name, y in expected.items():
        tfcommon.write_jsonl(os.path.join(out, f"expected_{name}.jsonl"), expected_rows(rows, y))

    # the signatures, as tf.saved_model.load shows them
    for name in expected:
        path = os.path.join(out, name, "1")
        print(json.dumps({"model": name, "path": path, "signatures": tfcommon.signature_summary(path)}))

    # the C side's view: a TF1 session on each SavedModel, run by tensor names
    feeds = {"mlp": {"x": x}, "mlp_keras_export": {"x": x}, "two_inputs": {"a": xa, "b": xb},
             "two_inputs_rtml": {"a": xa, "b": xb},
             "strings": {"country": country.astype(bytes), "amount": amount}}
    bad = 0
    checks = {}
    for name, y in expected.items():
        s = tfcommon.Session(os.path.join(out, name, "1"))
        missing = s.uninitialized()
        got = s.run("serving_default", feeds[name])["output_0"]
        s.close()
        diff = float(np.max(np.abs(got - y)))
        checks[name] = diff
        if diff > a.tol:
            print(f"make_models: {name}: the session (C API path) differs from the model by {diff:.3g}",
                  file=sys.stderr)
            bad += 1
        # Keras' model.export leaves unused, unrestored copies of the variables in the graph (harmless:
        # the signature does not read them); rtml_tf.export and plain tf.Variables must have none.
        if missing and name != "mlp_keras_export":
            print(f"make_models: {name}: variables not restored in a session: {missing}", file=sys.stderr)
            bad += 1
    print(json.dumps({"outdir": out, "records": len(rows), "session_max_abs_diff": checks,
                      "seconds": round(time.time() - t0, 1)}))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
