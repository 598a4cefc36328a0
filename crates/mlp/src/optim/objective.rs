//! [`NetworkObjective`]: a network, a data set and a loss as an [`Objective`].
//!
//! The data set is evaluated in fixed chunks of rows (`chunk_rows`, 256 by
//! default; a mini-batch of fewer rows is cut in two, see [`chunk_len`]),
//! each into its own buffer, and the chunks' losses and gradients are added
//! in chunk order. Threads only decide which chunks run at the same time,
//! never the order of any sum, so the result is bitwise the same for any
//! number of threads; the chunks are part of the result's definition.
//! The same scheme extends to several processes summing their chunks
//! ([`with_group`](NetworkObjective::with_group), [`crate::distributed`]).

use super::Objective;
use crate::data::Dataset;
use crate::distributed::{Collective, Group, Reduction};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::linalg::{Accumulate::Overwrite, gemm_tn};
use crate::loss::{Loss, Targets};
use crate::network::{Network, Workspace};

/// Default rows per chunk.
pub const CHUNK_ROWS: usize = 256;

/// The fewest rows of each half when a mini-batch is cut in two ([`chunk_len`]).
pub const MIN_HALF_ROWS: usize = 64;

/// Rows per chunk for a batch of `rows`: `chunk_rows`, except that a batch
/// of fewer rows (a mini-batch) is cut into two halves (the first one row
/// longer if `rows` is odd) when each has at least [`MIN_HALF_ROWS`].
///
/// Why: a mini-batch in one chunk leaves a second thread nothing but the
/// threading inside its matrix products, which at mini-batch sizes gains
/// nothing (workload M, batch 128 on 784-256-128-10: 2 threads no faster
/// than 1). Two halves run side by side. At one thread the halves cost one
/// extra pass adding the second half's gradient (the first is written
/// straight into the total), and M at one thread measured no slower
/// (docs/PERFORMANCE.md, "Mini-batches in two halves").
/// The rule depends on `rows` alone, never on threads, so results do not either.
#[must_use]
pub fn chunk_len(rows: usize, chunk_rows: usize) -> usize {
    if rows < chunk_rows && rows >= 2 * MIN_HALF_ROWS { rows.div_ceil(2) } else { chunk_rows }
}

/// A network on a data set with a loss, plus optional L2 weight decay
/// `(λ/2) Σ w²` over the weights (not the biases).
#[derive(Debug)]
pub struct NetworkObjective<'a, F: Float> {
    net: &'a Network,
    data: &'a Dataset<F>,
    /// The indices of the selected rows when evaluating a mini-batch
    /// ([`select`](Self::select)).
    batch: Vec<usize>,
    selected: bool,
    loss: Loss,
    scale: f64,
    custom_scale: Option<f64>,
    weight_decay: f64,
    chunk_rows: usize,
    threads: usize,
    workers: Vec<Worker<F>>,
    /// The ranks sharing the rows, if any.
    group: Option<Group<'a>>,
    /// Chunk parts held back by the exact reduction, reused between calls.
    pending: Vec<Part<F>>,
    /// The buffer the ranks' sums travel in.
    buf: Vec<f64>,
}

#[derive(Debug)]
struct Worker<F> {
    ws: Workspace<F>,
    /// A mini-batch chunk's rows, gathered by the thread that evaluates it.
    rows: Option<Dataset<F>>,
    part: Part<F>,
    jacobian: Vec<F>,
    residuals: Vec<F>,
}

/// One chunk's share of a sum: its loss, its gradient (or `Jᵀr`), and for
/// Levenberg-Marquardt its `JᵀJ`. Each is computed whole, then added, so
/// that the sums are the same whichever process computed the chunk.
#[derive(Clone, Debug)]
struct Part<F> {
    loss: F,
    gradient: Vec<F>,
    jtj: Vec<F>,
}

impl<F: Float> Part<F> {
    /// Adds this part to the sums, on up to `threads` threads.
    fn add_to(
        &self,
        total: &mut F,
        gradient: Option<&mut [F]>,
        jtj: Option<&mut [F]>,
        threads: usize,
    ) {
        *total = *total + self.loss;
        if let Some(g) = gradient {
            crate::parallel::add_assign(g, &self.gradient, threads);
        }
        if let Some(m) = jtj {
            crate::parallel::add_assign(m, &self.jtj, threads);
        }
    }
}

