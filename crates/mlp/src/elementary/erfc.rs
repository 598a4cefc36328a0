//! `erfc`, branch-free, for GELU: `gelu(x) = x Φ(x)` with `Φ(x) = erfc(-x /
//! sqrt 2) / 2`.
//!
//! Method, for `a = |z|`: below 0.5, `erfc a = 1 - a P(a^2)` (there `erf a
//! <= 0.53`, so the subtraction loses nothing); from 0.5 to 2.5, `erfc a =
//! exp(-a^2) G(a)`; beyond, `erfc a = exp(-a^2) K(1/a) / a`, where `K` tends
//! to `1/sqrt(pi)` (fitting `G` itself there would lose digits as it tends
//! to 0). `G` and `K` have as many coefficients, chosen lane by lane. `a^2` is
//! split into `hi + lo` exactly (Dekker's product, no fused multiply-add), so
//! `exp(-a^2) = exp(-hi) (1 - lo)` keeps the tail's relative accuracy: the
//! tail is computed directly, never as `1 - erf`. Negative arguments use
//! `erfc(-a) = 2 - erfc a`. Every branch is computed and one selected, so a
//! loop over it vectorises. Only the `exp` inside follows `FUSED` (see
//! [`super::Elementary`]); the rest never fuses, as the split needs.
//!
//! The coefficients are least-squares fits for relative error, in 50-digit
//! arithmetic, by `crates/mlp/tools/fit_erfc.py`, whose output follows; the
//! worst relative error of each fit, evaluated in its precision, is in the
//! comment above it.

// Output of `python crates/mlp/tools/fit_erfc.py`.
// ERF_SMALL on [1e-12, 0.5]: worst relative error 1.4e-16
#[allow(clippy::approx_constant)] // the first is fitted: near 2/sqrt(pi)
const ERF_SMALL_F64: [f64; 9] = [
    1.1283791670955126,
    -0.3761263890318355,
    0.11283791670930295,
    -0.02686617063425397,
    0.005223977392381197,
    -0.0008548299281633007,
    0.00012053403038620274,
    -1.4847439261023099e-05,
    1.474111593080672e-06,
];
// ERFC_NEAR on [0.5, 2.5]: worst relative error 2.5e-16
const ERFC_NEAR_F64: [f64; 21] = [
    0.3215854164543175,
    -0.16362291773255977,
    0.0761510398554785,
    -0.03293090529958426,
    0.013377340953032916,
    -0.005145957547507357,
    0.0018861348774208686,
    -0.0006619300712284133,
    0.00022330994218189087,
    -7.265889561662085e-05,
    2.286431839433066e-05,
    -6.975079378154219e-06,
    2.0669629980856733e-06,
    -5.959016762692559e-07,
    1.6754730806715933e-07,
    -4.620096928043811e-08,
    1.234535004823856e-08,
    -3.0506775566736734e-09,
    8.037810428962751e-10,
    -2.8669344009453857e-10,
    6.677147270177972e-11,
];
// ERFC_FAR on [0.03, 0.4]: worst relative error 1.9e-16
const ERFC_FAR_F64: [f64; 21] = [
    0.5519634963543834,
    -0.019775121482491186,
    -0.006534073400370548,
    0.001391364326768545,
    3.193543866351104e-05,
    -7.793001835261262e-05,
    1.6244603273801173e-05,
    1.2576713878874075e-06,
    -1.6613216475636188e-06,
    4.139823825413624e-07,
    1.8447709479326582e-08,
    -4.926389759866336e-08,
    1.680538006212923e-08,
    -1.0531488916900845e-09,
    -1.6168609351004843e-09,
    8.795080182729927e-10,
    -1.781962621075271e-10,
    -6.79957991407557e-11,
    5.357991954234797e-11,
    -3.5187205618718877e-12,
    -3.698010747804578e-12,
];
// ERF_SMALL on [1e-12, 0.5]: worst relative error 1.2e-07
#[allow(clippy::approx_constant)] // the first is fitted: near 2/sqrt(pi)
const ERF_SMALL_F32: [f32; 5] = [1.1283792, -0.37612614, 0.112829186, -0.026762659, 0.00472814];
// ERFC_NEAR on [0.5, 2.5]: worst relative error 1.4e-07
const ERFC_NEAR_F32: [f32; 11] = [
    0.32158542,
    -0.163623,
    0.07615092,
    -0.032929186,
    0.013378035,
    -0.0051558157,
    0.0018856201,
    -0.0006393129,
    0.00022060894,
    -9.4665134e-05,
    2.7747003e-05,
];
// ERFC_FAR on [0.03, 0.4]: worst relative error 8.2e-08
const ERFC_FAR_F32: [f32; 11] = [
    0.5519635,
    -0.019775122,
    -0.006534073,
    0.0013913747,
    3.1931435e-05,
    -7.7988436e-05,
    1.6263246e-05,
    1.3918434e-06,
    -1.7006558e-06,
    2.788857e-07,
    5.7892112e-08,
];

