//! Checkpoints: a run stopped (after an epoch, or after any step) and resumed
//! from the checkpoint file's bytes ends bitwise where the uninterrupted run
//! ends, for every solver; resume refuses other data or settings; divergence
//! names its tensor, keeps finite weights, and backs off when asked.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::regression;
use mlp::checkpoint::{self, AnyState};
use mlp::optim::{
    AdamConfig, GradientDescentConfig, LbfgsConfig, LevenbergMarquardtConfig, Momentum,
    RpropConfig, SgdConfig,
};
use mlp::{
    Activation, Dataset, EarlyStopping, Float, Hooks, Init, Network, OnDivergence, OptimizerConfig,
    Params, Rng, TrainConfig, TrainReport, TrainState, TrainStop, Validation, train_with,
};

/// Hooks that save a checkpoint (as file bytes, read back) after epoch
/// `at_epoch`, or stop the run after `stop_after_steps` steps.
#[derive(Default)]
struct Recorder {
    at_epoch: Option<usize>,
    stop_after_steps: Option<usize>,
    steps: usize,
    saved: Option<Vec<u8>>,
}

impl<F: Float> Hooks<F> for Recorder {
    fn interrupted(&mut self) -> bool {
        self.steps += 1;
        self.stop_after_steps == Some(self.steps)
    }
    fn wants_checkpoint(&mut self, epoch: usize) -> bool {
        self.at_epoch == Some(epoch)
    }
    fn checkpoint(&mut self, state: &TrainState<F>) -> mlp::Result<()> {
        let extra = BTreeMap::from([("note".to_string(), "test".to_string())]);
        self.saved = Some(checkpoint::to_bytes(state, &extra)?);
        Ok(())
    }
}

fn read<F: Float>(bytes: &[u8]) -> TrainState<F> {
    let (state, extra) = checkpoint::from_bytes(Path::new("test.ckpt"), bytes).unwrap();
    assert_eq!(extra.get("note").map(String::as_str), Some("test"));
    state.into_typed().expect("the dtype written")
}

struct Run<F> {
    params: Vec<F>,
    report: TrainReport,
}

fn start<F: Float>(
    config: &TrainConfig,
    data: &Dataset<F>,
    resume: Option<TrainState<F>>,
    hooks: &mut Recorder,
) -> mlp::Result<Run<F>> {
    let net = Network::with_hidden_activation(&[2, 8, 8, 1], Activation::Tanh).unwrap();
    let mut params = Params::<F>::init(&net, Init::XavierUniform, 3).unwrap().into_vec();
    let report = train_with(&net, &mut params, data, None, config, resume, hooks)?;
    Ok(Run { params, report })
}

/// Bits of the parameters and the history (without the clock).
fn same<F: Float>(a: &Run<F>, b: &Run<F>, what: &str) {
    let differ = a
        .params
        .iter()
        .zip(&b.params)
        .position(|(x, y)| x.as_f64().to_bits() != y.as_f64().to_bits());
    assert_eq!(differ, None, "{what}: parameters differ first at this index");
    let strip = |r: &TrainReport| {
        r.history
            .iter()
            .map(|e| (e.epoch, e.train_loss.to_bits(), e.validation_loss.map(f64::to_bits)))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&a.report), strip(&b.report), "{what}: histories differ");
    assert_eq!(a.report.stop_reason, b.report.stop_reason, "{what}");
    assert_eq!(a.report.best_epoch, b.report.best_epoch, "{what}");
}

fn solvers() -> Vec<OptimizerConfig> {
    vec![
        OptimizerConfig::GradientDescent(GradientDescentConfig::default()),
        OptimizerConfig::Sgd(SgdConfig { learning_rate: 0.05, momentum: Momentum::Nesterov(0.9) }),
        OptimizerConfig::Adam(AdamConfig { learning_rate: 0.01, ..AdamConfig::default() }),
        OptimizerConfig::AdamW(AdamConfig {
            learning_rate: 0.01,
            weight_decay: 0.01,
            ..AdamConfig::default()
        }),
        OptimizerConfig::Lbfgs(LbfgsConfig::default()),
        OptimizerConfig::LevenbergMarquardt(LevenbergMarquardtConfig::default()),
        OptimizerConfig::Rprop(RpropConfig::default()),
    ]
}

