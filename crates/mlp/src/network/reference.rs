//! Slow, per-sample, loop-by-loop transcription of MATH.md §4: **the oracle
//! for tests, not for production use.**
//!
//! Every function here allocates freely and follows the notes' formulas with
//! explicit loops and the notes' 1-based layer numbers `l = 1..L` in its
//! comments (code layer `l - 1`), so that it can be checked against
//! Proposition 1.2 in one sitting. The fast batched code
//! ([`Network::forward`], [`Network::backward`], the Jacobians) must agree
//! with it to rounding; the test suite holds them to that.

// Index loops on purpose: they read like the subscripts of the formulas.
#![allow(clippy::needless_range_loop)]

use super::Network;
use crate::float::Float;
use crate::loss::{Loss, RowTarget};

/// The values of one sample in every layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace<F> {
    /// `x[l]` is `x^l`, for `l = 0..=L`.
    pub x: Vec<Vec<F>>,
    /// `a[l - 1]` is `Φ^l(x^{l-1})`, for `l = 1..=L`.
    pub a: Vec<Vec<F>>,
}

/// A gradient with respect to the parameters (flat layout) and to the input.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient<F> {
    /// `∇_V`, in the flat parameter layout.
    pub params: Vec<F>,
    /// `∇_f`, that is `δ^0`.
    pub input: Vec<F>,
}

/// (19): `x^0 = f`, `x^l = b^l + w^l Φ^l(x^{l-1})`.
///
/// # Panics
/// If `params` or `f` has the wrong length.
pub fn forward<F: Float>(net: &Network, params: &[F], f: &[F]) -> Trace<F> {
    assert_eq!(f.len(), net.inputs(), "reference::forward: one sample");
    let mut x = vec![f.to_vec()];
    let mut a = Vec::new();
    for l in 1..=net.depth() {
        let layer = net.layer(params, l - 1);
        let phi = net.activations()[l - 1];
        let a_prev: Vec<F> = x[l - 1].iter().map(|&v| phi.value(v)).collect();
        let mut x_l = vec![F::zero(); layer.outputs];
        for (i, x_li) in x_l.iter_mut().enumerate() {
            let mut sum = layer.bias[i];
            for (j, &a_j) in a_prev.iter().enumerate() {
                sum = sum + layer.weight[i * layer.inputs + j] * a_j;
            }
            *x_li = sum;
        }
        a.push(a_prev);
        x.push(x_l);
    }
    Trace { x, a }
}

/// §4 for one sample, from `δ^L = dLoss/dx^L`:
///
/// ```text
/// ∇_{b^l} = δ^l
/// ∇_{w^l} = δ^l Φ^l(x^{l-1})ᵀ                       (outer product; Cor. 1.2.1)
/// δ^{l-1} = φ^l′(x^{l-1}) ⊙ ((w^l)ᵀ δ^l)
/// ```
///
/// # Panics
/// If a length is wrong.
pub fn backward<F: Float>(
    net: &Network,
    params: &[F],
    trace: &Trace<F>,
    delta_out: &[F],
) -> Gradient<F> {
    assert_eq!(delta_out.len(), net.outputs(), "reference::backward: one sample");
    let mut grad = vec![F::zero(); net.num_params()];
    let mut delta = delta_out.to_vec();
    for l in (1..=net.depth()).rev() {
        let layer = net.layer(params, l - 1);
        let phi = net.activations()[l - 1];
        let x_prev = &trace.x[l - 1];
        let a_prev = &trace.a[l - 1];
        let g = net.layer_mut(&mut grad, l - 1);
        for i in 0..layer.outputs {
            g.bias[i] = delta[i];
            for j in 0..layer.inputs {
                g.weight[i * layer.inputs + j] = delta[i] * a_prev[j];
            }
        }
        let mut delta_prev = vec![F::zero(); layer.inputs];
        for (j, d) in delta_prev.iter_mut().enumerate() {
            let mut sum = F::zero();
            for (i, &delta_i) in delta.iter().enumerate() {
                sum = sum + layer.weight[i * layer.inputs + j] * delta_i;
            }
            *d = phi.derivative(x_prev[j]) * sum;
        }
        delta = delta_prev;
    }
    Gradient { params: grad, input: delta }
}

