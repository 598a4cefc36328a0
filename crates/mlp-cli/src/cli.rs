//! The command-line interface, as clap derive types: flags only; the
//! commands turn them into library settings, which validate them.

// Doc comments here are `--help` text, not rustdoc: no Markdown backticks.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Train and use multilayer perceptrons, with exact back-propagation.
///
/// Layers are counted from 0: layer i applies its activation to its input,
/// then its affine map, so the output is affine (MATH.md (19)).
#[derive(Debug, Parser)]
#[command(name = "mlp", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a network on a CSV file or a bundled data set and save it.
    Train(TrainArgs),
    /// Predict each row of a CSV file with a saved model.
    Predict(PredictArgs),
    /// Report a saved model's metrics on a labelled CSV file.
    Eval(EvalArgs),
    /// Describe a saved model: layers, parameters, scalers, training.
    Inspect(InspectArgs),
    /// Make a model with fresh parameters.
    Init(InitArgs),
    /// Write the gradient of the loss at a model's parameters (the sum over
    /// the rows for sse; the mean for mse and the cross-entropies).
    Gradient(GradientArgs),
    /// Check back-propagation against central finite differences.
    Gradcheck(GradcheckArgs),
    /// Write each row's input Jacobian dy/dx, in original units.
    Jacobian(JacobianArgs),
    /// Export a model as ONNX, or as one C or Rust source file.
    Export(ExportArgs),
    /// List the bundled data sets.
    Datasets,
    /// List the names the library accepts (activations, losses, solvers).
    List {
        /// What to list.
        #[arg(value_enum)]
        what: Catalogue,
    },
}

/// A catalogue of names.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Catalogue {
    /// Activation functions, e.g. `tanh`, `leaky_relu:0.2`.
    Activations,
    /// Losses, e.g. `sse`, `cross_entropy`.
    Losses,
    /// Solvers, e.g. `adam`, `lm`.
    Solvers,
}

/// Where data comes from and how to read it.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// The CSV file (gzip-compressed if it ends in .gz).
    #[arg(required_unless_present = "dataset")]
    pub data: Option<PathBuf>,
    /// A bundled data set instead of a file (see `mlp datasets`).
    #[arg(long, conflicts_with = "data")]
    pub dataset: Option<String>,
    /// The file has no header row: columns are named 0, 1, ...
    #[arg(long)]
    pub no_header: bool,
    /// The field delimiter.
    #[arg(long, default_value = ",")]
    pub delimiter: char,
}

/// The task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    /// Real-valued targets.
    Regress,
    /// Class labels.
    Classify,
}

/// Floating-point type of the parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Dtype {
    /// 32-bit.
    F32,
    /// 64-bit.
    F64,
}

/// Scaling of inputs (and regression targets), fitted on the training rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScaleArg {
    /// Zero mean, unit standard deviation.
    Standard,
    /// Onto [0, 1].
    Minmax,
    /// No scaling.
    None,
}

/// How the ranks of a distributed run combine their sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReductionArg {
    /// One all-reduce per evaluation; equal to one process to rounding.
    Fast,
    /// Whole chunks added in order: bitwise the single-process result.
    Exact,
}

/// What a non-finite loss or gradient does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnDivergenceArg {
    /// Stop and fail, writing the parameters from the start of the epoch
    /// beside `--out` (`model.diverged.safetensors`), which is left alone.
    Stop,
    /// Restore the epoch's start, halve the learning rate and try again.
    Backoff,
}

