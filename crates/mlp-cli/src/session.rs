//! What keeps a long `mlp train` safe: signals that stop it cleanly,
//! checkpoints, and `--resume`, which replays the arguments a checkpoint
//! was started with.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use mlp::{Float, Hooks, Progress, TrainState};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

use crate::progress::Reporter;

/// The checkpoint's metadata key for the command line it was started with.
const ARGS_KEY: &str = "mlp_cli_args";

/// SIGINT and SIGTERM, caught: the first sets a flag the training loop reads
/// after each step; a second one of either exits at once with 130 or 143,
/// writing nothing (writes are atomic, so no file is left half-written).
pub struct Signals {
    int: Arc<AtomicBool>,
    term: Arc<AtomicBool>,
}

impl Signals {
    pub fn install() -> Result<Self> {
        let (int, term, armed) = (Arc::default(), Arc::default(), Arc::new(AtomicBool::new(false)));
        // Actions run in the order registered: the exit checks `armed`
        // before the first signal sets it.
        for (signal, code, own) in [(SIGINT, 130, &int), (SIGTERM, 143, &term)] {
            flag::register_conditional_shutdown(signal, code, Arc::clone(&armed))
                .context("installing the signal handlers")?;
            flag::register(signal, Arc::clone(own)).context("installing the signal handlers")?;
            flag::register(signal, Arc::clone(&armed)).context("installing the signal handlers")?;
        }
        Ok(Self { int, term })
    }

    /// The signal received, if any, and the exit status it calls for.
    pub fn received(&self) -> Option<(&'static str, u8)> {
        if self.int.load(Ordering::Relaxed) {
            Some(("SIGINT", 130))
        } else if self.term.load(Ordering::Relaxed) {
            Some(("SIGTERM", 143))
        } else {
            None
        }
    }
}

/// The command line's hooks into the training loop.
pub struct CliHooks<'a> {
    pub reporter: Reporter,
    pub signals: &'a Signals,
    pub checkpoint: Option<&'a Path>,
    pub every: u64,
    /// The arguments to store, for `--resume`.
    pub args: Vec<String>,
    /// Where the last checkpoint written stood: (epochs done, steps into the next).
    pub written: Option<(usize, usize)>,
}

impl<F: Float> Hooks<F> for CliHooks<'_> {
    fn epoch(&mut self, progress: &Progress<'_, F>) -> ControlFlow<()> {
        self.reporter.epoch(progress.record);
        ControlFlow::Continue(())
    }

    fn interrupted(&mut self) -> bool {
        self.signals.received().is_some()
    }

    fn wants_checkpoint(&mut self, epoch: usize) -> bool {
        self.checkpoint.is_some() && (epoch as u64).is_multiple_of(self.every)
    }

    fn checkpoint(&mut self, state: &TrainState<F>) -> mlp::Result<()> {
        let Some(path) = self.checkpoint else { return Ok(()) };
        let args = serde_json::to_string(&self.args).expect("strings serialise");
        mlp::checkpoint::save(path, state, &BTreeMap::from([(ARGS_KEY.to_string(), args)]))?;
        self.written = Some((state.epoch(), state.batch()));
        Ok(())
    }
}

/// `argv` with, for `mlp train ... --resume FILE ...`, the arguments stored
/// in FILE put before those given (which then override them). Unchanged
/// for every other command.
pub fn expand_resume(argv: Vec<OsString>) -> Result<Vec<OsString>> {
    if argv.get(1).is_none_or(|c| c != "train") {
        return Ok(argv);
    }
    let Some(path) = resume_path(&argv[2..]) else { return Ok(argv) };
    let (_, extra) = mlp::checkpoint::load(&path)?;
    let stored = extra.get(ARGS_KEY).with_context(|| {
        format!(
            "{}: the checkpoint holds no mlp train arguments (written by the library?)",
            path.display()
        )
    })?;
    let stored: Vec<String> = serde_json::from_str(stored).with_context(|| {
        format!("{}: the stored arguments are not a list of strings", path.display())
    })?;
    let mut out = argv[..2].to_vec();
    out.extend(stored.into_iter().map(OsString::from));
    out.extend_from_slice(&argv[2..]);
    Ok(out)
}

/// The value of the last `--resume` in `args`.
fn resume_path(args: &[OsString]) -> Option<PathBuf> {
    let mut found = None;
    for (i, a) in args.iter().enumerate() {
        if a == "--resume" {
            found = args.get(i + 1).map(PathBuf::from);
        } else if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--resume=")) {
            found = Some(PathBuf::from(v));
        }
    }
    found
}

/// The arguments of `mlp train` to store in a checkpoint: those after
/// `train`, without `--resume` (a resumed run's checkpoint replays the
/// same arguments as the first) and without `--distributed` (how a run is
/// launched: it resumes under `mpirun` or without it).
pub fn stored_args(argv: &[OsString]) -> Vec<String> {
    let mut out = Vec::new();
    let mut args = argv.iter().skip(2).map(|a| a.to_string_lossy().into_owned());
    while let Some(a) = args.next() {
        if a == "--resume" {
            args.next();
        } else if !a.starts_with("--resume=") && a != "--distributed" {
            out.push(a);
        }
    }
    out
}
