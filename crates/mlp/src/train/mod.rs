//! [`train`]: the training loop. Epochs over seeded, shuffled mini-batches
//! (or one full-batch step per epoch for `gd`, `lbfgs`, `lm`, `rprop`), a
//! validation set given or split off, early stopping that restores the best
//! weights, stopping rules, learning-rate schedules, gradient clipping, L2
//! weight decay, and a history. The loop never prints: it reports through the
//! `on_epoch` callback, which can also stop it, and returns a [`TrainReport`].
//!
//! [`train_with`] is the same loop with [`Hooks`]: checkpoints of the whole
//! [`TrainState`], resume from one (bitwise the run that was never stopped),
//! and interruption after any step.
//!
//! # Reproducibility
//!
//! With the same seed and settings, the parameters are bitwise identical from
//! run to run and for any number of threads: the validation split draws from
//! `Rng::new(seed)`, the batch shuffles from `Rng::new(seed ^ SHUFFLE_STREAM)`,
//! and every sum over rows runs in a fixed order ([`NetworkObjective`]). Only
//! `time_budget` depends on the clock.

mod divergence;
mod run;
mod state;

use std::time::Duration;

pub use run::{train, train_distributed, train_with};
pub use state::{Divergence, Hooks, TrainState};

use crate::Loss;
use crate::data::{Dataset, TargetData};
use crate::distributed::{Group, Reduction};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::metrics::Metrics;
use crate::network::{Network, Workspace};
use crate::optim::{OptimizerConfig, StopReason, check};
use crate::rng::Rng;

/// Combined by XOR with the seed for the batch-shuffling stream, so that it differs
/// from the validation split's stream.
pub const SHUFFLE_STREAM: u64 = 0x5348_5546_464c_4521;

/// How the learning rate changes over epochs (after any warm-up), as a
/// multiple of the optimizer's configured rate. Applies to `sgd`, `adam` and
/// `adamw`; the other solvers choose their own steps.
#[derive(Clone, Copy, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// The configured rate throughout (the default).
    #[default]
    Constant,
    /// Multiplied by `factor` every `every` epochs.
    Step {
        /// Epochs between reductions (at least 1).
        every: usize,
        /// The factor, in `(0, 1]`.
        factor: f64,
    },
    /// Multiplied by `gamma` every epoch.
    Exponential {
        /// The factor, in `(0, 1]`.
        gamma: f64,
    },
    /// Cosine annealing from the rate down to `min_rate` at the last epoch.
    Cosine {
        /// The final rate, in absolute terms.
        min_rate: f64,
    },
}

/// Where the validation set comes from when none is passed to [`train`].
#[derive(Clone, Copy, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validation {
    /// No validation set (the default).
    #[default]
    None,
    /// This fraction of the rows, drawn with the seed; stratified by class
    /// for class targets.
    Fraction(f64),
}

/// Stop when the validation loss has not improved by `min_delta` for
/// `patience` epochs; the best epoch's weights are restored in any case.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement tolerated (at least 1).
    pub patience: usize,
    /// The least decrease that counts as an improvement (non-negative).
    pub min_delta: f64,
}

/// What to do when the loss or gradient goes non-finite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OnDivergence {
    /// Stop, keeping the parameters from the start of the epoch (the default).
    #[default]
    Stop,
    /// Restore the parameters and optimizer state from the start of the
    /// epoch, halve the learning rate (or, for solvers without one, their
    /// steps), and run the epoch again; stop after `max_backoffs` of these.
    Backoff {
        /// The most back-offs in a run (at least 1).
        max_backoffs: usize,
    },
}

