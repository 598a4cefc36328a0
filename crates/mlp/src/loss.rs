//! Losses on the network output `x^L`: value and derivative `dLoss/dx^L`.
//!
//! Each loss is a sum of per-sample terms times a normalising factor:
//! `Loss = scale * sum_s l(x^L_s, y_s)`, where [`Loss::scale`] is 1 for the
//! notes' S and `1/count` for the means. Keeping the factor separate lets a
//! caller evaluate a data set in chunks and still divide by the whole data
//! set's count ([`Loss::value_and_gradient_scaled`]).
//!
//! | loss | per-sample term `l` | `dl/dx^L` | scale |
//! |---|---|---|---|
//! | [`SumOfSquares`](Loss::SumOfSquares) (S, MATH §3) | `‖x − y‖²` | `2 (x − y)` (= δ^L, §4) | 1 |
//! | [`MeanSquared`](Loss::MeanSquared) | `‖x − y‖²` | `2 (x − y)` | `1 / (B n_L)` |
//! | [`SoftmaxCrossEntropy`](Loss::SoftmaxCrossEntropy) | `logsumexp(x) − Σ_k y_k x_k` | `softmax(x) Σ_k y_k − y` | `1 / B` |
//! | [`SigmoidCrossEntropy`](Loss::SigmoidCrossEntropy) | `Σ_k max(x_k,0) − x_k y_k + ln(1 + e^{−|x_k|})` | `sigmoid(x) − y` | `1 / (B n_L)` |
//!
//! For softmax cross-entropy `y` is the one-hot vector of an integer class
//! label, or a probability vector; for the sigmoid loss each output is an
//! independent binary label (one output: binary classification; several:
//! multi-label). Both work on logits and never overflow: the log-sum-exp is
//! shifted by the row maximum, and the sigmoid loss uses the form above.

use core::fmt;
use core::str::FromStr;

use crate::activation::sigmoid;
use crate::error::{Error, Result};
use crate::float::Float;

/// A loss on the network output `x^L` (the logits, for the cross-entropies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Loss {
    /// The notes' cost S: the sum over samples of `‖x^L − y‖²` (MATH.md §3). Name `sse`.
    #[serde(rename = "sse")]
    SumOfSquares,
    /// S divided by the number of target values, as PyTorch's `MSELoss`. Name `mse`.
    #[serde(rename = "mse")]
    MeanSquared,
    /// Softmax cross-entropy on logits, mean over samples, as PyTorch's
    /// `CrossEntropyLoss`. Name `cross_entropy`.
    #[serde(rename = "cross_entropy")]
    SoftmaxCrossEntropy,
    /// Sigmoid binary cross-entropy on logits, mean over all outputs, as
    /// PyTorch's `BCEWithLogitsLoss`. Name `binary_cross_entropy`.
    #[serde(rename = "binary_cross_entropy")]
    SigmoidCrossEntropy,
}

/// Every loss name [`Loss::from_str`] accepts.
pub const LOSS_NAMES: &str = "sse, mse, cross_entropy, binary_cross_entropy";

/// The targets of a batch, one row per sample.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, F> {
    /// Dense values, `[B, n_L]` row-major: regression targets, probability
    /// vectors for softmax cross-entropy, or 0/1 labels for the sigmoid loss.
    Values(&'a [F]),
    /// One integer class label per sample, `[B]`: for softmax cross-entropy
    /// (label `< n_L`), or the sigmoid loss with one output (label 0 or 1).
    Classes(&'a [usize]),
}

/// The target of one sample, as the per-sample functions see it.
#[derive(Clone, Copy, Debug)]
pub enum RowTarget<'a, F> {
    /// A row of dense values, length `n_L`.
    Values(&'a [F]),
    /// A class label.
    Class(usize),
}

impl<'a, F: Float> Targets<'a, F> {
    /// The number of samples, given the number of outputs.
    pub fn rows(&self, outputs: usize) -> usize {
        match self {
            Self::Values(v) => v.len() / outputs.max(1),
            Self::Classes(c) => c.len(),
        }
    }

    /// The target of sample `row`.
    pub fn row(&self, row: usize, outputs: usize) -> RowTarget<'a, F> {
        match *self {
            Self::Values(v) => RowTarget::Values(&v[row * outputs..(row + 1) * outputs]),
            Self::Classes(c) => RowTarget::Class(c[row]),
        }
    }
}

impl Loss {
    /// Every loss once.
    pub const ALL: [Loss; 4] = [
        Loss::SumOfSquares,
        Loss::MeanSquared,
        Loss::SoftmaxCrossEntropy,
        Loss::SigmoidCrossEntropy,
    ];

