//! `mlp inspect`, `mlp init` and `mlp datasets`.

use std::fmt::Write as _;

use anyhow::Result;
use mlp::model_file::{self, AnyModel, InputColumn, Model, ModelMeta};
use mlp::{Init, Loss, Network, Params};

use crate::cli::{Dtype, ExportArgs, ExportFormat, InitArg, InitArgs, InspectArgs};
use crate::common::{Num, duration, parse_activation, write_output};

pub fn inspect(args: &InspectArgs) -> Result<()> {
    let model = crate::common::load_model(&args.model, &args.activations)?;
    let meta = model.meta();
    let net = model.network();
    let mut s = String::new();
    let _ = writeln!(s, "model      {}", args.model.display());
    let _ = writeln!(
        s,
        "format     version {}, {} parameters, dtype {}",
        meta.format_version,
        net.num_params(),
        meta.dtype
    );
    let _ = writeln!(s, "network    {}", net.describe());
    let task = match meta.task {
        model_file::Task::Regress => "regression",
        model_file::Task::Classify => "classification",
    };
    let _ = writeln!(s, "task       {task}, loss {}", meta.loss);
    for (i, linear) in model_file::linear_indices(net.activations()).into_iter().enumerate() {
        let (w, b) = net.layer_ranges(i);
        let _ = writeln!(
            s,
            "layer {i}    {} -> {}: {} then Linear ({} weights, {} biases; tensors {linear}.weight, {linear}.bias)",
            net.widths()[i],
            net.widths()[i + 1],
            net.activations()[i],
            w.len(),
            b.len()
        );
    }
    let inputs: Vec<String> = meta
        .inputs
        .iter()
        .map(|c| match c {
            InputColumn::Numeric { name } => name.clone(),
            InputColumn::Categorical { name, categories } => {
                format!("{name} (one-hot: {})", categories.join("|"))
            }
        })
        .collect();
    let _ = writeln!(s, "inputs     {}", inputs.join(", "));
    let _ = writeln!(s, "targets    {}", meta.targets.join(", "));
    if !meta.class_labels.is_empty() {
        let _ = writeln!(s, "classes    {}", meta.class_labels.join(", "));
    }
    let scaler = |x: &Option<mlp::data::scaling::Scaler>| {
        x.as_ref().map_or("none".to_string(), |x| format!("{:?}", x.kind).to_lowercase())
    };
    let _ = writeln!(
        s,
        "scaling    inputs {}, targets {}",
        scaler(&meta.input_scaler),
        scaler(&meta.target_scaler)
    );
    match &meta.training {
        Some(t) => {
            let _ = writeln!(
                s,
                "training   {} for {} epochs on {} rows, seed {}, stopped: {}, train loss {}{}{}",
                t.solver,
                t.epochs,
                t.rows,
                t.seed,
                t.stop_reason,
                Num(t.train_loss),
                t.validation_loss
                    .map(|v| format!(", validation loss {}", Num(v)))
                    .unwrap_or_default(),
                t.seconds.map(|t| format!(", {}", duration(t))).unwrap_or_default()
            );
        }
        None => s.push_str("training   none (fresh or imported parameters)\n"),
    }
    write_output(None, &s)
}

pub fn init(args: &InitArgs) -> Result<()> {
    let acts = args.activations.iter().map(|a| parse_activation(a)).collect::<Result<Vec<_>>>()?;
    let network = Network::new(&args.widths, &acts)?;
    let init = match args.init {
        InitArg::XavierUniform => Init::XavierUniform,
        InitArg::XavierNormal => Init::XavierNormal,
        InitArg::HeUniform => Init::HeUniform,
        InitArg::HeNormal => Init::HeNormal,
        InitArg::LecunNormal => Init::LecunNormal,
    };
    let model = match args.dtype {
        Dtype::F32 => AnyModel::F32(fresh::<f32>(network, init, args.seed)?),
        Dtype::F64 => AnyModel::F64(fresh::<f64>(network, init, args.seed)?),
    };
    model_file::save(&args.out, &model)?;
    eprintln!("wrote {} ({})", args.out.display(), model.network().describe());
    Ok(())
}

fn fresh<F: mlp::Float>(network: Network, init: Init, seed: u64) -> Result<Model<F>> {
    let params = Params::<F>::init(&network, init, seed)?;
    let meta = ModelMeta::bare::<F>(&network, Loss::MeanSquared);
    Ok(Model { network, params, meta })
}

pub fn datasets() -> Result<()> {
    let mut s = String::new();
    for b in mlp::data::bundled::BUNDLED {
        let _ = writeln!(
            s,
            "{:<10} target {:<12} {}\n{:<10} source: {}",
            b.name, b.target, b.description, "", b.source
        );
    }
    write_output(None, &s)
}

/// `mlp export`: the model as ONNX, C or Rust, written atomically.
pub fn export(args: &ExportArgs) -> Result<()> {
    crate::common::distinct_files(&[("--out", &args.out)], &[("the model", &args.model)])?;
    let model = crate::common::load_model(&args.model, &args.activations)?;
    let bytes = match args.format {
        ExportFormat::Onnx => mlp::export::onnx(&model)?,
        ExportFormat::C => mlp::export::c_source(&model).into_bytes(),
        ExportFormat::Rust => mlp::export::rust_source(&model).into_bytes(),
    };
    mlp::model_file::write_atomic(&args.out, &bytes)?;
    Ok(())
}
