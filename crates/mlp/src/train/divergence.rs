//! Which tensor went non-finite first, for the divergence message.

use crate::Loss;
use crate::data::Dataset;
use crate::float::Float;
use crate::network::{Network, Workspace};

/// Rows per pass: this runs once, after a divergence, and must not allocate
/// a trace of the whole data set.
const CHUNK: usize = 256;

/// The first non-finite tensor at `params` on the given rows (all rows if
/// `None`), in the order the computation meets them: the parameters (layer
/// by layer, weight before bias), each layer's output in forward order, the
/// loss, then the gradients in the order back-propagation forms them (last
/// layer first). `None` if everything is finite.
pub(crate) fn first_non_finite<F: Float>(
    net: &Network,
    params: &[F],
    data: &Dataset<F>,
    rows: Option<&[usize]>,
    loss: Loss,
) -> Option<String> {
    if let Some(tensor) = first_bad_parameter(net, params) {
        return Some(format!("parameter {tensor}"));
    }
    let bad = |v: &[F]| v.iter().any(|x| !x.is_finite());
    let depth = net.depth();
    let all: Vec<usize>;
    let rows = match rows {
        Some(r) => r,
        None => {
            all = (0..data.rows()).collect();
            &all
        }
    };
    let mut ws = Workspace::new(net, CHUNK);
    let (mut gradient, mut chunk_gradient) =
        (vec![F::zero(); params.len()], vec![F::zero(); params.len()]);
    let (mut first_output, mut loss_finite) = (None::<usize>, true);
    let scale = loss.scale(rows.len(), net.outputs());
    for chunk in rows.chunks(CHUNK) {
        let batch = data.gather(chunk);
        let (x, t) = batch.slice(0, batch.rows());
        let value =
            net.loss_and_gradient_scaled(params, x, t, loss, scale, &mut ws, &mut chunk_gradient);
        loss_finite &= value.is_ok_and(|v| v.is_finite());
        if let Some(i) = (1..=depth).find(|&i| bad(ws.x(i))) {
            first_output = Some(first_output.map_or(i, |f| f.min(i)));
        }
        gradient.iter_mut().zip(&chunk_gradient).for_each(|(g, &c)| *g = *g + c);
    }
    if let Some(i) = first_output {
        return Some(format!("the output of layer {}", i - 1));
    }
    if !loss_finite {
        return Some("the loss".into());
    }
    // Back-propagation forms each layer's bias gradient before its weight's.
    first_bad_tensor(net, &gradient, (0..depth).rev(), ["bias", "weight"])
        .map(|t| format!("the gradient of {t}"))
}

/// The first parameter tensor, in layout order, holding a non-finite value.
pub(crate) fn first_bad_parameter<F: Float>(net: &Network, params: &[F]) -> Option<String> {
    first_bad_tensor(net, params, 0..net.depth(), ["weight", "bias"])
}

/// The first of the layers' tensors of `values` (a parameter-shaped
/// vector), in the order given, holding a non-finite value: `layer 1 bias`.
fn first_bad_tensor<F: Float>(
    net: &Network,
    values: &[F],
    layers: impl Iterator<Item = usize>,
    kinds: [&str; 2],
) -> Option<String> {
    layers.into_iter().find_map(|i| {
        let (w, b) = net.layer_ranges(i);
        kinds.into_iter().find_map(|kind| {
            let range = if kind == "weight" { w.clone() } else { b.clone() };
            values[range].iter().any(|x| !x.is_finite()).then(|| format!("layer {i} {kind}"))
        })
    })
}
