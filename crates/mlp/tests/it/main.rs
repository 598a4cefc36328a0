//! The library's one integration-test binary (plus `tests/alloc.rs`, which
//! needs its own `#[global_allocator]`). Each module checks one contract of
//! MATH.md; `support` holds the shared case generator and the tolerances.

/// Random networks, data and finite differences; the tolerances, in one place.
mod support;

/// The batched gradient equals the per-sample reference summed (MATH §5).
mod batched_vs_reference;
/// Checkpoints resume to the same bits; divergence is named and can back off.
mod checkpoint;
/// The composition rule (5), bit for bit.
mod composition;
/// Bundled data sets: digits accuracy, diabetes against scikit-learn.
mod datasets;
/// Data-parallel training over thread ranks: exact bits, agreement, refusals.
mod distributed;
/// ONNX (run by tract), C and Rust exports reproduce `mlp predict`.
mod export;
/// Numbers from an independent implementation (JAX), in `tests/data/golden`.
mod golden;
/// Back-propagation equals central finite differences (proptest, f64 and f32).
mod gradient_check;
/// Hostile and broken files: errors, never panics.
mod hostile;
/// Seeded initialisation: reproducible, portable, with the documented scales.
mod init;
/// Jacobians: (10) `2 Jᵀ r = ∇S`, (18) layer by layer, (20), input Jacobian.
mod jacobian;
/// Plausible mistakes through the public API: typed errors, never silent.
mod misuse;
/// The model file: round trips, PyTorch names, atomic writes, bad files.
mod model_file;
/// Every solver on XOR, the sine fit and Rosenbrock; GD never increases S; threads.
mod optimizers;
/// The single-sample predictor equals the batched forward pass.
mod predictor;
/// The training loop: early stopping, reproducibility, callback, stopping rules.
mod train;
