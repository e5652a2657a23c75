#!/usr/bin/env bash
# The command line without a broker: --version, --help, every COMMAND --help, usage errors (exit 2),
# `rtml check` on good and bad configs (exit 2 naming file, line and key), and `rtml replay`.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
EX=$RTML_ROOT/examples
expect_exit 0 "--version" -- "$RTML" --version
expect_grep '^rtml [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" "--version names rtml's version"
expect_grep '^librdkafka 2\.' "$T/out" "--version names librdkafka's version"
expect_grep '^tensorflow: (built in \(2\.[0-9.]+\)|not built in)$' "$T/out" "--version says whether TensorFlow is built in"
expect_exit 0 "--help" -- "$RTML" --help
for c in run replay produce topics gen check; do
  expect_grep "^  $c " "$T/out" "--help lists $c"
done
for c in run replay produce topics gen check; do
  expect_exit 0 "$c --help" -- "$RTML" "$c" --help
  expect_grep "^usage: rtml $c" "$T/out" "$c --help shows its usage"
done
expect_exit 2 "no command" -- "$RTML"
expect_exit 2 "unknown command" -- "$RTML" frobnicate
expect_grep "unknown command 'frobnicate'" "$T/err" "names the unknown command"
expect_exit 2 "unknown option" -- "$RTML" replay --bogus
expect_exit 2 "run without -c" -- "$RTML" run
expect_exit 2 "run --max-records 0" -- "$RTML" run -c "$EX/quickstart.yaml" --max-records 0
expect_exit 2 "produce without --topic" -- "$RTML" produce --input /dev/null
expect_exit 2 "produce with a bad --key-field" -- "$RTML" produce --topic t --key-field id
expect_exit 2 "topics with an unknown action" -- "$RTML" topics grow t

# check
expect_exit 0 "check the quickstart config" -- "$RTML" check -c "$EX/quickstart.yaml"
expect_grep "learning_rate: 0.05" "$T/out" "check prints the resolved config"
cat >"$T/bad.yaml" <<'YAML'
kafka:
  bootstrap.servers: 127.0.0.1:9092
features:
  - {name: x1, field: /x1}
model:
  type: logistic
  learning_rate: fast
YAML
expect_exit 2 "check a config with a bad value" -- "$RTML" check -c "$T/bad.yaml"
expect_grep "^rtml check: $T/bad.yaml:7: model.learning_rate: " "$T/err" "the error names file, line and key"
printf 'kafka:\n  bootstrap.servers: x\nfeatures:\n  - {name: x1}\nmodle: {}\n' >"$T/typo.yaml"
expect_exit 2 "check a config with an unknown key" -- "$RTML" check -c "$T/typo.yaml"
expect_grep "$T/typo.yaml:5: modle: unknown key" "$T/err" "the unknown key is named with its line"
printf 'features:\n  - {name: x1}\nmodel: {engine: tensorflow}\n' >"$T/tf.yaml"
expect_exit 2 "check a tensorflow model without its section" -- "$RTML" check -c "$T/tf.yaml"
expect_grep "$T/tf.yaml:3: model.tensorflow: required with engine: tensorflow" "$T/err" "names the missing section"
printf 'features:\n  - {name: x1}\nmodel:\n  engine: tensorflow\n  tensorflow: {saved_model: %s/none}\n' "$T" >"$T/tf.yaml"
expect_exit 2 "check a tensorflow model that is not there" -- "$RTML" check -c "$T/tf.yaml"
if "$RTML" --version | grep -q '^tensorflow: built in'; then
  expect_grep "$T/none" "$T/err" "names the missing SavedModel directory"
else
  expect_grep "built without TensorFlow" "$T/err" "says this build has no TensorFlow"
fi
expect_exit 2 "check a missing file" -- "$RTML" check -c "$T/none.yaml"
expect_grep "none.yaml: cannot read" "$T/err" "names the missing file"
expect_exit 2 "run needs kafka.bootstrap.servers" -- "$RTML" run -c "$T/mlp.yaml"

# replay: a small stream with bad lines, predictions in order, report on the last line
"$RTML" gen --stream sea --n 5000 --seed 3 >"$T/sea.jsonl"
{ head -n 2000 "$T/sea.jsonl"; echo '{"id":"bad","x1":'; echo '{"id":"w","x1":"a","x2":1,"x3":1,"label":1}'; tail -n 3000 "$T/sea.jsonl"; } >"$T/mixed.jsonl"
expect_exit 0 "replay" -- "$RTML" replay -c "$EX/quickstart.yaml" --input "$T/mixed.jsonl" --output "$T/pred.jsonl"
expect_eq "$(json_get "$T/out" 'r["records"]')" 5002 "replay counts every record"
expect_eq "$(json_get "$T/out" 'r["learned"]')" 5000 "replay learns every good record"
expect_eq "$(json_get "$T/out" 'r["errors"]')" 2 "replay counts the bad ones"
expect_eq "$(json_get "$T/out" 'sorted(r["metrics"])')" "['accuracy', 'auc', 'f1', 'logloss', 'precision', 'recall', 'window_accuracy', 'window_auc', 'window_f1', 'window_logloss', 'window_precision', 'window_recall']" "binary metrics reported"
expect_eq "$(json_get "$T/out" 'r["metrics"]["accuracy"] > 0.85')" True "replay accuracy above 0.85"
expect_eq "$(wc -l <"$T/pred.jsonl")" 5000 "one prediction per good record"
expect_grep '^\{"prediction":[01],"score":[0-9.e-]+,"model_version":1,"source":\{"topic":".*mixed.jsonl","partition":0,"offset":1\}\}$' "$T/pred.jsonl" "prediction record shape"
expect_grep "mixed.jsonl:2001: rejected \(malformed\)" "$T/err" "the rejected line is named"
expect_exit 1 "replay of a missing input" -- "$RTML" replay -c "$EX/quickstart.yaml" --input "$T/none.jsonl"
# rtml's offset bookkeeping is not a user setting: `run` refuses to let the kafka section turn it off.
printf 'kafka: {bootstrap.servers: 127.0.0.1:1, enable.auto.offset.store: "true"}\ninput: {topics: [in]}\nfeatures:\n  - {name: x1}\noutput: {topic: out}\nstate: {dir: %s/state}\n' "$T" >"$T/store.yaml"
expect_exit 2 "run with enable.auto.offset.store set" -- "$RTML" run -c "$T/store.yaml"
expect_grep "kafka.enable.auto.offset.store: rtml sets it to false" "$T/err" "names the setting rtml owns"
echo "cli: all checks passed"
