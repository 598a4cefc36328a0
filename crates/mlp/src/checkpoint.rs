//! The checkpoint file: a [`TrainState`] as safetensors, written atomically.
//!
//! # Format (version 1)
//!
//! Tensors, all of the parameters' dtype (`F32` or `F64`) except `order`:
//! `params`, `epoch_start`, `best.params` (with early stopping), the
//! optimizer's vectors as `optimizer.<name>` (and, with back-off, as they
//! were at the start of the epoch, `optimizer_start.<name>`), and `order`
//! (`U64`), the current row order of the shuffled mini-batches. Every bit of
//! every vector is kept.
//!
//! `__metadata__` holds `mlp_checkpoint` = a JSON document with the rest:
//! the version, the settings ([`TrainConfig`]), the network's widths and
//! activations, fingerprints of the training
//! and validation rows, the epoch and mini-batch reached, the generator's
//! state, early-stopping and back-off state, the optimizer's numbers (JSON
//! numbers, which `serde_json` writes and reads back exactly), the history
//! and the divergences. The caller may add entries of its own (the command
//! line keeps its arguments there).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::model_file::{FileFloat, sorted_header, write_atomic};
use crate::optim::OptimizerState;
use crate::rng::Rng;
use crate::train::{Divergence, EpochRecord, TrainConfig, TrainState, TrainStop};

/// The version this build writes and the newest it reads.
pub const CHECKPOINT_VERSION: u32 = 1;

/// The metadata key of the JSON document.
pub(crate) const KEY: &str = "mlp_checkpoint";

/// A state of either precision, as read from a file.
#[derive(Clone, Debug, PartialEq)]
pub enum AnyState {
    /// Parameters in `f32`.
    F32(TrainState<f32>),
    /// Parameters in `f64`.
    F64(TrainState<f64>),
}

impl AnyState {
    /// The state if its parameters are `F`.
    pub fn into_typed<F: Float>(self) -> Option<TrainState<F>> {
        let any: Box<dyn std::any::Any> = match self {
            Self::F32(s) => Box::new(s),
            Self::F64(s) => Box::new(s),
        };
        any.downcast().ok().map(|s| *s)
    }

    /// `f32` or `f64`.
    pub fn dtype(&self) -> &'static str {
        match self {
            Self::F32(_) => "f32",
            Self::F64(_) => "f64",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Meta {
    checkpoint_version: u32,
    dtype: String,
    config: TrainConfig,
    widths: Vec<usize>,
    activations: Vec<Activation>,
    train_fingerprint: u64,
    validation_fingerprint: Option<u64>,
    epoch: usize,
    batch: usize,
    #[serde(with = "crate::serde_float")]
    partial_loss: f64,
    #[serde(with = "crate::serde_float")]
    partial_norm: f64,
    optimizer: Numbers,
    optimizer_start: Option<Numbers>,
    shuffle: [u64; 4],
    #[serde(with = "crate::serde_float::option")]
    best_loss: Option<f64>,
    best_epoch: Option<usize>,
    since_best: usize,
    #[serde(with = "crate::serde_float")]
    rate_scale: f64,
    backoffs: usize,
    history: Vec<EpochRecord>,
    divergences: Vec<Divergence>,
    stopped: Option<TrainStop>,
    elapsed: Duration,
}

/// An optimizer state's numbers, and the names of its vectors in order.
#[derive(Serialize, Deserialize)]
struct Numbers {
    numbers: Vec<(String, f64)>,
    tensors: Vec<String>,
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::ModelFile { path: path.to_path_buf(), reason: reason.into() }
}

/// Writes `state` to `path` atomically (a temporary file, flushed, then
/// renamed), with the caller's `extra` entries in `__metadata__`.
///
/// # Errors
/// [`Error::Io`] naming the path; [`Error::ModelFile`] if an entry of
/// `extra` uses the reserved key `mlp_checkpoint`.
pub fn save<F: Float>(
    path: &Path,
    state: &TrainState<F>,
    extra: &BTreeMap<String, String>,
) -> Result<()> {
    write_atomic(path, &to_bytes(state, extra)?)
}

/// The file's bytes for `state` (see [`save`]).
///
/// # Errors
/// [`Error::ModelFile`] as [`save`].
pub fn to_bytes<F: Float>(
    state: &TrainState<F>,
    extra: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    encode(state, extra).map_err(|e| bad(Path::new("<memory>"), e))
}

/// Reads a checkpoint written by [`save`], with the caller's extra entries.
///
/// # Errors
/// [`Error::Io`] if it cannot be read; [`Error::ModelFile`] if it is not a
/// valid checkpoint (corrupt, truncated, tensors that do not fit the
/// metadata, a newer version).
pub fn load(path: &Path) -> Result<(AnyState, BTreeMap<String, String>)> {
    let bytes =
        std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    from_bytes(path, &bytes)
}

/// Parses a checkpoint's bytes; `path` is only used in messages.
///
/// # Errors
/// As [`load`].
pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<(AnyState, BTreeMap<String, String>)> {
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(path, format!("not a safetensors file: {e}")))?;
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(path, format!("not a safetensors file: {e}")))?;
    let mut extra: BTreeMap<String, String> =
        header.metadata().clone().unwrap_or_default().into_iter().collect();
    let json = extra
        .remove(KEY)
        .ok_or_else(|| bad(path, "no mlp_checkpoint metadata: not a checkpoint (a model file?)"))?;
    let value: serde_json::Value = serde_json::from_str(&json)
        .map_err(|e| bad(path, format!("checkpoint metadata is not JSON: {e}")))?;
    let found = value.get("checkpoint_version").and_then(serde_json::Value::as_u64).unwrap_or(0);
    if found > u64::from(CHECKPOINT_VERSION) {
        return Err(bad(
            path,
            format!(
                "checkpoint version {found} is newer than this build reads ({CHECKPOINT_VERSION}); upgrade mlp"
            ),
        ));
    }
    let meta: Meta = serde_json::from_value(value)
        .map_err(|e| bad(path, format!("checkpoint metadata: {e}")))?;
    let views: HashMap<String, TensorView<'_>> = tensors.tensors().into_iter().collect();
    let state = match meta.dtype.as_str() {
        "f32" => AnyState::F32(decode::<f32>(meta, &views).map_err(|e| bad(path, e))?),
        "f64" => AnyState::F64(decode::<f64>(meta, &views).map_err(|e| bad(path, e))?),
        other => return Err(bad(path, format!("dtype {other:?}: mlp reads f32 and f64"))),
    };
    Ok((state, extra))
}

