//! The training loop: early stopping restores the best weights, runs
//! reproduce bit for bit (and across thread counts), the callback and the
//! stopping rules work, divergence keeps the last finite weights.

use std::ops::ControlFlow;

use mlp::optim::{AdamConfig, LbfgsConfig, LevenbergMarquardtConfig, Momentum, SgdConfig};
use mlp::{
    Activation, Dataset, EarlyStopping, Init, Loss, Network, OptimizerConfig, Params, Rng,
    Schedule, TargetData, TrainConfig, TrainStop, Validation, evaluate, split, train,
};

/// Noisy samples of sin(3x) on [-1, 1]: a wide network overfits them.
fn noisy_regression(rows: usize, seed: u64) -> Dataset<f64> {
    let mut rng = Rng::new(seed);
    let x: Vec<f64> = (0..rows).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
    let y = x.iter().map(|v| (3.0 * v).sin() + 0.3 * rng.normal()).collect();
    Dataset::new(x, 1, TargetData::Values { values: y, width: 1 }).unwrap()
}

fn blobs(rows: usize, seed: u64) -> Dataset<f64> {
    let mut rng = Rng::new(seed);
    let mut x = Vec::new();
    let mut labels = Vec::new();
    for r in 0..rows {
        let c = r % 3;
        let centre = [(0.0, 2.0), (2.0, -1.0), (-2.0, -1.0)][c];
        x.extend([centre.0 + rng.normal(), centre.1 + rng.normal()]);
        labels.push(c);
    }
    Dataset::new(x, 2, TargetData::Classes(labels)).unwrap()
}

fn run(
    config: &TrainConfig,
    data: &Dataset<f64>,
    widths: &[usize],
) -> (Vec<f64>, mlp::TrainReport) {
    let net = Network::with_hidden_activation(widths, Activation::Tanh).unwrap();
    let mut params = Params::<f64>::init(&net, Init::XavierUniform, 11).unwrap();
    let report =
        train(&net, &mut params, data, None, config, |_| ControlFlow::Continue(())).unwrap();
    (params.to_vec(), report)
}

#[test]
fn early_stopping_restores_the_weights_of_the_best_validation_epoch() {
    let data = noisy_regression(60, 1);
    let config = TrainConfig {
        optimizer: OptimizerConfig::Adam(AdamConfig {
            learning_rate: 0.03,
            ..AdamConfig::default()
        }),
        max_epochs: 2000,
        batch_size: 8,
        validation: Validation::Fraction(0.3),
        early_stopping: Some(EarlyStopping { patience: 20, min_delta: 0.0 }),
        ..TrainConfig::default()
    };
    let net = Network::with_hidden_activation(&[1, 64, 64, 1], Activation::Tanh).unwrap();
    let mut params = Params::<f64>::init(&net, Init::XavierUniform, 11).unwrap();
    let report =
        train(&net, &mut params, &data, None, &config, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(
        report.stop_reason,
        TrainStop::EarlyStopping,
        "it should overfit within 2000 epochs"
    );
    let losses: Vec<f64> = report.history.iter().map(|r| r.validation_loss.unwrap()).collect();
    let best = losses.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap().0 + 1;
    assert_eq!(report.best_epoch, best);
    assert!(
        report.history.len() >= best + 20,
        "stopped {} epochs after the best",
        report.history.len() - best
    );
    assert!(report.best_epoch < report.history.len(), "the last epoch was not the best");
    // The returned weights are the best epoch's: their validation loss is that epoch's, bit for bit.
    let (_, validation) = split(&data, 0.3, config.seed).unwrap();
    let (loss, _) = evaluate(&net, &params, &validation, Loss::MeanSquared).unwrap();
    assert_eq!(loss.to_bits(), losses[best - 1].to_bits());
    assert_eq!(report.validation_loss.unwrap().to_bits(), losses[best - 1].to_bits());
}

#[test]
fn the_same_seed_gives_bitwise_identical_parameters_whatever_the_threads() {
    let data = blobs(600, 2);
    for optimizer in [
        OptimizerConfig::Adam(AdamConfig::default()),
        OptimizerConfig::Sgd(SgdConfig { learning_rate: 0.05, momentum: Momentum::Classic(0.9) }),
        OptimizerConfig::Lbfgs(LbfgsConfig::default()),
    ] {
        let config = TrainConfig {
            loss: Loss::SoftmaxCrossEntropy,
            optimizer,
            max_epochs: 15,
            batch_size: 300, // two chunks of 256 rows, so threads have work to share
            validation: Validation::Fraction(0.2),
            weight_decay: 1e-4,
            seed: 7,
            ..TrainConfig::default()
        };
        let (a, _) = run(&config, &data, &[2, 8, 3]);
        let (b, _) = run(&config, &data, &[2, 8, 3]);
        let (c, _) = run(&TrainConfig { threads: 2, ..config.clone() }, &data, &[2, 8, 3]);
        let (d, _) = run(&TrainConfig { seed: 8, ..config.clone() }, &data, &[2, 8, 3]);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "{}: same seed", config.optimizer.name());
        assert_eq!(bits(&a), bits(&c), "{}: 1 vs 2 threads", config.optimizer.name());
        assert_ne!(bits(&a), bits(&d), "{}: another seed", config.optimizer.name());
    }
}

