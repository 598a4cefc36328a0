//! The library's error type: structured variants, one per kind of bad input.

use crate::loss::Loss;

/// What went wrong. Bad input from a caller (a network description, targets,
/// a configuration value) is an `Err`; a violated internal invariant, such as
/// slices of the wrong length handed to a kernel, panics and says so in the
/// function's `# Panics` section.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The widths and activations do not describe a network.
    #[error("invalid network: {reason}")]
    InvalidNetwork {
        /// Why, in words.
        reason: String,
    },
    /// A configuration value is out of its range; `field` names it with its path.
    #[error("invalid {field}: {reason}")]
    InvalidConfig {
        /// The field, e.g. `"init.gain"`.
        field: &'static str,
        /// Why, in words.
        reason: String,
    },
    /// A slice or data set has the wrong size.
    #[error("{what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// What was measured, e.g. `"parameters"`.
        what: &'static str,
        /// The size required.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// A target value does not suit the loss (a class label out of range,
    /// a probability outside `[0, 1]`); `row` is the 0-based sample index.
    #[error("target of sample {row}: {reason}")]
    InvalidTarget {
        /// 0-based index of the sample within the batch.
        row: usize,
        /// Why, in words.
        reason: String,
    },
    /// An input value is not finite; `row` is the 0-based sample index.
    #[error("input of sample {row}: {reason}")]
    InvalidInput {
        /// 0-based index of the sample.
        row: usize,
        /// Which column, and its value.
        reason: String,
    },
    /// The loss cannot be used with these targets or this network.
    #[error("loss {loss}: {reason}")]
    LossMismatch {
        /// The loss asked for.
        loss: Loss,
        /// Why, in words.
        reason: String,
    },
    /// Residuals and their Jacobian exist only for sums of squares.
    #[error(
        "loss {loss} is not a sum of squares, so it has no residuals \
         (use sse or mse, or a gradient-based solver)"
    )]
    NotLeastSquares {
        /// The loss asked for.
        loss: Loss,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file has bad content; `line` is 1-based.
    #[error("{}:{line}: {message}", path.display())]
    Csv {
        /// The file.
        path: std::path::PathBuf,
        /// The 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A model file is not valid.
    #[error("{}: {reason}", path.display())]
    ModelFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A model file is of a newer format than this build reads.
    #[error("{}: model format version {found} is newer than this build reads ({supported}); upgrade mlp", path.display())]
    ModelVersion {
        /// The file.
        path: std::path::PathBuf,
        /// The file's version.
        found: u64,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A name that is not one of the known activations.
    #[error("unknown activation {name:?} (known: {known})")]
    UnknownActivation {
        /// The name given.
        name: String,
        /// The accepted names, comma-separated.
        known: &'static str,
    },
    /// A name that is not one of the known losses.
    #[error("unknown loss {name:?} (known: {known})")]
    UnknownLoss {
        /// The name given.
        name: String,
        /// The accepted names, comma-separated.
        known: &'static str,
    },
    /// A column of data cannot be scaled ([`crate::data::scaling::Scaler`]).
    #[error("cannot scale column {column} (0-based): {reason}")]
    Scaling {
        /// 0-based index of the column among the scaler's columns.
        column: usize,
        /// Why, in words.
        reason: String,
    },
    /// A checkpoint does not fit the run it is resumed into.
    #[error("cannot resume: {reason}")]
    Resume {
        /// What differs or is missing.
        reason: String,
    },
}

/// `Result` with the library's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