/// The dtype and little-endian bytes of a vector of `F` (f32 or f64).
fn le_bytes<F: Float>(v: &[F]) -> (Dtype, Vec<u8>) {
    if F::NAME == "f32" {
        (Dtype::F32, v.iter().flat_map(|x| (x.as_f64() as f32).to_le_bytes()).collect())
    } else {
        (Dtype::F64, v.iter().flat_map(|x| x.as_f64().to_le_bytes()).collect())
    }
}

fn encode<F: Float>(
    s: &TrainState<F>,
    extra: &BTreeMap<String, String>,
) -> std::result::Result<Vec<u8>, String> {
    if extra.contains_key(KEY) {
        return Err(format!("the metadata key {KEY} is reserved"));
    }
    let numbers = |o: &OptimizerState<F>| Numbers {
        numbers: o.numbers.clone(),
        tensors: o.tensors.iter().map(|(n, _)| n.clone()).collect(),
    };
    let meta = Meta {
        checkpoint_version: CHECKPOINT_VERSION,
        dtype: F::NAME.into(),
        config: s.config.clone(),
        widths: s.network.0.clone(),
        activations: s.network.1.clone(),
        train_fingerprint: s.fingerprints.0,
        validation_fingerprint: s.fingerprints.1,
        epoch: s.epoch,
        batch: s.batch,
        partial_loss: s.partial.0,
        partial_norm: s.partial.1,
        optimizer: numbers(&s.optimizer),
        optimizer_start: s.optimizer_start.as_ref().map(numbers),
        shuffle: s.shuffle.state(),
        best_loss: s.best.as_ref().map(|b| b.0),
        best_epoch: s.best.as_ref().map(|b| b.1),
        since_best: s.since_best,
        rate_scale: s.rate_scale,
        backoffs: s.backoffs,
        history: s.history.clone(),
        divergences: s.divergences.clone(),
        stopped: s.stopped,
        elapsed: s.elapsed,
    };
    let json = serde_json::to_string(&meta).map_err(|e| e.to_string())?;
    let order = s.order.iter().flat_map(|&r| (r as u64).to_le_bytes()).collect();
    let named = |name: &str, v: &[F]| {
        let (dtype, bytes) = le_bytes(v);
        (name.to_string(), dtype, bytes)
    };
    let mut buffers: Vec<(String, Dtype, Vec<u8>)> = vec![
        named("params", &s.params),
        named("epoch_start", &s.epoch_start),
        ("order".into(), Dtype::U64, order),
    ];
    if let Some((_, _, p)) = &s.best {
        buffers.push(named("best.params", p));
    }
    for (prefix, state) in
        [("optimizer", Some(&s.optimizer)), ("optimizer_start", s.optimizer_start.as_ref())]
    {
        for (name, v) in state.map(|o| o.tensors.as_slice()).unwrap_or_default() {
            buffers.push(named(&format!("{prefix}.{name}"), v));
        }
    }
    let mut tensors = Vec::new();
    for (name, dtype, data) in &buffers {
        let len = data.len() / if *dtype == Dtype::F32 { 4 } else { 8 };
        let view = TensorView::new(*dtype, vec![len], data).map_err(|e| e.to_string())?;
        tensors.push((name.clone(), view));
    }
    let mut info: HashMap<String, String> = extra.clone().into_iter().collect();
    info.insert(KEY.into(), json);
    let bytes = safetensors::serialize(tensors, Some(info)).map_err(|e| e.to_string())?;
    Ok(sorted_header(&bytes))
}

