//! [`Dataset`]: inputs and targets in memory, samples as rows; scaling.

pub mod bundled;
pub mod csv;
pub mod encoding;
pub mod scaling;

use crate::error::{Error, Result};
use crate::float::Float;
use crate::loss::Targets;

/// The targets of a data set, owned.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetData<F> {
    /// Dense values, `[N, width]` row-major.
    Values {
        /// The values.
        values: Vec<F>,
        /// Values per sample.
        width: usize,
    },
    /// One class label per sample.
    Classes(Vec<usize>),
}

/// Inputs `[N, n_0]` and targets of `N` samples, in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<F = f64> {
    inputs: Vec<F>,
    width: usize,
    targets: TargetData<F>,
}

impl<F: Float> Dataset<F> {
    /// A data set from row-major inputs of `width` columns and their targets.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the inputs are not whole rows, or the
    /// targets do not give one row (or label) per input row.
    pub fn new(inputs: Vec<F>, width: usize, targets: TargetData<F>) -> Result<Self> {
        if width == 0 || !inputs.len().is_multiple_of(width) {
            return Err(Error::ShapeMismatch {
                what: "input values (a multiple of the input width)",
                expected: width * (inputs.len() / width.max(1) + 1),
                got: inputs.len(),
            });
        }
        let rows = inputs.len() / width;
        if let TargetData::Values { values, width } = &targets
            && (*width == 0 || !values.len().is_multiple_of(*width))
        {
            return Err(Error::ShapeMismatch {
                what: "target values (a multiple of the target width)",
                expected: width * (values.len() / (*width).max(1) + 1),
                got: values.len(),
            });
        }
        let target_rows = match &targets {
            TargetData::Values { values, width } => values.len() / width,
            TargetData::Classes(c) => c.len(),
        };
        if target_rows != rows {
            return Err(Error::ShapeMismatch {
                what: "target rows",
                expected: rows,
                got: target_rows,
            });
        }
        Ok(Self { inputs, width, targets })
    }

    /// Checks that every input is finite: a NaN would otherwise surface
    /// as a divergence of the training.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first input that is not finite.
    pub fn check_inputs(&self) -> Result<()> {
        // One pass without an early exit (it vectorises), then the place.
        if self.inputs.iter().fold(false, |any, v| any | !v.is_finite()) {
            let k = self.inputs.iter().position(|v| !v.is_finite()).unwrap_or_default();
            let (row, column) = (k / self.width, k % self.width);
            let reason = format!("column {column} is {}", self.inputs[k]);
            return Err(Error::InvalidInput { row, reason });
        }
        Ok(())
    }

    /// A 64-bit FNV-1a hash of the shape and the bits of every input and
    /// target: a checkpoint records it so that a run is never resumed on
    /// other data.
    pub fn fingerprint(&self) -> u64 {
        let mut h = FNV_OFFSET;
        let mut eat = |v: u64| h = fnv1a(h, &v.to_le_bytes());
        eat(self.width as u64);
        eat(self.rows() as u64);
        self.inputs.iter().for_each(|v| eat(v.as_f64().to_bits()));
        match &self.targets {
            TargetData::Values { values, width } => {
                eat(*width as u64);
                values.iter().for_each(|v| eat(v.as_f64().to_bits()));
            }
            TargetData::Classes(c) => c.iter().for_each(|&c| eat(c as u64 ^ (1 << 63))),
        }
        h
    }

    /// The number of samples `N`.
    pub fn rows(&self) -> usize {
        self.inputs.len() / self.width
    }

    /// The number of input columns `n_0`.
    pub fn input_width(&self) -> usize {
        self.width
    }

    /// All inputs, `[N, n_0]`.
    pub fn inputs(&self) -> &[F] {
        &self.inputs
    }

    /// All targets.
    pub fn targets(&self) -> Targets<'_, F> {
        self.slice(0, self.rows()).1
    }

    /// The owned targets.
    pub fn target_data(&self) -> &TargetData<F> {
        &self.targets
    }

    /// Inputs and targets of rows `start..end`.
    ///
    /// # Panics
    /// Unless `start <= end <= rows()`.
    pub fn slice(&self, start: usize, end: usize) -> (&[F], Targets<'_, F>) {
        assert!(start <= end && end <= self.rows(), "rows {start}..{end} of {}", self.rows());
        let inputs = &self.inputs[start * self.width..end * self.width];
        let targets = match &self.targets {
            TargetData::Values { values, width } => {
                Targets::Values(&values[start * width..end * width])
            }
            TargetData::Classes(c) => Targets::Classes(&c[start..end]),
        };
        (inputs, targets)
    }

    /// The rows `indices`, in that order, as a new data set (reusing `into`'s
    /// buffers when given one, so a training loop allocates once).
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn gather_into(&self, indices: &[usize], into: &mut Dataset<F>) {
        into.width = self.width;
        into.inputs.clear();
        for &r in indices {
            into.inputs.extend_from_slice(&self.inputs[r * self.width..(r + 1) * self.width]);
        }
        match (&self.targets, &mut into.targets) {
            (
                TargetData::Values { values, width },
                TargetData::Values { values: out, width: w },
            ) => {
                *w = *width;
                out.clear();
                for &r in indices {
                    out.extend_from_slice(&values[r * width..(r + 1) * width]);
                }
            }
            (TargetData::Classes(c), TargetData::Classes(out)) => {
                out.clear();
                out.extend(indices.iter().map(|&r| c[r]));
            }
            (source, target) => {
                *target = match source {
                    TargetData::Values { width, .. } => {
                        TargetData::Values { values: Vec::new(), width: *width }
                    }
                    TargetData::Classes(_) => TargetData::Classes(Vec::new()),
                };
                self.gather_into(indices, into);
            }
        }
    }

    /// The rows `indices` as a new data set.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn gather(&self, indices: &[usize]) -> Dataset<F> {
        let mut out = Dataset {
            inputs: Vec::new(),
            width: self.width,
            targets: TargetData::Classes(Vec::new()),
        };
        self.gather_into(indices, &mut out);
        out
    }
}

/// `text` quoted for an error message, cut to its first 40 characters (with
/// the full length given) so that one absurd field cannot turn a one-line
/// error into megabytes.
pub(crate) fn quoted(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        None => format!("{text:?}"),
        Some((end, _)) => format!("{:?}... ({} bytes)", &text[..end], text.len()),
    }
}

/// The FNV-1a hash's starting value.
pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a: `h` continued over `bytes`.
pub(crate) fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}
