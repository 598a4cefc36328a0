//! The `mlp` metadata parser: arbitrary text as the `mlp` entry of a
//! safetensors header around a valid 3-5-2 network's tensors, so the fuzzer
//! spends its time in the JSON metadata rather than in the container.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

/// A valid header's tensors (f32, 3-5-2), with `mlp` left for the input.
const TENSORS: &str = r#""0.weight":{"dtype":"F32","shape":[5,3],"data_offsets":[0,60]},"0.bias":{"dtype":"F32","shape":[5],"data_offsets":[60,80]},"2.weight":{"dtype":"F32","shape":[2,5],"data_offsets":[80,120]},"2.bias":{"dtype":"F32","shape":[2],"data_offsets":[120,128]}"#;

fuzz_target!(|text: &str| {
    let quoted = escape(text);
    let header = format!(r#"{{{TENSORS},"__metadata__":{{"format":"pt","mlp":{quoted}}}}}"#);
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0u8; 128]);
    let _ = mlp::model_file::from_bytes(Path::new("fuzz.safetensors"), &bytes);
});

/// `text` as a JSON string literal.
fn escape(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
