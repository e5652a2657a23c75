# tests/parity/adam.sh — rtml's logistic regression with the Adam optimizer against River's
# LogisticRegression(optimizer=optim.Adam) (bias as an Adam-stepped weight on both sides: see peers.py).
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/parity/lib/parity.sh"

gen_stream hyperplane --stream hyperplane --features 10 --n 20000 --seed 11 --drift-at 10000
dataset phishing
dataset breast_cancer

parity adam/hyperplane adam "$T/hyperplane.jsonl" --lr 0.01
parity adam/phishing adam "$T/phishing.jsonl" --lr 0.05
parity adam/breast_cancer adam "$T/breast_cancer.jsonl" --lr 0.01
parity_done
