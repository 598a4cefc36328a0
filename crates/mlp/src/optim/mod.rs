//! Optimizers over the flat parameter vector, and the seam they share.
//!
//! An [`Objective`] is anything with a loss, a gradient and (for least-squares
//! losses) residuals with their Jacobian; [`NetworkObjective`] is a network on
//! a data set, and tests also use analytic functions such as Rosenbrock. An
//! [`Optimizer`] takes one step on a `&mut [F]`. Settings are plain data
//! ([`OptimizerConfig`]) with documented defaults, validated once by
//! [`OptimizerConfig::build`].
//!
//! The algorithms, from the simplest:
//!
//! | name | algorithm | reference |
//! |---|---|---|
//! | `gd` | [`GradientDescent`]: full batch, backtracking (Armijo) step; never increases the loss (MATH §6, Theorem 1.1) | Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), Alg. 3.1 |
//! | `sgd` | [`Sgd`]: mini-batch, optional momentum or Nesterov momentum | Sutskever et al., ICML 2013 |
//! | `rprop` | [`Rprop`]: iRPROP−, sign-based per-weight steps, full batch | Igel & Hüsken, *Improving the Rprop learning algorithm* (2000) |
//! | `adam`, `adamw` | [`Adam`]: bias-corrected moments; AdamW decouples weight decay | Kingma & Ba, ICLR 2015; Loshchilov & Hutter, ICLR 2019 |
//! | `lbfgs` | [`Lbfgs`]: limited-memory BFGS, two-loop recursion, strong Wolfe line search | Nocedal & Wright (2006), Alg. 7.4, 3.5, 3.6 |
//! | `lm` | [`LevenbergMarquardt`]: `(JᵀJ + μD) δ = −Jᵀr` by Cholesky, adaptive μ, for sums of squares | Moré, *The Levenberg-Marquardt algorithm: implementation and theory* (1978); Nielsen's μ update (1999) |

mod adam;
mod gradient_descent;
mod lbfgs;
mod levenberg_marquardt;
mod line_search;
mod objective;
mod rprop;
mod sgd;

pub use adam::{Adam, AdamConfig};
pub use gradient_descent::{GradientDescent, GradientDescentConfig};
pub use lbfgs::{Lbfgs, LbfgsConfig};
pub use levenberg_marquardt::{LevenbergMarquardt, LevenbergMarquardtConfig};
pub use line_search::{Backtracking, LineStep, StrongWolfe};
pub use objective::{CHUNK_ROWS, MIN_HALF_ROWS, NetworkObjective, chunk_len};
pub use rprop::{Rprop, RpropConfig};
pub use sgd::{Momentum, Sgd, SgdConfig};

use crate::error::{Error, Result};
use crate::float::Float;

/// What an optimizer may ask of the problem it minimises (MATH.md §3-4).
pub trait Objective<F: Float> {
    /// The number of parameters `P`.
    fn num_params(&self) -> usize;

    /// The loss at `params`.
    ///
    /// # Errors
    /// If the problem cannot be evaluated (for a network: bad targets).
    fn loss(&mut self, params: &[F]) -> Result<F>;

    /// The loss at `params`, writing its gradient into `gradient`.
    ///
    /// # Errors
    /// As [`loss`](Self::loss).
    fn loss_and_gradient(&mut self, params: &[F], gradient: &mut [F]) -> Result<F>;

    /// How many threads the objective evaluates on. The optimizers run
    /// their passes over the parameters (updates, norms) on as many; those
    /// passes are split so that the results never depend on it.
    fn threads(&self) -> usize {
        1
    }

    /// The number of residuals `m` if the loss is `Σ r²`, else `None`.
    fn num_residuals(&self) -> Option<usize>;

    /// The residuals `r` (`[m]`) and their Jacobian `∂r/∂V` (`[m, P]` row-major).
    ///
    /// # Errors
    /// [`Error::NotLeastSquares`]-like errors if the loss is not a sum of squares.
    fn residuals_and_jacobian(
        &mut self,
        params: &[F],
        residuals: &mut [F],
        jacobian: &mut [F],
    ) -> Result<()>;

