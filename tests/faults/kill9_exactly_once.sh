#!/usr/bin/env bash
# kill -9 of rtml run at random moments, delivery: exactly_once (see tests/faults/lib/kill9.sh for what is counted).
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/faults/lib/kill9.sh"
# One partition (the final model equals the crash-free one), then three (offsets of several partitions in one
# transaction, restarts that resume each partition from its own position).
kill9_scenario exactly_once 1 6
kill9_scenario exactly_once 3 5
echo "kill9_exactly_once: all checks passed"
