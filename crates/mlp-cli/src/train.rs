//! `mlp train`: data → encoding → splits → scalers → network → train → save.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use mlp::data::encoding::Encoding;
use mlp::data::scaling::{ScaleKind, Scaler};
use mlp::distributed::{Group, Reduction};
use mlp::metrics::Metrics;
use mlp::model_file::{
    self, AnyModel, FORMAT_VERSION, InputColumn, Model, ModelMeta, Task, TrainingSummary,
};
use mlp::optim::{AdamConfig, GradientDescentConfig, Momentum, SgdConfig};
use mlp::{
    Dataset, EarlyStopping, Float, Init, Loss, Network, OnDivergence, OptimizerConfig, Params,
    TargetData, TrainConfig, TrainStop, Validation,
};

use crate::cli::{Dtype, OnDivergenceArg, ReductionArg, ScaleArg, TaskArg, TrainArgs};
use crate::common::{Num, duration, parse_activation, parse_loss, read_table};
use crate::distributed::Cluster;
use crate::session::{CliHooks, Signals, stored_args};
use crate::{plot, progress};

/// Seeds of the test split, apart from the validation split's.
const TEST_STREAM: u64 = 0x7465_7374;

/// `argv` is the whole command line, after `--resume` put the
/// checkpoint's arguments in (see [`crate::session::expand_resume`]).
/// `cluster` is the MPI job of a `--distributed` run.
pub fn run(args: &TrainArgs, argv: &[OsString], cluster: Option<&Cluster>) -> Result<ExitCode> {
    if args.distributed && cluster.is_none() {
        bail!("--distributed must be on the command line itself (under mpirun)");
    }
    if let Some(f) = args.val_fraction {
        check_fraction("--val-fraction", f)?;
    }
    check_fraction("--test-fraction", args.test_fraction)?;
    // Only rank 0 writes.
    if cluster.is_none_or(|c| c.rank() == 0) {
        check_output_folders(args)?;
    }
    let options = crate::common::csv_options(&args.input)?;
    let hidden = parse_activation(&args.activation)?;
    let first = parse_activation(&args.input_activation)?;
    let table = read_table(&args.input)?;
    let bundled = args
        .input
        .dataset
        .as_ref()
        .and_then(|n| mlp::data::bundled::BUNDLED.iter().find(|b| b.name == n));
    let keys: Vec<String> = match (&args.target[..], bundled) {
        ([], Some(b)) => vec![b.target.to_string()],
        ([], None) => {
            bail!("--target is required: name the target column(s), by name or 0-based index")
        }
        (keys, _) => keys.to_vec(),
    };
    let targets: Vec<usize> =
        keys.iter().map(|k| table.column_index(k)).collect::<mlp::Result<_>>()?;
    if let Some(k) = (1..targets.len()).find(|&k| targets[..k].contains(&targets[k])) {
        bail!("--target names column {:?} twice", table.names[targets[k]]);
    }
    let task = args
        .task
        .map(|t| if t == TaskArg::Classify { Task::Classify } else { Task::Regress })
        .or(bundled.filter(|_| args.target.is_empty()).map(|b| b.task));
    let encoding = Encoding::fit(&table, &targets, task)?;
    let loss = match &args.loss {
        Some(name) => parse_loss(name)?,
        None if encoding.task == Task::Classify => Loss::SoftmaxCrossEntropy,
        None => Loss::MeanSquared,
    };
    let classes = encoding.class_labels.len();
    if loss == Loss::SigmoidCrossEntropy && encoding.task == Task::Classify && classes != 2 {
        bail!(
            "--loss binary_cross_entropy needs 2 classes, the target has {classes}; use cross_entropy"
        );
    }
    if loss == Loss::SigmoidCrossEntropy && encoding.task == Task::Regress {
        check_probabilities(&table, &targets)?;
    }
    let all = encoding.dataset(&table)?;
    let (rest, test) = match (&args.test, args.test_fraction) {
        (Some(path), _) => {
            (all, Some(encoding.dataset(&mlp::data::csv::Table::read(path, options)?)?))
        }
        (None, f) if f > 0.0 => {
            let (a, b) = mlp::split(&all, f, args.seed ^ TEST_STREAM)?;
            (a, Some(b))
        }
        _ => (all, None),
    };
    // Without --val-fraction, small data sets are not split: a tenth of
    // fewer than 20 rows would leave a validation set of one row or none.
    let val_fraction = args.val_fraction.unwrap_or(if rest.rows() >= 20 { 0.1 } else { 0.0 });
    let (train, validation) = match (&args.val, val_fraction) {
        (Some(path), _) => {
            (rest, Some(encoding.dataset(&mlp::data::csv::Table::read(path, options)?)?))
        }
        (None, f) if f > 0.0 => {
            let (a, b) = mlp::split(&rest, f, args.seed)?;
            (a, Some(b))
        }
        _ => (rest, None),
    };
    if args.patience.is_some() && validation.is_none() {
        bail!("--patience needs validation rows: give --val FILE, or a --val-fraction above 0");
    }
    let kind = match args.scale {
        ScaleArg::Standard => ScaleKind::Standard,
        ScaleArg::Minmax => ScaleKind::MinMax,
        ScaleArg::None => ScaleKind::None,
    };
    let input_names: Vec<String> =
        encoding.inputs.iter().flat_map(InputColumn::input_names).collect();
    let fit = |rows: &[f64], width: usize, names: &[String]| {
        Scaler::fit(kind, rows, width).map_err(|err| match err {
            mlp::Error::Scaling { column, reason } => anyhow!(
                "{}: column {:?}: {reason}; divide it by a power of ten first",
                table.source.display(),
                names[column]
            ),
            err => err.into(),
        })
    };
    let input_scaler = fit(train.inputs(), train.input_width(), &input_names)?;
    // Only least-squares targets are scaled: the cross-entropies need their
    // 0/1 targets as they are.
    let target_scaler = match train.target_data() {
        TargetData::Values { values, width } if loss.is_least_squares() => {
            fit(values, *width, &encoding.targets)?
        }
        _ => None,
    };
    let scale = |d: &Dataset<f64>| scaled(d, input_scaler.as_ref(), target_scaler.as_ref());
    let (train, validation, test) = (
        scale(&train)?,
        validation.as_ref().map(scale).transpose()?,
        test.as_ref().map(scale).transpose()?,
    );

    let mut widths = vec![encoding.input_width()];
    widths.extend(&args.hidden);
    let binary = loss == Loss::SigmoidCrossEntropy && encoding.task == Task::Classify;
    widths.push(if binary { 1 } else { encoding.output_width() });
    let mut activations = vec![hidden; widths.len() - 1];
    activations[0] = first;
    let network = Network::new(&widths, &activations)?;
    let (optimizer, weight_decay) = optimizer(args)?;
    let config = TrainConfig {
        loss,
        optimizer,
        max_epochs: args.epochs,
        batch_size: args.batch_size,
        validation: Validation::None,
        early_stopping: args.patience.map(|patience| EarlyStopping { patience, min_delta: 0.0 }),
        weight_decay,
        seed: args.seed,
        threads: args.threads,
        chunk_rows: args.chunk_rows,
        on_divergence: match args.on_divergence {
            OnDivergenceArg::Stop => OnDivergence::Stop,
            OnDivergenceArg::Backoff => OnDivergence::Backoff { max_backoffs: args.max_backoffs },
        },
        ..TrainConfig::default()
    };
    config.validate().map_err(crate::common::in_flags)?;
    let meta = ModelMeta {
        format_version: FORMAT_VERSION,
        widths: widths.clone(),
        activations: activations.clone(),
        dtype: String::new(),
        task: encoding.task,
        loss,
        inputs: encoding.inputs.clone(),
        targets: encoding.targets.clone(),
        class_labels: encoding.class_labels.clone(),
        input_scaler,
        target_scaler,
        training: None,
    };
    let sets = Sets { train: &train, validation: validation.as_ref(), test: test.as_ref() };
    let job = Job { args, argv, config: &config, sets: &sets, cluster };
    match args.dtype {
        Dtype::F32 => train_typed::<f32>(&job, network, meta, AnyModel::F32),
        Dtype::F64 => train_typed::<f64>(&job, network, meta, AnyModel::F64),
    }
}