    /// The short name used in files, messages and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::SumOfSquares => "sse",
            Self::MeanSquared => "mse",
            Self::SoftmaxCrossEntropy => "cross_entropy",
            Self::SigmoidCrossEntropy => "binary_cross_entropy",
        }
    }

    /// Whether the loss is `scale * Σ r²` over residuals `r = x^L − y`, as
    /// Gauss-Newton and Levenberg-Marquardt require.
    pub fn is_least_squares(self) -> bool {
        matches!(self, Self::SumOfSquares | Self::MeanSquared)
    }

    /// The normalising factor for `rows` samples of `outputs` values (see the
    /// [module docs](self)).
    pub fn scale(self, rows: usize, outputs: usize) -> f64 {
        match self {
            Self::SumOfSquares => 1.0,
            Self::MeanSquared | Self::SigmoidCrossEntropy => 1.0 / (rows * outputs).max(1) as f64,
            Self::SoftmaxCrossEntropy => 1.0 / rows.max(1) as f64,
        }
    }

    /// Checks that `targets` suit this loss for a batch of `rows` samples with
    /// `outputs` values each.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the target count is wrong;
    /// [`Error::LossMismatch`] if the kind of target or the number of outputs
    /// does not suit the loss; [`Error::InvalidTarget`] for a class label out
    /// of range, a non-finite value, or a probability outside `[0, 1]`.
    pub fn check_targets<F: Float>(
        self,
        targets: Targets<'_, F>,
        rows: usize,
        outputs: usize,
    ) -> Result<()> {
        if self == Self::SoftmaxCrossEntropy && outputs < 2 {
            return Err(self.mismatch("needs at least 2 outputs (one logit per class)"));
        }
        match targets {
            Targets::Values(v) => {
                if v.len() != rows * outputs {
                    return Err(Error::ShapeMismatch {
                        what: "target values (samples x outputs)",
                        expected: rows * outputs,
                        got: v.len(),
                    });
                }
                let probabilities = !self.is_least_squares();
                let bad =
                    |y: F| !y.is_finite() || (probabilities && !(y >= F::zero() && y <= F::one()));
                // One pass without an early exit (it vectorises: this runs
                // every step), then the first bad value for the message.
                if v.iter().fold(false, |any, &y| any | bad(y)) {
                    let k = v.iter().position(|&y| bad(y)).unwrap_or_default();
                    let y = v[k];
                    let expected = if probabilities { "a probability in [0, 1]" } else { "finite" };
                    return Err(Error::InvalidTarget {
                        row: k / outputs,
                        reason: format!("output {} is {y}, not {expected}", k % outputs),
                    });
                }
            }
            Targets::Classes(c) => {
                if c.len() != rows {
                    return Err(Error::ShapeMismatch {
                        what: "class labels (one per sample)",
                        expected: rows,
                        got: c.len(),
                    });
                }
                let classes = match self {
                    Self::SoftmaxCrossEntropy => outputs,
                    Self::SigmoidCrossEntropy if outputs == 1 => 2,
                    Self::SigmoidCrossEntropy => {
                        return Err(self.mismatch(
                            "class labels need exactly 1 output; give 0/1 values per output for multi-label",
                        ));
                    }
                    _ => return Err(self.mismatch("needs target values, not class labels")),
                };
                if let Some((row, &label)) = c.iter().enumerate().find(|&(_, &l)| l >= classes) {
                    return Err(Error::InvalidTarget {
                        row,
                        reason: format!("class label {label} is not below the {classes} classes"),
                    });
                }
            }
        }
        Ok(())
    }

    fn mismatch(self, reason: &str) -> Error {
        Error::LossMismatch { loss: self, reason: reason.to_owned() }
    }

    /// The per-sample term `l(x, y)`; when `grad` is given, also writes
    /// `scale * dl/dx` into it. The single definition of each loss; the batched
    /// functions map it over rows. Targets are assumed checked.
    #[inline]
    pub fn row<F: Float>(
        self,
        x: &[F],
        target: RowTarget<'_, F>,
        grad: Option<(&mut [F], F)>,
    ) -> F {
        let two = F::cast(2.0);
        match self {
            Self::SumOfSquares | Self::MeanSquared => {
                let RowTarget::Values(y) = target else {
                    unreachable!("checked: least-squares losses take values")
                };
                let mut sum = F::zero();
                match grad {
                    Some((g, scale)) => {
                        for ((gk, &xk), &yk) in g.iter_mut().zip(x).zip(y) {
                            let r = xk - yk;
                            sum = sum + r * r;
                            *gk = scale * two * r; // δ^L = 2 r (§4)
                        }
                    }
                    None => {
                        for (&xk, &yk) in x.iter().zip(y) {
                            let r = xk - yk;
                            sum = sum + r * r;
                        }
                    }
                }
                sum
            }
            Self::SoftmaxCrossEntropy => {
                let max = x.iter().copied().fold(F::neg_infinity(), F::max);
                let sum_exp: F = x.iter().map(|&xk| (xk - max).exp()).sum();
                let log_sum_exp = max + sum_exp.ln();
                let (value, mass) = match target {
                    RowTarget::Class(c) => (log_sum_exp - x[c], F::one()),
                    RowTarget::Values(y) => {
                        let mass: F = y.iter().copied().sum();
                        let dot: F = x.iter().zip(y).map(|(&xk, &yk)| xk * yk).sum();
                        (mass * log_sum_exp - dot, mass)
                    }
                };
                if let Some((g, scale)) = grad {
                    for (k, (gk, &xk)) in g.iter_mut().zip(x).enumerate() {
                        let p = (xk - max).exp() / sum_exp;
                        let y = match target {
                            RowTarget::Class(c) => one_hot(c == k),
                            RowTarget::Values(y) => y[k],
                        };
                        *gk = scale * (p * mass - y);
                    }
                }
                value
            }
            Self::SigmoidCrossEntropy => {
                let mut sum = F::zero();
                let mut grad = grad;
                for (k, &xk) in x.iter().enumerate() {
                    let y = match target {
                        RowTarget::Class(c) => one_hot(c == 1),
                        RowTarget::Values(y) => y[k],
                    };
                    sum = sum + xk.max(F::zero()) - xk * y + (-xk.abs()).exp().ln_1p();
                    if let Some((g, scale)) = grad.as_mut() {
                        g[k] = *scale * (sigmoid::<F, false>(xk) - y);
                    }
                }
                sum
            }
        }
    }

    /// The loss of a batch: `scale(B, n_L) * Σ_s l(x_s, y_s)`.
    ///
    /// # Shapes
    /// - `outputs`: `[B, n_L]` row-major, with `n_L = width`
    ///
    /// # Errors
    /// As [`check_targets`](Self::check_targets).
    pub fn value<F: Float>(
        self,
        outputs: &[F],
        width: usize,
        targets: Targets<'_, F>,
    ) -> Result<F> {
        if width == 0 || !outputs.len().is_multiple_of(width) {
            let expected = width * (outputs.len() / width.max(1) + 1);
            return Err(Error::ShapeMismatch {
                what: "outputs (rows x width)",
                expected,
                got: outputs.len(),
            });
        }
        self.value_scaled(outputs, width, targets, self.scale(outputs.len() / width, width))
    }

    /// `scale * Σ_s l(x_s, y_s)`: the value half of
    /// [`value_and_gradient_scaled`](Self::value_and_gradient_scaled).
    ///
    /// # Errors
    /// As [`check_targets`](Self::check_targets).
    pub fn value_scaled<F: Float>(
        self,
        outputs: &[F],
        width: usize,
        targets: Targets<'_, F>,
        scale: f64,
    ) -> Result<F> {
        let rows = outputs.len() / width;
        self.check_targets(targets, rows, width)?;
        if let (true, Targets::Values(y)) = (self.is_least_squares(), targets) {
            let batch = SquaresBatch { x: outputs, y, width, grad: None };
            return Ok(F::cast(scale) * crate::simd::vectorised(batch));
        }
        let mut sum = F::zero();
        for (s, x) in outputs.chunks_exact(width).enumerate() {
            sum = sum + self.row(x, targets.row(s, width), None);
        }
        Ok(F::cast(scale) * sum)
    }

    /// The loss of a batch and its gradient `dLoss/dX^L` (`Δ^L` of §5),
    /// normalised by the batch itself.
    ///
    /// # Shapes
    /// - `outputs`, `grad`: `[B, n_L]` row-major, with `n_L = width`
    ///
    /// # Errors
    /// As [`check_targets`](Self::check_targets).
    ///
    /// # Panics
    /// If `grad` and `outputs` differ in length.
    pub fn value_and_gradient<F: Float>(
        self,
        outputs: &[F],
        width: usize,
        targets: Targets<'_, F>,
        grad: &mut [F],
    ) -> Result<F> {
        let rows = outputs.len() / width;
        self.value_and_gradient_scaled(outputs, width, targets, self.scale(rows, width), grad)
    }

    /// Like [`value_and_gradient`](Self::value_and_gradient) with the
    /// normalising factor given: `scale * Σ_s l(x_s, y_s)` and its gradient.
    /// To evaluate a data set of `N` samples in chunks, pass
    /// `self.scale(N, n_L)` for every chunk and add the results.
    ///
    /// # Errors
    /// As [`check_targets`](Self::check_targets).
    ///
    /// # Panics
    /// If `grad` and `outputs` differ in length.
    pub fn value_and_gradient_scaled<F: Float>(
        self,
        outputs: &[F],
        width: usize,
        targets: Targets<'_, F>,
        scale: f64,
        grad: &mut [F],
    ) -> Result<F> {
        assert_eq!(outputs.len(), grad.len(), "Loss: gradient length");
        let rows = outputs.len() / width;
        self.check_targets(targets, rows, width)?;
        let scale = F::cast(scale);
        if let (true, Targets::Values(y)) = (self.is_least_squares(), targets) {
            let batch = SquaresBatch { x: outputs, y, width, grad: Some((grad, scale)) };
            return Ok(scale * crate::simd::vectorised(batch));
        }
        let mut sum = F::zero();
        for (s, (x, g)) in outputs.chunks_exact(width).zip(grad.chunks_exact_mut(width)).enumerate()
        {
            sum = sum + self.row(x, targets.row(s, width), Some((g, scale)));
        }
        Ok(scale * sum)
    }

    /// Residuals `r` with `Loss = Σ r²`: `sqrt(scale) * (x^L − y)`, `[B, n_L]`,
    /// for Gauss-Newton and Levenberg-Marquardt (the Jacobian of `r` is
    /// `sqrt(scale)` times the stacked `grad_V F`, (20)).
    ///
    /// # Errors
    /// [`Error::NotLeastSquares`] unless [`is_least_squares`](Self::is_least_squares);
    /// otherwise as [`check_targets`](Self::check_targets).
    ///
    /// # Panics
    /// If `residuals` and `outputs` differ in length.
    pub fn residuals<F: Float>(
        self,
        outputs: &[F],
        width: usize,
        targets: Targets<'_, F>,
        residuals: &mut [F],
    ) -> Result<()> {
        if !self.is_least_squares() {
            return Err(Error::NotLeastSquares { loss: self });
        }
        assert_eq!(outputs.len(), residuals.len(), "Loss::residuals: length");
        let rows = outputs.len() / width;
        self.check_targets(targets, rows, width)?;
        let Targets::Values(y) = targets else {
            unreachable!("checked: least-squares losses take values")
        };
        let root = F::cast(self.scale(rows, width).sqrt());
        for ((r, &x), &y) in residuals.iter_mut().zip(outputs).zip(y) {
            *r = root * (x - y);
        }
        Ok(())
    }
}

