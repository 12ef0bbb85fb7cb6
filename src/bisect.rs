//! `mmharness bisect-run`, for `git bisect run`: good (0), bad (1), skip
//! (125) when the revision cannot be built or tested, and 128 or more for
//! the tool's own failures, which git must not read as a verdict.

use crate::backend::Runner;
use crate::e2e_suite;
use crate::suite::{self, Row, Status};
use mmharness_build::artifact::{self, BuildError, Options};
use mmharness_build::tree::{Tree, TreeError};
use std::path::Path;

pub const GOOD: i32 = 0;
pub const BAD: i32 = 1;
pub const SKIP: i32 = 125;
/// Any failure of the tool itself, panics included.
pub const TOOL_FAILURE: i32 = 128;

pub struct Verdict {
    pub code: i32,
    /// Why, for stderr.
    pub reason: String,
    pub rows: Vec<Row>,
}

impl Verdict {
    fn skip(reason: String) -> Self {
        Self { code: SKIP, reason, rows: Vec::new() }
    }
    fn tool(reason: String) -> Self {
        Self { code: TOOL_FAILURE, reason, rows: Vec::new() }
    }
}

/// Whether a tree error is the revision's (skip it) or the tool's.
fn tree_error(e: TreeError) -> Verdict {
    match e {
        // A file this revision lacks, or that is not text, is the revision's
        // problem, not the tool's.
        TreeError::Io { ref source, .. }
            if matches!(source.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidData) =>
        {
            Verdict::skip(format!("this revision cannot be built: {e}"))
        }
        // Every revision of a kernel checkout has its top-level Makefile:
        // without one, KERNEL_SRC names the wrong directory, at every step.
        TreeError::Missing(_) | TreeError::Io { .. } | TreeError::NotAKernelTree(_) => Verdict::tool(e.to_string()),
        TreeError::MissingFile { .. } | TreeError::TooOld(_) | TreeError::Lex(_) => {
            Verdict::skip(format!("this revision cannot be tested: {e}"))
        }
    }
}

/// Whether a build error is the revision's (skip it) or the machine's.
fn build_error(e: BuildError) -> Verdict {
    match e {
        BuildError::Tree(t) => tree_error(t),
        BuildError::Extract(_) | BuildError::Compile { .. } | BuildError::Bindgen { .. } => {
            Verdict::skip(format!("this revision cannot be built: {e}"))
        }
        BuildError::NotApplicable(_) => Verdict::skip(format!("this revision cannot be judged: {e}")),
        BuildError::NoLiburcu | BuildError::NoLibclang | BuildError::Toolchain { .. } | BuildError::Io { .. } => {
            Verdict::tool(e.to_string())
        }
    }
}

/// Builds the revision checked out at `tree` through the cache (with the
/// sanitizers if `sanitize`), runs the
/// selected scenarios in its runner and decides. A failing scenario is run
/// `tries` times in all: bad only if it fails every time, skipped if not.
pub fn bisect_run(tree: &Path, filters: &[String], tries: u32, cache: &Path, sanitize: bool) -> Verdict {
    let entries = suite::select(filters);
    if entries.is_empty() {
        return Verdict::tool(format!(
            "no catalogue scenario's name contains any of {filters:?}: `mmharness list` prints their names"
        ));
    }
    let tree = match Tree::open(tree) {
        Ok(t) => t,
        Err(e) => return tree_error(e),
    };
    let art = match artifact::build(&tree, &Options::runner_only(cache.to_path_buf()).sanitized(sanitize)) {
        Ok(a) => a,
        Err(e) => return build_error(e),
    };
    let mut runner = Runner::for_artifact(&art);
    let mut rows = Vec::new();
    for e in &entries {
        let mut row = match suite::run_entry(&mut runner, e) {
            Ok(r) => r,
            Err(err) => return Verdict::tool(err.to_string()),
        };
        for _ in 1..tries.max(1) {
            if !matches!(row.status, Status::Fail { .. }) {
                break;
            }
            match suite::run_entry(&mut runner, e) {
                Ok(again) if matches!(again.status, Status::Fail { .. }) => row = again,
                // Neither good nor bad: let git try a neighbour.
                Ok(_) => return Verdict::skip(format!("{} failed, then passed: the result is not repeatable", e.name)),
                Err(err) => return Verdict::tool(err.to_string()),
            }
        }
        rows.push(row);
    }
    let failed: Vec<&Row> = rows.iter().filter(|r| matches!(r.status, Status::Fail { .. })).collect();
    let ran = rows.iter().filter(|r| !matches!(r.status, Status::NotApplicable { .. })).count();
    let version = format!("{} [{}]", art.manifest.kernel_version, art.manifest.capabilities.names().join(" "));
    if !failed.is_empty() {
        let names: Vec<String> = failed
            .iter()
            .map(|r| match &r.status {
                Status::Fail { difference } => format!("{}: {difference}", r.name),
                _ => unreachable!("filtered on Fail"),
            })
            .collect();
        return Verdict { code: BAD, reason: format!("bad: Linux {version}: {}", names.join("; ")), rows };
    }
    if ran == 0 {
        let why: Vec<String> = rows
            .iter()
            .map(|r| match &r.status {
                Status::NotApplicable { reason } => format!("{}: {reason}", r.name),
                _ => unreachable!("none ran"),
            })
            .collect();
        return Verdict {
            code: SKIP,
            reason: format!("Linux {version}: no selected scenario applies to this revision: {}", why.join("; ")),
            rows,
        };
    }
    Verdict { code: GOOD, reason: format!("good: Linux {version}: {ran} scenarios as expected"), rows }
}

/// The end-to-end mode of [`bisect_run`]: the end-to-end entries and the
/// kernel's own tools/testing/vma tests, built into one runner. A crash of
/// the kernel code is bad, like a difference.
pub fn bisect_run_e2e(tree: &Path, filters: &[String], cache: &Path, sanitize: bool) -> Verdict {
    let tree = match Tree::open(tree) {
        Ok(t) => t,
        Err(e) => return tree_error(e),
    };
    // Sanitized, a leak or use-after-free in mm/vma.c is bad too.
    let opts = Options::runner_only(cache.to_path_buf()).sanitized(sanitize);
    let art = match mmharness_build::e2e::build(&tree, &opts) {
        Ok(a) => a,
        Err(e) => return build_error(e),
    };
    let rows = e2e_suite::run(&art, filters);
    if rows.is_empty() {
        return Verdict::tool(format!(
            "no end-to-end entry or kernel VMA test's name contains any of {filters:?}: see `mmharness table --e2e`"
        ));
    }
    let version = &art.manifest.kernel_version;
    let failed: Vec<&str> = rows.iter().filter(|r| r.failed()).map(|r| r.name.as_str()).collect();
    let judged = rows.iter().filter(|r| r.passed()).count();
    if judged == 0 {
        return Verdict::skip(format!("no selected end-to-end row applies to Linux {version}"));
    }
    if failed.is_empty() {
        let reason = format!("good: Linux {version}: {judged} end-to-end rows as expected");
        return Verdict { code: GOOD, reason, rows: Vec::new() };
    }
    let reason = format!("bad: Linux {version}: {}\n{}", failed.join("; "), e2e_suite::terminal(version, &rows));
    Verdict { code: BAD, reason, rows: Vec::new() }
}
