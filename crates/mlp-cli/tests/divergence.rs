//! A diverging run: one clear message naming the epoch and the tensor, exit
//! status 1, the model and history it was asked for left as they were, and
//! the finite parameters of the epoch's start written beside them;
//! `--on-divergence backoff` halves the learning rate and finishes.

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
    let history = d.join("history.csv");
    std::fs::write(&out, "a model the user keeps").unwrap();
    std::fs::write(&history, "a history the user keeps").unwrap();
    let run = train(&out, &["--history", &history.to_string_lossy()]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: training diverged in epoch "), "{stderr}");
    let beside = d.join("model.diverged.safetensors");
    let said = format!("to {} and left {} as it was", beside.display(), out.display());
    assert!(stderr.contains("went non-finite first; wrote the parameters from the start of epoch"));
    assert!(stderr.contains(&said), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), b"a model the user keeps");
    assert_eq!(std::fs::read(&history).unwrap(), b"a history the user keeps");
    assert!(finite(&beside));
    let rows = std::fs::read_to_string(d.join("history.diverged.csv")).unwrap();
    assert!(rows.starts_with("epoch,") && rows.lines().count() > 1, "{rows}");
    std::fs::remove_file(&out).unwrap();

    let run = train(&out, &["--on-divergence", "backoff", "--max-backoffs", "20"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.starts_with("warning: diverged in epoch "), "{stderr}");
    assert!(stderr.contains("halved the learning rate (now 0.5 times"), "{stderr}");
    assert!(finite(&out));
}