    /// The Gauss-Newton normal equations: writes `JᵀJ` (`[P, P]`) and `Jᵀr`
    /// (`[P]`) and returns the loss `Σ r²`. The default forms `J` whole;
    /// [`NetworkObjective`] accumulates them over chunks of rows instead.
    ///
    /// # Errors
    /// As [`residuals_and_jacobian`](Self::residuals_and_jacobian).
    fn normal_equations(&mut self, params: &[F], jtj: &mut [F], jtr: &mut [F]) -> Result<F> {
        let p = self.num_params();
        let m = self.num_residuals().ok_or_else(|| Error::InvalidConfig {
            field: "solver",
            reason: "this objective has no residuals".into(),
        })?;
        let mut r = vec![F::zero(); m];
        let mut jac = vec![F::zero(); m * p];
        self.residuals_and_jacobian(params, &mut r, &mut jac)?;
        crate::linalg::gemm_tn(jtj, &jac, &jac, (p, p, m), crate::linalg::Accumulate::Overwrite, 1);
        crate::linalg::gemm_tn(jtr, &jac, &r, (p, 1, m), crate::linalg::Accumulate::Overwrite, 1);
        Ok(r.iter().map(|&v| v * v).sum())
    }
}

/// Why an optimizer or the training loop stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// The line search found no acceptable step (the point is stationary to
    /// working precision, or the direction is not a descent direction).
    LineSearchFailed,
    /// Levenberg-Marquardt's damping grew past its limit without a decrease.
    DampingOverflow,
    /// The loss or gradient is not finite.
    NonFinite,
}

/// Plain words for people (a command line's summary); `Debug` and serde
/// keep the variant names.
impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::LineSearchFailed => "the line search found no step that lowers the loss",
            Self::DampingOverflow => "the Levenberg-Marquardt damping grew past its limit",
            Self::NonFinite => "the loss or the gradient was not finite",
        })
    }
}

/// What one optimizer step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOutcome<F> {
    /// The loss at the parameters the step started from.
    pub loss: F,
    /// The loss at the new parameters, when the method evaluated it.
    pub loss_after: Option<F>,
    /// The Euclidean norm of the gradient at the starting point.
    pub gradient_norm: F,
    /// The length of the step taken (the line-search `eps`, or `|δ|` for LM).
    pub step: f64,
    /// Objective evaluations the step used.
    pub evaluations: usize,
    /// Set when the method cannot continue; the parameters are then unchanged.
    pub stop: Option<StopReason>,
}

/// One iteration of an optimization method on a flat parameter vector.
pub trait Optimizer<F: Float>: Send {
    /// Takes one step from `params`, updating them in place. Full-batch
    /// methods use the whole objective; [`Sgd`] and [`Adam`] are handed one
    /// mini-batch objective per call.
    ///
    /// # Errors
    /// If the objective cannot be evaluated.
    fn step(
        &mut self,
        objective: &mut dyn Objective<F>,
        params: &mut [F],
    ) -> Result<StepOutcome<F>>;

    /// Forgets what earlier steps learnt about the objective (curvature
    /// pairs, cached gradients, moments stay): call it after changing the
    /// objective between steps of a full-batch method.
    fn reset(&mut self) {}

    /// Sets the learning rate for the next steps (for schedules); methods
    /// without one (`lbfgs`, `lm`, `rprop`) ignore it.
    fn set_learning_rate(&mut self, _learning_rate: f64) {}

    /// After a divergence: take steps `factor` (in `(0, 1)`) times as long
    /// from now on. `gd` and `rprop` shrink their step sizes, `lm` raises its
    /// damping, `lbfgs` forgets its curvature pairs; for `sgd` and `adam` the
    /// training loop scales the learning rate instead, so they ignore it.
    fn shrink_steps(&mut self, _factor: f64) {}

