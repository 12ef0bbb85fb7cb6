//! Turns a kernel tree into an mmharness artifact: the real mmap-action code
//! taken out of the tree, compiled in userland with the tree's own
//! `tools/testing/vma` headers and our shims, bound with bindgen, cached.

/// The encoding of scenarios and outcomes (`include/scenario.h`), shared by
/// every tree's runner and driver: bindgen's output, nothing else.
#[allow(non_camel_case_types, non_upper_case_globals, dead_code, clippy::all)]
pub mod abi {
    include!(concat!(env!("OUT_DIR"), "/abi.rs"));
}
pub mod artifact;
pub mod c;
pub mod cache;
pub mod caps;
pub mod dupcheck;
pub mod e2e;
pub mod extract;
pub mod fetch;
pub mod inputs;
mod install;
pub mod layout;
mod leaves;
pub mod mutate;
mod output;
pub mod overlay;
pub mod plan;
pub mod process;
pub mod progress;
mod toolchain;
pub mod tree;
mod unit;

pub use artifact::{Artifact, BuildError, Manifest, LIB_NAME};

use std::path::PathBuf;

/// The cache for fetched trees and the artifacts built at run time (the
/// build script keeps its own in `OUT_DIR`): `MMHARNESS_CACHE`, or
/// `$XDG_CACHE_HOME/mmharness`, or `~/.cache/mmharness`. It sits outside
/// the clone, so a fresh clone does not fetch again.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MMHARNESS_CACHE") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("mmharness")
}

/// The tree files the artifact build reads (a directory stands for the
/// files under it): each use of the default tree checks their hashes.
pub fn build_inputs() -> Vec<&'static str> {
    inputs::all_paths()
}

/// The cached tree of Debian's `linux-source-<series>`, fetched, or
/// repaired where the files the build reads differ from the package.
pub fn fetched(series: &str) -> Result<fetch::FetchedTree, fetch::FetchError> {
    fetch::ensure(series, &cache_dir(), fetch::Verify::Inputs(&build_inputs()))
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Tree(#[from] tree::TreeError),
    #[error("no kernel tree: set KERNEL_SRC to a kernel tree, or fetch the default one with scripts/setup (or mmharness fetch)")]
    NoTree,
    #[error("the default kernel tree differs from its package ({0}): repair it with scripts/setup (or mmharness fetch), or set KERNEL_SRC to a kernel tree")]
    Damaged(String),
    #[error("reading the default kernel tree: {0}")]
    Fetch(#[from] fetch::FetchError),
}

/// The tree under test and, for the default tree, what was fetched.
pub struct Resolved {
    pub tree: tree::Tree,
    pub fetched: Option<fetch::FetchedTree>,
}

/// `KERNEL_SRC` if set, else the default tree if the cache holds it intact.
/// Never fetches, repairs or writes: what a build script may do.
pub fn tree_at_hand(cache: &std::path::Path) -> Result<Resolved, ResolveError> {
    if let Some(path) = std::env::var_os("KERNEL_SRC").filter(|v| !v.is_empty()) {
        return Ok(Resolved { tree: tree::Tree::open(std::path::Path::new(&path))?, fetched: None });
    }
    match fetch::cached(fetch::DEFAULT_SERIES, cache, &build_inputs()) {
        Ok(Some(fetched)) => Ok(Resolved { tree: tree::Tree::open(&fetched.root)?, fetched: Some(fetched) }),
        Ok(None) => Err(ResolveError::NoTree),
        Err(fetch::FetchError::Damaged { problem, .. }) => Err(ResolveError::Damaged(problem)),
        Err(e) => Err(e.into()),
    }
}

/// The opt-in sanitizer mode: `MMHARNESS_SANITIZE=1` builds runners with
/// AddressSanitizer and UBSan, and the tests run every scenario through one.
pub fn sanitize_requested() -> bool {
    std::env::var_os("MMHARNESS_SANITIZE").is_some_and(|v| v == "1")
}
