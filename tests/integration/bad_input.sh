#!/usr/bin/env bash
# Bad records in the stream (malformed JSON, wrong types, missing fields, bad labels, not an object) are
# counted per reason and skipped with a logged reason; they never crash or stop the stream: every good record
# around them is still scored, and the offsets past them are committed.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
IN=$(uniq_name bad); OUT=$(uniq_name bad-scored); GROUP=$(uniq_name bad)
"$RTML" gen --stream sea --n 3000 --seed 5 >"$T/good.jsonl"
"$PY" - "$T/good.jsonl" >"$T/mixed.jsonl" <<'PY'
import sys
bad = ['{"id":"m1","x1":1,"x2":2', 'not json at all', '{"id":"m3","x1":1,,"x2":2,"x3":3,"label":1}',  # malformed x3
       '[1,2,3]',                                                                                # malformed: not an object
       '{"id":"w1","x1":"abc","x2":2,"x3":3,"label":1}', '{"id":"w2","x1":1,"x2":[2],"x3":3,"label":0}',  # wrong type x2
       '{"id":"f1","x2":2,"x3":3,"label":1}', '{"id":"f2","x1":null,"x2":2,"x3":3,"label":1}',       # missing x2
       '{"id":"l1","x1":1,"x2":2,"x3":3,"label":2}', '{"id":"l2","x1":1,"x2":2,"x3":3,"label":"yes"}', # bad label x2
       '\x00\x01\x02binary']                                                                     # malformed
for i, line in enumerate(open(sys.argv[1])):
    sys.stdout.write(line)
    if i % 250 == 100:
        sys.stdout.write(bad[(i // 250) % len(bad)] + "\n")
PY
nbad=$(( $(wc -l <"$T/mixed.jsonl") - 3000 ))
"$RTML" topics create "$IN" --partitions 2 >/dev/null
"$RTML" topics create "$OUT" >/dev/null
expect_exit 0 "produce the mixed stream" -- "$RTML" produce --topic "$IN" --input "$T/mixed.jsonl" --key-field /id
write_config "$T/run.yaml" "$IN" "$OUT" "$GROUP"
expect_exit 0 "rtml run over bad input exits 0" -- "$RTML" run -c "$T/run.yaml" --exit-on-idle 4
cp "$T/out" "$T/report.json"; cp "$T/err" "$T/log"
expect_eq "$(json_get "$T/report.json" 'r["records"]')" $((3000 + nbad)) "every record was seen"
expect_eq "$(json_get "$T/report.json" 'r["errors"]')" $nbad "every bad record was counted"
expect_eq "$(json_get "$T/report.json" 'r["learned"]')" 3000 "every good record was learned"
expect_eq "$(json_get "$T/report.json" 'r["errors_by_reason"].get("malformed",0)')" 6 "malformed counted"
expect_eq "$(json_get "$T/report.json" 'r["errors_by_reason"].get("wrong_type",0)')" 2 "wrong types counted"
expect_eq "$(json_get "$T/report.json" 'r["errors_by_reason"].get("missing_field",0)')" 2 "missing fields counted"
expect_eq "$(json_get "$T/report.json" 'r["errors_by_reason"].get("bad_label",0)')" 2 "bad labels counted"
expect_grep "rejected .*\(malformed\): offset [0-9]+: " "$T/log" "the log names the reason and the position"
expect_grep "rejected .*\(wrong_type\): field /x1 is not a number \(string\)" "$T/log" "the log names the field and its type"
"$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" >"$T/out.jsonl"
expect_eq "$(wc -l <"$T/out.jsonl")" 3000 "one prediction per good record"
"$PY" "$LIB/committed.py" "$BROKERS" "$GROUP" "$IN" >"$T/committed.json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(c==e for c,e in d.values()), d' "$T/committed.json" \
  && pass "offsets committed past the bad records" || fail "offsets not committed to the end: $(cat "$T/committed.json")"
for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
echo "bad_input: all checks passed"
