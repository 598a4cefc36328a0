//! Every solver on the same fixtures, with fixed seeds and a threshold each
//! must reach: XOR, the sine fit, and Rosenbrock through the objective seam.
//! Plus: gradient descent with Armijo never increases the loss (Theorem 1.1),
//! and results do not depend on the number of threads.

use mlp::optim::{
    AdamConfig, CHUNK_ROWS, GradientDescentConfig, LbfgsConfig, LevenbergMarquardtConfig,
    MIN_HALF_ROWS, Momentum, NetworkObjective, RpropConfig, SgdConfig,
};
use mlp::{
    Activation, BiasInit, Dataset, Float, Init, InitConfig, Loss, Network, Objective,
    OptimizerConfig, Params, Result, TargetData,
};
use proptest::test_runner::{TestCaseError, TestRunner};

use crate::support::{Problem, cases, config};

/// Runs `iterations` steps (or until a step reports a stop) and returns the final loss.
fn minimise(
    solver: &OptimizerConfig,
    objective: &mut dyn Objective<f64>,
    params: &mut [f64],
    iterations: usize,
) -> f64 {
    let mut optimizer = solver.build::<f64>(params.len()).unwrap();
    for _ in 0..iterations {
        let outcome = optimizer.step(objective, params).unwrap();
        if outcome.stop.is_some() {
            break;
        }
    }
    objective.loss(params).unwrap()
}

fn xor() -> (Network, Dataset<f64>) {
    let net = Network::with_hidden_activation(&[2, 4, 1], Activation::Tanh).unwrap();
    let data = Dataset::new(
        vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0],
        2,
        TargetData::Values { values: vec![0.0, 1.0, 1.0, 0.0], width: 1 },
    )
    .unwrap();
    (net, data)
}

fn sine() -> (Network, Dataset<f64>) {
    let net = Network::with_hidden_activation(&[1, 10, 1], Activation::Tanh).unwrap();
    let pi = std::f64::consts::PI;
    let x: Vec<f64> = (0..200).map(|k| -pi + 2.0 * pi * f64::from(k) / 199.0).collect();
    let y = x.iter().map(|v| v.sin()).collect();
    (net, Dataset::new(x, 1, TargetData::Values { values: y, width: 1 }).unwrap())
}

/// Every solver, with the settings the fixtures use.
fn solvers() -> Vec<OptimizerConfig> {
    vec![
        OptimizerConfig::GradientDescent(GradientDescentConfig::default()),
        OptimizerConfig::Sgd(SgdConfig { learning_rate: 0.05, momentum: Momentum::Nesterov(0.9) }),
        OptimizerConfig::Adam(AdamConfig { learning_rate: 0.02, ..AdamConfig::default() }),
        OptimizerConfig::AdamW(AdamConfig {
            learning_rate: 0.02,
            weight_decay: 1e-4,
            ..AdamConfig::default()
        }),
        OptimizerConfig::Lbfgs(LbfgsConfig::default()),
        OptimizerConfig::LevenbergMarquardt(LevenbergMarquardtConfig::default()),
        OptimizerConfig::Rprop(RpropConfig::default()),
    ]
}

#[test]
fn every_solver_solves_xor() {
    let (net, data) = xor();
    // (solver, iterations): XOR is solved when the sum of squares is below 0.01
    // (every output within 0.1 of its target).
    for solver in solvers() {
        let iterations = match solver.name() {
            "lm" => 100,
            "lbfgs" => 300,
            "rprop" => 2000,
            _ => 5000,
        };
        let mut params = Params::<f64>::init(&net, Init::XavierUniform, 3).unwrap();
        let mut objective = NetworkObjective::new(&net, &data, Loss::SumOfSquares).unwrap();
        let sse = minimise(&solver, &mut objective, &mut params, iterations);
        eprintln!("xor {:6}: SSE {sse:.3e} after at most {iterations} iterations", solver.name());
        assert!(sse <= 1e-2, "{} left XOR at SSE {sse}", solver.name());
    }
}

