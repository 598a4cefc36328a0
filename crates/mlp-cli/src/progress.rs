//! Training progress on stderr: a bar on a terminal, periodic plain lines
//! otherwise, nothing with `--quiet`.

use indicatif::{ProgressBar, ProgressStyle};
use mlp::EpochRecord;

use crate::common::Num;

pub struct Reporter {
    bar: Option<ProgressBar>,
    quiet: bool,
    every: usize,
}

impl Reporter {
    pub fn new(epochs: usize, quiet: bool, terminal: bool) -> Self {
        let bar = (!quiet && terminal).then(|| {
            let style = ProgressStyle::with_template(
                "{bar:30} epoch {pos}/{len} {msg} ({per_sec}) [{elapsed} < {eta}]",
            )
            .expect("a valid template");
            ProgressBar::new(epochs as u64).with_style(style)
        });
        Self { bar, quiet, every: (epochs / 20).max(1) }
    }

    pub fn epoch(&mut self, r: &EpochRecord) {
        let validation =
            r.validation_loss.map(|v| format!("  validation loss {}", Num(v))).unwrap_or_default();
        let message = format!("loss {}{validation}", Num(r.train_loss));
        match &self.bar {
            Some(bar) => {
                bar.set_position(r.epoch as u64);
                bar.set_message(message);
            }
            None if !self.quiet && (r.epoch.is_multiple_of(self.every) || r.epoch == 1) => {
                let rate = r.epoch as f64 / r.elapsed.as_secs_f64().max(1e-9);
                eprintln!("epoch {:5}  {message}  ({rate:.1} epochs/s)", r.epoch);
            }
            None => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
