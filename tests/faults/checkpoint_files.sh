#!/usr/bin/env bash
# Damaged checkpoints and a full disk, through `rtml run` against the real broker.
#
# Injected, each between two runs over new records of one stream:
#   the newest checkpoint with one flipped byte; cut in half; replaced by a foreign file (a PNG header and
#   noise); every checkpoint damaged at once; then the state directory on a disk with room for the checkpoints
#   it holds and no more (a tmpfs mount, or where mounting is not allowed or RTML_TEST_NO_MOUNT=1, a file size
#   limit: writes then fail with EFBIG instead of ENOSPC).
# Counted after each: the run logs which file it skipped and resumes from the one before it (exit 0), and the
# model's learned count equals the labelled records so far (an older checkpoint means records are read and
# learned again from older positions: still exactly once). All damaged: exit 2 naming the directory.
# Disk full: each failed checkpoint is logged with its reason, the stream goes on and every record gets its
# prediction, the run exits 1 (its final checkpoint failed), and no checkpoint on that disk is corrupt; the
# next run (with space) resumes from the last good one and the learned count is still exact.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/faults/lib/kill9.sh" # kill9_config, wait_for_log
IN=$(uniq_name ck-in); OUT=$(uniq_name ck-out); DLQ=$(uniq_name ck-dlq); GROUP=$(uniq_name ck)
for t in "$IN" "$OUT" "$DLQ"; do "$RTML" topics create "$t" --partitions 2 >/dev/null; done
STATE=$T/state
kill9_config "$T/ck.yaml" "$IN" "$OUT" "$DLQ" "$GROUP" at_least_once "$STATE"
labelled=0
next_id=0

# produce_more N: N more records (every 5th unlabelled), then a run until idle; sets $rc.
produce_more() {
  "$RTML" gen --stream sea --n "$1" --seed $((next_id + 1)) --id-offset $next_id | "$PY" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["id"] % 5 == 0: del r["label"]
    print(json.dumps(r))' >"$T/more.jsonl"
  labelled=$((labelled + $(grep -c '"label"' "$T/more.jsonl")))
  next_id=$((next_id + $1))
  "$RTML" produce --topic "$IN" --input "$T/more.jsonl" --key-field /id >/dev/null
}

run_until_idle() { # run_until_idle CONFIG: sets rc; stderr in $T/err, report in $T/out
  set +e; "$RTML" run -c "$1" --exit-on-idle 3 >"$T/out" 2>"$T/err"; rc=$?; set -e
  [ "$rc" == 0 ] || grep -E "error|warn" "$T/err" | head -20 >&2
}

expect_learned() { # expect_learned WHAT
  "$RTML" state -c "$T/ck.yaml" >"$T/state.json" || fail "$1: no valid checkpoint"
  expect_eq "$(json_get "$T/state.json" 'r["learned"]')" "$labelled" "$1: learned == labelled records so far"
}

newest() { ls "$STATE"/checkpoint-*.rtml | sort | tail -1; }

produce_more 20000
run_until_idle "$T/ck.yaml"
expect_eq "$rc" 0 "first run exits 0"
expect_learned "first run"

for how in flipped truncated foreign; do
  f=$(newest)
  case $how in
    flipped) "$PY" -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//3] ^= 0x40; open(p,"wb").write(b)' "$f" ;;
    truncated) "$PY" -c 'import sys; p=sys.argv[1]; b=open(p,"rb").read(); open(p,"wb").write(b[:len(b)//2])' "$f" ;;
    foreign) "$PY" -c 'import sys, os; open(sys.argv[1],"wb").write(b"\x89PNG\r\n\x1a\n" + os.urandom(4000))' "$f" ;;
  esac
  echo "injected: $how newest checkpoint $(basename "$f")"
  produce_more 5000
  run_until_idle "$T/ck.yaml"
  [ "$rc" == 0 ] || { cat "$T/err" >&2; fail "run after a $how checkpoint: exit $rc"; }
  expect_grep "checkpoint .*$(basename "$f") skipped .*falling back" "$T/err" "$how: the damaged file is named and skipped"
  expect_grep "resuming from checkpoint" "$T/err" "$how: resumed from the one before"
  expect_learned "after a $how checkpoint"
