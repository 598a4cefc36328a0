//! The batched forward pass (19) and the evaluation of a range of layers `F^{c,a}` (5).

use super::{Network, Workspace};
use crate::activation::Activation;
use crate::float::Float;
use crate::linalg::{Accumulate, gemm_nt};

impl Network {
    /// The forward pass (19) for a batch, samples as rows:
    /// `X^{i+1} = Φ^{i+1}(X^i) (W^{i+1})ᵀ + 1 (b^{i+1})ᵀ`, one GEMM per layer
    /// (MATH.md §5). Returns the outputs `x^L` and keeps the trace (every `x^i`
    /// and `Φ^{i+1}(x^i)`) in `ws` for [`backward`](Self::backward).
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
        ws.x_mut(from).copy_from_slice(x_from);
        let (x, a, _) = ws.layer_buffers(from);
        if !a.is_empty() {
            self.activations()[from].apply(x, a);
        }
        for i in from..to {
            self.layer_step(params, i, i + 1 < to, ws);
        }
        ws.x(to)
    }

    /// Layer `i` on the batch in `ws`, given `Φ(x^i)`: `x^{i+1} = Φ(x^i) Wᵀ + b`
    /// (19), and, if `activate_next`, `Φ(x^{i+1})` for the next layer in the
    /// same pass as the bias (one pass over `x^{i+1}` instead of three).
    fn layer_step<F: Float>(
        &self,
        params: &[F],
        i: usize,
        activate_next: bool,
        ws: &mut Workspace<F>,
    ) {
        let layer = self.layer(params, i);
        let (batch, threads) = (ws.batch(), ws.threads());
        let (x, a, x_next, a_next) = ws.layer_buffers_mut(i);
        let a: &[F] = if a.is_empty() { x } else { a }; // identity: Φ(x) is x itself
        let shape = (batch, layer.outputs, layer.inputs);
        gemm_nt(x_next, a, layer.weight, shape, Accumulate::Overwrite, threads);
        let next = if activate_next { self.activations()[i + 1] } else { Activation::Identity };
        let a_next = if next == Activation::Identity { &mut [][..] } else { a_next };
        next.add_bias_and_apply(layer.bias, x_next, a_next);
    }

    /// The outputs for a batch, allocating a workspace: convenient for a few
    /// predictions; in a loop, keep a [`Workspace`] and call [`forward`](Self::forward).
    ///
    /// # Shapes
    /// - `input`: `[B, n_0]`; returns `[B, n_L]`
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    #[track_caller]
    pub fn predict<F: Float>(&self, params: &[F], input: &[F]) -> Vec<F> {
        let mut ws = Workspace::new(self, input.len() / self.inputs());
        self.forward(params, input, &mut ws).to_vec()
    }
}
