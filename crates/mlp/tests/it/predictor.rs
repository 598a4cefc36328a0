//! The single-sample [`Predictor`] equals the batched forward pass to rounding.

use std::cell::Cell;

use mlp::{Activation, Float, Init, Network, Params, Predictor, Workspace};
use proptest::test_runner::{TestCaseError, TestRunner};

use crate::support::{Problem, cases, config, max_rel_error, tolerances};

fn check<F: Float>() {
    let tol = tolerances::<F>().reference;
    let worst = Cell::new(0.0f64);
    let mut runner = TestRunner::new(config(256));
    let result = runner.run(&cases(), |case| {
        let p = Problem::<F>::new(&case);
        let mut ws = Workspace::new(&p.net, case.batch);
        let batched = p.net.forward(&p.params, &p.input, &mut ws).to_vec();
        let mut predictor = Predictor::new(&p.net, &p.params);
        let single: Vec<F> = p
            .input
            .chunks_exact(p.net.inputs())
            .flat_map(|sample| predictor.predict(sample).to_vec())
            .collect();
        let err = max_rel_error(&single, &batched);
        worst.set(worst.get().max(err));
        if err > tol {
            return Err(TestCaseError::fail(format!("{case:?}: error {err:.2e} > {tol:.0e}")));
        }
        Ok(())
    });
    result.unwrap();
    println!("predictor {}: max relative error {:.2e} (tolerance {tol:.0e})", F::NAME, worst.get());
}

#[test]
fn predictor_equals_forward_f64() {
    check::<f64>();
}

#[test]
fn predictor_equals_forward_f32() {
    check::<f32>();
}

/// Long dot products and wide column sums (full register blocks of 64 `f32`
/// or 32 `f64` outputs, and a remainder), as in the benchmarked networks.
fn check_large<F: Float>() {
    let tol = tolerances::<F>().reference;
    for (widths, act) in [
        (&[784, 256, 128, 10][..], Activation::Relu),
        (&[8, 64, 64, 4][..], Activation::Tanh),
        (&[13, 100, 9, 1][..], Activation::Gelu),
    ] {
        let net = Network::with_hidden_activation(widths, act).unwrap();
        let params = Params::<F>::init(&net, Init::HeNormal, 4).unwrap();
        let input: Vec<F> = (0..3 * widths[0]).map(|k| F::cast((k as f64 * 0.61).sin())).collect();
        let batched = net.predict(&params, &input);
        let mut predictor = Predictor::new(&net, &params);
        let single: Vec<F> =
            input.chunks_exact(widths[0]).flat_map(|s| predictor.predict(s).to_vec()).collect();
        let err = max_rel_error(&single, &batched);
        assert!(err < tol, "{} {widths:?}: {err:.2e}", F::NAME);
    }
}

#[test]
fn predictor_equals_forward_on_large_networks() {
    check_large::<f64>();
    check_large::<f32>();
}

/// A model trained on scaled data, as `mlp train` writes it: `for_model`
/// takes and returns original units, as `prediction::predict` does.
#[test]
fn a_predictor_for_a_model_applies_its_scalers() {
    use mlp::data::scaling::{ScaleKind, Scaler};
    use mlp::model_file::{Model, ModelMeta};
    use mlp::prediction::{Prediction, predict};
    let network = Network::with_hidden_activation(&[3, 16, 2], Activation::Tanh).unwrap();
    let params = Params::<f64>::init(&network, Init::XavierUniform, 5).unwrap();
    let rows: Vec<f64> = (0..30).map(|k| f64::from(k) * 3.7 - 40.0).collect();
    let targets: Vec<f64> = (0..20).map(|k| 1e4 + f64::from(k * k)).collect();
    let mut meta = ModelMeta::bare::<f64>(&network, mlp::Loss::MeanSquared);
    meta.input_scaler = Scaler::fit(ScaleKind::Standard, &rows, 3).unwrap();
    meta.target_scaler = Scaler::fit(ScaleKind::MinMax, &targets, 2).unwrap();
    let model = Model { network: network.clone(), params: params.clone(), meta };
    let (mut scaled, mut plain) = (Predictor::for_model(&model), Predictor::new(&network, &params));
    let Prediction::Values(expected) = predict(&model, &rows) else { panic!("a regression") };
    for (x, want) in rows.chunks(3).zip(expected.chunks(2)) {
        let got = scaled.predict(x);
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{g} against {w}");
        }
        assert!(plain.predict(x).iter().all(|v| v.abs() < 10.0), "scaled units, near 0");
    }
}
