#!/usr/bin/env python3
"""Reference number for mlp's regression test: scikit-learn's MLPRegressor on
the bundled diabetes data set, under the protocol the Rust test repeats.

    python3 -m venv /tmp/sk && /tmp/sk/bin/pip install scikit-learn==1.9.1
    /tmp/sk/bin/python crates/mlp/tests/data/sklearn_regressor.py

Protocol (tests/it/benchmarks.rs follows it exactly):
- data: datasets/diabetes.csv.gz (442 rows, 10 inputs, target "progression");
- test rows: those whose 0-based index is a multiple of 5 (89); the rest train (353);
- inputs and target standardised with the training rows' mean and population
  standard deviation; R^2 is computed on the test rows (unchanged by that
  affine map of the target);
- network 10-16-1, tanh; Adam with learning rate 1e-3 and the default betas,
  mini-batches of 200 shuffled rows, at most 200 epochs; L2 alpha = 1e-4
  (scikit-learn minimises (1/2b) sum r^2 + (alpha/2b) sum w^2 per batch of b
  rows; mlp minimises twice that with mse and weight_decay = 2 alpha / 200);
  scikit-learn may stop earlier (tol 1e-4 over 10 epochs), mlp does not;
- ten initialisations (random_state 0-9); the reference is the mean test R^2.

Writes tests/data/sklearn_diabetes.json.
"""

import csv
import gzip
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))

with gzip.open(os.path.join(ROOT, "datasets", "diabetes.csv.gz"), "rt") as f:
    rows = list(csv.reader(f))[1:]
data = np.array(rows, dtype=float)
x, y = data[:, :10], data[:, 10]
test = np.arange(len(y)) % 5 == 0
train = ~test
mx, sx = x[train].mean(0), x[train].std(0)
my, sy = y[train].mean(), y[train].std()
xs, ys = (x - mx) / sx, (y - my) / sy

scores = []
for seed in range(10):
    model = MLPRegressor(
        hidden_layer_sizes=(16,),
        activation="tanh",
        solver="adam",
        learning_rate_init=1e-3,
        batch_size=200,
        alpha=1e-4,
        max_iter=200,
        random_state=seed,
    )
    model.fit(xs[train], ys[train])
    scores.append(r2_score(ys[test], model.predict(xs[test])))

result = {
    "generator": f"scikit-learn {sklearn.__version__}",
    "protocol": "see sklearn_regressor.py",
    "test_r2_per_seed": scores,
    "test_r2_mean": float(np.mean(scores)),
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sklearn_diabetes.json"), "w") as f:
    json.dump(result, f, indent=1)
    f.write("\n")
print(json.dumps(result, indent=1))
