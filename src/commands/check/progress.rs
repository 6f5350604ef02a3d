//! The progress bar of `admit check` on a terminal.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::check;

/// A progress bar on standard error that appears only once a run has taken a second: short
/// runs (a pre-commit hook) never flash one.
#[derive(Debug, Default)]
pub(super) struct ProgressBar {
    bar: OnceLock<(indicatif::ProgressBar, Instant)>,
}

impl check::Progress for ProgressBar {
    fn start(&self, files: usize) {
        // Paths under different configurations are checked one group after another.
        if let Some((bar, _)) = self.bar.get() {
            bar.inc_length(files as u64);
            return;
        }
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(files as u64),
            indicatif::ProgressDrawTarget::hidden(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} checking {pos}/{len} files {wide_bar} {eta}",
        ) {
            bar.set_style(style);
        }
        let _ = self.bar.set((bar, Instant::now()));
    }

    fn advance(&self) {
        if let Some((bar, started)) = self.bar.get() {
            if bar.is_hidden() && started.elapsed() > Duration::from_secs(1) {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some((bar, _)) = self.bar.get()
            && bar.position() >= bar.length().unwrap_or(0)
        {
            bar.finish_and_clear();
        }
    }
}
