//! Metrics of predictions against targets: MSE, RMSE, MAE and R² for
//! regression; accuracy, log-loss, macro-F1 and the confusion matrix for
//! classification. All are computed in `f64`, summed in row order.

use crate::error::Result;
use crate::float::Float;
use crate::loss::{Loss, RowTarget, Targets};

/// Regression metrics, averaged uniformly over the outputs (as
/// scikit-learn's defaults do).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegressionMetrics {
    /// Mean squared error.
    #[serde(with = "crate::serde_float")]
    pub mse: f64,
    /// Root mean squared error of each output, averaged over the outputs.
    #[serde(with = "crate::serde_float")]
    pub rmse: f64,
    /// Mean absolute error.
    #[serde(with = "crate::serde_float")]
    pub mae: f64,
    /// Coefficient of determination `1 − SS_res / SS_tot` per output, averaged;
    /// an output with constant targets scores 1 if predicted exactly, else 0.
    #[serde(with = "crate::serde_float")]
    pub r2: f64,
}

/// Counts of (true class, predicted class) pairs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfusionMatrix {
    /// The number of classes `K`.
    pub classes: usize,
    /// `counts[t * K + p]`: samples of true class `t` predicted as `p`.
    pub counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// Samples of true class `truth` predicted as `predicted`.
    pub fn get(&self, truth: usize, predicted: usize) -> usize {
        self.counts[truth * self.classes + predicted]
    }
}

/// Classification metrics.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassificationMetrics {
    /// Fraction of samples whose most probable class is the true one.
    #[serde(with = "crate::serde_float")]
    pub accuracy: f64,
    /// Mean negative log-probability of the true class (natural log).
    #[serde(with = "crate::serde_float")]
    pub log_loss: f64,
    /// Unweighted mean of the per-class F1 scores, over the classes that occur
    /// as truth or prediction (scikit-learn's `f1_score(average="macro")`).
    #[serde(with = "crate::serde_float")]
    pub macro_f1: f64,
    /// The confusion matrix.
    pub confusion: ConfusionMatrix,
}

/// Metrics suited to a loss: regression for sums of squares, classification
/// for the cross-entropies.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metrics {
    /// For `sse` and `mse`.
    Regression(RegressionMetrics),
    /// For `cross_entropy`, and `binary_cross_entropy` with one output.
    Classification(ClassificationMetrics),
    /// For multi-label `binary_cross_entropy`: the fraction of labels right.
    MultiLabel {
        /// Fraction of (sample, label) pairs whose sigmoid is on the right side of 1/2.
        #[serde(with = "crate::serde_float")]
        label_accuracy: f64,
    },
}

impl Metrics {
    /// The metrics of network outputs `[N, width]` (logits for the
    /// cross-entropies) against `targets`, as `loss` reads them.
    ///
    /// # Errors
    /// As [`Loss::check_targets`].
    pub fn compute<F: Float>(
        loss: Loss,
        outputs: &[F],
        width: usize,
        targets: Targets<'_, F>,
    ) -> Result<Self> {
        let rows = outputs.len() / width;
        loss.check_targets(targets, rows, width)?;
        Ok(match (loss, targets) {
            (Loss::SumOfSquares | Loss::MeanSquared, Targets::Values(y)) => {
                Self::Regression(regression(outputs, y, width))
            }
            (Loss::SigmoidCrossEntropy, _) if width > 1 => {
                let Targets::Values(y) = targets else { unreachable!("checked") };
                let right = outputs
                    .iter()
                    .zip(y)
                    .filter(|&(&x, &t)| (x > F::zero()) == (t.as_f64() > 0.5))
                    .count();
                Self::MultiLabel { label_accuracy: right as f64 / outputs.len().max(1) as f64 }
            }
            _ => Self::Classification(classification(outputs, width, targets)),
        })
    }

    /// The headline number: R² for regression, accuracy for classification.
    pub fn headline(&self) -> f64 {
        match self {
            Self::Regression(m) => m.r2,
            Self::Classification(m) => m.accuracy,
            Self::MultiLabel { label_accuracy } => *label_accuracy,
        }
    }
}

