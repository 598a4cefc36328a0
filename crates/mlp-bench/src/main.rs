//! The `mlp` side of `bench/compare.py`: runs one workload of
//! `bench/workloads.json` and prints its timings as JSON on stdout.
//!
//! ```text
//! mlp-bench T f32|f64 INIT_OUT REPEATS   full-batch GD; writes the shared initial parameters
//! mlp-bench M THREADS REPEATS            one SGD epoch, samples/s
//! mlp-bench M-memory THREADS             one epoch through `mlp::train`, peak resident set
//! mlp-bench W THREADS REPEATS            wide network, GFLOP/s
//! mlp-bench Ia REPEATS                   single-sample latency, ns per call
//! mlp-bench Ib THREADS REPEATS           batch inference, samples/s
//! mlp-bench peak THREADS REPEATS         the FMA peak, GFLOP/s
//! mlp-bench products THREADS REPEATS     each workload's matrix products alone, GFLOP/s
//! ```

mod peak;
mod products;
mod workloads;

use std::path::Path;

use anyhow::{Context, Result, bail};
use mlp::model_file::AnyModel;
use serde_json::Value;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/workloads.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(&root)?)?;
    let spec = |name: &str| {
        all.get(name).with_context(|| format!("no workload {name} in {}", root.display()))
    };
    let num = |k: usize| -> Result<usize> {
        args.get(k)
            .with_context(|| "missing argument: see the usage in main.rs")?
            .parse()
            .context("a count")
    };
    let result = match args.first().map(String::as_str) {
        Some("T") => {
            let init = Path::new(args.get(2).context("INIT_OUT")?);
            match args.get(1).map(String::as_str) {
                Some("f64") => workloads::t(spec("T")?, init, num(3)?, AnyModel::F64)?,
                Some("f32") => workloads::t(spec("T")?, init, num(3)?, AnyModel::F32)?,
                other => bail!("T takes f32 or f64, not {other:?}"),
            }
        }
        Some("M") => workloads::m(spec("M")?, num(1)?, num(2)?)?,
        Some("M-memory") => workloads::m_memory(spec("M")?, num(1)?)?,
        Some("W") => workloads::w(spec("W")?, num(1)?, num(2)?)?,
        Some("Ia") => workloads::ia(spec("Ia")?, num(1)?)?,
        Some("Ib") => workloads::ib(spec("Ib")?, num(1)?, num(2)?)?,
        Some("peak") => peak::measure(num(1)?, num(2)?),
        Some("products") => products::measure(&all, num(1)?, num(2)?)?,
        other => bail!("unknown workload {other:?}: see the usage in main.rs"),
    };
    println!("{result}");
    Ok(())
}
