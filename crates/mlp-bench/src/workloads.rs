//! The workloads of `bench/workloads.json`, on the `mlp` side: each returns
//! its repeated measurements as JSON.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use mlp::model_file::{self, AnyModel, Model, ModelMeta};
use mlp::optim::{Momentum, NetworkObjective, Sgd, SgdConfig};
use mlp::{
    Activation, Dataset, Float, Init, Loss, Network, Optimizer, OptimizerConfig, Params, Predictor,
    Rng, TargetData, Targets, TrainConfig, Validation, Workspace,
};
use serde_json::{Value, json};

fn number(spec: &Value, key: &str) -> Result<f64> {
    spec[key].as_f64().with_context(|| format!("workload field {key}"))
}

fn count(spec: &Value, key: &str) -> Result<usize> {
    Ok(number(spec, key)? as usize)
}

fn network(spec: &Value) -> Result<Network> {
    let widths: Vec<usize> = serde_json::from_value(spec["widths"].clone())?;
    let hidden: Activation = spec["activation"].as_str().context("activation")?.parse()?;
    Ok(Network::with_hidden_activation(&widths, hidden)?)
}

/// `rows` inputs uniform in [0, 1), `f32`, from a seeded stream.
fn uniform_inputs(rows: usize, width: usize, rng: &mut Rng) -> Vec<f32> {
    (0..rows * width).map(|_| rng.uniform() as f32).collect()
}