fn decode<F: FileFloat>(
    meta: Meta,
    views: &HashMap<String, TensorView<'_>>,
) -> std::result::Result<TrainState<F>, String> {
    let vector = |name: &str| -> std::result::Result<Vec<F>, String> {
        let view = views.get(name).ok_or_else(|| format!("missing tensor {name}"))?;
        if view.dtype() != F::DTYPE {
            return Err(format!("tensor {name} is {:?}, expected {:?}", view.dtype(), F::DTYPE));
        }
        if view.shape().len() != 1 {
            return Err(format!(
                "tensor {name} has shape {:?}, expected one dimension",
                view.shape()
            ));
        }
        Ok(F::from_le(view.data()))
    };
    let params = vector("params")?;
    let epoch_start = vector("epoch_start")?;
    if epoch_start.len() != params.len() {
        return Err(format!(
            "epoch_start holds {} values, params {}",
            epoch_start.len(),
            params.len()
        ));
    }
    let optimizer_state =
        |prefix: &str, n: Numbers| -> std::result::Result<OptimizerState<F>, String> {
            let tensors = n
                .tensors
                .into_iter()
                .map(|name| vector(&format!("{prefix}.{name}")).map(|v| (name, v)))
                .collect::<std::result::Result<_, _>>()?;
            Ok(OptimizerState { tensors, numbers: n.numbers })
        };
    let order_view = views.get("order").ok_or("missing tensor order")?;
    if order_view.dtype() != Dtype::U64 || order_view.shape().len() != 1 {
        return Err("tensor order must be a U64 vector".into());
    }
    let order: Vec<usize> = order_view
        .data()
        .chunks_exact(8)
        .map(|c| usize::try_from(u64::from_le_bytes(c.try_into().expect("8 bytes"))))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| "tensor order holds a row number out of range".to_string())?;
    let best = match meta.best_loss.zip(meta.best_epoch) {
        Some((loss, epoch)) => {
            let p = vector("best.params")?;
            if p.len() != params.len() {
                return Err(format!(
                    "best.params holds {} values, params {}",
                    p.len(),
                    params.len()
                ));
            }
            Some((loss, epoch, p))
        }
        None => None,
    };
    let shuffle = Rng::from_state(meta.shuffle).ok_or("the generator state is all zero")?;
    if meta.epoch > meta.config.max_epochs || meta.history.len() != meta.epoch {
        return Err(format!(
            "epoch {} does not fit a history of {} epochs and max_epochs {}",
            meta.epoch,
            meta.history.len(),
            meta.config.max_epochs
        ));
    }
    Ok(TrainState {
        fingerprints: (meta.train_fingerprint, meta.validation_fingerprint),
        epoch: meta.epoch,
        batch: meta.batch,
        partial: (meta.partial_loss, meta.partial_norm),
        optimizer: optimizer_state("optimizer", meta.optimizer)?,
        optimizer_start: meta
            .optimizer_start
            .map(|n| optimizer_state("optimizer_start", n))
            .transpose()?,
        config: meta.config,
        network: (meta.widths, meta.activations),
        params,
        epoch_start,
        shuffle,
        order,
        best,
        since_best: meta.since_best,
        rate_scale: meta.rate_scale,
        backoffs: meta.backoffs,
        history: meta.history,
        divergences: meta.divergences,
        stopped: meta.stopped,
        elapsed: meta.elapsed,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use crate::metrics::Metrics;
    use crate::{Activation, Dataset, Network, TargetData, TrainConfig, TrainState};

    struct Keep(Option<TrainState<f64>>);

    impl crate::Hooks<f64> for Keep {
        fn wants_checkpoint(&mut self, _epoch: usize) -> bool {
            true
        }
        fn checkpoint(&mut self, state: &TrainState<f64>) -> crate::Result<()> {
            self.0 = Some(state.clone());
            Ok(())
        }
    }

    #[test]
    fn infinite_and_nan_numbers_in_the_history_survive_the_file() {
        let net = Network::with_hidden_activation(&[1, 3, 1], Activation::Tanh).unwrap();
        let data = Dataset::new(
            vec![0.0, 1.0, 2.0],
            1,
            TargetData::Values { values: vec![1.0, 0.0, 1.0], width: 1 },
        )
        .unwrap();
        let mut params = vec![0.1; net.num_params()];
        let config = TrainConfig { max_epochs: 2, ..TrainConfig::default() };
        let mut keep = Keep(None);
        crate::train_with(&net, &mut params, &data, None, &config, None, &mut keep).unwrap();
        let mut state = keep.0.unwrap();
        state.history[0].train_loss = f64::INFINITY;
        if let Metrics::Regression(m) = &mut state.history[1].train_metrics {
            (m.rmse, m.r2) = (f64::INFINITY, f64::NAN);
        }
        state.history[1].validation_loss = Some(f64::NEG_INFINITY);
        let bytes = super::to_bytes(&state, &BTreeMap::new()).unwrap();
        let (back, _) = super::from_bytes(Path::new("x"), &bytes).unwrap();
        let back = back.into_typed::<f64>().unwrap();
        assert_eq!(format!("{:?}", back.history), format!("{:?}", state.history));
    }
}
