//! [`Predictor`]: the forward pass (19) for one sample at a time, allocation-free.

use super::Network;
use crate::activation::{Activation, Apply};
use crate::data::scaling::Scaler;
use crate::float::Float;
use crate::model_file::Model;
use crate::simd::{FusedKernel, madd, vectorised_fused};

/// Layers at least this wide are stored transposed and computed as a sum of
/// scaled columns (vectorised across outputs); narrower ones as one dot
/// product per output (vectorised across inputs).
const COLUMN_FORM_MIN_OUTPUTS: usize = 8;

/// Outputs summed together in registers: eight AVX2 registers (64 `f32` or
/// 32 `f64`), enough independent sums to hide the latency of an addition.
fn block_len<F>() -> usize {
    256 / size_of::<F>()
}

/// Predicts one sample at a time with no allocation and no GEMM set-up: for
/// latency-bound callers (a control loop, a sensor, a request handler) where
/// a batch of one through [`Network::forward`] pays for generality it does
/// not use.
///
/// It holds its own copy of the parameters, laid out for single samples, so
/// it does not borrow the [`Params`](crate::Params) it was built from.
/// Results equal [`Network::forward`] to rounding (the sums run in another
/// order); each output `b_j + Σ_k W[j,k] φ(x_k)` is summed in a fixed order,
/// with fused multiply-adds where the CPU has them (as the batched products
/// do), so results are reproducible on a given machine.
///
/// # Examples
/// ```
/// use mlp::{Activation, Init, Network, Params, Predictor};
/// let net = Network::with_hidden_activation(&[2, 8, 1], Activation::Tanh)?;
/// let params = Params::<f64>::init(&net, Init::XavierUniform, 3)?;
/// let mut predictor = Predictor::new(&net, &params);
/// let y = predictor.predict(&[0.5, -1.0])[0];
/// assert!((y - net.predict(&params, &[0.5, -1.0])[0]).abs() < 1e-12);
/// # Ok::<(), mlp::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Predictor<F> {
    layers: Vec<PredictLayer<F>>,
    /// Two buffers of the widest layer's width: the current values and the next.
    values: [Vec<F>; 2],
    /// `Φ(x)` of the current layer.
    activated: Vec<F>,
    /// A model file's scalers, applied around the network by [`Predictor::for_model`].
    input_scaler: Option<Scaler>,
    target_scaler: Option<Scaler>,
}

#[derive(Clone, Debug)]
struct PredictLayer<F> {
    activation: Activation,
    inputs: usize,
    outputs: usize,
    /// `[in, out]` (columns form) or `[out, in]` (dot form).
    weight: Vec<F>,
    bias: Vec<F>,
    columns: bool,
}

impl<F: Float> Predictor<F> {
    /// A predictor for `network` with parameters `params`.
    ///
    /// # Panics
    /// If `params.len() != network.num_params()`.
    #[track_caller]
    pub fn new(network: &Network, params: &[F]) -> Self {
        network.check_params(params.len());
        let layers = (0..network.depth())
            .map(|i| {
                let layer = network.layer(params, i);
                let (n_in, n_out) = (layer.inputs, layer.outputs);
                let columns = n_out >= COLUMN_FORM_MIN_OUTPUTS;
                let w = |j: usize, k: usize| layer.weight[j * n_in + k];
                let weight = if columns {
                    // Full blocks, each `[k][block]`, then the remaining outputs `[k][rest]`.
                    let block = block_len::<F>();
                    let full = n_out / block * block;
                    let mut v = Vec::with_capacity(n_in * n_out);
                    for j0 in (0..full).step_by(block) {
                        v.extend((0..n_in).flat_map(|k| (j0..j0 + block).map(move |j| w(j, k))));
                    }
                    v.extend((0..n_in).flat_map(|k| (full..n_out).map(move |j| w(j, k))));
                    v
                } else {
                    layer.weight.to_vec()
                };
                PredictLayer {
                    activation: network.activations()[i],
                    inputs: n_in,
                    outputs: n_out,
                    weight,
                    bias: layer.bias.to_vec(),
                    columns,
                }
            })
            .collect();
        let widest = network.widths().iter().copied().max().unwrap_or(0);
        Self {
            layers,
            values: [vec![F::zero(); widest], vec![F::zero(); widest]],
            activated: vec![F::zero(); widest],
            input_scaler: None,
            target_scaler: None,
        }
    }

    /// A predictor for a model that was trained on scaled data (as `mlp
    /// train` does): it takes inputs in the data's own units and returns
    /// regression outputs in the targets' units, scaling in `f64` as
    /// [`crate::prediction::predict`] does; a classifier's outputs stay its
    /// logits. [`Predictor::new`] on the same network and parameters takes
    /// and returns scaled values.
    ///
    /// # Panics
    /// If the model's parameters are for another network, or its scalers
    /// have other widths (a [`Model`] built by hand;
    /// [`crate::model_file::load`] never returns one).
    #[track_caller]
    pub fn for_model(model: &Model<F>) -> Self {
        let (net, meta) = (&model.network, &model.meta);
        let fits = |s: &Option<Scaler>, width| s.as_ref().is_none_or(|s| s.width() == width);
        assert!(
            fits(&meta.input_scaler, net.inputs()) && fits(&meta.target_scaler, net.outputs()),
            "Predictor::for_model: the model's scalers do not fit its network"
        );
        let mut predictor = Self::new(net, model.params.as_slice());
        predictor.input_scaler = model.meta.input_scaler.clone();
        predictor.target_scaler = model.meta.target_scaler.clone();
        predictor
    }

