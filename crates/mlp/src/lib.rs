//! `mlp`: multilayer perceptrons trained by exact back-propagation.
//!
//! The mathematics is that of `shared/spec/MATH.md` (restated from L. Borasi's
//! notes on deep learning), and the code cites the notes' equation numbers
//! where it computes them: the network (19), the composition rule (5),
//! back-propagation (18) and Corollary 1.2.1, the Jacobians (20).
//!
//! # Brief overview
//!
//! - [`Network`] is an architecture: widths `n_0..n_L` and one [`Activation`]
//!   per layer, applied to the layer's *input* before its affine map. Layers
//!   are counted from 0; layer `i` is `(b^{i+1}, w^{i+1})` of the notes (see
//!   the [`network`] module for the notation table).
//! - [`Params`] holds every weight and bias in one flat vector (PyTorch's
//!   `[out, in]` layout, layer by layer), with per-layer views. Gradients and
//!   Jacobian columns use the same layout, so every solver speaks `&[F]`.
//!   [`Params::init`] draws them from a seeded, portable [`Rng`].
//! - [`Workspace`] holds the buffers of a forward and backward pass for a
//!   batch size; after warm-up, passes allocate nothing.
//! - [`Network::forward`] runs (19) on a batch (samples as rows, one GEMM per
//!   layer); [`Network::eval_range`] runs any contiguous range `F^{c,a}`.
//! - A [`Loss`] turns outputs and [`Targets`] into a value and `dLoss/dx^L`;
//!   [`Network::loss_and_gradient`] and [`Network::backward`] back-propagate it.
//! - [`Network::input_jacobian`], [`Network::layer_jacobians`],
//!   [`Network::parameter_jacobian`] and [`Network::residual_jacobian`] give
//!   the Jacobians that sensitivity analysis, Gauss-Newton and
//!   Levenberg-Marquardt need.
//! - [`network::reference`] is a slow per-sample transcription of MATH §4:
//!   the oracle the fast code is tested against.
//!
//! All of it is generic over [`Float`] (`f32` or `f64`; `f64` by default).
//!
//! # Example
//!
//! Fit `y = x²` on five points with plain gradient descent on the notes' cost S:
//!
//! ```
//! use mlp::{Activation, Init, Loss, Network, Params, Targets, Workspace};
//!
//! let net = Network::with_hidden_activation(&[1, 8, 1], Activation::Tanh)?;
//! let mut params = Params::<f64>::init(&net, Init::XavierUniform, 42)?;
//! let x = [-1.0, -0.5, 0.0, 0.5, 1.0];
//! let y = [1.0, 0.25, 0.0, 0.25, 1.0];
//!
//! let mut ws = Workspace::new(&net, x.len());
//! let mut grad = vec![0.0; net.num_params()];
//! let first = net.loss_and_gradient(&params, &x, Targets::Values(&y), Loss::SumOfSquares, &mut ws, &mut grad)?;
//! let mut last = first;
//! for _ in 0..500 {
//!     last = net.loss_and_gradient(&params, &x, Targets::Values(&y), Loss::SumOfSquares, &mut ws, &mut grad)?;
//!     for (v, g) in params.iter_mut().zip(&grad) {
//!         *v -= 0.05 * g;
//!     }
//! }
//! assert!(last < first / 10.0);
//! # Ok::<(), mlp::Error>(())
//! ```

pub mod activation;
#[cfg(feature = "ndarray")]
mod array;
pub mod checkpoint;
pub mod data;
pub mod distributed;
mod elementary;
mod error;
pub mod export;
mod float;
mod linalg;
pub mod loss;
pub mod metrics;
pub mod model_file;
pub mod network;
pub mod optim;
mod parallel;
pub mod prediction;
pub mod rng;
mod serde_float;
mod simd;
mod train;

/// The matrix products exactly as the network calls them (register tiles,
/// sums, faer, threads above a size), for the benchmark harness's
/// `mlp-bench products` to time alone. Not part of the API: no stability
/// promised.
#[doc(hidden)]
pub mod bench_support {
    pub use crate::linalg::{Accumulate, gemm_nn, gemm_nt, gemm_tn};
}

pub use activation::{ACTIVATION_NAMES, Activation, LEAKY_RELU_SLOPE, SELU_ALPHA, SELU_SCALE};
pub use data::{Dataset, TargetData};
pub use error::{Error, Result};
pub use float::Float;
pub use loss::{LOSS_NAMES, Loss, RowTarget, Targets};
pub use network::{
    BiasInit, Init, InitConfig, Layer, LayerMut, Network, Params, Predictor, Workspace,
};
pub use optim::{Objective, Optimizer, OptimizerConfig, OptimizerState, StepOutcome, StopReason};
pub use rng::Rng;
pub use train::{
    Divergence, EarlyStopping, EpochRecord, Hooks, OnDivergence, Progress, SHUFFLE_STREAM,
    Schedule, TrainConfig, TrainReport, TrainState, TrainStop, Validation, evaluate, split, train,
    train_distributed, train_with,
};

/// The README's example, compiled and run as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExample;
