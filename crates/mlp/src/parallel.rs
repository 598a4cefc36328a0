//! Passes over parameter-length vectors, split across threads.
//!
//! Once the chunks of a mini-batch have been evaluated side by side, a step
//! still adds their gradients, takes the gradient's norm and updates every
//! parameter. On one thread those passes were a third of a step of workload
//! M on two threads (`perf`; docs/PERFORMANCE.md, "Passes over the
//! parameters"). Here they take the objective's thread count.
//!
//! An element-wise pass gives the same bits however it is split. A sum
//! ([`dot`]) is taken per block of a length fixed by the vector's length
//! alone, and the blocks' sums are added in order, so it does not depend on
//! the thread count either.

use crate::error::{Error, Result};
use crate::float::Float;
use crate::simd::{Kernel, vectorised};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long [`side_by_side`]'s caller waits awake for the other items
/// before it sleeps: longer than a sleeping CPU takes to wake on these
/// virtual machines, short next to a step of workload M (about 1 ms).
const SPIN: Duration = Duration::from_micros(200);

/// Fewest elements worth a second thread: waking one costs some
/// microseconds, about a pass over this many elements. Smaller vectors (T's
/// 1,153 parameters) stay on the calling thread.
const MIN_PARALLEL: usize = 1 << 15;

/// The elements of one of [`dot`]'s blocks, at least.
const BLOCK: usize = 1 << 14;

/// The most blocks [`dot`] cuts a vector into (longer vectors get longer blocks).
const MAX_BLOCKS: usize = 256;

/// The length of each of `threads` pieces of a pass over `len` elements (a
/// multiple of 64, so pieces start on cache lines of aligned data), or the
/// whole length (at least 1) when the pass stays on the calling thread: one
/// piece, which [`pieces`] runs without the pool.
pub(crate) fn piece_len(len: usize, threads: usize) -> usize {
    if threads > 1 && len >= MIN_PARALLEL {
        len.div_ceil(threads).next_multiple_of(64)
    } else {
        len.max(1)
    }
}

/// Runs `f` on every item, side by side: the first on the calling thread,
/// the others on rayon's pool; returns when all are done, with the error of
/// the first item (in order) that failed.
///
/// Why not `rayon::join` or a parallel iterator: called from outside the
/// pool (the training loop's thread), those hand every item to the pool and
/// put the caller to sleep until they are done, a sleep and a wake-up per
/// call. Here the caller works too and waits only for what is left, and it
/// waits awake (up to [`SPIN`]) before the scope puts it to sleep: a step
/// of workload M makes four such waits, and waiting awake made M at two
/// threads 10-25% faster. Measured (docs/PERFORMANCE.md, "Passes over the
/// parameters" and "The caller waits awake").
pub(crate) fn side_by_side<T: Send>(
    items: impl IntoIterator<Item = T>,
    f: impl Fn(T) -> Result<()> + Sync,
) -> Result<()> {
    let first_error: Mutex<Option<(usize, Error)>> = Mutex::new(None);
    let record = |k: usize, result: Result<()>| {
        if let Err(e) = result {
            let mut slot = first_error.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.as_ref().is_none_or(|&(j, _)| k < j) {
                *slot = Some((k, e));
            }
        }
    };
    let mut items = items.into_iter();
    let Some(first) = items.next() else { return Ok(()) };
    // One item (one thread, a small network): no pool at all.
    let Some(second) = items.next() else { return f(first) };
    let (f, record) = (&f, &record);
    let pending = AtomicUsize::new(0);
    let pending = &pending;
    rayon::in_place_scope(|s| {
        for (k, item) in std::iter::once(second).chain(items).enumerate() {
            pending.fetch_add(1, Ordering::Relaxed);
            s.spawn(move |_| {
                record(k + 1, f(item));
                pending.fetch_sub(1, Ordering::Release);
            });
        }
        record(0, f(first));
        // Wait for the others awake, briefly, before the scope waits asleep;
        // yielding, so that a thread that wants this CPU gets it. A caller
        // inside the pool does not sleep there: the scope has it run the
        // pending items itself, so it goes straight to that.
        let start = Instant::now();
        let outside = rayon::current_thread_index().is_none();
        while outside && pending.load(Ordering::Acquire) > 0 && start.elapsed() < SPIN {
            std::thread::yield_now();
        }
    });
    match first_error.into_inner().unwrap_or_else(PoisonError::into_inner) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// Runs the infallible `f` on pieces side by side, as [`side_by_side`].
pub(crate) fn pieces<T: Send>(items: impl IntoIterator<Item = T>, f: impl Fn(T) + Sync) {
    side_by_side(items, |item| {
        f(item);
        Ok(())
    })
    .expect("infallible");
}

/// `dst += src`, element by element.
pub(crate) fn add_assign<F: Float>(dst: &mut [F], src: &[F], threads: usize) {
    assert_eq!(dst.len(), src.len(), "add_assign: lengths");
    let n = piece_len(dst.len(), threads);
    pieces(dst.chunks_mut(n).zip(src.chunks(n)), |(dst, src)| vectorised(Add { dst, src }));
}

struct Add<'a, F> {
    dst: &'a mut [F],
    src: &'a [F],
}

