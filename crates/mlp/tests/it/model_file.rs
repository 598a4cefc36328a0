//! The model file: exact round trips, PyTorch's key names, atomic writes,
//! and clear errors for files that are not valid models.

use std::path::Path;

use mlp::model_file::{self, AnyModel, FORMAT_VERSION, Model, ModelMeta, linear_indices};
use mlp::{Activation, Error, Init, Loss, Network, Params};

fn model<F: mlp::Float>(activations: &[Activation]) -> Model<F> {
    let widths: Vec<usize> = (0..=activations.len()).map(|k| 2 + k).collect();
    let network = Network::new(&widths, activations).unwrap();
    let params = Params::<F>::init(&network, Init::XavierNormal, 4).unwrap();
    let meta = ModelMeta::bare::<F>(&network, Loss::MeanSquared);
    Model { network, params, meta }
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mlp-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn save_then_load_is_exact_in_both_float_types() {
    let acts = [Activation::Identity, Activation::Tanh, Activation::LeakyRelu { slope: 0.2 }];
    let path = temp("round_trip.safetensors");
    let m64 = AnyModel::F64(model::<f64>(&acts));
    model_file::save(&path, &m64).unwrap();
    assert_eq!(model_file::load(&path).unwrap(), m64);
    let m32 = AnyModel::F32(model::<f32>(&acts));
    model_file::save(&path, &m32).unwrap();
    assert_eq!(model_file::load(&path).unwrap(), m32);
}

#[test]
fn tensor_names_are_those_of_the_pytorch_sequential() {
    let acts = [Activation::Identity, Activation::Tanh, Activation::Tanh];
    assert_eq!(linear_indices(&acts), [0, 2, 4]);
    assert_eq!(linear_indices(&[Activation::Tanh, Activation::Identity]), [1, 2]);
    let bytes = model_file::to_bytes(&AnyModel::F64(model::<f64>(&acts))).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = tensors.names();
    names.sort_unstable();
    assert_eq!(names, ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]);
    assert_eq!(tensors.tensor("2.weight").unwrap().shape(), [4, 3]);
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["format"], "pt");
    assert!(meta["mlp"].contains(&format!("\"format_version\":{FORMAT_VERSION}")));
}

#[test]
fn a_state_dict_loads_given_its_activations_with_any_wrapper_prefix() {
    let acts = [Activation::Identity, Activation::Relu];
    let source = model::<f64>(&acts);
    let bytes = model_file::to_bytes(&AnyModel::F64(source.clone())).unwrap();
    // Rename the tensors as DataParallel inside torch.compile would, and drop our metadata.
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let renamed: Vec<(String, safetensors::tensor::TensorView<'_>)> =
        tensors.tensors().into_iter().map(|(n, v)| (format!("_orig_mod.module.{n}"), v)).collect();
    let path = temp("state_dict.safetensors");
    std::fs::write(&path, safetensors::serialize(renamed, None).unwrap()).unwrap();

    let err = model_file::load(&path).unwrap_err().to_string();
    assert!(err.contains("no mlp metadata"), "{err}");
    let AnyModel::F64(loaded) =
        model_file::load_state_dict(&path, &acts, Loss::MeanSquared).unwrap()
    else {
        panic!("f64 expected")
    };
    assert_eq!(loaded.params, source.params);
    let err = model_file::load_state_dict(
        &path,
        &[Activation::Identity, Activation::Tanh, Activation::Tanh],
        Loss::MeanSquared,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no tensor 4.weight for layer 2"), "{err}");
}

#[test]
fn broken_or_newer_files_are_errors_naming_the_file() {
    let path = temp("broken.safetensors");
    let bytes =
        model_file::to_bytes(&AnyModel::F64(model::<f64>(&[Activation::Identity]))).unwrap();
    for (what, data) in [
        ("truncated", &bytes[..bytes.len() - 3]),
        ("empty", &bytes[..0]),
        ("garbage", b"not a model at all".as_slice()),
    ] {
        std::fs::write(&path, data).unwrap();
        let err = model_file::load(&path).unwrap_err();
        assert!(matches!(err, Error::ModelFile { .. }), "{what}: {err}");
        assert!(err.to_string().starts_with(&path.display().to_string()), "{what}: {err}");
    }
    // The version inside the header's escaped JSON string, rewritten in place.
    let pattern = br#"\"format_version\":1"#;
    let at = bytes.windows(pattern.len()).position(|w| w == pattern).expect("version in header");
    let mut newer = bytes.clone();
    newer[at + pattern.len() - 1] = b'9';
    std::fs::write(&path, &newer).unwrap();
    let err = model_file::load(&path).unwrap_err().to_string();
    assert!(err.contains("version 9 is newer than this build reads (1)"), "{err}");
    let missing = model_file::load(Path::new("/nonexistent/model.safetensors")).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }), "{missing}");
}

#[test]
fn a_failed_save_leaves_the_existing_file_untouched() {
    let dir = temp("readonly");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    std::fs::write(&path, b"previous contents").unwrap();
    // Saving over a directory fails at the rename; the old file elsewhere is unaffected,
    // and no temporary file is left behind.
    let target_is_dir = dir.join("sub");
    std::fs::create_dir_all(target_is_dir.join("x")).unwrap();
    let m = AnyModel::F64(model::<f64>(&[Activation::Identity]));
    assert!(model_file::save(&target_is_dir, &m).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), b"previous contents");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
