# tests/parity/logistic.sh — rtml's native logistic regression (SGD, L2, standardized features) against
# River's StandardScaler | LogisticRegression(SGD) on drifting synthetic streams and two real datasets.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/parity/lib/parity.sh"

gen_stream sea --stream sea --n 20000 --seed 7 --drift-at 10000
gen_stream hyperplane --stream hyperplane --features 10 --n 20000 --seed 7 --drift-at 10000
dataset phishing
dataset breast_cancer

parity logistic/sea logistic "$T/sea.jsonl" --lr 0.05 --l2 0.001
parity logistic/hyperplane logistic "$T/hyperplane.jsonl" --lr 0.05
parity logistic/phishing logistic "$T/phishing.jsonl" --lr 0.1
parity logistic/breast_cancer logistic "$T/breast_cancer.jsonl" --lr 0.05 --l2 0.0001
parity_done
