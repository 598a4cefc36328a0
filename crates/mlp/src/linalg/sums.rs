//! Sums down the rows of a matrix, and the products with a dimension of one
//! (a layer of one unit, a network of one input, `Jᵀ r`), which are such
//! sums or dot products of rows. Written here rather than left to faer,
//! which runs them as matrix-vector products in its AVX2 code: 12% of T's
//! `f32` step (`perf`, AVX-512 EPYC). Each runs on one thread, in a fixed
//! order that depends only on the shapes, with no fused multiply-add, so
//! its bits are the same on every CPU and at any thread count.

use super::Accumulate;
use crate::float::Float;
use crate::simd::{Kernel, vectorised};

/// `out[j] = Σ_i A[i, j]` for `A[rows, out.len()]`: the bias gradient `1ᵀ Δ^l`.
/// Rows are added in order from zero, so the result is reproducible.
///
/// # Panics
/// If `a.len()` is not `rows * out.len()`.
#[track_caller]
pub(crate) fn column_sums<F: Float>(a: &[F], out: &mut [F]) {
    let cols = out.len();
    assert!(cols > 0 && a.len().is_multiple_of(cols), "column_sums: shape");
    vectorised(ColumnSums { a, weights: None, out, acc: Accumulate::Overwrite });
}

/// `out[j] (+)= Σ_i w[i] A[i, j]` for `A[w.len(), out.len()]`, the terms
/// added in order of `i` from zero (then to `out` for [`Accumulate::Add`]).
///
/// # Panics
/// If `a.len()` is not `w.len() * out.len()`.
#[track_caller]
pub(super) fn weighted_column_sums<F: Float>(out: &mut [F], a: &[F], w: &[F], acc: Accumulate) {
    assert_eq!(a.len(), w.len() * out.len(), "weighted_column_sums: shape");
    if out.is_empty() {
        return;
    }
    vectorised(ColumnSums { a, weights: Some(w), out, acc });
}

struct ColumnSums<'a, F> {
    a: &'a [F],
    weights: Option<&'a [F]>,
    out: &'a mut [F],
    acc: Accumulate,
}

impl<F: Float> Kernel for ColumnSums<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        // The sums stay in registers, a block of columns at a time, down the
        // rows. Adding each row into `out` in memory made every addition wait
        // for the store of the one before: 9% of T's `f32` step (`perf`).
        let ColumnSums { a, weights, out, acc } = self;
        let mut j = 0;
        j = column_blocks::<F, 64>(a, weights, out, j, acc);
        j = column_blocks::<F, 32>(a, weights, out, j, acc);
        j = column_blocks::<F, 16>(a, weights, out, j, acc);
        j = column_blocks::<F, 8>(a, weights, out, j, acc);
        column_blocks::<F, 1>(a, weights, out, j, acc);
    }
}

/// [`ColumnSums`] for whole blocks of `N` columns from column `j` on;
/// returns the first column not summed. Each sum is `0 + t_0 + t_1 + ...`
/// in that order, `t_i` being `A[i, c]` or `w[i] * A[i, c]`, whatever `N`.
#[inline(always)]
fn column_blocks<F: Float, const N: usize>(
    a: &[F],
    weights: Option<&[F]>,
    out: &mut [F],
    mut j: usize,
    acc: Accumulate,
) -> usize {
    let cols = out.len();
    while let Some(block) = out.get_mut(j..j + N) {
        let mut sums = [F::zero(); N];
        // `first_chunk` has no panic path, which would make LLVM keep `sums`
        // in memory; it is always `Some`, since `j + N <= cols`.
        let rows = a.chunks_exact(cols).filter_map(|row| row[j..].first_chunk::<N>());
        match weights {
            None => rows.for_each(|part| {
                for (s, &v) in sums.iter_mut().zip(part) {
                    *s = *s + v;
                }
            }),
            Some(w) => rows.zip(w).for_each(|(part, &wi)| {
                for (s, &v) in sums.iter_mut().zip(part) {
                    *s = *s + wi * v;
                }
            }),
        }
        for (o, s) in block.iter_mut().zip(sums) {
            *o = if acc == Accumulate::Add { *o + s } else { s };
        }
        j += N;
    }
    j
}

