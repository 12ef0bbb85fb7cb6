//! The linked tree's runner, one per test thread: plain, or with
//! `MMHARNESS_SANITIZE=1` built with AddressSanitizer and UBSan (whose
//! runtimes are not linked into the test binaries).

use mmharness::linked::linked_manifest;
use mmharness::{Backend, Outcome, RunError, Runner, Scenario};
use mmharness_build::artifact::{self, Options};
use mmharness_build::{cache_dir, sanitize_requested, tree::Tree};
use std::cell::RefCell;
use std::sync::OnceLock;

thread_local! {
    static RUNNER: RefCell<Option<Runner>> = const { RefCell::new(None) };
}

fn new_runner() -> Runner {
    if !sanitize_requested() {
        return Runner::linked();
    }
    static SANITIZED: OnceLock<artifact::Artifact> = OnceLock::new();
    let art = SANITIZED.get_or_init(|| {
        let tree = Tree::open(&linked_manifest().tree).expect("the linked tree");
        artifact::build(&tree, &Options::runner_only(cache_dir()).sanitized(true)).expect("a sanitized build")
    });
    Runner::for_artifact(art)
}

/// `s` in this thread's runner, which a crash of the kernel code ends
/// (and the next scenario restarts), never the test binary.
pub fn run(s: &Scenario) -> Result<Outcome, RunError> {
    RUNNER.with(|r| r.borrow_mut().get_or_insert_with(new_runner).run(s))
}
