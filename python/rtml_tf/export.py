"""rtml_tf.export - write a TF2 SavedModel that rtml's TensorFlow engine can serve AND train.

    from rtml_tf.export import export
    export(model, "models/fraud", "binary_crossentropy", "adam", learning_rate=0.01, version=1)
    export(model2, "models/fraud", "binary_crossentropy", "adam")        # the next version: models/fraud/2

    python -m rtml_tf.export --model fraud.keras --loss binary_crossentropy --optimizer adam \\
        --learning-rate 0.01 --out models/fraud                          # models/fraud/1, then /2, ...

The SavedModel has two signatures, which is all rtml reads (it never guesses tensor names):
  serving_default  inputs: the model's inputs (batch dimension None)   outputs: {"output_0": y} for a
                   single-output model, the output names for a multi-output one
  train            the same inputs plus `label`; one optimizer step on the batch (GradientTape, loss
                   averaged over the batch, optimizer.apply_gradients); outputs {"loss": float32 scalar}
The optimizer's state (iteration count, slots such as Adam's moments) is created before saving and is
tracked on the exported object, so it is part of the SavedModel's variables: rtml's checkpoints (written
through the MetaGraphDef's saver_def) carry it, and training resumes where it stopped.
See docs/tensorflow-export.md.
"""
import argparse
import inspect
import os
import re
import shutil
import sys
import tempfile

# TensorFlow, Keras and tf_keras are imported lazily: `--help` and argument errors are instant.

__all__ = ["export", "describe", "restore", "main"]

SERVING = "serving_default"
TRAIN = "train"
LABEL = "label"

# Optimizer names accepted as strings (case-insensitive) -> class name in keras.optimizers / tf_keras.optimizers.
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad", "rmsprop": "RMSprop",
              "adamax": "Adamax", "nadam": "Nadam", "adadelta": "Adadelta", "ftrl": "Ftrl", "lion": "Lion"}
# Loss names shown in --help (any name keras.losses.get knows is accepted).
COMMON_LOSSES = ["binary_crossentropy", "mse", "mae", "huber", "sparse_categorical_crossentropy",
                 "categorical_crossentropy"]
LABEL_DTYPES = ["float32", "int32", "int64"]

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names Keras gives an input the user did not name: Keras 3 (input_layer, input_layer_1, keras_tensor_5),
# tf_keras (input_1, dense_input for a Sequential built from input_shape=).
_AUTO_INPUT_RE = {"keras": re.compile(r"^(input_layer|keras_tensor)(_\d+)?$"),
                  "tf_keras": re.compile(r"^input_\d+$|_input$")}


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    return tf


def _keras3():
    import keras
    return keras


def _tf_keras_module():
    """tf_keras if it is already imported (a tf_keras model implies it is), else None."""
    return sys.modules.get("tf_keras")


def _family(model):
    """'keras' (Keras 3), 'tf_keras' or 'module' (a tf.Module / trackable with __call__)."""
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(model, keras.Layer):
        return "keras"
    tfk = _tf_keras_module()
    if tfk is not None and isinstance(model, tfk.layers.Layer):
        return "tf_keras"
    tf = _tf()
    if isinstance(model, tf.Module) or (callable(model) and hasattr(model, "_trackable_children")):
        return "module"
    raise TypeError(f"model must be a Keras model (Keras 3 or tf_keras) or a tf.Module with a __call__, "
                    f"got {type(model).__name__}")


# ---------------------------------------------------------------------------------------------------------
# Inputs: the signature and how to call the model with it


def _spec(tf, shape, dtype, name):
    shape = list(shape) if shape is not None else None
    if shape:  # the batch dimension is always None: rtml sends batches of any size
        shape[0] = None
    return tf.TensorSpec(shape, tf.as_dtype(dtype), name=name)


def _check_names(names, what):
    for n in names:
        if not isinstance(n, str) or not _NAME_RE.match(n):
            raise ValueError(f"{what} name {n!r} is not a valid signature name (letters, digits, _; "
                             f"not starting with a digit)")
        if n == LABEL:
            raise ValueError(f"{what} name 'label' is reserved for the train signature's label")


