#!/usr/bin/env python3
"""Writes the bundled data sets from the copies scikit-learn ships.

    python3 -m venv /tmp/sk && /tmp/sk/bin/pip install scikit-learn==1.9.1
    /tmp/sk/bin/python datasets/make_datasets.py

Each file is a CSV with a header row; the .gz files are written with a zero
timestamp so that rerunning gives the same bytes. Sources and licences are in
datasets/README.md.
"""

import csv
import gzip
import io
import os

import sklearn.datasets

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(os.path.dirname(sklearn.datasets.__file__), "data")


def write(name, header, rows, compress):
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    data = text.getvalue().encode()
    path = os.path.join(HERE, name)
    if compress:
        with open(path, "wb") as f:
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as g:
                g.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


def main():
    # Iris: 150 rows, 4 measurements (cm) and the species name.
    with open(os.path.join(SOURCE, "iris.csv")) as f:
        lines = list(csv.reader(f))
    names = lines[0][2:]
    rows = [r[:4] + [names[int(r[4])]] for r in lines[1:]]
    write("iris.csv", ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"], rows, False)

    # Digits: 1797 rows of 8x8 images, pixels 0-16, and the digit.
    with gzip.open(os.path.join(SOURCE, "digits.csv.gz"), "rt") as f:
        rows = [[str(int(float(v))) for v in r] for r in csv.reader(f)]
    write("digits.csv.gz", [f"pixel_{k}" for k in range(64)] + ["digit"], rows, True)

    # Diabetes: 442 patients, 10 baseline variables (raw, unscaled) and a
    # quantitative measure of disease progression one year later.
    with gzip.open(os.path.join(SOURCE, "diabetes_data_raw.csv.gz"), "rt") as f:
        data = [line.split() for line in f if line.strip()]
    with gzip.open(os.path.join(SOURCE, "diabetes_target.csv.gz"), "rt") as f:
        target = [repr(float(line)) for line in f if line.strip()]
    header = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "progression"]
    write("diabetes.csv.gz", header, [d + [t] for d, t in zip(data, target)], True)


if __name__ == "__main__":
    main()