/// Regression metrics of predictions against targets, both `[N, width]`.
///
/// # Panics
/// If the lengths differ.
pub fn regression<F: Float>(predictions: &[F], targets: &[F], width: usize) -> RegressionMetrics {
    assert_eq!(predictions.len(), targets.len(), "regression metrics: lengths");
    let rows = predictions.len() / width.max(1);
    let n = predictions.len().max(1) as f64;
    let (mut se, mut ae) = (0.0, 0.0);
    for (&p, &t) in predictions.iter().zip(targets) {
        let r = p.as_f64() - t.as_f64();
        se += r * r;
        ae += r.abs();
    }
    let (mut r2_sum, mut rmse_sum) = (0.0, 0.0);
    for j in 0..width {
        fn column<F: Float>(
            v: &[F],
            rows: usize,
            width: usize,
            j: usize,
        ) -> impl Iterator<Item = f64> + '_ {
            (0..rows).map(move |i| v[i * width + j].as_f64())
        }
        let sums = |unit: f64| {
            let column = |v| column(v, rows, width, j).map(move |x| x / unit);
            let mean = column(targets).sum::<f64>() / rows.max(1) as f64;
            let ss_tot: f64 = column(targets).map(|t| (t - mean).powi(2)).sum();
            let ss_res: f64 =
                column(predictions).zip(column(targets)).map(|(p, t)| (p - t).powi(2)).sum();
            (ss_tot, ss_res)
        };
        // Values near 1e160 have squares that overflow: then the sums are
        // taken in units of a power of two (exact), which cancels in r².
        let mut unit = 1.0;
        let (mut ss_tot, mut ss_res) = sums(unit);
        if !(ss_tot.is_finite() && ss_res.is_finite()) {
            let big = column(targets, rows, width, j)
                .chain(column(predictions, rows, width, j))
                .fold(0.0f64, |m, v| m.max(v.abs()));
            if big.is_finite() {
                unit = 2f64.powi(big.log2().floor() as i32);
                (ss_tot, ss_res) = sums(unit);
            }
        }
        rmse_sum += unit * (ss_res / rows.max(1) as f64).sqrt();
        r2_sum += if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else if ss_res == 0.0 {
            1.0
        } else {
            0.0
        };
    }
    let mse = se / n;
    let per_output = width.max(1) as f64;
    RegressionMetrics { mse, rmse: rmse_sum / per_output, mae: ae / n, r2: r2_sum / per_output }
}

/// The most probable class and `ln p(truth)` of one sample's logits.
fn predict_row<F: Float>(x: &[F], truth: usize) -> (usize, f64) {
    if let [z] = x {
        // One logit: binary, with ln σ(z) computed without overflow and
        // ln(1 − σ(z)) = ln σ(z) − z.
        let z = z.as_f64();
        let log_p1 = if z >= 0.0 { -(-z).exp().ln_1p() } else { z - z.exp().ln_1p() };
        return (usize::from(z > 0.0), if truth == 1 { log_p1 } else { log_p1 - z });
    }
    let max = x.iter().map(|v| v.as_f64()).fold(f64::NEG_INFINITY, f64::max);
    let lse = max + x.iter().map(|v| (v.as_f64() - max).exp()).sum::<f64>().ln();
    let best = x.iter().enumerate().fold(0, |b, (k, v)| if *v > x[b] { k } else { b });
    (best, x[truth].as_f64() - lse)
}

