//! Data-parallel training: the seam between the training loop and a
//! message-passing library.
//!
//! Every rank runs the same training loop on the same data set and the same
//! settings; each evaluates only its share of the rows of each batch, and the
//! shares' losses and gradients (or, for Levenberg-Marquardt, `JᵀJ` and `Jᵀr`)
//! are summed across ranks in one buffer per evaluation. Every rank then
//! holds the same sums, takes the same step, and reaches the same decisions;
//! the few decisions that depend on a rank's own clock or signals (time
//! budget, interruption, the epoch callback) are agreed through a reduction
//! too, so no rank waits for one that has left.
//!
//! The library names no message-passing crate: a [`Collective`] is four
//! operations, which the command-line tool implements over MPI (feature
//! `mpi`) and the tests over threads.
//!
//! # Two reductions
//!
//! [`Reduction::Fast`] splits each batch's rows evenly across ranks; each rank
//! sums its chunks, and one all-reduce sums the ranks. The result differs
//! from a single process's at the rounding level and depends on the number of
//! ranks. [`Reduction::Exact`] gives each rank whole chunks of the
//! single-process chunking ([`NetworkObjective`](crate::optim::NetworkObjective))
//! and adds the chunks in chunk order, passing the running sum from rank to
//! rank (rank `r` adds its chunks to the sum of ranks `0..r`, the last rank
//! broadcasts the total): the same additions in the same order as one
//! process, so the trained parameters are bitwise those of the
//! single-process run, whatever the number of ranks. It moves `K + 1` buffers
//! per evaluation in sequence instead of one all-reduce, and needs at least
//! `K` chunks per batch to keep every rank busy (see `chunk_rows`).

use crate::float::Float;

/// The operations data-parallel training needs from a group of processes.
///
/// All ranks call the same operations in the same order. The operations
/// cannot fail: a failure must end the whole job (MPI's default error
/// handler aborts it), since the other ranks could not go on without this one.
///
/// Buffers are `f64` whatever the model's precision: an `f32` travels
/// exactly as an `f64`, and the fast reduction then sums `f32` shares in
/// `f64` before rounding once.
pub trait Collective {
    /// This process's rank, `0..size`.
    fn rank(&self) -> usize;
    /// The number of ranks.
    fn size(&self) -> usize;
    /// Replaces `buf` on every rank by the element-wise sum over ranks; every
    /// rank must receive the same bits.
    fn all_reduce_sum(&self, buf: &mut [f64]);
    /// Replaces `buf` on every rank by rank `root`'s.
    fn broadcast(&self, buf: &mut [f64], root: usize);
    /// Sends `buf` to rank `to`.
    fn send(&self, buf: &[f64], to: usize);
    /// Receives into `buf` what rank `from` sent.
    fn receive(&self, buf: &mut [f64], from: usize);
}

/// How the ranks' sums are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// Rows split evenly, one all-reduce per evaluation; equal to the
    /// single-process result to rounding.
    #[default]
    Fast,
    /// Whole chunks per rank, added in chunk order: bitwise the
    /// single-process result for any number of ranks.
    Exact,
}

/// A group of ranks and how to combine their sums.
#[derive(Clone, Copy)]
pub struct Group<'c> {
    /// The ranks.
    pub comm: &'c dyn Collective,
    /// How their sums are combined.
    pub reduction: Reduction,
}

impl std::fmt::Debug for Group<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("rank", &self.comm.rank())
            .field("size", &self.comm.size())
            .field("reduction", &self.reduction)
            .finish()
    }
}

impl Group<'_> {
    /// The rows `start..end` of `rows` this rank evaluates, when they are cut
    /// into chunks of `chunk_rows` (aligned to chunks under
    /// [`Reduction::Exact`]).
    #[must_use]
    pub fn own_rows(&self, rows: usize, chunk_rows: usize) -> (usize, usize) {
        let (r, k) = (self.comm.rank(), self.comm.size());
        match self.reduction {
            Reduction::Fast => (r * rows / k, (r + 1) * rows / k),
            Reduction::Exact => {
                let chunks = rows.div_ceil(chunk_rows);
                let at = |i: usize| (i * chunks / k * chunk_rows).min(rows);
                (at(r), at(r + 1))
            }
        }
    }

    /// Replaces `values` on every rank by rank 0's.
    pub fn broadcast<F: Float>(&self, values: &mut [F]) {
        let mut buf: Vec<f64> = values.iter().map(|v| v.as_f64()).collect();
        self.comm.broadcast(&mut buf, 0);
        values.iter_mut().zip(&buf).for_each(|(v, &b)| *v = F::cast(b));
    }

    /// Whether any rank says yes.
    #[must_use]
    pub fn any(&self, yes: bool) -> bool {
        let mut flag = [f64::from(u8::from(yes))];
        self.comm.all_reduce_sum(&mut flag);
        flag[0] > 0.0
    }

    /// Whether every rank holds rank 0's `value`.
    #[must_use]
    pub fn agree(&self, value: u64) -> bool {
        // 32-bit pieces are exact in an f64.
        let pieces = |v: u64| [f64::from(v as u32), f64::from((v >> 32) as u32)];
        let mut root = pieces(value);
        self.comm.broadcast(&mut root, 0);
        !self.any(root != pieces(value))
    }
}
