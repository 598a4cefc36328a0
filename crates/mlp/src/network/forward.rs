//! The batched forward pass (19) and the evaluation of a range of layers `F^{c,a}` (5).

use super::workspace::BlockTrace;
use super::{Network, Workspace};
use crate::activation::Activation;
use crate::float::Float;
use crate::linalg::{Accumulate, gemm_nt};

/// Rows per block when a forward pass splits a large batch (the unit of
/// work for threads; chunks of a training batch are at most this long, so
/// training passes are never split).
pub const ROW_BLOCK: usize = 256;

impl Network {
    /// The forward pass (19) for a batch, samples as rows:
    /// `X^{i+1} = Φ^{i+1}(X^i) (W^{i+1})ᵀ + 1 (b^{i+1})ᵀ`, one GEMM per layer
    /// (MATH.md §5). Returns the outputs `x^L` and keeps the trace (every `x^i`
    /// and `Φ^{i+1}(x^i)`) in `ws` for [`backward`](Self::backward); to
    /// predict, [`infer`](Self::infer) gives the same outputs without copying
    /// the input into the trace.
    ///
    /// # Shapes
    /// - `params`: `[P]`, the flat vector
    /// - `input`: `[B, n_0]` row-major
    /// - returns `[B, n_L]`
    ///
    /// # Panics
    /// If `params` has the wrong length, `input.len()` is not a multiple of
    /// `n_0`, or `ws` was built for another network.
    ///
    /// # Examples
    /// ```
    /// use mlp::{Activation, Network, Params, Workspace};
    /// let net = Network::with_hidden_activation(&[2, 3, 1], Activation::Tanh)?;
    /// let params = Params::<f64>::init(&net, mlp::Init::XavierUniform, 7)?;
    /// let mut ws = Workspace::new(&net, 4);
    /// let y = net.forward(&params, &[0.1, 0.2, 0.3, 0.4], &mut ws); // 2 samples
    /// assert_eq!(y.len(), 2);
    /// # Ok::<(), mlp::Error>(())
    /// ```
    #[track_caller]
    pub fn forward<'w, F: Float>(
        &self,
        params: &[F],
        input: &[F],
        ws: &'w mut Workspace<F>,
    ) -> &'w [F] {
        self.eval_range(params, 0, self.depth(), input, ws)
    }

    /// `F^{to,from}` of (3)-(8): maps values `x^from` of layer `from` to
    /// `x^to`, using only the parameters of layers `from..to` (0-based code
    /// layers; see the [module docs](super)). The composition rule (5),
    /// `F^{c,0}(f) = F^{c,a}(F^{a,0}(f))`, holds bit for bit: every layer step
    /// is the same computation whichever range it belongs to.
    ///
    /// # Shapes
    /// - `x_from`: `[B, n_from]`; returns `[B, n_to]`
    ///
    /// # Panics
    /// Unless `from < to <= depth()`; and as [`forward`](Self::forward).
    #[track_caller]
    pub fn eval_range<'w, F: Float>(
        &self,
        params: &[F],
        from: usize,
        to: usize,
        x_from: &[F],
        ws: &'w mut Workspace<F>,
    ) -> &'w [F] {
        self.run_range(params, from, to, x_from, ws, Input::Keep)
    }

    /// The outputs of the forward pass (19) for a batch, as
    /// [`forward`](Self::forward) gives them bit for bit, for prediction:
    /// the input is read where it lies instead of copied into the trace
    /// (the copy was 7% of workload I(b)), so afterwards only
    /// [`Workspace::output`] is valid, and [`backward`](Self::backward)
    /// needs a [`forward`](Self::forward) first.
    ///
    /// # Shapes
    /// - `input`: `[B, n_0]` row-major; returns `[B, n_L]`
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    #[track_caller]
    pub fn infer<'w, F: Float>(
        &self,
        params: &[F],
        input: &[F],
        ws: &'w mut Workspace<F>,
    ) -> &'w [F] {
        self.run_range(params, 0, self.depth(), input, ws, Input::ReadInPlace)
    }

    #[track_caller]
    fn run_range<'w, F: Float>(
        &self,
        params: &[F],
        from: usize,
        to: usize,
        x_from: &[F],
        ws: &'w mut Workspace<F>,
        input: Input,
    ) -> &'w [F] {
        assert!(
            from < to && to <= self.depth(),
            "layer range {from}..{to} of a {}-layer network",
            self.depth()
        );
        self.check_params(params.len());
        ws.check_network(self);
        let width = self.widths()[from];
        assert_eq!(
            x_from.len() % width,
            0,
            "input length {} is not a multiple of width {width}",
            x_from.len()
        );
        ws.begin(x_from.len() / width, from, to);
        if ws.batch() > ROW_BLOCK {
            self.eval_blocks(params, from, to, x_from, ws, input);
        } else {
            if input == Input::Keep {
                ws.x_mut(from).copy_from_slice(x_from);
            }
            let threads = ws.threads();
            for i in from..to {
                let (x, a, x_next, a_next) = ws.layer_buffers_mut(i);
                let x = if i == from && input == Input::ReadInPlace { x_from } else { x };
                if i == from && !a.is_empty() {
                    self.activations()[from].apply(x, a);
                }
                self.layer_step(params, i, i + 1 < to, (x, a), [x_next, a_next], threads);
            }
        }
        if input == Input::ReadInPlace {
            ws.keep_only(to);
        }
        ws.x(to)
    }

    /// A batch of more than [`ROW_BLOCK`] rows, one block of rows at a time
    /// through every layer; with several threads in `ws`, blocks run side by
    /// side (no reduction is needed: rows are independent). The blocks do
    /// not depend on the thread count, so neither do the results. To keep
    /// the input, each block copies its own rows of `x_from` into the trace,
    /// so that the copy is shared by the threads and the rows are in cache
    /// when the first product reads them.
    fn eval_blocks<F: Float>(
        &self,
        params: &[F],
        from: usize,
        to: usize,
        x_from: &[F],
        ws: &mut Workspace<F>,
        input: Input,
    ) {
        let threads = ws.threads();
        let width = self.widths()[from];
        let count = ws.batch().div_ceil(ROW_BLOCK);
        let blocks =
            ws.row_blocks(from, to, ROW_BLOCK).into_iter().zip(x_from.chunks(ROW_BLOCK * width));
        let run = |(mut block, rows): (BlockTrace<'_, F>, &[F])| {
            if input == Input::Keep {
                block.x[0].copy_from_slice(rows);
            }
            for i in from..to {
                let j = i - from;
                let (x, x_next) = block.x.split_at_mut(j + 1);
                let (a, a_next) = block.a.split_at_mut(j + 1);
                let x = if j == 0 && input == Input::ReadInPlace { rows } else { &*x[j] };
                if j == 0 && !a[0].is_empty() {
                    self.activations()[from].apply(x, a[0]);
                }
                let here = (x, &*a[j]);
                self.layer_step(params, i, i + 1 < to, here, [&mut *x_next[0], &mut *a_next[0]], 1);
            }
        };
        if threads > 1 && count > 1 {
            let mut groups: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
            for (k, block) in blocks.into_iter().enumerate() {
                groups[k % threads].push(block);
            }
            rayon::scope(|s| {
                for group in groups {
                    s.spawn(|_| group.into_iter().for_each(run));
                }
            });
        } else {
            blocks.into_iter().for_each(run);
        }
    }

    /// Layer `i` on a batch (or a block of rows), given `x^i` and `Φ(x^i)`
    /// (empty for the identity): `x^{i+1} = Φ(x^i) Wᵀ + b` (19) and, if
    /// `activate_next`, `Φ(x^{i+1})` for the next layer in the same pass as
    /// the bias (one pass over `x^{i+1}` instead of three).
    fn layer_step<F: Float>(
        &self,
        params: &[F],
        i: usize,
        activate_next: bool,
        (x, a): (&[F], &[F]),
        [x_next, a_next]: [&mut [F]; 2],
        threads: usize,
    ) {
        let layer = self.layer(params, i);
        let rows = x_next.len() / layer.outputs;
        let a: &[F] = if a.is_empty() { x } else { a }; // identity: Φ(x) is x itself
        let next = if activate_next { self.activations()[i + 1] } else { Activation::Identity };
        let a_next = if next == Activation::Identity { &mut [][..] } else { a_next };
        if layer.inputs == 1 {
            // One input: the product is an outer product, written in the
            // bias pass (a product call cost more than the pass itself).
            next.outer_bias_and_apply((a, layer.weight), layer.bias, x_next, a_next);
            return;
        }
        let shape = (rows, layer.outputs, layer.inputs);
        gemm_nt(x_next, a, layer.weight, shape, Accumulate::Overwrite, threads);
        next.add_bias_and_apply(layer.bias, x_next, a_next);
    }

    /// The outputs for a batch, allocating a workspace: convenient for a few
    /// predictions; in a loop, keep a [`Workspace`] and call [`infer`](Self::infer).
    ///
    /// # Shapes
    /// - `input`: `[B, n_0]`; returns `[B, n_L]`
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    #[track_caller]
    pub fn predict<F: Float>(&self, params: &[F], input: &[F]) -> Vec<F> {
        let mut ws = Workspace::new(self, input.len() / self.inputs());
        self.infer(params, input, &mut ws).to_vec()
    }
}

/// Whether a forward pass keeps its input in the trace (for `backward`) or
/// only reads it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Input {
    Keep,
    ReadInPlace,
}
