//! Hostile and broken bytes: the CSV reader and the model loader return an
//! error (or a value), never panic, for arbitrary input and for mutations
//! of valid files (issue 6, item 4 and the property half of item 5).

use std::path::Path;

use mlp::data::csv::{CsvOptions, Table};
use mlp::model_file::{self, AnyModel, Model, ModelMeta};
use mlp::{Activation, Init, Loss, Network, Params};
use proptest::prelude::*;

fn valid_model() -> Vec<u8> {
    let net = Network::with_hidden_activation(&[3, 5, 2], Activation::Tanh).unwrap();
    let params = Params::<f32>::init(&net, Init::XavierUniform, 1).unwrap();
    let meta = ModelMeta::bare::<f32>(&net, Loss::MeanSquared);
    model_file::to_bytes(&AnyModel::F32(Model { network: net, params, meta })).unwrap()
}

/// A safetensors file from a header written by hand, then `data`.
fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// The valid model with its header JSON edited; the tensor data stay as they were.
fn edited_header(edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let bytes = valid_model();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    edit(&mut header);
    with_header(&header.to_string(), &bytes[8 + n..])
}

/// The valid model with its parsed `mlp` metadata edited.
fn edited_meta(edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    edited_header(|h| {
        let mlp = &mut h["__metadata__"]["mlp"];
        let mut meta: serde_json::Value = serde_json::from_str(mlp.as_str().unwrap()).unwrap();
        edit(&mut meta);
        *mlp = serde_json::Value::String(meta.to_string());
    })
}

fn load(bytes: &[u8]) -> Result<AnyModel, String> {
    model_file::from_bytes(Path::new("hostile.safetensors"), bytes).map_err(|e| e.to_string())
}

const CSV: &str = "a,b,label\n1.5,2,x\n-3,4e2,y\n0.25,,x\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(6), ..ProptestConfig::default() })]

    #[test]
    fn csv_reader_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Table::parse(Path::new("hostile.csv"), &bytes, CsvOptions::default());
    }

    #[test]
    fn csv_reader_survives_mutated_files(flips in proptest::collection::vec((0..CSV.len(), any::<u8>()), 1..8), cut in 0..=CSV.len()) {
        let mut bytes = CSV.as_bytes().to_vec();
        for (at, value) in flips {
            bytes[at] = value;
        }
        bytes.truncate(cut.max(1));
        let _ = Table::parse(Path::new("hostile.csv"), &bytes, CsvOptions::default());
    }

    #[test]
    fn model_loader_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(load(&bytes).is_err());
    }

    #[test]
    fn model_loader_survives_mutated_files(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
        let mut bytes = valid_model();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep.max(bytes.len() / 2));
        let _ = load(&bytes);
    }
}

/// A checkpoint of a short Adam run with early stopping, after epoch 2 of 3.
fn valid_checkpoint() -> Vec<u8> {
    struct Save(Vec<u8>);
    impl mlp::Hooks<f32> for Save {
        fn wants_checkpoint(&mut self, epoch: usize) -> bool {
            epoch == 2
        }
        fn checkpoint(&mut self, state: &mlp::TrainState<f32>) -> mlp::Result<()> {
            self.0 = mlp::checkpoint::to_bytes(state, &Default::default())?;
            Ok(())
        }
    }
    let (net, data, config) = checkpoint_run();
    let mut params = Params::<f32>::init(&net, Init::XavierUniform, 1).unwrap().into_vec();
    let mut save = Save(Vec::new());
    mlp::train_with(&net, &mut params, &data, None, &config, None, &mut save).unwrap();
    save.0
}

fn checkpoint_run() -> (Network, mlp::Dataset<f32>, mlp::TrainConfig) {
    let net = Network::with_hidden_activation(&[2, 4, 1], Activation::Tanh).unwrap();
    let x: Vec<f32> = (0..40).map(|k| k as f32 / 40.0).collect();
    let y = x.chunks(2).map(|p| p[0] - p[1]).collect();
    let data = mlp::Dataset::new(x, 2, mlp::TargetData::Values { values: y, width: 1 }).unwrap();
    let config = mlp::TrainConfig {
        max_epochs: 3,
        batch_size: 4,
        validation: mlp::Validation::Fraction(0.25),
        early_stopping: Some(mlp::EarlyStopping { patience: 2, min_delta: 0.0 }),
        ..mlp::TrainConfig::default()
    };
    (net, data, config)
}

/// Reads `bytes` as a checkpoint and, if they parse, resumes the run from
/// them: each step is an error or a result, never a panic.
fn load_and_resume(bytes: &[u8]) {
    let Ok((state, _)) = mlp::checkpoint::from_bytes(Path::new("hostile.ckpt"), bytes) else {
        return;
    };
    if let Some(state) = state.into_typed::<f32>() {
        let (net, data, config) = checkpoint_run();
        let mut params = vec![0.0; net.num_params()];
        let _ = mlp::train_with(&net, &mut params, &data, None, &config, Some(state), &mut NoHooks);
    }
}

struct NoHooks;
impl mlp::Hooks<f32> for NoHooks {}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]

    #[test]
    fn checkpoint_loader_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(mlp::checkpoint::from_bytes(Path::new("hostile.ckpt"), &bytes).is_err());
    }

    #[test]
    fn checkpoint_loader_and_resume_survive_mutated_files(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
        let mut bytes = valid_checkpoint();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep.max(bytes.len() * 9 / 10));
        load_and_resume(&bytes);
    }
}

