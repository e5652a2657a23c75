#!/usr/bin/env bash
# `rtml model` against the real broker: the model topic (modelbus.h) seen and steered from the command line.
#
# A short `rtml run` (no models.topic) leaves a checkpoint; then:
#   publish twice -> versions 1 and 2 (the topic created compacted, 1 partition, 64 MiB records; the image is
#   the checkpoint file byte for byte in size, its metrics the run's); list (table and --json: both, 2 latest);
#   show 1; pin 1 (list marks it); pin latest (no mark); rollback 1 (the policy record, read back both by
#   `show` and by an independent consumer, says pinned 1, rollback true); unpin.
# Refused: pin/rollback to a version not in the topic (exit 1, the topic's end offset unchanged); a missing
# topic (exit 1 with the message, and the look-up does not create it); an unreachable broker (exit 1 within
# ~15 s); a checkpoint of another model or a file that is not one (exit 1, nothing published); bad usage
# (exit 2); -c CONFIG without models.topic (exit 2 naming the file and models.topic). Foreign records in the
# topic are skipped with a warning.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
IN=$(uniq_name mc-in); OUT=$(uniq_name mc-out); MODELS=$(uniq_name mc-models); GROUP=$(uniq_name mc)
for t in "$IN" "$OUT"; do "$RTML" topics create "$t" >/dev/null; done
"$RTML" gen --stream sea --n 200 | "$RTML" produce --topic "$IN" --key-field /id >/dev/null
write_config "$T/run.yaml" "$IN" "$OUT" "$GROUP" # state in $T/state; no models.topic: not a trainer
expect_exit 0 "a short run leaves a checkpoint" -- "$RTML" run -c "$T/run.yaml" --exit-on-idle 2
cp "$T/out" "$T/report.json"
CKPT=$(ls "$T"/state/checkpoint-*.rtml | sort | tail -1)
{ cat "$T/run.yaml"; echo "models: {topic: $MODELS}"; } >"$T/models.yaml"
M=(--topic "$MODELS")

# end_offset: the model topic's high watermark (an independent client: confluent-kafka).
end_offset() {
  "$PY" -c 'import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "rtml-test-watermark"})
print(c.get_watermark_offsets(TopicPartition(sys.argv[2], 0), timeout=10)[1]); c.close()' "$BROKERS" "$MODELS"
}

# ---- usage and config errors (exit 2) ----
expect_exit 0 "rtml model --help" -- "$RTML" model --help
expect_grep "rtml model rollback VERSION" "$T/out" "--help lists the subcommands"
expect_exit 0 "rtml model publish --help" -- "$RTML" model publish --help
expect_grep "fenced" "$T/out" "publish --help says a running trainer is fenced"
expect_exit 2 "rtml model without a subcommand" -- "$RTML" model
expect_exit 2 "an unknown subcommand" -- "$RTML" model frob "${M[@]}"
expect_exit 2 "pin without a version" -- "$RTML" model pin "${M[@]}"
expect_exit 2 "pin of something that is not a version" -- "$RTML" model pin 1x "${M[@]}"
expect_exit 2 "rollback latest (rollback needs a number)" -- "$RTML" model rollback latest "${M[@]}"
expect_exit 2 "list with both -c and --topic" -- "$RTML" model list -c "$T/models.yaml" "${M[@]}"
expect_exit 2 "list with neither -c nor --topic" -- "$RTML" model list
expect_exit 2 "publish without -c" -- "$RTML" model publish "${M[@]}"
expect_exit 2 "an unknown option" -- "$RTML" model list --frob "${M[@]}"
expect_exit 2 "-c CONFIG without models.topic" -- "$RTML" model list -c "$T/run.yaml"
expect_grep "run.yaml: models.topic is not set" "$T/err" "the message names the file and models.topic"
expect_exit 2 "publish -c CONFIG without models.topic" -- "$RTML" model publish -c "$T/run.yaml"
expect_grep "models.topic" "$T/err" "publish names models.topic"

# ---- a missing topic, an unreachable broker (exit 1) ----
expect_exit 1 "list of a topic that does not exist" -- "$RTML" model list "${M[@]}"
expect_grep "the model topic $MODELS does not exist \(it is created by \`rtml run\` with models.topic\)" "$T/err" \
  "the message says the topic is missing and who creates it"
