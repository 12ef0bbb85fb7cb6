//! The tree linked at build time (`KERNEL_SRC`, or the default tree), for
//! tests: scenarios in this process, direct calls to the kernel functions,
//! and that tree's runner.

use crate::backend::{Backend, RunError, Runner};
use crate::outcome::Outcome;
use crate::raw;
use crate::scenario::Scenario;
use mmharness_build::artifact::Manifest;
use mmharness_sys as sys;
use std::path::Path;

/// The manifest of the tree this crate was linked with.
pub fn linked_manifest() -> &'static Manifest {
    static MANIFEST: std::sync::OnceLock<Manifest> = std::sync::OnceLock::new();
    MANIFEST.get_or_init(|| serde_json::from_str(sys::MANIFEST_JSON).expect("build.rs writes a valid manifest"))
}

/// Runs one scenario in this process, on the linked tree: an error, and
/// nothing run, for a scenario the tree cannot express or an unknown
/// injection site. A fault of the code under test (a NULL dereference, a
/// BUG(), a loop that never ends) is not contained: it ends or hangs this
/// process. Use [`Runner`] to contain it.
pub fn run_in_process(s: &Scenario) -> Result<Outcome, RunError> {
    let input = raw::scenario(s, linked_manifest())?;
    let mut out = raw::empty_outcome();
    // SAFETY: both pointers are valid for the call; mmh_run keeps neither.
    unsafe { sys::mmh_run(&input, &mut out) };
    raw::outcome(&out)
}

/// The C encoding of a scenario for the linked tree, for tests that set up
/// the kernel's structs themselves (`mmh_desc_setup`) and call its
/// functions directly.
pub fn raw_scenario(s: &Scenario) -> Result<sys::mmh_scenario, RunError> {
    raw::scenario(s, linked_manifest())
}

/// Reads what `mmh_begin`/`mmh_end` recorded around direct calls, or what
/// `mmh_run` refused.
pub fn outcome_of_raw(o: &sys::mmh_outcome) -> Result<Outcome, RunError> {
    raw::outcome(o)
}

/// An all-zero `mmh_outcome` for `mmh_begin`.
pub fn empty_raw_outcome() -> sys::mmh_outcome {
    raw::empty_outcome()
}

/// The in-process backend: the fastest, for scenarios known not to fault.
/// Scenarios the tree cannot express are errors, as in a runner; but a
/// crash of the kernel code under test ends this process and a hang hangs
/// it, where a [`Runner`] reports either as the scenario's outcome.
#[derive(Default)]
pub struct InProcess;

impl InProcess {
    pub fn new() -> Self {
        Self
    }
}

impl Backend for InProcess {
    fn run(&mut self, s: &Scenario) -> Result<Outcome, RunError> {
        run_in_process(s)
    }
    fn manifest(&self) -> &Manifest {
        linked_manifest()
    }
}

impl Runner {
    /// The runner of the linked tree.
    pub fn linked() -> Self {
        Self::new(&Path::new(sys::ARTIFACT_DIR).join("runner"), linked_manifest().clone())
    }
}
