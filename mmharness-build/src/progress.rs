//! What a fetch or a build is doing, told to whoever shows it. The library
//! prints nothing itself: a build script must stay silent (cargo repeats
//! its output as warnings), and a test's output is its own. The command
//! line installs an [`Observer`] that draws one line on a terminal.

use std::sync::{Arc, RwLock};

/// Shows the step under way: one line, replaced by the next step's.
pub trait Observer: Send + Sync {
    /// A step begins, or the one under way says what it does now.
    /// `counts_bytes`: a new step whose [`Observer::bytes`] will follow.
    fn step(&self, what: &str, counts_bytes: bool);
    /// How many bytes the step under way has moved so far.
    fn bytes(&self, n: u64);
    /// The step is over, done or failed: its line goes.
    fn end(&self);
}

static OBSERVER: RwLock<Option<Arc<dyn Observer>>> = RwLock::new(None);

/// From now on, steps are told to `observer` (none are told by default).
pub fn observe(observer: Arc<dyn Observer>) {
    *OBSERVER.write().unwrap_or_else(|e| e.into_inner()) = Some(observer);
}

fn tell(f: impl FnOnce(&dyn Observer)) {
    let observer = OBSERVER.read().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(o) = observer {
        f(&*o);
    }
}

/// A step shown while it runs; it ends when dropped, on an error too.
pub struct Step {
    what: String,
}

/// A step that says `what`.
pub fn step(what: impl Into<String>) -> Step {
    let what = what.into();
    tell(|o| o.step(&what, false));
    Step { what }
}

impl Step {
    /// The stage the step is at: `<what>: <stage>`.
    pub fn stage(&self, stage: &str) {
        tell(|o| o.step(&format!("{}: {stage}", self.what), false));
    }

    /// From now on the step moves bytes, and says `what`: its count and
    /// rate start here, not at the step's start.
    pub fn counting(&self, what: &str) {
        tell(|o| o.step(what, true));
    }

    pub fn bytes(&self, n: u64) {
        tell(|o| o.bytes(n));
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        tell(|o| o.end());
    }
}