/// `out[i] (+)= A[i, :] · v` for `A[out.len(), v.len()]`.
///
/// # Panics
/// If `a.len()` is not `out.len() * v.len()`.
#[track_caller]
pub(super) fn row_dots<F: Float>(out: &mut [F], a: &[F], v: &[F], acc: Accumulate) {
    assert_eq!(a.len(), out.len() * v.len(), "row_dots: shape");
    if v.is_empty() {
        if acc == Accumulate::Overwrite {
            out.fill(F::zero());
        }
        return;
    }
    vectorised(RowDots { out, a, v, acc });
}

struct RowDots<'a, F> {
    out: &'a mut [F],
    a: &'a [F],
    v: &'a [F],
    acc: Accumulate,
}

/// The lanes of a row dot: 16 partial sums whatever the vector width, so
/// AVX-512, AVX2 and SSE2 give the same bits.
const LANES: usize = 16;

/// Rows whose dots are finished together: the pairwise additions of
/// [`finish_dots`] then run across the block's rows, a vector at a time.
/// Finished one row at a time, LLVM built each row's lanes two at a time,
/// for the 16-lane sums as well: 6.7% of T's `f32` step (`perf`, Zen 5).
/// Blocks of 8 rows beat blocks of 16 in `f32` and `f64`.
const BLOCK: usize = 8;

impl<F: Float> Kernel for RowDots<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        // Rows of a common width as arrays of constant length: LLVM's code
        // for rows whose length it knows only at run time, a loop over
        // blocks of 16 per row, was most of the time of T's last layer.
        match self.v.len() {
            16 => row_dots_of::<F, 16>(self),
            32 => row_dots_of::<F, 32>(self),
            64 => row_dots_of::<F, 64>(self),
            _ => row_dots_of::<F, 0>(self),
        }
    }
}

/// [`RowDots`] for rows `K` long, or of any length if `K` is 0.
#[inline(always)]
fn row_dots_of<F: Float, const K: usize>(dots: RowDots<'_, F>) {
    let RowDots { out, a, v, acc } = dots;
    let mut rows = a.chunks_exact(v.len());
    let mut blocks = out.chunks_exact_mut(BLOCK);
    let mut lanes = [[F::zero(); LANES]; BLOCK];
    let mut tails = [F::zero(); BLOCK];
    for block in &mut blocks {
        for ((l, t), row) in lanes.iter_mut().zip(&mut tails).zip(&mut rows) {
            (*l, *t) = row_lanes_of::<F, K>(row, v);
        }
        store(block, finish_dots(&lanes, &tails), acc);
    }
    // The last rows, fewer than a block: the block's other lanes are
    // left from the block before, finished and not stored.
    let last = blocks.into_remainder();
    for ((l, t), row) in lanes.iter_mut().zip(&mut tails).zip(rows) {
        (*l, *t) = row_lanes_of::<F, K>(row, v);
    }
    store(last, finish_dots(&lanes, &tails), acc);
}

/// [`row_lanes`], with `row` and `v` as arrays of `K` if `K` is not 0.
#[inline(always)]
fn row_lanes_of<F: Float, const K: usize>(row: &[F], v: &[F]) -> ([F; LANES], F) {
    match (row.first_chunk::<K>(), v.first_chunk::<K>()) {
        (Some(row), Some(v)) if K > 0 => row_lanes(row, v),
        _ => row_lanes(row, v),
    }
}

/// A row's 16 lane sums `Σ_j row[l + 16 j] v[l + 16 j]`, in order of `j`,
/// and the sum of the products past the last whole 16.
#[inline(always)]
fn row_lanes<F: Float>(row: &[F], v: &[F]) -> ([F; LANES], F) {
    let (r_blocks, r_tail) = row.as_chunks::<LANES>();
    let (v_blocks, v_tail) = v.as_chunks::<LANES>();
    let mut lanes = [F::zero(); LANES];
    for (rb, vb) in r_blocks.iter().zip(v_blocks) {
        for ((s, &x), &y) in lanes.iter_mut().zip(rb).zip(vb) {
            *s = *s + x * y;
        }
    }
    let tail = r_tail.iter().zip(v_tail).fold(F::zero(), |s, (&x, &y)| s + x * y);
    (lanes, tail)
}