/// Everything [`train`] needs besides the network, data and parameters.
/// Plain data with documented defaults; [`TrainConfig::validate`] checks it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// The loss (default mean squared error).
    pub loss: Loss,
    /// The solver and its settings (default `adam`).
    pub optimizer: OptimizerConfig,
    /// The most epochs (default 200).
    pub max_epochs: usize,
    /// Rows per mini-batch for `sgd`, `adam`, `adamw` (default 32).
    pub batch_size: usize,
    /// Validation split when no validation set is passed (default none).
    pub validation: Validation,
    /// Early stopping on the validation loss (default off).
    pub early_stopping: Option<EarlyStopping>,
    /// Stop once the training loss is at most this.
    pub target_loss: Option<f64>,
    /// Stop once the gradient norm is at most this.
    pub gradient_tolerance: Option<f64>,
    /// Stop after this much time (checked after each epoch).
    pub time_budget: Option<Duration>,
    /// Learning-rate schedule (default constant).
    pub schedule: Schedule,
    /// Epochs of linear warm-up from `rate / warmup_epochs` (default 0).
    pub warmup_epochs: usize,
    /// Rescale each mini-batch gradient to at most this norm (`sgd`, `adam`, `adamw`).
    pub clip_norm: Option<f64>,
    /// L2 penalty `(λ/2) Σ w²` on the weights (default 0).
    pub weight_decay: f64,
    /// Seed of the validation split and the batch shuffles (default 0).
    pub seed: u64,
    /// Threads evaluating chunks of rows (default 1; results do not depend on it).
    pub threads: usize,
    /// What a non-finite loss or gradient does (default: stop).
    pub on_divergence: OnDivergence,
    /// Rows per chunk of a batch: sums over rows add whole chunks in chunk
    /// order, so this is part of the result's definition, at the rounding
    /// level (default [`CHUNK_ROWS`](crate::optim::CHUNK_ROWS), 256). A
    /// mini-batch of fewer rows is cut in two halves when each has at least
    /// 64 rows ([`chunk_len`](crate::optim::chunk_len)), so that two threads
    /// share it. The
    /// exact distributed reduction hands out whole chunks, so a batch needs
    /// as many chunks as ranks to keep them all busy.
    pub chunk_rows: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            loss: Loss::MeanSquared,
            optimizer: OptimizerConfig::Adam(crate::optim::AdamConfig::default()),
            max_epochs: 200,
            batch_size: 32,
            validation: Validation::None,
            early_stopping: None,
            target_loss: None,
            gradient_tolerance: None,
            time_budget: None,
            schedule: Schedule::Constant,
            warmup_epochs: 0,
            clip_norm: None,
            weight_decay: 0.0,
            seed: 0,
            threads: 1,
            on_divergence: OnDivergence::Stop,
            chunk_rows: crate::optim::CHUNK_ROWS,
        }
    }
}

impl TrainConfig {
    /// Checks every field; errors name the field.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a value out of range, and
    /// [`Error::NotLeastSquares`] for `lm` with a loss that is not a sum of squares.
    pub fn validate(&self) -> Result<()> {
        check(self.max_epochs >= 1, "max_epochs", || "must be at least 1".into())?;
        check(self.batch_size >= 1, "batch_size", || "must be at least 1".into())?;
        check(self.threads >= 1, "threads", || "must be at least 1".into())?;
        check(self.chunk_rows >= 1, "chunk_rows", || "must be at least 1".into())?;
        if let Validation::Fraction(f) = self.validation {
            check(f > 0.0 && f < 1.0, "validation", || {
                format!("fraction must be in (0, 1), got {f}")
            })?;
        }
        if let Some(es) = self.early_stopping {
            check(es.patience >= 1, "early_stopping.patience", || "must be at least 1".into())?;
            check(es.min_delta >= 0.0, "early_stopping.min_delta", || {
                "must be non-negative".into()
            })?;
        }
        if let OnDivergence::Backoff { max_backoffs } = self.on_divergence {
            check(max_backoffs >= 1, "on_divergence.max_backoffs", || "must be at least 1".into())?;
        }
        let wd = self.weight_decay;
        check(wd >= 0.0 && wd.is_finite(), "weight_decay", || {
            format!("must be non-negative, got {wd}")
        })?;
        if let Some(c) = self.clip_norm {
            check(c > 0.0, "clip_norm", || format!("must be positive, got {c}"))?;
            check(!self.optimizer.is_full_batch(), "clip_norm", || {
                format!("applies to sgd, adam and adamw, not {}", self.optimizer.name())
            })?;
        }
        match self.schedule {
            Schedule::Step { every, factor } => {
                check(every >= 1, "schedule.every", || "must be at least 1".into())?;
                check(factor > 0.0 && factor <= 1.0, "schedule.factor", || {
                    format!("must be in (0, 1], got {factor}")
                })?;
            }
            Schedule::Exponential { gamma } => {
                check(gamma > 0.0 && gamma <= 1.0, "schedule.gamma", || {
                    format!("must be in (0, 1], got {gamma}")
                })?;
            }
            Schedule::Cosine { min_rate } => {
                check(min_rate >= 0.0 && min_rate.is_finite(), "schedule.min_rate", || {
                    format!("must be non-negative and finite, got {min_rate}")
                })?;
            }
            Schedule::Constant => {}
        }
        if let Some(t) = self.target_loss {
            check(t.is_finite(), "target_loss", || format!("must be finite, got {t}"))?;
        }
        if let Some(g) = self.gradient_tolerance {
            check(g >= 0.0 && g.is_finite(), "gradient_tolerance", || {
                format!("must be non-negative and finite, got {g}")
            })?;
        }
        if matches!(self.optimizer, OptimizerConfig::LevenbergMarquardt(_))
            && !self.loss.is_least_squares()
        {
            return Err(Error::NotLeastSquares { loss: self.loss });
        }
        self.optimizer.build::<f64>(0).map(|_| ())
    }

