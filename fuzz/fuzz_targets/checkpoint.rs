//! The checkpoint loader on arbitrary bytes, then a resume from whatever
//! parses: an error or a result, never a panic or an unbounded allocation.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mlp::{Activation, Dataset, EarlyStopping, Hooks, Network, TargetData, TrainConfig, Validation};

struct NoHooks;
impl Hooks<f32> for NoHooks {}

fuzz_target!(|bytes: &[u8]| {
    let Ok((state, _)) = mlp::checkpoint::from_bytes(Path::new("fuzz.ckpt"), bytes) else {
        return;
    };
    let Some(state) = state.into_typed::<f32>() else { return };
    // The run of the seed (fuzz/corpus/checkpoint/adam_2_4_1.ckpt): see
    // `valid_checkpoint` in crates/mlp/tests/it/hostile.rs.
    let net = Network::with_hidden_activation(&[2, 4, 1], Activation::Tanh).unwrap();
    let x: Vec<f32> = (0..40).map(|k| k as f32 / 40.0).collect();
    let y = x.chunks(2).map(|p| p[0] - p[1]).collect();
    let data = Dataset::new(x, 2, TargetData::Values { values: y, width: 1 }).unwrap();
    let config = TrainConfig {
        max_epochs: 3,
        batch_size: 4,
        validation: Validation::Fraction(0.25),
        early_stopping: Some(EarlyStopping { patience: 2, min_delta: 0.0 }),
        ..TrainConfig::default()
    };
    let mut params = vec![0.0; net.num_params()];
    let _ = mlp::train_with(&net, &mut params, &data, None, &config, Some(state), &mut NoHooks);
});
