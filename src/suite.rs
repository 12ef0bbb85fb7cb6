//! Running the catalogue, or part of it, on one tree: what `table`,
//! `bisect-run`, `diff` and `review` report.

use crate::backend::{Backend, RunError};
use crate::catalogue::{catalogue, Entry};
use crate::expect::Expected;
use crate::outcome::Outcome;
use mmharness_build::caps::Capabilities;
use serde::Serialize;

/// How one entry went on one tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// What the catalogue expects.
    Pass,
    /// Something else: the difference in words.
    Fail { difference: String },
    /// The tree cannot express the scenario.
    NotApplicable { reason: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: &'static str,
    pub why: &'static str,
    pub status: Status,
    pub expected: Expected,
    /// The summary of what happened, if the scenario ran.
    pub got: Option<Expected>,
    pub outcome: Option<Outcome>,
}

impl Row {
    /// The result as a reader wants it: `-EAGAIN`, `crash: ...` or `-`.
    pub fn result(&self) -> String {
        match &self.outcome {
            None => "-".into(),
            Some(o) => match &o.crash {
                Some(c) => match c.signal {
                    Some(s) => format!("crash ({})", signal_name(s)),
                    // A sanitizer's report ends the runner with exit(1), no signal.
                    None if c.description.contains("AddressSanitizer") => "ASan report".into(),
                    None if c.description.contains("runtime error:") => "UBSan report".into(),
                    None => "exited".into(),
                },
                None => o.ret().name(),
            },
        }
    }

    pub fn warns(&self) -> Vec<String> {
        self.outcome.iter().flat_map(|o| o.warns.iter().map(|w| w.to_string())).collect()
    }
}

/// `SIGSEGV` for 11, or the number when it names no signal.
fn signal_name(n: i32) -> String {
    nix::sys::signal::Signal::try_from(n).map_or_else(|_| format!("signal {n}"), |s| s.as_str().to_string())
}

/// Entries whose name contains any of `filters` (all entries if none).
pub fn select(filters: &[String]) -> Vec<Entry> {
    catalogue()
        .into_iter()
        .filter(|e| filters.is_empty() || filters.iter().any(|f| e.name.contains(f.as_str())))
        .collect()
}

/// Whether `e` runs on a tree with `caps`: `Err` with the reason, naming what
/// the entry requires or what its scenario asks that the tree lacks. What
/// `table` reports before it runs an entry, and `list --kernel` without running.
pub fn applicability(e: &Entry, caps: &Capabilities) -> Result<(), String> {
    e.applicable(caps)?;
    match e.scenario.unmet(caps) {
        Some(need) => Err(format!("not applicable: the tree lacks {need}")),
        None => Ok(()),
    }
}

pub fn run_entry(backend: &mut dyn Backend, e: &Entry) -> Result<Row, RunError> {
    let not_applicable = |reason| {
        Ok(Row {
            name: e.name,
            why: e.why,
            status: Status::NotApplicable { reason },
            expected: e.expected.clone(),
            got: None,
            outcome: None,
        })
    };
    if let Err(reason) = applicability(e, backend.capabilities()) {
        return not_applicable(reason);
    }
    // The scenario itself may ask for more than the entry lists.
    let o = match backend.run(&e.scenario) {
        Err(RunError::Unsupported(need)) => return not_applicable(format!("not applicable: the tree lacks {need}")),
        ran => ran?,
    };
    let status = match e.expected.check(&o) {
        Ok(()) => Status::Pass,
        Err(difference) => Status::Fail { difference },
    };
    Ok(Row {
        name: e.name,
        why: e.why,
        status,
        expected: e.expected.clone(),
        got: Some(Expected::of(&o)),
        outcome: Some(o),
    })
}

pub fn run(backend: &mut dyn Backend, entries: &[Entry]) -> Result<Vec<Row>, RunError> {
    entries.iter().map(|e| run_entry(backend, e)).collect()
}
