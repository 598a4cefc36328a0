//! Golden values from an independent implementation: JAX in float64
//! (`tests/data/gen_golden.py` wrote `tests/data/golden/*.json`; its header
//! says how to rerun it).

use std::path::Path;

use mlp::{Activation, Float, Init, Loss, Network, Params, Rng, Targets, Workspace};
use serde::Deserialize;

use crate::support::{max_rel_error, tolerances};

#[derive(Deserialize)]
struct Golden {
    widths: Vec<usize>,
    activations: Vec<String>,
    loss: String,
    params: Vec<f64>,
    input: Vec<f64>,
    targets: GoldenTargets,
    output: Vec<f64>,
    loss_value: f64,
    gradient: Vec<f64>,
    input_gradient: Vec<f64>,
    input_jacobian: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum GoldenTargets {
    Values(Vec<f64>),
    Classes(Vec<usize>),
}

const CASES: [&str; 5] = [
    "sine_tanh_sse",
    "classifier_relu_silu_ce",
    "multilabel_gelu_sigmoid_bce",
    "deep_every_other_activation_mse",
    "wide_input_identity_first_sse",
];

fn read<T: for<'de> Deserialize<'de>>(name: &str) -> T {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn check_case<F: Float>(name: &str) -> f64 {
    let g: Golden = read(&format!("{name}.json"));
    let acts: Vec<Activation> = g.activations.iter().map(|a| a.parse().unwrap()).collect();
    let net = Network::new(&g.widths, &acts).unwrap();
    let loss: Loss = g.loss.parse().unwrap();
    let cast = |v: &[f64]| v.iter().map(|&x| F::cast(x)).collect::<Vec<F>>();
    let params = Params::from_vec(&net, cast(&g.params)).unwrap();
    let input = cast(&g.input);
    let values = match &g.targets {
        GoldenTargets::Values(v) => cast(v),
        GoldenTargets::Classes(_) => Vec::new(),
    };
    let targets = match &g.targets {
        GoldenTargets::Values(_) => Targets::Values(&values),
        GoldenTargets::Classes(c) => Targets::Classes(c),
    };
    let batch = input.len() / net.inputs();
    let mut ws = Workspace::new(&net, batch);

    let output = net.forward(&params, &input, &mut ws).to_vec();
    let mut delta = vec![F::zero(); output.len()];
    let value = loss.value_and_gradient(&output, net.outputs(), targets, &mut delta).unwrap();
    let mut grad = vec![F::zero(); net.num_params()];
    let mut input_grad = vec![F::zero(); input.len()];
    net.backward(&params, &mut ws, &delta, &mut grad, Some(&mut input_grad));
    let mut jac = vec![F::zero(); batch * net.outputs() * net.inputs()];
    net.input_jacobian(&params, &input, &mut ws, &mut jac);

    let checks = [
        ("output", max_rel_error(&output, &cast(&g.output))),
        ("loss", max_rel_error(&[value], &cast(&[g.loss_value]))),
        ("gradient", max_rel_error(&grad, &cast(&g.gradient))),
        ("input gradient", max_rel_error(&input_grad, &cast(&g.input_gradient))),
        ("input Jacobian", max_rel_error(&jac, &cast(&g.input_jacobian))),
    ];
    let tol = tolerances::<F>().golden;
    for (what, err) in checks {
        assert!(
            err <= tol,
            "{name} ({}): {what} differs from JAX by {err:.3e} > {tol:.0e}",
            F::NAME
        );
    }
    checks.iter().map(|c| c.1).fold(0.0, f64::max)
}

#[test]
fn outputs_losses_and_gradients_match_jax_in_f64() {
    for name in CASES {
        let err = check_case::<f64>(name);
        eprintln!("golden {name} f64: max relative error {err:.3e}");
    }
}

#[test]
fn outputs_losses_and_gradients_match_jax_in_f32() {
    for name in CASES {
        let err = check_case::<f32>(name);
        eprintln!("golden {name} f32: max relative error {err:.3e}");
    }
}

#[derive(Deserialize)]
struct RngGolden {
    seed: u64,
    next_u64: Vec<String>,
    uniform: Vec<f64>,
    normal: Vec<f64>,
    xavier_uniform_3_4_2_seed_7: Vec<f64>,
}

#[test]
fn random_streams_match_an_independent_transcription_of_their_documentation() {
    let g: RngGolden = read("rng.json");
    let mut rng = Rng::new(g.seed);
    for expected in &g.next_u64 {
        assert_eq!(rng.next_u64(), expected.parse::<u64>().unwrap());
    }
    let mut rng = Rng::new(g.seed);
    for &expected in &g.uniform {
        assert_eq!(rng.uniform().to_bits(), expected.to_bits());
    }
    // Box-Muller through libm here and the platform's libm in Python: equal
    // to within an ulp or two, not necessarily to the bit.
    let mut rng = Rng::new(g.seed);
    for &expected in &g.normal {
        let z = rng.normal();
        assert!((z - expected).abs() <= 4.0 * f64::EPSILON * expected.abs(), "{z} vs {expected}");
    }
    let net = Network::with_hidden_activation(&[3, 4, 2], Activation::Tanh).unwrap();
    let params = Params::<f64>::init(&net, Init::XavierUniform, 7).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&params), bits(&g.xavier_uniform_3_4_2_seed_7));
}
