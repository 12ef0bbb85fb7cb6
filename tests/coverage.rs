//! Patch coverage on the real 7.3 code: which lines a patch changes, on
//! which side, and which scenarios of the catalogue ran them. The patches
//! are made at test time from the tree's own text.

use mmharness::coverage::{self, PatchCoverage, Reach};
use mmharness::review::{self, Applied, ChangedLine, Side};
use mmharness::suite;
use mmharness_build::artifact::{self, Options};
use mmharness_build::plan::Plan;
use mmharness_build::tree::Tree;
use mmharness_build::{cache_dir, fetch};

fn tree() -> Tree {
    Tree::open(&mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap().root).unwrap()
}

/// A git-format patch of mm/util.c that replaces the first line equal to
/// `old` after the line starting with `after` by `new`, with three lines
/// of context; and the 1-based number of that line.
fn util_patch(tree: &Tree, after: &str, old: &str, new: &str) -> (String, usize) {
    let text = tree.read("mm/util.c").unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.iter().position(|l| l.starts_with(after)).unwrap_or_else(|| panic!("no `{after}` in mm/util.c"));
    let at =
        from + lines[from..].iter().position(|l| *l == old).unwrap_or_else(|| panic!("no `{old}` after `{after}`"));
    let context = |r: std::ops::Range<usize>| -> String { lines[r].iter().map(|l| format!(" {l}\n")).collect() };
    let patch = format!(
        "diff --git a/mm/util.c b/mm/util.c\n--- a/mm/util.c\n+++ b/mm/util.c\n@@ -{s},7 +{s},7 @@\n{}-{old}\n+{new}\n{}",
        context(at - 3..at),
        context(at + 1..at + 4),
        s = at - 2,
    );
    (patch, at + 1)
}

/// Applies `patch` to the tree and places its changed lines in the coverage
/// of each side by the entries `filters` select.
fn patch_coverage(tree: &Tree, patch: &str, filters: &[&str]) -> PatchCoverage {
    let cache = cache_dir();
    let base = Plan::new(tree, &cache, false).unwrap();
    let (overlay, applied) = review::apply(&tree.root, &review::patches(patch), &base.inputs()).unwrap();
    assert_eq!(applied, Applied::Forward { whitespace_fallback: false });
    let changed = review::changed_lines(&tree.root, overlay.path(), &["mm/util.c".into()]).unwrap();
    let patched = Plan::new(&Tree::open(overlay.path()).unwrap(), &cache, false).unwrap();
    let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
    coverage::of_patch(base, patched, changed, &cache, &suite::select(&filters)).unwrap()
}

/// `return action->error_override ?: err;` is the last statement of
/// mmap_action_finish(), reached on every error path that unmaps ("If an
/// error occurs, unmap the VMA altogether and return an error"); the
/// compat path returns before it ("post-mmap() hook logic will handle
/// cleanup for us").
#[test]
fn dropping_error_override_changes_a_line_every_unmapping_failure_runs_on_both_sides() {
    let tree = tree();
    let (patch, line) =
        util_patch(&tree, "static int mmap_action_finish(", "\treturn action->error_override ?: err;", "\treturn err;");
    let c = patch_coverage(&tree, &patch, &[]);
    let ran = Reach::Ran(vec![
        "remap_failure_with_override_returns_override_and_unmaps_the_vma",
        "remap_failure_without_override_returns_the_raw_error_and_unmaps",
        "failed_mapped_leaves_private_data_unchanged",
        "mapped_failure_unmaps_and_is_overridden",
        "io_remap_failure_with_override_returns_override_and_unmaps",
        "io_remap_reaching_complete_warns_returns_einval_and_unmaps",
        "simple_ioremap_remap_failure_unmaps",
        "simple_ioremap_reaching_complete_warns_returns_einval_and_unmaps",
        "map_kernel_pages_insert_failure_with_override_returns_override_and_unmaps",
        "hidden_remap_failure_drops_the_rmap_lock_and_unmaps",
        "failed_unmap_is_ignored_and_the_override_returned",
        "nommu_remap_warns_at_prepare_and_complete_and_fails_with_einval",
        "nommu_remap_failure_with_override_returns_the_override",
        "devmem_remap_failure_reaches_userspace_as_eagain_and_unmaps",
    ]);
    let at = |side, line| ChangedLine { file: "mm/util.c".into(), side, line };
    let got: Vec<(ChangedLine, Reach)> = c.lines.into_iter().map(|l| (l.at, l.reach)).collect();
    assert_eq!(got, vec![(at(Side::Before, line), ran.clone()), (at(Side::After, line), ran)]);
    assert!(c.not_exercised.is_empty());
    // This scenario's NULL dereference ends the runner before it writes its counts.
    assert_eq!(c.no_counts_before, vec!["hidden_rmap_without_a_file_dereferences_null"]);
}