fn one_hot<F: Float>(hot: bool) -> F {
    if hot { F::one() } else { F::zero() }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Loss {
    type Err = Error;

    /// Parses [`Loss::name`], plus the long names `sum_of_squares`,
    /// `mean_squared`, `softmax_cross_entropy` and `sigmoid_cross_entropy`
    /// (hyphens or underscores).
    fn from_str(s: &str) -> Result<Self> {
        let name = s.trim().to_ascii_lowercase().replace('-', "_");
        Ok(match name.as_str() {
            "sse" | "sum_of_squares" => Self::SumOfSquares,
            "mse" | "mean_squared" => Self::MeanSquared,
            "cross_entropy" | "softmax_cross_entropy" => Self::SoftmaxCrossEntropy,
            "binary_cross_entropy" | "bce" | "sigmoid_cross_entropy" => Self::SigmoidCrossEntropy,
            _ => {
                return Err(Error::UnknownLoss { name: s.to_owned(), known: LOSS_NAMES });
            }
        })
    }
}

/// [`Loss::row`] of the least-squares losses mapped over a batch, with the
/// same bits, in two loops: the gradient, element-wise, which vectorises,
/// then the sum of squares, row by row in order. One row at a time it was
/// 6% of T's `f32` step (a call and two slices per value, `perf`).
struct SquaresBatch<'a, F> {
    x: &'a [F],
    y: &'a [F],
    width: usize,
    grad: Option<(&'a mut [F], F)>,
}

impl<F: Float> crate::simd::Kernel for SquaresBatch<'_, F> {
    type Output = F;
    #[inline(always)]
    fn run(self) -> F {
        if let Some((g, scale)) = self.grad {
            let two = F::cast(2.0);
            for ((gk, &xk), &yk) in g.iter_mut().zip(self.x).zip(self.y) {
                *gk = scale * two * (xk - yk); // δ^L = 2 r (§4)
            }
        }
        let rows = self.x.chunks_exact(self.width).zip(self.y.chunks_exact(self.width));
        rows.fold(F::zero(), |sum, (x, y)| {
            sum + x.iter().zip(y).fold(F::zero(), |row, (&xk, &yk)| row + (xk - yk) * (xk - yk))
        })
    }
}

#[cfg(test)]
mod tests;
