# tests/parity/softmax.sh — rtml's native softmax regression against River's SoftmaxRegression (with the
# classes known up front and a bias feature: see peers.py) on scikit-learn's iris and wine.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/parity/lib/parity.sh"

dataset iris
dataset wine

parity softmax/iris softmax "$T/iris.jsonl" --lr 0.05 --classes 3
parity softmax/wine softmax "$T/wine.jsonl" --lr 0.05 --classes 3
parity_done
