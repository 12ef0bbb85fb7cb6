//! What a fetch or a build is doing, told to whoever shows it. The library
//! prints nothing itself: a build script must stay silent (cargo repeats
//! its output as warnings), and a test's output is its own. The command
//! line installs an [`Observer`] that draws one line on a terminal.
//!
//! Steps nest and may run on several threads (the mutants' builds inside
//! their count): the line is the outermost step and the latest one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Shows the step under way: one line, replaced as the steps change.
pub trait Observer: Send + Sync {
    /// The line to show now. `counts_bytes`: a new step whose
    /// [`Observer::bytes`] will follow.
    fn step(&self, what: &str, counts_bytes: bool);
    /// How many bytes the step under way has moved so far.
    fn bytes(&self, n: u64);
    /// No step is under way: the line goes.
    fn end(&self);
}

static OBSERVER: RwLock<Option<Arc<dyn Observer>>> = RwLock::new(None);

/// From now on, steps are told to `observer` (none are told by default).
pub fn observe(observer: Arc<dyn Observer>) {
    *OBSERVER.write().unwrap_or_else(|e| e.into_inner()) = Some(observer);
}

fn observer() -> Option<Arc<dyn Observer>> {
    OBSERVER.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The steps under way, outermost first: id, what it says, whether it counts bytes.
static ACTIVE: Mutex<Vec<(u64, String, bool)>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(0);

/// Tells the observer the line the steps make now.
fn show(active: &[(u64, String, bool)]) {
    let Some(o) = observer() else { return };
    match (active.first(), active.last()) {
        (Some(outer), Some(last)) if active.len() > 1 => o.step(&format!("{} · {}", outer.1, last.1), false),
        (_, Some((_, what, bytes))) => o.step(what, *bytes),
        _ => o.end(),
    }
}

/// Runs `f` on the step `id`'s entry and shows the line.
fn update(id: u64, f: impl FnOnce(&mut (u64, String, bool))) {
    let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(step) = active.iter_mut().find(|s| s.0 == id) {
        f(step);
    }
    show(&active);
}

/// A step shown while it runs; it ends when dropped, on an error too.
pub struct Step {
    id: u64,
    what: String,
}

/// A step that says `what`.
pub fn step(what: impl Into<String>) -> Step {
    let (id, what) = (NEXT.fetch_add(1, Ordering::Relaxed), what.into());
    let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
    active.push((id, what.clone(), false));
    show(&active);
    Step { id, what }
}

impl Step {
    /// The stage the step is at: `<what>: <stage>`.
    pub fn stage(&self, stage: &str) {
        update(self.id, |s| s.1 = format!("{}: {stage}", self.what));
    }

    /// From now on the step moves bytes, and says `what`: its count and
    /// rate start here, not at the step's start.
    pub fn counting(&self, what: &str) {
        update(self.id, |s| *s = (s.0, what.to_string(), true));
    }

    pub fn bytes(&self, n: u64) {
        if let Some(o) = observer() {
            o.bytes(n);
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
        active.retain(|s| s.0 != self.id);
        show(&active);
    }
}
