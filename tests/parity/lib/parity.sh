# tests/parity/lib/parity.sh — shared by the parity tests (sourced, not run; not itself a test: ctest
# globs tests/parity/*.sh only).
#
# parity NAME MODEL DATA [--lr R] [--l2 L] [--classes N]: writes the rtml config for MODEL (peers.py config),
# runs `rtml replay` on DATA, runs River's prequential loop on the same file with the same model, prints
# both sides' metrics and records a failure when they differ beyond the tolerance (see peers.py).
# parity_done: exits non-zero if any comparison failed (all of them run and print first).
source "$RTML_ROOT/tests/lib/common.sh"
PEERS=$RTML_ROOT/tests/parity/lib/peers.py
PARITY_FAILED=()

parity() {
  local name=$1 model=$2 data=$3
  shift 3
  local tag=${name//\//_}
  "$PY" "$PEERS" config "$model" "$data" "$@" >"$T/$tag.yaml"
  if ! "$RTML" replay -c "$T/$tag.yaml" --input "$data" >"$T/$tag.report" 2>"$T/$tag.err"; then
    sed -n 1,20p "$T/$tag.err" >&2
    echo "$name: rtml replay failed" >&2
    PARITY_FAILED+=("$name")
    return 0
  fi
  "$PY" "$PEERS" river "$model" "$data" "$T/$tag.report" --name "$name" "$@" || PARITY_FAILED+=("$name")
}

# gen_stream NAME ARGS...: `rtml gen ARGS` into $T/NAME.jsonl
gen_stream() {
  local name=$1
  shift
  "$RTML" gen "$@" >"$T/$name.jsonl"
}

# dataset NAME: a packaged dataset (peers.py data) into $T/NAME.jsonl
dataset() { "$PY" "$PEERS" data "$1" "$T/$1.jsonl"; }

parity_done() {
  [ ${#PARITY_FAILED[@]} -eq 0 ] || fail "parity mismatch: ${PARITY_FAILED[*]}"
  pass "all comparisons within tolerance"
}