// Biases drawn as PyTorch's nn.Linear does: with zero biases every tanh unit
// starts centred at x = 0, and every solver first crawls along the plateau
// that symmetry creates (LM: SSE 1.4e-5 after 300 iterations instead of 1e-8).
#[test]
fn levenberg_marquardt_and_lbfgs_fit_the_sine() {
    let (net, data) = sine();
    let init =
        InitConfig { weights: Init::XavierUniform, biases: BiasInit::FanInUniform, gain: 1.0 };
    for (solver, iterations, threshold) in [
        (OptimizerConfig::LevenbergMarquardt(LevenbergMarquardtConfig::default()), 300, 1e-6),
        (OptimizerConfig::Lbfgs(LbfgsConfig::default()), 3000, 1e-3),
    ] {
        let mut params = Params::<f64>::init(&net, init, 1).unwrap();
        let mut objective = NetworkObjective::new(&net, &data, Loss::SumOfSquares).unwrap();
        let sse = minimise(&solver, &mut objective, &mut params, iterations);
        eprintln!("sine {:6}: SSE {sse:.3e} after at most {iterations} iterations", solver.name());
        assert!(sse <= threshold, "{}: SSE {sse} > {threshold}", solver.name());
    }
}

/// Rosenbrock's function as residuals: `r = (10 (y − x²), 1 − x)`, `f = Σ r²`.
struct Rosenbrock;

impl Objective<f64> for Rosenbrock {
    fn num_params(&self) -> usize {
        2
    }
    fn loss(&mut self, v: &[f64]) -> Result<f64> {
        Ok(100.0 * (v[1] - v[0] * v[0]).powi(2) + (1.0 - v[0]).powi(2))
    }
    fn loss_and_gradient(&mut self, v: &[f64], g: &mut [f64]) -> Result<f64> {
        g[0] = -400.0 * v[0] * (v[1] - v[0] * v[0]) - 2.0 * (1.0 - v[0]);
        g[1] = 200.0 * (v[1] - v[0] * v[0]);
        self.loss(v)
    }
    fn num_residuals(&self) -> Option<usize> {
        Some(2)
    }
    fn residuals_and_jacobian(&mut self, v: &[f64], r: &mut [f64], jac: &mut [f64]) -> Result<()> {
        r.copy_from_slice(&[10.0 * (v[1] - v[0] * v[0]), 1.0 - v[0]]);
        jac.copy_from_slice(&[-20.0 * v[0], 10.0, -1.0, 0.0]);
        Ok(())
    }
}

#[test]
fn full_batch_solvers_minimise_rosenbrock_through_the_objective_seam() {
    for (solver, iterations, threshold) in [
        (OptimizerConfig::GradientDescent(GradientDescentConfig::default()), 50_000, 1e-4),
        (OptimizerConfig::Lbfgs(LbfgsConfig::default()), 200, 1e-12),
        (OptimizerConfig::LevenbergMarquardt(LevenbergMarquardtConfig::default()), 200, 1e-12),
        (OptimizerConfig::Rprop(RpropConfig::default()), 5000, 1e-6),
    ] {
        let mut v = [-1.2, 1.0];
        let f = minimise(&solver, &mut Rosenbrock, &mut v, iterations);
        eprintln!("rosenbrock {:6}: f {f:.3e} at {v:?}", solver.name());
        assert!(f <= threshold, "{}: f = {f} at {v:?}", solver.name());
    }
}

