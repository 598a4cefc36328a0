//! Shared test machinery: random cases, finite differences, comparisons, and
//! the tolerances of every suite for `f32` and `f64`.

use mlp::{
    Activation, BiasInit, Dataset, Float, Init, InitConfig, Loss, Network, Params, Rng, TargetData,
    Targets, Workspace,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// Every tolerance of the integration suites, per float type: the one place
/// they are stated. Errors are measured by [`max_rel_error`].
#[derive(Clone, Copy, Debug)]
pub struct Tolerances {
    /// Back-propagation against finite differences, which are always
    /// computed in `f64` (at exactly the same point for an `f32` problem),
    /// since finite differences in `f32` are too coarse to check anything.
    pub fd: f64,
    /// The batched code against the per-sample reference (same float type).
    pub reference: f64,
    /// Identities between exact quantities computed two ways, e.g. (10).
    pub identity: f64,
    /// Against golden values computed in `f64` by JAX.
    pub golden: f64,
}

pub fn tolerances<F: Float>() -> Tolerances {
    match F::NAME {
        "f64" => Tolerances { fd: 1e-6, reference: 1e-12, identity: 1e-12, golden: 1e-12 },
        // f32 has 24 bits (eps 6e-8): a few layers of sums and
        // transcendental functions lose up to ~1e-5 relative.
        _ => Tolerances { fd: 1e-3, reference: 2e-4, identity: 2e-4, golden: 2e-4 },
    }
}

/// The largest relative error between two vectors, component by component:
/// `|a_k - b_k| / max(|a_k|, |b_k|, floor)` with `floor = 1e-3 * max_k |b_k|`
/// (at least `1e-12`). Components far below the largest one are compared
/// absolutely against a thousandth of it, since a relative error of a value
/// that is mostly cancellation says nothing about the code.
pub fn max_rel_error<F: Float>(a: &[F], b: &[F]) -> f64 {
    assert_eq!(a.len(), b.len(), "compared vectors differ in length");
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.as_f64().abs()));
    let floor = (1e-3 * scale).max(1e-12);
    a.iter()
        .zip(b)
        .map(|(a, b)| {
            let (a, b) = (a.as_f64(), b.as_f64());
            (a - b).abs() / a.abs().max(b.abs()).max(floor)
        })
        .fold(0.0, f64::max)
}

/// A proptest configuration with a fixed seed, so every run checks the same cases.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x6d6c_705f_7465_7374),
        failure_persistence: None,
        ..Config::default()
    }
}

/// One random test problem: a network, a batch, a loss and a seed for data.
#[derive(Clone, Debug)]
pub struct Case {
    pub widths: Vec<usize>,
    pub activations: Vec<Activation>,
    pub batch: usize,
    pub loss: Loss,
    pub seed: u64,
}

/// A case from drawn widths, activation and loss indices, batch and seed;
/// softmax cross-entropy gets at least 2 outputs.
fn case(
    (mut widths, acts, batch, loss, seed): (Vec<usize>, Vec<usize>, usize, usize, u64),
) -> Case {
    let loss = Loss::ALL[loss];
    if loss == Loss::SoftmaxCrossEntropy {
        let last = widths.len() - 1;
        widths[last] = widths[last].max(2);
    }
    let activations = acts.into_iter().map(|k| Activation::ALL[k]).collect();
    Case { widths, activations, batch, loss, seed }
}

/// Cases of depth 1-5, widths 1-16, batch 1-8, any activation on any layer,
/// any loss (softmax cross-entropy gets at least 2 outputs).
pub fn cases() -> impl Strategy<Value = Case> {
    (1..=5usize)
        .prop_flat_map(|depth| {
            (
                proptest::collection::vec(1..=16usize, depth + 1),
                proptest::collection::vec(0..Activation::ALL.len(), depth),
                1..=8usize,
                0..Loss::ALL.len(),
                any::<u64>(),
            )
        })
        .prop_map(case)
}

/// Cases whose layers are often 16, 32 or 64 wide, where the products on
/// AVX-512 CPUs run in register tiles of constant width (the library's
/// `linalg/tiles.rs`), with batches that span the forward pass's blocks of
/// 256 rows and the weight gradient's blocks of 64; depth 1-4, any
/// activation and loss.
pub fn wide_cases() -> impl Strategy<Value = Case> {
    let width = proptest::sample::select(vec![1usize, 2, 16, 32, 64]);
    let batch = proptest::sample::select(vec![1usize, 7, 70, 300]);
    (1..=4usize)
        .prop_flat_map(move |depth| {
            (
                proptest::collection::vec(width.clone(), depth + 1),
                proptest::collection::vec(0..Activation::ALL.len(), depth),
                batch.clone(),
                0..Loss::ALL.len(),
                any::<u64>(),
            )
        })
        .prop_map(case)
}

/// Whether φ is infinitely differentiable. The relu family is not at 0: φ′
/// jumps (relu, leaky relu, selu) or φ″ does (elu with alpha 1), and a
/// fourth-order stencil across 0 loses its accuracy.
fn is_smooth(act: Activation) -> bool {
    !matches!(
        act,
        Activation::Relu | Activation::LeakyRelu { .. } | Activation::Elu { .. } | Activation::Selu
    )
}