/// A rank's sums on their way to and from the other ranks, as one buffer:
/// `[loss, gradient.., jtj..]`.
struct Sums<'s, F> {
    total: F,
    gradient: Option<&'s mut [F]>,
    jtj: Option<&'s mut [F]>,
    buf: &'s mut Vec<f64>,
}

impl<F: Float> Sums<'_, F> {
    fn pack(&mut self) {
        self.buf.clear();
        self.buf.push(self.total.as_f64());
        for part in [self.gradient.as_deref(), self.jtj.as_deref()].into_iter().flatten() {
            self.buf.extend(part.iter().map(|v| v.as_f64()));
        }
    }

    fn unpack(&mut self) {
        self.total = F::cast(self.buf[0]);
        let mut rest = &self.buf[1..];
        for part in [self.gradient.as_deref_mut(), self.jtj.as_deref_mut()].into_iter().flatten() {
            let (head, tail) = rest.split_at(part.len());
            part.iter_mut().zip(head).for_each(|(v, &h)| *v = F::cast(h));
            rest = tail;
        }
    }

    /// The exact reduction: receive the sum of the ranks before this one,
    /// add this rank's parts in chunk order, pass it on; the last rank's sum
    /// is everyone's. Rank 0 has already added its parts to zero.
    fn ordered(&mut self, comm: &dyn Collective, parts: &[Part<F>]) {
        let (rank, size) = (comm.rank(), comm.size());
        if size == 1 {
            return;
        }
        self.pack();
        if rank > 0 {
            comm.receive(self.buf, rank - 1);
            self.unpack();
            for part in parts {
                part.add_to(
                    &mut self.total,
                    self.gradient.as_deref_mut(),
                    self.jtj.as_deref_mut(),
                    1,
                );
            }
            self.pack();
        }
        if rank + 1 < size {
            comm.send(self.buf, rank + 1);
        }
        comm.broadcast(self.buf, size - 1);
        self.unpack();
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Loss,
    Gradient,
    Jacobian,
}

impl<'a, F: Float> NetworkObjective<'a, F> {
    /// The objective `loss.scale(N, n_L) Σ_s l(F(V, f_s), y_s)` over the whole data set.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the data's widths do not fit the network,
    /// or as [`Loss::check_targets`].
    pub fn new(net: &'a Network, data: &'a Dataset<F>, loss: Loss) -> Result<Self> {
        if data.input_width() != net.inputs() {
            return Err(Error::ShapeMismatch {
                what: "input columns of the data (network inputs)",
                expected: net.inputs(),
                got: data.input_width(),
            });
        }
        if data.rows() == 0 {
            return Err(Error::ShapeMismatch { what: "rows of data", expected: 1, got: 0 });
        }
        data.check_inputs()?;
        loss.check_targets(data.targets(), data.rows(), net.outputs())?;
        Ok(Self {
            net,
            data,
            batch: Vec::new(),
            selected: false,
            loss,
            scale: loss.scale(data.rows(), net.outputs()),
            custom_scale: None,
            weight_decay: 0.0,
            chunk_rows: CHUNK_ROWS,
            threads: 1,
            workers: Vec::new(),
            group: None,
            pending: Vec::new(),
            buf: Vec::new(),
        })
    }

    /// Adds `(λ/2) Σ w²` over the weights to the loss.
    #[must_use]
    pub fn with_weight_decay(mut self, lambda: f64) -> Self {
        self.weight_decay = lambda;
        self
    }

    /// Evaluates up to `threads` chunks at once (does not change results).
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Shares the rows with the other ranks of `group`: each rank evaluates
    /// its own rows, and every rank receives the sums over all of them
    /// ([`crate::distributed`]).
    #[must_use]
    pub fn with_group(mut self, group: Group<'a>) -> Self {
        self.group = Some(group);
        self
    }

