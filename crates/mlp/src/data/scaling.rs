//! Per-column scaling of inputs and targets, fitted on the training rows and
//! saved with the model: `scaled = (raw − offset) / spread`.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

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
    ///
    /// # Errors
    /// [`Error::Scaling`] for a column holding a non-finite value, or one whose
    /// values lie so far apart that `raw − offset` would overflow.
    pub fn fit(kind: ScaleKind, rows: &[f64], width: usize) -> Result<Option<Self>> {
        let n = rows.len() / width.max(1);
        if kind == ScaleKind::None || n == 0 {
            return Ok(None);
        }
        let column = |j: usize| rows.iter().skip(j).step_by(width).copied();
        let (mut offset, mut spread) = (Vec::with_capacity(width), Vec::with_capacity(width));
        for j in 0..width {
            let fail = |reason: String| Error::Scaling { column: j, reason };
            if let Some(v) = column(j).find(|v| !v.is_finite()) {
                return Err(fail(format!("{v} is not finite")));
            }
            let min = column(j).fold(f64::INFINITY, f64::min);
            let max = column(j).fold(f64::NEG_INFINITY, f64::max);
            let (o, s) = match kind {
                ScaleKind::Standard => match moments(column(j), n) {
                    (mean, sd) if mean.is_finite() && sd.is_finite() => (mean, sd),
                    _ => {
                        // Sums or squares of values this large overflow: take
                        // the moments of the column divided by a power of
                        // two (exact unless a value falls below the normal
                        // range), then scale them back.
                        let p = 2f64.powi(min.abs().max(max.abs()).log2().floor() as i32);
                        let (mean, sd) = moments(column(j).map(|v| v / p), n);
                        (mean * p, sd * p)
                    }
                },
                ScaleKind::MinMax => (min, max - min),
                ScaleKind::None => unreachable!("handled above"),
            };
            if !(s.is_finite() && (max - o).is_finite() && (min - o).is_finite()) {
                return Err(fail(format!(
                    "its values, from {min:e} to {max:e}, lie too far apart to scale \
                     in floating point"
                )));
            }
            offset.push(o);
            spread.push(if s > 0.0 { s } else { 1.0 });
        }
        Ok(Some(Self { kind, offset, spread }))
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

/// The mean and the population standard deviation of `n` values.
fn moments(values: impl Iterator<Item = f64> + Clone, n: usize) -> (f64, f64) {
    let mean = values.clone().sum::<f64>() / n as f64;
    let var = values.map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalers_round_trip_and_leave_constant_columns_finite() {
        let rows = [1.0, 5.0, 3.0, 5.0, 5.0, 5.0];
        for kind in [ScaleKind::Standard, ScaleKind::MinMax] {
            let s = Scaler::fit(kind, &rows, 2).unwrap().unwrap();
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
        assert!(Scaler::fit(ScaleKind::None, &rows, 2).unwrap().is_none());
    }

    #[test]
    fn huge_values_scale_as_small_ones_do_and_unscalable_ones_are_refused() {
        // The same column times 2^500: the same scaled values, bit for bit,
        // although its sum of squares overflows.
        let small = [1.0, -3.0, 2.5, 0.75, 7.0];
        let huge: Vec<f64> = small.iter().map(|v| v * 2f64.powi(500)).collect();
        let (s, h) = (
            Scaler::fit(ScaleKind::Standard, &small, 1),
            Scaler::fit(ScaleKind::Standard, &huge, 1),
        );
        let (s, h) = (s.unwrap().unwrap(), h.unwrap().unwrap());
        assert!(h.spread[0].is_finite() && h.spread[0] > 0.0);
        let (mut a, mut b) = (small.to_vec(), huge);
        s.transform(&mut a);
        h.transform(&mut b);
        assert_eq!(a, b);
        let apart = [f64::MAX, f64::MAX, f64::MAX, -f64::MAX];
        for kind in [ScaleKind::Standard, ScaleKind::MinMax] {
            let fitted = Scaler::fit(kind, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 3);
            assert!(fitted.unwrap().is_some());
            let err = Scaler::fit(kind, &apart, 1).unwrap_err();
            assert!(matches!(err, Error::Scaling { column: 0, .. }), "{err}");
            let err = Scaler::fit(kind, &[1.0, 2.0, 3.0, f64::NAN], 2).unwrap_err();
            assert_eq!(err.to_string(), "cannot scale column 1 (0-based): NaN is not finite");
        }
    }
}