/// What `train_typed` needs besides the network and the metadata.
struct Job<'a> {
    args: &'a TrainArgs,
    argv: &'a [OsString],
    config: &'a TrainConfig,
    sets: &'a Sets<'a>,
    cluster: Option<&'a Cluster>,
}

struct Sets<'a> {
    train: &'a Dataset<f64>,
    validation: Option<&'a Dataset<f64>>,
    test: Option<&'a Dataset<f64>>,
}

fn check_fraction(flag: &str, f: f64) -> Result<()> {
    if !(0.0..1.0).contains(&f) {
        bail!("{flag} must be in [0, 1), got {f}");
    }
    Ok(())
}

/// Fails before training if an output's folder does not exist, if an output
/// is a folder, or if it would overwrite an input or another output.
fn check_output_folders(args: &TrainArgs) -> Result<()> {
    fn flagged<'a>(pairs: &[(&'static str, Option<&'a PathBuf>)]) -> Vec<(&'static str, &'a Path)> {
        pairs.iter().filter_map(|&(f, p)| Some((f, p?.as_path()))).collect()
    }
    let written = [
        ("--out", Some(&args.out)),
        ("--history", args.history.as_ref()),
        ("--plot", args.plot.as_ref()),
        ("--checkpoint", args.checkpoint.as_ref()),
    ];
    let read = [
        ("the data file", args.input.data.as_ref()),
        ("--val", args.val.as_ref()),
        ("--test", args.test.as_ref()),
    ];
    crate::common::distinct_files(&flagged(&written), &flagged(&read))?;
    // A run resumed from its checkpoint goes on writing to it.
    let resumed = flagged(&[("--resume", args.resume.as_ref())]);
    crate::common::distinct_files(&flagged(&written[..3]), &resumed)?;
    let outputs =
        [Some(&args.out), args.history.as_ref(), args.plot.as_ref(), args.checkpoint.as_ref()];
    for path in outputs.into_iter().flatten() {
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if !folder.is_dir() {
            bail!("{}: the folder {} does not exist", path.display(), folder.display());
        }
        if path.is_dir() {
            bail!("{}: is a folder; name a file", path.display());
        }
    }
    Ok(())
}

