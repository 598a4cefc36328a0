//! Jacobians of the network output (MATH.md §4, (18), (20)).
//!
//! Row `m` of `∂x^L/∂(anything)` for one sample is back-propagation seeded with
//! `δ^L = e_m` (the m-th unit vector): by (18) the seeded `δ^i` is row `m` of
//! `J^i = D F^{L,i}(x^i)`, and by (20) the parameter derivatives follow from
//! it as the gradient does from `δ`. So every function here runs the same
//! kernel as [`backward`](Network::backward) (`delta_step`) once per output,
//! for the whole batch at once, and writes rows instead of summing them.

use super::{Network, Workspace};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::linalg::{Accumulate, gemm_nn};
use crate::loss::Loss;

impl Network {
    /// The input Jacobian `dF/df = J^0` (`[n_L, n_0]`) of every sample, in
    /// Boothby's convention `[DF]_{ij} = ∂F_i/∂f_j`.
    ///
    /// # Shapes
    /// - `input`: `[B, n_0]`; `out`: `[B, n_L, n_0]` row-major
    ///
    /// # Panics
    /// As [`forward`](Self::forward), or if `out` has the wrong length.
    #[track_caller]
    pub fn input_jacobian<F: Float>(
        &self,
        params: &[F],
        input: &[F],
        ws: &mut Workspace<F>,
        out: &mut [F],
    ) {
        let (n0, nl) = (self.inputs(), self.outputs());
        self.forward(params, input, ws);
        let b = ws.batch();
        assert_eq!(out.len(), b * nl * n0, "input Jacobian length");
        self.for_each_output_seed(params, ws, |m, i, delta, _| {
            if i == 0 {
                for s in 0..b {
                    let row = &mut out[(s * nl + m) * n0..][..n0];
                    row.copy_from_slice(&delta[s * n0..][..n0]);
                }
            }
        });
    }

    /// The parameter Jacobian `grad_V F` (`[n_L, P]`, (20)) of every sample,
    /// stacked: row `s n_L + m` holds `∂x^L_m/∂V` for sample `s`, with columns
    /// in the flat parameter layout. This is the residual Jacobian of the sum
    /// of squares S, for Gauss-Newton and Levenberg-Marquardt.
    ///
    /// # Shapes
    /// - `input`: `[B, n_0]`; `out`: `[B n_L, P]` row-major
    ///
    /// # Panics
    /// As [`forward`](Self::forward), or if `out` has the wrong length.
    #[track_caller]
    pub fn parameter_jacobian<F: Float>(
        &self,
        params: &[F],
        input: &[F],
        ws: &mut Workspace<F>,
        out: &mut [F],
    ) {
        let (nl, p) = (self.outputs(), self.num_params());
        self.forward(params, input, ws);
        let b = ws.batch();
        assert_eq!(out.len(), b * nl * p, "parameter Jacobian length");
        // Visited with δ^k, which feeds layer k - 1's parameters.
        self.for_each_output_seed(params, ws, |m, k, delta, ws| {
            let Some(i) = k.checked_sub(1) else { return };
            let (n_in, n_out) = (self.widths()[i], self.widths()[i + 1]);
            let (w_range, b_range) = self.layer_ranges(i);
            let a = ws.a(i);
            for s in 0..b {
                let row = &mut out[(s * nl + m) * p..][..p];
                let d = &delta[s * n_out..][..n_out];
                let a_s = &a[s * n_in..][..n_in];
                let weight = &mut row[w_range.clone()];
                for (w_row, &d_r) in weight.chunks_exact_mut(n_in).zip(d) {
                    for (w, &a_j) in w_row.iter_mut().zip(a_s) {
                        *w = d_r * a_j; // ∂x^L_m/∂w_rj = J_mr Φ(x)_j   (20)
                    }
                }
                row[b_range.clone()].copy_from_slice(d); // ∂x^L_m/∂b_r = J_mr   (20)
            }
        });
    }