    /// Everything the next steps depend on (moments, step sizes, curvature
    /// pairs, damping), for a checkpoint. Scratch buffers are left out.
    fn state(&self) -> OptimizerState<F>;

    /// Puts back what [`state`](Self::state) returned, so that the next step
    /// is bitwise the one the saved optimizer would have taken.
    ///
    /// # Errors
    /// [`Error::Resume`] naming the entry that is missing or of the wrong length.
    fn restore(&mut self, state: &OptimizerState<F>) -> Result<()>;
}

/// An optimizer's state between steps: named vectors of parameter length
/// (or a multiple of it) and named numbers, kept exactly.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct OptimizerState<F> {
    /// Named vectors, such as Adam's moments.
    pub tensors: Vec<(String, Vec<F>)>,
    /// Named numbers, such as Adam's step count (integers are exact in `f64`).
    pub numbers: Vec<(String, f64)>,
}

impl<F: Float> OptimizerState<F> {
    /// The vector called `name`, which must hold `len` values.
    ///
    /// # Errors
    /// [`Error::Resume`] if it is missing or of another length.
    pub fn tensor(&self, name: &str, len: usize) -> Result<&[F]> {
        let (_, v) = self.tensors.iter().find(|(n, _)| n == name).ok_or_else(|| Error::Resume {
            reason: format!("the optimizer state has no {name}"),
        })?;
        if v.len() != len {
            return Err(Error::Resume {
                reason: format!("optimizer state {name} holds {} values, expected {len}", v.len()),
            });
        }
        Ok(v)
    }

    /// The number called `name`.
    ///
    /// # Errors
    /// [`Error::Resume`] if it is missing or not finite.
    pub fn number(&self, name: &str) -> Result<f64> {
        self.numbers
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, v)| v)
            .filter(|v| v.is_finite())
            .ok_or_else(|| Error::Resume {
                reason: format!("the optimizer state has no finite number {name}"),
            })
    }

    /// A count stored as a number: a whole number in `[0, max]`.
    ///
    /// # Errors
    /// [`Error::Resume`] if it is missing or out of range.
    pub fn count(&self, name: &str, max: usize) -> Result<usize> {
        let v = self.number(name)?;
        if v.fract() != 0.0 || v < 0.0 || v > max as f64 {
            return Err(Error::Resume {
                reason: format!("optimizer state {name} = {v} is not a count in [0, {max}]"),
            });
        }
        Ok(v as usize)
    }
}

/// Every optimizer and its settings: what the CLI, files and the training
/// loop see.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum OptimizerConfig {
    /// `gd`.
    GradientDescent(GradientDescentConfig),
    /// `sgd`.
    Sgd(SgdConfig),
    /// `adam`: weight decay, if any, is added to the gradient (L2).
    Adam(AdamConfig),
    /// `adamw`: weight decay is decoupled from the gradient.
    AdamW(AdamConfig),
    /// `lbfgs`.
    Lbfgs(LbfgsConfig),
    /// `lm`.
    LevenbergMarquardt(LevenbergMarquardtConfig),
    /// `rprop`.
    Rprop(RpropConfig),
}

