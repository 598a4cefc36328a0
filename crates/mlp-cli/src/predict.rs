//! `mlp predict` and `mlp eval`: a saved model on the rows of a CSV file.

use std::fmt::Write as _;

use anyhow::Result;
use mlp::model_file::{AnyModel, Model};
use mlp::{Dataset, Float};

use crate::cli::{EvalArgs, PredictArgs};
use crate::common::{
    csv_field, is_classify, model_inputs, model_targets, probabilities, read_table, write_output,
};

pub fn predict(args: &PredictArgs) -> Result<()> {
    let model = crate::common::load_model(&args.model, &args.activations)?;
    let table = read_table(&args.input)?;
    let x = model_inputs(model.meta(), &table)?;
    let text = match &model {
        AnyModel::F32(m) => predictions(m, &x),
        AnyModel::F64(m) => predictions(m, &x),
    };
    write_output(args.out.as_deref(), &text)
}

/// The model's outputs as f64, in network units.
pub fn outputs<F: Float>(model: &Model<F>, x: &[f64]) -> Vec<f64> {
    let x: Vec<F> = x.iter().map(|&v| F::cast(v)).collect();
    model.network.predict(&model.params, &x).iter().map(|v| v.as_f64()).collect()
}

/// CSV of predictions: regression targets in original units, or the label
/// and one probability per class.
fn predictions<F: Float>(model: &Model<F>, x: &[f64]) -> String {
    let meta = &model.meta;
    let width = model.network.outputs();
    let mut y = outputs(model, x);
    let mut s = String::new();
    if is_classify(meta) {
        let header: Vec<String> = std::iter::once("label".to_string())
            .chain(meta.class_labels.iter().map(|c| format!("p_{c}")))
            .collect();
        s.push_str(&header.iter().map(|h| csv_field(h)).collect::<Vec<_>>().join(","));
        s.push('\n');
        for p in probabilities(&y, width) {
            let best = p.iter().enumerate().fold(0, |b, (k, v)| if *v > p[b] { k } else { b });
            let label = meta.class_labels.get(best).map_or("?", String::as_str);
            let _ = write!(s, "{}", csv_field(label));
            for v in p {
                let _ = write!(s, ",{v:?}");
            }
            s.push('\n');
        }
    } else {
        if let Some(scaler) = &meta.target_scaler {
            scaler.inverse(&mut y);
        }
        s.push_str(&meta.targets.iter().map(|t| csv_field(t)).collect::<Vec<_>>().join(","));
        s.push('\n');
        for row in y.chunks_exact(width) {
            s.push_str(&row.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(","));
            s.push('\n');
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
        let value = serde_json::json!({ "rows": data.rows(), "loss": loss, "metrics": metrics });
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
    let mut s = format!("{:<12}{rows}\n{:<12}{loss:.6}\n", "rows", "loss");
    match metrics {
        Metrics::Regression(m) => {
            for (name, v) in [("mse", m.mse), ("rmse", m.rmse), ("mae", m.mae), ("r2", m.r2)] {
                let _ = writeln!(s, "{name:<12}{v:.6}");
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