impl<F: Float> Kernel for Add<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        self.dst.iter_mut().zip(self.src).for_each(|(a, &b)| *a = *a + b);
    }
}

/// Dot product in `f64`. Blocks of at least [`BLOCK`] elements are each
/// summed in eight interleaved partial sums (lane `l` takes the terms
/// `k ≡ l mod 8`, in order) added pairwise at the end, and the blocks' sums
/// are added in order. A fixed order, so results are reproducible and
/// independent of `threads`, that vectorises: a single running sum is bound
/// by the latency of one addition per term (measured: the gradient norm was
/// a tenth of an SGD step on workload M). A vector of one block is summed
/// as before blocks existed.
pub(crate) fn dot<F: Float>(a: &[F], b: &[F], threads: usize) -> f64 {
    assert_eq!(a.len(), b.len(), "dot: lengths");
    let block = BLOCK.max(a.len().div_ceil(MAX_BLOCKS).next_multiple_of(64));
    let mut sums = [0.0f64; MAX_BLOCKS];
    let sums = &mut sums[..a.len().div_ceil(block)];
    let blocks = |sums: &mut [f64], a: &[F], b: &[F]| {
        // Four whole blocks at a time, as four independent chains.
        let whole = a.len() / (4 * block) * 4;
        let (a4, a) = a.split_at(whole * block);
        let (b4, b) = b.split_at(whole * block);
        let (sums4, sums) = sums.split_at_mut(whole);
        for (s, (a, b)) in sums4.chunks_mut(4).zip(a4.chunks(4 * block).zip(b4.chunks(4 * block))) {
            s.copy_from_slice(&vectorised(FourDots { a, b }));
        }
        for (s, (a, b)) in sums.iter_mut().zip(a.chunks(block).zip(b.chunks(block))) {
            *s = vectorised(Dot { a, b });
        }
    };
    let per = piece_len(a.len(), threads).div_ceil(block); // blocks per piece
    let items = sums.chunks_mut(per).zip(a.chunks(per * block).zip(b.chunks(per * block)));
    pieces(items, |(sums, (a, b))| blocks(sums, a, b));
    sums.iter().fold(0.0, |total, &s| total + s)
}

struct Dot<'a, F> {
    a: &'a [F],
    b: &'a [F],
}

impl<F: Float> Kernel for Dot<'_, F> {
    type Output = f64;
    #[inline(always)]
    fn run(self) -> f64 {
        let mut lanes = [0.0f64; 8];
        let (a8, a_tail) = self.a.as_chunks::<8>();
        let (b8, b_tail) = self.b.as_chunks::<8>();
        for (x, y) in a8.iter().zip(b8) {
            for l in 0..8 {
                lanes[l] += x[l].as_f64() * y[l].as_f64();
            }
        }
        let tail: f64 = a_tail.iter().zip(b_tail).map(|(x, y)| x.as_f64() * y.as_f64()).sum();
        add_lanes(lanes) + tail
    }
}

/// [`Dot`] of four equal blocks laid end to end, the four interleaved in
/// one loop: each block's sum is the same as alone, but four chains of
/// additions run at once instead of one. The norm of workload W's 3.1
/// million parameters was bound by that one chain's latency.
struct FourDots<'a, F> {
    a: &'a [F],
    b: &'a [F],
}

impl<F: Float> Kernel for FourDots<'_, F> {
    type Output = [f64; 4];
    #[inline(always)]
    fn run(self) -> [f64; 4] {
        let n = self.a.len() / 4;
        let (a8, _) = self.a.as_chunks::<8>();
        let (b8, _) = self.b.as_chunks::<8>();
        let (a0, a1) = a8.split_at(n / 8);
        let (a1, a2) = a1.split_at(n / 8);
        let (a2, a3) = a2.split_at(n / 8);
        let (b0, b1) = b8.split_at(n / 8);
        let (b1, b2) = b1.split_at(n / 8);
        let (b2, b3) = b2.split_at(n / 8);
        let mut lanes = [[0.0f64; 8]; 4];
        let rows =
            a0.iter().zip(a1).zip(a2.iter().zip(a3)).zip(b0.iter().zip(b1).zip(b2.iter().zip(b3)));
        for (((x0, x1), (x2, x3)), ((y0, y1), (y2, y3))) in rows {
            for l in 0..8 {
                lanes[0][l] += x0[l].as_f64() * y0[l].as_f64();
                lanes[1][l] += x1[l].as_f64() * y1[l].as_f64();
                lanes[2][l] += x2[l].as_f64() * y2[l].as_f64();
                lanes[3][l] += x3[l].as_f64() * y3[l].as_f64();
            }
        }
        lanes.map(add_lanes)
    }
}

