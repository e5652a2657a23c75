#!/usr/bin/env bash
# kill -9 of rtml run at random moments, delivery: at_least_once (see tests/faults/lib/kill9.sh for what is counted).
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/faults/lib/kill9.sh"
# One partition: a deterministic order, so the final model must equal the one trained without crashes.
kill9_scenario at_least_once 1 6
echo "kill9_at_least_once: all checks passed"
