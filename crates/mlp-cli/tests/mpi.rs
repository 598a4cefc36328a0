//! `mpirun -n K mlp train ... --distributed` on this machine: with the exact
//! reduction the model is bitwise the single-process one for K = 1, 2, 3;
//! a rank killed mid-training ends the whole job quickly, leaves no rank
//! running and the previous model file intact. Needs Open MPI (`.ci/run`
//! installs it) and a build with `--features mpi`.
#![cfg(all(unix, feature = "mpi"))]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mlp::model_file::{self, AnyModel};

const MLP: &str = env!("CARGO_BIN_EXE_mlp");

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mlp-mpi-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `mpirun -n ranks mlp <args> --distributed`, allowed to run as root (CI)
/// and with more ranks than cores.
fn mpirun(ranks: usize, args: &[&str]) -> Command {
    let mut c = Command::new("mpirun");
    c.args(["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-n"])
        .arg(ranks.to_string())
        .arg(MLP)
        .args(args)
        .arg("--distributed")
        // Only this machine: Open MPI's launcher for one node, which needs
        // no ssh (CI machines may have none).
        .env("OMPI_MCA_plm", "isolated")
        .stdout(Stdio::null());
    c
}

fn params(path: &Path) -> Vec<u64> {
    match model_file::load(path).unwrap() {
        AnyModel::F64(m) => m.params.as_slice().iter().map(|v| v.to_bits()).collect(),
        AnyModel::F32(m) => m.params.as_slice().iter().map(|v| u64::from(v.to_bits())).collect(),
    }
}

fn run(command: &mut Command) {
    let out = command.stderr(Stdio::piped()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{command:?} failed: {stderr}");
}

#[test]
fn k_ranks_train_the_single_process_model_bit_for_bit() {
    let d = dir("bits");
    // Diabetes: 442 rows, 10 inputs; chunks of 32 rows, so every rank has
    // several chunks of each full batch and of each mini-batch of 96.
    let solvers: [(&str, &[&str]); 3] = [
        ("gd", &["--epochs", "15"]),
        ("lbfgs", &["--epochs", "15"]),
        ("adam", &["--epochs", "4", "--batch-size", "96", "--lr", "0.01"]),
    ];
    for (solver, extra) in solvers {
        let common = [
            &["train", "--dataset", "diabetes", "--hidden", "16", "--solver", solver][..],
            extra,
            &["--chunk-rows", "32", "--seed", "5", "--quiet"],
        ]
        .concat();
        let single = d.join(format!("{solver}-single.safetensors"));
        run(Command::new(MLP).args(&common).arg("--out").arg(&single).stdout(Stdio::null()));
        let want = params(&single);
        for ranks in 1..=3 {
            let out = d.join(format!("{solver}-{ranks}.safetensors"));
            run(mpirun(ranks, &common).args(["--reduction", "exact", "--out"]).arg(&out));
            assert_eq!(params(&out), want, "{solver} on {ranks} ranks");
        }
    }
}

/// The ranks of this test's job, as (rank, pid): processes of `mlp` whose
/// environment holds `MLP_MPI_TEST_JOB=marker` (mpirun passes its
/// environment on) and names their rank.
fn ranks_of(marker: u32) -> Vec<(usize, u32)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(exe) = std::fs::read_link(entry.path().join("exe")) else { continue };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
        let env = String::from_utf8_lossy(&environ);
        let ours = env.split('\0').any(|v| v == format!("MLP_MPI_TEST_JOB={marker}"));
        let rank = env.split('\0').find_map(|v| v.strip_prefix("OMPI_COMM_WORLD_RANK="));
        if ours && exe.ends_with("mlp") {
            found.extend(rank.and_then(|r| r.parse().ok()).map(|r| (r, pid)));
        }
    }
    found.sort_unstable();
    found
}

