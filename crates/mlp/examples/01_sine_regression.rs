//! Fit y = sin(x) on [-pi, pi] with a 1-16-16-1 tanh network, by full-batch
//! gradient descent on the notes' cost S with a backtracking (Armijo) step
//! (MATH.md §6), written out by hand over the library's gradient.
//!
//! Run: `cargo run --release -p mlp --example 01_sine_regression`

use mlp::{Activation, Init, Loss, Network, Params, Targets, Workspace};

fn main() -> mlp::Result<()> {
    let n = 200;
    let pi = std::f64::consts::PI;
    let x: Vec<f64> = (0..n).map(|k| -pi + 2.0 * pi * k as f64 / (n - 1) as f64).collect();
    let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();

    let net = Network::with_hidden_activation(&[1, 16, 16, 1], Activation::Tanh)?;
    let mut params = Params::<f64>::init(&net, Init::XavierUniform, 42)?;
    let mut ws = Workspace::new(&net, n);
    let mut grad = vec![0.0; net.num_params()];
    let mut trial = params.clone();
    let loss = Loss::SumOfSquares;
    let mut step = 1e-2;

    println!("{} parameters, {n} points", net.num_params());
    for epoch in 0..=2000 {
        let s =
            net.loss_and_gradient(&params, &x, Targets::Values(&y), loss, &mut ws, &mut grad)?;
        let g2: f64 = grad.iter().map(|g| g * g).sum();
        if epoch % 250 == 0 {
            println!("step {epoch:5}  S = {s:.6e}  |grad S| = {:.3e}  eps = {step:.2e}", g2.sqrt());
        }
        // Theorem 1.1: some eps > 0 decreases S; find it by halving (Armijo, c = 1e-4).
        step *= 2.0;
        loop {
            for ((t, p), g) in trial.iter_mut().zip(params.iter()).zip(&grad) {
                *t = p - step * g;
            }
            let out = net.forward(&trial, &x, &mut ws);
            let s_new = loss.value(out, 1, Targets::Values(&y))?;
            if s_new <= s - 1e-4 * step * g2 || step < 1e-12 {
                break;
            }
            step *= 0.5;
        }
        std::mem::swap(&mut params, &mut trial);
    }
    let out = net.predict(&params, &[0.5, 1.5]);
    println!("sin(0.5) = {:.4}, network {:.4}", 0.5f64.sin(), out[0]);
    println!("sin(1.5) = {:.4}, network {:.4}", 1.5f64.sin(), out[1]);
    Ok(())
}