fn resumes_bitwise<F: Float>(config: &TrainConfig, stop_after_steps: &[usize], at_epoch: usize) {
    let data = regression::<F>(90, 1);
    let whole = start(config, &data, None, &mut Recorder::default()).unwrap();
    let name = config.optimizer.name();
    // Stopped after an epoch, through the file's bytes.
    let mut first = Recorder { at_epoch: Some(at_epoch), ..Recorder::default() };
    start(config, &data, None, &mut first).unwrap();
    let state = read::<F>(&first.saved.expect("a checkpoint"));
    assert_eq!(state.epoch(), at_epoch);
    let resumed = start(config, &data, Some(state), &mut Recorder::default()).unwrap();
    same(&whole, &resumed, &format!("{name} resumed after epoch {at_epoch}"));
    // Interrupted after given steps, resumed, interrupted again, ...
    let mut state = None;
    for &n in stop_after_steps {
        let mut hooks = Recorder { stop_after_steps: Some(n), ..Recorder::default() };
        let run = start(config, &data, state.take(), &mut hooks).unwrap();
        if run.report.stop_reason != TrainStop::Interrupted {
            // The run ended (early stopping) before the n-th step.
            return same(&whole, &run, &format!("{name} ended before step {n}"));
        }
        state = Some(read::<F>(&hooks.saved.expect("a checkpoint on interruption")));
    }
    let resumed = start(config, &data, state, &mut Recorder::default()).unwrap();
    same(&whole, &resumed, &format!("{name} interrupted after steps {stop_after_steps:?}"));
}

#[test]
fn every_solver_resumes_to_the_same_bits() {
    for optimizer in solvers() {
        let config = TrainConfig {
            optimizer,
            max_epochs: 12,
            batch_size: 16,
            validation: Validation::Fraction(0.2),
            ..TrainConfig::default()
        };
        // 72 training rows: 5 batches an epoch for the mini-batch solvers,
        // so the interruptions fall mid-epoch; one step an epoch for the others.
        let steps: &[usize] =
            if config.optimizer.is_full_batch() { &[4, 1, 3] } else { &[7, 1, 13] };
        resumes_bitwise::<f64>(&config, steps, 5);
    }
}

#[test]
fn f32_runs_with_early_stopping_and_back_off_resume_to_the_same_bits() {
    for optimizer in [solvers()[1].clone(), solvers()[2].clone(), solvers()[4].clone()] {
        let config = TrainConfig {
            optimizer,
            max_epochs: 30,
            batch_size: 10,
            validation: Validation::Fraction(0.2),
            early_stopping: Some(EarlyStopping { patience: 3, min_delta: 0.0 }),
            on_divergence: OnDivergence::Backoff { max_backoffs: 3 },
            weight_decay: 1e-3,
            clip_norm: None,
            ..TrainConfig::default()
        };
        resumes_bitwise::<f32>(&config, &[3, 20, 4], 2);
    }
}

#[test]
fn resume_refuses_other_data_or_settings_and_threads_do_not_matter() {
    let config = TrainConfig {
        optimizer: solvers()[2].clone(),
        max_epochs: 6,
        batch_size: 16,
        ..TrainConfig::default()
    };
    let data = regression::<f64>(60, 1);
    let mut hooks = Recorder { at_epoch: Some(2), ..Recorder::default() };
    start(&config, &data, None, &mut hooks).unwrap();
    let saved = hooks.saved.unwrap();
    let other = regression::<f64>(60, 2);
    let err = start(&config, &other, Some(read(&saved)), &mut Recorder::default()).err().unwrap();
    assert_eq!(err.to_string(), "cannot resume: the training rows differ from the checkpoint's");
    let changed = TrainConfig { batch_size: 8, ..config.clone() };
    let err = start(&changed, &data, Some(read(&saved)), &mut Recorder::default()).err().unwrap();
    assert_eq!(
        err.to_string(),
        "cannot resume: the setting batch_size differs from the checkpoint's"
    );
    let threads = TrainConfig { threads: 2, ..config.clone() };
    let a = start(&threads, &data, Some(read(&saved)), &mut Recorder::default()).unwrap();
    let b = start(&config, &data, None, &mut Recorder::default()).unwrap();
    same(&a, &b, "threads");
}

