//! [`Workspace`]: every buffer a forward and backward pass needs, allocated
//! once per (network, batch size).

use super::Network;
use crate::activation::Activation;
use crate::error::Result;
use crate::float::Float;
use crate::loss::{Loss, Targets};

/// Buffers for one network and batches of up to `capacity` samples: the trace
/// of a forward pass (`x^i` and `Φ^{i+1}(x^i)` for every layer) and the
/// back-propagated `δ`. After it has seen its largest batch, forward,
/// backward and Jacobian passes allocate nothing.
///
/// A workspace belongs to one network; passing it one of other widths, or
/// with the identity activation in other places, panics.
#[derive(Clone, Debug)]
pub struct Workspace<F> {
    widths: Vec<usize>,
    identity: Vec<bool>,
    capacity: usize,
    batch: usize,
    threads: usize,
    traced: Traced,
    /// `x[i]`: `x^i` for each sample, `[B, n_i]`.
    x: Vec<Vec<F>>,
    /// `a[i]`: `Φ^{i+1}(x^i)`, `[B, n_i]`; empty when `φ^{i+1}` is the
    /// identity, whose output is `x[i]` itself.
    a: Vec<Vec<F>>,
    /// Two `[B, max n_i]` buffers for `δ^{i+1}` and `δ^i` in turn.
    pub(super) delta: [Vec<F>; 2],
}

/// Which layers the last pass left valid in the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Traced {
    Nothing,
    Layers { from: usize, to: usize },
}

impl<F: Float> Workspace<F> {
    /// Buffers for `network` and batches of up to `capacity` samples (a larger
    /// batch later grows them, allocating once).
    pub fn new(network: &Network, capacity: usize) -> Self {
        let identity: Vec<bool> =
            network.activations().iter().map(|a| *a == Activation::Identity).collect();
        let mut ws = Self {
            widths: network.widths().to_vec(),
            identity,
            capacity: 0,
            batch: 0,
            threads: 1,
            traced: Traced::Nothing,
            x: vec![Vec::new(); network.depth() + 1],
            a: vec![Vec::new(); network.depth()],
            delta: [Vec::new(), Vec::new()],
        };
        ws.reserve(capacity);
        ws
    }

    /// Grows the buffers to hold `batch` samples, if they cannot already.
    pub fn reserve(&mut self, batch: usize) {
        if batch <= self.capacity {
            return;
        }
        let max_width = self.widths.iter().copied().max().unwrap_or(0);
        for (i, x) in self.x.iter_mut().enumerate() {
            x.resize(batch * self.widths[i], F::zero());
        }
        for (i, a) in self.a.iter_mut().enumerate() {
            if !self.identity[i] {
                a.resize(batch * self.widths[i], F::zero());
            }
        }
        for d in &mut self.delta {
            d.resize(batch * max_width, F::zero());
        }
        self.capacity = batch;
    }

