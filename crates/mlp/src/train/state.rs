//! What a run carries from step to step ([`TrainState`], saved by
//! checkpoints) and how the caller steers it ([`Hooks`]).

use std::ops::ControlFlow;
use std::time::Duration;

use super::{EpochRecord, Progress, TrainConfig, TrainStop};
use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::network::Network;
use crate::optim::OptimizerState;
use crate::rng::Rng;

/// Everything a run needs to continue exactly where it was: with it,
/// [`train_with`](super::train_with) ends with the parameters, bit for bit,
/// of the run that was never stopped. Taken after an epoch or, when
/// interrupted, after any step; written and read by [`crate::checkpoint`].
#[derive(Clone, Debug, PartialEq)]
pub struct TrainState<F> {
    /// The settings of the run and the network's widths and activations,
    /// checked on resume.
    pub(crate) config: TrainConfig,
    pub(crate) network: (Vec<usize>, Vec<Activation>),
    /// Fingerprints of the training and validation rows ([`crate::Dataset::fingerprint`]):
    /// the data split, checked on resume.
    pub(crate) fingerprints: (u64, Option<u64>),
    /// Epochs completed.
    pub(crate) epoch: usize,
    /// Mini-batches completed in the next epoch (0 between epochs).
    pub(crate) batch: usize,
    /// That partial epoch's sum of batch losses (weighted by rows) and largest gradient norm.
    pub(crate) partial: (f64, f64),
    /// The parameters now.
    pub(crate) params: Vec<F>,
    /// The parameters at the start of the current epoch: the last known
    /// good ones, restored on divergence.
    pub(crate) epoch_start: Vec<F>,
    /// The optimizer now, and at the start of the epoch (kept only for
    /// `on_divergence: backoff`).
    pub(crate) optimizer: OptimizerState<F>,
    pub(crate) optimizer_start: Option<OptimizerState<F>>,
    /// The batch-shuffling generator and the current row order.
    pub(crate) shuffle: Rng,
    pub(crate) order: Vec<usize>,
    /// Early stopping: the best validation loss, its epoch and weights, and
    /// epochs since.
    pub(crate) best: Option<(f64, usize, Vec<F>)>,
    pub(crate) since_best: usize,
    /// The learning-rate factor from back-offs, and their count.
    pub(crate) rate_scale: f64,
    pub(crate) backoffs: usize,
    pub(crate) history: Vec<EpochRecord>,
    pub(crate) divergences: Vec<Divergence>,
    /// Set once the run has stopped: resuming it then changes nothing.
    pub(crate) stopped: Option<TrainStop>,
    /// Training time before this session.
    pub(crate) elapsed: Duration,
}

impl<F: Float> TrainState<F> {
    /// Epochs completed.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// Mini-batches completed in the epoch after [`epoch`](Self::epoch)
    /// (non-zero only for a state taken on interruption).
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// The parameters when the state was taken.
    pub fn params(&self) -> &[F] {
        &self.params
    }

    /// The history so far.
    pub fn history(&self) -> &[EpochRecord] {
        &self.history
    }

    /// The settings of the run.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Checks that this state can continue a run with these settings, this
    /// many parameters and these `rows` of training data.
    pub(crate) fn check_fits(
        &self,
        config: &TrainConfig,
        net: &Network,
        rows: usize,
        fingerprints: (u64, Option<u64>),
    ) -> Result<()> {
        let resume = |reason: String| Err(Error::Resume { reason });
        let (widths, activations) = &self.network;
        if widths != net.widths() || activations != net.activations() {
            let saved = Network::new(widths, activations).map(|n| n.describe());
            return resume(format!(
                "the checkpoint's network is {}, this one is {}",
                saved.unwrap_or_else(|e| e.to_string()),
                net.describe()
            ));
        }
        if self.params.len() != net.num_params() || self.epoch_start.len() != net.num_params() {
            return resume(format!(
                "the checkpoint holds {} parameters, the network has {}",
                self.params.len(),
                net.num_params()
            ));
        }
        if let Some(field) = differing_field(&self.config, config) {
            return resume(format!("the setting {field} differs from the checkpoint's"));
        }
        if self.fingerprints.0 != fingerprints.0 {
            return resume("the training rows differ from the checkpoint's".into());
        }
        if self.fingerprints.1 != fingerprints.1 {
            return resume("the validation rows differ from the checkpoint's".into());
        }
        let mut seen = vec![false; rows];
        let permutation = self.order.len() == rows
            && self.order.iter().all(|&r| r < rows && !std::mem::replace(&mut seen[r], true));
        if !permutation {
            return resume(format!(
                "the checkpoint's row order is not a permutation of {rows} rows"
            ));
        }
        Ok(())
    }
}

/// The first top-level setting that differs, ignoring those that do not
/// change the result (`threads`) or only stop the run early (`time_budget`).
fn differing_field(saved: &TrainConfig, now: &TrainConfig) -> Option<String> {
    let normalise = |c: &TrainConfig| {
        let c = TrainConfig { threads: 1, time_budget: None, ..c.clone() };
        serde_json::to_value(c).unwrap_or_default()
    };
    let (a, b) = (normalise(saved), normalise(now));
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return (a != b).then(|| "config".into());
    };
    a.iter().find(|(k, v)| b.get(*k) != Some(v)).map(|(k, _)| k.clone())
}

/// A divergence: where the loss or gradient first went non-finite, and what
/// the run did about it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Divergence {
    /// The 1-based epoch.
    pub epoch: usize,
    /// The 1-based mini-batch within it, when a step found it.
    pub step: Option<usize>,
    /// The first non-finite tensor: a parameter (`layer 1 weight`), a
    /// layer's output, the loss, or a gradient (`gradient of layer 0 bias`).
    pub tensor: String,
    /// The learning-rate factor after a back-off, or `None` when the run stopped.
    pub backed_off_to: Option<f64>,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "epoch {}", self.epoch)?;
        if let Some(step) = self.step {
            write!(f, ", step {step}")?;
        }
        write!(f, ": {} went non-finite first", self.tensor)
    }
}

/// How the caller steers [`train_with`](super::train_with). Every method
/// has a default that does nothing.
pub trait Hooks<F: Float> {
    /// After each epoch; `Break` stops the run.
    fn epoch(&mut self, _progress: &Progress<'_, F>) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// Asked after every step: `true` stops the run there (for a signal
    /// handler's flag). The state is then passed to [`checkpoint`](Self::checkpoint).
    fn interrupted(&mut self) -> bool {
        false
    }

    /// Asked after each epoch: whether to pass the state to [`checkpoint`](Self::checkpoint).
    fn wants_checkpoint(&mut self, _epoch: usize) -> bool {
        false
    }

    /// Receives the state to save.
    ///
    /// # Errors
    /// Whatever saving it failed with: the run stops with that error.
    fn checkpoint(&mut self, _state: &TrainState<F>) -> Result<()> {
        Ok(())
    }
}
