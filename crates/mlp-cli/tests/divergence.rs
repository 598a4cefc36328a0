//! A diverging run: one clear message naming the epoch and the tensor, exit
//! status 1, and a saved model that is finite; `--on-divergence backoff`
//! halves the learning rate and finishes.

use std::process::Command;

use mlp::model_file::{self, AnyModel};

fn train(out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mlp"))
        .args(["train", "--dataset", "diabetes", "--solver", "sgd", "--lr", "5", "--epochs", "30"])
        .args(["-q", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn finite(path: &std::path::Path) -> bool {
    match model_file::load(path).unwrap() {
        AnyModel::F64(m) => m.params.as_slice().iter().all(|v| v.is_finite()),
        AnyModel::F32(m) => m.params.as_slice().iter().all(|v| v.is_finite()),
    }
}

#[test]
fn divergence_stops_with_a_named_tensor_and_a_finite_model_or_backs_off() {
    let d = std::env::temp_dir().join(format!("mlp-divergence-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let out = d.join("model.safetensors");
    let run = train(&out, &[]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: training diverged in epoch "), "{stderr}");
    assert!(
        stderr.contains("went non-finite first; wrote the parameters from the start of epoch"),
        "{stderr}"
    );
    assert!(finite(&out));

    let run = train(&out, &["--on-divergence", "backoff", "--max-backoffs", "20"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.starts_with("warning: diverged in epoch "), "{stderr}");
    assert!(stderr.contains("halved the learning rate (now 0.5 times"), "{stderr}");
    assert!(finite(&out));
}
