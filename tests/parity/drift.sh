# tests/parity/drift.sh — rtml's drift detectors (`rtml drift`) against River 0.26.1's ADWIN, PageHinkley
# (mode "both") and binary.DDM on the same error streams: the detections must be the same, at the same
# indices, with the same window widths and estimations (drift_river.py compare).
# Streams: seeded error bits with abrupt and gradual changes, real values in [0, 1], a million stationary
# bits (where River's defaults do fire, docs/drift.md), River's own docstring examples' shapes, non-default
# settings; and real prequential error streams: a logistic model on `rtml gen --stream sea` with a drift
# (0/1 errors) and a linear model on Friedman #1 with a shifted target (|error|), both run by `rtml replay`.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/parity/lib/parity.sh"
source "$RTML_ROOT/tests/lib/config.sh" # sea_pipeline
DR=$RTML_ROOT/tests/parity/lib/drift_river.py
DETECTIONS=0

# same NAME FILE MIN DETECTOR [OPTIONS...]: both sides over FILE; River must find at least MIN detections.
same() {
  local name=$1 file=$2 min=$3 det=$4
  shift 4
  local tag=${name//\//_}
  if ! "$RTML" drift --detector "$det" "$@" "$file" >"$T/$tag.rtml" 2>"$T/$tag.err"; then
    cat "$T/$tag.err" >&2
    echo "$name: rtml drift failed" >&2
    PARITY_FAILED+=("$name")
    return 0
  fi
  "$PY" "$DR" detect "$det" "$file" "$@" >"$T/$tag.river"
  "$PY" "$DR" compare "$name" "$T/$tag.rtml" "$T/$tag.river" --min-detections "$min" || PARITY_FAILED+=("$name")
  DETECTIONS=$((DETECTIONS + $(grep -c '"index"' "$T/$tag.river" || true)))
}

# all3 NAME FILE MIN: the three detectors with River's defaults. real2: ADWIN and Page-Hinkley only.
all3() { same "$1/adwin" "$2" "$3" adwin; same "$1/page_hinkley" "$2" "$3" page_hinkley; same "$1/ddm" "$2" "$3" ddm; }
real2() { same "$1/adwin" "$2" "$3" adwin; same "$1/page_hinkley" "$2" "$3" page_hinkley; }

stream() { local name=$1; shift; "$PY" "$DR" stream "$T/$name.txt" "$@"; }

# ---- (a) seeded synthetic streams ----
for seed in 1 2 3; do
  stream big$seed --n 30000 --seed "$seed" --before 0.1 --after 0.5 --at 10000
  all3 "bits 0.1->0.5 seed $seed" "$T/big$seed.txt" 1
  stream small$seed --n 30000 --seed "$seed" --before 0.2 --after 0.35 --at 10000
  all3 "bits 0.2->0.35 seed $seed" "$T/small$seed.txt" 1
done
stream gradual --n 40000 --seed 4 --before 0.1 --after 0.4 --at 15000 --width 4000
all3 "bits 0.1->0.4 gradual" "$T/gradual.txt" 1
stream down --n 30000 --seed 5 --before 0.4 --after 0.1 --at 10000
real2 "bits 0.4->0.1 (a decrease)" "$T/down.txt" 1
same "bits 0.4->0.1 (a decrease)/ddm" "$T/down.txt" 0 ddm # DDM watches for increases only
stream long --n 200000 --seed 9 --before 0.2 --after 0.3 --at 150000 # a deep ADWIN histogram (17 rows)
all3 "bits 0.2->0.3 at 150000" "$T/long.txt" 1
stream real --kind real --n 30000 --seed 6 --before 0.3 --after 0.5 --at 10000
real2 "real 0.3->0.5" "$T/real.txt" 1
stream stationary --n 1000000 --seed 7 --before 0.3 --after 0.3 --at 0
all3 "bits p=0.3 stationary, 1M" "$T/stationary.txt" 0
stream realst --kind real --n 1000000 --seed 8 --before 0.3 --after 0.3 --at 0
real2 "real stationary, 1M" "$T/realst.txt" 0

# non-default settings (every option of `rtml drift`)
same "bits 0.1->0.5/adwin delta 0.05 grace 100" "$T/big1.txt" 1 adwin --delta 0.05 --min-instances 100
same "bits 0.1->0.5/ph tuned" "$T/big1.txt" 1 page_hinkley --delta 0.01 --threshold 20 --alpha 0.999 --min-instances 50
same "bits 0.2->0.35/ddm tuned" "$T/small1.txt" 1 ddm --min-instances 100 --warning-level 1.5 --drift-level 2.5

# ---- (b) real prequential error streams of a logistic regression (`rtml replay`, test-then-train) ----
# prequential ERRORS NAME GEN-ARGS...: `rtml gen GEN-ARGS` through the model, 0/1 errors into $T/NAME.txt.
prequential() {
  local name=$1
  shift
  gen_stream "$name" "$@"
  if [ "$name" = sea ]; then # the broker tests' SEA pipeline, minus its topics
    { echo 'input: {format: json}'; sea_pipeline unused unused | sed -e '/^input:/d' -e '/^output:/d'; } >"$T/$name.yaml"
  else
    "$PY" "$PEERS" config logistic "$T/$name.jsonl" --lr 0.05 >"$T/$name.yaml"
  fi
  "$RTML" replay -c "$T/$name.yaml" --input "$T/$name.jsonl" --output "$T/$name.pred" >"$T/$name.report"
  "$PY" "$DR" errors "$T/$name.jsonl" "$T/$name.pred" "$T/$name.txt" --task classification
}
# SEA's drift (theta 8 -> 7) relabels 7.5% of the records and SGD follows it within a few hundred: the error
# rate stays at 0.13 (the 10% label noise plus the model's own error), so ADWIN and DDM see no change and
# Page-Hinkley fires only its stationary alarms. The comparison still counts: same values, same decisions.
prequential sea --stream sea --n 60000 --drift-at 30000
all3 "sea logistic errors" "$T/sea.txt" 0
# The hyperplane's drift redraws the weights: the error rate jumps and ADWIN finds it.
prequential hyperplane --stream hyperplane --features 10 --n 60000 --drift-at 30000
all3 "hyperplane logistic errors" "$T/hyperplane.txt" 0
same "hyperplane logistic errors/adwin, must fire" "$T/hyperplane.txt" 1 adwin

# ---- (c) a regression error stream: linear regression on Friedman #1, target shifted by +5 from 3000 ----
dataset friedman
"$PY" "$DR" shift "$T/friedman.jsonl" "$T/friedman_shift.jsonl" --at 3000 --offset 5
"$PY" "$PEERS" config linear "$T/friedman_shift.jsonl" --lr 0.01 >"$T/friedman.yaml"
"$RTML" replay -c "$T/friedman.yaml" --input "$T/friedman_shift.jsonl" --output "$T/friedman.pred" >"$T/friedman.report"
"$PY" "$DR" errors "$T/friedman_shift.jsonl" "$T/friedman.pred" "$T/friedman_errors.txt" --task regression
real2 "friedman linear |error|" "$T/friedman_errors.txt" 1

echo "River detections compared: $DETECTIONS"
[ "$DETECTIONS" -ge 100 ] || fail "only $DETECTIONS detections compared (expected at least 100)"
parity_done
