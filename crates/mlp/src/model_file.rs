//! The model file: safetensors that PyTorch opens, plus `mlp`'s metadata.
//!
//! # Format (version 1)
//!
//! A [safetensors](https://github.com/huggingface/safetensors) file. Tensor
//! names are the `state_dict` keys of the equivalent PyTorch `nn.Sequential`,
//! whose modules are, for each layer in order, its activation (unless it is
//! the identity) and then its `Linear`: activations `identity, tanh, tanh`
//! give `0.weight`, `0.bias`, `2.weight`, `2.bias`, `4.weight`, `4.bias`.
//! Weights are `[out, in]`; every tensor is `F32` or `F64`, as trained.
//!
//! `__metadata__` holds `format` = `pt` (so `safetensors.torch` loads it) and
//! `mlp` = a JSON document, [`ModelMeta`]: the format version, widths and
//! activations, data type, task, loss, input columns with their encoders,
//! target names, class labels, scalers and a training summary.
//!
//! A file without `mlp` metadata (a PyTorch `state_dict` saved with
//! `safetensors.torch.save_file`) loads through [`load_state_dict`] given
//! the activations; the key prefixes `module.` (`DataParallel`) and
//! `_orig_mod.` (`torch.compile`) are accepted.
//!
//! Writes are atomic: a temporary file beside the target, flushed to disk,
//! then renamed over it, so an existing file is never left half-written.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::data::scaling::Scaler;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::loss::Loss;
use crate::network::{Network, Params};

/// The newest format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// What the model predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Real-valued targets.
    Regress,
    /// Class labels.
    Classify,
}

/// How one input column of the data becomes network inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputColumn {
    /// A number, one network input.
    Numeric {
        /// The column's name.
        name: String,
    },
    /// A string category, one-hot encoded: one network input per category.
    Categorical {
        /// The column's name.
        name: String,
        /// The categories seen in training, in input order.
        categories: Vec<String>,
    },
}

impl InputColumn {
    /// The column's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Numeric { name } | Self::Categorical { name, .. } => name,
        }
    }

    /// The names of the column's network inputs: its own name, or
    /// `name=category` for each category of a one-hot column.
    pub fn input_names(&self) -> Vec<String> {
        match self {
            Self::Numeric { name } => vec![name.clone()],
            Self::Categorical { name, categories } => {
                categories.iter().map(|c| format!("{name}={c}")).collect()
            }
        }
    }

    /// How many network inputs the column becomes.
    pub fn width(&self) -> usize {
        match self {
            Self::Numeric { .. } => 1,
            Self::Categorical { categories, .. } => categories.len(),
        }
    }
}

/// How the model was trained, for `mlp inspect`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TrainingSummary {
    /// The solver's name.
    pub solver: String,
    /// Epochs run.
    pub epochs: usize,
    /// Why training stopped, in words.
    pub stop_reason: String,
    /// Final training loss (non-finite values survive the JSON).
    #[serde(with = "crate::serde_float")]
    pub train_loss: f64,
    /// Final validation loss, if any.
    #[serde(with = "crate::serde_float::option")]
    pub validation_loss: Option<f64>,
    /// The seed.
    pub seed: u64,
    /// Training rows.
    pub rows: usize,
    /// Seconds spent: only in older files. `mlp` no longer writes it, so
    /// that the same seed gives the same file, byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

/// Everything about a model besides its parameters: the `mlp` metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// The format version ([`FORMAT_VERSION`] when written by this build).
    pub format_version: u32,
    /// Widths `n_0..n_L`.
    pub widths: Vec<usize>,
    /// One activation per layer.
    pub activations: Vec<Activation>,
    /// `"f32"` or `"f64"`.
    pub dtype: String,
    /// Regression or classification.
    pub task: Task,
    /// The training loss.
    pub loss: Loss,
    /// The data columns the inputs come from, in order.
    #[serde(default)]
    pub inputs: Vec<InputColumn>,
    /// The target columns' names (one per output for regression).
    #[serde(default)]
    pub targets: Vec<String>,
    /// Class labels, by output index (classification).
    #[serde(default)]
    pub class_labels: Vec<String>,
    /// Scaling of the encoded inputs.
    #[serde(default)]
    pub input_scaler: Option<Scaler>,
    /// Scaling of the targets (regression).
    #[serde(default)]
    pub target_scaler: Option<Scaler>,
    /// How it was trained.
    #[serde(default)]
    pub training: Option<TrainingSummary>,
}

