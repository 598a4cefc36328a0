//! The machine's measured `f32` FMA peak: independent chains of fused
//! multiply-adds as wide as the CPU has (512-bit with AVX-512, else
//! 256-bit), on each of `threads` threads at once.

use std::time::Instant;

use serde_json::{Value, json};

/// Multiply-adds per lane per call of the kernel.
const ITERATIONS: u64 = 20_000_000;
/// Independent accumulators: enough to cover the FMA latency on two ports.
const CHAINS: u64 = 12;

/// GFLOP/s summed over `threads` threads, `repeats` times.
pub fn measure(threads: usize, repeats: usize) -> Value {
    let rates: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            let sinks: Vec<f32> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads).map(|_| s.spawn(run)).collect();
                handles.into_iter().map(|h| h.join().expect("peak thread")).collect()
            });
            std::hint::black_box(sinks);
            let flops = (threads as u64 * ITERATIONS * CHAINS * lanes() * 2) as f64;
            flops / start.elapsed().as_secs_f64() / 1e9
        })
        .collect();
    let (rows, cols) = tile_shape();
    json!({ "gflops": rates, "tile_gflops": tile_rate(), "tile": format!("{rows}x{cols}"), "isa": isa() })
}

/// One thread running a GEMM's innermost kernel over panels that stay in
/// L1: with AVX-512 a 12x32 tile (24 accumulators; two vector loads and
/// twelve broadcasts feed 24 FMAs per step, the BLIS shape for this ISA),
/// else a 256-bit 6x16 tile (the best of 6x16, 4x24, 3x32, 8x8, 12x8 and
/// 2x48 measured on an AVX2 machine). The gap between this and the
/// pure-register peak is what loads cost; the gap between this and a whole
/// GEMM is packing, edges and cache misses. Best of several rounds, each
/// about 0.1 s: the first rounds run while the core raises its clock.
fn tile_rate() -> f64 {
    let kc: usize = 256;
    let (rows, cols) = tile_shape();
    let a: Vec<f32> = (0..kc * rows).map(|k| (k % 7) as f32 * 1e-3).collect();
    let b: Vec<f32> = (0..kc * cols).map(|k| (k % 5) as f32 * 1e-3).collect();
    let reps: usize = 200_000 * 6 * 16 / (rows * cols);
    let mut best: f64 = 0.0;
    for _ in 0..10 {
        let start = Instant::now();
        let mut sink = 0.0;
        for _ in 0..reps {
            sink += tile(&a, &b);
        }
        std::hint::black_box(sink);
        let rate = (reps * kc * rows * cols * 2) as f64 / start.elapsed().as_secs_f64() / 1e9;
        best = best.max(rate);
    }
    best
}

/// Rows and columns of the tile `tile` runs.
fn tile_shape() -> (usize, usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        return (12, 32);
    }
    (6, 16)
}

fn tile(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: `tile_512` needs AVX-512F, detected just above.
        #[allow(unsafe_code)]
        return unsafe { tile_512(a, b) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: `tile_fma` needs AVX and FMA, detected just above.
        #[allow(unsafe_code)]
        return unsafe { tile_fma(a, b) };
    }
    0.0
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn tile_fma(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [[0.0f32; 16]; 6];
    for (a, b) in a.as_chunks::<6>().0.iter().zip(b.as_chunks::<16>().0) {
        for i in 0..6 {
            for j in 0..16 {
                acc[i][j] = a[i].mul_add(b[j], acc[i][j]);
            }
        }
    }
    acc.iter().flatten().sum()
}

/// The 12x32 tile: `a` holds 12 values per step, `b` 32.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn tile_512(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::{
        _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_reduce_add_ps, _mm512_set1_ps,
        _mm512_setzero_ps,
    };
    let mut acc = [[_mm512_setzero_ps(); 2]; 12];
    for (a, b) in a.as_chunks::<12>().0.iter().zip(b.as_chunks::<32>().0) {
        // SAFETY: each chunk of `b` holds exactly two vectors of 16 lanes.
        #[allow(unsafe_code)]
        let (b0, b1) =
            unsafe { (_mm512_loadu_ps(b.as_ptr()), _mm512_loadu_ps(b.as_ptr().add(16))) };
        for (acc, &a) in acc.iter_mut().zip(a) {
            let a = _mm512_set1_ps(a);
            acc[0] = _mm512_fmadd_ps(a, b0, acc[0]);
            acc[1] = _mm512_fmadd_ps(a, b1, acc[1]);
        }
    }
    let sum = acc.iter().flatten().fold(_mm512_setzero_ps(), |s, &v| _mm512_add_ps(s, v));
    _mm512_reduce_add_ps(sum)
}

fn isa() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        return "avx512f (512-bit FMA)";
    } else if std::arch::is_x86_feature_detected!("fma") {
        return "avx2+fma";
    }
    "no fma"
}

/// `f32` lanes of the vectors `run` uses.
fn lanes() -> u64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        return 16;
    }
    8
}

fn run() -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: `fma_chains_512` needs AVX-512F, detected just above.
        #[allow(unsafe_code)]
        return unsafe { fma_chains_512() };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: `fma_chains` needs AVX and FMA, detected just above.
        #[allow(unsafe_code)]
        return unsafe { fma_chains() };
    }
    0.0
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_chains() -> f32 {
    use std::arch::x86_64::{__m256, _mm256_add_ps, _mm256_fmadd_ps, _mm256_set1_ps};
    let a = _mm256_set1_ps(std::hint::black_box(0.999_999));
    let b = _mm256_set1_ps(std::hint::black_box(1e-7));
    let mut acc: [__m256; CHAINS as usize] =
        std::array::from_fn(|k| _mm256_set1_ps(std::hint::black_box(k as f32)));
    for _ in 0..ITERATIONS {
        for v in &mut acc {
            *v = _mm256_fmadd_ps(*v, a, b);
        }
    }
    let total = acc.iter().fold(_mm256_set1_ps(0.0), |s, &v| _mm256_add_ps(s, v));
    let mut out = [0.0f32; 8];
    // SAFETY: `out` holds exactly the 8 lanes of one 256-bit vector.
    #[allow(unsafe_code)]
    unsafe {
        std::arch::x86_64::_mm256_storeu_ps(out.as_mut_ptr(), total);
    }
    out.iter().sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fma_chains_512() -> f32 {
    use std::arch::x86_64::{
        __m512, _mm512_add_ps, _mm512_fmadd_ps, _mm512_reduce_add_ps, _mm512_set1_ps,
    };
    let a = _mm512_set1_ps(std::hint::black_box(0.999_999));
    let b = _mm512_set1_ps(std::hint::black_box(1e-7));
    let mut acc: [__m512; CHAINS as usize] =
        std::array::from_fn(|k| _mm512_set1_ps(std::hint::black_box(k as f32)));
    for _ in 0..ITERATIONS {
        for v in &mut acc {
            *v = _mm512_fmadd_ps(*v, a, b);
        }
    }
    _mm512_reduce_add_ps(acc.iter().fold(_mm512_set1_ps(0.0), |s, &v| _mm512_add_ps(s, v)))
}