expect_exit 1 "pin latest on a topic that does not exist" -- "$RTML" model pin latest -c "$T/models.yaml"
expect_exit 1 "the look-ups did not create the topic" -- "$RTML" topics describe "$MODELS"
start=$(date +%s)
expect_exit 1 "list against a broker that is not there" -- "$RTML" model list --brokers 127.0.0.1:1 "${M[@]}"
took=$(($(date +%s) - start))
((took <= 25)) && pass "it gives up within ~15 s (took $took s)" || fail "unreachable broker: took $took s"
expect_grep "no broker answered within 15 s" "$T/err" "the message says no broker answered"

# ---- publish ----
expect_exit 1 "publish of a file that is not a checkpoint" -- \
  "$RTML" model publish -c "$T/models.yaml" --checkpoint "$T/run.yaml"
expect_grep "is not a valid checkpoint" "$T/err" "the file is refused with the reason"
{ printf 'kafka:\n  bootstrap.servers: %s\n' "$BROKERS"
  sea_pipeline "$IN" "$OUT" '{engine: native, type: linear, optimizer: {name: sgd, learning_rate: 0.05}}'
  printf 'state: {dir: %s/state}\nmodels: {topic: %s}\n' "$T" "$MODELS"; } >"$T/linear.yaml"
expect_exit 1 "publish of another model's checkpoint" -- "$RTML" model publish -c "$T/linear.yaml"
expect_grep "holds a native/logistic model, .*linear.yaml makes native/linear" "$T/err" "the engine mismatch is named"
expect_exit 0 "publish (the topic is created)" -- "$RTML" model publish -c "$T/models.yaml"
expect_grep "as model version 1 of $MODELS" "$T/out" "the first version is 1"
expect_exit 0 "publish again, the checkpoint named" -- "$RTML" model publish -c "$T/models.yaml" --checkpoint "$CKPT"
expect_grep "as model version 2 of $MODELS" "$T/out" "the second version is 2"
"$RTML" topics describe "$MODELS" >"$T/describe.txt"
expect_grep "partitions=1 " "$T/describe.txt" "the model topic has one partition"
expect_grep "config cleanup.policy=compact" "$T/describe.txt" "the model topic is compacted"
expect_grep "config max.message.bytes=67108864" "$T/describe.txt" "the model topic takes 64 MiB records"

# ---- list, show ----
expect_exit 0 "list (table)" -- "$RTML" model list -c "$T/models.yaml"
expect_eq "$(grep -cE '^ +[0-9]+ ' "$T/out")" 2 "the table has two versions"
expect_grep "^ +2 .* latest$" "$T/out" "version 2 is marked latest"
grep -E '^ +1 ' "$T/out" | grep -q latest && fail "version 1 is marked latest" || pass "version 1 is not latest"
expect_grep "accuracy=" "$T/out" "the table shows the accuracy"
expect_exit 0 "list --json" -- "$RTML" model list "${M[@]}" --json
cp "$T/out" "$T/list.jsonl"
"$PY" - "$T/list.jsonl" "$T/report.json" "$(stat -c %s "$CKPT")" <<'PY' || fail "list --json"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
report = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
assert [r["version"] for r in rows] == [1, 2], rows
assert [r["latest"] for r in rows] == [False, True] and not any(r["pinned"] for r in rows), rows
for r in rows:
    assert r["parent"] == 0 and r["engine"] == "native/logistic", r
    assert r["learned"] == report["model_learned"] == 200 and r["records"] == 200, r
    assert r["image_bytes"] == int(sys.argv[3]), (r["image_bytes"], sys.argv[3])
    assert r["metrics"]["accuracy"] == report["metrics"]["accuracy"], (r["metrics"], report["metrics"])
    assert ":" in r["origin"] and r["created"] > 1.7e9, r
