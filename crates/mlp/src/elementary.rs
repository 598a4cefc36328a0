//! `tanh`, `exp`, `expm1`, `erfc` and `ln(1 + y)` written so that a loop
//! over them vectorises, accurate to rounding. `erfc` (for GELU) has its
//! own file, `elementary/erfc.rs`; `ln(1 + y)`, on `[0, 1]` only, for
//! softplus, is described where it is defined.
//!
//! Why not the standard library's: glibc's `tanh` and `exp` are scalar calls
//! (about 12.5 ns per `tanh` here), and a call in a loop stops LLVM from
//! vectorising it: `tanh` dominated workload T (issue 5), `exp` every
//! sigmoid, SiLU, ELU, SELU and softplus layer, `erf` every GELU layer. These have no branches and no calls,
//! so in a loop compiled for AVX2 or AVX-512 ([`crate::simd`]) they run four
//! to sixteen lanes at a time.
//!
//! Method: all three reduce their argument in the usual way (Cody and
//! Waite): `y = k ln 2 + r` with `|r| <= ln 2 / 2`, so that `exp y = 2^k (1 +
//! expm1 r)`, with `expm1 r` a polynomial fitted to it, whose error
//! (below 4.1e-17 relative in `f64`, 1.7e-9 in `f32`) is under half an ulp.
//! `exp` and `expm1` build `2^k` as two powers of two (`2^k1 2^k2`, `k1 + k2
//! = k`), each a normal number over the whole range, so results that
//! overflow become infinite and those that underflow become subnormal or
//! zero exactly as the last multiplication rounds them. For `tanh`, `a =
//! |x|`: `tanh a = m / (m + 2)` with `m = expm1(2a)`, and `tanh x = sign(x)
//! tanh a`; because `expm1` is computed directly, small `x` suffer no
//! cancellation. Inputs are clamped where the result no longer changes
//! (`tanh` beyond 20 in `f64`, 10 in `f32`; `exp` and `expm1` just past
//! overflow and underflow); NaN stays NaN. Measured error against glibc, in
//! the unit tests: `tanh` at most 4 ulp in `f64`, 2 in `f32`; `exp` at most
//! 1 ulp and `expm1` at most 2 in both (glibc's are within 1).
//! Speed (criterion, `activation` group, 64,000 values, the 2-vCPU EPYC with
//! AVX2): `tanh` 3.4 ns per value in `f64` and 1.1 ns in `f32`, against 28
//! and 19 ns for glibc's `tanh` measured in the same run. On an AVX-512 EPYC
//! (Zen 5), with fused multiply-adds: 0.41-0.49 ns in `f64`, 0.16-0.19 ns in
//! `f32`. There the loops are bound by how many vector operations they
//! issue, not by their chain of dependent operations or the division
//! (docs/PERFORMANCE.md), which is why the multiply-adds are fused.
//!
//! Only `+`, `-`, `*`, `/`, multiply-add and integer operations are used.
//! Each function comes in two versions, `FUSED` or not (see
//! [`Elementary`]): the kernels compiled for AVX2+FMA or AVX-512 use the
//! fused one, which takes about a quarter less time, so every CPU with FMA
//! gets the same bits; CPUs without FMA use the other, whose last bits may
//! differ. Both are tested to the same bounds.

mod erfc;

use crate::simd::madd;

