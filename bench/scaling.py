#!/usr/bin/env python3
"""Data-parallel scaling of `mlp train --distributed` on this machine (issue 8),
and what a communication model predicts for more machines.

    sudo apt-get install openmpi-bin libopenmpi-dev libclang-dev
    cargo build --release -p mlp-cli --features mpi
    python3 bench/scaling.py [--rounds 3]

Needs only the Python standard library. Writes a synthetic classification
CSV (seeded), then times each configuration in turn, round after round:
one process (`--threads 1`, `--threads 2`, for reference) and `mpirun -n K`
with K = 1, 2 (fast reduction; exact for K = 2). The time is the training
time of the history's last epoch (data loading excluded), the samples per second
count every row of every epoch, and the efficiency is the K-rank rate over
K times the 1-rank rate. The table goes to stdout and bench/scaling.md.
"""

import argparse
import os
import platform
import random
import statistics
import subprocess
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MLP = os.path.join(ROOT, "target", "release", "mlp")
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]

ROWS, INPUTS, CLASSES = 20000, 256, 10
HIDDEN = ["--hidden", "256,128", "--activation", "relu"]
WORKLOADS = {
    # name: (arguments, epochs)
    "adam, batch 512": (["--solver", "adam", "--batch-size", "512"], 8),
    "gd, full batch": (["--solver", "gd"], 25),
}


def write_data(path):
    rng = random.Random(8)
    with open(path, "w") as f:
        f.write(",".join([f"x{i}" for i in range(INPUTS)] + ["label"]) + "\n")
        for _ in range(ROWS):
            x = [rng.random() for _ in range(INPUTS)]
            # A learnable label: which tenth of the first inputs' mean.
            label = min(int(sum(x[:8]) / 8 * CLASSES), CLASSES - 1)
            f.write(",".join(f"{v:.4f}" for v in x) + f",c{label}\n")


def seconds(command, history):
    """The training time of the last epoch's record in the history file."""
    subprocess.run(command + ["--history", history], capture_output=True, check=True)
    with open(history) as f:
        return float(f.read().strip().splitlines()[-1].rsplit(",", 1)[1])


# Assumed links for the model (not measured here: this machine is one host).
LINKS = {"10 Gb/s Ethernet": (1.25e9, 25e-6), "100 Gb/s InfiniBand": (12.5e9, 2e-6)}


def model(step_seconds):
    """Per step, rank k computes 1/K of the batch; the fast reduction's ring
    all-reduce moves 2 (K-1)/K x bytes per rank in 2 (K-1) messages, the
    exact reduction passes the running sum through K-1 ranks and broadcasts
    it (log2 K hops). bytes = parameters x 8 (f64 buffers)."""
    params = (INPUTS * 256 + 256) + (256 * 128 + 128) + (128 * CLASSES + CLASSES)
    size = params * 8
    out = [f"**Model for more machines** (the adam workload: {params:,} parameters, "
           f"{size / 1e6:.2f} MB per reduction; compute per step on one rank, measured above: "
           f"{step_seconds * 1e3:.2f} ms; one rank per machine; efficiency = one machine's time / (K x K machines' time))", "",
           "| link (bandwidth, latency assumed) | reduction | K = 2 | 4 | 8 | 16 | 32 |", "|---|---|---|---|---|---|---|"]
    for link, (bw, lat) in LINKS.items():
        for how in ("fast", "exact"):
            cells = []
            for k in (2, 4, 8, 16, 32):
                if how == "fast":
                    comm = 2 * (k - 1) * lat + 2 * (k - 1) / k * size / bw
                else:
                    hops = (k - 1) + (k - 1).bit_length()
                    comm = hops * (lat + size / bw)
                cells.append(f"{step_seconds / (k * (step_seconds / k + comm)):.0%}")
            out.append(f"| {link} ({bw / 1e9:g} GB/s, {lat * 1e6:g} us) | {how} | " + " | ".join(cells) + " |")
    return out + [""]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mlp-scaling-")
    data = os.path.join(tmp, "data.csv")
    write_data(data)
    out = os.path.join(tmp, "model.safetensors")
    configs = {
        "1 process, 1 thread": [],
        "1 process, 2 threads": ["--threads", "2"],
        "mpirun -n 1, fast": ["mpi", 1, "fast"],
        "mpirun -n 2, fast": ["mpi", 2, "fast"],
        "mpirun -n 2, exact": ["mpi", 2, "exact"],
    }
    lines = []
    for name, (extra, epochs) in WORKLOADS.items():
        base = [MLP, "train", data, "--target", "label", "--val-fraction", "0", *HIDDEN, *extra,
                "--epochs", str(epochs), "--chunk-rows", "128", "--seed", "1", "--out", out]
        times = {c: [] for c in configs}
        for _ in range(args.rounds):
            for c, how in configs.items():
                if how[:1] == ["mpi"]:
                    command = MPIRUN + ["-n", str(how[1]), *base, "--distributed", "--reduction", how[2]]
                else:
                    command = base + how
                times[c].append(seconds(command, os.path.join(tmp, "history.csv")))
        rate = {c: ROWS * epochs / statistics.median(t) for c, t in times.items()}
        if name.startswith("adam"):
            step_seconds = statistics.median(times["mpirun -n 1, fast"]) / (epochs * -(-ROWS // 512))
        one = rate["mpirun -n 1, fast"]
        lines += [f"**{name}** ({INPUTS}-256-128-{CLASSES} ReLU, {ROWS} rows, {epochs} epochs, chunks of 128 rows)", "",
                  "| configuration | median training time | samples/s | efficiency vs 1 rank |", "|---|---|---|---|"]
        for c in configs:
            k = 2 if "-n 2" in c else 1
            eff = f"{rate[c] / (k * one):.0%}" if c.startswith("mpirun") else "-"
            lines.append(f"| {c} | {statistics.median(times[c]):.2f} s | {rate[c]:,.0f} | {eff} |")
        lines.append("")
    lines += model(step_seconds)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mpi = subprocess.run(["mpirun", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    text = (f"Machine: {cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}, {mpi}. "
            f"Medians of {args.rounds} rounds, configurations alternated.\n\n" + "\n".join(lines))
    print(text)
    with open(os.path.join(ROOT, "bench", "scaling.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
