//! The model loader on arbitrary bytes: an error or a model, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = mlp::model_file::from_bytes(Path::new("fuzz.safetensors"), bytes);
});
