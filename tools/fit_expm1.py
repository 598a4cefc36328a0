"""Coefficients of the expm1 polynomial in crates/mlp/src/elementary.rs.

expm1(r) ~ r + r^2 (c_0 + c_1 r + ... + c_{n-1} r^{n-1}) on |r| <= ln 2 / 2
(a hair wider, for rounding in the reduction): the c_i are a Chebyshev
least-squares fit of (expm1(r) - r) / r^2 in 40-digit arithmetic (mpmath's
chebyfit), then rounded to f64 or f32. Prints each set as Rust literals with
its largest relative error in expm1, over 4,001 points, before and after
rounding. Run: python tools/fit_expm1.py (needs mpmath: pip install mpmath).
"""

import struct

import mpmath as mp

mp.mp.dps = 40
HALF_LN2 = mp.log(2) / 2 * mp.mpf("1.0001")


def quotient(r):
    """(expm1(r) - r) / r^2, with its series near 0."""
    if abs(r) < mp.mpf("1e-12"):
        return mp.mpf(1) / 2 + r / 6 + r * r / 24
    return (mp.expm1(r) - r) / (r * r)


def fit(terms):
    poly = mp.chebyfit(quotient, [-HALF_LN2, HALF_LN2], terms)
    return poly[::-1]  # lowest degree first


def worst_relative_error(coefficients):
    worst = mp.mpf(0)
    points = 4000
    for i in range(points + 1):
        r = -HALF_LN2 + 2 * HALF_LN2 * i / points
        if r == 0:
            continue
        approx = r + r * r * mp.polyval(coefficients[::-1], r)
        worst = max(worst, abs(approx / mp.expm1(r) - 1))
    return worst


def to_f32(x):
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def literal(value, rounding):
    """The shortest decimal that reads back as `value` in its type."""
    if rounding is float:
        return repr(value)
    for digits in range(1, 18):
        text = f"{value:.{digits}g}"
        if to_f32(float(text)) == value:
            return text if any(c in text for c in ".e") else text + ".0"
    return repr(value)


for name, terms, rounding in (("EXPM1_F64", 10, float), ("EXPM1_F32", 6, to_f32)):
    exact = fit(terms)
    rounded = [rounding(c) for c in exact]
    print(f"// {name}: {terms} terms, relative error {mp.nstr(worst_relative_error(exact), 3)}"
          f" as fitted, {mp.nstr(worst_relative_error([mp.mpf(c) for c in rounded]), 3)} rounded")
    print(f"const {name}: [{'f64' if rounding is float else 'f32'}; {terms}] = [")
    for c in rounded:
        print(f"    {literal(c, rounding)},")
    print("];")
