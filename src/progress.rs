//! All progress display in one place: indicatif bars on stderr, only on a
//! terminal and not with `--quiet`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    enabled: bool,
}

/// One phase's bar.
pub struct Phase {
    bar: ProgressBar,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress { enabled: !quiet && std::io::stderr().is_terminal() }
    }

    pub fn phase(&self, name: &str, total: usize) -> Phase {
        let bar = if self.enabled {
            let b = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} {wide_msg}")
                    .expect("static template")
                    .progress_chars("=> "),
            );
            b.set_prefix(name.to_string());
            b
        } else {
            ProgressBar::hidden()
        };
        Phase { bar }
    }
}

impl Phase {
    pub fn done(&self, what: &str) {
        self.bar.set_message(what.to_string());
        self.bar.inc(1);
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
