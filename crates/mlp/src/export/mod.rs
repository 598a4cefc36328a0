//! A trained model, exported to run elsewhere, reproducing
//! [`prediction::predict`](crate::prediction::predict):
//!
//! - [`onnx`]: an ONNX model (IR version 8, opset 17) for ONNX Runtime,
//!   tract and the rest: input scaling, each layer's activation and `Gemm`
//!   (`transB = 1`, weights `[out, in]` as stored), output unscaling, or
//!   `Softmax`/`Sigmoid` with the class labels;
//! - [`c_source`], [`rust_source`]: one self-contained source file with the
//!   weights as constants and a `predict` function, for programs without
//!   Rust, or without `std`, or without an allocator.
//!
//! Every activation `mlp` has is exported; none is refused.

mod onnx;
mod onnx_proto;
mod source;

use crate::error::Result;
use crate::model_file::AnyModel;

/// The ONNX file's bytes for `model`. Input `input` (`[N, n_0]`, the encoded
/// columns in original units, of the model's type); outputs `output`
/// (`[N, n_L]`, original units) for regression, or `probabilities`
/// (`[N, K]`) and `label` (`[N]`, strings) for classification. The `mlp`
/// metadata is kept in the model's `metadata_props` under `mlp`.
///
/// # Errors
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) if the metadata
/// cannot be written as JSON.
pub fn onnx(model: &AnyModel) -> Result<Vec<u8>> {
    match model {
        AnyModel::F32(m) => onnx::to_onnx(m),
        AnyModel::F64(m) => onnx::to_onnx(m),
    }
}

/// A C99 source file for `model`: `int mlp_predict(const double *input,
/// double *output)` (see the file's header), using only `<math.h>`.
///
/// # Panics
/// If the model's parameters are for another network (a [`Model`] built
/// by hand; [`crate::model_file::load`] never returns one).
///
/// [`Model`]: crate::model_file::Model
pub fn c_source(model: &AnyModel) -> String {
    match model {
        AnyModel::F32(m) => source::to_source(m, source::Language::C),
        AnyModel::F64(m) => source::to_source(m, source::Language::C),
    }
}

/// A Rust source file for `model`: `pub fn predict(&[f64; n_0], &mut [f64;
/// n]) -> usize`, `no_std`-compatible (it declares the C math library's
/// functions it needs instead of using `std`'s).
///
/// # Panics
/// As [`c_source`].
pub fn rust_source(model: &AnyModel) -> String {
    match model {
        AnyModel::F32(m) => source::to_source(m, source::Language::Rust),
        AnyModel::F64(m) => source::to_source(m, source::Language::Rust),
    }
}