/// Binary cross-entropy on numeric targets needs each in `[0, 1]`: the
/// first that is not, by file, line and column.
fn check_probabilities(table: &mlp::data::csv::Table, targets: &[usize]) -> Result<()> {
    for &j in targets {
        if let mlp::data::csv::Column::Numeric(values) = &table.columns[j]
            && let Some(row) = values.iter().position(|v| !(0.0..=1.0).contains(v))
        {
            bail!(
                "{}:{}: column {:?}: {} is not a probability in [0, 1], \
                 as --loss binary_cross_entropy needs",
                table.source.display(),
                table.lines[row],
                table.names[j],
                values[row]
            );
        }
    }
    Ok(())
}

/// Where a diverged run writes an output: `model.safetensors` becomes
/// `model.diverged.safetensors`.
fn beside(path: &Path) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.diverged.{}", ext.to_string_lossy()),
        None => format!("{stem}.diverged"),
    };
    path.with_file_name(name)
}

fn optimizer(args: &TrainArgs) -> Result<(OptimizerConfig, f64)> {
    let mut config = OptimizerConfig::default_for(&args.solver)?;
    let mut weight_decay = args.weight_decay.unwrap_or(0.0);
    match &mut config {
        OptimizerConfig::Sgd(c) => {
            *c = SgdConfig {
                learning_rate: args.lr.unwrap_or(c.learning_rate),
                momentum: if args.momentum != 0.0 {
                    Momentum::Classic(args.momentum)
                } else {
                    Momentum::None
                },
            };
        }
        OptimizerConfig::Adam(c) => {
            *c = AdamConfig { learning_rate: args.lr.unwrap_or(c.learning_rate), ..*c }
        }
        OptimizerConfig::AdamW(c) => {
            // Decoupled decay: the flag's value, else adamw's own default.
            *c = AdamConfig {
                learning_rate: args.lr.unwrap_or(c.learning_rate),
                weight_decay: args.weight_decay.unwrap_or(c.weight_decay),
                ..*c
            };
            weight_decay = 0.0;
        }
        OptimizerConfig::GradientDescent(c) => {
            *c = GradientDescentConfig { initial_step: args.lr.unwrap_or(c.initial_step), ..*c };
        }
        _ => {}
    }
    Ok((config, weight_decay))
}

