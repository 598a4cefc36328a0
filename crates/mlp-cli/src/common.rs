//! What the commands share: reading data, parsing names, writing outputs
//! atomically, and turning a table into a model's scaled inputs.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use mlp::data::csv::{CsvOptions, Header, Table};
use mlp::data::encoding::Encoding;
use mlp::model_file::ModelMeta;
use mlp::{Activation, Loss, TargetData};

use crate::cli::DataArgs;

/// The table named by `--dataset` or the positional file.
pub fn read_table(args: &DataArgs) -> Result<Table> {
    let options = csv_options(args)?;
    if let Some(name) = &args.dataset {
        return Ok(mlp::data::bundled::table(name)?);
    }
    let path = args.data.as_deref().expect("clap requires a file or --dataset");
    let table = Table::read(path, options)?;
    if !args.no_header && table.names.iter().all(|n| n.parse::<f64>().is_ok()) {
        eprintln!(
            "warning: {}: the header is all numbers, so it is read as column names; \
             pass --no-header if the file has none",
            path.display()
        );
    }
    Ok(table)
}

/// The CSV options of the data flags, the delimiter checked.
pub fn csv_options(args: &DataArgs) -> Result<CsvOptions> {
    let delimiter = u8::try_from(args.delimiter).ok().filter(u8::is_ascii).with_context(|| {
        format!("--delimiter {:?} is not a single ASCII character", args.delimiter)
    })?;
    let header = if args.no_header { Header::Absent } else { Header::Present };
    Ok(CsvOptions { header, delimiter })
}

/// A model file written by mlp, or with `activations` a PyTorch `state_dict`.
pub fn load_model(path: &Path, activations: &[String]) -> Result<mlp::model_file::AnyModel> {
    if activations.is_empty() {
        return Ok(mlp::model_file::load(path)?);
    }
    let acts = activations.iter().map(|a| parse_activation(a)).collect::<Result<Vec<_>>>()?;
    Ok(mlp::model_file::load_state_dict(path, &acts, Loss::MeanSquared)?)
}

pub fn parse_activation(name: &str) -> Result<Activation> {
    Ok(name.parse::<Activation>()?)
}

pub fn parse_loss(name: &str) -> Result<Loss> {
    Ok(name.parse::<Loss>()?)
}