/// The eight lanes' sums added pairwise. Not inlined: seeing this pattern,
/// LLVM kept the lanes in pairs of 128-bit registers with shuffles, and the
/// loop ran 3x slower (122 against 42 µs for M's 235,146 parameters).
#[inline(never)]
fn add_lanes(lanes: [f64; 8]) -> f64 {
    let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
    ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: f64) -> Vec<f32> {
        (0..n).map(|k| ((k as f64 * seed).sin() * 1e3) as f32).collect()
    }

    #[test]
    fn sums_do_not_depend_on_the_thread_count() {
        // One block, several, and more than MAX_BLOCKS of the minimum length.
        for n in [0, 5, BLOCK, 3 * BLOCK + 7, MAX_BLOCKS * BLOCK + 1000] {
            let (a, b) = (values(n, 0.37), values(n, 1.91));
            let one = dot(&a, &b, 1);
            for threads in [2, 3, 8] {
                assert_eq!(dot(&a, &b, threads).to_bits(), one.to_bits(), "n {n}, {threads}");
            }
            let exact: f64 = a.iter().zip(&b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum();
            assert!((one - exact).abs() <= 1e-12 * exact.abs().max(1.0), "n {n}: {one} {exact}");
        }
    }

    /// One block's sum as [`dot`] defines it, written out term by term.
    fn eight_lanes(a: &[f32], b: &[f32]) -> f64 {
        let whole = a.len() / 8 * 8;
        let mut lanes = [0.0f64; 8];
        for k in 0..whole {
            lanes[k % 8] += f64::from(a[k]) * f64::from(b[k]);
        }
        let tail: f64 = (whole..a.len()).map(|k| f64::from(a[k]) * f64::from(b[k])).sum();
        let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
        (((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7))) + tail
    }

    #[test]
    fn one_block_is_summed_in_eight_lanes() {
        let (a, b) = (values(100, 0.37), values(100, 1.91));
        assert_eq!(dot(&a, &b, 2).to_bits(), eight_lanes(&a, &b).to_bits());
    }

    #[test]
    fn blocks_summed_four_at_a_time_keep_each_blocks_sum() {
        // 9 whole blocks and a part: two groups of four, then two alone.
        let n = 9 * BLOCK + 100;
        let (a, b) = (values(n, 0.37), values(n, 1.91));
        let blocks = a.chunks(BLOCK).zip(b.chunks(BLOCK));
        let expected = blocks.fold(0.0, |total, (a, b)| total + eight_lanes(a, b));
        for threads in [1, 2] {
            assert_eq!(dot(&a, &b, threads).to_bits(), expected.to_bits(), "{threads}");
        }
    }

    #[test]
    fn side_by_side_runs_every_item_and_returns_the_first_error_in_order() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let ran = AtomicUsize::new(0);
        let result = side_by_side(0..6, |k| {
            ran.fetch_add(1, Ordering::SeqCst);
            if k == 2 || k == 4 {
                return Err(Error::InvalidConfig { field: "item", reason: k.to_string() });
            }
            Ok(())
        });
        assert_eq!(ran.load(Ordering::SeqCst), 6);
        match result {
            Err(Error::InvalidConfig { reason, .. }) => assert_eq!(reason, "2"),
            other => panic!("expected item 2's error, got {other:?}"),
        }
        assert!(side_by_side(0..1, |_| Ok(())).is_ok());
        assert!(side_by_side(std::iter::empty::<usize>(), |_| Ok(())).is_ok());
    }

    #[test]
    fn side_by_side_runs_every_item_from_inside_a_pool_of_one() {
        use std::sync::atomic::AtomicUsize;
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let ran = AtomicUsize::new(0);
        let result = pool.install(|| {
            side_by_side(0..5, |_| {
                ran.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
        });
        assert!(result.is_ok());
        assert_eq!(ran.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn element_wise_passes_cover_every_element_once() {
        for n in [3, MIN_PARALLEL, MIN_PARALLEL + 65] {
            let mut dst = values(n, 0.5);
            let src = values(n, 2.5);
            let expected: Vec<f32> = dst.iter().zip(&src).map(|(a, b)| a + b).collect();
            add_assign(&mut dst, &src, 3);
            assert_eq!(dst, expected, "n {n}");
        }
    }
}