#[test]
fn the_callback_sees_every_epoch_and_can_stop_training() {
    let data = blobs(90, 3);
    let config =
        TrainConfig { loss: Loss::SoftmaxCrossEntropy, max_epochs: 50, ..TrainConfig::default() };
    let net = Network::with_hidden_activation(&[2, 8, 3], Activation::Tanh).unwrap();
    let mut params = Params::<f64>::init(&net, Init::XavierUniform, 1).unwrap();
    let mut seen = Vec::new();
    let report = train(&net, &mut params, &data, None, &config, |p| {
        seen.push(p.record.epoch);
        if p.record.epoch == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })
    .unwrap();
    assert_eq!(seen, [1, 2, 3]);
    assert_eq!(report.stop_reason, TrainStop::Callback);
    assert_eq!(report.history.len(), 3);
}

#[test]
fn stopping_rules_end_training_with_their_reason() {
    let data = blobs(90, 4);
    let base = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::Lbfgs(LbfgsConfig::default()),
        max_epochs: 500,
        ..TrainConfig::default()
    };
    let (_, r) = run(&TrainConfig { target_loss: Some(0.2), ..base.clone() }, &data, &[2, 8, 3]);
    assert_eq!(r.stop_reason, TrainStop::TargetLoss);
    assert!(r.history.last().unwrap().train_loss <= 0.2);
    let (_, r) =
        run(&TrainConfig { gradient_tolerance: Some(1e-3), ..base.clone() }, &data, &[2, 8, 3]);
    assert!(
        matches!(r.stop_reason, TrainStop::SmallGradient | TrainStop::Solver(_)),
        "{:?}",
        r.stop_reason
    );
    let (_, r) = run(
        &TrainConfig { time_budget: Some(std::time::Duration::ZERO), ..base },
        &data,
        &[2, 8, 3],
    );
    assert_eq!((r.stop_reason, r.history.len()), (TrainStop::TimeBudget, 1));
}

#[test]
fn divergence_stops_with_the_last_finite_parameters() {
    let data = noisy_regression(64, 5);
    let config = TrainConfig {
        optimizer: OptimizerConfig::Sgd(SgdConfig { learning_rate: 1e6, momentum: Momentum::None }),
        max_epochs: 100,
        batch_size: 64,
        ..TrainConfig::default()
    };
    let (params, report) = run(&config, &data, &[1, 16, 1]);
    assert_eq!(report.stop_reason, TrainStop::Solver(mlp::StopReason::NonFinite));
    assert!(params.iter().all(|p| p.is_finite()));
    assert!(report.train_loss.is_finite());
}

