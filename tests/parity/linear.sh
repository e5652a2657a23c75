# tests/parity/linear.sh — rtml's native linear regression (SGD, squared loss) against River's
# StandardScaler | LinearRegression on scikit-learn's diabetes data and a Friedman #1 stream.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/parity/lib/parity.sh"

dataset diabetes
dataset friedman

parity linear/diabetes linear "$T/diabetes.jsonl" --lr 0.01
parity linear/friedman linear "$T/friedman.jsonl" --lr 0.01 --l2 0.001
parity_done
