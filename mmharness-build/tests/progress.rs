//! The progress line as the library tells it, in a process of its own:
//! the observer is global, and other tests' fetches would tell it theirs.

use mmharness_build::progress::{observe, step, Observer};
use std::sync::{Arc, Mutex};

/// Records each line it is told, `-` for the end.
#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl Observer for Lines {
    fn step(&self, what: &str, counts_bytes: bool) {
        self.0.lock().unwrap().push(format!("{what}{}", if counts_bytes { " [bytes]" } else { "" }));
    }
    fn bytes(&self, _: u64) {}
    fn end(&self) {
        self.0.lock().unwrap().push("-".into());
    }
}

#[test]
fn nested_steps_show_the_outermost_and_the_latest_and_end_when_all_are_done() {
    let lines = Arc::new(Lines::default());
    observe(lines.clone());
    let count = step("mutants");
    count.stage("1/9 judged");
    let build = step("building the Linux 7.3.4 artifact");
    build.stage("linking the runner");
    drop(build);
    drop(count);
    let download = step("downloading linux-source-7.3: apt reads its package lists");
    download.counting("downloading linux-source-7.3");
    drop(download);
    assert_eq!(
        *lines.0.lock().unwrap(),
        [
            "mutants",
            "mutants: 1/9 judged",
            "mutants: 1/9 judged · building the Linux 7.3.4 artifact",
            "mutants: 1/9 judged · building the Linux 7.3.4 artifact: linking the runner",
            "mutants: 1/9 judged",
            "-",
            "downloading linux-source-7.3: apt reads its package lists",
            "downloading linux-source-7.3 [bytes]",
            "-",
        ]
    );
}