/// A [`Float`](crate::Float)'s branch-free elementary functions. Not nameable
/// outside the crate, like [`crate::linalg::Scalar`].
///
/// Each function takes `FUSED`: whether its multiply-adds are fused (one
/// rounding each, `mul_add`). The vectorised kernels pass `true` where the
/// CPU has FMA ([`crate::simd::fused`]); every such CPU then computes the same
/// bits, and so does `mul_add` in scalar code anywhere (it is correctly
/// rounded, in hardware or in the C library).
pub trait Elementary: Copy {
    #[doc(hidden)]
    fn tanh_vectorisable<const FUSED: bool>(x: Self) -> Self;
    #[doc(hidden)]
    fn exp_vectorisable<const FUSED: bool>(x: Self) -> Self;
    #[doc(hidden)]
    fn exp_m1_vectorisable<const FUSED: bool>(x: Self) -> Self;
    #[doc(hidden)]
    fn erfc_vectorisable<const FUSED: bool>(x: Self) -> Self;
    /// `ln(1 + y)` for `y` in `[0, 1]` only (softplus's `ln(1 + e^-|x|)`).
    #[doc(hidden)]
    fn ln_1p_unit_vectorisable<const FUSED: bool>(y: Self) -> Self;
}

/// `expm1(r) ≈ r + r^2 (c_0 + c_1 r + ...)` on the reduced interval `|r| <=
/// ln 2 / 2`: coefficients fitted to `(expm1(r) - r) / r^2` by Chebyshev
/// least squares in 40-digit arithmetic (`tools/fit_expm1.py`), relative
/// error 4.1e-17 in `f64` with ten terms (Taylor's series took twelve) and
/// 1.7e-9 in `f32` with six (Taylor's took seven), coefficients rounded.
/// The loops over `tanh`, `exp` and `expm1` are bound by the number of
/// vector operations they issue, and each term is two: 64,000 `tanh` took 9%
/// less time in `f64` and 5% in `f32` (docs/PERFORMANCE.md). The worst
/// errors found did not move: `tanh` 4 ulp in `f64` (at the same input as
/// with Taylor's twelve terms, in a sweep ten times denser than the test's)
/// and 2 in `f32` (every input); `exp` 1 ulp and `expm1` 2 in `f32` (every
/// input). Five terms in `f32` (2.6e-8) took `tanh` to 3 ulp.
const EXPM1_F64: [f64; 10] = [
    0.5000000000000001,
    0.16666666666666669,
    0.04166666666662413,
    0.008333333333330062,
    0.0013888888917213717,
    0.00019841269863053618,
    2.4801521295954376e-05,
    2.7557268459997064e-06,
    2.7620088445409746e-07,
    2.510038549551032e-08,
];

/// As [`EXPM1_F64`], six terms, fitted for `f32`.
const EXPM1_F32: [f32; 6] =
    [0.5, 0.16666667, 0.041666467, 0.0083333105, 0.001393365, 0.00019890991];

/// `c[0] + c[1] x + ... + c[N-1] x^(N-1)` by Estrin's scheme: pairs of
/// terms combined with `x`, pairs of those with `x^2`, then with `x^4` (and
/// `x^8`). The dependency chain is about `log2 N` steps long instead of
/// Horner's `N`. Written out for the lengths used (6 and 10 for `expm1`, 7
/// and 12 for `ln(1 + y)`), because a general loop does not unroll into
/// registers.
#[inline(always)]
fn estrin<T: crate::Float, const N: usize, const FUSED: bool>(x: T, c: &[T; N]) -> T {
    let fma = madd::<T, FUSED>;
    let x2 = x * x;
    let x4 = x2 * x2;
    let pair = |i: usize| fma(c[i + 1], x, c[i]);
    match N {
        6 => fma(pair(4), x4, fma(pair(2), x2, pair(0))),
        7 => fma(fma(c[6], x2, pair(4)), x4, fma(pair(2), x2, pair(0))),
        10 => {
            let low = fma(fma(pair(6), x2, pair(4)), x4, fma(pair(2), x2, pair(0)));
            fma(pair(8), x4 * x4, low)
        }
        12 => {
            let low = fma(fma(pair(6), x2, pair(4)), x4, fma(pair(2), x2, pair(0)));
            fma(fma(pair(10), x2, pair(8)), x4 * x4, low)
        }
        _ => unreachable!("estrin: no scheme written for {N} terms"),
    }
}