def _accepts(fn, param):
    target = getattr(fn, "python_function", fn)
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return False
    return param in sig.parameters or any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())


def _keras_inputs(model):
    try:
        inputs = list(model.inputs or [])
    except (AttributeError, ValueError):
        inputs = []
    return inputs


def _keras_plan(tf, model, input_signature, family):
    """(specs {name: TensorSpec}, call(inputs_dict, training) -> outputs) for a Keras model."""
    kin = _keras_inputs(model)
    if input_signature is None:
        if not kin:
            raise ValueError("the Keras model has no defined inputs (a subclassed model, or a Sequential "
                             "without keras.Input): pass input_signature={name: tf.TensorSpec(...)}")
        names = [t.name for t in kin]
        if len(kin) == 1 and _AUTO_INPUT_RE[family].search(names[0]):
            names = ["x"]
        specs = {n: _spec(tf, t.shape, t.dtype, n) for n, t in zip(names, kin)}
    else:
        specs = {n: _spec(tf, s.shape, s.dtype, n) for n, s in input_signature.items()}
    _check_names(specs, "input")
    if len(set(specs)) != len(specs):
        raise ValueError(f"duplicate input names: {list(specs)}")

    names = list(specs)
    knames = [t.name for t in kin]
    struct = getattr(model, "_inputs_struct", None)
    if struct is None:
        struct = getattr(model, "input", None) if kin else None

    if len(names) == 1:
        def arrange(inputs):
            return inputs[names[0]]
    elif kin and len(kin) != len(names):
        raise ValueError(f"input_signature has {len(names)} inputs, the model has {len(kin)}: {knames}")
    elif isinstance(struct, dict):
        keys = list(struct)
        order = keys if set(keys) == set(names) else None

        def arrange(inputs):
            if order is not None:
                return {k: inputs[k] for k in order}
            return dict(zip(keys, (inputs[n] for n in names)))
    elif kin:
        # a list of inputs: by Keras input name when the names match, else by position
        order = knames if set(knames) == set(names) else names

        def arrange(inputs):
            return [inputs[n] for n in order]
    else:
        def arrange(inputs):
            return dict(inputs)

    def call(inputs, training):
        return model(arrange(inputs), training=training)

    return specs, call


def _module_plan(tf, model, input_signature):
    """(specs, call) for a tf.Module / callable trackable."""
    fn = model.__call__
    positional = None
    if input_signature is None:
        sig = getattr(fn, "input_signature", None)
        if not sig:
            raise ValueError("cannot derive the inputs of a tf.Module whose __call__ is not a tf.function with "
                             "an input_signature: pass input_signature={name: tf.TensorSpec(...)}")
        params = [p for p in inspect.signature(fn.python_function).parameters.values()
                  if p.name != "self"]
        flat = tf.nest.flatten(sig)
        if len(flat) != len(sig):
            raise ValueError("a nested __call__ input_signature is not supported: pass input_signature")
        names = [s.name or (params[i].name if i < len(params) else f"input_{i}") for i, s in enumerate(sig)]
        specs = {n: _spec(tf, s.shape, s.dtype, n) for n, s in zip(names, sig)}
        positional = names
    else:
        specs = {n: _spec(tf, s.shape, s.dtype, n) for n, s in input_signature.items()}
    _check_names(specs, "input")
    names = list(specs)
    training_kw = _accepts(fn, "training") and positional is None

    if positional is not None:
        def call(inputs, training):
            return model(*[inputs[n] for n in positional])
    elif len(names) == 1:
        def call(inputs, training):
            return model(inputs[names[0]], training=training) if training_kw else model(inputs[names[0]])
    elif all(_accepts(fn, n) for n in names):
        def call(inputs, training):
            kw = dict(inputs)
            if training_kw:
                kw["training"] = training
            return model(**kw)
    else:
        def call(inputs, training):
            return model(dict(inputs), training=training) if training_kw else model(dict(inputs))
    return specs, call


