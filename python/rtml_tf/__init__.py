"""rtml_tf - the Python side of rtml's TensorFlow engine.

rtml serves and trains TF2 SavedModels through the TensorFlow C API. It never guesses tensor names: it
reads the signatures `serving_default` (score) and `train` (one optimizer step on a labelled batch) from
the MetaGraphDef, and saves checkpoints through the MetaGraphDef's saver_def.

    from rtml_tf.export import export          # export(model, path, loss, optimizer, ...)
    python -m rtml_tf.export --help             # the same from a .keras file

See docs/tensorflow-export.md. Importing this package does not import TensorFlow.
"""