#[test]
fn a_damaged_checkpoint_is_an_error_never_a_panic() {
    let config =
        TrainConfig { optimizer: solvers()[4].clone(), max_epochs: 3, ..TrainConfig::default() };
    let data = regression::<f64>(40, 1);
    let mut hooks = Recorder { at_epoch: Some(2), ..Recorder::default() };
    start(&config, &data, None, &mut hooks).unwrap();
    let bytes = hooks.saved.unwrap();
    let mut rng = Rng::new(9);
    for cut in (0..bytes.len()).step_by(97) {
        assert!(checkpoint::from_bytes(Path::new("x"), &bytes[..cut]).is_err(), "cut at {cut}");
    }
    for _ in 0..2000 {
        let mut b = bytes.clone();
        let i = rng.below(b.len() as u64) as usize;
        b[i] ^= 1 << rng.below(8);
        // Parses or refuses; resuming from what parses then fits or refuses.
        if let Ok((AnyState::F64(s), _)) = checkpoint::from_bytes(Path::new("x"), &b) {
            let _ = start(&config, &data, Some(s), &mut Recorder::default());
        }
    }
    let model =
        mlp::model_file::to_bytes(&mlp::model_file::AnyModel::F64(mlp::model_file::Model {
            network: Network::with_hidden_activation(&[2, 1], Activation::Tanh).unwrap(),
            params: Params::<f64>::zeros(
                &Network::with_hidden_activation(&[2, 1], Activation::Tanh).unwrap(),
            ),
            meta: mlp::model_file::ModelMeta::bare::<f64>(
                &Network::with_hidden_activation(&[2, 1], Activation::Tanh).unwrap(),
                mlp::Loss::MeanSquared,
            ),
        }))
        .unwrap();
    let err = checkpoint::from_bytes(Path::new("m.safetensors"), &model).err().unwrap();
    assert!(err.to_string().contains("not a checkpoint"), "{err}");
}

fn diverging(on_divergence: OnDivergence) -> TrainConfig {
    TrainConfig {
        optimizer: OptimizerConfig::Sgd(SgdConfig {
            learning_rate: 40.0,
            momentum: Momentum::Classic(0.9),
        }),
        max_epochs: 40,
        batch_size: 10,
        on_divergence,
        ..TrainConfig::default()
    }
}

#[test]
fn divergence_names_the_tensor_and_keeps_the_epoch_start() {
    let data = regression::<f64>(60, 1);
    let run = start(&diverging(OnDivergence::Stop), &data, None, &mut Recorder::default()).unwrap();
    assert_eq!(run.report.stop_reason, TrainStop::Solver(mlp::StopReason::NonFinite));
    assert!(run.params.iter().all(|p| p.is_finite()));
    let [d] = &run.report.divergences[..] else { panic!("{:?}", run.report.divergences) };
    assert_eq!(d.epoch, run.report.history.len() + 1, "the diverged epoch is not recorded");
    assert_eq!(d.backed_off_to, None);
    let known = ["parameter layer", "the output of layer", "the loss", "the gradient of layer"];
    assert!(known.iter().any(|k| d.tensor.starts_with(k)), "{d}");
    assert!(d.to_string().starts_with(&format!("epoch {}", d.epoch)), "{d}");
}

#[test]
fn back_off_halves_the_rate_and_carries_on() {
    let data = regression::<f64>(60, 1);
    let config = diverging(OnDivergence::Backoff { max_backoffs: 12 });
    let mut hooks = Recorder { at_epoch: Some(40), ..Recorder::default() };
    let run = start(&config, &data, None, &mut hooks).unwrap();
    assert!(run.params.iter().all(|p| p.is_finite()));
    assert!(!run.report.divergences.is_empty());
    // Its history, with numbers near the largest f64, comes back exactly.
    let state = read::<f64>(&hooks.saved.unwrap());
    assert_eq!(format!("{:?}", state.history()), format!("{:?}", run.report.history));
    for (k, d) in run.report.divergences.iter().enumerate() {
        assert_eq!(d.backed_off_to, Some(0.5f64.powi(k as i32 + 1)), "{d}");
    }
    assert_eq!(run.report.stop_reason, TrainStop::MaxEpochs);
    let last = run.report.history.last().unwrap();
    let scale = 0.5f64.powi(run.report.divergences.len() as i32);
    assert_eq!(last.learning_rate, Some(40.0 * scale));
    // With too few back-offs allowed, the run stops as without them.
    let few = diverging(OnDivergence::Backoff { max_backoffs: 1 });
    let run = start(&few, &data, None, &mut Recorder::default()).unwrap();
    assert_eq!(run.report.stop_reason, TrainStop::Solver(mlp::StopReason::NonFinite));
    assert_eq!(run.report.divergences.last().unwrap().backed_off_to, None);
}

#[test]
fn a_non_finite_warm_start_is_refused() {
    let data = regression::<f64>(20, 1);
    let net = Network::with_hidden_activation(&[2, 8, 8, 1], Activation::Tanh).unwrap();
    let mut params = vec![0.1; net.num_params()];
    params[net.layer_ranges(1).1.start] = f64::NAN;
    let config = TrainConfig::default();
    let err = train_with(&net, &mut params, &data, None, &config, None, &mut Recorder::default());
    assert_eq!(
        err.err().unwrap().to_string(),
        "invalid params: the starting layer 1 bias is not finite"
    );
}