fn classification<F: Float>(
    outputs: &[F],
    width: usize,
    targets: Targets<'_, F>,
) -> ClassificationMetrics {
    let rows = outputs.len() / width;
    let classes = width.max(2);
    let mut confusion = ConfusionMatrix { classes, counts: vec![0; classes * classes] };
    let mut log_loss = 0.0;
    for (s, x) in outputs.chunks_exact(width).enumerate() {
        let truth = match targets.row(s, width) {
            RowTarget::Class(c) => c,
            // Probability targets: the most probable class counts as the truth.
            RowTarget::Values(y) if y.len() == 1 => usize::from(y[0].as_f64() > 0.5),
            RowTarget::Values(y) => {
                y.iter().enumerate().fold(0, |b, (k, v)| if *v > y[b] { k } else { b })
            }
        };
        let (predicted, log_p) = predict_row(x, truth);
        confusion.counts[truth * classes + predicted] += 1;
        log_loss -= log_p;
    }
    let correct: usize = (0..classes).map(|k| confusion.get(k, k)).sum();
    let mut f1_sum = 0.0;
    let mut present = 0;
    for k in 0..classes {
        let tp = confusion.get(k, k);
        let actual: usize = (0..classes).map(|p| confusion.get(k, p)).sum();
        let predicted: usize = (0..classes).map(|t| confusion.get(t, k)).sum();
        if actual + predicted > 0 {
            present += 1;
            f1_sum += 2.0 * tp as f64 / (actual + predicted) as f64;
        }
    }
    ClassificationMetrics {
        accuracy: correct as f64 / rows.max(1) as f64,
        log_loss: log_loss / rows.max(1) as f64,
        macro_f1: f1_sum / f64::from(present.max(1) as u32),
        confusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_metrics_match_hand_computed_values() {
        // Predictions vs targets: residuals 1, -1, 0, 2 in one output.
        let m = regression(&[2.0, 1.0, 3.0, 6.0], &[1.0, 2.0, 3.0, 4.0], 1);
        assert_eq!(m.mse, 1.5);
        assert_eq!(m.mae, 1.0);
        // SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5, SS_res = 6.
        assert!((m.r2 - (1.0 - 6.0 / 5.0)).abs() < 1e-15);
        // The same times 2^520, whose squares overflow: the same r², the
        // RMSE scaled exactly; the MSE itself is past the largest float.
        let big = |v: [f64; 4]| v.map(|x| x * 2f64.powi(520));
        let h = regression(&big([2.0, 1.0, 3.0, 6.0]), &big([1.0, 2.0, 3.0, 4.0]), 1);
        assert_eq!((h.r2, h.rmse, h.mae), (m.r2, m.rmse * 2f64.powi(520), m.mae * 2f64.powi(520)));
        assert_eq!(h.mse, f64::INFINITY);
    }

    #[test]
    fn several_outputs_average_per_output_scores_as_scikit_learn_does() {
        // Residuals 2 and -2 in output 0, none in output 1.
        let m = regression(&[3.0, 5.0, -1.0, 6.0], &[1.0, 5.0, 1.0, 6.0], 2);
        assert_eq!(m.rmse, 1.0);
        assert_eq!(m.mse, 2.0);
        // Output 0: SS_tot = 0 around mean 1 with R2 0 (residuals), output 1: exact, 1.
        assert_eq!(m.r2, 0.5);
    }

    #[test]
    fn classification_metrics_match_hand_computed_values() {
        // Three classes; logits favour 0, 1, 1, 2; truth 0, 1, 2, 2.
        let logits = [5.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 5.0];
        let m = Metrics::compute(
            Loss::SoftmaxCrossEntropy,
            &logits,
            3,
            Targets::Classes(&[0, 1, 2, 2]),
        )
        .unwrap();
        let Metrics::Classification(m) = m else { panic!("classification expected") };
        assert_eq!(m.accuracy, 0.75);
        assert_eq!(m.confusion.get(2, 1), 1);
        // F1: class 0 = 1, class 1 = 2/3, class 2 = 2/3.
        assert!((m.macro_f1 - (1.0 + 2.0 / 3.0 + 2.0 / 3.0) / 3.0).abs() < 1e-15);
        let p_right = 5f64.exp() / (5f64.exp() + 2.0);
        let expected = -(3.0 * p_right.ln() + (1.0 / (5f64.exp() + 2.0)).ln()) / 4.0;
        assert!((m.log_loss - expected).abs() < 1e-12);
    }

    #[test]
    fn binary_classification_uses_the_sigmoid_of_one_logit() {
        let m = Metrics::compute(
            Loss::SigmoidCrossEntropy,
            &[2.0f64, -1.0, 0.5],
            1,
            Targets::Classes(&[1, 0, 0]),
        )
        .unwrap();
        let Metrics::Classification(m) = m else { panic!("classification expected") };
        assert!((m.accuracy - 2.0 / 3.0).abs() < 1e-15);
        let s = |z: f64| 1.0 / (1.0 + (-z).exp());
        let expected = -(s(2.0).ln() + (1.0 - s(-1.0)).ln() + (1.0 - s(0.5)).ln()) / 3.0;
        assert!((m.log_loss - expected).abs() < 1e-12, "{} vs {expected}", m.log_loss);
    }
}