fn alive(pid: u32) -> bool {
    // A zombie has finished; only its parent has not collected it yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

#[test]
fn a_killed_rank_ends_the_job_and_the_previous_model_survives() {
    let d = dir("kill");
    let (model, ckpt) = (d.join("model.safetensors"), d.join("run.ckpt"));
    let quick = ["train", "--dataset", "digits", "--hidden", "8", "--epochs", "1", "--quiet"];
    run(Command::new(MLP).args(quick).arg("--out").arg(&model).stdout(Stdio::null()));
    let before = std::fs::read(&model).unwrap();

    // Long enough to be killed in the middle; the checkpoint shows it started.
    let long = ["train", "--dataset", "digits", "--hidden", "64", "--epochs", "100000", "--quiet"];
    let mut job = mpirun(2, &long)
        .args(["--checkpoint-every", "1", "--checkpoint"])
        .arg(&ckpt)
        .arg("--out")
        .arg(&model)
        .env("MLP_MPI_TEST_JOB", std::process::id().to_string())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let ranks = loop {
        let ranks = ranks_of(std::process::id());
        if ranks.len() == 2 && ckpt.exists() {
            break ranks;
        }
        assert!(job.try_wait().unwrap().is_none(), "the job ended before it was killed");
        assert!(start.elapsed() < Duration::from_secs(60), "the ranks did not start: {ranks:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let killed = Instant::now();
    let ok = Command::new("kill").args(["-KILL", &ranks[1].1.to_string()]).status().unwrap();
    assert!(ok.success());
    let status = loop {
        if let Some(status) = job.try_wait().unwrap() {
            break status;
        }
        if killed.elapsed() > Duration::from_secs(30) {
            let _ = job.kill();
            panic!("the job still runs 30 s after rank 1 was killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = killed.elapsed();
    let mut stderr = String::new();
    std::io::Read::read_to_string(job.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "the job reported success: {stderr}");
    eprintln!("job ended {took:?} after the kill, status {status}; mpirun said:\n{stderr}");
    // mpirun ends the other ranks with SIGTERM, then SIGKILL after a grace
    // period (a rank waiting in a collective does not act on SIGTERM), and
    // may exit before the last of them has gone.
    let exited = Instant::now();
    for (rank, pid) in ranks {
        while alive(pid) {
            assert!(
                exited.elapsed() < Duration::from_secs(20),
                "rank {rank} (pid {pid}) still runs"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    eprintln!("every rank gone {:?} after the kill", killed.elapsed());
    assert_eq!(std::fs::read(&model).unwrap(), before, "the model file changed");
}

#[test]
fn a_failing_rank_ends_the_job_with_its_message() {
    let d = dir("fail");
    let bad = d.join("bad.csv");
    std::fs::write(&bad, "x,y\n1,2\n3\n").unwrap();
    let start = Instant::now();
    let out = mpirun(2, &["train", bad.to_str().unwrap(), "--target", "y", "--quiet"])
        .arg("--out")
        .arg(d.join("m.safetensors"))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("of 2): ") && stderr.contains("bad.csv"), "{stderr}");
    assert!(start.elapsed() < Duration::from_secs(30), "took {:?}", start.elapsed());
    assert!(!d.join("m.safetensors").exists());
}

#[test]
fn ctrl_c_stops_every_rank_at_the_same_step_and_the_run_resumes_to_the_same_bits() {
    let d = dir("resume");
    let (full, part, resumed, ckpt) = (
        d.join("full.safetensors"),
        d.join("part.safetensors"),
        d.join("resumed.safetensors"),
        d.join("run.ckpt"),
    );
    let run_args = [
        "train",
        "--dataset",
        "digits",
        "--hidden",
        "32",
        "--epochs",
        "300",
        "--batch-size",
        "64",
        "--chunk-rows",
        "16",
        "--quiet",
    ];
    run(Command::new(MLP).args(run_args).arg("--out").arg(&full).stdout(Stdio::null()));
    let mut job = mpirun(2, &run_args)
        .args(["--reduction", "exact", "--checkpoint-every", "5", "--checkpoint"])
        .arg(&ckpt)
        .arg("--out")
        .arg(&part)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !ckpt.exists() {
        assert!(job.try_wait().unwrap().is_none(), "the run ended before its first checkpoint");
        assert!(start.elapsed() < Duration::from_secs(60), "no checkpoint");
        std::thread::sleep(Duration::from_millis(5));
    }
    // mpirun passes Ctrl-C on to every rank as SIGTERM.
    let ok = Command::new("kill").args(["-INT", &job.id().to_string()]).status().unwrap();
    assert!(ok.success());
    let out = job.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted by"), "{stderr}");
    assert_ne!(params(&part), params(&full), "the run was not interrupted");
    let resume = ["train", "--resume", ckpt.to_str().unwrap()];
    run(mpirun(2, &resume).arg("--out").arg(&resumed));
    assert_eq!(params(&resumed), params(&full), "resumed on 2 ranks vs one process");
}