/// Inputs, parameters and targets of a case, owned.
pub struct Problem<F> {
    pub net: Network,
    pub params: Params<F>,
    pub input: Vec<F>,
    pub values: Vec<F>,
    pub classes: Vec<usize>,
    pub loss: Loss,
}

impl<F: Float> Problem<F> {
    pub fn new(case: &Case) -> Self {
        let net = Network::new(&case.widths, &case.activations).unwrap();
        let init =
            InitConfig { weights: Init::XavierNormal, biases: BiasInit::FanInUniform, gain: 1.0 };
        let params = Params::init(&net, init, case.seed).unwrap();
        let mut rng = Rng::new(case.seed ^ 0x5eed);
        let (b, n0, nl) = (case.batch, net.inputs(), net.outputs());
        let input = (0..b * n0).map(|_| F::cast(rng.normal())).collect();
        let values = (0..b * nl)
            .map(|_| {
                F::cast(if case.loss.is_least_squares() { rng.normal() } else { rng.uniform() })
            })
            .collect();
        let classes = (0..b).map(|_| rng.below(nl.max(2) as u64) as usize).collect();
        Self { net, params, input, values, classes, loss: case.loss }
    }

    /// The same problem in another float type (values rounded to nearest;
    /// exact from `f32` to `f64`).
    pub fn cast<G: Float>(&self) -> Problem<G> {
        let cast = |v: &[F]| v.iter().map(|x| G::cast(x.as_f64())).collect::<Vec<G>>();
        Problem {
            net: self.net.clone(),
            params: self.params.cast(),
            input: cast(&self.input),
            values: cast(&self.values),
            classes: self.classes.clone(),
            loss: self.loss,
        }
    }

    pub fn targets(&self) -> Targets<'_, F> {
        match self.loss {
            Loss::SoftmaxCrossEntropy => Targets::Classes(&self.classes),
            _ => Targets::Values(&self.values),
        }
    }

    /// The loss at `params`, and the signs of every input of a kinked activation.
    pub fn loss_and_pattern(&self, params: &[F], ws: &mut Workspace<F>) -> (F, Vec<bool>) {
        let out = self.net.forward(params, &self.input, ws).to_vec();
        let value = self.loss.value(&out, self.net.outputs(), self.targets()).unwrap();
        let mut pattern = Vec::new();
        for (i, act) in self.net.activations().iter().enumerate() {
            if !is_smooth(*act) {
                pattern.extend(ws.x(i).iter().map(|&v| v > F::zero()));
            }
        }
        (value, pattern)
    }

    /// The batched gradient of the loss.
    pub fn gradient(&self, ws: &mut Workspace<F>) -> (F, Vec<F>) {
        let mut grad = vec![F::zero(); self.net.num_params()];
        let value = self
            .net
            .loss_and_gradient(&self.params, &self.input, self.targets(), self.loss, ws, &mut grad)
            .unwrap();
        (value, grad)
    }

    /// Finite differences of the loss (fourth-order central stencil, step
    /// `1e-3 max(1, |v|)`). A
    /// component whose stencil crosses a kink of relu, leaky relu, elu or selu
    /// (an input of such an activation changes sign) is `None`: the function
    /// is not differentiable across it, and the test keeps away from it.
    pub fn finite_differences(&self, ws: &mut Workspace<F>) -> Vec<Option<F>> {
        let h_rel = 1e-3;
        let (_, base) = self.loss_and_pattern(&self.params, ws);
        let mut v = self.params.to_vec();
        (0..v.len())
            .map(|k| {
                let v0 = v[k];
                let h = F::cast(h_rel * v0.as_f64().abs().max(1.0));
                let mut eval = |t: F| {
                    v[k] = v0 + t;
                    let (value, pattern) = self.loss_and_pattern(&v, ws);
                    v[k] = v0;
                    (value, pattern == base)
                };
                let two = F::cast(2.0);
                let (p1, ok1) = eval(h);
                let (m1, ok2) = eval(-h);
                let (p2, ok3) = eval(two * h);
                let (m2, ok4) = eval(-two * h);
                (ok1 && ok2 && ok3 && ok4)
                    .then(|| (F::cast(8.0) * (p1 - m1) - (p2 - m2)) / (F::cast(12.0) * h))
            })
            .collect()
    }
}

/// `rows` noisy samples of `y = sin(3 x0) x1`, inputs uniform in [-1, 1]:
/// the small regression the training-loop suites run on.
pub fn regression<F: Float>(rows: usize, seed: u64) -> Dataset<F> {
    let mut rng = Rng::new(seed);
    let x: Vec<f64> = (0..rows * 2).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
    let y = x.chunks(2).map(|p| F::cast((3.0 * p[0]).sin() * p[1] + 0.1 * rng.normal())).collect();
    let x = x.into_iter().map(F::cast).collect();
    Dataset::new(x, 2, TargetData::Values { values: y, width: 1 }).unwrap()
}