/// `2^k` for `k` in the exponent range of normal `f64`s.
#[inline(always)]
fn pow2_f64(k: i64) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// `2^k` for `k` in the exponent range of normal `f32`s.
#[inline(always)]
fn pow2_f32(k: i32) -> f32 {
    f32::from_bits(((k + 127) as u32) << 23)
}

/// ln 2 split so that `k * LN2_HI` is exact for `|k| < 2^11` (fdlibm's
/// constants), in `f64` and `f32`: the reductions and `ln(1 + y)` share them.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const LN2_HI_F32: f32 = f32::from_bits(0x3f31_7200);
const LN2_LO_F32: f32 = f32::from_bits(0x35bf_be8e);

/// `y = k ln 2 + r`, `|r| <= ln 2 / 2` (to rounding): returns `k` and
/// `expm1(r)`, given `y` and `x`, `f` with `x f = y log2 e`. Needs `|y| <
/// 2^50`; callers clamp first.
///
/// `tanh` reduces `y = 2a` and passes `a` and `2 log2 e`, the same bits as
/// `2a log2 e` (doubling is exact), without waiting for `2a`; fused, the
/// product is not rounded before the shifter rounds it to `k`, one
/// operation fewer.
#[inline(always)]
fn reduce_f64<const FUSED: bool>(y: f64, x: f64, f: f64) -> (i64, f64) {
    let fma = madd::<f64, FUSED>;
    // Adding 1.5 * 2^52 rounds to an integer, which then sits in the low
    // mantissa bits: t's bits minus the shifter's are k.
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    let t = fma(x, f, SHIFTER);
    let k = t - SHIFTER;
    // y - k LN2_HI is exact either way (k LN2_HI is).
    let r = fma(-k, LN2_LO, fma(-k, LN2_HI, y));
    // expm1(r) ≈ r + r^2 P(r), P fitted (EXPM1_F64).
    let e = fma(r * r, estrin::<_, _, FUSED>(r, &EXPM1_F64), r);
    ((t.to_bits() as i64).wrapping_sub(SHIFTER.to_bits() as i64), e)
}

/// As [`reduce_f64`], in `f32`; needs `|y| < 2^21`.
#[inline(always)]
fn reduce_f32<const FUSED: bool>(y: f32, x: f32, f: f32) -> (i32, f32) {
    let fma = madd::<f32, FUSED>;
    const SHIFTER: f32 = 12_582_912.0; // 1.5 * 2^23
    let t = fma(x, f, SHIFTER);
    let k = t - SHIFTER;
    let r = fma(-k, LN2_LO_F32, fma(-k, LN2_HI_F32, y));
    let e = fma(r * r, estrin::<_, _, FUSED>(r, &EXPM1_F32), r);
    ((t.to_bits() as i32).wrapping_sub(SHIFTER.to_bits() as i32), e)
}

/// `exp` and `expm1` of one type, from its reduction: `2^k (1 + e)` and
/// `2^k (1 + e) - 1`, with `2^k = 2^k1 2^k2` so that neither factor leaves
/// the normal range; `expm1` writes `2^k - 1` as `(2^k1 - 2^-k2) 2^k2`,
/// exact while `|k| < 53` (where it matters). Below `low` `exp` rounds to
/// 0, below `m1_low` `expm1` rounds to -1, above `high` both overflow.
macro_rules! exp_family {
    ($t:ty, $reduce:ident, $log2e:expr, $pow2:ident, low: $low:expr, m1_low: $m1_low:expr, high: $high:expr) => {
        #[inline(always)]
        fn exp_vectorisable<const FUSED: bool>(x: $t) -> $t {
            let y = x.clamp($low, $high); // NaN stays NaN
            let (k, e) = $reduce::<FUSED>(y, y, $log2e);
            let (s1, s2) = ($pow2(k >> 1), $pow2(k - (k >> 1)));
            madd::<$t, FUSED>(s1, e, s1) * s2
        }

        #[inline(always)]
        fn exp_m1_vectorisable<const FUSED: bool>(x: $t) -> $t {
            let y = x.clamp($m1_low, $high);
            let (k, e) = $reduce::<FUSED>(y, y, $log2e);
            let (k1, k2) = (k >> 1, k - (k >> 1));
            let (s1, s2) = ($pow2(k1), $pow2(k2));
            let m = madd::<$t, FUSED>(s1, e, s1 - $pow2(-k2)) * s2;
            // The polynomial turns -0 into +0; expm1(-0) is -0.
            if x == 0.0 { x } else { m }
        }
    };
}

