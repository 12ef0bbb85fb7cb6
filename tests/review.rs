//! `review` builds the patched tree, not the original: an `#error` patched
//! into each kind of input the build reads makes the patched build fail,
//! whether the overlay's temp path is short or long.

use mmharness::review;
use mmharness_build::artifact::{self, Options};
use mmharness_build::fetch;
use mmharness_build::plan::Plan;
use mmharness_build::tree::Tree;
use std::path::Path;

/// One file of each kind the unit compiles: extracted code, extracted
/// helpers, the tools headers and the kernel headers the unit includes.
/// `include/linux/mm_types.h` is not among them: the unit takes the types
/// from the tools headers' copies, and the kernel's are compared with those
/// copies as text (check-dup), never compiled.
const KINDS: &[&str] = &[
    "mm/util.c",
    "mm/internal.h",
    "mm/memory.c",
    "include/linux/mm.h",
    "tools/testing/vma/include/dup.h",
    "mm/vma.h",
    "tools/testing/vma/vma_internal.h",
];

/// Where an `#error` is compiled: inside the first definition the build
/// extracts from `path` (only those are compiled of code files), else at
/// the top of a header included whole.
fn error_line(base: &Plan, path: &str) -> usize {
    let Some(def) = base.extract.places().into_iter().find(|x| x.file == path) else { return 1 };
    let text = base.tree.read(path).unwrap();
    let open = text.lines().enumerate().skip(def.line - 1).find(|(_, l)| l.ends_with('{')).unwrap().0;
    open + 2
}

/// A git-format patch adding `#error` before `line` of `path`, made from the
/// tree's own text (no kernel source is kept in this repository).
fn error_patch(base: &Plan, path: &str) -> String {
    let line = error_line(base, path);
    let text = base.tree.read(path).unwrap();
    let context: String = text.lines().skip(line - 1).take(3).map(|l| format!(" {l}\n")).collect();
    let n = context.lines().count();
    format!(
        "diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -{line},{n} +{line},{} @@\n\
         +#error mmharness: patched {path}\n{context}",
        n + 1
    )
}

/// Applies each patch in an overlay made under `tmp` and builds it.
fn each_patched_build_fails(tmp: &Path) {
    let tree = Tree::open(&mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap().root).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let base = Plan::new(&tree, cache.path(), false).unwrap();
    let read = base.inputs();
    for path in KINDS {
        let patch = error_patch(&base, path);
        let patches = review::patches(&patch);
        let (overlay, _) = review::apply_in(tmp, &tree.root, &patches, &read).unwrap();
        let built = Plan::new(&Tree::open(overlay.path()).unwrap(), cache.path(), false)
            .and_then(|p| artifact::from_plan(p, &Options::runner_only(cache.path().to_path_buf())));
        let Err(e) = built else { panic!("{path} patched with #error built under {}", tmp.display()) };
        assert!(format!("{e:#}").contains(&format!("patched {path}")), "{path}: {e:#}");
    }
}

#[test]
fn a_patched_input_of_each_kind_is_what_is_built_at_a_short_temp_path() {
    let short = tempfile::Builder::new().prefix("m").tempdir().unwrap();
    each_patched_build_fails(short.path());
}

#[test]
fn a_patched_input_of_each_kind_is_what_is_built_at_a_long_temp_path() {
    let top = tempfile::tempdir().unwrap();
    let long = top.path().join("a-long-temporary-directory-name-".repeat(6)).join("and-deeper-".repeat(6));
    std::fs::create_dir_all(&long).unwrap();
    each_patched_build_fails(&long);
}