    /// Rows per chunk (changes results at the rounding level); a smaller
    /// mini-batch is cut in two as [`chunk_len`] says.
    #[must_use]
    pub fn with_chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = rows.max(1);
        self
    }

    /// Normalises by `scale` instead of `loss.scale(N, n_L)`: for a data set
    /// that should count as part of a larger whole. Kept until
    /// [`select`](Self::select) picks a mini-batch, restored by `select(None)`.
    #[must_use]
    pub fn with_scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self.custom_scale = Some(scale);
        self
    }

    /// Restricts the objective to the rows `rows` of the data set (a
    /// mini-batch, normalised by its own count), or with `None` restores the
    /// whole data set. Each chunk of the mini-batch copies its rows into a
    /// buffer of its own when it is evaluated, on the thread evaluating it
    /// (the copy is shared by the threads, and the rows are in cache for the
    /// first product); buffers are reused from call to call, so a training
    /// loop allocates only while batches grow.
    pub fn select(&mut self, rows: Option<&[usize]>) {
        let outputs = self.net.outputs();
        match rows {
            Some(rows) => {
                self.batch.clear();
                self.batch.extend_from_slice(rows);
                self.scale = self.loss.scale(rows.len(), outputs);
            }
            None => {
                let whole = self.loss.scale(self.data.rows(), outputs);
                self.scale = self.custom_scale.unwrap_or(whole);
            }
        }
        self.selected = rows.is_some();
    }

    /// Rows of the selected mini-batch, or of the whole data set.
    fn active_rows(&self) -> usize {
        if self.selected { self.batch.len() } else { self.data.rows() }
    }

    fn num_weights(&self) -> usize {
        (0..self.net.depth()).map(|i| self.net.layer_ranges(i).0.len()).sum()
    }

    fn evaluate(
        &mut self,
        params: &[F],
        want: Want,
        mut gradient: Option<&mut [F]>,
        mut jtj: Option<&mut [F]>,
    ) -> Result<F> {
        let rows = self.active_rows();
        let chunk_rows = chunk_len(rows, self.chunk_rows);
        let (lo, hi) = self.group.map_or((0, rows), |g| g.own_rows(rows, chunk_rows));
        // One (empty) chunk for an empty data set, none for a rank without rows.
        let chunks = (hi - lo).div_ceil(chunk_rows).max(usize::from(self.group.is_none()));
        // Threads go to chunks first; a batch of fewer chunks than threads
        // (a mini-batch) gives the spare ones to its matrix products.
        let all_threads = self.threads;
        let threads = all_threads.min(chunks).max(1);
        let product_threads = (all_threads / threads).max(1);
        let (net, p, nl) = (self.net, self.net.num_params(), self.net.outputs());
        for w in &mut self.workers {
            w.ws.set_threads(product_threads);
        }
        while self.workers.len() < threads {
            let chunk = chunk_rows.min(rows);
            self.workers.push(Worker {
                ws: Workspace::new(net, chunk).with_threads(product_threads),
                rows: None,
                part: Part { loss: F::zero(), gradient: vec![F::zero(); p], jtj: Vec::new() },
                jacobian: Vec::new(),
                residuals: Vec::new(),
            });
        }
        let (loss, scale) = (self.loss, self.scale);
        let (data, picked) = (self.data, self.selected.then_some(&self.batch[..]));
        // In one process the first chunk's gradient is the total's first
        // term, so it is written straight there: no zeroing and no adding of
        // that chunk, two passes fewer over every parameter (a tenth of a
        // step on a 3M-parameter network). The same values: the sum it skips
        // is `0 + g`.
        let direct = self.group.is_none() && want == Want::Gradient && gradient.is_some();
        if let Some(g) = gradient.as_deref_mut().filter(|_| !direct) {
            g.fill(F::zero());
        }
        if let Some(m) = jtj.as_deref_mut() {
            m.fill(F::zero());
        }
        // `into`: where the chunk's gradient goes, if not into its own part.
        let run = |w: &mut Worker<F>, c: usize, into: Option<&mut [F]>| -> Result<()> {
            let start = lo + c * chunk_rows;
            let end = (start + chunk_rows).min(hi);
            let (x, y) = match picked {
                Some(indices) => {
                    let rows = w.rows.get_or_insert_with(|| data.gather(&[]));
                    data.gather_into(&indices[start..end], rows);
                    rows.slice(0, end - start)
                }
                None => data.slice(start, end),
            };
            let part = &mut w.part;
            part.loss = match want {
                Want::Loss => {
                    let out = net.infer(params, x, &mut w.ws);
                    loss.value_scaled(out, nl, y, scale)?
                }
                Want::Gradient => net.loss_and_gradient_scaled(
                    params,
                    x,
                    y,
                    loss,
                    scale,
                    &mut w.ws,
                    into.unwrap_or(&mut part.gradient),
                )?,
                Want::Jacobian => {
                    let m = (end - start) * nl;
                    w.jacobian.resize(m * p, F::zero());
                    w.residuals.resize(m, F::zero());
                    net.parameter_jacobian(params, x, &mut w.ws, &mut w.jacobian);
                    let Targets::Values(y) = y else {
                        return Err(Error::NotLeastSquares { loss });
                    };
                    let root = F::cast(scale.sqrt());
                    for ((r, &o), &t) in w.residuals.iter_mut().zip(w.ws.output()).zip(y) {
                        *r = root * (o - t);
                    }
                    w.jacobian.iter_mut().for_each(|v| *v = *v * root);
                    let (jac, res) = (&w.jacobian, &w.residuals);
                    part.jtj.resize(p * p, F::zero());
                    gemm_tn(&mut part.gradient, jac, res, (p, 1, m), Overwrite, 1); // Jᵀr
                    gemm_tn(&mut part.jtj, jac, jac, (p, p, m), Overwrite, product_threads); // JᵀJ
                    res.iter().map(|&r| r * r).sum()
                }
            };
            Ok(())
        };
        // Under the exact reduction, a rank after the first keeps its chunks'
        // parts until the sum of the ranks before it arrives.
        let defer =
            self.group.is_some_and(|g| g.reduction == Reduction::Exact && g.comm.rank() > 0);
        let mut pending = 0;
        let mut total = F::zero();
        for first in (0..chunks).step_by(threads) {
            let wave = first..chunks.min(first + threads);
            let workers = &mut self.workers[..wave.len()];
            let mut into = if direct && first == 0 { gradient.as_deref_mut() } else { None };
            // On rayon's pool, the first chunk on this thread: spawning
            // threads for each mini-batch cost more than the batch, and
            // sleeping while the pool works cost a fifth of it (workload M).
            let items = workers.iter_mut().zip(wave.clone()).map(|(w, c)| (w, c, into.take()));
            crate::parallel::side_by_side(items, |(w, c, into)| run(w, c, into))?;
            // Reduce in chunk order: the sums do not depend on the thread count.
            for (c, w) in wave.zip(workers.iter()) {
                if direct && c == 0 {
                    total = total + w.part.loss;
                } else if defer {
                    if self.pending.len() == pending {
                        self.pending.push(w.part.clone());
                    } else {
                        self.pending[pending].clone_from(&w.part);
                    }
                    pending += 1;
                } else {
                    let (g, m) = (gradient.as_deref_mut(), jtj.as_deref_mut());
                    w.part.add_to(&mut total, g, m, all_threads);
                }
            }
        }
        if let Some(group) = self.group {
            let (gradient, jtj) = (gradient.as_deref_mut(), jtj.as_deref_mut());
            let mut sums = Sums { total, gradient, jtj, buf: &mut self.buf };
            match group.reduction {
                Reduction::Fast => {
                    sums.pack();
                    group.comm.all_reduce_sum(sums.buf);
                    sums.unpack();
                }
                Reduction::Exact => sums.ordered(group.comm, &self.pending[..pending]),
            }
            total = sums.total;
        }
        Ok(total + self.decay(params, want, gradient, jtj))
    }

    /// Adds weight decay to the gradient (or to the normal equations, at half
    /// weight, since those are for `½∇`), and returns its loss.
    fn decay(
        &self,
        params: &[F],
        want: Want,
        gradient: Option<&mut [F]>,
        jtj: Option<&mut [F]>,
    ) -> F {
        if self.weight_decay == 0.0 {
            return F::zero();
        }
        let p = params.len();
        let lambda = F::cast(self.weight_decay);
        let factor = if want == Want::Jacobian { F::cast(0.5) * lambda } else { lambda };
        let (mut g, mut a) = (gradient, jtj);
        let mut sum = F::zero();
        for i in 0..self.net.depth() {
            let (w, _) = self.net.layer_ranges(i);
            for k in w {
                sum = sum + params[k] * params[k];
                if let Some(g) = g.as_deref_mut() {
                    g[k] = g[k] + factor * params[k];
                }
                if let Some(a) = a.as_deref_mut() {
                    a[k * p + k] = a[k * p + k] + factor;
                }
            }
        }
        F::cast(0.5) * lambda * sum
    }
}