def _outputs(tf, y, output_names):
    """The model's result as the serving signature's output dict."""
    if isinstance(y, dict):
        out = {str(k): v for k, v in y.items()}
    elif isinstance(y, (list, tuple)):
        if len(y) == 1:
            out = {"output_0": y[0]}
        else:
            names = list(output_names or [])
            if len(names) != len(y) or len(set(names)) != len(names) or not all(_NAME_RE.match(n) for n in names):
                names = [f"output_{i}" for i in range(len(y))]
            out = dict(zip(names, y))
    else:
        out = {"output_0": y}
    for k, v in out.items():
        if not _NAME_RE.match(k):
            raise ValueError(f"output name {k!r} is not a valid signature name")
        if not tf.is_tensor(v):
            raise TypeError(f"output {k!r} is not a tensor ({type(v).__name__})")
    return out


# ---------------------------------------------------------------------------------------------------------
# Loss and optimizer


def _loss(loss, family):
    """(fn(y_true, y_pred) -> loss tensor, sparse?)"""
    if loss is None:
        raise ValueError("loss is required (e.g. 'binary_crossentropy', 'mse', "
                         "'sparse_categorical_crossentropy' or a loss object)")
    if isinstance(loss, str):
        mod = _tf_keras_module() if family == "tf_keras" else _keras3()
        try:
            fn = mod.losses.get(loss)
        except (ValueError, TypeError) as e:
            raise ValueError(f"unknown loss {loss!r} (e.g. {', '.join(COMMON_LOSSES)})") from e
        if fn is None:
            raise ValueError(f"unknown loss {loss!r}")
        name = loss
    elif callable(loss):
        fn = loss
        name = getattr(loss, "__name__", None) or type(loss).__name__
    else:
        raise TypeError(f"loss must be a name or a callable, got {type(loss).__name__}")
    return fn, "sparse" in name.lower()


def _optimizer(optimizer, learning_rate, family):
    if optimizer is None:
        raise ValueError("optimizer is required (e.g. 'adam', 'sgd' or an optimizer object)")
    if isinstance(optimizer, str):
        cls = OPTIMIZERS.get(optimizer.lower())
        if cls is None:
            raise ValueError(f"unknown optimizer {optimizer!r} (one of {', '.join(OPTIMIZERS)})")
        mod = _tf_keras_module() if family == "tf_keras" else _keras3()
        kw = {} if learning_rate is None else {"learning_rate": float(learning_rate)}
        return getattr(mod.optimizers, cls)(**kw)
    if learning_rate is not None:
        raise ValueError("learning_rate is only for an optimizer given by name; set it on the optimizer object")
    return optimizer


def _optimizer_variables(opt):
    v = getattr(opt, "variables", None)
    if callable(v):  # tf_keras legacy OptimizerV2
        v = v()
    return list(v or [])


def _build_optimizer(opt, variables):
    """Create the optimizer's state (iterations, slots) for `variables` now, before tracing and saving."""
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(opt, keras.optimizers.Optimizer):
        if getattr(opt, "built", False):
            have = {id(v) for v in getattr(opt, "_trainable_variables", [])}
            if have != {id(v) for v in variables}:
                raise ValueError("the optimizer was already built for other variables; pass a fresh optimizer")
        else:
            opt.build(variables)
        return
    if hasattr(opt, "_create_all_weights") and not hasattr(type(opt), "build"):  # tf_keras legacy OptimizerV2
        opt._create_all_weights(variables)
        return
    if hasattr(opt, "build"):  # tf_keras (new) optimizers
        opt.build(variables)
        return
    raise TypeError(f"unsupported optimizer {type(opt).__name__}: use a Keras 3 or tf_keras optimizer")


def _unwrap(tf, v):
    """The tf.Variable behind a Keras 3 variable (or the variable itself)."""
    if isinstance(v, tf.Variable):
        return v
    inner = getattr(v, "_value", None)
    return inner if isinstance(inner, tf.Variable) else v


