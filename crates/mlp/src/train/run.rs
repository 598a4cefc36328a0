//! The loop itself: epochs of steps, checks after each, and the state a
//! checkpoint needs kept up to date in one place.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use super::divergence::{first_bad_parameter, first_non_finite};
use super::state::{Divergence, Hooks, TrainState};
use super::{
    EpochRecord, OnDivergence, Progress, SHUFFLE_STREAM, TrainConfig, TrainReport, TrainStop,
    Validation, evaluate_in, split,
};
use crate::data::{Dataset, FNV_OFFSET, fnv1a};
use crate::distributed::Group;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::network::Network;
use crate::optim::{NetworkObjective, Objective, Optimizer, StepOutcome, StopReason, check, norm};
use crate::rng::Rng;

/// Trains `params` (the starting point: fresh from [`Params::init`](crate::Params::init)
/// or a warm start) on `data`, validating on `validation` if given, else on
/// the split `config.validation` asks for. `on_epoch` sees each epoch and
/// may stop the run.
///
/// # Errors
/// As [`train_with`].
pub fn train<F: Float>(
    net: &Network,
    params: &mut [F],
    data: &Dataset<F>,
    validation: Option<&Dataset<F>>,
    config: &TrainConfig,
    on_epoch: impl FnMut(&Progress<'_, F>) -> ControlFlow<()>,
) -> Result<TrainReport> {
    train_with(net, params, data, validation, config, None, &mut EpochFn(on_epoch))
}

struct EpochFn<G>(G);

impl<F: Float, G: FnMut(&Progress<'_, F>) -> ControlFlow<()>> Hooks<F> for EpochFn<G> {
    fn epoch(&mut self, progress: &Progress<'_, F>) -> ControlFlow<()> {
        (self.0)(progress)
    }
}

/// [`train`], steered by `hooks` (checkpoints, interruption), and continuing
/// from `resume` if given: a state from a checkpoint of a run with the same
/// settings (`threads` and `time_budget` may differ), network and data. The
/// resumed run ends with the parameters, bit for bit, of the run that was
/// never stopped; `params` is then only used for its length.
///
/// # Errors
/// As [`TrainConfig::validate`]; [`Error::ShapeMismatch`] if `params` or
/// the data do not fit the network; [`Error::InvalidConfig`] if `params` is
/// not finite; [`Error::Resume`] if `resume` does not fit; as
/// [`Loss::check_targets`](crate::Loss::check_targets); whatever
/// [`Hooks::checkpoint`] returns.
pub fn train_with<F: Float>(
    net: &Network,
    params: &mut [F],
    data: &Dataset<F>,
    validation: Option<&Dataset<F>>,
    config: &TrainConfig,
    resume: Option<TrainState<F>>,
    hooks: &mut dyn Hooks<F>,
) -> Result<TrainReport> {
    run(net, params, data, validation, config, resume, hooks, None)
}

/// [`train_with`] as one rank of `group` ([`crate::distributed`]): every
/// rank calls it with the same network, data, settings and `resume`; rank
/// 0's `params` are every rank's starting point. The ranks share each
/// batch's rows and take the same steps, so every rank returns the same
/// parameters and report; only rank 0 calls [`Hooks::checkpoint`].
///
/// An error that only one rank meets (its checkpoint cannot be written)
/// returns on that rank while the others wait in their next collective:
/// the caller must then end the job, as `mlp` does with `MPI_Abort`.
///
/// # Errors
/// As [`train_with`], and [`Error::InvalidConfig`] (field `distributed`) on
/// every rank if any rank's settings, network, data or `resume` differ
/// from rank 0's.
#[allow(clippy::too_many_arguments)] // train_with's, plus the group
pub fn train_distributed<F: Float>(
    net: &Network,
    params: &mut [F],
    data: &Dataset<F>,
    validation: Option<&Dataset<F>>,
    config: &TrainConfig,
    resume: Option<TrainState<F>>,
    hooks: &mut dyn Hooks<F>,
    group: Group<'_>,
) -> Result<TrainReport> {
    run(net, params, data, validation, config, resume, hooks, Some(group))
}

#[allow(clippy::too_many_arguments)]
fn run<F: Float>(
    net: &Network,
    params: &mut [F],
    data: &Dataset<F>,
    validation: Option<&Dataset<F>>,
    config: &TrainConfig,
    resume: Option<TrainState<F>>,
    hooks: &mut dyn Hooks<F>,
    group: Option<Group<'_>>,
) -> Result<TrainReport> {
    config.validate()?;
    if params.len() != net.num_params() {
        return Err(Error::ShapeMismatch {
            what: "parameters",
            expected: net.num_params(),
            got: params.len(),
        });
    }
    let start = Instant::now();
    let (train_set, validation): (Cow<'_, Dataset<F>>, Option<Cow<'_, Dataset<F>>>) =
        match (validation, config.validation) {
            (Some(v), _) => (Cow::Borrowed(data), Some(Cow::Borrowed(v))),
            (None, Validation::Fraction(f)) => {
                let (t, v) = split(data, f, config.seed)?;
                (Cow::Owned(t), Some(Cow::Owned(v)))
            }
            (None, Validation::None) => (Cow::Borrowed(data), None),
        };
    let loss = config.loss;
    check(config.early_stopping.is_none() || validation.is_some(), "early_stopping", || {
        "needs a validation set: pass one, or set validation to a fraction".into()
    })?;
    if let Some(v) = &validation {
        NetworkObjective::new(net, v, loss)?;
    }
    let mut objective = NetworkObjective::new(net, &train_set, loss)?
        .with_weight_decay(config.weight_decay)
        .with_threads(config.threads)
        .with_chunk_rows(config.chunk_rows);
    if let Some(g) = group {
        objective = objective.with_group(g);
    }
    let mut optimizer = config.optimizer.build::<F>(net.num_params())?;
    let fingerprints = (train_set.fingerprint(), validation.as_ref().map(|v| v.fingerprint()));
    if let Some(g) = group {
        let same =
            run_fingerprint(config, net, fingerprints, resume.as_ref().map(|r| &r.params[..]));
        check(g.agree(same), "distributed", || {
            "the ranks' settings, network, data or checkpoint differ from rank 0's".into()
        })?;
        if resume.is_none() {
            g.broadcast(params);
        }
    }
    // Only one process writes checkpoints.
    let writes = group.is_none_or(|g| g.comm.rank() == 0);
    // A rank's own signals count for all: every rank stops after the same step.
    let interrupted = |hooks: &mut dyn Hooks<F>| {
        let yes = hooks.interrupted();
        group.map_or(yes, |g| g.any(yes))
    };
    let mut s = match resume {
        Some(state) => {
            state.check_fits(config, net, train_set.rows(), fingerprints)?;
            optimizer.restore(&state.optimizer)?;
            params.copy_from_slice(&state.params);
            state
        }
        None => {
            if let Some(tensor) = first_bad_parameter(net, params) {
                return Err(Error::InvalidConfig {
                    field: "params",
                    reason: format!("the starting {tensor} is not finite"),
                });
            }
            TrainState {
                config: config.clone(),
                network: (net.widths().to_vec(), net.activations().to_vec()),
                fingerprints,
                epoch: 0,
                batch: 0,
                partial: (0.0, 0.0),
                params: params.to_vec(),
                epoch_start: params.to_vec(),
                optimizer: optimizer.state(),
                optimizer_start: None,
                shuffle: Rng::new(config.seed ^ SHUFFLE_STREAM),
                order: (0..train_set.rows()).collect(),
                best: None,
                since_best: 0,
                rate_scale: 1.0,
                backoffs: 0,
                history: Vec::new(),
                divergences: Vec::new(),
                stopped: None,
                elapsed: Duration::ZERO,
            }
        }
    };
    // `s.elapsed` stays the time before this session.
    let elapsed = |s: &TrainState<F>| s.elapsed + start.elapsed();
    let full_batch = config.optimizer.is_full_batch();
    let backoff = match config.on_divergence {
        OnDivergence::Backoff { max_backoffs } => Some(max_backoffs),
        OnDivergence::Stop => None,
    };

    // Why this session ends early without ending the run (an interruption).
    let mut session_stop = None;
    while s.stopped.is_none() && s.epoch < config.max_epochs {
        let epoch = s.epoch + 1;
        let learning_rate = config.learning_rate(epoch).map(|r| r * s.rate_scale);
        if let Some(rate) = learning_rate {
            optimizer.set_learning_rate(rate);
        }
        if s.batch == 0 {
            s.epoch_start.copy_from_slice(params);
            s.optimizer_start = backoff.map(|_| optimizer.state());
            s.partial = (0.0, 0.0);
            if !full_batch {
                let TrainState { shuffle, order, .. } = &mut s;
                shuffle.shuffle(order);
            }
        }
        // Where a step met a non-finite loss or gradient: (batch, rows).
        let mut failed_at: Option<(Option<usize>, Option<Vec<usize>>)> = None;
        let mut solver_stop = None;
        let mut interrupted_now = false;
        let (train_loss, gradient_norm) = if full_batch {
            let o = optimizer.step(&mut objective, params)?;
            let train_loss = match o.loss_after {
                Some(after) => after.as_f64(),
                // rprop does not evaluate the new point; the history wants it.
                None if o.stop.is_none() => objective.loss(params)?.as_f64(),
                None => o.loss.as_f64(),
            };
            solver_stop = o.stop;
            if o.stop == Some(StopReason::NonFinite) {
                failed_at = Some((None, None));
            }
            interrupted_now = interrupted(hooks);
            (train_loss, o.gradient_norm.as_f64())
        } else {
            let size = config.batch_size;
            let batches = train_set.rows().div_ceil(size);
            while s.batch < batches {
                let b = s.batch;
                let rows = &s.order[b * size..((b + 1) * size).min(s.order.len())];
                objective.select(Some(rows));
                let (o, raw_norm) = step(&mut *optimizer, &mut objective, params, config)?;
                s.partial.0 += o.loss.as_f64() * rows.len() as f64;
                s.partial.1 = s.partial.1.max(raw_norm);
                s.batch += 1;
                if o.stop.is_some() {
                    solver_stop = o.stop;
                    if o.stop == Some(StopReason::NonFinite) {
                        failed_at = Some((Some(b + 1), Some(rows.to_vec())));
                    }
                    break;
                }
                if interrupted(hooks) {
                    interrupted_now = true;
                    break;
                }
            }
            objective.select(None);
            if interrupted_now && s.batch < batches {
                // Mid-epoch: the state continues this epoch on resume.
                if writes {
                    save(&mut s, params, &*optimizer, hooks, start.elapsed())?;
                }
                session_stop = Some(TrainStop::Interrupted);
                break;
            }
            (s.partial.0 / train_set.rows() as f64, s.partial.1)
        };
        let (eval_loss, train_metrics) = evaluate_in(net, params, &train_set, loss, group)?;
        if !train_loss.is_finite()
            || !eval_loss.is_finite()
            || first_bad_parameter(net, params).is_some()
        {
            solver_stop = Some(StopReason::NonFinite);
            failed_at.get_or_insert((None, None));
        }
        if let Some((step, rows)) = failed_at.filter(|_| solver_stop == Some(StopReason::NonFinite))
        {
            let tensor = first_non_finite(net, params, &train_set, rows.as_deref(), loss)
                .unwrap_or_else(|| "the update".into());
            params.copy_from_slice(&s.epoch_start);
            s.batch = 0;
            if let (Some(max), Some(start_state)) = (backoff, &s.optimizer_start)
                && s.backoffs < max
            {
                optimizer.restore(start_state)?;
                optimizer.shrink_steps(0.5);
                s.backoffs += 1;
                s.rate_scale *= 0.5;
                let backed_off_to = Some(s.rate_scale);
                s.divergences.push(Divergence { epoch, step, tensor, backed_off_to });
                continue;
            }
            s.divergences.push(Divergence { epoch, step, tensor, backed_off_to: None });
            s.stopped = Some(TrainStop::Solver(StopReason::NonFinite));
            break;
        }
        let (validation_loss, validation_metrics) = match &validation {
            Some(v) => {
                let (l, m) = evaluate_in(net, params, v, loss, group)?;
                (Some(l), Some(m))
            }
            None => (None, None),
        };
        let mut stop = None;
        if let (Some(es), Some(vl)) = (config.early_stopping, validation_loss) {
            if s.best.as_ref().is_none_or(|b| vl < b.0 - es.min_delta) {
                s.best = Some((vl, epoch, params.to_vec()));
                s.since_best = 0;
            } else {
                s.since_best += 1;
                if s.since_best >= es.patience {
                    stop = Some(TrainStop::EarlyStopping);
                }
            }
        }
        s.history.push(EpochRecord {
            epoch,
            train_loss,
            train_metrics,
            validation_loss,
            validation_metrics,
            learning_rate,
            gradient_norm,
            elapsed: elapsed(&s),
        });
        (s.epoch, s.batch) = (epoch, 0);
        let record = s.history.last().expect("just pushed");
        let callback = hooks.epoch(&Progress { record, max_epochs: config.max_epochs, params });
        if any(group, callback.is_break()) {
            stop = Some(TrainStop::Callback);
        }
        if let Some(reason) = solver_stop {
            stop = Some(TrainStop::Solver(reason));
        } else if config.target_loss.is_some_and(|t| train_loss <= t) {
            stop = Some(TrainStop::TargetLoss);
        } else if config.gradient_tolerance.is_some_and(|t| gradient_norm <= t) {
            stop = Some(TrainStop::SmallGradient);
        } else if config.time_budget.is_some()
            && any(group, config.time_budget.is_some_and(|t| elapsed(&s) >= t))
        {
            stop = Some(TrainStop::TimeBudget);
        }
        // An interruption is not part of the run: it stops this session,
        // and a resumed one carries on as if it had not happened.
        s.stopped = stop;
        if writes && (interrupted_now || hooks.wants_checkpoint(epoch)) {
            save(&mut s, params, &*optimizer, hooks, start.elapsed())?;
        }
        if interrupted_now && stop.is_none() {
            session_stop = Some(TrainStop::Interrupted);
            break;
        }
    }
    let stop = session_stop.or(s.stopped).unwrap_or(TrainStop::MaxEpochs);
    let sets = (&*train_set, validation.as_deref());
    finish(net, params, sets, s, stop, start.elapsed(), group)
}

/// Whether this rank, or any rank of `group`, says yes.
fn any(group: Option<Group<'_>>, yes: bool) -> bool {
    group.map_or(yes, |g| g.any(yes))
}

/// What every rank must share: settings (but the thread count), network,
/// data, and a resumed run's parameters.
fn run_fingerprint<F: Float>(
    config: &TrainConfig,
    net: &Network,
    (train, validation): (u64, Option<u64>),
    resumed: Option<&[F]>,
) -> u64 {
    let config = TrainConfig { threads: 1, ..config.clone() };
    let settings = serde_json::to_string(&(config, net.widths(), net.activations()));
    let mut h = fnv1a(FNV_OFFSET, settings.unwrap_or_default().as_bytes());
    for v in [train, validation.unwrap_or(0)] {
        h = fnv1a(h, &v.to_le_bytes());
    }
    for v in resumed.unwrap_or_default() {
        h = fnv1a(h, &v.as_f64().to_le_bytes());
    }
    h
}

/// Hands the state, brought up to date, to [`Hooks::checkpoint`].
fn save<F: Float>(
    s: &mut TrainState<F>,
    params: &[F],
    optimizer: &dyn Optimizer<F>,
    hooks: &mut dyn Hooks<F>,
    session: Duration,
) -> Result<()> {
    s.params.copy_from_slice(params);
    s.optimizer = optimizer.state();
    let before = s.elapsed;
    s.elapsed += session;
    let saved = hooks.checkpoint(s);
    s.elapsed = before;
    saved
}

/// One mini-batch step, with the gradient clipped if asked; returns the
/// outcome and the gradient norm before clipping.
fn step<F: Float>(
    optimizer: &mut dyn Optimizer<F>,
    objective: &mut NetworkObjective<'_, F>,
    params: &mut [F],
    config: &TrainConfig,
) -> Result<(StepOutcome<F>, f64)> {
    Ok(match config.clip_norm {
        Some(max_norm) => {
            let mut clipped = Clipped { inner: objective, max_norm, raw_norm: 0.0 };
            let o = optimizer.step(&mut clipped, params)?;
            (o, clipped.raw_norm)
        }
        None => {
            let o = optimizer.step(objective, params)?;
            (o, o.gradient_norm.as_f64())
        }
    })
}

/// The report: the best epoch's weights under early stopping, else the
/// current ones, evaluated on both sets.
fn finish<F: Float>(
    net: &Network,
    params: &mut [F],
    (train_set, validation): (&Dataset<F>, Option<&Dataset<F>>),
    s: TrainState<F>,
    stop: TrainStop,
    session: Duration,
    group: Option<Group<'_>>,
) -> Result<TrainReport> {
    let loss = s.config.loss;
    let mut best_epoch = s.history.len();
    if let Some((_, epoch, weights)) = &s.best {
        params.copy_from_slice(weights);
        best_epoch = *epoch;
    }
    let (train_loss, train_metrics) = evaluate_in(net, params, train_set, loss, group)?;
    let (validation_loss, validation_metrics) = match validation {
        Some(v) => {
            let (l, m) = evaluate_in(net, params, v, loss, group)?;
            (Some(l), Some(m))
        }
        None => (None, None),
    };
    Ok(TrainReport {
        stop_reason: stop,
        best_epoch,
        history: s.history,
        train_loss,
        train_metrics,
        validation_loss,
        validation_metrics,
        divergences: s.divergences,
        elapsed: s.elapsed + session,
    })
}

/// An objective whose gradient is rescaled to at most `max_norm`; it
/// remembers the norm before clipping, which the history and the
/// gradient-tolerance rule report.
struct Clipped<'o, F: Float> {
    inner: &'o mut dyn Objective<F>,
    max_norm: f64,
    raw_norm: f64,
}

impl<F: Float> Objective<F> for Clipped<'_, F> {
    fn num_params(&self) -> usize {
        self.inner.num_params()
    }
    fn threads(&self) -> usize {
        self.inner.threads()
    }
    fn loss(&mut self, params: &[F]) -> Result<F> {
        self.inner.loss(params)
    }
    fn loss_and_gradient(&mut self, params: &[F], gradient: &mut [F]) -> Result<F> {
        let loss = self.inner.loss_and_gradient(params, gradient)?;
        let n = norm(gradient, self.inner.threads()).as_f64();
        self.raw_norm = n;
        if n > self.max_norm {
            let s = F::cast(self.max_norm / n);
            gradient.iter_mut().for_each(|g| *g = *g * s);
        }
        Ok(loss)
    }
    fn num_residuals(&self) -> Option<usize> {
        self.inner.num_residuals()
    }
    fn residuals_and_jacobian(&mut self, params: &[F], r: &mut [F], jac: &mut [F]) -> Result<()> {
        self.inner.residuals_and_jacobian(params, r, jac)
    }
}
