//! Criterion benches of the network kernels: activations, single-sample
//! prediction, a training step, forward, backward and Jacobian at a few
//! (widths, batch) sizes, and the batched backward against the per-sample
//! reference. Throughput is in samples, so results read as
//! samples per second. CI only compiles them (`cargo bench --no-run`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlp::network::reference;
use mlp::optim::{Momentum, NetworkObjective, Sgd, SgdConfig};
use mlp::{
    Activation, Dataset, Float, Init, Loss, Network, Optimizer, Params, Predictor, TargetData,
    Targets, Workspace,
};

/// (name, widths, hidden activation, batch): the notes' sine fit, an
/// MNIST-sized classifier, and a small sensor model.
const SHAPES: [(&str, &[usize], Activation, usize); 3] = [
    ("sine 1-32-32-1 tanh", &[1, 32, 32, 1], Activation::Tanh, 1000),
    ("mnist 784-256-128-10 relu", &[784, 256, 128, 10], Activation::Relu, 128),
    ("sensor 8-64-64-4 gelu", &[8, 64, 64, 4], Activation::Gelu, 256),
];

struct Setup<F> {
    net: Network,
    params: Params<F>,
    input: Vec<F>,
    targets: Vec<F>,
    batch: usize,
}

fn setup<F: Float>(widths: &[usize], hidden: Activation, batch: usize) -> Setup<F> {
    let net = Network::with_hidden_activation(widths, hidden).unwrap();
    let params = Params::init(&net, Init::HeNormal, 1).unwrap();
    let input = (0..batch * net.inputs()).map(|k| F::cast((k as f64 * 0.731).sin())).collect();
    let targets = (0..batch * net.outputs()).map(|k| F::cast((k as f64 * 0.193).cos())).collect();
    Setup { net, params, input, targets, batch }
}

fn forward(c: &mut Criterion) {
    let mut group = c.benchmark_group("forward");
    for (name, widths, hidden, batch) in SHAPES {
        let s = setup::<f32>(widths, hidden, batch);
        let mut ws = Workspace::new(&s.net, batch);
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(BenchmarkId::new("f32", name), |b| {
            b.iter(|| s.net.forward(&s.params, &s.input, &mut ws)[0]);
        });
    }
    group.finish();
}

fn backward<F: Float>(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("forward+backward {}", F::NAME));
    for (name, widths, hidden, batch) in SHAPES {
        let s = setup::<F>(widths, hidden, batch);
        let mut ws = Workspace::new(&s.net, batch);
        let mut grad = vec![F::zero(); s.net.num_params()];
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let targets = Targets::Values(&s.targets);
                s.net
                    .loss_and_gradient(
                        &s.params,
                        &s.input,
                        targets,
                        Loss::MeanSquared,
                        &mut ws,
                        &mut grad,
                    )
                    .unwrap()
            });
        });
    }
    group.finish();
}

fn backward_vs_reference(c: &mut Criterion) {
    let mut group = c.benchmark_group("gradient: batched vs reference, 8-64-64-4, batch 64");
    let s = setup::<f64>(&[8, 64, 64, 4], Activation::Tanh, 64);
    let mut ws = Workspace::new(&s.net, s.batch);
    let mut grad = vec![0.0; s.net.num_params()];
    group.throughput(Throughput::Elements(s.batch as u64));
    group.bench_function("batched", |b| {
        b.iter(|| {
            let targets = Targets::Values(&s.targets);
            s.net.loss_and_gradient(
                &s.params,
                &s.input,
                targets,
                Loss::SumOfSquares,
                &mut ws,
                &mut grad,
            )
        });
    });
    group.bench_function("reference", |b| {
        b.iter(|| {
            (0..s.batch)
                .map(|k| {
                    let f = &s.input[k * 8..(k + 1) * 8];
                    let y = &s.targets[k * 4..(k + 1) * 4];
                    reference::sse_gradient(&s.net, &s.params, f, y).0
                })
                .sum::<f64>()
        });
    });
    group.finish();
}

