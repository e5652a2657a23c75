"""tfcommon.py - shared by the TensorFlow test scripts in tests/tensorflow/lib/ (not a script).

- puts <repo>/python on sys.path (for rtml_tf) and quiets TensorFlow's C++ logs
- JSON lines I/O, the test MLP, the TF1-session helpers that do what rtml's C side does with a SavedModel
  (load through the C API's path: restore through saver_def, run the init op; run signatures by their
  tensor names; save through saver_def into a copy of the directory)
"""
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
if os.path.join(REPO, "python") not in sys.path:
    sys.path.insert(0, os.path.join(REPO, "python"))


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def tf():
    import tensorflow
    tensorflow.get_logger().setLevel("ERROR")
    return tensorflow


def floats(rows, fields):
    """float32 matrix [len(rows), len(fields)] from JSON numbers, converted as a C parser does:
    the decimal text to the nearest double, then to float."""
    import numpy as np
    return np.array([[float(r[f]) for f in fields] for r in rows], dtype=np.float64).astype(np.float32)


MLP_FIELDS = ["x1", "x2", "x3", "x4"]


def build_mlp(seed):
    """The test MLP: input `x` float32 [None, 4] -> Dense(8, relu) -> Dense(1, sigmoid). Same seed, same
    weights."""
    import keras
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,), name="x"),
                             keras.layers.Dense(8, activation="relu", name="hidden"),
                             keras.layers.Dense(1, activation="sigmoid", name="out")], name="mlp")


def export_mlp(model, base, version=1):
    """The MLP as rtml_tf exports it for the tests: adam lr 0.01, binary_crossentropy."""
    from rtml_tf.export import export
    return export(model, base, "binary_crossentropy", "adam", learning_rate=0.01, version=version)


def signature_summary(path):
    """{signature: {"inputs": {name: {dtype, shape}}, "outputs": {...}}} from tf.saved_model.load(path)."""
    t = tf()
    loaded = t.saved_model.load(path)
    out = {}
    for key in sorted(loaded.signatures):
        f = loaded.signatures[key]
        ins = f.structured_input_signature[1]
        outs = f.structured_outputs
        out[key] = {
            "inputs": {n: {"dtype": s.dtype.name, "shape": s.shape.as_list()} for n, s in sorted(ins.items())},
            "outputs": {n: {"dtype": s.dtype.name, "shape": s.shape.as_list()} for n, s in sorted(outs.items())},
        }
    return out


class Session:
    """A SavedModel loaded the way the TensorFlow C API loads it (TF_LoadSessionFromSavedModel): a graph
    session, variables restored through saver_def, the init op run. Signatures are run by their tensor
    names from the MetaGraphDef."""

    def __init__(self, path, tags=("serve",)):
        t = tf()
        self.tf = t
        self.path = path
        self.graph = t.Graph()
        self.sess = t.compat.v1.Session(graph=self.graph)
        self.meta = t.compat.v1.saved_model.loader.load(self.sess, list(tags), path)

    def signature(self, key):
        return self.meta.signature_def[key]

    def run(self, key, feeds):
        """feeds {input name: array}; returns {output name: array}."""
        sd = self.meta.signature_def[key]
        missing = set(sd.inputs) - set(feeds)
        if missing:
            raise KeyError(f"signature {key}: no value for inputs {sorted(missing)}")
        fetches = {k: v.name for k, v in sd.outputs.items()}
        return self.sess.run(fetches, {sd.inputs[k].name: v for k, v in feeds.items()})

    def uninitialized(self):
        """Names of the graph's variables the restore did not initialise (must be none)."""
        t = self.tf
        handles = [op.outputs[0] for op in self.graph.get_operations() if op.type == "VarHandleOp"]
        with self.graph.as_default():
            checks = [t.raw_ops.VarIsInitializedOp(resource=h) for h in handles]
        ok = self.sess.run(checks)
        return [h.op.get_attr("shared_name").decode() for h, k in zip(handles, ok) if not k]

    def save_copy(self, out):
        """What rtml's C side does to checkpoint: copy saved_model.pb (+ fingerprint.pb, assets/) to `out`,
        create out/variables/, run the saver_def's save op with the filename out/variables/variables."""
        os.makedirs(os.path.join(out, "variables"))
        for name in ("saved_model.pb", "fingerprint.pb"):
            if os.path.exists(os.path.join(self.path, name)):
                shutil.copy2(os.path.join(self.path, name), out)
        if os.path.isdir(os.path.join(self.path, "assets")):
            shutil.copytree(os.path.join(self.path, "assets"), os.path.join(out, "assets"))
        sd = self.meta.saver_def
        self.sess.run(sd.save_tensor_name, {sd.filename_tensor_name: os.path.join(out, "variables", "variables")})

    def close(self):
        self.sess.close()
