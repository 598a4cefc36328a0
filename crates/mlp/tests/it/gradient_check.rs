//! Back-propagation against finite differences, over random networks: depth
//! 1-5, widths 1-16, batch 1-8, every activation on every layer, every loss.

use std::cell::Cell;

use mlp::{Float, Workspace};
use proptest::test_runner::{TestCaseError, TestRunner};

use crate::support::{Problem, cases, config, max_rel_error, tolerances};

/// Runs `cases` random problems; returns the largest error seen and the
/// fraction of components skipped because their stencil crossed a kink.
fn check_against_finite_differences<F: Float>(cases_count: u32) -> (f64, f64) {
    let tol = tolerances::<F>().fd;
    let worst = Cell::new(0.0f64);
    let (skipped, total) = (Cell::new(0usize), Cell::new(0usize));
    let mut runner = TestRunner::new(config(cases_count));
    let result = runner.run(&cases(), |case| {
        let problem = Problem::<F>::new(&case);
        let mut ws = Workspace::new(&problem.net, case.batch);
        let (_, grad) = problem.gradient(&mut ws);
        let exact = problem.cast::<f64>();
        let numeric = exact.finite_differences(&mut Workspace::new(&exact.net, case.batch));
        let (bp, fd): (Vec<f64>, Vec<f64>) = grad
            .iter()
            .zip(&numeric)
            .filter_map(|(&g, n)| n.map(|n| (g.as_f64(), n)))
            .unzip();
        skipped.set(skipped.get() + grad.len() - bp.len());
        total.set(total.get() + grad.len());
        let err = max_rel_error(&bp, &fd);
        worst.set(worst.get().max(err));
        if err > tol {
            return Err(TestCaseError::fail(format!(
                "{}: max relative error {err:.3e} > {tol:.0e}\n  backprop {bp:?}\n  numeric  {fd:?}",
                problem.net.describe()
            )));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let skipped_fraction = skipped.get() as f64 / total.get() as f64;
    eprintln!(
        "{}: {cases_count} cases, max relative error {:.3e}, {:.2}% of components skipped at kinks",
        F::NAME,
        worst.get(),
        100.0 * skipped_fraction
    );
    (worst.get(), skipped_fraction)
}

#[test]
fn backprop_equals_finite_differences_in_f64() {
    let (_, skipped) = check_against_finite_differences::<f64>(256);
    assert!(skipped < 0.05, "too many components skipped at kinks: {skipped}");
}

#[test]
fn backprop_equals_finite_differences_in_f32() {
    let (_, skipped) = check_against_finite_differences::<f32>(256);
    assert!(skipped < 0.10, "too many components skipped at kinks: {skipped}");
}

#[test]
fn a_wrong_derivative_would_be_caught() {
    // The check must be able to fail: perturb one gradient component by a
    // relative 1e-5 and the f64 comparison must reject it.
    let case = crate::support::Case {
        widths: vec![3, 5, 2],
        activations: vec![mlp::Activation::Identity, mlp::Activation::Tanh],
        batch: 4,
        loss: mlp::Loss::MeanSquared,
        seed: 3,
    };
    let problem = Problem::<f64>::new(&case);
    let mut ws = Workspace::new(&problem.net, 4);
    let (_, mut grad) = problem.gradient(&mut ws);
    let fd: Vec<f64> =
        problem.finite_differences(&mut ws).into_iter().map(Option::unwrap).collect();
    assert!(max_rel_error(&grad, &fd) <= tolerances::<f64>().fd);
    let k = grad.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap().0;
    grad[k] *= 1.0 + 1e-5;
    assert!(max_rel_error(&grad, &fd) > tolerances::<f64>().fd);
}
