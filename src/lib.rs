//! mmharness: the Linux kernel's real mmap-action code, run in userland.
//!
//! A [`Scenario`] runs to an [`Outcome`] through a [`Backend`]: in any
//! tree's runner executable, built at run time, or (feature `linked`) in
//! this process on the tree linked at build time. Callers never need
//! `unsafe`.

pub mod backend;
pub mod bisect;
pub mod catalogue;
pub mod compare;
pub mod coverage;
pub mod e2e_catalogue;
pub mod e2e_suite;
mod error;
pub mod expect;
pub mod json;
#[cfg(feature = "linked")]
pub mod linked;
pub mod mapping;
pub mod outcome;
mod raw;
pub mod report;
pub mod review;
pub mod scenario;
pub mod suite;

pub use backend::{Backend, RunError, Runner};
#[cfg(feature = "linked")]
pub use linked::{run_in_process, InProcess};
pub use outcome::{Event, Obj, Outcome, Ret, Warn};
pub use scenario::{ActionType, Injection, Scenario, Stage, VmOps};

/// Raw access to the linked tree's kernel functions, for tests that call
/// them directly (such as `mmap_action_finish`).
#[cfg(feature = "linked")]
pub use mmharness_sys as sys;
