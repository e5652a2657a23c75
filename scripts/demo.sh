#!/usr/bin/env bash
# scripts/demo.sh — what `make demo` runs: the whole thing, end to end, on this machine, ending by itself.
#
#   set-up -> local Kafka broker -> topics -> 200k SEA records with an abrupt concept drift at record 100k
#   -> `rtml run` (examples/quickstart.yaml) until the stream is idle -> a summary read back from the
#   predictions topic: records, records/s, prequential accuracy before and after the drift.
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
$RTML produce --topic sea --input "$DIR/sea.jsonl" --key-field /id

say "rtml run -c examples/quickstart.yaml --exit-on-idle 3"
# A fresh consumer group and a fresh model per demo run, so a rerun starts from the beginning of the new topic
# (a checkpoint left by the last demo would resume the old model, which already learned those offsets).
rm -rf "$DIR/state"
sed -e "s/group.id: rtml-quickstart/group.id: rtml-demo-$(date +%s)/" -e "s|dir: ./state/quickstart|dir: $DIR/state|" \
  examples/quickstart.yaml >"$DIR/demo.yaml"
$RTML run -c "$DIR/demo.yaml" --exit-on-idle 3 | tee "$DIR/report.json"

say "summary (predictions read back from sea-scored)"
.venv/bin/python scripts/demo_summary.py 127.0.0.1:9092 sea-scored "$DIR/sea.jsonl" "$DIR/report.json" "$DRIFT"
