#!/usr/bin/env python3
"""Side-by-side timings of mlp against PyTorch and JAX on the workloads of
bench/workloads.json, alternating the implementations in one run.

    python3 -m venv /tmp/bench && /tmp/bench/bin/pip install -r bench/requirements.txt
    cargo build --release -p mlp-bench
    /tmp/bench/bin/python bench/compare.py [--repeats 5]

For each workload and dtype it runs mlp (target/release/mlp-bench, which also
writes the shared initial parameters), PyTorch eager and JAX jit in turn,
`repeats` times each, and prints the medians and the ratios, plus the first
losses of each side (which must agree: the implementations start from the same
parameters). It writes the table to bench/results.md; docs/PERFORMANCE.md
quotes it with the machine described.

So far only workload T (the notes' sine fit) is implemented; the others of
issue 5 (M, W, I) and the FANN side are still to come.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

jax.config.update("jax_enable_x64", True)
torch.set_num_threads(1)


def load_params(path, dtype):
    t = load_file(path)
    layers = sorted({int(k.split(".")[0]) for k in t})
    return [(t[f"{i}.weight"].astype(dtype), t[f"{i}.bias"].astype(dtype)) for i in layers]


def t_data(spec, dtype):
    x = np.linspace(spec["low"], spec["high"], spec["points"]).astype(dtype)[:, None]
    return x, np.sin(x).astype(dtype)


def torch_t(spec, params, dtype, repeats):
    x, y = t_data(spec, dtype)
    xt, yt = torch.tensor(x), torch.tensor(y)
    rates, losses = [], []
    for _ in range(repeats):
        layers = []
        for k, (w, b) in enumerate(params):
            lin = torch.nn.Linear(w.shape[1], w.shape[0]).to(xt.dtype)
            with torch.no_grad():
                lin.weight.copy_(torch.tensor(w))
                lin.bias.copy_(torch.tensor(b))
            if k > 0:
                layers.append(torch.nn.Tanh())
            layers.append(lin)
        seq = torch.nn.Sequential(*layers)
        opt = torch.optim.SGD(seq.parameters(), lr=spec["learning_rate"])
        losses = []
        start = time.perf_counter()
        for _ in range(spec["steps"]):
            opt.zero_grad()
            loss = ((seq(xt) - yt) ** 2).sum()
            loss.backward()
            opt.step()
            if len(losses) < 5:
                losses.append(float(loss))
        rates.append(spec["steps"] / (time.perf_counter() - start))
    return rates, losses


def jax_t(spec, params, dtype, repeats):
    x, y = t_data(spec, dtype)
    x, y = jnp.asarray(x), jnp.asarray(y)

    def loss_fn(ps):
        h = x
        for k, (w, b) in enumerate(ps):
            if k > 0:
                h = jnp.tanh(h)
            h = h @ w.T + b
        return jnp.sum((h - y) ** 2)

    lr = spec["learning_rate"]

    @jax.jit
    def step(ps):
        loss, g = jax.value_and_grad(loss_fn)(ps)
        return [(w - lr * gw, b - lr * gb) for (w, b), (gw, gb) in zip(ps, g)], loss

    start_params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]
    step(start_params)[1].block_until_ready()  # compile outside the timing
    rates, losses = [], []
    for _ in range(repeats):
        ps, losses = start_params, []
        start = time.perf_counter()
        for _ in range(spec["steps"]):
            ps, loss = step(ps)
            if len(losses) < 5:
                losses.append(float(loss))
        jax.block_until_ready(ps)
        rates.append(spec["steps"] / (time.perf_counter() - start))
    return rates, losses


def mlp_t(dtype_name, init, repeats):
    exe = os.path.join(ROOT, "target", "release", "mlp-bench")
    out = subprocess.run([exe, "T", dtype_name, init, str(repeats)], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout)
    return r["steps_per_second"], r["first_losses"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    spec = json.load(open(os.path.join(ROOT, "bench", "workloads.json")))["T"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for dtype_name, dtype in [("f64", np.float64), ("f32", np.float32)]:
            init = os.path.join(tmp, f"t_{dtype_name}.safetensors")
            rates = {"mlp": [], "PyTorch": [], "JAX": []}
            first = {}
            for _ in range(args.rounds):  # alternate the sides, round after round
                r, first["mlp"] = mlp_t(dtype_name, init, args.repeats)
                rates["mlp"] += r
                params = load_params(init, dtype)
                r, first["PyTorch"] = torch_t(spec, params, dtype, args.repeats)
                rates["PyTorch"] += r
                r, first["JAX"] = jax_t(spec, params, dtype, args.repeats)
                rates["JAX"] += r
            med = {k: statistics.median(v) for k, v in rates.items()}
            agree = max(abs(a - b) / abs(b) for side in ("PyTorch", "JAX") for a, b in zip(first["mlp"], first[side]))
            rows.append((dtype_name, med, agree))
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, torch {torch.__version__}, jax {jax.__version__}"
    lines = [
        "| workload | dtype | mlp steps/s | PyTorch steps/s | JAX steps/s | mlp / PyTorch | mlp / JAX | first 5 losses agree to |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for dtype_name, med, agree in rows:
        lines.append(
            f"| T | {dtype_name} | {med['mlp']:.0f} | {med['PyTorch']:.0f} | {med['JAX']:.0f} | "
            f"{med['mlp'] / med['PyTorch']:.2f}x | {med['mlp'] / med['JAX']:.2f}x | {agree:.1e} |"
        )
    text = f"Machine: {machine}. Medians of {args.rounds} rounds x {args.repeats} runs, sides alternated.\n\n" + "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(ROOT, "bench", "results.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