    /// The outputs `x^L` for one sample `input` (`[n_0]`); returns `[n_L]`.
    ///
    /// # Panics
    /// If `input.len()` is not the network's input width.
    #[track_caller]
    pub fn predict(&mut self, input: &[F]) -> &[F] {
        let first = self.layers.first().map_or(0, |l| l.inputs);
        assert_eq!(input.len(), first, "Predictor::predict takes one sample of {first} inputs");
        match &self.input_scaler {
            Some(s) => {
                let scaled = input.iter().zip(&s.offset).zip(&s.spread);
                for (x, ((v, o), d)) in self.values[0].iter_mut().zip(scaled) {
                    *x = F::cast((v.as_f64() - o) / d);
                }
            }
            None => self.values[0][..input.len()].copy_from_slice(input),
        }
        let [x, y] = &mut self.values;
        vectorised_fused(Forward { layers: &self.layers, x, y, a: &mut self.activated });
        let last = self.layers.last().map_or(0, |l| l.outputs);
        let output = &mut self.values[self.layers.len() % 2][..last];
        if let Some(s) = &self.target_scaler {
            for ((v, o), d) in output.iter_mut().zip(&s.offset).zip(&s.spread) {
                *v = F::cast(v.as_f64() * d + o);
            }
        }
        output
    }
}

/// The whole pass as one kernel, so a single dispatch covers every layer.
struct Forward<'a, F> {
    layers: &'a [PredictLayer<F>],
    x: &'a mut [F],
    y: &'a mut [F],
    a: &'a mut [F],
}

impl<F: Float> FusedKernel for Forward<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(self) {
        let Self { layers, mut x, mut y, a } = self;
        for layer in layers {
            let (n_in, n_out) = (layer.inputs, layer.outputs);
            let input: &[F] = if layer.activation == Activation::Identity {
                &x[..n_in]
            } else {
                Apply { activation: layer.activation, x: &x[..n_in], y: &mut a[..n_in] }
                    .run::<FUSED>();
                &a[..n_in]
            };
            let out = &mut y[..n_out];
            out.copy_from_slice(&layer.bias);
            if layer.columns {
                if size_of::<F>() == 4 {
                    add_columns::<F, 8, FUSED>(&layer.weight, input, out);
                } else {
                    add_columns::<F, 4, FUSED>(&layer.weight, input, out);
                }
            } else {
                for (o, row) in out.iter_mut().zip(layer.weight.chunks_exact(n_in)) {
                    let sum = if size_of::<F>() == 4 {
                        dot::<F, 16, FUSED>(row, input)
                    } else {
                        dot::<F, 8, FUSED>(row, input)
                    };
                    *o = *o + sum;
                }
            }
            std::mem::swap(&mut x, &mut y);
        }
    }
}

/// `Σ_k w_k a_k` in `L` interleaved partial sums (lane `l` takes every
/// `k ≡ l mod L`; `L` fills one AVX-512 register), then halves added
/// pairwise: a fixed order that vectorises.
#[inline(always)]
fn dot<F: Float, const L: usize, const FUSED: bool>(w: &[F], a: &[F]) -> F {
    let mut lanes = [F::zero(); L];
    let (w_chunks, w_tail) = w.as_chunks::<L>();
    let (a_chunks, a_tail) = a.as_chunks::<L>();
    for (wc, ac) in w_chunks.iter().zip(a_chunks) {
        for l in 0..L {
            lanes[l] = madd::<F, FUSED>(wc[l], ac[l], lanes[l]);
        }
    }
    let mut tail = F::zero();
    for (&wk, &ak) in w_tail.iter().zip(a_tail) {
        tail = tail + wk * ak;
    }
    let mut width = L;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            lanes[l] = lanes[l] + lanes[l + width];
        }
    }
    lanes[0] + tail
}

/// `out += Σ_k input_k W[:, k]` over weights stored in blocks of `8 G`
/// outputs (`[k][8 G]` each, see [`Predictor::new`]), then the remaining
/// `[k][rest]`. A block's sums are `G` named groups of eight, which LLVM
/// keeps in registers across the whole `k` loop (one array of `8 G` it kept
/// on the stack, and each step paid a store-to-load round trip).
#[inline(always)]
fn add_columns<F: Float, const G: usize, const FUSED: bool>(
    weight: &[F],
    input: &[F],
    out: &mut [F],
) {
    let b = 8 * G;
    let n_in = input.len();
    let full = out.len() / b * b;
    let (blocked, rest_weight) = weight.split_at(full * n_in);
    let (out_blocks, rest_out) = out.split_at_mut(full);
    for (block, columns) in out_blocks.chunks_exact_mut(b).zip(blocked.chunks_exact(b * n_in)) {
        let (groups, _) = block.as_chunks_mut::<8>();
        let mut acc: [[F; 8]; G] = std::array::from_fn(|g| groups[g]);
        for (column, &ak) in columns.chunks_exact(b).zip(input) {
            let (column, _) = column.as_chunks::<8>();
            for g in 0..G {
                for l in 0..8 {
                    acc[g][l] = madd::<F, FUSED>(column[g][l], ak, acc[g][l]);
                }
            }
        }
        groups.copy_from_slice(&acc);
    }
    if !rest_out.is_empty() {
        for (column, &ak) in rest_weight.chunks_exact(rest_out.len()).zip(input) {
            for (o, &w) in rest_out.iter_mut().zip(column) {
                *o = madd::<F, FUSED>(w, ak, *o);
            }
        }
    }
}
