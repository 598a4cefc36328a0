//! Per-column scaling of inputs and targets, fitted on the training rows and
//! saved with the model: `scaled = (raw − offset) / spread`.

use serde::{Deserialize, Serialize};

/// Which scaling to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleKind {
    /// Zero mean and unit (population) standard deviation per column (the default).
    #[default]
    Standard,
    /// Each column mapped onto `[0, 1]` by its minimum and maximum.
    MinMax,
    /// No scaling.
    None,
}

/// A fitted per-column affine map `scaled = (raw − offset) / spread`.
/// Constant columns get spread 1, so they map to 0 rather than NaN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// What was fitted.
    pub kind: ScaleKind,
    /// Subtracted first: the mean or the minimum of each column.
    pub offset: Vec<f64>,
    /// Divided by next: the standard deviation or the range of each column.
    pub spread: Vec<f64>,
}

impl Scaler {
    /// Fits `kind` to the columns of `rows` (row-major, `width` columns), or
    /// `None` for [`ScaleKind::None`] or no rows.
    pub fn fit(kind: ScaleKind, rows: &[f64], width: usize) -> Option<Self> {
        let n = rows.len() / width.max(1);
        if kind == ScaleKind::None || n == 0 {
            return None;
        }
        let column = |j: usize| rows.iter().skip(j).step_by(width).copied();
        let (mut offset, mut spread) = (Vec::with_capacity(width), Vec::with_capacity(width));
        for j in 0..width {
            let (o, s) = match kind {
                ScaleKind::Standard => {
                    let mean = column(j).sum::<f64>() / n as f64;
                    let var = column(j).map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
                    (mean, var.sqrt())
                }
                ScaleKind::MinMax => {
                    let min = column(j).fold(f64::INFINITY, f64::min);
                    let max = column(j).fold(f64::NEG_INFINITY, f64::max);
                    (min, max - min)
                }
                ScaleKind::None => unreachable!("handled above"),
            };
            offset.push(o);
            spread.push(if s > 0.0 && s.is_finite() { s } else { 1.0 });
        }
        Some(Self { kind, offset, spread })
    }

    /// The number of columns.
    pub fn width(&self) -> usize {
        self.offset.len()
    }

    /// Scales `rows` (row-major) in place.
    pub fn transform(&self, rows: &mut [f64]) {
        for row in rows.chunks_exact_mut(self.width()) {
            for ((v, o), s) in row.iter_mut().zip(&self.offset).zip(&self.spread) {
                *v = (*v - o) / s;
            }
        }
    }

    /// Undoes [`transform`](Self::transform) in place.
    pub fn inverse(&self, rows: &mut [f64]) {
        for row in rows.chunks_exact_mut(self.width()) {
            for ((v, o), s) in row.iter_mut().zip(&self.offset).zip(&self.spread) {
                *v = *v * s + o;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalers_round_trip_and_leave_constant_columns_finite() {
        let rows = [1.0, 5.0, 3.0, 5.0, 5.0, 5.0];
        for kind in [ScaleKind::Standard, ScaleKind::MinMax] {
            let s = Scaler::fit(kind, &rows, 2).unwrap();
            let mut scaled = rows;
            s.transform(&mut scaled);
            assert_eq!(scaled[1], 0.0, "constant column");
            if kind == ScaleKind::MinMax {
                assert_eq!([scaled[0], scaled[4]], [0.0, 1.0]);
            } else {
                assert!((scaled[0] + scaled[4]).abs() < 1e-15 && (scaled[2]).abs() < 1e-15);
            }
            s.inverse(&mut scaled);
            assert!(scaled.iter().zip(&rows).all(|(a, b)| (a - b).abs() < 1e-14));
        }
        assert!(Scaler::fit(ScaleKind::None, &rows, 2).is_none());
    }
}