// A flag given twice keeps its last value: `--resume` puts the checkpoint's
// arguments first, and any given on the command line then override them.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true, args_override_self = true)]
pub struct TrainArgs {
    #[command(flatten)]
    pub input: DataArgs,
    /// Target columns, by name or 0-based index, comma-separated (default for
    /// a bundled data set: its target).
    #[arg(long, value_delimiter = ',')]
    pub target: Vec<String>,
    /// regress or classify (default: classify when a target is text).
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "32")]
    pub hidden: Vec<usize>,
    /// Activation of every hidden layer's input (see `mlp list activations`).
    #[arg(long, default_value = "tanh")]
    pub activation: String,
    /// Activation applied to the raw input by layer 0.
    #[arg(long, default_value = "identity")]
    pub input_activation: String,
    /// Loss (default: mse to regress, cross_entropy to classify).
    #[arg(long)]
    pub loss: Option<String>,
    /// Solver: gd, sgd, adam, adamw, lbfgs, lm, rprop.
    #[arg(long, default_value = "adam")]
    pub solver: String,
    /// Most epochs.
    #[arg(long, default_value_t = 200)]
    pub epochs: usize,
    /// Rows per mini-batch (sgd, adam, adamw).
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Learning rate (sgd, adam, adamw; the first trial step of gd).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Momentum for sgd (0 for none).
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f64,
    /// L2 weight decay (adamw: decoupled; default 0, or 0.01 for adamw).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Fraction of the rows held out for validation, in [0, 1) (default 0.1,
    /// or none for data sets under 20 rows).
    #[arg(long)]
    pub val_fraction: Option<f64>,
    /// A validation file instead of a fraction.
    #[arg(long, conflicts_with = "val_fraction")]
    pub val: Option<PathBuf>,
    /// A test file, evaluated after training.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Fraction of the rows held out as a test set (0 for none).
    #[arg(long, default_value_t = 0.0, conflicts_with = "test")]
    pub test_fraction: f64,
    /// Stop when the validation loss has not improved for this many epochs
    /// (the best weights are kept).
    #[arg(long)]
    pub patience: Option<usize>,
    /// Seed of the initial weights, the splits and the shuffles.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Threads (results do not depend on it).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Data type of the parameters.
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    pub dtype: Dtype,
    /// Input (and regression target) scaling, fitted on the training rows.
    #[arg(long, value_enum, default_value_t = ScaleArg::Standard)]
    pub scale: ScaleArg,
    /// Where to write the model.
    #[arg(long, default_value = "model.safetensors")]
    pub out: PathBuf,
    /// Write the history (epoch, losses, metrics, learning rate, seconds) as
    /// CSV; the wall-clock seconds are all that differs between two runs
    /// with the same seed.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Draw the loss curves as SVG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Save everything needed to continue the run here (parameters,
    /// optimizer state, position, random state, history), atomically; also
    /// on Ctrl-C.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Epochs between checkpoints.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_every: u64,
    /// Continue the run saved in this checkpoint, with the arguments it was
    /// started with (any given here override them, and must not change
    /// the run). Ends with the same parameters, bit for bit, as a run never
    /// stopped.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// On a non-finite loss or gradient: stop and fail, writing the last
    /// finite parameters beside `--out` (`model.diverged.safetensors`; `--out`
    /// is left as it was), or back off (restore them, halve the learning rate,
    /// retry).
    #[arg(long, value_enum, default_value_t = OnDivergenceArg::Stop)]
    pub on_divergence: OnDivergenceArg,
    /// The most back-offs in a run before stopping.
    #[arg(long, default_value_t = 5)]
    pub max_backoffs: usize,
    /// Rows per chunk of a batch; sums add whole chunks in order, so this
    /// is part of the result (at the rounding level). A mini-batch of fewer
    /// rows is cut in two halves of at least 64 rows each, for two threads.
    #[arg(long, default_value_t = mlp::optim::CHUNK_ROWS)]
    pub chunk_rows: usize,
    /// Train as one rank of an MPI job (`mpirun -n K mlp train ... --distributed`);
    /// needs a build with the `mpi` feature.
    #[arg(long)]
    pub distributed: bool,
    /// How the ranks' sums combine: `fast` (one all-reduce, equal to one
    /// process to rounding) or `exact` (bitwise the single-process run, for
    /// any number of ranks).
    #[arg(long, value_enum, default_value_t = ReductionArg::Fast)]
    pub reduction: ReductionArg,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model file.
    pub model: PathBuf,
    /// For a PyTorch state_dict without mlp metadata: one activation per
    /// layer (inputs are then the data's columns in order).
    #[arg(long, value_delimiter = ',')]
    pub activations: Vec<String>,
    #[command(flatten)]
    pub input: DataArgs,
    /// Write the predictions here (CSV) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The model file.
    pub model: PathBuf,
    /// For a PyTorch state_dict without mlp metadata: one activation per
    /// layer (inputs are then the data's columns in order).
    #[arg(long, value_delimiter = ',')]
    pub activations: Vec<String>,
    #[command(flatten)]
    pub input: DataArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The model file.
    pub model: PathBuf,
    /// For a PyTorch state_dict without mlp metadata: one activation per layer.
    #[arg(long, value_delimiter = ',')]
    pub activations: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Widths n_0..n_L, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub widths: Vec<usize>,
    /// One activation per layer (the first acts on the raw input).
    #[arg(long, value_delimiter = ',', required = true)]
    pub activations: Vec<String>,
    /// Weight initialisation.
    #[arg(long, value_enum, default_value_t = InitArg::XavierUniform)]
    pub init: InitArg,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Data type.
    #[arg(long, value_enum, default_value_t = Dtype::F64)]
    pub dtype: Dtype,
    /// Where to write the model.
    #[arg(long, required = true)]
    pub out: PathBuf,
}

/// Weight initialisation schemes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitArg {
    /// Glorot uniform.
    XavierUniform,
    /// Glorot normal.
    XavierNormal,
    /// He uniform.
    HeUniform,
    /// He normal.
    HeNormal,
    /// LeCun normal.
    LecunNormal,
}

/// A model, data with targets, and a loss: shared by gradient and gradcheck.
#[derive(Debug, Args)]
pub struct LossArgs {
    /// The model file.
    pub model: PathBuf,
    #[command(flatten)]
    pub input: DataArgs,
    /// Target columns (default: the model's).
    #[arg(long, value_delimiter = ',')]
    pub target: Vec<String>,
    /// Loss (default: sse).
    #[arg(long, default_value = "sse")]
    pub loss: String,
}

#[derive(Debug, Args)]
pub struct GradientArgs {
    #[command(flatten)]
    pub common: LossArgs,
    /// Where to write the gradient (safetensors, the model's tensor names).
    #[arg(long, required = true)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct GradcheckArgs {
    #[command(flatten)]
    pub common: LossArgs,
    /// Largest relative error accepted (default 1e-6 for f64 models, 1e-3 for f32).
    #[arg(long)]
    pub tolerance: Option<f64>,
}

#[derive(Debug, Args)]
pub struct JacobianArgs {
    /// The model file.
    pub model: PathBuf,
    /// For a PyTorch state_dict without mlp metadata: one activation per
    /// layer (inputs are then the data's columns in order).
    #[arg(long, value_delimiter = ',')]
    pub activations: Vec<String>,
    #[command(flatten)]
    pub input: DataArgs,
    /// Write here (CSV) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// What `mlp export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// ONNX (IR version 8, opset 17), for ONNX Runtime, tract and others.
    Onnx,
    /// One C99 file: the weights and int mlp_predict(const double *, double *).
    C,
    /// One Rust file, no_std-compatible: the weights and predict().
    Rust,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The model file.
    pub model: PathBuf,
    /// For a PyTorch state_dict without mlp metadata: one activation per layer.
    #[arg(long, value_delimiter = ',')]
    pub activations: Vec<String>,
    /// The format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Where to write it.
    #[arg(long)]
    pub out: PathBuf,
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