done

# Every checkpoint damaged: refuse to start (a silent fresh start would learn everything a second time).
for f in "$STATE"/checkpoint-*.rtml; do printf 'garbage' >"$f"; done
echo "injected: every checkpoint in $STATE replaced by garbage"
expect_exit 2 "every checkpoint damaged: refused" -- "$RTML" run -c "$T/ck.yaml" --exit-on-idle 3
expect_grep "none of the [0-9]+ checkpoint\(s\) in $STATE is valid" "$T/err" "the error names the directory"
rm -f "$STATE"/checkpoint-*.rtml
# Start that state afresh on its own topic position: a new group, so that learned == labelled stays checkable.
GROUP=$(uniq_name ck2)
kill9_config "$T/ck.yaml" "$IN" "$OUT" "$DLQ" "$GROUP" at_least_once "$STATE"
run_until_idle "$T/ck.yaml"
expect_eq "$rc" 0 "fresh state, new group: exit 0"
expect_learned "fresh state"

# ---- a full disk ----------------------------------------------------------------------------------------
SMALL=$T/small
mkdir -p "$SMALL"
cp "$STATE"/checkpoint-*.rtml "$SMALL"/
sed "s|dir: $STATE|dir: $SMALL|" "$T/ck.yaml" >"$T/small.yaml"
size_kb=$(( ($(du -bc "$SMALL"/checkpoint-*.rtml | tail -1 | cut -f1) + 20000) / 1024 ))
if [ -z "${RTML_TEST_NO_MOUNT:-}" ] && mount -t tmpfs -o size=${size_kb}k rtml-test-full "$SMALL" 2>/dev/null; then
  trap 'umount "$SMALL" 2>/dev/null || true; rm -rf "$T"' EXIT
  cp "$STATE"/checkpoint-*.rtml "$SMALL"/
  how="a ${size_kb} KiB tmpfs holding the current checkpoints"
  limit=()
else # no mount here: the same failure (EFBIG) from a file size limit; SIGXFSZ ignored so write() fails
  how="a file size limit of 16 KiB (mount not permitted)"
  limit=(bash -c 'trap "" XFSZ; ulimit -f 16; exec "$@"' limit)
fi
echo "injected: state.dir on $how"
produce_more 20000
set +e; "${limit[@]}" "$RTML" run -c "$T/small.yaml" --exit-on-idle 3 >"$T/out" 2>"$T/err"; rc=$?; set -e
expect_eq "$rc" 1 "disk full: the run ends with exit 1 (its final checkpoint could not be written)"
expect_grep "checkpoint [0-9]+ not written \(the previous one stays valid.*(No space left|File too large)" "$T/err" \
  "each failed checkpoint is logged with its reason"
expect_eq "$(json_get "$T/out" 'r["records"]')" 20000 "the stream went on: every new record processed"
expect_eq "$(json_get "$T/out" 'r["checkpoint_failures"] > 0')" True "checkpoint failures counted in the report"
"$RTML" state --dir "$SMALL" --all >"$T/all.json" 2>"$T/all.err" || true
expect_eq "$(grep -c '"error"' "$T/all.json" || true)" 0 "no corrupt checkpoint left on the full disk"
ls "$SMALL" | grep -q '\.tmp\.' && fail "a temporary file was left on the full disk"
pass "no temporary file left"
cp "$SMALL"/checkpoint-*.rtml "$STATE"/
[ ${#limit[@]} -eq 0 ] && umount "$SMALL"
run_until_idle "$T/ck.yaml"
expect_eq "$rc" 0 "with space again: exit 0"
expect_learned "after the full disk"
"$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" >"$T/preds.jsonl"
sources='import json, sys
print(len({(p["source"]["partition"], p["source"]["offset"]) for p in (json.loads(json.loads(l)["value"]) for l in open(sys.argv[1]))}))'
expect_eq "$("$PY" -c "$sources" "$T/preds.jsonl")" "$next_id" "every input has a prediction"
for t in "$IN" "$OUT" "$DLQ"; do "$RTML" topics delete "$t" >/dev/null; done
echo "checkpoint_files: all checks passed"
