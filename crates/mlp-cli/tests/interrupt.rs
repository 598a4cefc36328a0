//! Signals and checkpoints end to end: Ctrl-C (SIGINT) and SIGTERM stop
//! training cleanly with 130 and 143, writing the model and checkpoint; the
//! checkpoint resumes to the bits of the run never stopped; a second Ctrl-C
//! exits at once touching nothing; SIGKILL at any moment leaves every file
//! either as it was or complete.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mlp::model_file::{self, AnyModel};

/// The binary, its summary lines (stdout) dropped.
fn mlp() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mlp"));
    command.stdout(Stdio::null());
    command
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mlp-interrupt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill").args([name, &child.id().to_string()]).status().unwrap();
    assert!(ok.success(), "kill {name}");
}

/// Waits until `path` exists (the run is past its first checkpoint).
fn wait_for(path: &Path, child: &mut Child) {
    let start = Instant::now();
    while !path.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before {}", path.display());
        assert!(start.elapsed() < Duration::from_secs(60), "no {}", path.display());
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn params(path: &Path) -> Vec<u64> {
    match model_file::load(path).unwrap() {
        AnyModel::F64(m) => m.params.as_slice().iter().map(|v| v.to_bits()).collect(),
        AnyModel::F32(m) => m.params.as_slice().iter().map(|v| u64::from(v.to_bits())).collect(),
    }
}

/// A run of a few seconds: long enough to be interrupted.
const RUN: &[&str] =
    &["train", "--dataset", "digits", "--hidden", "64", "--epochs", "200", "--batch-size", "16"];

#[test]
fn sigint_and_sigterm_stop_cleanly_and_the_checkpoint_resumes_to_the_same_bits() {
    let d = dir("resume");
    let (ckpt, part, done, full) = (
        d.join("run.ckpt"),
        d.join("part.safetensors"),
        d.join("done.safetensors"),
        d.join("full.safetensors"),
    );
    let status = mlp().args(RUN).arg("--out").arg(&full).arg("-q").status().unwrap();
    assert!(status.success());

    let mut child = mlp()
        .args(RUN)
        .args(["--checkpoint".as_ref(), ckpt.as_os_str(), "--out".as_ref(), part.as_os_str()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&ckpt, &mut child);
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted by SIGINT"), "{stderr}");
    assert!(stderr.contains(&format!("mlp train --resume {}", ckpt.display())), "{stderr}");
    let saved = params(&part);
    assert_ne!(saved, params(&full), "interrupted before the end");

    // Resumed, stopped again by SIGTERM, resumed to the end.
    let child = mlp()
        .arg("train")
        .arg("--resume")
        .arg(&ckpt)
        .arg("--out")
        .arg(&done)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{}", String::from_utf8_lossy(&out.stderr));
    let status = mlp()
        .arg("train")
        .arg("--resume")
        .arg(&ckpt)
        .arg("--out")
        .arg(&done)
        .arg("-q")
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        params(&done),
        params(&full),
        "resumed twice, the run ends where the whole run ends"
    );
}

#[test]
fn resume_refuses_changed_settings_and_other_files_by_name() {
    let d = dir("refuse");
    let ckpt = d.join("run.ckpt");
    let args = ["train", "--dataset", "iris", "--epochs", "3", "-q", "--checkpoint"];
    assert!(
        mlp()
            .args(args)
            .arg(&ckpt)
            .arg("--out")
            .arg(d.join("m.safetensors"))
            .status()
            .unwrap()
            .success()
    );
    let out = mlp().args(["train", "--resume"]).arg(&ckpt).args(["--lr", "0.5"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("cannot resume: --solver, --lr, --momentum or --weight-decay differs"),
        "{stderr}"
    );
    let model = d.join("m.safetensors");
    let out = mlp().args(["train", "--resume"]).arg(&model).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("m.safetensors: no mlp_checkpoint metadata"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // And the other way round: a checkpoint where a model is expected.
    let out = mlp().arg("inspect").arg(&ckpt).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("run.ckpt: a training checkpoint, not a model file"), "{stderr}");
}

#[test]
fn a_second_ctrl_c_exits_at_once_without_touching_files() {
    let d = dir("twice");
    let (ckpt, out_file) = (d.join("run.ckpt"), d.join("model.safetensors"));
    std::fs::write(&out_file, b"the model from before").unwrap();
    // About a second an epoch, so that both signals land in one step.
    let mut child = mlp()
        .args(["train", "--dataset", "digits", "--hidden", "1024,1024", "--solver", "gd"])
        .args(["--epochs", "100", "--checkpoint-every", "1000", "--checkpoint"])
        .arg(&ckpt)
        .arg("--out")
        .arg(&out_file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("epoch     1"), "{first}");
    let pid = child.id();
    let sent = Instant::now();
    // Apart, or the two could merge into one pending signal.
    let twice = format!("kill -INT {pid}; sleep 0.02; kill -INT {pid}");
    assert!(Command::new("sh").args(["-c", &twice]).status().unwrap().success());
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(sent.elapsed() < Duration::from_millis(500), "took {:?}", sent.elapsed());
    assert_eq!(std::fs::read(&out_file).unwrap(), b"the model from before");
    assert!(!ckpt.exists());
    assert!(rest.iter().all(|l| !l.contains("interrupted by")), "{rest:?}");
}

#[test]
fn sigkill_at_any_moment_leaves_every_file_as_it_was_or_complete() {
    let d = dir("kill");
    let (ckpt, out_file) = (d.join("run.ckpt"), d.join("model.safetensors"));
    let before_args = ["train", "--dataset", "iris", "--epochs", "2", "-q", "--out"];
    assert!(mlp().args(before_args).arg(&out_file).status().unwrap().success());
    let before = std::fs::read(&out_file).unwrap();
    // A checkpoint of a few megabytes after every epoch: kills land in writes.
    let mut killed_mid_write = 0;
    let delays: Vec<u64> = (0..12).map(|k| 200 + 47 * k).collect();
    for &delay in &delays {
        let mut child = mlp()
            .args(["train", "--dataset", "digits", "--hidden", "512,256", "--batch-size", "256"])
            .args(["--epochs", "1000", "-q", "--checkpoint"])
            .arg(&ckpt)
            .arg("--out")
            .arg(&out_file)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        signal(&child, "-KILL");
        child.wait().unwrap();
        assert_eq!(std::fs::read(&out_file).unwrap(), before, "after SIGKILL at {delay} ms");
        if ckpt.exists() {
            mlp::checkpoint::load(&ckpt).unwrap_or_else(|e| panic!("after {delay} ms: {e}"));
        }
        for entry in std::fs::read_dir(&d).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with(".run.ckpt.tmp-") {
                killed_mid_write += 1;
                std::fs::remove_file(d.join(name)).unwrap();
            }
        }
    }
    eprintln!(
        "{killed_mid_write} of {} kills landed while a checkpoint was being written",
        delays.len()
    );
}