fn scaled(
    d: &Dataset<f64>,
    inputs: Option<&Scaler>,
    targets: Option<&Scaler>,
) -> Result<Dataset<f64>> {
    let mut x = d.inputs().to_vec();
    if let Some(s) = inputs {
        s.transform(&mut x);
    }
    let mut y = d.target_data().clone();
    if let (TargetData::Values { values, .. }, Some(s)) = (&mut y, targets) {
        s.transform(values);
    }
    Ok(Dataset::new(x, d.input_width(), y)?)
}

fn cast<F: Float>(d: &Dataset<f64>) -> Result<Dataset<F>> {
    let y = match d.target_data() {
        TargetData::Values { values, width } => TargetData::Values {
            values: values.iter().map(|&v| F::cast(v)).collect(),
            width: *width,
        },
        TargetData::Classes(c) => TargetData::Classes(c.clone()),
    };
    Ok(Dataset::new(d.inputs().iter().map(|&v| F::cast(v)).collect(), d.input_width(), y)?)
}

fn train_typed<F: Float>(
    job: &Job<'_>,
    network: Network,
    mut meta: ModelMeta,
    wrap: fn(Model<F>) -> AnyModel,
) -> Result<ExitCode> {
    let Job { args, argv, config, sets, cluster } = *job;
    // Other ranks of a distributed run train silently and write nothing.
    let writer = cluster.is_none_or(|c| c.rank() == 0);
    let train = cast::<F>(sets.train)?;
    let validation = sets.validation.map(cast::<F>).transpose()?;
    let init = if matches!(
        config.optimizer,
        OptimizerConfig::LevenbergMarquardt(_) | OptimizerConfig::Lbfgs(_)
    ) {
        Init::XavierUniform
    } else {
        Init::HeUniform
    };
    let mut params = Params::<F>::init(&network, init, args.seed)?;
    let resume = match &args.resume {
        Some(path) => {
            let (state, _) = mlp::checkpoint::load(path)?;
            let dtype = state.dtype();
            let state = state.into_typed::<F>().with_context(|| {
                format!(
                    "{}: the checkpoint is {dtype}, this run is {} (--dtype)",
                    path.display(),
                    F::NAME
                )
            })?;
            Some(state)
        }
        None => None,
    };
    // Installed only now: until training starts, Ctrl-C simply ends the process.
    let signals = Signals::install()?;
    let mut hooks = CliHooks {
        reporter: progress::Reporter::new(
            config.max_epochs,
            args.quiet || !writer,
            std::io::stderr().is_terminal(),
        ),
        signals: &signals,
        checkpoint: args.checkpoint.as_deref().filter(|_| writer),
        every: args.checkpoint_every,
        args: stored_args(argv),
        written: None,
    };
    let resumed = args.resume.as_ref().map(|p| (p, resume.as_ref().map_or(0, |s| s.epoch())));
    let validation = validation.as_ref();
    let report = match cluster {
        None => {
            mlp::train_with(&network, &mut params, &train, validation, config, resume, &mut hooks)
        }
        Some(c) => {
            let reduction = match args.reduction {
                ReductionArg::Fast => Reduction::Fast,
                ReductionArg::Exact => Reduction::Exact,
            };
            let group = Group { comm: c, reduction };
            let (net, p) = (&network, &mut params);
            mlp::train_distributed(net, p, &train, validation, config, resume, &mut hooks, group)
        }
    }
    .map_err(crate::common::in_flags)
    .with_context(|| match resumed {
        Some((path, epoch)) => format!("resuming {} from epoch {epoch}", path.display()),
        None => "training".into(),
    })?;
    hooks.reporter.finish();
    if !writer {
        return Ok(ExitCode::SUCCESS);
    }
    for d in report.divergences.iter().filter(|d| d.backed_off_to.is_some()) {
        eprintln!(
            "warning: diverged in {d}; restored the epoch's start and halved the learning rate (now {} times the configured one)",
            d.backed_off_to.unwrap_or(1.0)
        );
    }
    meta.dtype = F::NAME.into();
    meta.training = Some(TrainingSummary {
        solver: config.optimizer.name().into(),
        epochs: report.history.len(),
        stop_reason: report.stop_reason.to_string(),
        train_loss: report.train_loss,
        validation_loss: report.validation_loss,
        seed: args.seed,
        rows: train.rows(),
        // No wall-clock time: the same seed gives the same file, byte for byte.
        seconds: None,
    });
    let model = Model { network, params, meta };
    let diverged = report.divergences.last().filter(|d| d.backed_off_to.is_none());
    // A run that fails leaves the files it was asked for as they were, and
    // writes what it has beside them.
    let place = |path: &Path| if diverged.is_some() { beside(path) } else { path.to_path_buf() };
    // History and plot first: if one cannot be written, the model file is
    // still as it was.
    if let Some(path) = &args.history {
        model_file::write_atomic(&place(path), plot::history_csv(&report.history).as_bytes())?;
    }
    if let Some(path) = &args.plot {
        model_file::write_atomic(&place(path), plot::loss_svg(&report.history).as_bytes())?;
    }
    let saved = place(&args.out);
    model_file::save(&saved, &wrap(model.clone()))?;
    let out = args.out.display();
    if let Some(d) = diverged {
        bail!(
            "training diverged in {d}; wrote the parameters from the start of epoch {} to {} \
             and left {out} as it was (try a smaller --lr, or --on-divergence backoff)",
            d.epoch,
            saved.display()
        );
    }
    let signal = signals.received();
    if report.stop_reason == TrainStop::Interrupted || signal.is_some() {
        let (name, code) = signal.unwrap_or(("a signal", 130));
        let kept = if config.early_stopping.is_some() { "best" } else { "latest" };
        eprintln!(
            "interrupted by {name} after {} epochs: the {kept} parameters are in {out}",
            report.history.len()
        );
        match (&args.checkpoint, hooks.written) {
            (Some(c), Some((epoch, step))) => eprintln!(
                "checkpoint {} written to {}; continue with: mlp train --resume {}",
                if step > 0 {
                    format!("at step {step} of epoch {}", epoch + 1)
                } else {
                    format!("after epoch {epoch}")
                },
                c.display(),
                c.display()
            ),
            _ => eprintln!("no --checkpoint was given: the run cannot be resumed"),
        }
        return Ok(ExitCode::from(code));
    }
    if !args.quiet {
        eprintln!(
            "stopped after {} epochs in {}: {}; model written to {out}",
            report.history.len(),
            duration(report.elapsed.as_secs_f64()),
            report.stop_reason,
        );
    }
    let mut lines = String::new();
    for (name, data) in
        [("train", Some(sets.train)), ("validation", sets.validation), ("test", sets.test)]
    {
        if let Some(d) = data {
            lines.push_str(&summary_line(name, &model, d)?);
        }
    }
    crate::common::write_output(None, &lines)?;
    Ok(ExitCode::SUCCESS)
}

