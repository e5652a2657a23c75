#!/usr/bin/env bash
# scripts/demo.sh — what `make demo` runs: the whole thing, end to end, on this machine, ending by itself.
#
#   set-up -> local Kafka broker -> topics -> `rtml run` (examples/quickstart.yaml, with its monitor on
#   127.0.0.1:9464: dashboard, /metrics) -> 200k SEA records with an abrupt concept drift at record 100k,
#   produced at 20k records/s -> `rtml top --once` mid-stream -> the run stops when the stream is idle -> a
#   summary read back from the predictions topic: records, records/s, accuracy before and after the drift.
# The broker is stopped at the end if this script started it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${RTML_DEMO_RECORDS:-200000}
DRIFT=$((N / 2))
DIR=.run/demo
RTML=build/rtml
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "set-up and build"
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 >/dev/null
mkdir -p "$DIR"

say "Kafka broker on 127.0.0.1:9092"
started_broker=0
if ! bash scripts/kafka.sh status >/dev/null 2>&1; then started_broker=1; fi
bash scripts/kafka.sh start
cleanup() { if ((started_broker)); then bash scripts/kafka.sh stop >/dev/null; fi; }
trap cleanup EXIT

say "topics sea (3 partitions) and sea-scored"
for t in sea sea-scored; do
  $RTML topics delete "$t" --if-exists >/dev/null
  deadline=$((SECONDS + 60))   # a deleted topic takes a moment to go: retry until it can be made again
  until $RTML topics create "$t" --partitions 3 2>"$DIR/create.err"; do
    ((SECONDS < deadline)) || { cat "$DIR/create.err"; exit 1; }
    sleep 0.5
  done
done

say "$N SEA records (Street & Kim), concept drift at record $DRIFT (threshold 8 -> 7), 10% label noise"
$RTML gen --stream sea --n "$N" --seed 1 --drift-at "$DRIFT" --output "$DIR/sea.jsonl"
head -3 "$DIR/sea.jsonl"

MONITOR=${RTML_DEMO_MONITOR:-127.0.0.1:9464}
say "rtml run -c examples/quickstart.yaml --exit-on-idle 3 (dashboard: http://$MONITOR/)"
# A fresh consumer group and a fresh model per demo run, so a rerun starts from the beginning of the new topic
# (a checkpoint left by the last demo would resume the old model, which already learned those offsets).
rm -rf "$DIR/state"
sed -e "s/group.id: rtml-quickstart/group.id: rtml-demo-$(date +%s)/" -e "s|dir: ./state/quickstart|dir: $DIR/state|" \
  examples/quickstart.yaml >"$DIR/demo.yaml"
printf 'monitor: {listen: %s}\n' "$MONITOR" >>"$DIR/demo.yaml"
$RTML run -c "$DIR/demo.yaml" --exit-on-idle 3 >"$DIR/report.json" 2>"$DIR/run.log" &
run_pid=$!
deadline=$((SECONDS + 60))   # the group assigns the partitions: then the stream can start
until curl -sf "http://$MONITOR/readyz" >/dev/null 2>&1; do
  kill -0 $run_pid 2>/dev/null || { cat "$DIR/run.log"; exit 1; }
  ((SECONDS < deadline)) || { echo "rtml run was not ready within 60 s" >&2; cat "$DIR/run.log"; exit 1; }
  sleep 0.2
done

say "streaming $N records at 20k records/s; rtml top --once on the way"
$RTML produce --topic sea --input "$DIR/sea.jsonl" --key-field /id --rate 20000 &
produce_pid=$!
deadline=$((SECONDS + 60))   # half of the stream in, then one frame
until curl -sf "http://$MONITOR/api/stats" | grep -q '"consumed":[1-9][0-9][0-9][0-9][0-9][0-9]'; do
  ((SECONDS < deadline)) && kill -0 $run_pid 2>/dev/null || break
  sleep 0.2
done
$RTML top --once --url "http://$MONITOR"
wait $produce_pid
wait $run_pid
cat "$DIR/report.json"

say "summary (predictions read back from sea-scored)"
.venv/bin/python scripts/demo_summary.py 127.0.0.1:9092 sea-scored "$DIR/sea.jsonl" "$DIR/report.json" "$DRIFT" 20000
