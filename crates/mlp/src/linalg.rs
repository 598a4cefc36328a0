//! The handful of dense kernels the network needs, and the only module that
//! names the matrix crate (faer).
//!
//! Every matrix is a row-major slice with its shape passed beside it, as
//! everywhere in `mlp`. Each product is `C ← op(A) op(B)` or
//! `C ← C + op(A) op(B)`, chosen by [`Accumulate`]; the suffix names the
//! operations (`n`: as stored, `t`: transposed).
//!
//! Why faer: on this project's machine (x86-64 with AVX2 and FMA, no
//! AVX-512) its single-thread products match the fastest Rust GEMM at MLP
//! shapes, and after the first call on a thread it allocates nothing (its
//! packing buffers are thread-local), which the allocation-free training step
//! relies on; `gemm` 0.19 allocates packing buffers on every call. A packed
//! kernel of our own in safe Rust was slower (docs/PERFORMANCE.md).
//! Measurements are in ARCHITECTURE.md. Two exceptions: products with a
//! dimension of one (`sums`), and, on CPUs with AVX-512, products of layers
//! 32 or 64 wide from or to layers 16, 32 or 64 wide, whose register tiles
//! of constant width (`tiles`) run near the FMA peak where faer's reached
//! about 80% (workload T).
//!
//! Large products may run on several threads (`threads` argument, see
//! [`PARALLEL_MIN_MACS`]); a product's summation order depends only on its
//! shapes, never on the thread count, so results are reproducible bit for bit.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use crate::float::Float;

mod sums;
mod tiles;
pub(crate) use sums::column_sums;
use sums::{row_dots, weighted_column_sums};
use tiles::Layout;

/// Whether a product overwrites its destination or adds to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accumulate {
    /// `C ← op(A) op(B)`.
    Overwrite,
    /// `C ← C + op(A) op(B)`.
    Add,
}

/// The matrix crate's view of a [`Float`]. Not nameable outside the crate, so
/// [`Float`] stays sealed and the matrix crate stays an implementation detail.
pub trait Scalar: Copy + 'static {
    #[doc(hidden)]
    fn product(
        dst: MatMut<'_, Self>,
        accumulate: Accumulate,
        lhs: MatRef<'_, Self>,
        rhs: MatRef<'_, Self>,
        par: Par,
    );
}

/// Products of at least this many multiply-adds may use several threads;
/// smaller ones always run on the calling thread. Measured on this project's
/// 2-core machine: a 1000x32x32 product ran at 61 GFLOP/s on one thread and
/// 42 on two; workload W's 256x1024x1024 products took the step from 50 to
/// 76 GFLOP/s; but workload M's largest, 128x256x784 (26M multiply-adds),
/// made the whole training step slower on two threads than on one.
pub(crate) const PARALLEL_MIN_MACS: usize = 1 << 26;

/// faer splits a product among threads by blocks of the output, never along
/// the summed dimension, so every element is summed in the same order
/// whatever the thread count: results are bitwise the same (tested below).
fn parallelism(threads: usize, m: usize, n: usize, k: usize) -> Par {
    if threads > 1 && m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN_MACS {
        Par::rayon(threads)
    } else {
        Par::Seq
    }
}

/// The threads a product of our own (`tiles`) uses, by the rule of
/// [`parallelism`].
fn split(threads: usize, m: usize, n: usize, k: usize) -> usize {
    if matches!(parallelism(threads, m, n, k), Par::Seq) { 1 } else { threads }
}

macro_rules! impl_scalar {
    ($t:ty) => {
        impl Scalar for $t {
            #[inline]
            fn product(
                dst: MatMut<'_, $t>,
                accumulate: Accumulate,
                lhs: MatRef<'_, $t>,
                rhs: MatRef<'_, $t>,
                par: Par,
            ) {
                let accum = match accumulate {
                    Accumulate::Overwrite => Accum::Replace,
                    Accumulate::Add => Accum::Add,
                };
                matmul(dst, accum, lhs, rhs, 1.0, par);
                clear_upper_vector_state();
            }
        }
    };
}
impl_scalar!(f32);
impl_scalar!(f64);