impl<F: Float> Objective<F> for NetworkObjective<'_, F> {
    fn num_params(&self) -> usize {
        self.net.num_params()
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn loss(&mut self, params: &[F]) -> Result<F> {
        self.evaluate(params, Want::Loss, None, None)
    }

    fn loss_and_gradient(&mut self, params: &[F], gradient: &mut [F]) -> Result<F> {
        self.evaluate(params, Want::Gradient, Some(gradient), None)
    }

    /// The data residuals, plus one residual `sqrt(λ/2) w` per weight when
    /// weight decay is on, so that `Σ r²` is the loss.
    fn num_residuals(&self) -> Option<usize> {
        let decay_rows = if self.weight_decay > 0.0 { self.num_weights() } else { 0 };
        self.loss.is_least_squares().then(|| self.active_rows() * self.net.outputs() + decay_rows)
    }

    fn residuals_and_jacobian(
        &mut self,
        params: &[F],
        residuals: &mut [F],
        jacobian: &mut [F],
    ) -> Result<()> {
        if !self.loss.is_least_squares() {
            return Err(Error::NotLeastSquares { loss: self.loss });
        }
        if self.group.is_some() {
            return Err(Error::InvalidConfig {
                field: "solver",
                reason: "the whole Jacobian is not formed across ranks; use normal_equations"
                    .into(),
            });
        }
        let gathered;
        let data = if self.selected {
            gathered = self.data.gather(&self.batch);
            &gathered
        } else {
            self.data
        };
        let (p, m) = (self.net.num_params(), data.rows() * self.net.outputs());
        let mut ws = Workspace::new(self.net, data.rows());
        let (x, y) = data.slice(0, data.rows());
        let (data_jacobian, decay_jacobian) = jacobian.split_at_mut(m * p);
        self.net.parameter_jacobian(params, x, &mut ws, data_jacobian);
        let root = F::cast(self.scale.sqrt());
        data_jacobian.iter_mut().for_each(|v| *v = *v * root);
        let Targets::Values(y) = y else { return Err(Error::NotLeastSquares { loss: self.loss }) };
        let (data_residuals, decay_residuals) = residuals.split_at_mut(m);
        for ((r, &o), &t) in data_residuals.iter_mut().zip(ws.output()).zip(y) {
            *r = root * (o - t);
        }
        // (λ/2) Σ w² as residuals sqrt(λ/2) w_k, whose Jacobian rows are sqrt(λ/2) e_k.
        if self.weight_decay > 0.0 {
            let root = F::cast((0.5 * self.weight_decay).sqrt());
            decay_jacobian.fill(F::zero());
            let weights = (0..self.net.depth()).flat_map(|i| self.net.layer_ranges(i).0);
            for (row, k) in weights.enumerate() {
                decay_residuals[row] = root * params[k];
                decay_jacobian[row * p + k] = root;
            }
        }
        Ok(())
    }

    fn normal_equations(&mut self, params: &[F], jtj: &mut [F], jtr: &mut [F]) -> Result<F> {
        if !self.loss.is_least_squares() {
            return Err(Error::NotLeastSquares { loss: self.loss });
        }
        self.evaluate(params, Want::Jacobian, Some(jtr), Some(jtj))
    }
}