impl ModelMeta {
    /// Checks that the metadata describes its network consistently: input
    /// columns, scalers, targets and class labels of the right widths.
    ///
    /// # Errors
    /// A description of the first inconsistency.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let (Some(&inputs), Some(&outputs)) = (self.widths.first(), self.widths.last()) else {
            return Err("no widths".into());
        };
        let encoded: usize = self.inputs.iter().map(InputColumn::width).sum();
        if !self.inputs.is_empty() && encoded != inputs {
            return Err(format!("input columns give {encoded} inputs, the network takes {inputs}"));
        }
        for (what, scaler, width) in
            [("input", &self.input_scaler, inputs), ("target", &self.target_scaler, outputs)]
        {
            if let Some(s) = scaler {
                let ok = s.offset.len() == width
                    && s.spread.len() == width
                    && s.offset.iter().all(|v| v.is_finite())
                    && s.spread.iter().all(|v| v.is_finite() && *v > 0.0);
                if !ok {
                    return Err(format!(
                        "{what} scaler does not fit {width} columns with finite, positive spreads"
                    ));
                }
            }
        }
        match self.task {
            Task::Classify => {
                let classes = if outputs == 1 { 2 } else { outputs };
                if self.class_labels.len() != classes || self.targets.len() != 1 {
                    return Err(format!(
                        "a classifier with {outputs} outputs needs {classes} class labels and 1 target, has {} and {}",
                        self.class_labels.len(),
                        self.targets.len()
                    ));
                }
            }
            Task::Regress if self.targets.len() != outputs => {
                return Err(format!("{} target names for {outputs} outputs", self.targets.len()));
            }
            Task::Regress => {}
        }
        Ok(())
    }

    /// Metadata for a bare network: numeric inputs `x0, x1, …`, no scalers;
    /// for a least-squares loss regression with targets `y0, …`, else
    /// classification of one target `y` into classes `0, 1, …` (two for a
    /// single output).
    pub fn bare<F: Float>(network: &Network, loss: Loss) -> Self {
        let outputs = network.outputs();
        let classify = !loss.is_least_squares();
        let classes = if outputs == 1 { 2 } else { outputs };
        Self {
            format_version: FORMAT_VERSION,
            widths: network.widths().to_vec(),
            activations: network.activations().to_vec(),
            dtype: F::NAME.into(),
            task: if classify { Task::Classify } else { Task::Regress },
            loss,
            inputs: (0..network.inputs())
                .map(|k| InputColumn::Numeric { name: format!("x{k}") })
                .collect(),
            targets: if classify {
                vec!["y".into()]
            } else {
                (0..outputs).map(|k| format!("y{k}")).collect()
            },
            class_labels: if classify {
                (0..classes).map(|c| c.to_string()).collect()
            } else {
                Vec::new()
            },
            input_scaler: None,
            target_scaler: None,
            training: None,
        }
    }
}

/// A network, its parameters and its metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Model<F> {
    /// The architecture.
    pub network: Network,
    /// The parameters.
    pub params: Params<F>,
    /// Everything else.
    pub meta: ModelMeta,
}

/// A model in whichever float type its file holds.
#[derive(Clone, Debug, PartialEq)]
pub enum AnyModel {
    /// `F32` tensors.
    F32(Model<f32>),
    /// `F64` tensors.
    F64(Model<f64>),
}

impl AnyModel {
    /// The metadata.
    pub fn meta(&self) -> &ModelMeta {
        match self {
            Self::F32(m) => &m.meta,
            Self::F64(m) => &m.meta,
        }
    }

    /// The architecture.
    pub fn network(&self) -> &Network {
        match self {
            Self::F32(m) => &m.network,
            Self::F64(m) => &m.network,
        }
    }
}

/// The `state_dict` key prefix (module index) of each layer's `Linear`.
pub fn linear_indices(activations: &[Activation]) -> Vec<usize> {
    let mut index = 0;
    activations
        .iter()
        .map(|a| {
            if *a != Activation::Identity {
                index += 1;
            }
            let linear = index;
            index += 1;
            linear
        })
        .collect()
}

pub(crate) trait FileFloat: Float {
    const DTYPE: Dtype;
    fn to_le(v: &[Self]) -> Vec<u8>;
    fn from_le(bytes: &[u8]) -> Vec<Self>;
}