#[test]
fn schedules_give_the_documented_rates() {
    let adam =
        |lr| OptimizerConfig::Adam(AdamConfig { learning_rate: lr, ..AdamConfig::default() });
    let config = |schedule, warmup_epochs| TrainConfig {
        optimizer: adam(0.1),
        max_epochs: 11,
        schedule,
        warmup_epochs,
        ..TrainConfig::default()
    };
    let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-15;
    let step = config(Schedule::Step { every: 2, factor: 0.5 }, 0);
    assert!(
        close(step.learning_rate(1), 0.1)
            && close(step.learning_rate(3), 0.05)
            && close(step.learning_rate(6), 0.025)
    );
    let exp = config(Schedule::Exponential { gamma: 0.9 }, 0);
    assert!(close(exp.learning_rate(3), 0.1 * 0.81));
    let cosine = config(Schedule::Cosine { min_rate: 0.0 }, 1);
    assert!(close(cosine.learning_rate(1), 0.1), "warm-up of one epoch ends at the full rate");
    assert!(close(cosine.learning_rate(2), 0.1) && close(cosine.learning_rate(11), 0.0));
    let warm = config(Schedule::Constant, 4);
    assert!(
        close(warm.learning_rate(1), 0.025)
            && close(warm.learning_rate(4), 0.1)
            && close(warm.learning_rate(9), 0.1)
    );
    let lbfgs = TrainConfig {
        optimizer: OptimizerConfig::Lbfgs(LbfgsConfig::default()),
        ..TrainConfig::default()
    };
    assert_eq!(lbfgs.learning_rate(1), None);
}

#[test]
fn invalid_settings_are_refused_before_training() {
    let lm_ce = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::LevenbergMarquardt(LevenbergMarquardtConfig::default()),
        ..TrainConfig::default()
    };
    let err = lm_ce.validate().unwrap_err().to_string();
    assert!(err.contains("not a sum of squares") && err.contains("use sse or mse"), "{err}");
    let clip = TrainConfig {
        optimizer: OptimizerConfig::Lbfgs(LbfgsConfig::default()),
        clip_norm: Some(1.0),
        ..TrainConfig::default()
    };
    assert!(clip.validate().unwrap_err().to_string().starts_with("invalid clip_norm"));
    let fraction = TrainConfig { validation: Validation::Fraction(1.5), ..TrainConfig::default() };
    assert!(fraction.validate().unwrap_err().to_string().starts_with("invalid validation"));
    let patience = TrainConfig {
        early_stopping: Some(EarlyStopping { patience: 0, min_delta: 0.0 }),
        ..TrainConfig::default()
    };
    assert!(
        patience.validate().unwrap_err().to_string().starts_with("invalid early_stopping.patience")
    );
}

#[test]
fn clipping_bounds_each_step_and_the_history_reports_the_raw_norm() {
    let data = noisy_regression(32, 7);
    let config = TrainConfig {
        optimizer: OptimizerConfig::Sgd(SgdConfig { learning_rate: 1.0, momentum: Momentum::None }),
        max_epochs: 1,
        batch_size: 32,
        clip_norm: Some(1e-3),
        ..TrainConfig::default()
    };
    let net = Network::with_hidden_activation(&[1, 8, 1], Activation::Tanh).unwrap();
    let start = Params::<f64>::init(&net, Init::XavierUniform, 3).unwrap();
    let mut params = start.clone();
    let report =
        train(&net, &mut params, &data, None, &config, |_| ControlFlow::Continue(())).unwrap();
    let step: f64 =
        params.iter().zip(start.iter()).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
    assert!(step <= 1e-3 * (1.0 + 1e-12) && step > 0.0, "step {step}");
    assert!(report.history[0].gradient_norm > 1e-2, "the raw norm, not the clipped one");
}

#[test]
fn early_stopping_without_a_validation_set_is_an_error() {
    let data = noisy_regression(32, 8);
    let config = TrainConfig {
        early_stopping: Some(EarlyStopping { patience: 3, min_delta: 0.0 }),
        ..TrainConfig::default()
    };
    let net = Network::with_hidden_activation(&[1, 4, 1], Activation::Tanh).unwrap();
    let mut params = Params::<f64>::init(&net, Init::XavierUniform, 3).unwrap();
    let err =
        train(&net, &mut params, &data, None, &config, |_| ControlFlow::Continue(())).unwrap_err();
    assert!(err.to_string().starts_with("invalid early_stopping: needs a validation set"), "{err}");
}

#[test]
fn the_validation_split_is_stratified_and_seeded() {
    let data = blobs(300, 6);
    let (train_part, validation) = split(&data, 0.2, 1).unwrap();
    assert_eq!((train_part.rows(), validation.rows()), (240, 60));
    let TargetData::Classes(labels) = validation.target_data() else { panic!("classes") };
    for c in 0..3 {
        assert_eq!(labels.iter().filter(|&&l| l == c).count(), 20, "class {c}");
    }
    assert_eq!(split(&data, 0.2, 1).unwrap().1, validation);
    assert_ne!(split(&data, 0.2, 2).unwrap().1, validation);
}
