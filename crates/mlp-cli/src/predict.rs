//! `mlp predict` and `mlp eval`: a saved model on the rows of a CSV file.

use std::fmt::Write as _;

use anyhow::Result;
use mlp::model_file::{AnyModel, Model};
use mlp::prediction::Prediction;
use mlp::{Dataset, Float};

use crate::cli::{EvalArgs, PredictArgs};
use crate::common::{
    csv_field, encoded_inputs, model_inputs, model_targets, read_table, write_output,
};

pub fn predict(args: &PredictArgs) -> Result<()> {
    crate::common::distinct_outputs(args.out.as_deref(), &args.model, &args.input)?;
    let model = crate::common::load_model(&args.model, &args.activations)?;
    let table = read_table(&args.input)?;
    let x = encoded_inputs(model.meta(), &table)?;
    let text = match &model {
        AnyModel::F32(m) => predictions(m, &x),
        AnyModel::F64(m) => predictions(m, &x),
    };
    write_output(args.out.as_deref(), &text)
}

/// CSV of predictions: regression targets in original units, or the label
/// and one probability per class.
fn predictions<F: Float>(model: &Model<F>, x: &[f64]) -> String {
    let meta = &model.meta;
    let mut s = String::new();
    match mlp::prediction::predict(model, x) {
        Prediction::Classes { probabilities, width, best } => {
            let header: Vec<String> = std::iter::once("label".to_string())
                .chain((0..width).map(|k| format!("p_{}", mlp::prediction::label(meta, k))))
                .collect();
            s.push_str(&header.iter().map(|h| csv_field(h)).collect::<Vec<_>>().join(","));
            s.push('\n');
            for (p, k) in probabilities.chunks_exact(width).zip(best) {
                let _ = write!(s, "{}", csv_field(&mlp::prediction::label(meta, k)));
                for v in p {
                    let _ = write!(s, ",{v:?}");
                }
                s.push('\n');
            }
        }
        Prediction::Values(y) => {
            let width = model.network.outputs();
            s.push_str(&meta.targets.iter().map(|t| csv_field(t)).collect::<Vec<_>>().join(","));
            s.push('\n');
            for row in y.chunks_exact(width) {
                s.push_str(&row.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(","));
                s.push('\n');
            }
        }
    }
    s
}

pub fn eval(args: &EvalArgs) -> Result<()> {
    let model = crate::common::load_model(&args.model, &args.activations)?;
    let table = read_table(&args.input)?;
    let meta = model.meta();
    let data =
        Dataset::new(model_inputs(meta, &table)?, meta.widths[0], model_targets(meta, &table)?)?;
    let (loss, metrics) = match &model {
        AnyModel::F32(m) => crate::train::metrics(m, &data)?,
        AnyModel::F64(m) => crate::train::metrics(m, &data)?,
    };
    let text = if args.json {
        // What the numbers are of: the loss in the units the network was
        // trained in (scaled targets), the metrics in the data's own; the
        // confusion matrix's rows are the true classes, its columns the
        // predicted ones, both in the order of `class_labels`.
        let mut value = serde_json::json!({
            "rows": data.rows(),
            "loss": loss,
            "loss_units": if meta.target_scaler.is_some() { "scaled targets" } else { "targets" },
            "targets": meta.targets,
            "metrics": metrics,
        });
        if !meta.class_labels.is_empty() {
            value["class_labels"] = serde_json::json!(meta.class_labels);
            value["confusion_layout"] = "counts[true * classes + predicted]".into();
        }
        format!("{}\n", serde_json::to_string_pretty(&value)?)
    } else {
        table_text(data.rows(), loss, &metrics, &meta.class_labels)
    };
    write_output(None, &text)
}

fn table_text(
    rows: usize,
    loss: f64,
    metrics: &mlp::metrics::Metrics,
    labels: &[String],
) -> String {
    use mlp::metrics::Metrics;
    let mut s = format!("{:<12}{rows}\n{:<12}{}\n", "rows", "loss", crate::common::Num(loss));
    match metrics {
        Metrics::Regression(m) => {
            for (name, v) in [("mse", m.mse), ("rmse", m.rmse), ("mae", m.mae), ("r2", m.r2)] {
                let _ = writeln!(s, "{name:<12}{}", crate::common::Num(v));
            }
        }
        Metrics::Classification(m) => {
            for (name, v) in
                [("accuracy", m.accuracy), ("log_loss", m.log_loss), ("macro_f1", m.macro_f1)]
            {
                let _ = writeln!(s, "{name:<12}{v:.6}");
            }
            let k = m.confusion.classes;
            let name = |c: usize| labels.get(c).cloned().unwrap_or_else(|| c.to_string());
            let cell = (0..k).map(|c| name(c).len()).max().unwrap_or(1).max(5);
            let _ = writeln!(s, "confusion (rows: true, columns: predicted)");
            let _ = write!(s, "{:>cell$}", "");
            for c in 0..k {
                let _ = write!(s, " {:>cell$}", name(c));
            }
            s.push('\n');
            for t in 0..k {
                let _ = write!(s, "{:>cell$}", name(t));
                for p in 0..k {
                    let _ = write!(s, " {:>cell$}", m.confusion.get(t, p));
                }
                s.push('\n');
            }
        }
        Metrics::MultiLabel { label_accuracy } => {
            let _ = writeln!(s, "{:<12}{label_accuracy:.6}", "label_acc");
        }
    }
    s
}