    /// The learning rate of `epoch` (1-based), or `None` for solvers without one.
    pub fn learning_rate(&self, epoch: usize) -> Option<f64> {
        let base = self.optimizer.learning_rate()?;
        let warm = self.warmup_epochs;
        if epoch <= warm {
            return Some(base * epoch as f64 / warm as f64);
        }
        let t = (epoch - warm - 1) as f64;
        Some(match self.schedule {
            Schedule::Constant => base,
            Schedule::Step { every, factor } => {
                base * factor.powi(((epoch - warm - 1) / every) as i32)
            }
            Schedule::Exponential { gamma } => base * gamma.powf(t),
            Schedule::Cosine { min_rate } => {
                let span = (self.max_epochs - warm).max(2) as f64 - 1.0;
                min_rate + (base - min_rate) * 0.5 * (1.0 + (std::f64::consts::PI * t / span).cos())
            }
        })
    }
}

/// One epoch in the history.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Training loss: the mean of the mini-batch losses, or the full-batch
    /// loss after the step (including weight decay). With `sse`, a
    /// mini-batch's loss is that batch's sum of squares.
    #[serde(with = "crate::serde_float")]
    pub train_loss: f64,
    /// Metrics of the parameters after the epoch on the training rows.
    pub train_metrics: Metrics,
    /// Validation loss after the epoch (without weight decay).
    #[serde(with = "crate::serde_float::option")]
    pub validation_loss: Option<f64>,
    /// Validation metrics after the epoch.
    pub validation_metrics: Option<Metrics>,
    /// The learning rate used, for solvers that have one.
    #[serde(with = "crate::serde_float::option")]
    pub learning_rate: Option<f64>,
    /// The largest gradient norm seen in the epoch (before any clipping).
    #[serde(with = "crate::serde_float")]
    pub gradient_norm: f64,
    /// Time since training started.
    pub elapsed: Duration,
}

/// What the callback sees after each epoch.
#[derive(Debug)]
pub struct Progress<'a, F> {
    /// The epoch just finished.
    pub record: &'a EpochRecord,
    /// The most epochs.
    pub max_epochs: usize,
    /// The parameters after the epoch.
    pub params: &'a [F],
}

/// The outcome of [`train`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainReport {
    /// Why training stopped.
    pub stop_reason: TrainStop,
    /// The epoch whose weights were kept (the best validation epoch under
    /// early stopping, else the last).
    pub best_epoch: usize,
    /// One record per epoch.
    pub history: Vec<EpochRecord>,
    /// Loss and metrics of the returned parameters on the training rows.
    #[serde(with = "crate::serde_float")]
    pub train_loss: f64,
    /// Metrics of the returned parameters on the training rows.
    pub train_metrics: Metrics,
    /// Loss of the returned parameters on the validation rows.
    #[serde(with = "crate::serde_float::option")]
    pub validation_loss: Option<f64>,
    /// Metrics of the returned parameters on the validation rows.
    pub validation_metrics: Option<Metrics>,
    /// Every divergence met, with what was done about it.
    pub divergences: Vec<Divergence>,
    /// Total time, across resumed sessions.
    pub elapsed: Duration,
}

/// Why [`train`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TrainStop {
    /// `max_epochs` reached.
    MaxEpochs,
    /// The training loss reached `target_loss`.
    TargetLoss,
    /// The gradient norm fell to `gradient_tolerance`.
    SmallGradient,
    /// `time_budget` ran out.
    TimeBudget,
    /// The validation loss stopped improving.
    EarlyStopping,
    /// The callback asked to stop.
    Callback,
    /// [`Hooks::interrupted`] said so (a signal, for the command line).
    Interrupted,
    /// The solver could not continue (line search failed, damping overflow,
    /// or a non-finite loss or gradient: the parameters from the start of
    /// that epoch are kept, and [`TrainReport::divergences`] says where).
    Solver(StopReason),
}