    /// Lets the passes on this workspace run their large matrix products on
    /// up to `threads` threads (1 by default; 0 counts as 1). Small products
    /// stay on the calling thread, and results are bitwise the same for any
    /// thread count.
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.set_threads(threads);
        self
    }

    /// As [`with_threads`](Self::with_threads), in place.
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// The thread count set by [`with_threads`](Self::with_threads).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The number of samples the buffers hold without growing.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of samples in the last pass.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// `x^i` of the last pass, `[B, n_i]`.
    ///
    /// # Panics
    /// If the last pass did not compute `x^i`.
    pub fn x(&self, i: usize) -> &[F] {
        self.assert_traced(i, i);
        &self.x[i][..self.batch * self.widths[i]]
    }

    /// `Φ^{i+1}(x^i)` of the last pass, `[B, n_i]`: the input of layer `i`'s affine map.
    ///
    /// # Panics
    /// If the last pass did not go through layer `i`.
    pub fn a(&self, i: usize) -> &[F] {
        self.assert_traced(i, i + 1);
        self.a_unchecked(i)
    }

    /// The network output `x^L` of the last full forward pass, `[B, n_L]`.
    ///
    /// # Panics
    /// If the last pass did not reach the output layer.
    pub fn output(&self) -> &[F] {
        self.x(self.widths.len() - 1)
    }

    #[track_caller]
    fn assert_traced(&self, from: usize, to: usize) {
        let ok = matches!(self.traced, Traced::Layers { from: f, to: t } if f <= from && to <= t);
        assert!(ok, "workspace: the last pass did not compute layers {from}..{to}");
    }

    pub(super) fn a_unchecked(&self, i: usize) -> &[F] {
        let len = self.batch * self.widths[i];
        if self.identity[i] { &self.x[i][..len] } else { &self.a[i][..len] }
    }

    #[track_caller]
    pub(super) fn check_network(&self, network: &Network) {
        // The layout depends on the widths and on which activations are the
        // identity (whose output is its input, with no buffer of its own).
        let identity = network.activations().iter().map(|a| *a == Activation::Identity);
        assert!(
            self.widths == network.widths() && self.identity.iter().copied().eq(identity),
            "workspace built for another network"
        );
    }

    /// Prepares a pass over `batch` samples from layer `from` to `to`.
    pub(super) fn begin(&mut self, batch: usize, from: usize, to: usize) {
        self.reserve(batch);
        self.batch = batch;
        self.traced = Traced::Layers { from, to };
    }

    /// After a pass that did not keep its trace: only `x^to` is valid.
    pub(super) fn keep_only(&mut self, to: usize) {
        self.traced = Traced::Layers { from: to, to };
    }

    pub(super) fn traced(&self) -> Traced {
        self.traced
    }

    /// Mutable access to the buffers one layer step needs: `x^i` for writing
    /// the input, and (`x^i`, `a^i`, `x^{i+1}`) for the step itself.
    pub(super) fn x_mut(&mut self, i: usize) -> &mut [F] {
        let len = self.batch * self.widths[i];
        &mut self.x[i][..len]
    }

    /// The trace of layers `from..=to` cut into blocks of `block` rows: for
    /// each block, its rows of every `x^j` and `Φ(x^j)` (empty for identity
    /// and past the last layer), in layer order.
    pub(super) fn row_blocks(
        &mut self,
        from: usize,
        to: usize,
        block: usize,
    ) -> Vec<BlockTrace<'_, F>> {
        let b = self.batch;
        let count = b.div_ceil(block);
        let mut out: Vec<BlockTrace<'_, F>> =
            (0..count).map(|_| BlockTrace { x: Vec::new(), a: Vec::new() }).collect();
        let widths = &self.widths;
        for (j, x) in self.x.iter_mut().enumerate().take(to + 1).skip(from) {
            for (k, rows) in x[..b * widths[j]].chunks_mut(block * widths[j]).enumerate() {
                out[k].x.push(rows);
            }
        }
        let mut a_layers = self.a.iter_mut().enumerate().skip(from);
        for j in from..=to {
            match a_layers.next() {
                Some((_, a)) if j < to && !self.identity[j] => {
                    for (k, rows) in a[..b * widths[j]].chunks_mut(block * widths[j]).enumerate() {
                        out[k].a.push(rows);
                    }
                }
                _ => out.iter_mut().for_each(|o| o.a.push(&mut [])),
            }
        }
        out
    }

    /// Splits out `(x^i, a^i buffer (empty for identity), x^{i+1}, a^{i+1}
    /// buffer)`; an `a` buffer is empty for the identity, and past the last layer.
    pub(super) fn layer_buffers_mut(&mut self, i: usize) -> (&[F], &mut [F], &mut [F], &mut [F]) {
        let b = self.batch;
        let (head, tail) = self.x.split_at_mut(i + 1);
        let x = &head[i][..b * self.widths[i]];
        let x_next = &mut tail[0][..b * self.widths[i + 1]];
        let len = |j: usize| {
            if self.identity.get(j).copied().unwrap_or(true) { 0 } else { b * self.widths[j] }
        };
        let (a_len, a_next_len) = (len(i), len(i + 1));
        let (a_head, a_tail) = self.a.split_at_mut(i + 1);
        let a_next = match a_tail.first_mut() {
            Some(v) => &mut v[..a_next_len],
            None => &mut [][..],
        };
        (x, &mut a_head[i][..a_len], x_next, a_next)
    }

    /// The loss of the outputs of the last pass, writing `Δ^L` into `delta[0]`.
    pub(super) fn output_loss(
        &mut self,
        loss: Loss,
        targets: Targets<'_, F>,
        scale: f64,
    ) -> Result<F> {
        let last = self.widths.len() - 1;
        let width = self.widths[last];
        let len = self.batch * width;
        loss.value_and_gradient_scaled(
            &self.x[last][..len],
            width,
            targets,
            scale,
            &mut self.delta[0][..len],
        )
    }
}

/// One block of rows of a trace (see [`Workspace::row_blocks`]): `x[j]` and
/// `a[j]` are its rows of `x^{from+j}` and `Φ(x^{from+j})`.
pub(super) struct BlockTrace<'a, F> {
    pub(super) x: Vec<&'a mut [F]>,
    pub(super) a: Vec<&'a mut [F]>,
}
