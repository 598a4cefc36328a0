#!/usr/bin/env python3
"""Side-by-side timings of mlp against PyTorch, JAX and FANN on the workloads
of bench/workloads.json (issue 5), alternating the implementations in one run.

    sudo apt-get install libfann-dev                 # the FANN side (T, I(a))
    python3 -m venv /tmp/bench && /tmp/bench/bin/pip install -r bench/requirements.txt
    cargo build --release -p mlp-bench
    /tmp/bench/bin/python bench/compare.py [--rounds 3] [--repeats 3] [--only T,M,W,Ia,Ib,peak,memory,products]

Every measurement runs in its own process, pinned to the first `threads`
CPUs (so "1 thread" means one core for every side), with the side's own
thread settings: mlp's `threads` argument, torch.set_num_threads, XLA's
intra-op pool. For each workload the sides are run in turn, round after
round, and the medians of all runs are compared. The table goes to stdout,
bench/results.md and, after a run of every workload, into docs/PERFORMANCE.md
between its two `compare.py` markers (the analysis around them is written by
hand). Both files are replaced whole, through a temporary file, so an
interrupted run leaves the old ones intact.

T shares its initial parameters (mlp-bench writes them) and checks that the
first five losses agree; M and W use each side's own random data and
initialisation, which does not change the work done.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SPECS = json.load(open(os.path.join(ROOT, "bench", "workloads.json")))
MLP = os.path.join(ROOT, "target", "release", "mlp-bench")
ALL = "peak,T,M,W,Ia,Ib,memory,products"


# ---------------------------------------------------------------- worker side
# `compare.py --worker SIDE WORKLOAD THREADS REPEATS [DTYPE INIT]` prints
# {"values": [...]} and exits. Imports happen here, after the environment
# (thread counts) was set by the parent.

def torch_net(torch, widths, act, dtype, params=None):
    layers = []
    for k in range(len(widths) - 1):
        lin = torch.nn.Linear(widths[k], widths[k + 1]).to(dtype)
        if params is not None:
            with torch.no_grad():
                lin.weight.copy_(torch.tensor(params[k][0]))
                lin.bias.copy_(torch.tensor(params[k][1]))
        if k > 0:
            layers.append({"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[act]())
        layers.append(lin)
    return torch.nn.Sequential(*layers)


def load_params(path, np_dtype):
    from safetensors.numpy import load_file
    t = load_file(path)
    layers = sorted({int(k.split(".")[0]) for k in t})
    return [(t[f"{i}.weight"].astype(np_dtype), t[f"{i}.bias"].astype(np_dtype)) for i in layers]


def worker_torch(name, threads, repeats, dtype_name, init):
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    s = SPECS[name]
    dtype = {"f32": torch.float32, "f64": torch.float64}[dtype_name or "f32"]
    values, extra = [], {}
    if name == "T":
        np_dtype = np.float64 if dtype_name == "f64" else np.float32
        x = np.linspace(s["low"], s["high"], s["points"]).astype(np_dtype)[:, None]
        xt, yt = torch.tensor(x), torch.tensor(np.sin(x))
        params = load_params(init, np_dtype)
        for _ in range(repeats):
            net = torch_net(torch, s["widths"], s["activation"], dtype, params)
            opt = torch.optim.SGD(net.parameters(), lr=s["learning_rate"])
            losses, t = [], time.perf_counter()
            for _ in range(s["steps"]):
                opt.zero_grad()
                loss = ((net(xt) - yt) ** 2).sum()
                loss.backward()
                opt.step()
                if len(losses) < 5:
                    losses.append(float(loss))
            values.append(s["steps"] / (time.perf_counter() - t))
        extra["first_losses"] = losses
    elif name == "M":
        x = torch.rand(s["samples"], s["widths"][0])
        y = torch.randint(0, s["widths"][-1], (s["samples"],))
        for _ in range(repeats):
            net = torch_net(torch, s["widths"], s["activation"], dtype)
            opt = torch.optim.SGD(net.parameters(), lr=s["learning_rate"], momentum=s["momentum"])
            lossf = torch.nn.CrossEntropyLoss()
            t = time.perf_counter()
            order = torch.randperm(s["samples"])
            for b in range(0, s["samples"], s["batch"]):
                idx = order[b:b + s["batch"]]
                opt.zero_grad()
                lossf(net(x[idx]), y[idx]).backward()
                opt.step()
            values.append(s["samples"] / (time.perf_counter() - t))
    elif name == "W":
        x = torch.rand(s["batch"], s["widths"][0])
        y = torch.rand(s["batch"], s["widths"][-1])
        flops = 6 * sum(a * b for a, b in zip(s["widths"], s["widths"][1:])) * s["batch"] * s["steps"]
        for _ in range(repeats):
            net = torch_net(torch, s["widths"], s["activation"], dtype)
            opt = torch.optim.SGD(net.parameters(), lr=s["learning_rate"])
            t = time.perf_counter()
            for _ in range(s["steps"]):
                opt.zero_grad()
                torch.nn.functional.mse_loss(net(x), y).backward()
                opt.step()
            values.append(flops / (time.perf_counter() - t) / 1e9)
    elif name == "Ia":
        net = torch_net(torch, s["widths"], s["activation"], dtype)
        samples = torch.rand(64, 1, s["widths"][0])
        calls = s["calls"] // 10  # PyTorch is slow enough that a tenth is plenty
        with torch.no_grad():
            for _ in range(repeats):
                t = time.perf_counter()
                for c in range(calls):
                    net(samples[c % 64])
                values.append((time.perf_counter() - t) / calls * 1e9)
    elif name == "Ib":
        net = torch_net(torch, s["widths"], s["activation"], dtype)
        x = torch.rand(s["batch"], s["widths"][0])
        with torch.no_grad():
            net(x)
            for _ in range(repeats):
                t = time.perf_counter()
                for _ in range(s["batches"]):
                    net(x)
                values.append(s["batch"] * s["batches"] / (time.perf_counter() - t))
    return values, extra


def worker_jax(name, threads, repeats, dtype_name, init):
    import jax
    import jax.numpy as jnp
    import numpy as np
    jax.config.update("jax_enable_x64", True)
    s = SPECS[name]
    dtype = jnp.float64 if dtype_name == "f64" else jnp.float32
    act = {"tanh": jnp.tanh, "relu": jax.nn.relu}[s["activation"]]
    key = jax.random.PRNGKey(0)

    def init_params(widths):
        ps = []
        for a, b in zip(widths, widths[1:]):
            w = np.random.default_rng(a * 7 + b).uniform(-1, 1, (b, a)) / np.sqrt(a)
            ps.append((jnp.asarray(w, dtype), jnp.zeros(b, dtype)))
        return ps

    def forward(ps, h):
        for k, (w, b) in enumerate(ps):
            if k > 0:
                h = act(h)
            h = h @ w.T + b
        return h

    values, extra = [], {}
    if name == "T":
        np_dtype = np.float64 if dtype_name == "f64" else np.float32
        x = np.linspace(s["low"], s["high"], s["points"]).astype(np_dtype)[:, None]
        x, y = jnp.asarray(x), jnp.asarray(np.sin(x))
        lr = s["learning_rate"]

        @jax.jit
        def step(ps):
            loss, g = jax.value_and_grad(lambda q: jnp.sum((forward(q, x) - y) ** 2))(ps)
            return [(w - lr * gw, b - lr * gb) for (w, b), (gw, gb) in zip(ps, g)], loss

        start = [(jnp.asarray(w), jnp.asarray(b)) for w, b in load_params(init, np_dtype)]
        step(start)[1].block_until_ready()
        for _ in range(repeats):
            ps, losses, t = start, [], time.perf_counter()
            for _ in range(s["steps"]):
                ps, loss = step(ps)
                if len(losses) < 5:
                    losses.append(float(loss))
            jax.block_until_ready(ps)
            values.append(s["steps"] / (time.perf_counter() - t))
        extra["first_losses"] = losses
    elif name == "M":
        x = jax.random.uniform(key, (s["samples"], s["widths"][0]), dtype)
        y = jax.random.randint(key, (s["samples"],), 0, s["widths"][-1])
        lr, mu = s["learning_rate"], s["momentum"]

        @jax.jit
        def step(ps, mom, x, y, idx):  # data as arguments: a closure would be compiled in
            def lossf(q):
                logits = forward(q, x[idx])
                return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[idx][:, None], 1))
            g = jax.grad(lossf)(ps)
            mom = jax.tree_util.tree_map(lambda m, gi: mu * m + gi, mom, g)
            return jax.tree_util.tree_map(lambda p, m: p - lr * m, ps, mom), mom

        n, bsz = s["samples"], s["batch"]
        for r in range(repeats):
            ps = init_params(s["widths"])
            mom = jax.tree_util.tree_map(jnp.zeros_like, ps)
            order = np.random.default_rng(r).permutation(n)
            batches = [jnp.asarray(order[b:b + bsz]) for b in range(0, n, bsz)]
            step(ps, mom, x, y, batches[0])  # compile both batch sizes outside the timing
            step(ps, mom, x, y, batches[-1])
            t = time.perf_counter()
            for idx in batches:
                ps, mom = step(ps, mom, x, y, idx)
            jax.block_until_ready(ps)
            values.append(n / (time.perf_counter() - t))
    elif name == "W":
        x = jax.random.uniform(key, (s["batch"], s["widths"][0]), dtype)
        y = jax.random.uniform(key, (s["batch"], s["widths"][-1]), dtype)
        lr = s["learning_rate"]
        flops = 6 * sum(a * b for a, b in zip(s["widths"], s["widths"][1:])) * s["batch"] * s["steps"]

        @jax.jit
        def step(ps):
            g = jax.grad(lambda q: jnp.mean((forward(q, x) - y) ** 2))(ps)
            return jax.tree_util.tree_map(lambda p, gi: p - lr * gi, ps, g)

        start = init_params(s["widths"])
        jax.block_until_ready(step(start))
        for _ in range(repeats):
            ps, t = start, time.perf_counter()
            for _ in range(s["steps"]):
                ps = step(ps)
            jax.block_until_ready(ps)
            values.append(flops / (time.perf_counter() - t) / 1e9)
    elif name in ("Ia", "Ib"):
        ps = init_params(s["widths"])
        f = jax.jit(forward)
        if name == "Ia":
            samples = [jnp.asarray(np.random.default_rng(k).uniform(size=(1, s["widths"][0])), dtype) for k in range(64)]
            f(ps, samples[0]).block_until_ready()
            calls = s["calls"] // 10
            for _ in range(repeats):
                t = time.perf_counter()
                for c in range(calls):
                    f(ps, samples[c % 64]).block_until_ready()
                values.append((time.perf_counter() - t) / calls * 1e9)
        else:
            x = jax.random.uniform(key, (s["batch"], s["widths"][0]), dtype)
            f(ps, x).block_until_ready()
            for _ in range(repeats):
                t = time.perf_counter()
                for _ in range(s["batches"]):
                    out = f(ps, x)
                out.block_until_ready()
                values.append(s["batch"] * s["batches"] / (time.perf_counter() - t))
    return values, extra


def worker_main(argv):
    side, name, threads, repeats = argv[0], argv[1], int(argv[2]), int(argv[3])
    dtype_name = argv[4] if len(argv) > 4 else None
    init = argv[5] if len(argv) > 5 else None
    fn = {"torch": worker_torch, "jax": worker_jax}[side]
    values, extra = fn(name, threads, repeats, dtype_name, init)
    print(json.dumps({"values": values, **extra}))


# ---------------------------------------------------------------- parent side

def pinned(threads):
    cpus = sorted(os.sched_getaffinity(0))[:threads]
    return lambda: os.sched_setaffinity(0, cpus)


def run_json(cmd, threads, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, preexec_fn=pinned(threads), env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def python_side(side, name, threads, repeats, dtype=None, init=None):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    multi = "true" if threads > 1 else "false"
    env["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={multi} intra_op_parallelism_threads={threads}"
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", side, name, str(threads), str(repeats)]
    cmd += [a for a in (dtype, init) if a is not None]
    return run_json(cmd, threads, env)


def mlp_side(name, threads, repeats, dtype=None, init=None):
    if name == "T":
        r = run_json([MLP, "T", dtype, init, str(repeats)], 1)
        return {"values": r["steps_per_second"], "first_losses": r["first_losses"]}
    if name == "Ia":
        return {"values": run_json([MLP, "Ia", str(repeats)], 1)["ns_per_call"]}
    r = run_json([MLP, name, str(threads), str(repeats)], threads)
    key = {"M": "samples_per_second", "W": "gflops", "Ib": "samples_per_second"}[name]
    return {"values": r[key]}


def fann_side(name, repeats, binary):
    s = SPECS[name]
    count = s["calls"] if name == "Ia" else 200
    return run_json([binary, name, str(count), str(repeats)], 1)


def build_fann(tmp):
    exe = os.path.join(tmp, "fann_bench")
    src = os.path.join(ROOT, "bench", "fann_bench.c")
    try:
        subprocess.run(["gcc", "-O2", "-o", exe, src, "-lfloatfann", "-lm"], check=True, capture_output=True)
        return exe
    except (subprocess.CalledProcessError, FileNotFoundError):
        print("FANN not available (install libfann-dev): its columns are skipped", file=sys.stderr)
        return None


def product_flops(name, rows):
    """FLOPs of the matrix products `mlp` computes for `rows` rows of a
    workload: forward and weight gradient of every layer, input gradient
    below the first (what `mlp-bench products` times)."""
    w = SPECS[name]["widths"]
    macs = sum(a * b for a, b in zip(w, w[1:]))
    if name != "Ib":
        macs += macs + sum(a * b for a, b in zip(w[1:], w[2:]))
    return 2 * macs * rows


def products_table(whole):
    """Each workload's products alone (operands hot in cache) against the
    whole workload counted at the same FLOPs: the rest is what the products
    do not explain."""
    alone = {th: run_json([MLP, "products", str(th), "7"], th) for th in (1, 2)}
    w = SPECS["W"]["widths"]
    weights = sum(a * b for a, b in zip(w, w[1:]))
    # Product GFLOP/s per unit of each workload's own metric (W's metric is
    # already GFLOP/s, but counts 6 x weights per row where `mlp` computes fewer).
    scale = {"T": product_flops("T", SPECS["T"]["points"]) / 1e9, "M": product_flops("M", 1) / 1e9,
             "Ib": product_flops("Ib", 1) / 1e9, "W": product_flops("W", 1) / (6 * weights)}
    lines = ["| workload (1 thread unless noted) | its products alone, hot (GFLOP/s) | whole workload, same FLOPs (GFLOP/s) | whole / products |",
             "|---|---|---|---|"]
    for key, label in (("T_f64", "T f64"), ("T_f32", "T f32"), ("M", "M"), ("W", "W"), ("W_threads", "W, 2 threads"), ("Ib", "I(b)")):
        if key not in whole:
            continue
        prod = alone[2]["W_threads"] if key == "W_threads" else alone[1][key]
        rate = whole[key] * scale[key.split("_")[0]]
        lines.append(f"| {label} | {prod:.1f} | {rate:.1f} | {100 * rate / prod:.0f}% |")
    return lines + [""]


def measure(label, sides, rounds):
    """Runs each side's closure `rounds` times in turn; returns medians and extras."""
    values = {k: [] for k in sides}
    extras = {}
    for _ in range(rounds):
        for k, fn in sides.items():
            r = fn()
            values[k] += r["values"]
            extras[k] = r
    med = {k: statistics.median(v) for k, v in values.items()}
    print(f"{label}: " + ", ".join(f"{k} {v:.4g}" for k, v in med.items()), file=sys.stderr)
    return med, extras


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default=ALL)
    ap.add_argument("--worker", nargs="+")
    args = ap.parse_args()
    if args.worker:
        return worker_main(args.worker)
    only = args.only.split(",")
    rounds, reps = args.rounds, args.repeats
    lines = []
    peak = {}
    whole = {}  # mlp's medians, for the products table
    with tempfile.TemporaryDirectory() as tmp:
        fann = build_fann(tmp)
        if "peak" in only or "W" in only:
            tile = []
            for th in (1, 2):
                # A peak is the best the machine does: the maximum of several
                # runs, not the median (a noisy neighbour only ever lowers it).
                r = run_json([MLP, "peak", str(th), "7"], th)
                peak[th] = max(r["gflops"])
                tile.append(r["tile_gflops"])
            lines += ["| f32 FMA (GFLOP/s, best of 7) | 1 thread | 2 threads |", "|---|---|---|",
                      f"| peak: 12 independent FMA chains in registers | {peak[1]:.1f} | {peak[2]:.1f} |",
                      f"| a GEMM's {r['tile']} register tile on L1-resident panels (1 thread) | {max(tile):.1f} "
                      f"({100 * max(tile) / peak[1]:.0f}% of peak) | |", ""]
        if "T" in only:
            lines += ["| T (steps/s) | mlp | PyTorch | JAX | FANN | mlp / PyTorch | mlp / JAX | first 5 losses agree to |",
                      "|---|---|---|---|---|---|---|---|"]
            for dt in ("f64", "f32"):
                init = os.path.join(tmp, f"t_{dt}.safetensors")
                mlp_side("T", 1, 1, dt, init)  # writes the shared initial parameters
                sides = {"mlp": lambda: mlp_side("T", 1, reps, dt, init),
                         "PyTorch": lambda: python_side("torch", "T", 1, reps, dt, init),
                         "JAX": lambda: python_side("jax", "T", 1, reps, dt, init)}
                if fann and dt == "f32":
                    sides["FANN"] = lambda: fann_side("T", reps, fann)
                med, ex = measure(f"T {dt}", sides, rounds)
                whole[f"T_{dt}"] = med["mlp"]
                first = ex["mlp"]["first_losses"]
                agree = max(abs(a - b) / abs(b) for k in ("PyTorch", "JAX") for a, b in zip(first, ex[k]["first_losses"]))
                f = f"{med['FANN']:.0f}" if "FANN" in med else "n/a"
                lines.append(f"| {dt} | {med['mlp']:.0f} | {med['PyTorch']:.0f} | {med['JAX']:.0f} | {f} | "
                             f"{med['mlp'] / med['PyTorch']:.2f}x | {med['mlp'] / med['JAX']:.2f}x | {agree:.1e} |")
            lines.append("")
        for name, unit, higher in (("M", "samples/s", True), ("W", "GFLOP/s", True), ("Ib", "samples/s", True)):
            if name not in only:
                continue
            head = f"| {name} ({unit}) | mlp | PyTorch | JAX | mlp / PyTorch | mlp / JAX |"
            if name == "W":
                head += " mlp / best FMA peak | FMA peak in W's rounds (median) | mlp / that peak |"
            lines += [head, "|---" * (head.count("|") - 1) + "|"]
            for th in (1, 2):
                sides = {"mlp": lambda: mlp_side(name, th, reps),
                         "PyTorch": lambda: python_side("torch", name, th, reps),
                         "JAX": lambda: python_side("jax", name, th, reps)}
                if name == "W":
                    # The peak again, as one more side of W's rounds: the
                    # shared machine's speed drifts by 10-25% between phases,
                    # and the best of 7 at the start may come from another
                    # phase than W's runs.
                    sides["peak"] = lambda: {"values": run_json([MLP, "peak", str(th), str(reps)], th)["gflops"]}
                med, _ = measure(f"{name} {th} thread(s)", sides, rounds)
                whole[name if th == 1 else f"{name}_threads"] = med["mlp"]
                row = (f"| {th} thread{'s' if th > 1 else ''} | {med['mlp']:.4g} | {med['PyTorch']:.4g} | {med['JAX']:.4g} | "
                       f"{med['mlp'] / med['PyTorch']:.2f}x | {med['mlp'] / med['JAX']:.2f}x |")
                if name == "W":
                    row += (f" {100 * med['mlp'] / peak[th]:.0f}% | {med['peak']:.1f} |"
                            f" {100 * med['mlp'] / med['peak']:.0f}% |")
                lines.append(row)
            lines.append("")
        if "Ia" in only:
            sides = {"mlp": lambda: mlp_side("Ia", 1, reps),
                     "PyTorch": lambda: python_side("torch", "Ia", 1, reps),
                     "JAX": lambda: python_side("jax", "Ia", 1, reps)}
            if fann:
                sides["FANN"] = lambda: fann_side("Ia", reps, fann)
            med, _ = measure("Ia", sides, rounds)
            f = f"{med['FANN']:.0f}" if "FANN" in med else "n/a"
            ff = f"{med['FANN'] / med['mlp']:.1f}x" if "FANN" in med else "n/a"
            lines += ["| I(a) (ns per call, lower is better) | mlp | PyTorch | JAX | FANN | PyTorch / mlp | JAX / mlp | FANN / mlp |",
                      "|---|---|---|---|---|---|---|---|",
                      f"| 1 sample, f32 | {med['mlp']:.0f} | {med['PyTorch']:.0f} | {med['JAX']:.0f} | {f} | "
                      f"{med['PyTorch'] / med['mlp']:.1f}x | {med['JAX'] / med['mlp']:.1f}x | {ff} |", ""]
        if "memory" in only:
            r = run_json([MLP, "M-memory", "1"], 1)
            lines += ["| M through `mlp::train`, 1 epoch | data set | peak RSS | budget (data + 64 MiB) |", "|---|---|---|---|",
                      f"| bytes | {r['data_bytes'] / 2**20:.1f} MiB | {r['peak_rss_bytes'] / 2**20:.1f} MiB | "
                      f"{r['budget_bytes'] / 2**20:.1f} MiB |", ""]
        if "products" in only:
            lines += products_table(whole)
    import torch  # only for the versions in the header
    import jax
    cpu = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    flags = open("/proc/cpuinfo").read()
    isa = "AVX-512" if "avx512f" in flags else ("AVX2+FMA" if "avx2" in flags else "no AVX2")
    machine = (f"{cpu} ({isa}), {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}, "
               f"Python {platform.python_version()}, torch {torch.__version__}, jax {jax.__version__}")
    text = (f"Machine: {machine}. Medians of {rounds} rounds x {reps} runs, sides alternated; "
            f"each run in its own process pinned to as many CPUs as threads.\n\n" + "\n".join(lines))
    print(text)
    write_atomically(os.path.join(ROOT, "bench", "results.md"), text)
    if set(only) >= set(ALL.split(",")):
        into_performance_md(text)
    else:
        print("(only some workloads ran: docs/PERFORMANCE.md left as it was)", file=sys.stderr)


BEGIN = "<!-- bench/compare.py writes from here: the latest run of every workload -->"
END = "<!-- bench/compare.py writes up to here -->"


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def into_performance_md(text):
    """Replaces what lies between BEGIN and END in docs/PERFORMANCE.md."""
    path = os.path.join(ROOT, "docs", "PERFORMANCE.md")
    doc = open(path).read()
    if doc.count(BEGIN) != 1 or doc.count(END) != 1 or doc.index(BEGIN) > doc.index(END):
        sys.exit(f"{path}: expected one {BEGIN!r} line and, after it, one {END!r} line; not written")
    head, rest = doc.split(BEGIN)
    _, tail = rest.split(END)
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    write_atomically(path, f"{head}{BEGIN}\n\nRun of {stamp}. {text.rstrip()}\n\n{END}{tail}")


if __name__ == "__main__":
    main()