impl OptimizerConfig {
    /// The short name: `gd`, `sgd`, `adam`, `adamw`, `lbfgs`, `lm`, `rprop`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::GradientDescent(_) => "gd",
            Self::Sgd(_) => "sgd",
            Self::Adam(_) => "adam",
            Self::AdamW(_) => "adamw",
            Self::Lbfgs(_) => "lbfgs",
            Self::LevenbergMarquardt(_) => "lm",
            Self::Rprop(_) => "rprop",
        }
    }

    /// The settings of the optimizer called `name`, with their defaults.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an unknown name.
    pub fn default_for(name: &str) -> Result<Self> {
        Ok(match name {
            "gd" => Self::GradientDescent(GradientDescentConfig::default()),
            "sgd" => Self::Sgd(SgdConfig::default()),
            "adam" => Self::Adam(AdamConfig::default()),
            "adamw" => Self::AdamW(AdamConfig { weight_decay: 0.01, ..AdamConfig::default() }),
            "lbfgs" => Self::Lbfgs(LbfgsConfig::default()),
            "lm" => Self::LevenbergMarquardt(LevenbergMarquardtConfig::default()),
            "rprop" => Self::Rprop(RpropConfig::default()),
            _ => {
                return Err(Error::InvalidConfig {
                    field: "solver",
                    reason: format!(
                        "unknown solver {name:?} (known: gd, sgd, adam, adamw, lbfgs, lm, rprop)"
                    ),
                });
            }
        })
    }

    /// The configured learning rate of `sgd`, `adam`, `adamw`, or `None` for
    /// solvers that choose their own steps (`gd`'s line search included).
    pub fn learning_rate(&self) -> Option<f64> {
        match self {
            Self::Sgd(c) => Some(c.learning_rate),
            Self::Adam(c) | Self::AdamW(c) => Some(c.learning_rate),
            _ => None,
        }
    }

    /// Whether each step uses the whole data set (`gd`, `lbfgs`, `lm`, `rprop`)
    /// rather than one mini-batch (`sgd`, `adam`, `adamw`).
    pub fn is_full_batch(&self) -> bool {
        !matches!(self, Self::Sgd(_) | Self::Adam(_) | Self::AdamW(_))
    }

    /// Validates the settings and builds the optimizer for `num_params` parameters.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first field out of range.
    pub fn build<F: Float>(&self, num_params: usize) -> Result<Box<dyn Optimizer<F>>> {
        Ok(match self {
            Self::GradientDescent(c) => Box::new(GradientDescent::new(*c, num_params)?),
            Self::Sgd(c) => Box::new(Sgd::new(*c, num_params)?),
            Self::Adam(c) => Box::new(Adam::new(*c, adam::Decay::L2, num_params)?),
            Self::AdamW(c) => Box::new(Adam::new(*c, adam::Decay::Decoupled, num_params)?),
            Self::Lbfgs(c) => Box::new(Lbfgs::new(*c, num_params)?),
            Self::LevenbergMarquardt(c) => Box::new(LevenbergMarquardt::new(*c, num_params)?),
            Self::Rprop(c) => Box::new(Rprop::new(*c, num_params)?),
        })
    }
}

/// The start every gradient method shares: the loss and gradient at
/// `params`, and the outcome so far, with [`StopReason::NonFinite`] set when
/// either is not finite (the caller then returns it unchanged).
pub(crate) fn evaluate_gradient<F: Float>(
    objective: &mut dyn Objective<F>,
    params: &[F],
    gradient: &mut [F],
    step: f64,
) -> Result<StepOutcome<F>> {
    let loss = objective.loss_and_gradient(params, gradient)?;
    let gradient_norm = norm(gradient, objective.threads());
    let finite = loss.is_finite() && gradient_norm.is_finite();
    let stop = (!finite).then_some(StopReason::NonFinite);
    Ok(StepOutcome { loss, loss_after: None, gradient_norm, step, evaluations: 1, stop })
}

/// `Err(InvalidConfig)` unless `ok`.
pub(crate) fn check(ok: bool, field: &'static str, reason: impl FnOnce() -> String) -> Result<()> {
    if ok { Ok(()) } else { Err(Error::InvalidConfig { field, reason: reason() }) }
}

/// Euclidean norm, summed in `f64` in the fixed order of
/// [`crate::parallel::dot`] on up to `threads` threads (the same bits for any).
pub(crate) fn norm<F: Float>(v: &[F], threads: usize) -> F {
    F::cast(crate::parallel::dot(v, v, threads).sqrt())
}

/// Dot product in `f64`, in the fixed order of [`crate::parallel::dot`].
pub(crate) fn dot<F: Float>(a: &[F], b: &[F]) -> f64 {
    crate::parallel::dot(a, b, 1)
}
