//! mmharness: the Linux kernel's real mmap-action code, run in userland.
//!
//! A [`Scenario`] runs to an [`Outcome`] through a [`Backend`]: in this
//! process on the tree linked at build time, or in any tree's runner
//! executable. Callers never need `unsafe`.

pub mod backend;
pub mod bisect;
pub mod catalogue;
pub mod compare;
pub mod outcome;
mod raw;
pub mod report;
pub mod review;
pub mod scenario;
pub mod suite;

pub use backend::{run_in_process, Backend, InProcess, RunError, Runner};
pub use outcome::{Event, Obj, Outcome, Ret, Warn};
pub use scenario::{ActionType, Injection, Scenario, Stage, VmOps};

/// Raw access to the linked tree's kernel functions, for tests that call
/// them directly (such as `mmap_action_finish`).
pub use mmharness_sys as sys;