/// Edits of the checkpoint's metadata that parse as JSON but lie: each is
/// refused by the loader or by resume, with a message saying what is wrong.
#[test]
fn hostile_checkpoint_metadata_is_refused_by_name() {
    let bytes = valid_checkpoint();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let meta: serde_json::Value =
        serde_json::from_str(header["__metadata__"]["mlp_checkpoint"].as_str().unwrap()).unwrap();
    let cases: [(&str, serde_json::Value, &str); 6] = [
        ("epoch", serde_json::json!(99), "does not fit a history"),
        ("shuffle", serde_json::json!([0, 0, 0, 0]), "generator state is all zero"),
        ("dtype", serde_json::json!("f16"), "dtype \"f16\""),
        ("checkpoint_version", serde_json::json!(7), "newer than this build"),
        ("train_fingerprint", serde_json::json!(1), "training rows differ"),
        ("widths", serde_json::json!([2, 5, 1]), "network is"),
    ];
    for (key, value, expected) in cases {
        let mut m = meta.clone();
        m[key] = value;
        let mut h = header.clone();
        h["__metadata__"]["mlp_checkpoint"] = serde_json::Value::String(m.to_string());
        let edited = with_header(&h.to_string(), &bytes[8 + n..]);
        let err = match mlp::checkpoint::from_bytes(Path::new("hostile.ckpt"), &edited) {
            Err(e) => e.to_string(),
            Ok((state, _)) => {
                let (net, data, config) = checkpoint_run();
                let mut params = vec![0.0; net.num_params()];
                let state = state.into_typed::<f32>().unwrap();
                mlp::train_with(&net, &mut params, &data, None, &config, Some(state), &mut NoHooks)
                    .expect_err(key)
                    .to_string()
            }
        };
        assert!(err.contains(expected), "{key}: {err}");
    }
}

#[test]
fn the_valid_model_loads() {
    assert!(load(&valid_model()).is_ok());
}

/// Each hand-written hostile header is refused with an error naming the file.
#[test]
fn hostile_model_headers_are_clear_errors() {
    let meta = |widths: &str| {
        format!(
            r#""__metadata__":{{"format":"pt","mlp":"{{\"format_version\":1,\"dtype\":\"f32\",\"widths\":{widths},\"activations\":[\"identity\"],\"loss\":\"mse\"}}"}}"#
        )
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("header longer than the file", {
            let mut b = u64::MAX.to_le_bytes().to_vec();
            b.extend_from_slice(b"{}");
            b
        }),
        ("header length past the end", with_header("{}", b"").split_at(8).0.to_vec()),
        ("not JSON", with_header("{not json", b"")),
        (
            "absurd shape",
            with_header(
                &format!(
                    r#"{{"0.weight":{{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}},{}}}"#,
                    meta("[4294967296,4294967296]")
                ),
                &[0; 8],
            ),
        ),
        (
            "offsets out of range",
            with_header(
                &format!(
                    r#"{{"0.weight":{{"dtype":"F32","shape":[1,1],"data_offsets":[0,400]}},"0.bias":{{"dtype":"F32","shape":[1],"data_offsets":[400,404]}},{}}}"#,
                    meta("[1,1]")
                ),
                &[0; 8],
            ),
        ),
        (
            "overlapping offsets",
            with_header(
                &format!(
                    r#"{{"0.weight":{{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]}},"0.bias":{{"dtype":"F32","shape":[1],"data_offsets":[0,4]}},{}}}"#,
                    meta("[1,1]")
                ),
                &[0; 8],
            ),
        ),
        (
            "integer dtype",
            edited_header(|h| {
                for (name, t) in h.as_object_mut().unwrap() {
                    if name != "__metadata__" {
                        t["dtype"] = "I32".into();
                    }
                }
            }),
        ),
        ("metadata of the wrong shape", with_header(r#"{"__metadata__":{"mlp":"[1,2,3]"}}"#, b"")),
        ("metadata not JSON", edited_header(|h| h["__metadata__"]["mlp"] = "{".into())),
        (
            "absurd widths in the metadata",
            edited_meta(|m| m["widths"] = serde_json::json!([u64::MAX, u64::MAX, u64::MAX])),
        ),
        (
            "an absurd hidden width",
            edited_meta(|m| m["widths"] = serde_json::json!([3, u64::MAX, 2])),
        ),
        (
            "widths disagreeing with the tensors",
            edited_meta(|m| m["widths"] = serde_json::json!([3, 6, 2])),
        ),
        (
            "too few activations",
            edited_meta(|m| m["activations"] = serde_json::json!(["identity"])),
        ),
        ("a future format version", edited_meta(|m| m["format_version"] = 99.into())),
    ];
    for (what, bytes) in cases {
        let err = load(&bytes).expect_err(what);
        assert!(err.contains("hostile.safetensors"), "{what}: {err}");
    }
}

/// A CSV line of 50 MB and invalid UTF-8: clear one-line errors, no panic.
#[test]
fn a_huge_csv_line_is_handled() {
    let mut bytes = b"a,b\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'9', 50 << 20));
    bytes.extend_from_slice(b",1\n");
    // 50 MB of nines is a number too large for f64: refused, in one short line.
    let err = Table::parse(Path::new("huge.csv"), &bytes, CsvOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("huge.csv:2: column 1") && message.len() < 200, "{message:.300}");
    assert!(message.contains("is not finite"), "{message:.300}");
    let invalid_utf8 = b"a,b\n1,\xff\xfe\n";
    let err = Table::parse(Path::new("bad.csv"), invalid_utf8, CsvOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "bad.csv:2: field 2 is not valid UTF-8");
}
