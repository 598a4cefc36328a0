//! The network of the notes (MATH.md §1, Proposition 1.2, equation (19)).
//!
//! Widths `n_0` (inputs), `n_1`, …, `n_L` (outputs), `L ≥ 1`. Layer `l` owns a
//! weight `w^l` (`n_l × n_{l-1}`), a bias `b^l` (`n_l`) and an activation
//! `φ^l` applied to its *input*, before the affine map:
//!
//! ```text
//! x^0 = f,   x^l = b^l + w^l Φ^l(x^{l-1})  (l = 1..L),   F(V, f) = x^L      (19)
//! ```
//!
//! So the first activation acts on the raw input (usually the identity) and
//! the output is affine; losses such as softmax apply their own output map.
//!
//! # Indexing: code counts layers from 0
//!
//! Code, files and messages use the notes' "von Neumann" indexing (their eq.
//! (2)): **layer `i` (0-based) is `(b^{i+1}, w^{i+1}, φ^{i+1})` of Proposition
//! 1.2**, mapping `x^i` to `x^{i+1}`. The notation table:
//!
//! | code | notes (Proposition 1.2) | shape |
//! |---|---|---|
//! | `widths()[i]` | `n_i` | |
//! | `activations()[i]` | `φ^{i+1}` | |
//! | weight of layer `i` | `w^{i+1}` | `[n_{i+1}, n_i]` row-major (PyTorch's `[out, in]`) |
//! | bias of layer `i` | `b^{i+1}` | `[n_{i+1}]` |
//! | [`Workspace::x`]`(i)` | `x^i` for every sample | `[B, n_i]` |
//! | [`Workspace::a`]`(i)` | `Φ^{i+1}(x^i)` | `[B, n_i]` |
//! | `delta` in [`backward`](Network::backward) | `δ^i` for every sample | `[B, n_i]` |
//! | [`layer_jacobians`](Network::layer_jacobians)`[i]` | `J^i = D F^{L,i}(x^i)` | `[n_L, n_i]` |
//!
//! # Parameter layout
//!
//! All parameters live in one flat vector: for each layer in order, its weight
//! (row-major) then its bias. This is also the order of PyTorch's
//! `parameters_to_vector(nn.Sequential(Linear, act, Linear, …).parameters())`.
//! Gradients and parameter-Jacobian columns use the same layout.

mod backward;
mod forward;
mod init;
mod jacobian;
mod params;
mod predictor;
pub mod reference;
mod workspace;

use core::ops::Range;

pub use forward::ROW_BLOCK;
pub use init::{BiasInit, Init, InitConfig};
pub use params::{Layer, LayerMut, Params};
pub use predictor::Predictor;
pub use workspace::Workspace;

use crate::activation::Activation;
use crate::error::{Error, Result};

/// A network architecture: the widths `n_0..n_L` and one activation per
/// layer. Parameters are kept apart, in a flat slice (see [`Params`]), so that
/// every solver can treat them as one vector.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Network {
    widths: Vec<usize>,
    activations: Vec<Activation>,
}

impl Network {
    /// A network with the given widths `n_0..n_L` and one activation per
    /// layer (`activations[i]` is applied to `x^i`, MATH §1).
    ///
    /// # Errors
    /// [`Error::InvalidNetwork`] if there are fewer than two widths, a width
    /// is 0, the number of activations is not the number of layers, an
    /// activation's parameter is not finite, or the parameters would not
    /// fit in the address space.
    pub fn new(widths: &[usize], activations: &[Activation]) -> Result<Self> {
        let invalid = |reason: String| Err(Error::InvalidNetwork { reason });
        if widths.len() < 2 {
            return invalid(format!(
                "need at least 2 widths (inputs and outputs), got {}",
                widths.len()
            ));
        }
        if let Some(i) = widths.iter().position(|&w| w == 0) {
            return invalid(format!("width {i} is 0; every width must be at least 1"));
        }
        if activations.len() != widths.len() - 1 {
            return invalid(format!(
                "{} widths make {} layers, so {} activations are needed, got {}",
                widths.len(),
                widths.len() - 1,
                widths.len() - 1,
                activations.len()
            ));
        }
        let unfinite = activations.iter().position(|a| match *a {
            Activation::LeakyRelu { slope: p } | Activation::Elu { alpha: p } => !p.is_finite(),
            _ => false,
        });
        if let Some(i) = unfinite {
            return invalid(format!(
                "activation {i} ({}) has a parameter that is not finite",
                activations[i]
            ));
        }
        // The count of parameters, and their bytes in `f64`, must be
        // addressable: a width typed as 2^64 - 1 is an error, not a panic.
        let count = widths
            .windows(2)
            .try_fold(0usize, |sum, w| w[0].checked_add(1)?.checked_mul(w[1])?.checked_add(sum));
        if count.and_then(|c| c.checked_mul(8)).is_none_or(|bytes| bytes > isize::MAX as usize) {
            return invalid(format!("widths {widths:?} make more parameters than memory can hold"));
        }
        Ok(Self { widths: widths.to_vec(), activations: activations.to_vec() })
    }