/// Clears the upper halves of the AVX registers after a product.
///
/// faer's AVX kernels return with them dirty; the SSE code that follows
/// (glibc's `tanh` and `expm1` among it) then pays a state-transition penalty
/// on every call: measured here, workload T in f64 ran at 170 steps/s with
/// 63% of its instructions in `tanh`/`expm1`, most of its time in the penalty.
#[inline]
fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: `vzeroupper` only zeroes the upper register halves, which
        // no live value uses between two calls into the matrix crate; the
        // instruction exists because AVX was detected just above.
        #[allow(unsafe_code)]
        unsafe {
            std::arch::x86_64::_mm256_zeroupper();
        }
    }
}

/// `C[m, n] (+)= A[m, k] · B[n, k]ᵀ`: the forward product `A^{l-1} (W^l)ᵀ` of §5.
///
/// # Panics
/// If a slice length disagrees with the shape.
#[track_caller]
pub fn gemm_nt<F: Float>(
    c: &mut [F],
    a: &[F],
    b: &[F],
    (m, n, k): (usize, usize, usize),
    acc: Accumulate,
    threads: usize,
) {
    if n == 1 {
        return row_dots(c, a, b, acc);
    }
    if m == 1 {
        return row_dots(c, b, a, acc);
    }
    if acc == Accumulate::Overwrite
        && tiles::product(c, a, b, (m, n, k), Layout::Transposed, split(threads, m, n, k))
    {
        return;
    }
    let a = MatRef::from_row_major_slice(a, m, k);
    let b = MatRef::from_row_major_slice(b, n, k).transpose();
    F::product(MatMut::from_row_major_slice_mut(c, m, n), acc, a, b, parallelism(threads, m, n, k));
}

/// `C[m, n] (+)= A[k, m]ᵀ · B[k, n]`: the weight gradient `(Δ^l)ᵀ A^{l-1}` of §5.
///
/// # Panics
/// If a slice length disagrees with the shape.
#[track_caller]
pub fn gemm_tn<F: Float>(
    c: &mut [F],
    a: &[F],
    b: &[F],
    (m, n, k): (usize, usize, usize),
    acc: Accumulate,
    threads: usize,
) {
    if m == 1 {
        return weighted_column_sums(c, b, a, acc);
    }
    if n == 1 {
        return weighted_column_sums(c, a, b, acc);
    }
    if acc == Accumulate::Overwrite && tiles::gradient(c, a, b, (m, n, k), split(threads, m, n, k))
    {
        return;
    }
    let a = MatRef::from_row_major_slice(a, k, m).transpose();
    let b = MatRef::from_row_major_slice(b, k, n);
    F::product(MatMut::from_row_major_slice_mut(c, m, n), acc, a, b, parallelism(threads, m, n, k));
}

/// `C[m, n] (+)= A[m, k] · B[k, n]`: the back-propagated `Δ^l W^l` of §5.
///
/// # Panics
/// If a slice length disagrees with the shape.
#[track_caller]
pub fn gemm_nn<F: Float>(
    c: &mut [F],
    a: &[F],
    b: &[F],
    (m, n, k): (usize, usize, usize),
    acc: Accumulate,
    threads: usize,
) {
    if n == 1 {
        return row_dots(c, a, b, acc);
    }
    if m == 1 {
        return weighted_column_sums(c, b, a, acc);
    }
    if acc == Accumulate::Overwrite
        && tiles::product(c, a, b, (m, n, k), Layout::AsIs, split(threads, m, n, k))
    {
        return;
    }
    let a = MatRef::from_row_major_slice(a, m, k);
    let b = MatRef::from_row_major_slice(b, k, n);
    F::product(MatMut::from_row_major_slice_mut(c, m, n), acc, a, b, parallelism(threads, m, n, k));
}