/// Each row's dot: its lanes' halves added pairwise, 16 to 8, 4, 2, 1, then
/// its tail.
#[inline(always)]
fn finish_dots<F: Float>(lanes: &[[F; LANES]; BLOCK], tails: &[F; BLOCK]) -> [F; BLOCK] {
    use core::array::from_fn;
    let l8: [[F; 8]; BLOCK] = from_fn(|r| from_fn(|l| lanes[r][l] + lanes[r][l + 8]));
    let l4: [[F; 4]; BLOCK] = from_fn(|r| from_fn(|l| l8[r][l] + l8[r][l + 4]));
    let l2: [[F; 2]; BLOCK] = from_fn(|r| from_fn(|l| l4[r][l] + l4[r][l + 2]));
    from_fn(|r| (l2[r][0] + l2[r][1]) + tails[r])
}

/// `out (+)= dots`, for as many as `out` holds.
#[inline(always)]
fn store<F: Float>(out: &mut [F], dots: [F; BLOCK], acc: Accumulate) {
    for (o, d) in out.iter_mut().zip(dots) {
        *o = if acc == Accumulate::Add { *o + d } else { d };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column's sum, whichever block of columns it falls in, has the
    /// bits of adding its rows (or weighted rows) in order from zero.
    #[test]
    fn column_sums_add_rows_in_order_in_every_block() {
        for cols in [1, 7, 8, 10, 31, 32, 33, 64, 121, 1024] {
            let rows = 37;
            let a: Vec<f32> = (0..rows * cols).map(|v| (v as f32 * 0.61).sin() * 1e3).collect();
            let w: Vec<f32> = (0..rows).map(|v| (v as f32 * 0.17).cos()).collect();
            let mut sums = vec![f32::NAN; cols];
            column_sums(&a, &mut sums);
            let mut weighted = vec![0.5; cols];
            weighted_column_sums(&mut weighted, &a, &w, Accumulate::Add);
            for c in 0..cols {
                let plain = (0..rows).fold(0.0f32, |t, r| t + a[r * cols + c]);
                assert_eq!(sums[c].to_bits(), plain.to_bits(), "{cols} columns, column {c}");
                let expected = 0.5 + (0..rows).fold(0.0f32, |t, r| t + w[r] * a[r * cols + c]);
                assert_eq!(
                    weighted[c].to_bits(),
                    expected.to_bits(),
                    "{cols} weighted, column {c}"
                );
            }
        }
    }

    /// A row dot is 16 lane sums in order, added pairwise, then the tail:
    /// the bits of that order written out one value at a time.
    #[test]
    fn row_dots_sum_in_their_documented_order() {
        // Rows in whole blocks, with a partial block, and fewer than one.
        for (k, rows) in
            [1, 5, 16, 31, 32, 33, 64, 100].into_iter().zip([9, 3, 16, 17, 8, 1, 25, 9])
        {
            let a: Vec<f64> = (0..rows * k).map(|v| (v as f64 * 0.37).sin()).collect();
            let v: Vec<f64> = (0..k).map(|p| (p as f64 * 0.11).cos() * 7.0).collect();
            let mut out = vec![f64::NAN; rows];
            row_dots(&mut out, &a, &v, Accumulate::Overwrite);
            let mut added = vec![0.25; rows];
            row_dots(&mut added, &a, &v, Accumulate::Add);
            for (i, &o) in out.iter().enumerate() {
                assert_eq!(added[i].to_bits(), (0.25 + o).to_bits(), "k = {k}, row {i}");
                let row = &a[i * k..(i + 1) * k];
                let whole = k / LANES * LANES;
                let mut lanes = [0.0f64; LANES];
                for p in 0..whole {
                    lanes[p % LANES] += row[p] * v[p];
                }
                let mut width = LANES / 2;
                while width > 0 {
                    for l in 0..width {
                        lanes[l] += lanes[l + width];
                    }
                    width /= 2;
                }
                let tail = (whole..k).fold(0.0, |s, p| s + row[p] * v[p]);
                assert_eq!(o.to_bits(), (lanes[0] + tail).to_bits(), "k = {k}, row {i}");
                let naive: f64 = row.iter().zip(&v).map(|(x, y)| x * y).sum();
                assert!((o - naive).abs() < 1e-12, "k = {k}, row {i}");
            }
        }
    }
}
