"""Coefficients of `erfc` in crates/mlp/src/elementary/erfc.rs.

Rerun: `python crates/mlp/tools/fit_erfc.py` (needs mpmath and numpy, both
in bench/requirements.txt's environment); its output is pasted over the
constants there. It fits, by least squares weighted for relative error on
400 Chebyshev nodes, in 50-digit arithmetic:

- `erf(z) / z` as a polynomial in `z^2` on `[0, 0.5]` (there `erfc = 1 -
  erf` loses nothing: `erf z <= 0.53`);
- `G(z) = erfc(z) exp(z^2)` on `[0.5, 2.5]`, as a polynomial in `z - 1.5`;
- `K(u) = z erfc(z) exp(z^2)`, `z = 1/u`, on `u` in `[0.03, 0.4]` (`z`
  from 2.5 to 33: from 27.3 `erfc z` is below half the smallest subnormal
  `f64`), as a polynomial in `(u - 0.215) / 0.185`. `K` tends to
  `1/sqrt(pi)` as `z` grows, where `G` tends to 0 and would lose digits.

so that `erfc z = exp(-z^2) G(z)` or `exp(-z^2) K(1/z) / z` for `z >= 0.5`.
`G` and `K` get the same number of coefficients, to be chosen lane by lane.
For each fit it prints the worst relative error when evaluated by Horner's
rule in the target precision (numpy), over 4,001 points.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 50


def nodes(lo, hi, n=400):
    return [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (k + 0.5) / n) for k in range(n)]


def fit(f, lo, hi, deg, var):
    xs = nodes(mp.mpf(lo), mp.mpf(hi))
    rows = [[var(x) ** k / f(x) for k in range(deg + 1)] for x in xs]
    c = mp.qr_solve(mp.matrix(rows), mp.matrix([1] * len(xs)))[0]
    return [c[k] for k in range(deg + 1)]


def worst(f, c, lo, hi, var, dt):
    cs = [dt(float(v)) for v in c]
    w = 0.0
    for x in np.linspace(lo, hi, 4001):
        v, r = dt(float(var(mp.mpf(x)))), dt(0)
        for k in reversed(range(len(cs))):
            r = r * v + cs[k]
        w = max(w, abs(float(mp.mpf(float(r)) / f(mp.mpf(x)) - 1)))
    return w


def small(z):
    return mp.erf(z) / z if z != 0 else 2 / mp.sqrt(mp.pi)


def g(z):
    return mp.erfc(z) * mp.exp(z * z)


def k(u):
    return mp.erfc(1 / u) * mp.exp(1 / u**2) / u


FITS = [
    ("ERF_SMALL", small, 1e-12, 0.5, lambda z: z * z),
    ("ERFC_NEAR", g, 0.5, 2.5, lambda z: z - 1.5),
    ("ERFC_FAR", k, 0.03, 0.4, lambda u: (u - mp.mpf("0.215")) / mp.mpf("0.185")),
]

for dt, rust, degrees in [(np.float64, "f64", (8, 20, 20)), (np.float32, "f32", (4, 10, 10))]:
    for (name, f, lo, hi, var), deg in zip(FITS, degrees):
        c = fit(f, lo, hi, deg, var)
        print(f"// {name} on [{lo}, {hi}]: worst relative error {worst(f, c, lo, hi, var, dt):.1e}")
        # The shortest decimal that reads back as the same value of the type.
        literals = ", ".join(str(dt(float(v))) for v in c)
        if name == "ERF_SMALL":
            print("#[allow(clippy::approx_constant)] // the first is fitted: near 2/sqrt(pi)")
        print(f"const {name}_{rust.upper()}: [{rust}; {len(c)}] = [{literals}];")