print("ok: list --json: versions 1 and 2, 2 latest, the checkpoint's size, learned count and metrics")
PY
expect_exit 0 "show 1" -- "$RTML" model show 1 "${M[@]}"
expect_eq "$(json_get "$T/out" 'r["version"], r["latest"], r["pinned"]')" "(1, False, False)" "show 1: version 1, not latest, not pinned"
expect_exit 0 "show latest" -- "$RTML" model show latest -c "$T/models.yaml"
expect_eq "$(json_get "$T/out" 'r["version"], r["latest"]')" "(2, True)" "show latest is version 2"
expect_exit 1 "show 7" -- "$RTML" model show 7 "${M[@]}"

# ---- pin, rollback ----
expect_exit 0 "pin 1" -- "$RTML" model pin 1 "${M[@]}"
expect_exit 0 "list after pin 1" -- "$RTML" model list "${M[@]}"
expect_grep "^ +1 .* pinned$" "$T/out" "version 1 is marked pinned"
expect_grep "^ +2 .* latest$" "$T/out" "version 2 is still latest"
expect_exit 0 "pin latest" -- "$RTML" model pin latest "${M[@]}"
expect_exit 0 "list --json after pin latest" -- "$RTML" model list "${M[@]}" --json
expect_eq "$(grep -c '"pinned":true' "$T/out" || true)" 0 "nothing is pinned after pin latest"
before=$(end_offset)
expect_exit 1 "pin 99 (not in the topic)" -- "$RTML" model pin 99 "${M[@]}"
expect_grep "version 99 is not in the model topic $MODELS" "$T/err" "the message names the version and topic"
expect_exit 1 "rollback 99 (not in the topic)" -- "$RTML" model rollback 99 -c "$T/models.yaml"
expect_eq "$(end_offset)" "$before" "nothing was written by the refused pin and rollback"
expect_exit 0 "rollback 1" -- "$RTML" model rollback 1 -c "$T/models.yaml"
expect_exit 0 "show 1 after rollback" -- "$RTML" model show 1 "${M[@]}"
expect_eq "$(json_get "$T/out" 'r["pinned"], r["rollback"]')" "(True, True)" "show 1: pinned, rollback"
"$PY" "$LIB/read_topic.py" "$BROKERS" "$MODELS" --isolation read_committed >"$T/raw.jsonl"
"$PY" - "$T/raw.jsonl" <<'PY' || fail "the policy records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r["key"] for r in recs if r["key"].startswith("version/")] == \
    ["version/00000000000000000001", "version/00000000000000000002"], recs
policies = [json.loads(r["value"]) for r in recs if r["key"] == "policy"]
assert [(p["pinned"], p["rollback"]) for p in policies] == [(1, False), (None, False), (1, True)], policies
assert all(":" in p["by"] and p["at"] > 1.7e9 for p in policies), policies
assert all(r["value"].startswith("RTMLMV1\n") for r in recs if r["key"].startswith("version/")), "magic"
print("ok: the topic holds versions 1, 2 and the policy records pin 1, follow, rollback to 1 (read independently)")
PY
expect_exit 0 "unpin" -- "$RTML" model unpin "${M[@]}"
expect_exit 0 "list --json after unpin" -- "$RTML" model list "${M[@]}" --json
expect_eq "$(grep -c '"pinned":true' "$T/out" || true)" 0 "nothing is pinned after unpin"
expect_exit 0 "a third publish after the policies" -- "$RTML" model publish -c "$T/models.yaml"
expect_grep "as model version 3 of $MODELS" "$T/out" "versions keep counting"

# ---- records that are not ours: skipped with a warning, the listing goes on ----
printf '%s\n' '{"k":"version/00000000000000000009","v":1}' '{"k":"junk","v":2}' |
  "$RTML" produce --topic "$MODELS" --key-field /k >/dev/null
expect_exit 0 "list with foreign records in the topic" -- "$RTML" model list "${M[@]}" --json
expect_eq "$(wc -l <"$T/out")" 3 "the three versions are listed"
expect_grep "offset [0-9]+ is skipped: not a model version" "$T/err" "a foreign value under a version key is skipped"
expect_grep "offset [0-9]+ is skipped: a key that is neither" "$T/err" "a foreign key is skipped"

for t in "$IN" "$OUT" "$MODELS"; do "$RTML" topics delete "$t" >/dev/null; done
echo "model_cli: all checks passed"