/// Workload T: full-batch gradient descent with a fixed step on the sum of
/// squares. Writes the initial parameters to `init_out` for the other sides.
pub fn t<F: Float>(
    spec: &Value,
    init_out: &Path,
    repeats: usize,
    wrap: fn(Model<F>) -> AnyModel,
) -> Result<Value> {
    let net = network(spec)?;
    let n = count(spec, "points")?;
    let (low, high) = (number(spec, "low")?, number(spec, "high")?);
    let x: Vec<F> =
        (0..n).map(|k| F::cast(low + (high - low) * k as f64 / (n - 1) as f64)).collect();
    let y: Vec<F> = x.iter().map(|v| F::cast(v.as_f64().sin())).collect();
    let (lr, steps) = (F::cast(number(spec, "learning_rate")?), count(spec, "steps")?);
    let start = Params::<F>::init(&net, Init::XavierUniform, number(spec, "seed")? as u64)?;
    let meta = ModelMeta::bare::<F>(&net, Loss::SumOfSquares);
    model_file::save(init_out, &wrap(Model { network: net.clone(), params: start.clone(), meta }))?;

    let mut ws = Workspace::new(&net, n);
    let mut grad = vec![F::zero(); net.num_params()];
    let (mut rates, mut losses) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        let mut params = start.clone();
        losses.clear();
        let t = Instant::now();
        for _ in 0..steps {
            let targets = Targets::Values(&y);
            let s = net.loss_and_gradient(
                &params,
                &x,
                targets,
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

/// The data of workload M: uniform inputs, uniformly random labels.
fn m_data(spec: &Value, net: &Network) -> Result<Dataset<f32>> {
    let rows = count(spec, "samples")?;
    let mut rng = Rng::new(number(spec, "seed")? as u64);
    let x = uniform_inputs(rows, net.inputs(), &mut rng);
    let classes = (0..rows).map(|_| rng.below(net.outputs() as u64) as usize).collect();
    Ok(Dataset::new(x, net.inputs(), TargetData::Classes(classes))?)
}

fn m_sgd(spec: &Value) -> Result<SgdConfig> {
    let momentum = Momentum::Classic(number(spec, "momentum")?);
    Ok(SgdConfig { learning_rate: number(spec, "learning_rate")?, momentum })
}

/// Workload M: one epoch of mini-batch SGD with momentum, batches drawn from
/// a shuffled order (gathered into a reused buffer), as `mlp::train` runs it.
pub fn m(spec: &Value, threads: usize, repeats: usize) -> Result<Value> {
    let net = network(spec)?;
    let data = m_data(spec, &net)?;
    let loss: Loss = spec["loss"].as_str().context("loss")?.parse()?;
    let start = Params::<f32>::init(&net, Init::HeUniform, 1)?;
    let batch = count(spec, "batch")?;
    let (mut rates, mut first_loss) = (Vec::new(), 0.0);
    for _ in 0..repeats {
        let mut params = start.clone();
        let mut objective = NetworkObjective::new(&net, &data, loss)?.with_threads(threads);
        let mut sgd = Sgd::new(m_sgd(spec)?, net.num_params())?;
        let mut order: Vec<usize> = (0..data.rows()).collect();
        Rng::new(2).shuffle(&mut order);
        let t = Instant::now();
        for (k, rows) in order.chunks(batch).enumerate() {
            objective.select(Some(rows));
            let outcome = sgd.step(&mut objective, &mut params)?;
            if k == 0 {
                first_loss = outcome.loss.as_f64();
            }
        }
        rates.push(data.rows() as f64 / t.elapsed().as_secs_f64());
    }
    Ok(json!({ "samples_per_second": rates, "first_loss": first_loss }))
}

/// Workload M through `mlp::train` (one epoch, training metrics included),
/// reporting the process's peak resident set against the data's size.
pub fn m_memory(spec: &Value, threads: usize) -> Result<Value> {
    let net = network(spec)?;
    let data = m_data(spec, &net)?;
    let data_bytes = data.rows() * (net.inputs() * 4 + 8);
    let mut params = Params::<f32>::init(&net, Init::HeUniform, 1)?;
    let config = TrainConfig {
        loss: spec["loss"].as_str().context("loss")?.parse()?,
        optimizer: OptimizerConfig::Sgd(m_sgd(spec)?),
        max_epochs: 1,
        batch_size: count(spec, "batch")?,
        validation: Validation::None,
        threads,
        ..TrainConfig::default()
    };
    let t = Instant::now();
    let report = mlp::train(&net, &mut params, &data, None, &config, |_| {
        std::ops::ControlFlow::Continue(())
    })?;
    let seconds = t.elapsed().as_secs_f64();
    let peak = peak_resident_bytes()?;
    Ok(json!({
        "data_bytes": data_bytes,
        "peak_rss_bytes": peak,
        "budget_bytes": data_bytes + (64 << 20),
        "epoch_seconds": seconds,
        "final_loss": report.history.last().map(|r| r.train_loss),
    }))
}

/// `VmHWM` of /proc/self/status: the peak resident set size.
fn peak_resident_bytes() -> Result<usize> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).context("no VmHWM")?;
    let kib: usize = line.split_whitespace().nth(1).context("VmHWM value")?.parse()?;
    Ok(kib * 1024)
}

/// Workload W: SGD steps on one batch of a wide network; GFLOP/s counted as
/// 6 x weights x batch x steps (forward 2, backward 4 per weight and sample).
pub fn w(spec: &Value, threads: usize, repeats: usize) -> Result<Value> {
    let net = network(spec)?;
    let batch = count(spec, "batch")?;
    let mut rng = Rng::new(number(spec, "seed")? as u64);
    let x = uniform_inputs(batch, net.inputs(), &mut rng);
    let y = uniform_inputs(batch, net.outputs(), &mut rng);
    let width = net.outputs();
    let data = Dataset::new(x, net.inputs(), TargetData::Values { values: y, width })?;
    let loss: Loss = spec["loss"].as_str().context("loss")?.parse()?;
    let steps = count(spec, "steps")?;
    let config =
        SgdConfig { learning_rate: number(spec, "learning_rate")?, ..SgdConfig::default() };
    let start = Params::<f32>::init(&net, Init::HeUniform, 1)?;
    let weights: usize = (0..net.depth()).map(|i| net.layer_ranges(i).0.len()).sum();
    let flops = 6.0 * (weights * batch * steps) as f64;
    let mut rates = Vec::new();
    for _ in 0..repeats {
        let mut params = start.clone();
        let mut objective = NetworkObjective::new(&net, &data, loss)?.with_threads(threads);
        let mut sgd = Sgd::new(config, net.num_params())?;
        let t = Instant::now();
        for _ in 0..steps {
            sgd.step(&mut objective, &mut params)?;
        }
        rates.push(flops / t.elapsed().as_secs_f64() / 1e9);
    }
    Ok(json!({ "gflops": rates }))
}

/// Workload I(a): one sample at a time through [`Predictor`]; ns per call.
pub fn ia(spec: &Value, repeats: usize) -> Result<Value> {
    let net = network(spec)?;
    let params = Params::<f32>::init(&net, Init::XavierUniform, number(spec, "seed")? as u64)?;
    let mut rng = Rng::new(3);
    let samples = uniform_inputs(64, net.inputs(), &mut rng);
    let calls = count(spec, "calls")?;
    let mut predictor = Predictor::new(&net, &params);
    let mut times = Vec::new();
    for _ in 0..repeats {
        let mut sink = 0.0f32;
        let t = Instant::now();
        for (_, sample) in (0..calls).zip(samples.chunks_exact(net.inputs()).cycle()) {
            sink += predictor.predict(std::hint::black_box(sample))[0];
        }
        times.push(t.elapsed().as_secs_f64() / calls as f64 * 1e9);
        std::hint::black_box(sink);
    }
    Ok(json!({ "ns_per_call": times }))
}

/// Workload I(b): batched forward passes of the M network; samples/s.
pub fn ib(spec: &Value, threads: usize, repeats: usize) -> Result<Value> {
    let net = network(spec)?;
    let params = Params::<f32>::init(&net, Init::HeUniform, number(spec, "seed")? as u64)?;
    let (batch, batches) = (count(spec, "batch")?, count(spec, "batches")?);
    let x = uniform_inputs(batch, net.inputs(), &mut Rng::new(4));
    let mut ws = Workspace::new(&net, batch).with_threads(threads);
    let mut rates = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        for _ in 0..batches {
            std::hint::black_box(net.infer(&params, &x, &mut ws)[0]);
        }
        rates.push((batch * batches) as f64 / t.elapsed().as_secs_f64());
    }
    Ok(json!({ "samples_per_second": rates }))
}
