#!/usr/bin/env bash
# The short fault campaign that `make test` runs (issue 18): a fixed set of seeds, each a schedule of faults and a
# configuration drawn by tests/chaos/lib/schedule.py, run against brokers of its own by tests/chaos/campaign.py
# and judged by its independent checker. Chosen to cover, in about five minutes: both delivery modes, one
# partition with the final model compared to a crash-free run (18, 64), workers and a broker kill (12), instances
# joining and leaving with broker restarts (57), delayed labels on their own topic under six kills (22), and
# leader kills on the 3-broker cluster (23). Prints every schedule's line and the campaign's counts; fails with
# the seed and the command that replays it. The long campaign is scripts/chaos.sh --hours N.
set -euo pipefail
: "${RTML_BIN:?RTML_BIN must point at the rtml binary (ctest sets it)}"
: "${RTML_ROOT:?RTML_ROOT must point at the source tree (ctest sets it)}"
exec "$RTML_ROOT/.venv/bin/python" "$RTML_ROOT/tests/chaos/campaign.py" --seeds 18,12,57,22,64 --cluster-seeds 23 \
  --port "${RTML_CHAOS_PORT:-29400}" --cluster-port "${RTML_CHAOS_CLUSTER_PORT:-29500}"