/// `2/3, 2/5, 2/7, ...`: `2 atanh s = 2s + s^3 P(s^2)`, `P` these, to the
/// twelfth (`f64`) or seventh (`f32`) term; `|s| <= 0.172` makes the next
/// term under 1e-19 (`f64`) or 1e-10 (`f32`) relative.
const ATANH_TERMS: [f64; 12] = [
    2.0 / 3.0,
    2.0 / 5.0,
    2.0 / 7.0,
    2.0 / 9.0,
    2.0 / 11.0,
    2.0 / 13.0,
    2.0 / 15.0,
    2.0 / 17.0,
    2.0 / 19.0,
    2.0 / 21.0,
    2.0 / 23.0,
    2.0 / 25.0,
];

/// `ATANH_TERMS` to the seventh, in `f32`.
const ATANH_TERMS_F32: [f32; 7] = [
    ATANH_TERMS[0] as f32,
    ATANH_TERMS[1] as f32,
    ATANH_TERMS[2] as f32,
    ATANH_TERMS[3] as f32,
    ATANH_TERMS[4] as f32,
    ATANH_TERMS[5] as f32,
    ATANH_TERMS[6] as f32,
];

/// `ln(1 + y)` for `y` in `[0, 1]`: `u = 1 + y` rounded, with its rounding
/// error `c = y - (u - 1)` exactly; `u = 2^k m`, `k` 0 or 1, `m` in `[1/sqrt
/// 2, sqrt 2]`; `ln m = 2 atanh s`, `s = (m - 1) / (m + 1)`, `m - 1` exact; and
/// `ln(1 + y) = k ln 2 + ln m + c / u`. NaN stays NaN.
macro_rules! ln_1p_unit {
    ($t:ty, $terms:expr, $ln2_hi:expr, $ln2_lo:expr) => {
        #[inline(always)]
        fn ln_1p_unit_vectorisable<const FUSED: bool>(y: $t) -> $t {
            let u = 1.0 + y;
            let c = y - (u - 1.0);
            let halve = u > core::f64::consts::SQRT_2 as $t;
            let m = if halve { 0.5 * u } else { u };
            let s = (m - 1.0) / (m + 1.0);
            let s2 = s * s;
            let ln_m = madd::<$t, FUSED>(s * s2, estrin::<_, _, FUSED>(s2, &$terms), 2.0 * s);
            let (k_hi, k_lo) = if halve { ($ln2_hi, $ln2_lo) } else { (0.0, 0.0) };
            k_hi + (ln_m + (k_lo + c / u))
        }
    };
}

impl Elementary for f64 {
    #[inline(always)]
    fn tanh_vectorisable<const FUSED: bool>(x: f64) -> f64 {
        let a = x.abs();
        let a = if a > 20.0 { 20.0 } else { a }; // NaN compares false and stays NaN
        let (k, e) = reduce_f64::<FUSED>(a + a, a, 2.0 * core::f64::consts::LOG2_E);
        let scale = pow2_f64(k);
        let m = madd::<f64, FUSED>(scale, e, scale - 1.0);
        (m / (m + 2.0)).copysign(x)
    }

    exp_family!(f64, reduce_f64, core::f64::consts::LOG2_E, pow2_f64, low: -746.0, m1_low: -40.0, high: 710.0);

    #[inline(always)]
    fn erfc_vectorisable<const FUSED: bool>(x: f64) -> f64 {
        erfc::erfc_f64::<FUSED>(x)
    }