def _unique(vs, seen):
    out = []
    for v in vs:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _track_state(tf, root, model, opt, functions):
    """Attach everything the SavedModel must save to `root`, as plain tf.Variables and resources:
    model_variables/N, optimizer_variables/N (iteration count, learning rate, slots), iterations,
    other_variables/N (anything else the functions use), resources/N (lookup tables); and the lists
    `variables` (all of them) and `trainable_variables` (the model's). Returns the number of variables."""
    seen = set()
    root.model_variables = _unique([_unwrap(tf, v) for v in model.variables], seen)
    root.optimizer_variables = _unique([_unwrap(tf, v) for v in _optimizer_variables(opt)], seen)
    iterations = getattr(opt, "iterations", None)
    if iterations is not None:
        root.iterations = _unwrap(tf, iterations)
        _unique([root.iterations], seen)
    used = []
    for f in functions:
        used += [_unwrap(tf, v) for v in f.variables]
    other = _unique(used, seen)
    if other:
        root.other_variables = other
    from tensorflow.saved_model.experimental import TrackableResource
    try:
        resources = [t for t in tf.train.TrackableView(model).descendants() if isinstance(t, TrackableResource)]
    except TypeError:  # an object graph TrackableView cannot walk; tf.saved_model.save reports what is missing
        resources = []
    if resources:
        root.resources = resources
    # conveniences for Python (tf.saved_model.load(dir).variables ...), as a tf.Module or Keras' export have;
    # attached last, so the checkpoint keys stay the names above
    root.variables = root.model_variables + root.optimizer_variables + other
    trainable = {id(_unwrap(tf, v)) for v in model.trainable_variables}
    root.trainable_variables = [v for v in root.model_variables if id(v) in trainable]
    return len(seen)


# ---------------------------------------------------------------------------------------------------------
# Where to write


def _versions(base):
    try:
        return sorted(int(n) for n in os.listdir(base)
                      if n.isdigit() and os.path.isdir(os.path.join(base, n)))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _target(path, version):
    path = os.path.abspath(os.fspath(path))
    if version is not None:
        if isinstance(version, bool) or not str(version).isdigit() or int(version) < 1:
            raise ValueError(f"version must be a positive integer, got {version!r}")
        if os.path.exists(path) and not os.path.isdir(path):
            raise FileExistsError(f"{path} exists and is not a directory")
        target = os.path.join(path, str(int(version)))
        if os.path.exists(target):
            raise FileExistsError(f"{target} already exists; versions are never overwritten")
        return target
    versions = _versions(path)
    if versions:
        return os.path.join(path, str(versions[-1] + 1))
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise FileExistsError(f"{path} exists and is not an empty directory nor a base directory of numbered "
                              f"versions; remove it, or pass version=N to write {path}/N")
    return path


# ---------------------------------------------------------------------------------------------------------
# Reading a SavedModel back (without loading its functions)


def _read_saved_model(path):
    from tensorflow.core.protobuf import saved_model_pb2
    sm = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        sm.ParseFromString(f.read())
    return sm


def describe(path):
    """The signatures of the SavedModel at `path`, as rtml sees them in its MetaGraphDef:
    {signature: {"inputs": {name: {"dtype", "shape", "tensor"}}, "outputs": {...}}} (shape: -1 = any)."""
    tf = _tf()
    sm = _read_saved_model(path)
    out = {}
    for key, sd in sorted(sm.meta_graphs[0].signature_def.items()):
        if key.startswith("__"):
            continue

        def info(t):
            shape = None if t.tensor_shape.unknown_rank else [d.size for d in t.tensor_shape.dim]
            return {"dtype": tf.as_dtype(t.dtype).name, "shape": shape, "tensor": t.name}
        out[key] = {"inputs": {k: info(v) for k, v in sorted(sd.inputs.items())},
                    "outputs": {k: info(v) for k, v in sorted(sd.outputs.items())}}
    return out


