#!/usr/bin/env bash
# scripts/chaos.sh — the long randomized fault campaign (issue 18; docs/delivery.md).
#
#   scripts/chaos.sh --hours N [--first-seed S] [--cluster-every K] [--stop-on-failure] [--keep]
#   scripts/chaos.sh --seed S [--cluster]      replay one schedule (a failing one prints its seed)
#
# Builds rtml (set-up included), then runs tests/chaos/campaign.py: seeds from S (default 1000) on, one schedule
# after another until N hours have passed, every K-th (default 5) on the 3-broker cluster. Each prints one line;
# the last line gives the counts (schedules, faults by kind, restarts, rebalances, records checked, violations).
# The whole output goes to stdout and to .run/chaos-<date>.log. Exit 0 when no schedule found a violation.
# A failing schedule keeps its work dir (rtml's logs, stacks, the broker's log from its start). Ctrl-C (or
# SIGTERM to campaign.py) stops it with the counts so far and its brokers wiped (exit 130).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ $# -eq 0 ] || [ "$1" == --help ] || [ "$1" == -h ]; then sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
make -s build >/dev/null
mkdir -p .run
log=.run/chaos-$(date +%Y%m%d-%H%M%S).log
echo "campaign log: $log" >&2
RTML_BIN=${RTML_BIN:-$ROOT/build/rtml} .venv/bin/python tests/chaos/campaign.py "$@" 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