    /// The Jacobian of the residuals `r` of a least-squares loss
    /// ([`Loss::residuals`]): `sqrt(loss.scale(B, n_L))` times
    /// [`parameter_jacobian`](Self::parameter_jacobian), so that
    /// `2 Jᵀ r` is the gradient of the loss (10).
    ///
    /// # Shapes
    /// - `input`: `[B, n_0]`; `out`: `[B n_L, P]` row-major
    ///
    /// # Errors
    /// [`Error::NotLeastSquares`] unless the loss is a sum of squares.
    ///
    /// # Panics
    /// As [`parameter_jacobian`](Self::parameter_jacobian).
    #[track_caller]
    pub fn residual_jacobian<F: Float>(
        &self,
        params: &[F],
        input: &[F],
        loss: Loss,
        ws: &mut Workspace<F>,
        out: &mut [F],
    ) -> Result<()> {
        if !loss.is_least_squares() {
            return Err(Error::NotLeastSquares { loss });
        }
        self.parameter_jacobian(params, input, ws, out);
        let root = F::cast(loss.scale(ws.batch(), self.outputs()).sqrt());
        if root != F::one() {
            out.iter_mut().for_each(|v| *v = *v * root);
        }
        Ok(())
    }

    /// The per-layer Jacobians `J^i = D F^{L,i}(x^i)` (`[n_L, n_i]`, for
    /// `i = 0..=L`) of one sample, by the recursion (18):
    /// `J^L = I`, `J^{i} = J^{i+1} W^{i+1} DΦ^{i+1}(x^i)`. `J^0` is the input Jacobian.
    ///
    /// # Shapes
    /// - `input`: `[n_0]` (one sample); returns `L + 1` matrices, `[n_L, n_i]` row-major
    ///
    /// # Panics
    /// As [`forward`](Self::forward), or if `input` is not one sample.
    #[track_caller]
    pub fn layer_jacobians<F: Float>(
        &self,
        params: &[F],
        input: &[F],
        ws: &mut Workspace<F>,
    ) -> Vec<Vec<F>> {
        assert_eq!(input.len(), self.inputs(), "layer_jacobians takes one sample");
        self.forward(params, input, ws);
        let nl = self.outputs();
        let mut jac = vec![Vec::new(); self.depth() + 1];
        jac[self.depth()] =
            (0..nl * nl).map(|k| if k % (nl + 1) == 0 { F::one() } else { F::zero() }).collect();
        for i in (0..self.depth()).rev() {
            let layer = self.layer(params, i);
            let mut j = vec![F::zero(); nl * layer.inputs];
            gemm_nn(
                &mut j,
                &jac[i + 1],
                layer.weight,
                (nl, layer.inputs, layer.outputs),
                Accumulate::Overwrite,
                1,
            );
            let activation = self.activations()[i];
            let (x, a) = (ws.x(i), ws.a(i));
            for row in j.chunks_exact_mut(layer.inputs) {
                for ((v, &xj), &aj) in row.iter_mut().zip(x).zip(a) {
                    *v = *v * activation.derivative_given(xj, aj); // J W DΦ(x)  (18)
                }
            }
            jac[i] = j;
        }
        jac
    }

    /// Runs `δ^L = e_m` back through the network for each output `m` and the
    /// whole batch, calling `visit(m, i, δ^i, ws)` for `i = L` down to 0.
    fn for_each_output_seed<F: Float>(
        &self,
        params: &[F],
        ws: &mut Workspace<F>,
        mut visit: impl FnMut(usize, usize, &[F], &Workspace<F>),
    ) {
        let (b, nl) = (ws.batch(), self.outputs());
        let [mut cur, mut next] = std::mem::take(&mut ws.delta);
        for m in 0..nl {
            let seed = &mut cur[..b * nl];
            seed.fill(F::zero());
            seed.iter_mut().skip(m).step_by(nl).for_each(|v| *v = F::one());
            visit(m, self.depth(), &cur[..b * nl], ws);
            for i in (0..self.depth()).rev() {
                let (n_in, n_out) = (self.widths()[i], self.widths()[i + 1]);
                self.delta_step(params, i, ws, &cur[..b * n_out], &mut next[..b * n_in]);
                std::mem::swap(&mut cur, &mut next);
                visit(m, i, &cur[..b * n_in], ws);
            }
        }
        ws.delta = [cur, next];
    }
}
