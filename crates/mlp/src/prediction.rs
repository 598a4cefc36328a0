//! A saved model's whole prediction path, as `mlp predict` runs it: encoded
//! inputs in original units → input scaling → the network → regression
//! outputs in original units, or class probabilities and labels. The
//! exports (`mlp::export`) reproduce exactly this.

use crate::float::Float;
use crate::model_file::{Model, ModelMeta, Task};

/// What a model predicts for a batch of rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Prediction {
    /// Regression (and multi-label logits): `[N, n_L]`, in original units.
    Values(Vec<f64>),
    /// Classification: `[N, K]` probabilities (K = 2 for one sigmoid output)
    /// and the index of the most probable class of each row (the first on a tie).
    Classes {
        /// Row-major probabilities.
        probabilities: Vec<f64>,
        /// Classes per row.
        width: usize,
        /// The chosen class of each row.
        best: Vec<usize>,
    },
}

/// The prediction of `model` for `inputs` (`[N, n_0]`, encoded but not
/// scaled, in `f64`): scaled in `f64`, run through the network in `F`, and
/// turned back into original units or probabilities in `f64`.
///
/// # Panics
/// If `inputs.len()` is not a multiple of the model's input width.
pub fn predict<F: Float>(model: &Model<F>, inputs: &[f64]) -> Prediction {
    let meta = &model.meta;
    let mut x = inputs.to_vec();
    if let Some(s) = &meta.input_scaler {
        s.transform(&mut x);
    }
    let x: Vec<F> = x.iter().map(|&v| F::cast(v)).collect();
    let mut y: Vec<f64> =
        model.network.predict(model.params.as_slice(), &x).iter().map(|v| v.as_f64()).collect();
    let width = model.network.outputs();
    if !is_classifier(meta) {
        if let Some(s) = &meta.target_scaler {
            s.inverse(&mut y);
        }
        return Prediction::Values(y);
    }
    let probabilities = probabilities(&y, width);
    let classes = if width == 1 { 2 } else { width };
    let best = probabilities
        .chunks_exact(classes)
        .map(|p| p.iter().enumerate().fold(0, |b, (k, v)| if *v > p[b] { k } else { b }))
        .collect();
    Prediction::Classes { probabilities, width: classes, best }
}

/// Whether the model's outputs are class scores.
pub fn is_classifier(meta: &ModelMeta) -> bool {
    meta.task == Task::Classify
}

/// Softmax of each row of logits, or `[1 − p, p]` for a single sigmoid output.
pub fn probabilities(logits: &[f64], width: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(logits.len() * if width == 1 { 2 } else { 1 });
    for row in logits.chunks_exact(width) {
        if let [z] = row {
            let p = 1.0 / (1.0 + (-z).exp());
            out.extend([1.0 - p, p]);
            continue;
        }
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let start = out.len();
        out.extend(row.iter().map(|v| (v - max).exp()));
        let sum: f64 = out[start..].iter().sum();
        out[start..].iter_mut().for_each(|v| *v /= sum);
    }
    out
}

/// The label of class `k`: the model's own, or the index.
pub fn label(meta: &ModelMeta, k: usize) -> String {
    meta.class_labels.get(k).cloned().unwrap_or_else(|| k.to_string())
}