impl FileFloat for f32 {
    const DTYPE: Dtype = Dtype::F32;
    fn to_le(v: &[Self]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
    fn from_le(bytes: &[u8]) -> Vec<Self> {
        bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect()
    }
}

impl FileFloat for f64 {
    const DTYPE: Dtype = Dtype::F64;
    fn to_le(v: &[Self]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
    fn from_le(bytes: &[u8]) -> Vec<Self> {
        bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
    }
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::ModelFile { path: path.to_path_buf(), reason: reason.into() }
}

/// Bytes that safetensors refuses; `torch.save`'s zip archives (`PK`) said so.
fn not_safetensors(path: &Path, bytes: &[u8], e: &impl std::fmt::Display) -> Error {
    if bytes.starts_with(b"PK\x03\x04") {
        return bad(
            path,
            "a zip archive (a torch.save file?), not safetensors: save the state_dict with \
             safetensors.torch.save_file",
        );
    }
    bad(path, format!("not a safetensors file: {e}"))
}

/// The file's bytes for a model.
///
/// # Errors
/// [`Error::ModelFile`] (naming `<memory>`) for a model that [`load`] would refuse.
pub fn to_bytes(model: &AnyModel) -> Result<Vec<u8>> {
    encode_any(model, false)
}

fn encode_any(model: &AnyModel, gradient: bool) -> Result<Vec<u8>> {
    match model {
        AnyModel::F32(m) => encode(m, gradient),
        AnyModel::F64(m) => encode(m, gradient),
    }
}

/// Encodes and writes atomically; encoding errors name `path`.
fn write_model(path: &Path, model: &AnyModel, gradient: bool) -> Result<()> {
    let bytes = encode_any(model, gradient).map_err(|e| match e {
        Error::ModelFile { reason, .. } => Error::ModelFile { path: path.to_path_buf(), reason },
        e => e,
    })?;
    write_atomic(path, &bytes)
}

/// The metadata key that marks a file of `dS/dV` in a model's layout.
pub const GRADIENT_KEY: &str = "mlp_gradient";

/// Writes `gradient`, a model whose parameters are `dS/dV`, as [`save`]
/// would, marked with [`GRADIENT_KEY`] so that [`load`] refuses it as a
/// model; its tensors keep the model's names, for PyTorch.
///
/// # Errors
/// As [`save`].
pub fn save_gradient(path: &Path, gradient: &AnyModel) -> Result<()> {
    write_model(path, gradient, true)
}

fn encode<F: FileFloat>(model: &Model<F>, gradient: bool) -> Result<Vec<u8>> {
    let net = &model.network;
    let mut meta = model.meta.clone();
    meta.format_version = FORMAT_VERSION;
    meta.widths = net.widths().to_vec();
    meta.activations = net.activations().to_vec();
    meta.dtype = F::NAME.into();
    // What `load` would refuse is not written.
    let unfit = |reason: String| bad(Path::new("<memory>"), reason);
    if model.params.network() != net {
        return Err(unfit(format!(
            "the parameters are for {}, the network is {}",
            model.params.network().describe(),
            net.describe()
        )));
    }
    meta.validate().map_err(unfit)?;
    let json =
        serde_json::to_string(&meta).map_err(|e| bad(Path::new("<memory>"), e.to_string()))?;
    let mut tensors = Vec::new();
    let mut buffers = Vec::new();
    for (i, linear) in linear_indices(net.activations()).into_iter().enumerate() {
        let layer = model.params.layer(i);
        buffers.push((
            format!("{linear}.weight"),
            vec![layer.outputs, layer.inputs],
            F::to_le(layer.weight),
        ));
        buffers.push((format!("{linear}.bias"), vec![layer.outputs], F::to_le(layer.bias)));
    }
    for (name, shape, data) in &buffers {
        let view = TensorView::new(F::DTYPE, shape.clone(), data).expect("shape matches data");
        tensors.push((name.clone(), view));
    }
    let mut info =
        HashMap::from([("format".to_string(), "pt".to_string()), ("mlp".to_string(), json)]);
    if gradient {
        info.insert(GRADIENT_KEY.into(), "the gradient dS/dV, in the layout of the model".into());
    }
    let bytes = safetensors::serialize(tensors, Some(info))
        .map_err(|e| bad(Path::new("<memory>"), e.to_string()))?;
    Ok(sorted_header(&bytes))
}

/// A JSON value with every object's keys in sorted order. Built by sorted
/// insertion, because `serde_json`'s map keeps insertion order when any crate
/// in the build enables its `preserve_order` feature.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        other => other,
    }
}

