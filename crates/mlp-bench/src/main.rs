//! The `mlp` side of `bench/compare.py`: runs one workload of
//! `bench/workloads.json` and prints its timings as JSON on stdout.
//!
//! `mlp-bench WORKLOAD DTYPE INIT_OUT REPEATS`: writes the initial
//! parameters to `INIT_OUT` (a model file PyTorch and JAX load, so every side
//! starts from the same point), then runs the workload `REPEATS` times.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mlp::model_file::{self, AnyModel, Model, ModelMeta};
use mlp::{Activation, Float, Init, Loss, Network, Params, Targets, Workspace};
use serde_json::{Value, json};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, workload, dtype, init_out, repeats] = &args[..] else {
        bail!("usage: mlp-bench WORKLOAD f32|f64 INIT_OUT REPEATS");
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/workloads.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(&root)?)?;
    let spec = all
        .get(workload)
        .with_context(|| format!("no workload {workload} in {}", root.display()))?;
    let repeats: usize = repeats.parse()?;
    let result = match (workload.as_str(), dtype.as_str()) {
        ("T", "f64") => full_batch_gd::<f64>(spec, Path::new(init_out), repeats, AnyModel::F64)?,
        ("T", "f32") => full_batch_gd::<f32>(spec, Path::new(init_out), repeats, AnyModel::F32)?,
        _ => bail!("unknown workload or dtype: {workload} {dtype}"),
    };
    println!("{result}");
    Ok(())
}

fn number(spec: &Value, key: &str) -> Result<f64> {
    spec[key].as_f64().with_context(|| format!("workload field {key}"))
}

/// Workload T: full-batch gradient descent with a fixed step on the sum of squares.
fn full_batch_gd<F: Float>(
    spec: &Value,
    init_out: &Path,
    repeats: usize,
    wrap: fn(Model<F>) -> AnyModel,
) -> Result<Value> {
    let widths: Vec<usize> = serde_json::from_value(spec["widths"].clone())?;
    let hidden: Activation = spec["activation"].as_str().context("activation")?.parse()?;
    let net = Network::with_hidden_activation(&widths, hidden)?;
    let n = number(spec, "points")? as usize;
    let (low, high) = (number(spec, "low")?, number(spec, "high")?);
    let x: Vec<F> =
        (0..n).map(|k| F::cast(low + (high - low) * k as f64 / (n - 1) as f64)).collect();
    let y: Vec<F> = x.iter().map(|v| F::cast(v.as_f64().sin())).collect();
    let (lr, steps) = (F::cast(number(spec, "learning_rate")?), number(spec, "steps")? as usize);
    let start = Params::<F>::init(&net, Init::XavierUniform, number(spec, "seed")? as u64)?;
    let meta = ModelMeta::bare::<F>(&net, Loss::SumOfSquares);
    model_file::save(init_out, &wrap(Model { network: net.clone(), params: start.clone(), meta }))?;

    let mut ws = Workspace::new(&net, n);
    let mut grad = vec![F::zero(); net.num_params()];
    let mut rates = Vec::new();
    let mut losses = Vec::new();
    for _ in 0..repeats {
        let mut params = start.clone();
        losses.clear();
        let t = Instant::now();
        for _ in 0..steps {
            let s = net.loss_and_gradient(
                &params,
                &x,
                Targets::Values(&y),
                Loss::SumOfSquares,
                &mut ws,
                &mut grad,
            )?;
            if losses.len() < 5 {
                losses.push(s.as_f64());
            }
            for (v, &g) in params.iter_mut().zip(&grad) {
                *v = *v - lr * g;
            }
        }
        rates.push(steps as f64 / t.elapsed().as_secs_f64());
    }
    Ok(json!({ "steps_per_second": rates, "first_losses": losses }))
}