/// GD with Armijo (Theorem 1.1) never increases the loss; nor does LM, which
/// accepts only decreases, on the least-squares cases.
#[test]
fn gradient_descent_with_armijo_never_increases_the_loss() {
    let mut runner = TestRunner::new(config(100));
    let result = runner.run(&cases(), |case| {
        let p = Problem::<f64>::new(&case);
        let data = match p.targets() {
            mlp::Targets::Values(v) => {
                TargetData::Values { values: v.to_vec(), width: p.net.outputs() }
            }
            mlp::Targets::Classes(c) => TargetData::Classes(c.to_vec()),
        };
        let data = Dataset::new(p.input.clone(), p.net.inputs(), data).unwrap();
        let mut solvers = vec![OptimizerConfig::GradientDescent(GradientDescentConfig::default())];
        // LM's dense Cholesky is O(P^3) per trial: keep the suite quick.
        if p.loss.is_least_squares() && p.net.num_params() <= 400 {
            solvers.push(OptimizerConfig::LevenbergMarquardt(LevenbergMarquardtConfig::default()));
        }
        for solver in solvers {
            let mut objective =
                NetworkObjective::new(&p.net, &data, p.loss).unwrap().with_weight_decay(1e-3);
            let mut optimizer = solver.build::<f64>(p.net.num_params()).unwrap();
            let mut params = p.params.to_vec();
            let mut previous = objective.loss(&params).unwrap();
            for step in 0..30 {
                let outcome = optimizer.step(&mut objective, &mut params).unwrap();
                let now = objective.loss(&params).unwrap();
                if now > previous {
                    return Err(TestCaseError::fail(format!(
                        "{} on {} ({}): loss rose from {previous} to {now} at step {step}",
                        solver.name(),
                        p.net.describe(),
                        p.loss
                    )));
                }
                previous = now;
                if outcome.stop.is_some() {
                    break;
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn residuals_include_weight_decay_so_their_squares_are_the_loss() {
    let (net, data) = sine();
    let params = Params::<f64>::init(&net, Init::XavierUniform, 2).unwrap();
    let mut objective =
        NetworkObjective::new(&net, &data, Loss::MeanSquared).unwrap().with_weight_decay(0.1);
    let m = objective.num_residuals().unwrap();
    assert_eq!(m, 200 + 20, "200 data residuals and one per weight");
    let p = net.num_params();
    let (mut r, mut jac) = (vec![0.0; m], vec![0.0; m * p]);
    objective.residuals_and_jacobian(&params, &mut r, &mut jac).unwrap();
    let mut grad = vec![0.0; p];
    let loss = objective.loss_and_gradient(&params, &mut grad).unwrap();
    let sum_sq: f64 = r.iter().map(|v| v * v).sum();
    assert!((sum_sq - loss).abs() <= 1e-13 * loss, "{sum_sq} vs {loss}");
    let two_jt_r: Vec<f64> =
        (0..p).map(|k| 2.0 * (0..m).map(|q| jac[q * p + k] * r[q]).sum::<f64>()).collect();
    assert!(crate::support::max_rel_error(&two_jt_r, &grad) < 1e-12);
}

fn run_with_threads<F: Float>(threads: usize, solver: &OptimizerConfig) -> Vec<F> {
    let net = Network::with_hidden_activation(&[3, 16, 16, 2], Activation::Tanh).unwrap();
    let mut rng = mlp::Rng::new(5);
    let rows = 1000; // four chunks of 256 rows
    let x: Vec<F> = (0..rows * 3).map(|_| F::cast(rng.normal())).collect();
    let y: Vec<F> = (0..rows * 2).map(|_| F::cast(rng.normal())).collect();
    let data = Dataset::new(x, 3, TargetData::Values { values: y, width: 2 }).unwrap();
    let mut params = Params::<F>::init(&net, Init::XavierNormal, 9).unwrap();
    let mut objective = NetworkObjective::new(&net, &data, Loss::MeanSquared)
        .unwrap()
        .with_threads(threads)
        .with_weight_decay(1e-3);
    let mut optimizer = solver.build::<F>(net.num_params()).unwrap();
    for _ in 0..10 {
        optimizer.step(&mut objective, &mut params).unwrap();
    }
    params.to_vec()
}

#[test]
fn one_and_two_threads_give_bitwise_identical_parameters() {
    for solver in [
        OptimizerConfig::Lbfgs(LbfgsConfig::default()),
        OptimizerConfig::LevenbergMarquardt(LevenbergMarquardtConfig::default()),
        OptimizerConfig::Adam(AdamConfig::default()),
    ] {
        let bits64 = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        let bits32 = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        let one = bits64(run_with_threads::<f64>(1, &solver));
        assert_eq!(one, bits64(run_with_threads::<f64>(2, &solver)), "{} f64", solver.name());
        assert_eq!(one, bits64(run_with_threads::<f64>(1, &solver)), "{} f64 rerun", solver.name());
        assert_eq!(
            bits32(run_with_threads::<f32>(1, &solver)),
            bits32(run_with_threads::<f32>(3, &solver))
        );
    }
}

/// A network of more than 32,768 parameters, where the optimizers' passes
/// over the parameters (the chunks' sum, the gradient's norm, the update)
/// are split across the threads: ten mini-batch steps and two full-batch
/// ones give the same bits at 1, 2 and 3 threads, parameters and gradient
/// norms (in `f64`, where a norm summed in another order would show), for
/// every update rule.
#[test]
fn passes_over_many_parameters_give_the_same_bits_at_any_thread_count() {
    let net = Network::with_hidden_activation(&[3, 256, 256, 2], Activation::Tanh).unwrap();
    assert!(net.num_params() > 1 << 16, "large enough to split");
    let mut rng = mlp::Rng::new(11);
    let rows = 600; // mini-batches of 200 rows: two halves; full batch: three chunks
    let x: Vec<f64> = (0..rows * 3).map(|_| rng.normal()).collect();
    let y: Vec<f64> = (0..rows * 2).map(|_| rng.normal()).collect();
    let data = Dataset::new(x, 3, TargetData::Values { values: y, width: 2 }).unwrap();
    let sgd = |momentum| OptimizerConfig::Sgd(SgdConfig { learning_rate: 0.01, momentum });
    let adam = AdamConfig { weight_decay: 0.01, ..AdamConfig::default() };
    let run = |solver: &OptimizerConfig, threads: usize| {
        let mut params = Params::<f64>::init(&net, Init::XavierNormal, 3).unwrap();
        let mut objective =
            NetworkObjective::new(&net, &data, Loss::MeanSquared).unwrap().with_threads(threads);
        let mut optimizer = solver.build::<f64>(net.num_params()).unwrap();
        let mut norms = Vec::new();
        for step in 0..12 {
            let batch: Vec<usize> = (0..200).map(|k| (k * 7 + step * 13) % rows).collect();
            objective.select((step < 10).then_some(&batch[..]));
            norms.push(optimizer.step(&mut objective, &mut params).unwrap().gradient_norm);
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        (bits(&params), bits(&norms))
    };
    for solver in [
        sgd(Momentum::None),
        sgd(Momentum::Classic(0.9)),
        sgd(Momentum::Nesterov(0.9)),
        OptimizerConfig::Adam(adam),
        OptimizerConfig::AdamW(adam),
    ] {
        let one = run(&solver, 1);
        for threads in [2, 3] {
            assert!(one == run(&solver, threads), "{} at {threads} threads", solver.name());
        }
    }
}

/// A mini-batch too small to cut in two (fewer than twice
/// `MIN_HALF_ROWS` rows) is one chunk and hands its threads to the matrix
/// products (1024 wide here, above the threading threshold): the gradient
/// must not change by a bit.
#[test]
fn threaded_products_give_bitwise_identical_minibatch_gradients() {
    let net = Network::with_hidden_activation(&[1024, 1024, 10], Activation::Relu).unwrap();
    let mut rng = mlp::Rng::new(11);
    let rows = 300;
    let x: Vec<f32> = (0..rows * 1024).map(|_| rng.uniform() as f32).collect();
    let classes: Vec<usize> = (0..rows).map(|_| rng.below(10) as usize).collect();
    let data = Dataset::new(x, 1024, TargetData::Classes(classes)).unwrap();
    let params = Params::<f32>::init(&net, Init::HeNormal, 2).unwrap();
    let batch: Vec<usize> = (0..2 * MIN_HALF_ROWS - 1).map(|k| (k * 7) % rows).collect();
    let gradient = |threads: usize| {
        let mut objective = NetworkObjective::new(&net, &data, Loss::SoftmaxCrossEntropy)
            .unwrap()
            .with_threads(threads);
        objective.select(Some(&batch));
        let mut grad = vec![0.0f32; net.num_params()];
        let loss = objective.loss_and_gradient(&params, &mut grad).unwrap();
        (loss.to_bits(), grad.iter().map(|g| g.to_bits()).collect::<Vec<_>>())
    };
    let one = gradient(1);
    assert_eq!(one, gradient(2), "2 threads");
    assert_eq!(one, gradient(3), "3 threads");
}

#[test]
fn settings_out_of_range_are_errors_naming_the_field() {
    let bad = [
        (
            OptimizerConfig::Sgd(SgdConfig { learning_rate: -1.0, ..SgdConfig::default() }),
            "sgd.learning_rate",
        ),
        (
            OptimizerConfig::Sgd(SgdConfig {
                momentum: Momentum::Classic(1.0),
                ..SgdConfig::default()
            }),
            "sgd.momentum",
        ),
        (OptimizerConfig::Adam(AdamConfig { beta2: 1.0, ..AdamConfig::default() }), "adam.beta2"),
        (OptimizerConfig::Lbfgs(LbfgsConfig { c1: 0.95, ..LbfgsConfig::default() }), "lbfgs.wolfe"),
        (
            OptimizerConfig::Rprop(RpropConfig { decrease: 1.5, ..RpropConfig::default() }),
            "rprop.decrease",
        ),
        (
            OptimizerConfig::GradientDescent(GradientDescentConfig {
                shrink: 1.0,
                ..GradientDescentConfig::default()
            }),
            "gd.shrink",
        ),
    ];
    for (config, field) in bad {
        let err = config.build::<f64>(10).err().expect("invalid settings accepted");
        assert!(err.to_string().starts_with(&format!("invalid {field}:")), "{err}");
    }
    let err = OptimizerConfig::LevenbergMarquardt(LevenbergMarquardtConfig::default())
        .build::<f64>(100_000)
        .err()
        .unwrap();
    assert!(err.to_string().contains("use lbfgs"), "{err}");
    let (net, data) = xor();
    let mut objective = NetworkObjective::new(&net, &data, Loss::SigmoidCrossEntropy).unwrap();
    let mut params = Params::<f64>::init(&net, Init::XavierUniform, 3).unwrap();
    let mut lm = OptimizerConfig::LevenbergMarquardt(LevenbergMarquardtConfig::default())
        .build::<f64>(17)
        .unwrap();
    let err = lm.step(&mut objective, &mut params).unwrap_err();
    assert!(err.to_string().contains("not a sum of squares"), "{err}");
}

/// A mini-batch of at least twice `MIN_HALF_ROWS` rows is two chunks, its
/// halves (the first one row longer): its loss and gradient are the first
/// half's plus the second's, bit for bit, at any number of threads.
#[test]
fn a_minibatch_is_the_sum_of_its_two_halves_at_any_thread_count() {
    let net = Network::with_hidden_activation(&[5, 24, 3], Activation::Tanh).unwrap();
    let mut rng = mlp::Rng::new(4);
    let rows = 400;
    let x: Vec<f64> = (0..rows * 5).map(|_| rng.normal()).collect();
    let y: Vec<f64> = (0..rows * 3).map(|_| rng.normal()).collect();
    let data = Dataset::new(x, 5, TargetData::Values { values: y, width: 3 }).unwrap();
    let params = Params::<f64>::init(&net, Init::XavierNormal, 6).unwrap();
    let batch: Vec<usize> = (0..201).map(|k| (k * 13) % rows).collect();
    assert_eq!(mlp::optim::chunk_len(batch.len(), CHUNK_ROWS), 101);
    let p = net.num_params();
    // The notes' S, a plain sum (scale 1 for any batch), so that the parts add up.
    let evaluate = |rows: &[usize], threads: usize| {
        let mut objective =
            NetworkObjective::new(&net, &data, Loss::SumOfSquares).unwrap().with_threads(threads);
        objective.select(Some(rows));
        let mut grad = vec![0.0; p];
        let loss = objective.loss_and_gradient(&params, &mut grad).unwrap();
        (loss, grad)
    };
    let (loss1, grad1) = evaluate(&batch[..101], 1);
    let (loss2, grad2) = evaluate(&batch[101..], 1);
    let bits = |v: &[f64]| v.iter().map(|g| g.to_bits()).collect::<Vec<_>>();
    let sum: Vec<f64> = grad1.iter().zip(&grad2).map(|(a, b)| a + b).collect();
    for threads in [1, 2, 3] {
        let (loss, grad) = evaluate(&batch, threads);
        assert_eq!((loss1 + loss2).to_bits(), loss.to_bits(), "loss, {threads} threads");
        assert_eq!(bits(&sum), bits(&grad), "gradient, {threads} threads");
    }
}

#[test]
fn only_minibatches_of_two_full_halves_are_cut() {
    use mlp::optim::chunk_len;
    let half = MIN_HALF_ROWS;
    assert_eq!(chunk_len(2 * half - 1, CHUNK_ROWS), CHUNK_ROWS, "too small to cut: one chunk");
    assert_eq!(chunk_len(2 * half, CHUNK_ROWS), half);
    assert_eq!(chunk_len(2 * half + 1, CHUNK_ROWS), half + 1, "the first half takes the odd row");
    assert_eq!(chunk_len(CHUNK_ROWS - 1, CHUNK_ROWS), CHUNK_ROWS / 2);
    assert_eq!(chunk_len(CHUNK_ROWS, CHUNK_ROWS), CHUNK_ROWS, "a whole chunk stays whole");
    assert_eq!(chunk_len(10 * CHUNK_ROWS, CHUNK_ROWS), CHUNK_ROWS);
    assert_eq!(chunk_len(1000, 16), 16, "a chosen chunk length rules above it");
}