/// `c[0] + c[1] x + ... + c[N-1] x^(N-1)`, by Horner's rule.
#[inline(always)]
fn horner<T: num_traits::Float, const N: usize>(x: T, c: &[T; N]) -> T {
    let mut r = c[N - 1];
    for k in (0..N - 1).rev() {
        r = r * x + c[k];
    }
    r
}

/// `c[0] + c[1] x + ... + c[N-1] x^(N-1)` as `E(x^2) + x O(x^2)`, its even
/// and odd parts by Horner's rule: two independent chains half as long as
/// one, because a vectorised loop over this is bound by the chain's
/// latency (one chain made `f64` GELU about twice as slow).
#[inline(always)]
fn even_odd<T: num_traits::Float, const N: usize>(x: T, c: &[T; N]) -> T {
    let x2 = x * x;
    let mut parts = [T::zero(); 2];
    for k in (0..N).rev() {
        parts[k % 2] = parts[k % 2] * x2 + c[k];
    }
    parts[0] + x * parts[1]
}

/// One type's `erfc`: `high` is where it falls below half the smallest
/// subnormal (the argument is clamped there; NaN passes), `split` is
/// `2^s + 1` for Dekker's split of a `2s`-bit mantissa into halves; `long`
/// evaluates `G` and `K`: as even and odd halves in `f64`, whose 21 terms
/// in one chain made the loop latency-bound, by Horner in `f32`, whose 11
/// do not, and where the split cost an ulp.
macro_rules! erfc {
    ($name:ident, $t:ty, $small:ident, $near:ident, $far:ident, $long:ident, split: $split:expr, high: $high:expr) => {
        #[inline(always)]
        pub(super) fn $name<const FUSED: bool>(z: $t) -> $t {
            let a = z.abs();
            let a = if a > $high { $high } else { a };
            let small = 1.0 - a * horner(a * a, &$small);
            // a^2 = hi + lo exactly.
            let c = $split * a;
            let a_hi = c - (c - a);
            let a_lo = a - a_hi;
            let hi = a * a;
            let lo = ((a_hi * a_hi - hi) + 2.0 * a_hi * a_lo) + a_lo * a_lo;
            let near = a < 2.5;
            let v = if near { a - 1.5 } else { (1.0 / a - 0.215) * (1.0 / 0.185) };
            let coefficients: [$t; $near.len()] =
                core::array::from_fn(|k| if near { $near[k] } else { $far[k] });
            let p = $long(v, &coefficients);
            let divisor = if near { 1.0 } else { a };
            let large = (<$t as super::Elementary>::exp_vectorisable::<FUSED>(-hi) * (1.0 - lo))
                * p
                / divisor;
            let r = if a < 0.5 { small } else { large };
            if z < 0.0 { 2.0 - r } else { r }
        }
    };
}

erfc!(erfc_f64, f64, ERF_SMALL_F64, ERFC_NEAR_F64, ERFC_FAR_F64, even_odd, split: 134_217_729.0, high: 27.5);
erfc!(erfc_f32, f32, ERF_SMALL_F32, ERFC_NEAR_F32, ERFC_FAR_F32, horner, split: 4097.0, high: 10.1);
