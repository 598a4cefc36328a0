#!/usr/bin/env python3
"""PyTorch interoperability data for mlp's tests, and the checks on the
PyTorch side. Run from the repository root after building mlp:

    python3 -m venv /tmp/pt && /tmp/pt/bin/pip install torch==2.15.0 safetensors==0.8.0 numpy
    cargo build --release -p mlp-cli
    /tmp/pt/bin/python crates/mlp-cli/tests/data/interop/pytorch_interop.py target/release/mlp

It writes, in this folder:
- data.csv: 16 rows, inputs x0..x2, targets y0, y1 (seeded NumPy);
- mlp_init.safetensors: a 3-8-8-2 model made by `mlp init` (identity, tanh, gelu; f64);
- torch_on_mlp_predictions.csv: PyTorch's outputs of that model, loaded with
  load_state_dict(strict=True) into the matching nn.Sequential;
- torch_gradient.safetensors: the gradient of the sum of squared errors over
  the rows, by autograd, at that model's parameters (keys as the state_dict);
- torch_model.safetensors: an nn.Sequential's state_dict saved by PyTorch
  (safetensors.torch.save_file), and torch_model_predictions.csv, its outputs.
It also checks that `mlp predict` and `mlp gradient` agree with PyTorch
(printing the largest differences) and fails if they do not.
"""

import csv
import os
import subprocess
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
MLP = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "mlp"
torch.set_default_dtype(torch.float64)


def path(name):
    return os.path.join(HERE, name)


def sequential():
    # Activations identity, tanh, gelu: Linear, Tanh, Linear, GELU, Linear.
    return torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.GELU(), torch.nn.Linear(8, 2)
    )


def write_csv(name, header, rows):
    with open(path(name), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows([[repr(float(v)) for v in row] for row in rows])


def read_csv(name):
    with open(name) as f:
        return np.array([[float(v) for v in row] for row in list(csv.reader(f))[1:]])


rng = np.random.default_rng(7)
x = rng.normal(size=(16, 3))
y = rng.normal(size=(16, 2))
write_csv("data.csv", ["x0", "x1", "x2", "y0", "y1"], np.hstack([x, y]))

# A model written by mlp loads strictly into the matching Sequential.
subprocess.run([MLP, "init", "--widths", "3,8,8,2", "--activations", "identity,tanh,gelu", "--seed", "5",
                "--dtype", "f64", "--out", path("mlp_init.safetensors")], check=True)
seq = sequential()
seq.load_state_dict(load_file(path("mlp_init.safetensors")), strict=True)
xt = torch.tensor(x)
out = seq(xt)
write_csv("torch_on_mlp_predictions.csv", ["y0", "y1"], out.detach().numpy())
loss = ((out - torch.tensor(y)) ** 2).sum()
loss.backward()
save_file({k: p.grad.contiguous() for k, p in seq.named_parameters()}, path("torch_gradient.safetensors"))

# A state_dict saved by PyTorch, for mlp to load.
torch.manual_seed(3)
theirs = sequential()
save_file(theirs.state_dict(), path("torch_model.safetensors"))
write_csv("torch_model_predictions.csv", ["y0", "y1"], theirs(xt).detach().numpy())

# mlp's side, through the binary.
mlp_out = subprocess.run([MLP, "predict", path("mlp_init.safetensors"), path("data.csv")], check=True,
                         capture_output=True, text=True).stdout
pred = np.array([[float(v) for v in line.split(",")] for line in mlp_out.strip().splitlines()[1:]])
d_pred = np.abs(pred - out.detach().numpy()).max()
subprocess.run([MLP, "gradient", path("mlp_init.safetensors"), path("data.csv"), "--target", "y0,y1",
                "--loss", "sse", "--out", "/tmp/mlp_gradient.safetensors"], check=True)
ours = load_file("/tmp/mlp_gradient.safetensors")
rel = max(float((ours[k] - p.grad).abs().max() / p.grad.abs().max()) for k, p in seq.named_parameters())
print(f"mlp predict vs PyTorch: max abs difference {d_pred:.3e}")
print(f"mlp gradient vs autograd: max relative difference {rel:.3e}")
assert d_pred <= 1e-12 and rel <= 1e-10, "mlp and PyTorch disagree"
print("ok")