def _verify(tf, path, specs, n_state):
    """Check what rtml relies on, in the written files: the two signatures, the saver, the state saved."""
    sm = _read_saved_model(path)
    mg = sm.meta_graphs[0]
    sigs = mg.signature_def
    for key in (SERVING, TRAIN):
        if key not in sigs:
            raise RuntimeError(f"export failed: no {key!r} signature in {path}")
    if set(sigs[SERVING].inputs) != set(specs) or set(sigs[TRAIN].inputs) != set(specs) | {LABEL}:
        raise RuntimeError(f"export failed: unexpected signature inputs {list(sigs[SERVING].inputs)}, "
                           f"{list(sigs[TRAIN].inputs)}")
    if set(sigs[TRAIN].outputs) != {"loss"}:
        raise RuntimeError(f"export failed: train outputs {list(sigs[TRAIN].outputs)}")
    sd = mg.saver_def
    if not (sd.filename_tensor_name and sd.save_tensor_name and sd.restore_op_name):
        raise RuntimeError(f"export failed: no saver_def in {path}")
    keys = [k for k in tf.train.load_checkpoint(os.path.join(path, "variables", "variables"))
            .get_variable_to_shape_map() if k.endswith("VARIABLE_VALUE")]
    if len(keys) < n_state:
        raise RuntimeError(f"export failed: {len(keys)} variables saved, expected at least {n_state} "
                           f"(model + optimizer state)")
    _check_session(tf, path)


