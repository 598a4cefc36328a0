//! Jacobians (MATH §4): `2 (grad_V F)ᵀ r = ∇S` (10); the input Jacobian and
//! every `J^l = D F^{L,l}(x^l)` against finite differences, so (18) holds
//! layer by layer; the parameter Jacobian against (20) and finite differences.

use mlp::network::reference;
use mlp::{Activation, Float, Loss, Network, Targets, Workspace};
use proptest::test_runner::{TestCaseError, TestRunner};

use crate::support::{Case, Problem, cases, config, max_rel_error, tolerances};

fn run(count: u32, body: impl FnMut(Case) -> Result<(), String>) {
    let body = std::cell::RefCell::new(body);
    let mut runner = TestRunner::new(config(count));
    if let Err(e) =
        runner.run(&cases(), |case| (body.borrow_mut())(case).map_err(TestCaseError::fail))
    {
        panic!("{e}");
    }
}

/// Fourth-order central differences of `g: R^n -> R^m` at `x`, as an `[m, n]`
/// matrix; `None` if a stencil point changes the kink pattern `g` reports.
fn fd_jacobian(
    x: &[f64],
    m: usize,
    mut g: impl FnMut(&[f64]) -> (Vec<f64>, Vec<bool>),
) -> Option<Vec<f64>> {
    let n = x.len();
    let (_, base) = g(x);
    let mut jac = vec![0.0; m * n];
    let mut v = x.to_vec();
    for j in 0..n {
        let h = 1e-3 * x[j].abs().max(1.0);
        let mut at = |t: f64| {
            v[j] = x[j] + t;
            let (y, pattern) = g(&v);
            v[j] = x[j];
            (pattern == base).then_some(y)
        };
        let (p1, m1, p2, m2) = (at(h)?, at(-h)?, at(2.0 * h)?, at(-2.0 * h)?);
        for i in 0..m {
            jac[i * n + j] = (8.0 * (p1[i] - m1[i]) - (p2[i] - m2[i])) / (12.0 * h);
        }
    }
    Some(jac)
}

/// Signs of the inputs of non-smooth activations in layers `from..` of the last pass.
fn kinks(net: &Network, ws: &Workspace<f64>, from: usize, to: usize) -> Vec<bool> {
    (from..to)
        .filter(|&i| {
            matches!(
                net.activations()[i],
                Activation::Relu
                    | Activation::LeakyRelu { .. }
                    | Activation::Elu { .. }
                    | Activation::Selu
            )
        })
        .flat_map(|i| ws.x(i).iter().map(|&v| v > 0.0).collect::<Vec<_>>())
        .collect()
}

fn two_jt_r_equals_gradient<F: Float>() {
    let tol = tolerances::<F>().identity;
    let mut worst = 0.0f64;
    run(256, |mut case| {
        for loss in [Loss::SumOfSquares, Loss::MeanSquared] {
            case.loss = loss;
            let p = Problem::<F>::new(&case);
            let mut ws = Workspace::new(&p.net, case.batch);
            let (_, grad) = p.gradient(&mut ws);
            let rows = case.batch * p.net.outputs();
            let cols = p.net.num_params();
            let mut jac = vec![F::zero(); rows * cols];
            p.net.residual_jacobian(&p.params, &p.input, loss, &mut ws, &mut jac).unwrap();
            let out = p.net.forward(&p.params, &p.input, &mut ws).to_vec();
            let mut r = vec![F::zero(); rows];
            loss.residuals(&out, p.net.outputs(), Targets::Values(&p.values), &mut r).unwrap();
            let two_jt_r: Vec<F> = (0..cols)
                .map(|k| F::cast(2.0) * (0..rows).map(|q| jac[q * cols + k] * r[q]).sum::<F>())
                .collect();
            let err = max_rel_error(&two_jt_r, &grad);
            worst = worst.max(err);
            if err > tol {
                return Err(format!(
                    "{loss} on {}: 2 J^T r vs gradient, error {err:.3e}",
                    p.net.describe()
                ));
            }
        }
        Ok(())
    });
    eprintln!(
        "{}: 2 J^T r = grad S, 256 cases x 2 losses, max relative error {worst:.3e}",
        F::NAME
    );
}

#[test]
fn twice_jacobian_transpose_residual_is_the_gradient_in_f64() {
    two_jt_r_equals_gradient::<f64>();
}

#[test]
fn twice_jacobian_transpose_residual_is_the_gradient_in_f32() {
    two_jt_r_equals_gradient::<f32>();
}

