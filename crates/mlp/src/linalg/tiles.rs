//! Register tiles for the products of layers 32 or 64 units wide, from or
//! to layers 16, 32 or 64 wide: the common hidden widths, workload T's among
//! them. The widths are constants of each compiled tile, so its sums stay in
//! AVX-512 registers, one fused multiply-add per term, with no packing and
//! no loop over a width known only at run time (what made LLVM spill the
//! sums in the run-time-width tiles tried before; docs/PERFORMANCE.md).
//!
//! In workload T (1-32-32-1, `perf`), faer's kernels ran near 80% of the
//! FMA peak, with packing and an 8-row edge tile: 51% of the `f64` step.
//! These tiles run at 85-90% of the peak, and T ran 4-25% faster in
//! alternated runs (docs/PERFORMANCE.md).
//!
//! Only on CPUs with AVX-512 (the tiles use 16-24 of its 32 vector
//! registers, and would spill on AVX2's 16); elsewhere, and for other
//! widths, faer runs the product. Every sum is one chain in the order of
//! the summed index, so the bits depend only on the operands: not on the
//! thread count, nor on how a batch is split into blocks of rows.

use crate::float::Float;
use crate::parallel::pieces;
use crate::simd::{FusedKernel, avx512_fused, has_avx512, madd};

/// How the second operand of [`product`] is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// `B[k, n]`, row-major: `Δ W`.
    AsIs,
    /// `B[n, k]`, row-major (`B` transposed): `A Wᵀ`.
    Transposed,
}

/// `C[m, n] = A[m, k] · B` by register tiles, if the CPU has AVX-512 and
/// `n` is 32 or 64 and `k` is 16, 32 or 64; returns whether it did (if
/// not, nothing is written). Each sum is `0 + a_0 b_0 + a_1 b_1 + ...`
/// in the order of `k`, each term fused.
#[track_caller]
pub(super) fn product<F: Float>(
    c: &mut [F],
    a: &[F],
    b: &[F],
    (m, n, k): (usize, usize, usize),
    layout: Layout,
    threads: usize,
) -> bool {
    assert!(c.len() == m * n && a.len() == m * k && b.len() == k * n, "product: shape");
    if !has_avx512() {
        return false;
    }
    macro_rules! by_k {
        ($n:literal, $rows:literal) => {
            match k {
                16 => product_tile::<F, 16, $n, $rows>(c, a, b, layout, threads),
                32 => product_tile::<F, 32, $n, $rows>(c, a, b, layout, threads),
                64 => product_tile::<F, 64, $n, $rows>(c, a, b, layout, threads),
                _ => return false,
            }
        };
    }
    // Rows per tile: 24 vectors of sums, `n` lanes per row.
    match (size_of::<F>(), n) {
        (4, 32) => by_k!(32, 12),
        (4, 64) => by_k!(64, 6),
        (8, 32) => by_k!(32, 6),
        (8, 64) => by_k!(64, 3),
        _ => return false,
    }
    true
}

/// `C[m, n] = A[k, m]ᵀ · B[k, n]` by register tiles, under the conditions
/// of [`product`] with `m` for `k`: the weight gradient `Δᵀ A` of a batch
/// of `k` rows. Each sum is `0 + a_0 b_0 + a_1 b_1 + ...` in the order of
/// the batch's rows, each term fused.
#[track_caller]
pub(super) fn gradient<F: Float>(
    c: &mut [F],
    a: &[F],
    b: &[F],
    (m, n, k): (usize, usize, usize),
    threads: usize,
) -> bool {
    assert!(c.len() == m * n && a.len() == k * m && b.len() == k * n, "gradient: shape");
    if !has_avx512() {
        return false;
    }
    macro_rules! by_m {
        ($n:literal, $cols:literal) => {
            match m {
                16 => gradient_tile::<F, 16, $n, $cols>(c, a, b, threads),
                32 => gradient_tile::<F, 32, $n, $cols>(c, a, b, threads),
                64 => gradient_tile::<F, 64, $n, $cols>(c, a, b, threads),
                _ => return false,
            }
        };
    }
    // Columns per tile: two vectors, so a tile of 8 rows holds 16 vectors
    // of sums (in T, 4 rows of 4 vectors measured no faster in `f64`, and 4
    // rows of 2 vectors 4% slower in `f32`).
    match (size_of::<F>(), n) {
        (4, 32) => by_m!(32, 32),
        (4, 64) => by_m!(64, 32),
        (8, 32) => by_m!(32, 16),
        (8, 64) => by_m!(64, 16),
        _ => return false,
    }
    true
}

