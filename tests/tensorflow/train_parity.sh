#!/usr/bin/env bash
# tests/tensorflow/train_parity.sh — online training through the C API equals training in Python: 20 batches
# of 32 labelled records, each scored then learned by rtml (the train signature: Adam through a
# GradientTape), checkpointed through saver_def into a new version directory; then the same 20 steps in
# Python on the same batches. Every variable (weights and Adam's slots) within 1e-5, the iteration count
# exactly, and rtml's pre-update scores equal Python's. The checkpoint loads back in Python and in rtml.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/tensorflow/lib/tf.sh"
"$PY" "$TFLIB/train_parity.py" prepare "$T/p" --steps 20 --batch 32 >/dev/null || fail "train_parity.py prepare"
tf_config "$T/train.yaml" "$T/p/model" "$X4" "    batch: 32"
expect_exit 0 "rtml replay trains 20 batches" -- "$RTML" replay -c "$T/train.yaml" --input "$T/p/train.jsonl" \
  --output "$T/pred.jsonl"
expect_eq "$(json_get "$T/out" 'r["learned"]')" 640 "every labelled record learned once"
expect_grep "model version 2 written to $T/p/model/2" "$T/err" "the trained variables became version 2"
[ -f "$T/p/model/2/rtml-export" ] && [ -f "$T/p/model/2/variables/variables.index" ] ||
  fail "version 2 lacks its variables or rtml's marker"
"$PY" "$TFLIB/train_parity.py" check "$T/p" --trained "$T/p/model/2" --predictions "$T/pred.jsonl" ||
  fail "rtml's training differs from Python's"
pass "weights, optimizer state and scores equal Python's within 1e-5"

# A restart resumes from the newest version: one more pass learns from version 2, writes version 3.
expect_exit 0 "a second run resumes from version 2" -- "$RTML" replay -c "$T/train.yaml" --input "$T/p/train.jsonl"
expect_grep "model version 3 written" "$T/err" "and writes version 3"
"$PY" - "$T/p/model" <<'PY' || fail "version 3 is not the continuation of version 2"
import sys, tensorflow as tf
base = sys.argv[1]
def iterations(v):
    r = tf.train.load_checkpoint(f"{base}/{v}/variables/variables")
    keys = [k for k in r.get_variable_to_shape_map() if "iteration" in k and "VARIABLE_VALUE" in k]
    assert len(keys) == 1, keys
    return int(r.get_tensor(keys[0]))
assert iterations(3) == 2 * iterations(2) == 40, (iterations(2), iterations(3))
PY
pass "version 3 continued from version 2 (optimizer iterations 20 -> 40)"

# A plain SavedModel directory (not a base of versions): checkpoints go to <state.dir>/tensorflow.
cp -r "$T/p/model/1" "$T/plain"
tf_config "$T/plain.yaml" "$T/plain" "$X4" "    batch: 32"
expect_exit 0 "training a plain SavedModel directory" -- "$RTML" replay -c "$T/plain.yaml" --input "$T/p/train.jsonl"
expect_grep "model version 2 written to $T/state/tensorflow/2" "$T/err" "its checkpoint went to the state directory"
"$PY" "$TFLIB/train_parity.py" check "$T/p" --trained "$T/state/tensorflow/2" >/dev/null ||
  fail "the state-directory checkpoint differs from Python's"
pass "the state-directory checkpoint equals Python's training"
