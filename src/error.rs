//! Why a scenario did not run: the runner's faults, and scenarios the tree
//! cannot express.

use crate::scenario::Need;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("starting the runner {path}: {source}")]
    Spawn { path: PathBuf, source: std::io::Error },
    #[error("the runner {path} speaks another encoding (scenario {scenario} bytes, outcome {outcome} bytes): rebuild its artifact")]
    Encoding { path: PathBuf, scenario: u32, outcome: u32 },
    #[error("the runner {path} sent no greeting: {why}")]
    NoHello { path: PathBuf, why: String },
    #[error("talking to the runner {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the injection site `{0}` is not a function extracted from this tree")]
    UnknownSite(String),
    /// The tree's API cannot express the scenario; nothing ran.
    #[error("the tree cannot express this scenario: it lacks {0}")]
    Unsupported(Need),
    #[error("the driver refused the scenario for a reason this build does not know ({0}): rebuild the artifact")]
    UnknownMissing(u32),
}
