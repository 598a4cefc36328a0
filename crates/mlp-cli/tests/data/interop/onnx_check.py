"""Checks `mlp export --format onnx` with the ONNX project's own tools.

For every activation, for regression (diabetes), softmax classification
(iris) and binary classification (iris, setosa or not), in f32 and f64:
train a small model with the `mlp` binary, export it, run `onnx.checker`
(full check, with shape inference) on the file, run it in ONNX Runtime on
the data set's rows, and compare with `mlp predict` on the same rows: the
largest absolute difference of the outputs or probabilities, the largest
relative one (|difference| / max(1, largest |value| of its column):
diabetes targets reach 346, where one f32 ulp is 3e-5), and whether every
label agrees. Limits on
the relative difference: 1e-5 for f32, 1e-12 for f64, except 1e-5 for f64
GELU, whose Erf ONNX Runtime only implements in float. Prints a table and
writes it to onnx_check.txt here.

Run from the repository root (numpy, onnx and onnxruntime from pip; the
versions used are printed):

    cargo build --release -p mlp-cli
    python crates/mlp-cli/tests/data/interop/onnx_check.py --mlp target/release/mlp
"""

import argparse
import csv
import gzip
import io
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))


def read_csv(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def mlp(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"mlp {' '.join(args)}: {out.stderr}")
    return out.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mlp", default=os.path.join(ROOT, "target", "release", "mlp"))
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="mlp-onnx-check-")

    iris_header, iris = read_csv(os.path.join(ROOT, "datasets", "iris.csv"))
    diabetes_header, diabetes = read_csv(os.path.join(ROOT, "datasets", "diabetes.csv.gz"))
    binary = [r[:-1] + ["yes" if r[-1] == "setosa" else "no"] for r in iris]
    files = {
        "iris": (iris_header, iris, "species", []),
        "binary": (iris_header, binary, "species", ["--loss", "binary_cross_entropy"]),
        "diabetes": (diabetes_header, diabetes, diabetes_header[-1], []),
    }
    for name, (header, rows, _, _) in files.items():
        write_csv(os.path.join(tmp, f"{name}.csv"), header, rows)

    activations = mlp(args.mlp, "list", "activations").split()
    lines = [
        f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}, "
        f"python {sys.version.split()[0]}",
        "",
        "| data | activation | dtype | checker | max abs difference | max rel difference | labels equal |",
        "|---|---|---|---|---|---|---|",
    ]
    worst = {"f32": 0.0, "f64": 0.0, "f64 gelu": 0.0}
    failures = 0
    for data, (header, rows, target, extra) in files.items():
        csv_path = os.path.join(tmp, f"{data}.csv")
        features = [c for c in header if c != target]
        x = np.array([[float(r[header.index(c)]) for c in features] for r in rows])
        for activation in activations:
            for dtype in ["f32", "f64"]:
                model = os.path.join(tmp, f"{data}-{activation}-{dtype}.safetensors")
                onnx_path = model.replace(".safetensors", ".onnx")
                mlp(args.mlp, "train", csv_path, "--target", target, "--hidden", "8,6",
                    "--activation", activation, "--input-activation", activation,
                    "--epochs", "4", "--dtype", dtype, "--val-fraction", "0", "-q",
                    "--out", model, *extra)
                mlp(args.mlp, "export", model, "--format", "onnx", "--out", onnx_path)
                checked = onnx.load(onnx_path)
                try:
                    onnx.checker.check_model(checked, full_check=True)
                    checker = "ok"
                except Exception as e:  # noqa: BLE001 - reported, then counted
                    checker = f"FAILED: {e}".replace("\n", " ")[:80]
                    failures += 1
                table = list(csv.reader(io.StringIO(mlp(args.mlp, "predict", model, csv_path))))
                predicted_header, predicted = table[0], table[1:]
                session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
                inputs = x.astype(np.float32 if dtype == "f32" else np.float64)
                outputs = session.run(None, {"input": inputs})
                if predicted_header[0] == "label":
                    want = np.array([[float(v) for v in r[1:]] for r in predicted])
                    labels_equal = all(a == b for a, b in zip(
                        [r[0] for r in predicted], [s.decode() if isinstance(s, bytes) else s
                                                    for s in outputs[1]]))
                else:
                    want = np.array([[float(v) for v in r] for r in predicted])
                    labels_equal = None
                got = outputs[0].astype(np.float64)
                diff = float(np.max(np.abs(want - got)))
                scale = np.maximum(1.0, np.max(np.abs(want), axis=0))
                rel = float(np.max(np.abs(want - got) / scale))
                key = "f64 gelu" if (dtype, activation) == ("f64", "gelu") else dtype
                worst[key] = max(worst[key], rel)
                if labels_equal is False or rel > (1e-12 if key == "f64" else 1e-5):
                    failures += 1
                lines.append(f"| {data} | {activation} | {dtype} | {checker} | {diff:.3e} | "
                             f"{rel:.3e} | {'-' if labels_equal is None else labels_equal} |")
    lines += ["", f"largest relative difference: f32 {worst['f32']:.3e} (limit 1e-5), "
                  f"f64 {worst['f64']:.3e} (limit 1e-12), f64 GELU {worst['f64 gelu']:.3e} "
                  f"(limit 1e-5); failures: {failures}"]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(HERE, "onnx_check.txt"), "w") as f:
        f.write(text)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