    /// The usual perceptron `Linear, act, Linear, …, Linear`: identity on the
    /// input, `hidden` on every later layer's input.
    ///
    /// # Errors
    /// As [`Network::new`].
    pub fn with_hidden_activation(widths: &[usize], hidden: Activation) -> Result<Self> {
        let mut activations = vec![hidden; widths.len().saturating_sub(1)];
        if let Some(first) = activations.first_mut() {
            *first = Activation::Identity;
        }
        Self::new(widths, &activations)
    }

    /// The number of layers `L`.
    pub fn depth(&self) -> usize {
        self.activations.len()
    }

    /// The widths `n_0..n_L`.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    /// The activations, `activations()[i]` applied to `x^i` (that is `φ^{i+1}`).
    pub fn activations(&self) -> &[Activation] {
        &self.activations
    }

    /// The number of inputs `n_0`.
    pub fn inputs(&self) -> usize {
        self.widths[0]
    }

    /// The number of outputs `n_L`.
    pub fn outputs(&self) -> usize {
        self.widths[self.depth()]
    }

    /// The largest width.
    pub fn max_width(&self) -> usize {
        self.widths.iter().copied().max().unwrap_or(0)
    }

    /// The number of parameters `P`.
    pub fn num_params(&self) -> usize {
        self.widths.windows(2).map(|w| w[1] * (w[0] + 1)).sum()
    }

    /// Where layer `i`'s weight (`[n_{i+1}, n_i]`) and bias lie in the flat vector.
    ///
    /// # Panics
    /// If `i >= depth()`.
    pub fn layer_ranges(&self, i: usize) -> (Range<usize>, Range<usize>) {
        assert!(i < self.depth(), "layer {i} of a {}-layer network", self.depth());
        let start: usize = self.widths[..=i].windows(2).map(|w| w[1] * (w[0] + 1)).sum();
        let weights = self.widths[i + 1] * self.widths[i];
        let bias_start = start + weights;
        (start..bias_start, bias_start..bias_start + self.widths[i + 1])
    }

    /// Layer `i` of a flat parameter (or gradient) vector.
    ///
    /// # Panics
    /// If `params.len() != num_params()` or `i >= depth()`.
    #[track_caller]
    pub fn layer<'p, F>(&self, params: &'p [F], i: usize) -> Layer<'p, F> {
        self.check_params(params.len());
        let (w, b) = self.layer_ranges(i);
        Layer {
            weight: &params[w],
            bias: &params[b],
            outputs: self.widths[i + 1],
            inputs: self.widths[i],
        }
    }

    /// Layer `i` of a flat parameter (or gradient) vector, mutably.
    ///
    /// # Panics
    /// If `params.len() != num_params()` or `i >= depth()`.
    #[track_caller]
    pub fn layer_mut<'p, F>(&self, params: &'p mut [F], i: usize) -> LayerMut<'p, F> {
        self.check_params(params.len());
        let (w, b) = self.layer_ranges(i);
        let (weight, rest) = params[w.start..b.end].split_at_mut(w.len());
        LayerMut { weight, bias: rest, outputs: self.widths[i + 1], inputs: self.widths[i] }
    }

    #[track_caller]
    pub(crate) fn check_params(&self, len: usize) {
        assert_eq!(len, self.num_params(), "parameter vector length for widths {:?}", self.widths);
    }

    /// A one-line description: `4-16-3 [identity, tanh]`.
    pub fn describe(&self) -> String {
        let widths: Vec<String> = self.widths.iter().map(ToString::to_string).collect();
        let activations: Vec<String> = self.activations.iter().map(ToString::to_string).collect();
        format!("{} [{}]", widths.join("-"), activations.join(", "))
    }
}