/// Writes `text` to `path` atomically, or to stdout.
pub fn write_output(path: Option<&Path>, text: &str) -> Result<()> {
    match path {
        Some(path) => mlp::model_file::write_atomic(path, text.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}

/// The encoding a model was trained with.
pub fn encoding(meta: &ModelMeta) -> Encoding {
    Encoding {
        task: meta.task,
        inputs: meta.inputs.clone(),
        targets: meta.targets.clone(),
        class_labels: meta.class_labels.clone(),
    }
}

/// A model whose input columns the table does not name (one made by
/// `mlp init`, or imported from PyTorch) takes the table's columns in order,
/// leaving out its targets and `exclude`.
pub fn resolve_inputs(meta: &mut ModelMeta, table: &Table, exclude: &[String]) -> Result<()> {
    // Only for models whose inputs were never named: a trained model whose
    // columns are missing gets "no column ..." rather than a silent guess.
    let bare = meta.training.is_none()
        && meta.inputs.iter().enumerate().all(|(k, c)| c.name() == format!("x{k}"));
    // A table that has every placeholder name (x0, x1, ...) is read by name;
    // one that has only some of them (x1, x2, ...) by position.
    if !bare || meta.inputs.iter().all(|c| table.names.iter().any(|n| n == c.name())) {
        return Ok(());
    }
    let names: Vec<&String> =
        table.names.iter().filter(|n| !meta.targets.contains(n) && !exclude.contains(n)).collect();
    if names.len() != meta.inputs.len() || meta.inputs.iter().any(|c| c.width() != 1) {
        bail!(
            "{}: the model takes {} inputs, the data has {} input columns ({})",
            table.source.display(),
            meta.inputs.len(),
            names.len(),
            names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    meta.inputs = names
        .into_iter()
        .map(|n| mlp::model_file::InputColumn::Numeric { name: n.clone() })
        .collect();
    Ok(())
}

/// A table's rows as the model's (scaled) network inputs, `[N, n_0]`.
pub fn model_inputs(meta: &ModelMeta, table: &Table) -> Result<Vec<f64>> {
    let mut x = encoded_inputs(meta, table)?;
    if let Some(s) = &meta.input_scaler {
        s.transform(&mut x);
    }
    Ok(x)
}

/// A table's inputs encoded for a model (one-hot text columns), unscaled.
pub fn encoded_inputs(meta: &ModelMeta, table: &Table) -> Result<Vec<f64>> {
    let mut meta = meta.clone();
    resolve_inputs(&mut meta, table, &bundled_target(table))?;
    let enc = encoding(&meta);
    let x = enc.encode_inputs(table)?;
    if enc.input_width() != meta.widths[0] {
        bail!(
            "{}: the model takes {} inputs, its columns give {}",
            table.source.display(),
            meta.widths[0],
            enc.input_width()
        );
    }
    Ok(x)
}

/// A table's targets as the model sees them (regression targets scaled).
pub fn model_targets(meta: &ModelMeta, table: &Table) -> Result<TargetData<f64>> {
    let mut targets = encoding(meta).encode_targets(table)?;
    if let (TargetData::Values { values, .. }, Some(s)) = (&mut targets, &meta.target_scaler) {
        s.transform(values);
    }
    Ok(targets)
}

/// The target column of a bundled data set's table, which is never an input.
pub fn bundled_target(table: &Table) -> Vec<String> {
    mlp::data::bundled::BUNDLED
        .iter()
        .filter(|b| table.source.to_string_lossy() == format!("<dataset {}>", b.name))
        .map(|b| b.target.to_string())
        .collect()
}

/// Quotes a CSV field when needed.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A loss or metric for people: six decimals, or scientific notation where
/// that would show no digits or a hundred of them (a diverging loss).
pub struct Num(pub f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        if v == 0.0 || (1e-4..1e9).contains(&v.abs()) {
            write!(f, "{v:.6}")
        } else {
            write!(f, "{v:.6e}")
        }
    }
}

/// A run's length in seconds, for people: whole milliseconds under a
/// second (a small data set trains in a few), else seconds to a tenth.
pub fn duration(seconds: f64) -> String {
    if seconds < 1.0 { format!("{:.0} ms", seconds * 1000.0) } else { format!("{seconds:.1} s") }
}

/// A library error about a setting, told with the flag that sets it
/// (`invalid --epochs: ...` rather than `invalid max_epochs: ...`).
pub fn in_flags(err: mlp::Error) -> anyhow::Error {
    match err {
        mlp::Error::InvalidConfig { field, reason } => match flag(field) {
            Some(flag) => anyhow!("invalid {flag}: {reason}"),
            None => mlp::Error::InvalidConfig { field, reason }.into(),
        },
        mlp::Error::Resume { reason } => {
            let field = reason
                .strip_prefix("the setting ")
                .and_then(|r| r.strip_suffix(" differs from the checkpoint's"));
            match field.and_then(flag) {
                Some(flag) => anyhow!("cannot resume: {flag} differs from the checkpoint's"),
                None => mlp::Error::Resume { reason }.into(),
            }
        }
        err => err.into(),
    }
}

/// The `mlp train` flag behind a [`mlp::TrainConfig`] field.
fn flag(field: &str) -> Option<&'static str> {
    Some(match field {
        "max_epochs" => "--epochs",
        "batch_size" => "--batch-size",
        "weight_decay" | "adam.weight_decay" => "--weight-decay",
        "chunk_rows" => "--chunk-rows",
        "threads" => "--threads",
        "seed" => "--seed",
        "loss" => "--loss",
        "early_stopping" | "early_stopping.patience" => "--patience",
        "sgd.momentum" => "--momentum",
        "on_divergence" => "--on-divergence or --max-backoffs",
        "on_divergence.max_backoffs" => "--max-backoffs",
        "optimizer" => "--solver, --lr, --momentum or --weight-decay",
        "adam.learning_rate" | "sgd.learning_rate" | "gd.initial_step" => "--lr",
        _ => return None,
    })
}

/// Fails if an output would overwrite an input or another output: `mlp
/// predict m.st data.csv --out m.st` must not replace the model.
pub fn distinct_files(outputs: &[(&str, &Path)], inputs: &[(&str, &Path)]) -> Result<()> {
    for (k, (flag, out)) in outputs.iter().enumerate() {
        if let Some((other, _)) = outputs[..k].iter().chain(inputs).find(|(_, p)| same_file(p, out))
        {
            bail!("{flag} {} is also {other}: choose another file", out.display());
        }
    }
    Ok(())
}

/// Fails if the `--out` of a command that reads a model and data would
/// overwrite either.
pub fn distinct_outputs(out: Option<&Path>, model: &Path, data: &DataArgs) -> Result<()> {
    let mut inputs = vec![("the model", model)];
    inputs.extend(data.data.as_deref().map(|d| ("the data file", d)));
    distinct_files(&out.map(|o| ("--out", o)).into_iter().collect::<Vec<_>>(), &inputs)
}

/// The same path, or two paths to one existing file (through links, `./`, `..`).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
}

/// An error and its causes on one line, each said once (a library error
/// that quotes its source is not followed by the source again), without
/// the operating system's `(os error 2)`.
pub fn error_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let mut text = cause.to_string();
        while let Some(start) = text.find(" (os error ") {
            let end = text[start..].find(')').map_or(text.len(), |k| start + k + 1);
            text.replace_range(start..end, "");
        }
        if !line.contains(&text) {
            line.push_str(if line.is_empty() { "" } else { ": " });
            line.push_str(&text);
        }
    }
    line
}