/// Plain words for people (a command line's summary); `Debug` and serde
/// keep the variant names.
impl std::fmt::Display for TrainStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MaxEpochs => f.write_str("the last epoch was reached"),
            Self::TargetLoss => f.write_str("the training loss reached its target"),
            Self::SmallGradient => f.write_str("the gradient norm fell to its tolerance"),
            Self::TimeBudget => f.write_str("the time budget ran out"),
            Self::EarlyStopping => f.write_str("the validation loss stopped improving"),
            Self::Callback => f.write_str("the callback asked to stop"),
            Self::Interrupted => f.write_str("interrupted"),
            Self::Solver(reason) => write!(f, "the solver stopped: {reason}"),
        }
    }
}

/// The loss (without weight decay) and metrics of `params` on `data`.
///
/// # Errors
/// As [`NetworkObjective::new`](crate::optim::NetworkObjective::new).
pub fn evaluate<F: Float>(
    net: &Network,
    params: &[F],
    data: &Dataset<F>,
    loss: Loss,
) -> Result<(f64, Metrics)> {
    crate::optim::NetworkObjective::new(net, data, loss)?;
    if params.len() != net.num_params() {
        let (expected, got) = (net.num_params(), params.len());
        return Err(Error::ShapeMismatch { what: "parameters", expected, got });
    }
    evaluate_in(net, params, data, loss, None)
}

/// Rows per forward pass of [`evaluate`].
const EVALUATE_ROWS: usize = 1024;

/// [`evaluate`], each rank of `group` computing whole blocks of outputs:
/// the others' entries are zero, so summing across ranks gathers every
/// block exactly, and every rank computes the same loss and metrics.
pub(crate) fn evaluate_in<F: Float>(
    net: &Network,
    params: &[F],
    data: &Dataset<F>,
    loss: Loss,
    group: Option<Group<'_>>,
) -> Result<(f64, Metrics)> {
    let (rows, width) = (data.rows(), net.outputs());
    let (lo, hi) = match group {
        Some(g) => {
            let exact = Group { reduction: Reduction::Exact, ..g };
            exact.own_rows(rows, EVALUATE_ROWS)
        }
        None => (0, rows),
    };
    let mut ws = Workspace::new(net, rows.clamp(1, EVALUATE_ROWS));
    let mut outputs = vec![F::zero(); rows * width];
    for start in (lo..hi).step_by(EVALUATE_ROWS) {
        let end = (start + EVALUATE_ROWS).min(hi);
        let (x, _) = data.slice(start, end);
        outputs[start * width..end * width].copy_from_slice(net.infer(params, x, &mut ws));
    }
    if let Some(g) = group {
        let mut all: Vec<f64> = outputs.iter().map(|v| v.as_f64()).collect();
        g.comm.all_reduce_sum(&mut all);
        outputs.iter_mut().zip(&all).for_each(|(v, &a)| *v = F::cast(a));
    }
    let value = loss.value(&outputs, net.outputs(), data.targets())?;
    Ok((value.as_f64(), Metrics::compute(loss, &outputs, net.outputs(), data.targets())?))
}

/// Splits `fraction` of the rows off for validation, drawn from
/// `Rng::new(seed)`, stratified by class for class targets. Returns
/// (training, validation).
///
/// # Errors
/// [`Error::InvalidConfig`] if either part would be empty.
pub fn split<F: Float>(
    data: &Dataset<F>,
    fraction: f64,
    seed: u64,
) -> Result<(Dataset<F>, Dataset<F>)> {
    check(fraction > 0.0 && fraction < 1.0, "validation", || {
        format!("the fraction must be in (0, 1), got {fraction}")
    })?;
    let mut rng = Rng::new(seed);
    let mut validation = Vec::new();
    let mut train = Vec::new();
    let mut take = |group: &mut Vec<usize>, rng: &mut Rng| {
        rng.shuffle(group);
        let k = (fraction * group.len() as f64).round() as usize;
        validation.extend_from_slice(&group[..k]);
        train.extend_from_slice(&group[k..]);
    };
    match data.target_data() {
        TargetData::Classes(labels) => {
            let classes = labels.iter().max().map_or(0, |m| m + 1);
            for c in 0..classes {
                let mut group: Vec<usize> = (0..labels.len()).filter(|&r| labels[r] == c).collect();
                take(&mut group, &mut rng);
            }
        }
        TargetData::Values { .. } => take(&mut (0..data.rows()).collect(), &mut rng),
    }
    check(!validation.is_empty() && !train.is_empty(), "validation", || {
        format!("a fraction of {fraction} of {} rows leaves one part empty", data.rows())
    })?;
    train.sort_unstable();
    validation.sort_unstable();
    Ok((data.gather(&train), data.gather(&validation)))
}
