#!/usr/bin/env bash
# tests/tensorflow/reload.sh — hot reload: 50 new versions published into the watched base directory while
# records are scored; each is loaded and switched to, no record fails, and resident memory does not grow
# (tf_reload.c measures it). Also: a broken version is skipped and the running one stays.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/tensorflow/lib/tf.sh"
: "${RTML_TF_RELOAD:?RTML_TF_RELOAD must point at the tf_reload program (ctest sets it)}"
mkdir -p "$T/base" && cp -r "$MODELS/mlp/1" "$T/base/1"
tf_config "$T/reload.yaml" "$T/base" "$X4" "    train_signature: none
    batch: 16
    reload_every: 10ms"
expect_exit 0 "50 reloads while scoring" -- "$RTML_TF_RELOAD" "$T/base" "$T/reload.yaml" 50
cat "$T/out"
expect_eq "$(json_get "$T/out" 'r["failed_records"]')" 0 "no record failed across the reloads"
expect_eq "$(json_get "$T/out" 'r["reloads"]')" 50 "every version was loaded"
pass "resident memory after reload 10: $(json_get "$T/out" 'r["rss_mb_after_10"]') MB, after 50: $(json_get "$T/out" 'r["rss_mb_end"]') MB"

# A version that is not a loadable SavedModel is skipped; scoring goes on with the current one.
mkdir -p "$T/base2" && cp -r "$MODELS/mlp/1" "$T/base2/1"
mkdir -p "$T/base2/2" && echo garbage >"$T/base2/2/saved_model.pb"
tf_config "$T/skip.yaml" "$T/base2" "$X4" "    train_signature: none
    reload_every: 10ms"
head -200 "$MODELS/data.jsonl" >"$T/200.jsonl"
# version 2 is newest at start: the start fails with a clear error rather than serving an older version
expect_exit 2 "a corrupt newest version at start" -- "$RTML" replay -c "$T/skip.yaml" --input "$T/200.jsonl"
expect_grep "cannot load the SavedModel in $T/base2/2" "$T/err" "names the corrupt version"