/// Solves `A x = b` for symmetric positive definite `A` (`[n, n]`) by
/// Cholesky: `A` is overwritten with its lower factor `L` (`A = L Lᵀ`), `b`
/// with `x`. Returns `false`, with `A` and `b` clobbered, if `A` is not
/// numerically positive definite. The LM step (Moré 1978) is its only user;
/// `n` is the parameter count, so the O(n³/3) loop is fine where `JᵀJ` fits.
///
/// # Panics
/// If `a.len() != b.len()²`.
#[track_caller]
#[allow(clippy::needless_range_loop)] // subscripts as in the formulas
pub(crate) fn cholesky_solve<F: Float>(a: &mut [F], b: &mut [F]) -> bool {
    let n = b.len();
    assert_eq!(a.len(), n * n, "cholesky_solve: shape");
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d = d - a[j * n + k] * a[j * n + k];
        }
        if !(d > F::zero() && d.is_finite()) {
            return false;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        // L[i][j] = (A[i][j] − Σ_k L[i][k] L[j][k]) / L[j][j] for the rows below.
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s = s - a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    // Forward substitution L y = b, then back substitution Lᵀ x = y.
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s = s - a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s = s - a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive triple loop with explicit strides, the definition of each product.
    fn naive(
        a: impl Fn(usize, usize) -> f64,
        b: impl Fn(usize, usize) -> f64,
        m: usize,
        n: usize,
        k: usize,
    ) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a(i, p) * b(p, j)).sum();
            }
        }
        c
    }

    #[test]
    fn products_match_the_naive_definition() {
        let (m, n, k) = (5, 3, 4);
        let a: Vec<f64> = (0..m * k).map(|v| f64::from(v as u32) * 0.5 - 3.0).collect();
        let b: Vec<f64> = (0..n * k).map(|v| 1.0 / (1.0 + f64::from(v as u32))).collect();
        let close = |x: &[f64], y: &[f64]| x.iter().zip(y).all(|(x, y)| (x - y).abs() < 1e-12);

        let mut c = vec![1.0; m * n];
        gemm_nt(&mut c, &a, &b, (m, n, k), Accumulate::Overwrite, 1);
        assert!(close(&c, &naive(|i, p| a[i * k + p], |p, j| b[j * k + p], m, n, k)));

        let at: Vec<f64> = (0..k * m).map(|v| f64::from(v as u32).sin()).collect();
        let bt: Vec<f64> = (0..k * n).map(|v| f64::from(v as u32).cos()).collect();
        let mut c = vec![1.0; m * n];
        gemm_tn(&mut c, &at, &bt, (m, n, k), Accumulate::Add, 1);
        let expected = naive(|i, p| at[p * m + i], |p, j| bt[p * n + j], m, n, k);
        assert!(close(&c, &expected.iter().map(|e| e + 1.0).collect::<Vec<_>>()));

        let mut c = vec![0.0; m * n];
        gemm_nn(&mut c, &a, &bt, (m, n, k), Accumulate::Overwrite, 1);
        assert!(close(&c, &naive(|i, p| a[i * k + p], |p, j| bt[p * n + j], m, n, k)));

        let mut sums = vec![9.0; 3];
        column_sums(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut sums);
        assert_eq!(sums, [5.0, 7.0, 9.0]);
    }

    /// The thread count never changes a bit of the result, at shapes above
    /// the threshold, odd ones included.
    #[test]
    fn parallel_products_equal_sequential_bit_for_bit() {
        let shapes = [(256, 512, 784), (263, 517, 521), (1024, 256, 301), (129, 1024, 600)];
        for (m, n, k) in shapes {
            assert!(m * n * k >= PARALLEL_MIN_MACS);
            let a: Vec<f32> = (0..m * k).map(|v| (v as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n * k).map(|v| (v as f32 * 0.23).cos()).collect();
            let at: Vec<f32> = (0..k * m).map(|v| (v as f32 * 0.11).sin()).collect();
            let bt: Vec<f32> = (0..k * n).map(|v| (v as f32 * 0.19).cos()).collect();
            let run = |threads| {
                let mut c = vec![0.5_f32; m * n];
                gemm_nt(&mut c, &a, &b, (m, n, k), Accumulate::Add, threads);
                gemm_tn(&mut c, &at, &bt, (m, n, k), Accumulate::Add, threads);
                gemm_nn(&mut c, &a, &bt, (m, n, k), Accumulate::Add, threads);
                c.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            let one = run(1);
            assert_eq!(one, run(2), "{m}x{n}x{k}, 2 threads");
            assert_eq!(one, run(3), "{m}x{n}x{k}, 3 threads");
        }
    }
}
