//! The matrix products of each workload's step alone, with the operands hot
//! in cache: how fast `mlp`'s products are at these shapes, to set against
//! the whole workload's rate (the difference is everything else: element-wise
//! passes, data movement, operands arriving from memory).
//!
//! The products are the ones `mlp` computes, through the very functions the
//! network calls (`mlp::bench_support`: register tiles, sums for a dimension
//! of one, faer otherwise, threads by the library's own rule): per layer `l`
//! the forward `A Wᵀ` (`[rows, out] x [out, in]ᵀ`), the weight gradient
//! `Δᵀ A` and, below the first layer, `Δ W`. (Until the fifth session of
//! 2026-12-03 this timed faer alone, so for T it no longer matched what
//! `mlp` ran once the register tiles came in.)

use std::time::Instant;

use anyhow::{Context, Result};
use mlp::Float;
use mlp::bench_support::{Accumulate::Overwrite, gemm_nn, gemm_nt, gemm_tn};
use serde_json::{Value, json};

/// One product `C[m, n] = op(A) op(B)` with `A` transposed or not.
struct Product {
    m: usize,
    n: usize,
    k: usize,
    lhs_t: bool,
    rhs_t: bool,
}

/// The products of one step (forward only for inference) on `rows` rows.
fn step_products(widths: &[usize], rows: usize, backward: bool) -> Vec<Product> {
    let mut all = Vec::new();
    for (l, pair) in widths.windows(2).enumerate() {
        let (inp, out) = (pair[0], pair[1]);
        all.push(Product { m: rows, n: out, k: inp, lhs_t: false, rhs_t: true });
        if backward {
            all.push(Product { m: out, n: inp, k: rows, lhs_t: true, rhs_t: false });
            if l > 0 {
                all.push(Product { m: rows, n: inp, k: out, lhs_t: false, rhs_t: false });
            }
        }
    }
    all
}

/// GFLOP/s of all of `products` run in turn, best of `repeats` timings.
/// Operands are row-major slices, as everywhere in `mlp`.
fn rate<F: Float>(products: &[Product], threads: usize, repeats: usize) -> f64 {
    let value = |k: usize| F::cast(((k % 13) as f64 - 6.0) * 0.01);
    let filled = |len: usize, seed: usize| (0..len).map(|k| value(k * seed)).collect::<Vec<F>>();
    let mut ops: Vec<(Vec<F>, Vec<F>, Vec<F>)> = products
        .iter()
        .map(|p| (filled(p.m * p.k, 3), filled(p.n * p.k, 7), filled(p.m * p.n, 0)))
        .collect();
    let macs: usize = products.iter().map(|p| p.m * p.n * p.k).sum();
    let inner = (2_000_000_000 / macs).max(1); // about 0.03 s a timing
    let mut best = 0.0f64;
    for _ in 0..repeats {
        let start = Instant::now();
        for _ in 0..inner {
            for (p, (a, b, c)) in products.iter().zip(&mut ops) {
                let shape = (p.m, p.n, p.k);
                match (p.lhs_t, p.rhs_t) {
                    (false, true) => gemm_nt(c, a, b, shape, Overwrite, threads),
                    (true, false) => gemm_tn(c, a, b, shape, Overwrite, threads),
                    _ => gemm_nn(c, a, b, shape, Overwrite, threads),
                }
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        best = best.max(2.0 * (macs * inner) as f64 / seconds / 1e9);
    }
    best
}

fn widths(spec: &Value) -> Result<Vec<usize>> {
    let w = spec["widths"].as_array().context("widths")?;
    w.iter().map(|v| v.as_u64().map(|v| v as usize).context("a width")).collect()
}

/// Each workload's products, GFLOP/s (best of `repeats`), on one thread;
/// W's also on `threads` (the only workload whose products are threaded).
pub fn measure(all: &Value, threads: usize, repeats: usize) -> Result<Value> {
    // Rows per product as the library runs them: T and M in chunks (M's
    // mini-batch in two halves), W in one, Ib in row blocks.
    let chunk = |rows: usize| mlp::optim::chunk_len(rows, mlp::optim::CHUNK_ROWS);
    let block = mlp::network::ROW_BLOCK;
    let rows = |name: &str| all[name]["batch"].as_u64().map(|v| v as usize).context("batch");
    let t = step_products(&widths(&all["T"])?, mlp::optim::CHUNK_ROWS, true); // 1000 rows: whole chunks
    let m = step_products(&widths(&all["M"])?, chunk(rows("M")?), true);
    let w = step_products(&widths(&all["W"])?, chunk(rows("W")?), true);
    let ib = step_products(&widths(&all["Ib"])?, block, false);
    Ok(json!({
        "T_f64": rate::<f64>(&t, 1, repeats),
        "T_f32": rate::<f32>(&t, 1, repeats),
        "M": rate::<f32>(&m, 1, repeats),
        "W": rate::<f32>(&w, 1, repeats),
        "W_threads": rate::<f32>(&w, threads, repeats),
        "Ib": rate::<f32>(&ib, 1, repeats),
    }))
}