#[test]
fn every_layer_jacobian_matches_finite_differences_of_the_layer_range() {
    let tol = tolerances::<f64>().fd;
    let (mut worst, mut checked, mut skipped) = (0.0f64, 0, 0);
    run(128, |case| {
        let p = Problem::<f64>::new(&case);
        let (net, depth, nl) = (&p.net, p.net.depth(), p.net.outputs());
        let mut ws = Workspace::new(net, case.batch);
        let mut fd_ws = Workspace::new(net, 1);
        let n0 = net.inputs();
        let mut input_jac = vec![0.0; case.batch * nl * n0];
        net.input_jacobian(&p.params, &p.input, &mut ws, &mut input_jac);
        for s in 0..case.batch {
            let f = &p.input[s * n0..(s + 1) * n0];
            let jac = net.layer_jacobians(&p.params, f, &mut ws);
            let xs: Vec<Vec<f64>> = (0..=depth).map(|i| ws.x(i).to_vec()).collect();
            // J^0 from (18) is the input Jacobian from seeded back-propagation.
            let err = max_rel_error(&jac[0], &input_jac[s * nl * n0..(s + 1) * nl * n0]);
            if err > tolerances::<f64>().identity {
                return Err(format!("{}: J^0 vs input_jacobian, error {err:.3e}", net.describe()));
            }
            // J^l against finite differences of F^{L,l} at x^l, for every l < L.
            for l in 0..depth {
                let fd = fd_jacobian(&xs[l], nl, |x| {
                    let y = net.eval_range(&p.params, l, depth, x, &mut fd_ws).to_vec();
                    (y, kinks(net, &fd_ws, l, depth))
                });
                let Some(fd) = fd else {
                    skipped += 1;
                    continue;
                };
                checked += 1;
                let err = max_rel_error(&jac[l], &fd);
                worst = worst.max(err);
                if err > tol {
                    return Err(format!(
                        "{}: J^{l} vs finite differences, error {err:.3e}",
                        net.describe()
                    ));
                }
            }
        }
        Ok(())
    });
    eprintln!(
        "J^l vs finite differences: {checked} checked, {skipped} skipped at kinks, max error {worst:.3e}"
    );
    assert!(skipped * 10 < checked, "too many layer Jacobians skipped at kinks");
}

#[test]
fn batched_jacobians_equal_the_reference_of_18_and_20() {
    let tol = tolerances::<f64>().reference;
    run(128, |case| {
        let p = Problem::<f64>::new(&case);
        let net = &p.net;
        let (n0, nl, np) = (net.inputs(), net.outputs(), net.num_params());
        let mut ws = Workspace::new(net, case.batch);
        let mut pj = vec![0.0; case.batch * nl * np];
        net.parameter_jacobian(&p.params, &p.input, &mut ws, &mut pj);
        for s in 0..case.batch {
            let f = &p.input[s * n0..(s + 1) * n0];
            let expected = reference::parameter_jacobian(net, &p.params, f);
            let err = max_rel_error(&pj[s * nl * np..(s + 1) * nl * np], &expected);
            if err > tol {
                return Err(format!(
                    "{}: parameter Jacobian vs (20), error {err:.3e}",
                    net.describe()
                ));
            }
            let layers = net.layer_jacobians(&p.params, f, &mut ws);
            for (l, (fast, slow)) in
                layers.iter().zip(reference::layer_jacobians(net, &p.params, f)).enumerate()
            {
                let err = max_rel_error(fast, &slow);
                if err > tol {
                    return Err(format!(
                        "{}: J^{l} vs reference (18), error {err:.3e}",
                        net.describe()
                    ));
                }
            }
        }
        Ok(())
    });
}

#[test]
fn parameter_jacobian_matches_finite_differences() {
    let tol = tolerances::<f64>().fd;
    let mut worst = 0.0f64;
    run(64, |case| {
        let p = Problem::<f64>::new(&case);
        let net = &p.net;
        let rows = case.batch * net.outputs();
        let mut ws = Workspace::new(net, case.batch);
        let mut jac = vec![0.0; rows * net.num_params()];
        net.parameter_jacobian(&p.params, &p.input, &mut ws, &mut jac);
        let fd = fd_jacobian(&p.params, rows, |v| {
            let y = net.forward(v, &p.input, &mut ws).to_vec();
            (y, kinks(net, &ws, 0, net.depth()))
        });
        if let Some(fd) = fd {
            let err = max_rel_error(&jac, &fd);
            worst = worst.max(err);
            if err > tol {
                return Err(format!(
                    "{}: parameter Jacobian vs finite differences, error {err:.3e}",
                    net.describe()
                ));
            }
        }
        Ok(())
    });
    eprintln!("parameter Jacobian vs finite differences: max error {worst:.3e}");
}

#[test]
fn residual_jacobian_refuses_losses_that_are_not_sums_of_squares() {
    let net = Network::with_hidden_activation(&[2, 3, 2], Activation::Tanh).unwrap();
    let params = mlp::Params::<f64>::init(&net, mlp::Init::XavierUniform, 1).unwrap();
    let mut ws = Workspace::new(&net, 1);
    let mut out = vec![0.0; 2 * net.num_params()];
    let err = net
        .residual_jacobian(&params, &[0.1, 0.2], Loss::SoftmaxCrossEntropy, &mut ws, &mut out)
        .unwrap_err();
    assert!(err.to_string().contains("not a sum of squares"), "{err}");
}