/// The same file with its JSON header's keys in sorted order (safetensors
/// writes `__metadata__` from a hash map), so that equal models give equal
/// bytes. Tensor offsets are relative to the data, so only the length
/// prefix and the padding change.
pub(crate) fn sorted_header(bytes: &[u8]) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8-byte length")) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + n]).expect("safetensors wrote valid JSON");
    let mut text = serde_json::to_vec(&sorted(header)).expect("a JSON value serialises");
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + bytes.len() - 8 - n);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

/// Writes `model` to `path` atomically: a temporary file in the same folder,
/// flushed to disk, then renamed over `path`. On error `path` is untouched.
///
/// # Errors
/// [`Error::Io`] naming the path; [`Error::ModelFile`] for a model that
/// [`load`] would refuse (parameters of another network, metadata that
/// does not fit it).
pub fn save(path: &Path, model: &AnyModel) -> Result<()> {
    write_model(path, model, false)
}

/// Writes `bytes` to `path` atomically (see [`save`]).
///
/// # Errors
/// [`Error::Io`] naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| io(std::io::Error::other("not a file name")))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable where the platform allows it.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Reads a model file written by `mlp`.
///
/// # Errors
/// [`Error::Io`] if it cannot be read; [`Error::ModelFile`] if it is not a
/// valid model file (corrupt, truncated, no `mlp` metadata, tensors that do
/// not fit the metadata); [`Error::ModelVersion`] if it is newer than this build.
pub fn load(path: &Path) -> Result<AnyModel> {
    let bytes = read(path)?;
    from_bytes(path, &bytes)
}

/// Parses a model file's bytes; `path` is only used in messages.
///
/// # Errors
/// As [`load`].
pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<AnyModel> {
    parse(path, bytes, false)
}

/// A file's bytes; an I/O error names the path.
fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// Reads a file written by [`save_gradient`]: `dS/dV` as the parameters of
/// the model it was taken at.
///
/// # Errors
/// As [`load`], and [`Error::ModelFile`] for a file that is not a gradient.
pub fn load_gradient(path: &Path) -> Result<AnyModel> {
    parse(path, &read(path)?, true)
}

fn parse(path: &Path, bytes: &[u8], gradient: bool) -> Result<AnyModel> {
    let (_, metadata) =
        SafeTensors::read_metadata(bytes).map_err(|e| not_safetensors(path, bytes, &e))?;
    let meta = metadata.metadata().as_ref();
    match (gradient, meta.is_some_and(|m| m.contains_key(GRADIENT_KEY))) {
        (false, true) => return Err(bad(path, "a gradient written by mlp gradient, not a model")),
        (true, false) => return Err(bad(path, "not a gradient written by mlp gradient")),
        _ => {}
    }
    if meta.is_some_and(|m| m.contains_key(crate::checkpoint::KEY)) {
        return Err(bad(
            path,
            "a training checkpoint, not a model file (resume it, or load the model the run wrote)",
        ));
    }
    let json = meta.and_then(|m| m.get("mlp")).ok_or_else(|| {
        bad(path, "no mlp metadata (a PyTorch state_dict? give its activations to load it)")
    })?;
    let version: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| bad(path, format!("mlp metadata is not JSON: {e}")))?;
    let found = version.get("format_version").and_then(serde_json::Value::as_u64).unwrap_or(0);
    if found > u64::from(FORMAT_VERSION) {
        return Err(Error::ModelVersion {
            path: path.to_path_buf(),
            found,
            supported: FORMAT_VERSION,
        });
    }
    let meta: ModelMeta =
        serde_json::from_value(version).map_err(|e| bad(path, format!("mlp metadata: {e}")))?;
    meta.validate().map_err(|e| bad(path, format!("mlp metadata: {e}")))?;
    let network =
        Network::new(&meta.widths, &meta.activations).map_err(|e| bad(path, e.to_string()))?;
    let mut model = decode(path, bytes, network, &meta.activations)?;
    match &mut model {
        AnyModel::F32(m) => m.meta = meta,
        AnyModel::F64(m) => m.meta = meta,
    }
    Ok(model)
}

