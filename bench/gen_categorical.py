"""gen_categorical.py - a labelled stream of 40 categorical string fields, as JSON lines on stdout.

usage: gen_categorical.py N [SEED]

Field c<i> has cardinality 5 * 40000^(i/39) (5 .. 200000 values) drawn with a skew (index = card * u^3,
so a few values are frequent and most are rare, like ids and merchants in click or fraud logs). The label
is Bernoulli(sigmoid(sum of a fixed pseudo-random effect per (field, value) - 0.5)), so the stream is
learnable by a linear model over the one-hot (or hashed) values. Deterministic for a given N and SEED.
"""
import sys

import numpy as np

FIELDS = 40


def main():
    n = int(sys.argv[1])
    rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    cols, logit = [], np.full(n, -0.5)
    for i in range(FIELDS):
        card = int(5 * 40000 ** (i / (FIELDS - 1)))
        idx = np.minimum((card * rng.random(n) ** 3).astype(np.int64), card - 1)
        effect = ((idx * 2654435761 + i * 40503) % 2001) / 1000.0 - 1.0  # in [-1, 1], fixed per value
        logit += 0.35 * effect
        cols.append([f'"c{i}":"v{v}"' for v in idx])
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    out = sys.stdout
    for r in range(n):
        out.write("{" + ",".join(c[r] for c in cols) + f',"label":{label[r]}}}\n')


if __name__ == "__main__":
    main()
