//! The batched gradient (MATH §5, GEMMs over the batch) equals the
//! per-sample reference of §4 summed over the batch, to rounding.

use std::cell::Cell;

use mlp::network::reference;
use mlp::{Float, Loss, RowTarget, Targets, Workspace};
use proptest::test_runner::{TestCaseError, TestRunner};

use proptest::strategy::Strategy;

use crate::support::{Case, Problem, cases, config, max_rel_error, tolerances, wide_cases};

fn check<F: Float>(cases: impl Strategy<Value = Case>, count: u32) {
    let base = tolerances::<F>().reference;
    let worst = Cell::new(0.0f64);
    let mut runner = TestRunner::new(config(count));
    let result = runner.run(&cases, |case| {
        let p = Problem::<F>::new(&case);
        let mut ws = Workspace::new(&p.net, case.batch);
        let mut input_grad = vec![F::zero(); p.input.len()];
        // Batched: forward, Δ^L from the loss, backward with input gradient.
        let out = p.net.forward(&p.params, &p.input, &mut ws).to_vec();
        let mut delta = vec![F::zero(); out.len()];
        let value =
            p.loss.value_and_gradient(&out, p.net.outputs(), p.targets(), &mut delta).unwrap();
        let mut grad = vec![F::zero(); p.net.num_params()];
        p.net.backward(&p.params, &mut ws, &delta, &mut grad, Some(&mut input_grad));

        // Reference: one sample at a time, summed.
        let scale = p.loss.scale(case.batch, p.net.outputs());
        let (n0, nl) = (p.net.inputs(), p.net.outputs());
        let mut ref_value = F::zero();
        let mut ref_grad = vec![F::zero(); grad.len()];
        let mut ref_input = Vec::new();
        for s in 0..case.batch {
            let target = match p.targets() {
                Targets::Classes(c) => RowTarget::Class(c[s]),
                Targets::Values(v) => RowTarget::Values(&v[s * nl..(s + 1) * nl]),
            };
            let f = &p.input[s * n0..(s + 1) * n0];
            let (v, g) = reference::loss_gradient(&p.net, &p.params, f, target, p.loss, scale);
            ref_value = ref_value + v;
            ref_grad.iter_mut().zip(&g.params).for_each(|(a, &b)| *a = *a + b);
            ref_input.extend(g.input);
        }
        // The tolerance is for batches of up to 8; the rounding errors of
        // sums over a batch grow like the square root of its length.
        let tol = base * (case.batch.max(8) as f64 / 8.0).sqrt();
        let err = max_rel_error(&grad, &ref_grad)
            .max(max_rel_error(&input_grad, &ref_input))
            .max(max_rel_error(&[value], &[ref_value]));
        worst.set(worst.get().max(err));
        if err > tol {
            return Err(TestCaseError::fail(format!(
                "{}: error {err:.3e} > {tol:.0e}",
                p.net.describe()
            )));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!(
        "{}: batched vs reference, {count} cases, max relative error {:.3e}",
        F::NAME,
        worst.get()
    );
}

#[test]
fn batched_gradient_equals_sum_of_reference_gradients_in_f64() {
    check::<f64>(cases(), 256);
}

#[test]
fn batched_gradient_equals_sum_of_reference_gradients_in_f32() {
    check::<f32>(cases(), 256);
}

#[test]
fn batched_gradient_equals_the_reference_in_f64_for_layers_16_to_64_wide() {
    check::<f64>(wide_cases(), 48);
}

#[test]
fn batched_gradient_equals_the_reference_in_f32_for_layers_16_to_64_wide() {
    check::<f32>(wide_cases(), 48);
}

#[test]
fn reference_sse_gradient_uses_delta_2r_and_matches_the_batched_sse() {
    let case = crate::support::Case {
        widths: vec![2, 4, 3, 2],
        activations: vec![
            mlp::Activation::Identity,
            mlp::Activation::Tanh,
            mlp::Activation::Sigmoid,
        ],
        batch: 3,
        loss: Loss::SumOfSquares,
        seed: 11,
    };
    let p = Problem::<f64>::new(&case);
    let mut ws = Workspace::new(&p.net, 3);
    let (value, grad) = p.gradient(&mut ws);
    let mut s_total = 0.0;
    let mut g_total = vec![0.0; grad.len()];
    for s in 0..3 {
        let (s_value, g) = reference::sse_gradient(
            &p.net,
            &p.params,
            &p.input[2 * s..2 * s + 2],
            &p.values[2 * s..2 * s + 2],
        );
        s_total += s_value;
        g_total.iter_mut().zip(&g.params).for_each(|(a, b)| *a += b);
    }
    assert!(max_rel_error(&[value], &[s_total]) < 1e-14);
    assert!(max_rel_error(&grad, &g_total) < tolerances::<f64>().reference);
}