fn jacobian(c: &mut Criterion) {
    let mut group = c.benchmark_group("parameter Jacobian f64");
    let s = setup::<f64>(&[8, 32, 32, 4], Activation::Tanh, 64);
    let mut ws = Workspace::new(&s.net, s.batch);
    let mut jac = vec![0.0; s.batch * s.net.outputs() * s.net.num_params()];
    group.throughput(Throughput::Elements(s.batch as u64));
    group.bench_function("8-32-32-4 tanh, batch 64", |b| {
        b.iter(|| s.net.parameter_jacobian(&s.params, &s.input, &mut ws, &mut jac));
    });
    group.finish();
}

/// Element-wise activations on 64,000 values (workload T's per-step count),
/// against the standard library's scalar `tanh` for scale.
fn activations<F: Float>(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("activation {}", F::NAME));
    let n = 64_000;
    let x: Vec<F> = (0..n).map(|k| F::cast(((k as f64) * 0.377).sin() * 4.0)).collect();
    let mut y = vec![F::zero(); n];
    group.throughput(Throughput::Elements(n as u64));
    let elu = Activation::Elu { alpha: 1.0 };
    for activation in [
        Activation::Tanh,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Silu,
        elu,
        Activation::Gelu,
        Activation::Softplus,
    ] {
        group.bench_function(activation.name(), |b| b.iter(|| activation.apply(&x, &mut y)));
    }
    group.bench_function("std tanh", |b| {
        b.iter(|| y.iter_mut().zip(&x).for_each(|(y, x)| *y = x.tanh()));
    });
    group.finish();
}

/// Single-sample prediction through [`Predictor`] (workload I(a)'s network),
/// against a batch of one through [`Network::forward`].
fn single_sample(c: &mut Criterion) {
    let mut group = c.benchmark_group("single sample f32, 8-64-64-4 tanh");
    let s = setup::<f32>(&[8, 64, 64, 4], Activation::Tanh, 1);
    let mut predictor = Predictor::new(&s.net, &s.params);
    let mut ws = Workspace::new(&s.net, 1);
    group.bench_function("Predictor::predict", |b| b.iter(|| predictor.predict(&s.input)[0]));
    group.bench_function("Network::forward, batch 1", |b| {
        b.iter(|| s.net.forward(&s.params, &s.input, &mut ws)[0]);
    });
    group.finish();
}

/// One mini-batch SGD step with momentum as `mlp::train` takes it: gather
/// the batch, forward, backward, update (workload M's network, batch 128).
fn training_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("training step f32, 784-256-128-10 relu, batch 128");
    let net = Network::with_hidden_activation(&[784, 256, 128, 10], Activation::Relu).unwrap();
    let rows = 1024;
    let x: Vec<f32> =
        (0..rows * 784).map(|k| ((k as f64 * 0.37).sin() * 0.5 + 0.5) as f32).collect();
    let classes: Vec<usize> = (0..rows).map(|k| k % 10).collect();
    let data = Dataset::new(x, 784, TargetData::Classes(classes)).unwrap();
    let mut params = Params::<f32>::init(&net, Init::HeUniform, 1).unwrap();
    let config = SgdConfig { learning_rate: 0.05, momentum: Momentum::Classic(0.9) };
    let mut sgd = Sgd::new(config, net.num_params()).unwrap();
    let batch: Vec<usize> = (0..128).map(|k| (k * 37) % rows).collect();
    group.throughput(Throughput::Elements(128));
    for threads in [1, 2] {
        let mut objective = NetworkObjective::new(&net, &data, Loss::SoftmaxCrossEntropy)
            .unwrap()
            .with_threads(threads);
        group.bench_function(format!("{threads} thread(s)"), |b| {
            b.iter(|| {
                objective.select(Some(&batch));
                sgd.step(&mut objective, &mut params).unwrap().loss
            });
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    single_sample,
    training_step,
    activations::<f32>,
    activations::<f64>,
    forward,
    backward::<f32>,
    backward::<f64>,
    backward_vs_reference,
    jacobian
);
criterion_main!(benches);