def _check_session(tf, path):
    """Load `path` the way the C API does (a TF1 session: restore through saver_def, run the init op)
    and check that every variable of the graph was restored."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # the TF1 loader logs a deprecation warning
    g = tf.Graph()
    try:
        with tf.compat.v1.Session(graph=g) as sess:
            tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
            handles = [op.outputs[0] for op in g.get_operations() if op.type == "VarHandleOp"]
            with g.as_default():
                checks = [tf.raw_ops.VarIsInitializedOp(resource=h) for h in handles]
            ok = sess.run(checks)
    finally:
        logger.setLevel(level)
    missing = [h.op.get_attr("shared_name").decode() for h, k in zip(handles, ok) if not k]
    if missing:
        raise RuntimeError(f"export failed: loaded through saver_def (as rtml does), {len(missing)} variables "
                           f"are not restored: {missing[:5]}")


# ---------------------------------------------------------------------------------------------------------
# export()


def export(model, path, loss, optimizer, *, input_signature=None, label_spec=None, version=None,
           learning_rate=None, train_output=None):
    """Write `model` as a SavedModel rtml can serve and train; returns the directory written.

    model           a Keras 3 or tf_keras model, or a tf.Module with a __call__ (its variables are
                    model.trainable_variables)
    path            where to write: `path/<version>` if version is given; else `path/<N+1>` if `path` is a
                    base directory holding numbered versions (1, 2, ... N); else `path` itself (which must
                    not exist, or be empty). Written atomically (a hidden temporary directory next to the
                    target, then os.rename); an existing version is never overwritten.
    loss            a name ('binary_crossentropy', 'mse', 'sparse_categorical_crossentropy', any name
                    keras.losses.get knows) or a callable loss(y_true, y_pred); averaged over the batch
    optimizer       a name ('sgd', 'adam', 'adagrad', 'rmsprop', ...; with learning_rate) or an optimizer
                    object (Keras 3 or tf_keras). Its state is created now and saved with the model.
    input_signature {name: tf.TensorSpec}; default from the Keras model's inputs: their names (one input
                    Keras named itself, e.g. input_layer, is called `x`), dtypes and shapes with a batch
                    dimension None. A tf.Module's default is its tf.function __call__'s input_signature.
    label_spec      tf.TensorSpec of the train signature's `label` input, or a dtype; default
                    tf.TensorSpec([None], tf.float32) (binary, regression); int32/int64 for class indices.
                    A label of shape [B] against an output [B, 1] is reshaped to [B, 1] (not for sparse
                    losses, whose labels are class indices).
    version         a positive integer: write `path/<version>`
    learning_rate   for an optimizer given by name (default: the optimizer's own)
    train_output    for a multi-output model: the output the label and the loss apply to
    """
    tf = _tf()
    family = _family(model)
    target = _target(path, version)

    if family == "module":
        specs, call = _module_plan(tf, model, input_signature)
        output_names = None
    else:
        specs, call = _keras_plan(tf, model, input_signature, family)
        output_names = getattr(model, "output_names", None)
        if not model.built:  # create the variables now (a tf.function may not create them when traced)
            call({n: tf.zeros([1 if d is None else d for d in s.shape], s.dtype) for n, s in specs.items()},
                 False)

    if label_spec is None:
        label_spec = tf.TensorSpec([None], tf.float32)
    elif not isinstance(label_spec, tf.TensorSpec):
        label_spec = tf.TensorSpec([None], tf.as_dtype(label_spec))
    if label_spec.dtype not in (tf.float32, tf.float64, tf.int32, tf.int64):
        raise ValueError(f"label dtype must be float32, float64, int32 or int64, got {label_spec.dtype.name}")
    label_spec = _spec(tf, label_spec.shape, label_spec.dtype, LABEL)

    loss_fn, sparse = _loss(loss, family)
    opt = _optimizer(optimizer, learning_rate, family)
    variables = list(model.trainable_variables)
    if not variables:
        raise ValueError("the model has no trainable variables")
    _build_optimizer(opt, variables)

    def extra_losses():  # Keras regularization / add_loss terms
        return list(model.losses) if family != "module" else []

    # The exported object tracks plain tf.Variables, never the Keras model or optimizer objects: a Keras 3
    # variable is a wrapper that tf.saved_model.save exports as a *copy* of the tf.Variable the functions
    # use, so the saver_def would save and restore the copies while the signatures read uninitialised
    # variables (loading through the C API / a TF1 session fails; tf.saved_model.load hides it).
    root = tf.__internal__.tracking.AutoTrackable()

    def serve(**inputs):
        return _outputs(tf, call(inputs, False), output_names)

    root.serve = tf.function(serve)
    serving = root.serve.get_concrete_function(**specs)
    out_keys = list(serving.structured_outputs)
    if train_output is None:
        if len(out_keys) != 1:
            raise ValueError(f"the model has {len(out_keys)} outputs {out_keys}: pass train_output=NAME, the "
                             f"output the label and the loss apply to")
        train_output = out_keys[0]
    elif train_output not in out_keys:
        raise ValueError(f"train_output {train_output!r} is not an output: {out_keys}")

    def train(**inputs):
        label = inputs.pop(LABEL)
        with tf.GradientTape() as tape:
            pred = _outputs(tf, call(inputs, True), output_names)[train_output]
            y = label
            if not sparse:
                y = tf.cast(y, pred.dtype)
                if (y.shape.rank is not None and pred.shape.rank is not None
                        and y.shape.rank + 1 == pred.shape.rank and pred.shape[-1] == 1):
                    y = tf.expand_dims(y, -1)
            value = tf.reduce_mean(loss_fn(y, pred))
            reg = extra_losses()
            if reg:
                value = value + tf.cast(tf.add_n(reg), value.dtype)
        grads = tape.gradient(value, variables)
        opt.apply_gradients(zip(grads, variables))
        return {"loss": tf.cast(value, tf.float32)}

    root.train = tf.function(train)
    training = root.train.get_concrete_function(**specs, label=label_spec)
    n_state = _track_state(tf, root, model, opt, [serving, training])
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.tmp-", dir=parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it 0700
        tf.saved_model.save(root, tmp, signatures={SERVING: serving, TRAIN: training})
        _verify(tf, tmp, specs, n_state)
        os.rename(tmp, target)  # atomic; replaces only an empty directory
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def restore(model, path, optimizer=None):
    """Load the variables of the SavedModel at `path` (e.g. a version rtml trained and checkpointed) into
    `model`, the Keras model (or tf.Module) it was exported from, and into `optimizer` if given (an
    optimizer of the same kind as at export: its iteration count and slots). Returns `model`.
    Then model.predict / model.fit / model.save work as usual."""
    tf = _tf()
    _family(model)
    seen = set()
    root = tf.__internal__.tracking.AutoTrackable()
    root.model_variables = _unique([_unwrap(tf, v) for v in model.variables], seen)
    if optimizer is not None:
        if isinstance(optimizer, str):
            raise TypeError("restore() needs the optimizer object (e.g. keras.optimizers.Adam(0.01)), not a name")
        _build_optimizer(optimizer, list(model.trainable_variables))
        root.optimizer_variables = _unique([_unwrap(tf, v) for v in _optimizer_variables(optimizer)], seen)
    status = tf.train.Checkpoint(root).read(os.path.join(path, "variables", "variables"))
    status.assert_existing_objects_matched()
    status.expect_partial()  # without an optimizer, its state in the checkpoint is left unread on purpose
    return model


# ---------------------------------------------------------------------------------------------------------
# The command


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _load_model(path):
    if os.path.isdir(path):  # a tf_keras SavedModel directory
        import tf_keras
        return tf_keras.models.load_model(path, compile=False)
    return _keras3().models.load_model(path, compile=False)


def main(argv=None):
    p = _Parser(
        prog="python -m rtml_tf.export",
        description="Write a Keras model as a TF2 SavedModel that rtml's TensorFlow engine serves (signature "
                    "serving_default) and trains (signature train, optimizer state included).",
        epilog="Example: python -m rtml_tf.export --model fraud.keras --loss binary_crossentropy "
               "--optimizer adam --learning-rate 0.01 --out models/fraud   (writes models/fraud/1, then "
               "models/fraud/2 the next time). Prints the written directory and its signatures as JSON. "
               "Exit status: 0 written, 1 export failed, 2 bad arguments. See docs/tensorflow-export.md.")
    p.add_argument("--model", required=True, metavar="FILE",
                   help="a Keras model file (.keras, or .h5), or a tf_keras SavedModel directory")
    p.add_argument("--loss", required=True, metavar="NAME",
                   help=f"the training loss, averaged over the batch (e.g. {', '.join(COMMON_LOSSES)})")
    p.add_argument("--optimizer", required=True, metavar="NAME", type=str.lower,
                   help=f"one of {', '.join(OPTIMIZERS)}")
    p.add_argument("--learning-rate", type=float, metavar="R", help="default: the optimizer's own")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="base directory: writes DIR/N+1 if DIR holds numbered versions 1..N, DIR/1 if DIR "
                        "does not exist or is empty (or DIR/VERSION with --version)")
    p.add_argument("--version", type=int, metavar="N", help="write DIR/N (never overwrites)")
    p.add_argument("--label-dtype", choices=LABEL_DTYPES, default="float32",
                   help="dtype of the train signature's label, shape [None] (default float32; int32 or "
                        "int64 for class indices with sparse_categorical_crossentropy)")
    p.add_argument("--train-output", metavar="NAME", help="for a multi-output model: the output trained")
    a = p.parse_args(argv)

    if not os.path.exists(a.model):
        p.error(f"--model {a.model}: no such file or directory")
    if a.optimizer not in OPTIMIZERS:
        p.error(f"--optimizer {a.optimizer}: unknown (one of {', '.join(OPTIMIZERS)})")
    if a.learning_rate is not None and not a.learning_rate > 0:
        p.error(f"--learning-rate {a.learning_rate}: must be > 0")
    if a.version is not None and a.version < 1:
        p.error(f"--version {a.version}: must be a positive integer")
    version = a.version
    if version is None and not _versions(a.out):
        if os.path.exists(a.out) and (not os.path.isdir(a.out) or os.listdir(a.out)):
            p.error(f"--out {a.out}: exists and is neither empty nor a base directory of numbered versions")
        version = 1  # the command always writes the versioned layout: DIR/1, DIR/2, ...
    elif version is not None and os.path.exists(os.path.join(a.out, str(version))):
        p.error(f"--out {a.out}: version {version} already exists")

    tf = _tf()
    try:
        _loss(a.loss, "keras")
    except ValueError as e:
        p.error(f"--loss: {e}")
    try:
        model = _load_model(a.model)
    except Exception as e:  # noqa: BLE001 - any loading failure is a bad --model
        p.error(f"--model {a.model}: cannot load: {e}")
    try:
        out = export(model, a.out, a.loss, a.optimizer, learning_rate=a.learning_rate, version=version,
                     label_spec=tf.TensorSpec([None], tf.as_dtype(a.label_dtype)), train_output=a.train_output)
    except (ValueError, TypeError, FileExistsError) as e:
        print(f"{p.prog}: error: {e}", file=sys.stderr)
        return 1
    import json
    print(json.dumps({"path": out, "signatures": describe(out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
