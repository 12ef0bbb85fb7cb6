//! What a build makes and how it fails: the artifact, its manifest, the
//! options of a build and its errors. Every stage depends on this module,
//! and it on none of them.

use crate::cache::Hashes;
use crate::caps::Capabilities;
use crate::extract::{ExtractError, Extracted};
use crate::toolchain::ToolError;
use crate::tree::TreeError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const LIB_NAME: &str = "mmharness_kernel";

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error("{0}; this tree cannot be built by mmharness (in a bisect, skip this revision)")]
    Extract(#[from] ExtractError),
    #[error("the liburcu headers are missing: install them with `apt-get install liburcu-dev`")]
    NoLiburcu,
    #[error("libclang is missing, bindgen needs it: install it with `apt-get install libclang-dev`")]
    NoLibclang,
    /// The tree's code does not compile.
    #[error("{what} failed for {tree}:\n{output}")]
    Compile { what: String, tree: PathBuf, output: String },
    /// The machine's fault, not the tree's: no compiler, or one that was killed.
    #[error("{what}: {message}")]
    Toolchain { what: String, message: String },
    #[error("bindgen failed for {tree}: {message}")]
    Bindgen { tree: PathBuf, message: String },
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// The end-to-end mode does not apply to this tree, and why (read from it).
    #[error("the end-to-end mode does not apply: {0}")]
    NotApplicable(String),
}

impl BuildError {
    pub fn of_tool(e: ToolError, tree: &Path) -> Self {
        match e {
            ToolError::Failed { what, output } => BuildError::Compile { what, tree: tree.to_path_buf(), output },
            ToolError::NoLiburcu => BuildError::NoLiburcu,
            ToolError::Machine { what, message } => BuildError::Toolchain { what, message },
        }
    }
}

/// An I/O error of a build, with what the build was doing.
pub(crate) fn io<T>(context: impl FnOnce() -> String, r: std::io::Result<T>) -> Result<T, BuildError> {
    r.map_err(|source| BuildError::Io { context: context(), source })
}

impl From<ToolError> for BuildError {
    fn from(e: ToolError) -> Self {
        Self::of_tool(e, Path::new(""))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub tree: PathBuf,
    pub kernel_version: String,
    pub capabilities: Capabilities,
    /// The cache key (see `unit`).
    pub key: String,
    pub extracted: Vec<Extracted>,
    pub leaves: Vec<String>,
    pub flags: Vec<String>,
    pub compiler: String,
    /// Differences between the tools headers' copies of the mmap-action
    /// types and the kernel's own.
    pub warnings: Vec<String>,
    /// The sha256 of each file of the entry, checked before it is used.
    #[serde(default)]
    pub files: Hashes,
}

impl Manifest {
    /// Whether the artifact was built with AddressSanitizer and UBSan.
    pub fn sanitized(&self) -> bool {
        crate::toolchain::SANITIZE.iter().all(|f| self.flags.iter().any(|g| g == f))
    }

    /// Whether the artifact was built to count the lines it runs.
    pub fn coverage(&self) -> bool {
        crate::toolchain::COVERAGE.iter().all(|f| self.flags.iter().any(|g| g == f))
    }
}

#[derive(Debug, Clone)]
pub struct Artifact {
    pub dir: PathBuf,
    /// This build's manifest (the entry's names whichever tree built it first).
    pub manifest: Manifest,
    /// False when the cache already held it.
    pub compiled: bool,
    /// Every file of the tree the build read, for `rerun-if-changed`.
    pub inputs: Vec<PathBuf>,
}

impl Artifact {
    pub fn lib_dir(&self) -> &Path {
        &self.dir
    }
    pub fn runner(&self) -> PathBuf {
        self.dir.join("runner")
    }
    pub fn bindings(&self) -> PathBuf {
        self.dir.join("bindings.rs")
    }
    pub fn translation_unit(&self) -> PathBuf {
        self.dir.join("tu.c")
    }
    /// gcc's notes of a coverage artifact: its lines and blocks, which
    /// gcov reads with the counts of a run.
    pub fn coverage_notes(&self) -> PathBuf {
        self.dir.join("tu.gcno")
    }
}

pub struct Options {
    /// The cache's root; artifacts go to `<cache>/artifacts/<key>`.
    pub cache: PathBuf,
    /// Build the C side with AddressSanitizer and UBSan; any report aborts
    /// the runner. Such an artifact is for its runner only: its static
    /// library needs the sanitizer runtimes linked first.
    pub sanitize: bool,
    /// Make sure the entry has bindgen bindings (the linked tree needs
    /// them; runners of other trees do not). They do not change the key.
    pub bindings: bool,
    /// Count the lines the extract runs (gcc `--coverage`): a runner that
    /// writes each scenario's counts (see `csrc/runner.c`). The flag is in
    /// the key, so such an artifact never stands for a plain one.
    pub coverage: bool,
}

impl Options {
    pub fn new(cache: PathBuf) -> Self {
        Self { cache, sanitize: false, bindings: true, coverage: false }
    }

    /// Options for an artifact used only through its runner.
    pub fn runner_only(cache: PathBuf) -> Self {
        Self { cache, sanitize: false, bindings: false, coverage: false }
    }

    pub fn sanitized(self, sanitize: bool) -> Self {
        Self { sanitize, ..self }
    }

    pub fn covered(self, coverage: bool) -> Self {
        Self { coverage, ..self }
    }
}
