# tests/tensorflow/lib/tf.sh — shared by the TensorFlow test scripts (sourced, not run).
#
# Gives what tests/lib/common.sh gives, plus $MODELS: the SavedModels and data that
# make_models.py wrote once for the whole run (the ctest fixture tf.models), copied per test where a test
# writes versions, and $TFLIB (this directory's Python helpers).
source "$RTML_ROOT/tests/lib/common.sh"
: "${RTML_TF_MODELS:?RTML_TF_MODELS must point at the output of make_models.py (the tf.models fixture)}"
MODELS=$RTML_TF_MODELS
TFLIB=$RTML_ROOT/tests/tensorflow/lib
export TF_CPP_MIN_LOG_LEVEL=2 PYTHONPATH=$RTML_ROOT/python

# tf_config FILE SAVED_MODEL FEATURES_YAML MODEL_EXTRA_YAML: a replay config over data.jsonl's fields.
tf_config() {
  local file=$1 saved=$2 features=$3 extra=$4
  cat >"$file" <<YAML
$features
label: {field: /label}
model:
  engine: tensorflow
  tensorflow:
    saved_model: $saved
$extra
state: {dir: $T/state}
YAML
}

# The four float features x1..x4 of data.jsonl, untransformed.
X4='features:
  - {name: x1}
  - {name: x2}
  - {name: x3}
  - {name: x4}'

# export_sea_keras DIR HIDDEN: a Keras classifier for SEA's three features (one ReLU layer of HIDDEN units,
# seed 3), exported by rtml_tf as version 1 of DIR (serving_default + train, Adam 0.01).
export_sea_keras() {
  "$PY" - "$1" "$2" <<'PY' >/dev/null || fail "exporting the Keras model"
import sys, keras, rtml_tf.export as ex
keras.utils.set_random_seed(3)
m = keras.Sequential([keras.Input((3,), name="x"), keras.layers.Dense(int(sys.argv[2]), activation="relu"),
                      keras.layers.Dense(1, activation="sigmoid")])
ex.export(m, sys.argv[1], loss="binary_crossentropy", optimizer="adam", learning_rate=0.01, version=1)
PY
}

# sea_keras_pipeline IN OUT MODEL_DIR: the YAML after a `kafka:` section for the broker tests: SEA's three
# standardised features, the label, the exported Keras model in micro-batches of 32, output OUT.
sea_keras_pipeline() {
  cat <<YAML
input: {topics: [$1]}
features:
  - {name: x1, transforms: [standardize]}
  - {name: x2, transforms: [standardize]}
  - {name: x3, transforms: [standardize]}
label: {field: /label}
model:
  engine: tensorflow
  tensorflow: {saved_model: $3, batch: 32, max_delay: 5ms}
output: {topic: $2}
YAML
}
