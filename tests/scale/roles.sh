#!/usr/bin/env bash
# One trainer and three predictors sharing model versions through a compacted topic (issue 7), on a real broker:
#   - a 6-partition input; the trainer (its own group, role trainer) learns every record and publishes a version
#     every second; three predictors (one group, role predictor, exactly_once) serve the newest version;
#   - one predictor is killed with SIGKILL mid-stream: its partitions move to the others, and every input still
#     gets exactly one prediction (read_committed);
#   - every version reaches every running predictor within 2 s of being published (from their logs);
#   - `rtml model rollback 2`: every predictor serves version 2 and stays on it (the trainer goes on
#     publishing), every record produced afterwards is scored by version 2, and the trainer continues from
#     version 2 (its next version's parent is 2).
# lib/check_roles.py does the counting.
set -euo pipefail
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"

IN=$(uniq_name roles-in); OUT=$(uniq_name roles-out); MODELS=$(uniq_name roles-models)
NA=45000; NB=9000 # records before the rollback, and after it
"$RTML" topics create "$IN" --partitions 6 >/dev/null
"$RTML" topics create "$OUT" --partitions 3 >/dev/null
"$RTML" gen --stream sea --n $((NA + NB)) --seed 11 >"$T/all.jsonl"
head -n $NA "$T/all.jsonl" >"$T/a.jsonl"
tail -n +$((NA + 1)) "$T/all.jsonl" >"$T/b.jsonl"

# config FILE ROLE GROUP DELIVERY STATE
config() {
  cat >"$1" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $3
  session.timeout.ms: 6000
  transaction.timeout.ms: 10000  # the killed predictor's open transaction holds back read_committed readers this long
  auto.offset.reset: earliest
$(sea_pipeline "$IN" "$OUT")
delivery: $4
state: {dir: $5, checkpoint_every: 1s}
role: $2
models: {topic: $MODELS, publish_every: 1s, keep: 50}
YAML
}
config "$T/trainer.yaml" trainer "$(uniq_name roles-t)" at_least_once "$T/st-t"
for i in 1 2 3; do config "$T/p$i.yaml" predictor "$(uniq_name roles-p)" exactly_once "$T/st-p$i"; done

pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap 'cleanup; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT

"$RTML" run -c "$T/trainer.yaml" --exit-on-idle 15 >"$T/trainer.out" 2>"$T/trainer.err" &
trainer=$!; pids+=($trainer)
for i in 1 2 3; do
  "$RTML" run -c "$T/p$i.yaml" --exit-on-idle 15 >"$T/p$i.out" 2>"$T/p$i.err" &
  pids+=($!); eval "p$i=$!"
done
wait_for_log "$T/p1.err" "waiting for a first model version|serving model version" 60 || fail "predictor 1 did not start"
pass "predictors started before any version was published (they wait)"

"$RTML" produce --topic "$IN" --input "$T/a.jsonl" --key-field /id --rate 3000 >"$T/produce-a.log" 2>&1 &
producer=$!; pids+=($producer)
for i in 1 2 3; do
  wait_for_log "$T/p$i.err" "serving model version" 60 || { tail "$T/p$i.err" >&2; fail "predictor $i never served a version"; }
  wait_for_log "$T/p$i.err" "assigned [1-9]" 60 || { tail "$T/p$i.err" >&2; fail "predictor $i got no partition"; }
done
pass "every predictor serves a version and has partitions"

wait_for_log "$T/trainer.err" "published model version [4-9]" 60 || fail "the trainer did not reach version 4"
kill -9 "$p3"
killed_at=$(date +%s.%N)
pass "predictor 3 killed with SIGKILL mid-stream"
wait $producer || { cat "$T/produce-a.log" >&2; fail "producing part A failed"; }

# The rollback, once the survivors have taken over predictor 3's partitions and caught up with part A.
wait_for_log "$T/trainer.err" "published model version" 5
rollback_at=$(date +%s.%N)
expect_exit 0 "rtml model rollback 2" -- "$RTML" model rollback 2 --brokers "$BROKERS" --topic "$MODELS"
for i in 1 2; do
  deadline=$((SECONDS + 10))
  until grep -E "serving model version" "$T/p$i.err" | tail -1 | grep -q "serving model version 2 "; do
    ((SECONDS < deadline)) || { tail "$T/p$i.err" >&2; fail "predictor $i does not serve version 2 after the rollback"; }
    sleep 0.1
  done
done
pass "both running predictors serve version 2"
wait_for_log "$T/trainer.err" "rolled back to model version 2" 10 || fail "the trainer did not roll back"
"$RTML" produce --topic "$IN" --input "$T/b.jsonl" --key-field /id >"$T/produce-b.log" 2>&1 || fail "producing part B failed"

wait "$trainer" || { tail "$T/trainer.err" >&2; fail "the trainer failed"; }
wait "$p1" || { tail "$T/p1.err" >&2; fail "predictor 1 failed"; }
wait "$p2" || { tail "$T/p2.err" >&2; fail "predictor 2 failed"; }
expect_eq "$(json_get "$T/trainer.out" 'r["learned"]')" $((NA + NB)) "the trainer learned every record once"

"$RTML" model list --json --brokers "$BROKERS" --topic "$MODELS" >"$T/versions.jsonl"
# The version the trainer published on rolling back continues from 2, and so do the later ones.
rb=$(sed -nE '/rolled back to model version 2/,$ s/.*published model version ([0-9]+) \(parent ([0-9]+),.*/\1 \2/p' "$T/trainer.err" | head -1)
[ -n "$rb" ] || fail "no version published after the rollback"
expect_eq "${rb#* }" 2 "the trainer's first version after the rollback (${rb% *}) has parent 2"
"$PY" - "$T/versions.jsonl" "${rb% *}" <<'PY' || fail "the model topic does not show the rollback"
import json, sys
vs = {v["version"]: v for v in map(json.loads, open(sys.argv[1]))}
assert vs[int(sys.argv[2])]["parent"] == 2, "the listed parent is not 2"
assert vs[2].get("pinned"), "version 2 is not shown as pinned"
print(f"ok: {len(vs)} versions listed; version {sys.argv[2]} continues from 2; 2 is pinned")
PY

"$PY" "$LIB/read_topic.py" "$BROKERS" "$IN" >"$T/in.jsonl"
# The killed predictor's open transaction is aborted by the broker after transaction.timeout.ms; until then
# read_committed readers stop before it. Wait for that (condition, deadline), then read.
deadline=$((SECONDS + 90))
until "$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation read_committed >"$T/out.jsonl" &&
      (($(wc -l <"$T/out.jsonl") >= NA + NB)); do
  ((SECONDS < deadline)) || break # check_roles.py reports what is missing
  sleep 1
done
"$PY" "$RTML_ROOT/tests/scale/lib/check_roles.py" "$T/trainer.err" "$T/p1.err" "$T/p2.err" "$T/p3.err" \
  --in "$T/in.jsonl" --out "$T/out.jsonl" --after-id $NA --pinned 2 --rollback-at "$rollback_at" ||
  fail "roles: see above"
echo "(predictor 3 was killed at $killed_at)"
for t in "$IN" "$OUT" "$MODELS"; do "$RTML" topics delete "$t" >/dev/null; done
echo "roles: all checks passed"
