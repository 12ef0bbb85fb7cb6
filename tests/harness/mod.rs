//! Tests of the linked tree as named trials (libtest-mimic): a test the tree
//! cannot express is ignored with the capability it lacks, at run time, since
//! the capabilities are the linked manifest's.

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use mmharness::catalogue::applicable;
use mmharness::linked::linked_manifest;
use mmharness_build::caps::Cap;

/// A trial named `name` that runs `test` when the linked tree has all of
/// `requires`, and is ignored with what it lacks otherwise.
pub fn trial(
    name: impl Into<String>,
    requires: &'static [Cap],
    test: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    Trial::ignorable_test(name, move || match applicable(requires, &linked_manifest().capabilities) {
        Ok(()) => test().map(|()| Completion::Completed),
        Err(reason) => Ok(Completion::ignored_with(reason)),
    })
}

/// A trial of a test that fails by panicking, as `#[test]` functions do.
pub fn test(name: &str, requires: &'static [Cap], test: fn()) -> Trial {
    trial(name, requires, move || {
        test();
        Ok(())
    })
}

/// Runs `trials` with the command line cargo test passes, and exits.
pub fn main(trials: Vec<Trial>) -> ! {
    libtest_mimic::run(&Arguments::from_args(), trials).exit()
}

/// Trials of functions that fail by panicking, each named after its
/// function and gated on the capabilities in brackets:
/// `tests![f, g => [Cap::IoRemap]]`.
macro_rules! tests {
    ($($f:ident $(=> [$($cap:expr),* $(,)?])?),* $(,)?) => {
        vec![$($crate::harness::test(stringify!($f), &[$($($cap),*)?], $f)),*]
    };
}
pub(crate) use tests;