/// The notes' cost for one sample, `S = ‖F(V, f) − y‖²`, and its gradient,
/// with `δ^L = 2 r`, `r = F(V, f) − y` (§4).
///
/// # Panics
/// If a length is wrong.
pub fn sse_gradient<F: Float>(net: &Network, params: &[F], f: &[F], y: &[F]) -> (F, Gradient<F>) {
    let trace = forward(net, params, f);
    let r: Vec<F> = trace.x[net.depth()].iter().zip(y).map(|(&x, &y)| x - y).collect();
    let s = r.iter().map(|&r| r * r).sum();
    let delta: Vec<F> = r.iter().map(|&r| F::cast(2.0) * r).collect();
    (s, backward(net, params, &trace, &delta))
}

/// One sample's term of a loss, `scale * l(F(V, f), y)`, and its gradient.
///
/// # Panics
/// If a length is wrong or the target does not suit the loss.
pub fn loss_gradient<F: Float>(
    net: &Network,
    params: &[F],
    f: &[F],
    target: RowTarget<'_, F>,
    loss: Loss,
    scale: f64,
) -> (F, Gradient<F>) {
    let trace = forward(net, params, f);
    let mut delta = vec![F::zero(); net.outputs()];
    let scale = F::cast(scale);
    let value = loss.row(&trace.x[net.depth()], target, Some((&mut delta, scale)));
    (scale * value, backward(net, params, &trace, &delta))
}

/// `J^l = D F^{L,l}(x^l)` for `l = 0..=L` by (18):
/// `J^L = I`, `J^{l-1} = J^l w^l DΦ^l(x^{l-1})`, each `[n_L, n_l]` row-major.
///
/// # Panics
/// If a length is wrong.
pub fn layer_jacobians<F: Float>(net: &Network, params: &[F], f: &[F]) -> Vec<Vec<F>> {
    let trace = forward(net, params, f);
    let nl = net.outputs();
    let mut jac = vec![Vec::new(); net.depth() + 1];
    jac[net.depth()] =
        (0..nl * nl).map(|k| if k % (nl + 1) == 0 { F::one() } else { F::zero() }).collect();
    for l in (1..=net.depth()).rev() {
        let layer = net.layer(params, l - 1);
        let phi = net.activations()[l - 1];
        let mut j_prev = vec![F::zero(); nl * layer.inputs];
        for m in 0..nl {
            for j in 0..layer.inputs {
                let mut sum = F::zero();
                for i in 0..layer.outputs {
                    sum = sum + jac[l][m * layer.outputs + i] * layer.weight[i * layer.inputs + j];
                }
                j_prev[m * layer.inputs + j] = sum * phi.derivative(trace.x[l - 1][j]);
            }
        }
        jac[l - 1] = j_prev;
    }
    jac
}

/// `grad_V F` for one sample, `[n_L, P]` row-major, by (20):
/// `∂x^L_m/∂b^l_i = J^l_{mi}`, `∂x^L_m/∂w^l_{ij} = J^l_{mi} Φ^l(x^{l-1})_j`.
///
/// # Panics
/// If a length is wrong.
pub fn parameter_jacobian<F: Float>(net: &Network, params: &[F], f: &[F]) -> Vec<F> {
    let trace = forward(net, params, f);
    let jac = layer_jacobians(net, params, f);
    let (nl, p) = (net.outputs(), net.num_params());
    let mut out = vec![F::zero(); nl * p];
    for m in 0..nl {
        let row = &mut out[m * p..(m + 1) * p];
        for l in 1..=net.depth() {
            let (n_out, n_in) = (net.widths()[l], net.widths()[l - 1]);
            let g = net.layer_mut(row, l - 1);
            for i in 0..n_out {
                let j_mi = jac[l][m * n_out + i];
                g.bias[i] = j_mi;
                for j in 0..n_in {
                    g.weight[i * n_in + j] = j_mi * trace.a[l - 1][j];
                }
            }
        }
    }
    out
}