/// Runs [`ProductTile`] on `threads` blocks of rows side by side (one
/// block if 1): rows are independent, so the bits are the same.
fn product_tile<F: Float, const K: usize, const N: usize, const R: usize>(
    c: &mut [F],
    a: &[F],
    b: &[F],
    layout: Layout,
    threads: usize,
) {
    let rows = (c.len() / N).div_ceil(threads).next_multiple_of(R).max(1);
    let blocks = c.as_chunks_mut::<N>().0.chunks_mut(rows).zip(a.as_chunks::<K>().0.chunks(rows));
    let run = |b: &[[F; N]; K]| {
        pieces(blocks, |(c, a)| {
            avx512_fused(ProductTile::<F, K, N, R> { c, a, b }).expect("AVX-512 detected");
        });
    };
    match layout {
        Layout::AsIs => run(b.as_chunks::<N>().0.try_into().expect("shape checked")),
        Layout::Transposed => {
            // `B` as `K` rows of `N`: at most 32 KB on the stack, and about
            // 1% of T's step.
            let b = b.as_chunks::<K>().0.try_into().expect("shape checked");
            run(&avx512_fused(Transpose::<F, K, N> { b }).expect("AVX-512 detected"));
        }
    }
}

/// `Bᵀ` for `B[N, K]`, compiled for AVX-512 (in baseline code the copy
/// was 1.5-2% of T's `f32` step).
struct Transpose<'a, F, const K: usize, const N: usize> {
    b: &'a [[F; K]; N],
}

impl<F: Float, const K: usize, const N: usize> FusedKernel for Transpose<'_, F, K, N> {
    type Output = [[F; N]; K];
    #[inline(always)]
    fn run<const FUSED: bool>(self) -> [[F; N]; K] {
        core::array::from_fn(|p| core::array::from_fn(|j| self.b[j][p]))
    }
}

struct ProductTile<'a, F, const K: usize, const N: usize, const R: usize> {
    c: &'a mut [[F; N]],
    a: &'a [[F; K]],
    b: &'a [[F; N]; K],
}

impl<F: Float, const K: usize, const N: usize, const R: usize> FusedKernel
    for ProductTile<'_, F, K, N, R>
{
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(self) {
        let ProductTile { c, a, b } = self;
        let mut c_tiles = c.chunks_exact_mut(R);
        let mut a_tiles = a.chunks_exact(R);
        for (ct, at) in (&mut c_tiles).zip(&mut a_tiles) {
            let at: &[[F; K]; R] = at.try_into().expect("whole tile");
            let mut sums = [[F::zero(); N]; R];
            for (p, b_row) in b.iter().enumerate() {
                for (s, a_row) in sums.iter_mut().zip(at) {
                    let x = a_row[p];
                    for (s, &y) in s.iter_mut().zip(b_row) {
                        *s = madd::<F, FUSED>(x, y, *s);
                    }
                }
            }
            ct.copy_from_slice(&sums);
        }
        // The last rows, fewer than a tile, one at a time.
        for (c_row, a_row) in c_tiles.into_remainder().iter_mut().zip(a_tiles.remainder()) {
            let mut sums = [F::zero(); N];
            for (&x, b_row) in a_row.iter().zip(b) {
                for (s, &y) in sums.iter_mut().zip(b_row) {
                    *s = madd::<F, FUSED>(x, y, *s);
                }
            }
            *c_row = sums;
        }
    }
}

