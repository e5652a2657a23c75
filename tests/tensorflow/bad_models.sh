#!/usr/bin/env bash
# tests/tensorflow/bad_models.sh — a SavedModel that is missing, corrupt, has no such signature, or whose
# inputs do not match the features: `rtml check`, `rtml replay` and `rtml run` exit 2 with a message that
# names what is wrong, before anything starts (run never reaches Kafka: its broker here does not exist).
# And records a model cannot take (a missing or mistyped raw field) are rejected with their reason, counted,
# and the stream goes on.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/tensorflow/lib/tf.sh"
head -100 "$MODELS/data.jsonl" >"$T/100.jsonl"

bad() { # NAME SAVED_MODEL FEATURES EXTRA_YAML EXPECTED_MESSAGE_REGEX
  tf_config "$T/$1.yaml" "$2" "$3" "$4"
  expect_exit 2 "$1: rtml check" -- "$RTML" check -c "$T/$1.yaml"
  expect_grep "$5" "$T/err" "$1: check says why"
  expect_exit 2 "$1: rtml replay" -- "$RTML" replay -c "$T/$1.yaml" --input "$T/100.jsonl"
  expect_grep "$5" "$T/err" "$1: replay says why"
  printf 'kafka: {bootstrap.servers: 127.0.0.1:1}\ninput: {topics: [in]}\noutput: {topic: out}\n' >>"$T/$1.yaml"
  local t0=$SECONDS
  expect_exit 2 "$1: rtml run" -- "$RTML" run -c "$T/$1.yaml"
  expect_grep "$5" "$T/err" "$1: run says why"
  ((SECONDS - t0 < 30)) || fail "$1: run took $((SECONDS - t0)) s to refuse: it went further than the model"
}

X3='features:
  - {name: x1}
  - {name: x2}
  - {name: x3}'
bad missing "$T/nope" "$X4" "" "SavedModel directory $T/nope: No such file or directory"
mkdir -p "$T/corrupt" && head -c 3000 /dev/urandom >"$T/corrupt/saved_model.pb"
bad corrupt "$T/corrupt" "$X4" "" "cannot load the SavedModel in $T/corrupt"
mkdir -p "$T/empty_base/1"
bad not_a_model "$T/empty_base" "$X4" "" "$T/empty_base has no saved_model.pb"
bad no_signature "$MODELS/mlp/1" "$X4" "    signature: predict" \
  "has no signature 'predict' \(it has: serving_default, train\)"
bad too_few_features "$MODELS/mlp/1" "$X3" "" "input 'x' has shape \[\?, 4\], but its features give 3 values"
bad wrong_input_name "$MODELS/mlp/1" "$X4" "    inputs: {features: [x1, x2, x3, x4]}" \
  "has no input 'features' \(its inputs: x \[\?, 4\] float32\)"
bad unfed_input "$MODELS/two_inputs/1" 'features:
  - {name: a1}
  - {name: a2}
  - {name: a3}' "    inputs: {a: [a1, a2, a3]}" "input 'b' is not fed"
bad unmapped_inputs "$MODELS/two_inputs/1" "$X4" "" "has 2 inputs \(a \[\?, 3\] float32, b \[\?, 2\] float32\)"
bad string_from_features "$MODELS/strings/1" 'features:
  - {name: amount}' "    inputs: {country: [amount], amount: [amount]}" "input 'country' is string, which features cannot feed"
bad no_train "$MODELS/two_inputs/1" 'features:
  - {name: a1}
  - {name: a2}
  - {name: a3}
  - {name: b1}
  - {name: b2}' "    train_signature: train
    inputs: {a: [a1, a2, a3], b: [b1, b2]}" "has no signature 'train' \(it has: serving_default\)"
tf_config "$T/mc.yaml" "$MODELS/mlp/1" "$X4" "    train_signature: none"
sed -i 's/^  engine: tensorflow$/  engine: tensorflow\n  task: multiclass\n  classes: [a, b, c]/' "$T/mc.yaml"
expect_exit 2 "a binary output for a multiclass task" -- "$RTML" check -c "$T/mc.yaml"
expect_grep "output 'output_0' gives 1 values per record; a multiclass model needs 3" "$T/err" "says the widths"

# Records the model cannot take: rejected with their reason, counted, the rest scored.
{
  echo '{"id":1,"country":"de","amount":3.5,"label":1}'
  echo '{"id":2,"amount":3.5,"label":0}'
  echo '{"id":3,"country":["de"],"amount":3.5,"label":0}'
  echo '{"id":4,"country":17,"amount":1.0,"label":1}'
  echo '{"id":5,"country":"fr","amount":"x","label":1}'
} >"$T/mixed.jsonl"
tf_config "$T/mixed.yaml" "$MODELS/strings/1" 'features:
  - {name: amount}' "    train_signature: none
    inputs: {country: /country, amount: [amount]}"
expect_exit 0 "records a string input cannot take" -- "$RTML" replay -c "$T/mixed.yaml" --input "$T/mixed.jsonl" \
  --output "$T/mixed.pred.jsonl"
expect_eq "$(json_get "$T/out" 'r["errors_by_reason"]')" "{'missing_field': 1, 'wrong_type': 2}" \
  "a missing string, an array for a string, a string for a number: rejected by reason"
expect_eq "$(wc -l <"$T/mixed.pred.jsonl")" 2 "the other two scored (a number for a string input becomes its text)"
expect_grep "field /country \(input 'country'\) is missing|field /country \(input 'country'\) is absent" "$T/err" \
  "the log names the field and the input"
