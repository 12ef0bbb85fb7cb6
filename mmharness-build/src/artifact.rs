//! One kernel tree in, one artifact out, in three stages: [`Plan`] (the
//! inputs read once, extract, capabilities, leaves), [`Unit`] (the
//! translation unit and its key), [`install`] (compile, bind, verified
//! cache entry).

use crate::install;
pub use crate::output::{Artifact, BuildError, Manifest, Options, LIB_NAME};
use crate::plan::Plan;
use crate::tree::Tree;
use crate::unit::Unit;

/// Turns `tree` into an artifact, from the cache when it is there.
pub fn build(tree: &Tree, opts: &Options) -> Result<Artifact, BuildError> {
    let plan = Plan::new(tree, &opts.cache, opts.sanitize).map_err(|e| with_tree(e, tree))?;
    from_plan(plan, opts)
}

/// The artifact of a plan already made (its sanitizer mode is the plan's;
/// coverage is the options').
pub fn from_plan(plan: Plan, opts: &Options) -> Result<Artifact, BuildError> {
    let tree = plan.tree.clone();
    let plan = if opts.coverage { plan.with_coverage() } else { plan };
    let unit = Unit::new(&plan).map_err(|e| BuildError::of_tool(e, &tree.root))?;
    install::install(plan, unit, &opts.cache, opts.bindings).map_err(|e| with_tree(e, &tree))
}

/// gcc's gcov, of the compiler's version, which reads what a coverage
/// artifact's runner counted.
pub fn gcov() -> Result<std::path::PathBuf, BuildError> {
    Ok(crate::toolchain::gcov()?)
}

/// A compile error names the tree it came from.
fn with_tree(e: BuildError, tree: &Tree) -> BuildError {
    match e {
        BuildError::Compile { what, output, .. } => BuildError::Compile { what, tree: tree.root.clone(), output },
        e => e,
    }
}