    ln_1p_unit!(f64, ATANH_TERMS, LN2_HI, LN2_LO);
}

impl Elementary for f32 {
    #[inline(always)]
    fn tanh_vectorisable<const FUSED: bool>(x: f32) -> f32 {
        let a = x.abs();
        let a = if a > 10.0 { 10.0 } else { a };
        let (k, e) = reduce_f32::<FUSED>(a + a, a, 2.0 * core::f32::consts::LOG2_E);
        let scale = pow2_f32(k);
        let m = madd::<f32, FUSED>(scale, e, scale - 1.0);
        (m / (m + 2.0)).copysign(x)
    }

    exp_family!(f32, reduce_f32, core::f32::consts::LOG2_E, pow2_f32, low: -104.0, m1_low: -18.0, high: 89.0);

    #[inline(always)]
    fn erfc_vectorisable<const FUSED: bool>(x: f32) -> f32 {
        erfc::erfc_f32::<FUSED>(x)
    }

    ln_1p_unit!(f32, ATANH_TERMS_F32, LN2_HI_F32, LN2_LO_F32);
}

#[cfg(test)]
mod tests {
    use super::Elementary;

    /// Each function with its multiply-adds fused or not, as `fused` says:
    /// the tests check both versions (the kernels run the fused one where
    /// the CPU has FMA; here `mul_add` may be the C library's, with the same
    /// bits).
    macro_rules! either {
        ($($name:ident: $t:ty => $f:ident;)*) => {$(
            fn $name(fused: bool, x: $t) -> $t {
                if fused { <$t>::$f::<true>(x) } else { <$t>::$f::<false>(x) }
            }
        )*};
    }
    either! {
        tanh64: f64 => tanh_vectorisable;
        tanh32: f32 => tanh_vectorisable;
        exp64: f64 => exp_vectorisable;
        exp32: f32 => exp_vectorisable;
        expm1_64: f64 => exp_m1_vectorisable;
        expm1_32: f32 => exp_m1_vectorisable;
        erfc64: f64 => erfc_vectorisable;
        erfc32: f32 => erfc_vectorisable;
        ln1p64: f64 => ln_1p_unit_vectorisable;
        ln1p32: f32 => ln_1p_unit_vectorisable;
    }
    const BOTH: [bool; 2] = [false, true];