/// Rows of the batch per pass of [`GradientTile`]: its operands' rows
/// stay in the L1 cache while every tile of sums runs over them.
const GRADIENT_ROWS: usize = 64;

/// Rows of a tile of [`GradientTile`].
const G: usize = 8;

/// Runs [`GradientTile`] on `threads` blocks of the result's rows side by
/// side (one block if 1): each sum is computed whole by one of them, so the
/// bits are the same.
fn gradient_tile<F: Float, const M: usize, const N: usize, const C: usize>(
    c: &mut [F],
    a: &[F],
    b: &[F],
    threads: usize,
) {
    let rows = M.div_ceil(threads).next_multiple_of(G);
    let (a, b) = (a.as_chunks::<M>().0, b.as_chunks::<N>().0);
    let blocks = c.as_chunks_mut::<N>().0.chunks_mut(rows).enumerate();
    pieces(blocks, |(i, c)| {
        let first = i * rows;
        avx512_fused(GradientTile::<F, M, N, C> { c, first, a, b }).expect("AVX-512 detected");
    });
}

/// Rows `first..first + c.len()` of `Aᵀ B`, into `c`.
struct GradientTile<'a, F, const M: usize, const N: usize, const C: usize> {
    c: &'a mut [[F; N]],
    first: usize,
    a: &'a [[F; M]],
    b: &'a [[F; N]],
}

impl<F: Float, const M: usize, const N: usize, const C: usize> FusedKernel
    for GradientTile<'_, F, M, N, C>
{
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(self) {
        let GradientTile { c, first: i_first, a, b } = self;
        // A tile of sums is `G` rows of `C` columns of the result. Each pass
        // over a block of the batch starts from the sums the pass before
        // stored in the result, which continues each chain unchanged. Kept
        // as a two-dimensional array updated by `axpy`, the sums stay in
        // registers; written as two nested loops here, LLVM left them in
        // memory and T ran 5 times slower.
        let mut first = true;
        for (a_block, b_block) in a.chunks(GRADIENT_ROWS).zip(b.chunks(GRADIENT_ROWS)) {
            for j0 in (0..N).step_by(C) {
                for i0 in (0..c.len()).step_by(G) {
                    let mut sums: [[F; C]; G] = if first {
                        [[F::zero(); C]; G]
                    } else {
                        core::array::from_fn(|r| c[i0 + r][j0..j0 + C].try_into().unwrap())
                    };
                    for (a_row, b_row) in a_block.iter().zip(b_block) {
                        let y: &[F; C] = b_row[j0..j0 + C].try_into().unwrap();
                        let x: &[F; G] = a_row[i_first + i0..][..G].try_into().unwrap();
                        for r in 0..G {
                            axpy::<F, FUSED, C>(&mut sums[r], x[r], y);
                        }
                    }
                    for (r, sums) in sums.iter().enumerate() {
                        c[i0 + r][j0..j0 + C].copy_from_slice(sums);
                    }
                }
            }
            first = false;
        }
        if first {
            // No rows: every sum is zero.
            for row in c.iter_mut() {
                *row = [F::zero(); N];
            }
        }
    }
}