/// One line of metrics, in original units for regression.
pub fn summary_line<F: Float>(name: &str, model: &Model<F>, data: &Dataset<f64>) -> Result<String> {
    let (loss, metrics) = metrics(model, data)?;
    let detail = match metrics {
        Metrics::Regression(m) => {
            format!("rmse {}  mae {}  r2 {:.4}", Num(m.rmse), Num(m.mae), m.r2)
        }
        Metrics::Classification(m) => {
            format!("accuracy {:.4}  macro-f1 {:.4}", m.accuracy, m.macro_f1)
        }
        Metrics::MultiLabel { label_accuracy } => format!("label accuracy {label_accuracy:.4}"),
    };
    Ok(format!("{name:<10}  loss {}  {detail}\n", Num(loss)))
}

/// The loss (as trained: scaled units) and the metrics (original units) of a model on scaled data.
pub fn metrics<F: Float>(model: &Model<F>, data: &Dataset<f64>) -> Result<(f64, Metrics)> {
    let x: Vec<F> = data.inputs().iter().map(|&v| F::cast(v)).collect();
    let outputs: Vec<f64> =
        model.network.predict(&model.params, &x).iter().map(|v| v.as_f64()).collect();
    let width = model.network.outputs();
    let loss = model.meta.loss.value(&outputs, width, data.targets())?;
    let metrics = match (data.target_data(), &model.meta.target_scaler) {
        (TargetData::Values { values, width }, Some(s)) => {
            let (mut p, mut y) = (outputs.clone(), values.clone());
            s.inverse(&mut p);
            s.inverse(&mut y);
            Metrics::compute(model.meta.loss, &p, *width, mlp::Targets::Values(&y))?
        }
        _ => Metrics::compute(model.meta.loss, &outputs, width, data.targets())?,
    };
    Ok((loss, metrics))
}