/// No /dev/mem scenario goes through the compat layer (`__compat_vma_mmap`),
/// and kstrdup() is not extracted: a change to either is reported as not
/// exercised and as outside the extracted code, never left out.
#[test]
fn a_changed_line_no_selected_scenario_runs_is_not_exercised_and_one_outside_the_extract_is_said_to_be() {
    let tree = tree();
    let (compat, compat_line) = util_patch(&tree, "int __compat_vma_mmap(", "\tif (err)", "\tif (err != 0)");
    let (kstrdup, kstrdup_line) = util_patch(
        &tree,
        "noinline",
        "char *kstrdup(const char *s, gfp_t gfp)",
        "char *kstrdup(const char *s, gfp_t gfp) /* a comment */",
    );
    let series = format!(
        "From 1 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 1/2] a\n\n{kstrdup}\n\
                          From 2 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 2/2] b\n\n{compat}"
    );
    let c = patch_coverage(&tree, &series, &["devmem"]);
    let reach = |side, line| c.lines.iter().find(|l| l.at.side == side && l.at.line == line).map(|l| l.reach.clone());
    assert_eq!(reach(Side::After, kstrdup_line), Some(Reach::Outside));
    assert_eq!(reach(Side::Before, compat_line), Some(Reach::Ran(vec![])));
    assert_eq!(reach(Side::After, compat_line), Some(Reach::Ran(vec![])));
    assert_eq!(c.not_exercised, vec![format!("mm/util.c:{compat_line}")]);
}

/// The coverage flags are in the key: a coverage entry of its own, with
/// gcc's notes kept and hashed, beside the plain one, which stays as it was.
#[test]
fn a_coverage_build_is_an_entry_of_its_own_beside_the_plain_one() {
    let tree = tree();
    let plain = artifact::build(&tree, &Options::runner_only(cache_dir())).unwrap();
    let covered = artifact::build(&tree, &Options::runner_only(cache_dir()).covered(true)).unwrap();
    assert_ne!(plain.manifest.key, covered.manifest.key);
    assert!(covered.manifest.coverage() && !plain.manifest.coverage());
    assert!(covered.manifest.files.contains_key("tu.gcno") && covered.coverage_notes().is_file());
    assert!(!plain.manifest.files.contains_key("tu.gcno") && !plain.coverage_notes().exists());
    let again = artifact::build(&tree, &Options::runner_only(cache_dir())).unwrap();
    assert_eq!((again.manifest.key, again.compiled), (plain.manifest.key, false));
}

/// The 1-based line of the first line equal to `wanted` after the line
/// starting with `after`, in the tree's `path`.
fn line_after(tree: &Tree, path: &str, after: &str, wanted: &str) -> usize {
    let text = tree.read(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.iter().position(|l| l.starts_with(after)).unwrap_or_else(|| panic!("no `{after}` in {path}"));
    from + lines[from..].iter().position(|l| *l == wanted).unwrap() + 1
}

/// Per function, the lines with code and who runs them: check_mmap_action()'s
/// `return -EINVAL;` only the overrides that are "not a valid error value"
/// (WARN_ON_ONCE(override && !IS_ERR_VALUE(override))); range_in_vma_desc()'s
/// `if (!desc) return false;` no scenario, since every descriptor is real. The
/// `return` is a line of code only because the coverage build is `-O0`.
#[test]
fn per_function_coverage_names_who_runs_each_line_and_what_nobody_runs() {
    let tree = tree();
    let (c, _) =
        coverage::run(Plan::new(&tree, &cache_dir(), false).unwrap(), &cache_dir(), &suite::select(&[])).unwrap();
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["schema_version"], 1);
    let function = |name: &str| c.functions.iter().find(|f| f.name == name).unwrap();

    let check = function("check_mmap_action");
    let einval = line_after(&tree, "mm/util.c", "static int check_mmap_action(", "\t\treturn -EINVAL;");
    let ran = &check.lines.iter().find(|l| l.line == einval).unwrap().scenarios;
    assert_eq!(
        ran,
        &[
            "override_that_is_not_an_error_fails_prepare_with_einval_and_one_warn",
            "override_int_min_warns_and_fails_prepare_with_einval",
            "override_int_max_warns_and_fails_prepare_with_einval",
            "override_minus_4096_warns_and_fails_prepare_with_einval",
        ]
    );
    assert_eq!((check.lines_executed, check.lines_total), (5, 5));

    let range = function("range_in_vma_desc");
    let no_desc = line_after(&tree, "include/linux/mm.h", "static inline bool range_in_vma_desc(", "\t\treturn false;");
    assert_eq!(range.not_executed, vec![no_desc]);
    assert_eq!(c.functions.iter().filter(|f| !f.not_executed.is_empty()).count(), 2, "{}", coverage::terminal(&c));
}
