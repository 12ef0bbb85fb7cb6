//! The progress line on stderr: the library tells its steps (fetch,
//! unpack, artifact builds) to an observer, and this one draws them with
//! indicatif, on a terminal only, never with `--quiet`.

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use mmharness_build::progress::{self, Observer};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Whether progress is drawn: on a terminal, unless `--quiet`. Elsewhere
/// (a pipe, a file, a CI log) redrawn lines would be noise.
pub fn shown(quiet: bool, stderr_is_terminal: bool) -> bool {
    !quiet && stderr_is_terminal
}

/// Draws the steps the library tells, when [`shown`].
pub fn install(quiet: bool) {
    if shown(quiet, std::io::stderr().is_terminal()) {
        progress::observe(Arc::new(Line::default()));
    }
}

/// The one line: the step under way, and whether it counts bytes.
#[derive(Default)]
struct Line {
    bar: Mutex<Option<(ProgressBar, bool)>>,
}

fn bar(what: &str, counts_bytes: bool) -> ProgressBar {
    // The message last, cut to the terminal's width: a line that wraps is
    // redrawn as two.
    let template = if counts_bytes {
        "{spinner} {elapsed:>3} {bytes} ({rate}) {wide_msg}"
    } else {
        "{spinner} {elapsed:>3} {wide_msg}"
    };
    let style = ProgressStyle::with_template(template).expect("a valid template").with_key("rate", rate);
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        .with_style(style)
        .with_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The bytes per second since the step began counting (the first byte
/// seen): indicatif's own estimate, of the first 100 ms sample, read 134 GiB/s.
/// Nothing until half a second has passed.
fn rate(state: &ProgressState, out: &mut dyn std::fmt::Write) {
    let seconds = state.elapsed().as_secs_f64();
    let _ = if seconds < 0.5 {
        out.write_str("…")
    } else {
        write!(out, "{}/s", HumanBytes((state.pos() as f64 / seconds) as u64))
    };
}

impl Observer for Line {
    fn step(&self, what: &str, counts_bytes: bool) {
        let mut line = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match &*line {
            // A new stage of the same step: its time runs on.
            Some((bar, false)) if !counts_bytes => bar.set_message(what.to_string()),
            _ => {
                if let Some((old, _)) = line.take() {
                    old.finish_and_clear();
                }
                *line = Some((bar(what, counts_bytes), counts_bytes));
            }
        }
    }

    fn bytes(&self, n: u64) {
        if let Some((bar, _)) = &*self.bar.lock().unwrap_or_else(|e| e.into_inner()) {
            bar.set_position(n);
        }
    }

    fn end(&self) {
        if let Some((bar, _)) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn progress_is_drawn_on_a_terminal_unless_quiet() {
        assert!(shown(false, true));
        assert!(!shown(true, true), "--quiet");
        assert!(!shown(false, false), "stderr is a pipe or a file");
    }
}
