#!/usr/bin/env bash
# tests/tensorflow/inference_parity.sh — rtml's predictions through the TensorFlow C API equal Python's
# model(x) within 1e-5 on 1,000 records, for: a Keras MLP (exported by rtml_tf and by Keras's own
# model.export()), a model with two named inputs (plain tf.saved_model.save of a tf.Module), and a model that
# takes strings (StringLookup) beside a number. Batches of 64 with a partial last one, serving only.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/tensorflow/lib/tf.sh"

parity() { # NAME SAVED_MODEL FEATURES INPUTS_YAML
  local name=$1
  tf_config "$T/$name.yaml" "$2" "$3" "    train_signature: none
    extra_outputs: [output_0]
$4"
  expect_exit 0 "$name: rtml replay" -- "$RTML" replay -c "$T/$name.yaml" --input "$MODELS/data.jsonl" \
    --output "$T/$name.pred.jsonl"
  expect_eq "$(json_get "$T/out" 'r["records"]')" 1000 "$name: every record scored"
  expect_eq "$(json_get "$T/out" 'r["learned"]')" 0 "$name: serving only, nothing learned"
  "$PY" "$TFLIB/compare.py" "$T/$name.pred.jsonl" "$MODELS/expected_$5.jsonl" --name "$name" ||
    fail "$name: predictions differ from Python's model(x)"
  pass "$name: predictions equal Python's within 1e-5"
}

parity mlp "$MODELS/mlp/1" "$X4" "" mlp
parity mlp_keras_export "$MODELS/mlp_keras_export/1" "$X4" "" mlp_keras_export
parity two_inputs "$MODELS/two_inputs/1" 'features:
  - {name: a1}
  - {name: a2}
  - {name: a3}
  - {name: b1}
  - {name: b2}' "    inputs: {a: [a1, a2, a3], b: [b1, b2]}" two_inputs
parity strings "$MODELS/strings/1" 'features:
  - {name: amount}' "    inputs: {country: /country, amount: [amount]}" strings

# The default mapping: a single-input signature gets every feature, in config order.
tf_config "$T/default.yaml" "$MODELS/mlp/1" "$X4" "    train_signature: none"
expect_exit 0 "default input mapping" -- "$RTML" replay -c "$T/default.yaml" --input "$MODELS/data.jsonl" \
  --output "$T/default.pred.jsonl"
"$PY" "$TFLIB/compare.py" "$T/default.pred.jsonl" "$MODELS/expected_mlp.jsonl" --name default ||
  fail "default mapping: predictions differ"
