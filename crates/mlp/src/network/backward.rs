//! Batched back-propagation (MATH.md §5): the gradient of a loss with respect
//! to every parameter, and on request with respect to the inputs.

use super::workspace::Traced;
use super::{Network, Workspace};
use crate::error::Result;
use crate::float::Float;
use crate::linalg::{Accumulate, column_sums, gemm_nn, gemm_tn};
use crate::loss::{Loss, Targets};

impl Network {
    /// The loss of a batch (normalised by the batch, [`Loss::scale`]) and its
    /// gradient with respect to every parameter, written into `grad`.
    ///
    /// # Shapes
    /// - `input`: `[B, n_0]`; `targets`: see [`Targets`]; `grad`: `[P]`
    ///
    /// # Errors
    /// If the targets do not suit the loss ([`Loss::check_targets`]); `grad`
    /// is then untouched.
    ///
    /// # Panics
    /// As [`forward`](Self::forward), or if `grad.len() != P`.
    #[track_caller]
    pub fn loss_and_gradient<F: Float>(
        &self,
        params: &[F],
        input: &[F],
        targets: Targets<'_, F>,
        loss: Loss,
        ws: &mut Workspace<F>,
        grad: &mut [F],
    ) -> Result<F> {
        let rows = input.len() / self.inputs();
        let scale = loss.scale(rows, self.outputs());
        self.loss_and_gradient_scaled(params, input, targets, loss, scale, ws, grad)
    }

    /// As [`loss_and_gradient`](Self::loss_and_gradient), normalised by the
    /// given `scale` instead of the batch's own: with `loss.scale(N, n_L)`, the
    /// sum over the chunks of a data set of `N` samples is the data set's loss
    /// and gradient.
    ///
    /// # Errors
    /// As [`loss_and_gradient`](Self::loss_and_gradient).
    ///
    /// # Panics
    /// As [`loss_and_gradient`](Self::loss_and_gradient).
    #[track_caller]
    #[allow(clippy::too_many_arguments)]
    pub fn loss_and_gradient_scaled<F: Float>(
        &self,
        params: &[F],
        input: &[F],
        targets: Targets<'_, F>,
        loss: Loss,
        scale: f64,
        ws: &mut Workspace<F>,
        grad: &mut [F],
    ) -> Result<F> {
        self.check_params(grad.len());
        self.forward(params, input, ws);
        let value = ws.output_loss(loss, targets, scale)?;
        self.backpropagate(params, ws, grad, None);
        Ok(value)
    }

    /// Back-propagation (§5) after a [`forward`](Self::forward) pass, from a
    /// given `Δ^L = dLoss/dX^L`:
    ///
    /// ```text
    /// ∇W^{i+1} = (Δ^{i+1})ᵀ Φ^{i+1}(X^i)                (Cor. 1.2.1)
    /// ∇b^{i+1} = 1ᵀ Δ^{i+1}
    /// Δ^i      = (Δ^{i+1} W^{i+1}) ⊙ Φ^{i+1}′(X^i)       (18)
    /// ```
    ///
    /// Same result as [`reference::backward`](super::reference::backward)
    /// summed over the batch, to rounding. `input_grad`, if given, receives
    /// `Δ^0`, the gradient with respect to the inputs.
    ///
    /// # Shapes
    /// - `output_grad`: `[B, n_L]`; `grad`: `[P]`; `input_grad`: `[B, n_0]`
    ///
    /// # Panics
    /// If the last pass on `ws` was not a full forward pass, or a length is wrong.
    #[track_caller]
    pub fn backward<F: Float>(
        &self,
        params: &[F],
        ws: &mut Workspace<F>,
        output_grad: &[F],
        grad: &mut [F],
        input_grad: Option<&mut [F]>,
    ) {
        let full = Traced::Layers { from: 0, to: self.depth() };
        // Checked here too, so that a backward before any forward says so
        // rather than that the output gradient has the wrong length.
        assert!(ws.traced() == full, "backward needs a full forward pass first");
        let len = ws.batch() * self.outputs();
        assert_eq!(output_grad.len(), len, "output gradient length");
        ws.delta[0][..len].copy_from_slice(output_grad);
        self.backpropagate(params, ws, grad, input_grad);
    }

    /// §5 from `Δ^L` in `ws.delta[0]`.
    #[track_caller]
    fn backpropagate<F: Float>(
        &self,
        params: &[F],
        ws: &mut Workspace<F>,
        grad: &mut [F],
        input_grad: Option<&mut [F]>,
    ) {
        self.check_params(params.len());
        self.check_params(grad.len());
        ws.check_network(self);
        let full = Traced::Layers { from: 0, to: self.depth() };
        assert!(ws.traced() == full, "backward needs a full forward pass first");
        let b = ws.batch();
        if let Some(g) = &input_grad {
            assert_eq!(g.len(), b * self.inputs(), "input gradient length");
        }
        // Moved out (no allocation) so the trace can be read while they are written.
        let [mut cur, mut next] = std::mem::take(&mut ws.delta);
        for i in (0..self.depth()).rev() {
            let (n_in, n_out) = (self.widths()[i], self.widths()[i + 1]);
            let delta = &cur[..b * n_out];
            let g = self.layer_mut(grad, i);
            let shape = (n_out, n_in, b);
            gemm_tn(g.weight, delta, ws.a(i), shape, Accumulate::Overwrite, ws.threads()); // ∇W = Δᵀ A  (Cor. 1.2.1)
            column_sums(delta, g.bias); // ∇b = 1ᵀ Δ
            if i > 0 || input_grad.is_some() {
                self.delta_step(params, i, ws, delta, &mut next[..b * n_in]);
                std::mem::swap(&mut cur, &mut next);
            }
        }
        if let Some(g) = input_grad {
            g.copy_from_slice(&cur[..g.len()]);
        }
        ws.delta = [cur, next];
    }

    /// `Δ^i = (Δ^{i+1} W^{i+1}) ⊙ Φ^{i+1}′(X^i)`, (18) for a batch (or for the
    /// rows of a Jacobian, which obey the same recursion).
    pub(super) fn delta_step<F: Float>(
        &self,
        params: &[F],
        i: usize,
        ws: &Workspace<F>,
        delta: &[F],
        delta_prev: &mut [F],
    ) {
        let layer = self.layer(params, i);
        let b = ws.batch();
        if layer.outputs == 1 {
            // One output: `Δ W` is an outer product, written in the pass
            // that multiplies by Φ′ (18).
            let (x, a) = (ws.x(i), ws.a(i));
            self.activations()[i].outer_backprop((delta, layer.weight), x, a, delta_prev);
            return;
        }
        gemm_nn(
            delta_prev,
            delta,
            layer.weight,
            (b, layer.inputs, layer.outputs),
            Accumulate::Overwrite,
            ws.threads(),
        ); // Δ W
        self.activations()[i].backprop(ws.x(i), ws.a(i), delta_prev); // ⊙ Φ′(X)  (18)
    }
}