    fn ulps64(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64).abs_diff(b.to_bits() as i64)
    }

    fn ulps32(a: f32, b: f32) -> u32 {
        (a.to_bits() as i32).abs_diff(b.to_bits() as i32)
    }

    /// Largest ulp distance from glibc's `tanh` (itself within 1 ulp) over a
    /// dense sweep that crosses every reduction boundary and the clamp.
    #[test]
    fn tanh_f64_is_within_four_ulp() {
        const LIMIT: u64 = 4;
        for fused in BOTH {
            // The worst input a sweep ten times denser than this one found
            // unfused: 4 ulp, with Taylor's polynomial before 2026-12-03 as
            // with the fitted one (the sweep below found at most 3 with Taylor's).
            let v = 0.182_272_129_521_020_4_f64;
            let mut worst = (ulps64(tanh64(fused, v), v.tanh()), v);
            let mut x = 1e-300_f64;
            while x < 40.0 {
                for v in [x, -x] {
                    let d = ulps64(tanh64(fused, v), v.tanh());
                    if d > worst.0 {
                        worst = (d, v);
                    }
                }
                x *= 1.000_01;
            }
            for k in 0..2_000_000 {
                let v = -25.0 + 50.0 * f64::from(k) / 2e6;
                let d = ulps64(tanh64(fused, v), v.tanh());
                if d > worst.0 {
                    worst = (d, v);
                }
            }
            assert!(worst.0 <= LIMIT, "fused {fused}: {} ulp at {:e}", worst.0, worst.1);
        }
    }

    #[test]
    fn tanh_f32_is_within_two_ulp_everywhere() {
        const LIMIT: u32 = 2;
        for fused in BOTH {
            // Every 7th f32 from 0 to past the clamp, both signs.
            let mut worst = (0, 0.0_f32);
            for bits in (0..f32::to_bits(12.0)).step_by(7) {
                for v in [f32::from_bits(bits), -f32::from_bits(bits)] {
                    let d = ulps32(tanh32(fused, v), (f64::from(v)).tanh() as f32);
                    if d > worst.0 {
                        worst = (d, v);
                    }
                }
            }
            assert!(worst.0 <= LIMIT, "fused {fused}: {} ulp at {:e}", worst.0, worst.1);
        }
    }

    /// Largest ulp distance from `reference` over a sweep of `[low, high]`:
    /// a million evenly spaced points and a geometric sweep through the small
    /// magnitudes, both signs.
    fn worst_f64(
        f: impl Fn(f64) -> f64,
        reference: fn(f64) -> f64,
        low: f64,
        high: f64,
    ) -> (u64, f64) {
        let mut worst = (0, 0.0);
        let mut check = |v: f64| {
            let d = ulps64(f(v), reference(v));
            if d > worst.0 {
                worst = (d, v);
            }
        };
        for k in 0..1_000_000 {
            check(low + (high - low) * f64::from(k) / 1e6);
        }
        let mut x = 1e-300_f64;
        while x < high.max(-low) {
            check(x);
            check(-x);
            x *= 1.000_1;
        }
        worst
    }

    #[test]
    fn exp_f64_is_within_one_ulp_and_expm1_two() {
        for fused in BOTH {
            // Past overflow (709.78) and through the subnormal results (below -708.4).
            let worst = worst_f64(|x| exp64(fused, x), f64::exp, -760.0, 720.0);
            assert!(worst.0 <= 1, "exp, fused {fused}: {} ulp at {:e}", worst.0, worst.1);
            let worst = worst_f64(|x| expm1_64(fused, x), f64::exp_m1, -60.0, 720.0);
            assert!(worst.0 <= 2, "expm1, fused {fused}: {} ulp at {:e}", worst.0, worst.1);
        }
    }

    #[test]
    fn exp_f32_is_within_one_ulp_and_expm1_two() {
        for fused in BOTH {
            // Every 29th f32 from 0 to past overflow, both signs (subnormal
            // results included): 38 million of each sign.
            let mut worst = (0, 0.0_f32, "", 0);
            for bits in (0..f32::to_bits(110.0)).step_by(29) {
                for v in [f32::from_bits(bits), -f32::from_bits(bits)] {
                    let cases: [(f32, f32, &str, u32); 2] = [
                        (exp32(fused, v), f64::from(v).exp() as f32, "exp", 1),
                        (expm1_32(fused, v), f64::from(v).exp_m1() as f32, "expm1", 2),
                    ];
                    for (got, exact, name, limit) in cases {
                        let d = ulps32(got, exact);
                        if d > limit && d > worst.0 {
                            worst = (d, v, name, limit);
                        }
                    }
                }
            }
            let (d, v, name, limit) = worst;
            assert!(d == 0, "{name}, fused {fused}: {d} ulp at {v:e}, over {limit}");
        }
    }

    #[test]
    fn erfc_f64_is_within_six_ulp() {
        // Roundings multiply in the tail (exp, 1 - lo, the polynomial, the
        // division): measured, 97-99% of points within 2 ulp, none over 6.
        for fused in BOTH {
            let worst = worst_f64(|x| erfc64(fused, x), libm::erfc, -7.0, 28.0);
            assert!(worst.0 <= 6, "erfc, fused {fused}: {} ulp at {:e}", worst.0, worst.1);
        }
    }

    #[test]
    fn erfc_f32_is_within_four_ulp() {
        for fused in BOTH {
            // Every 29th f32 up to past underflow, both signs, against f64's libm.
            let mut worst = (0, 0.0_f32);
            for bits in (0..f32::to_bits(10.5)).step_by(29) {
                for v in [f32::from_bits(bits), -f32::from_bits(bits)] {
                    let d = ulps32(erfc32(fused, v), libm::erfc(f64::from(v)) as f32);
                    if d > worst.0 {
                        worst = (d, v);
                    }
                }
            }
            assert!(worst.0 <= 4, "erfc, fused {fused}: {} ulp at {:e}", worst.0, worst.1);
        }
    }

    #[test]
    fn ln_1p_unit_is_within_two_ulp() {
        for fused in BOTH {
            // A million points evenly spaced, and a geometric sweep from 1e-300.
            let mut worst = (0, 0.0);
            let geometric = core::iter::successors(Some(1e-300_f64), |x| Some(x * 1.000_1));
            for v in (0..=1_000_000)
                .map(|k| f64::from(k) / 1e6)
                .chain(geometric.take_while(|&x| x < 1.0))
            {
                let d = ulps64(ln1p64(fused, v), v.ln_1p());
                if d > worst.0 {
                    worst = (d, v);
                }
            }
            assert!(worst.0 <= 2, "f64, fused {fused}: {} ulp at {:e}", worst.0, worst.1);
            // Every 29th f32 in [0, 1].
            let mut worst = (0, 0.0_f32);
            for bits in (0..=f32::to_bits(1.0)).step_by(29) {
                let v = f32::from_bits(bits);
                let d = ulps32(ln1p32(fused, v), f64::from(v).ln_1p() as f32);
                if d > worst.0 {
                    worst = (d, v);
                }
            }
            assert!(worst.0 <= 2, "f32, fused {fused}: {} ulp at {:e}", worst.0, worst.1);
            assert_eq!(ln1p64(fused, 0.0), 0.0);
            assert_eq!(ln1p64(fused, 1.0), core::f64::consts::LN_2);
            assert!(ln1p32(fused, f32::NAN).is_nan());
        }
    }

    #[test]
    fn exp_special_values() {
        for fused in BOTH {
            assert!(exp64(fused, f64::NAN).is_nan());
            assert!(expm1_32(fused, f32::NAN).is_nan());
            assert_eq!(exp64(fused, 0.0), 1.0);
            assert_eq!(exp32(fused, 0.0), 1.0);
            assert_eq!(exp64(fused, f64::INFINITY), f64::INFINITY);
            assert_eq!(exp32(fused, 1e30), f32::INFINITY);
            assert_eq!(exp64(fused, f64::NEG_INFINITY), 0.0);
            assert_eq!(exp32(fused, -1e30), 0.0);
            assert_eq!(expm1_64(fused, f64::NEG_INFINITY), -1.0);
            assert_eq!(expm1_32(fused, f32::INFINITY), f32::INFINITY);
            assert_eq!(expm1_64(fused, 1e-310), 1e-310); // expm1 x = x for tiny x
            assert_eq!(exp64(fused, -745.0), 5e-324); // the smallest subnormal
            assert_eq!(expm1_64(fused, -0.0).to_bits(), (-0.0_f64).to_bits());
        }
    }

    #[test]
    fn tanh_special_values() {
        for fused in BOTH {
            assert!(tanh64(fused, f64::NAN).is_nan());
            assert!(tanh32(fused, f32::NAN).is_nan());
            assert_eq!(tanh64(fused, f64::INFINITY), 1.0);
            assert_eq!(tanh64(fused, f64::NEG_INFINITY), -1.0);
            assert_eq!(tanh32(fused, -1e30), -1.0);
            assert_eq!(tanh64(fused, -0.0).to_bits(), (-0.0_f64).to_bits());
            assert_eq!(tanh32(fused, 0.0).to_bits(), 0);
            assert_eq!(tanh64(fused, 1e-310), 1e-310); // subnormal: tanh x = x
        }
    }
}