/// Reads a PyTorch `nn.Sequential` `state_dict` saved as safetensors (no
/// `mlp` metadata needed), given one activation per `Linear` layer (the
/// first applied to the raw input, usually `identity`). Widths come from the
/// weight shapes; the metadata is [`ModelMeta::bare`] with `loss`.
///
/// # Errors
/// As [`load`], and [`Error::ModelFile`] if the keys are not those of such
/// a `Sequential` with these activations.
pub fn load_state_dict(path: &Path, activations: &[Activation], loss: Loss) -> Result<AnyModel> {
    let bytes = read(path)?;
    let tensors =
        SafeTensors::deserialize(&bytes).map_err(|e| not_safetensors(path, &bytes, &e))?;
    let names = tensor_map(&tensors);
    let mut widths = Vec::new();
    for (i, linear) in linear_indices(activations).into_iter().enumerate() {
        let key = format!("{linear}.weight");
        let view = names.get(key.as_str()).ok_or_else(|| {
            bad(
                path,
                format!("no tensor {key} for layer {i} (activations {})", describe(activations)),
            )
        })?;
        let [out, inp] = view.shape() else {
            return Err(bad(path, format!("{key} has shape {:?}, not [out, in]", view.shape())));
        };
        if i == 0 {
            widths.push(*inp);
        }
        widths.push(*out);
    }
    let network = Network::new(&widths, activations).map_err(|e| bad(path, e.to_string()))?;
    let mut model = decode(path, &bytes, network, activations)?;
    match &mut model {
        AnyModel::F32(m) => m.meta = ModelMeta::bare::<f32>(&m.network, loss),
        AnyModel::F64(m) => m.meta = ModelMeta::bare::<f64>(&m.network, loss),
    }
    Ok(model)
}

fn describe(activations: &[Activation]) -> String {
    activations.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// Tensors by name, with `module.` and `_orig_mod.` prefixes removed.
fn tensor_map<'a>(tensors: &'a SafeTensors<'a>) -> HashMap<String, TensorView<'a>> {
    tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let mut key = name.as_str();
            while let Some(rest) =
                key.strip_prefix("module.").or_else(|| key.strip_prefix("_orig_mod."))
            {
                key = rest;
            }
            (key.to_string(), view)
        })
        .collect()
}

fn decode(
    path: &Path,
    bytes: &[u8],
    network: Network,
    activations: &[Activation],
) -> Result<AnyModel> {
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(path, format!("corrupt safetensors data: {e}")))?;
    let names = tensor_map(&tensors);
    let dtypes: Vec<Dtype> = names.values().map(TensorView::dtype).collect();
    let dtype = dtypes.first().copied().ok_or_else(|| bad(path, "no tensors"))?;
    if dtypes.iter().any(|d| *d != dtype) {
        return Err(bad(path, "tensors of different dtypes"));
    }
    let expected = 2 * network.depth();
    if names.len() != expected {
        let mut keys: Vec<&String> = names.keys().collect();
        keys.sort();
        return Err(bad(
            path,
            format!("expected {expected} tensors, found {}: {keys:?}", names.len()),
        ));
    }
    match dtype {
        Dtype::F32 => Ok(AnyModel::F32(fill::<f32>(path, &names, network, activations)?)),
        Dtype::F64 => Ok(AnyModel::F64(fill::<f64>(path, &names, network, activations)?)),
        other => Err(bad(path, format!("tensors are {other:?}; mlp reads F32 and F64"))),
    }
}

fn fill<F: FileFloat>(
    path: &Path,
    names: &HashMap<String, TensorView<'_>>,
    network: Network,
    activations: &[Activation],
) -> Result<Model<F>> {
    // Every tensor's shape is checked before anything is allocated: the
    // file's own (validated) sizes then bound the allocation.
    let linears = linear_indices(activations);
    for (i, &linear) in linears.iter().enumerate() {
        let (outputs, inputs) = (network.widths()[i + 1], network.widths()[i]);
        for (kind, shape) in [("weight", vec![outputs, inputs]), ("bias", vec![outputs])] {
            let key = format!("{linear}.{kind}");
            let view = names
                .get(&key)
                .ok_or_else(|| bad(path, format!("missing tensor {key} (layer {i})")))?;
            if view.shape() != shape.as_slice() {
                return Err(bad(
                    path,
                    format!("{key} has shape {:?}, expected {shape:?} (layer {i})", view.shape()),
                ));
            }
        }
    }
    let mut params = Params::<F>::zeros(&network);
    for (i, linear) in linears.into_iter().enumerate() {
        let layer = params.layer_mut(i);
        for (kind, target) in [("weight", layer.weight), ("bias", layer.bias)] {
            target.copy_from_slice(&F::from_le(names[&format!("{linear}.{kind}")].data()));
        }
    }
    let meta = ModelMeta::bare::<F>(&network, Loss::MeanSquared);
    Ok(Model { network, params, meta })
}