/// `s += x y`, each term fused if `FUSED`.
#[inline(always)]
fn axpy<F: Float, const FUSED: bool, const C: usize>(s: &mut [F; C], x: F, y: &[F; C]) {
    for (s, &y) in s.iter_mut().zip(y) {
        *s = madd::<F, FUSED>(x, y, *s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<F: Float>(len: usize, seed: f64) -> Vec<F> {
        (0..len).map(|v| F::cast(((v as f64 + seed) * 0.37).sin())).collect()
    }

    /// Every tiled shape, with whole tiles and a remainder of rows, equals
    /// its definition summed in the documented order with fused terms.
    fn tiles_sum_in_order<F: Float>() {
        if !crate::simd::has_avx512() {
            return; // faer runs these products; its own tests cover them
        }
        let fused = |terms: &mut dyn Iterator<Item = (F, F)>| {
            terms.fold(F::zero(), |s, (x, y)| x.mul_add(y, s))
        };
        for n in [32, 64] {
            for k in [16, 32, 64] {
                for m in [1, 5, 13, 70, 131] {
                    let a = values::<F>(m * k, 0.5);
                    let b = values::<F>(k * n, 1.5);
                    let bt: Vec<F> = (0..n * k).map(|v| b[(v % k) * n + v / k]).collect();
                    let mut c = vec![F::nan(); m * n];
                    assert!(product(&mut c, &a, &b, (m, n, k), Layout::AsIs, 1));
                    let mut ct = vec![F::nan(); m * n];
                    assert!(product(&mut ct, &a, &bt, (m, n, k), Layout::Transposed, 1));
                    for i in 0..m {
                        for j in 0..n {
                            let e = fused(&mut (0..k).map(|p| (a[i * k + p], b[p * n + j])));
                            let at = format!("{m}x{n}x{k} at ({i}, {j})");
                            assert_eq!(
                                c[i * n + j].as_f64().to_bits(),
                                e.as_f64().to_bits(),
                                "{at}"
                            );
                            assert_eq!(
                                ct[i * n + j].as_f64().to_bits(),
                                e.as_f64().to_bits(),
                                "{at}, transposed"
                            );
                        }
                    }
                    // The weight gradient: `m` as the batch, `k` as `Δ`'s width.
                    let g_m = k;
                    let d = values::<F>(m * g_m, 2.5);
                    let x = values::<F>(m * n, 3.5);
                    let mut g = vec![F::nan(); g_m * n];
                    assert!(gradient(&mut g, &d, &x, (g_m, n, m), 1));
                    for i in 0..g_m {
                        for j in 0..n {
                            let e = fused(&mut (0..m).map(|r| (d[r * g_m + i], x[r * n + j])));
                            let at = format!("gradient {g_m}x{n}x{m} at ({i}, {j})");
                            assert_eq!(
                                g[i * n + j].as_f64().to_bits(),
                                e.as_f64().to_bits(),
                                "{at}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn f32_tiles_sum_in_order() {
        tiles_sum_in_order::<f32>();
    }

    #[test]
    fn f64_tiles_sum_in_order() {
        tiles_sum_in_order::<f64>();
    }

    /// Split among threads, the tiles give the same bits as on one.
    #[test]
    fn threads_do_not_change_a_bit() {
        if !crate::simd::has_avx512() {
            return;
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (m, n, k) in [(1003, 32, 16), (517, 64, 64), (9, 32, 32)] {
            let a = values::<f32>(m * k, 0.5);
            let b = values::<f32>(k * n, 1.5);
            let d = values::<f32>(m * k, 2.5);
            let run = |threads| {
                let mut c = vec![f32::NAN; m * n];
                assert!(product(&mut c, &a, &b, (m, n, k), Layout::AsIs, threads));
                let mut ct = vec![f32::NAN; m * n];
                assert!(product(&mut ct, &a, &b, (m, n, k), Layout::Transposed, threads));
                let mut g = vec![f32::NAN; k * n];
                assert!(gradient(&mut g, &d, &c, (k, n, m), threads));
                [bits(&c), bits(&ct), bits(&g)]
            };
            let one = run(1);
            assert_eq!(one, run(2), "{m}x{n}x{k}, 2 threads");
            assert_eq!(one, run(3), "{m}x{n}x{k}, 3 threads");
        }
    }

    #[test]
    fn other_widths_are_left_to_faer() {
        let mut c = [0.0f64; 48 * 2];
        let asis = Layout::AsIs;
        assert!(!product(&mut c, &[0.0; 2 * 32], &[0.0; 32 * 48], (2, 48, 32), asis, 1));
        assert!(!product(&mut c[..64], &[0.0; 2 * 8], &[0.0; 8 * 32], (2, 32, 8), asis, 1));
        assert!(!gradient(&mut c, &[0.0; 2 * 2], &[0.0; 2 * 48], (2, 48, 2), 1));
    }
}
