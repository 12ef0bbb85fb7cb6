//! Each older shape of the API, derived from the 7.2 tree (see `shapes`),
//! builds; its capabilities and the catalogue's gates follow its code, and
//! what differs from the catalogue is a behaviour change, never a gate.

mod shapes;

use mmharness::catalogue::catalogue;
use mmharness::suite::{self, Row, Status};
use mmharness::Runner;
use mmharness_build::artifact::{self, Artifact, Options};
use mmharness_build::tree::Tree;

fn tree_7_2() -> Tree {
    let fetched = mmharness_build::fetched("7.2").expect("fetching linux-source-7.2");
    Tree::open(&fetched.root).unwrap()
}

/// The shape's artifact, built in a scratch cache, and its table.
fn build_and_run(shape: &shapes::Shape) -> (Artifact, Vec<Row>) {
    let tree = Tree::open(shape.overlay.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let art = artifact::build(&tree, &Options::new(cache.path().to_path_buf()))
        .unwrap_or_else(|e| panic!("the {} shape does not build: {e}", shape.name));
    let mut runner = Runner::for_artifact(&art);
    let rows = suite::run(&mut runner, &catalogue()).unwrap();
    (art, rows)
}

fn with_status(rows: &[Row], keep: fn(&Status) -> bool) -> Vec<(&'static str, String)> {
    rows.iter()
        .filter(|r| keep(&r.status))
        .map(|r| match &r.status {
            Status::Pass => (r.name, String::new()),
            Status::Fail { difference } => (r.name, difference.clone()),
            Status::NotApplicable { reason } => (r.name, reason.clone()),
        })
        .collect()
}

/// The entries not applicable on a shape, grouped by reason.
fn not_applicable(rows: &[Row]) -> Vec<(String, Vec<&'static str>)> {
    let mut groups: Vec<(String, Vec<&'static str>)> = Vec::new();
    for (name, reason) in with_status(rows, |s| matches!(s, Status::NotApplicable { .. })) {
        let reason = reason.trim_start_matches("not applicable: ").to_string();
        match groups.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, names)) => names.push(name),
            None => groups.push((reason, vec![name])),
        }
    }
    groups
}

fn summary(shape: &shapes::Shape, art: &Artifact, rows: &[Row]) {
    let count = |keep: fn(&Status) -> bool| with_status(rows, keep).len();
    println!("{} shape: {}", shape.name, art.manifest.capabilities.names().join(" "));
    println!(
        "{} shape: {} pass, {} fail, {} not applicable",
        shape.name,
        count(|s| *s == Status::Pass),
        count(|s| matches!(s, Status::Fail { .. })),
        count(|s| matches!(s, Status::NotApplicable { .. }))
    );
    for (reason, names) in not_applicable(rows) {
        println!("  not applicable, {reason}: {}", names.join(" "));
    }
}

const CHECK_MMAP_ACTION: &[&str] =
    &["override_zero_is_accepted", "override_minus_one_is_accepted", "override_minus_4095_is_accepted"];
const CHECK_MMAP_ACTION_FAILING: &[&str] = &[
    "override_minus_4096_warns_and_fails_prepare_with_einval",
    "override_that_is_not_an_error_fails_prepare_with_einval_and_one_warn",
    "override_int_min_warns_and_fails_prepare_with_einval",
    "override_int_max_warns_and_fails_prepare_with_einval",
];

/// 7.1 and 7.0.y: the hooks, with 7.2's prototypes. Only `check_mmap_action`,
/// which came with `error_override`, has nothing to check.
fn assert_hook_era_with_7_1_prototypes(shape: shapes::Shape) {
    let (art, rows) = build_and_run(&shape);
    summary(&shape, &art, &rows);
    assert_eq!(
        art.manifest.capabilities.names().join(" "),
        "error_hook success_hook vm_ops_mapped prepare_desc complete_vma_action_compat is_compat desc_vma_flags \
         io_remap simple_ioremap map_kernel_pages split_tools_headers nommu_variants devmem compat_vma_mmap \
         rmap_unlock unmap_on_error"
    );
    assert_eq!(with_status(&rows, |s| matches!(s, Status::Fail { .. })), []);
    let lacking = [CHECK_MMAP_ACTION, CHECK_MMAP_ACTION_FAILING].concat();
    assert_eq!(not_applicable(&rows), [("the tree lacks error_override".to_string(), lacking)]);
}

#[test]
fn the_7_1_shape_builds_and_every_entry_but_check_mmap_action_runs_and_passes() {
    assert_hook_era_with_7_1_prototypes(shapes::v7_1(&tree_7_2().root));
}

#[test]
fn the_7_0_stable_shape_with_const_members_builds_as_7_1_does() {
    assert_hook_era_with_7_1_prototypes(shapes::v7_0_stable(&tree_7_2().root));
}

/// 7.0 and 6.19: a void prepare, `mmap_action_complete(action, vma)`, the
/// rmap lock in mm/vma.c. What differs from the catalogue is the two
/// behaviour changes since, never a gate.
fn assert_void_prepare_era(shape: shapes::Shape, caps: &str) {
    let (art, rows) = build_and_run(&shape);
    summary(&shape, &art, &rows);
    assert_eq!(art.manifest.capabilities.names().join(" "), caps);
    assert_eq!(
        with_status(&rows, |s| matches!(s, Status::Fail { .. })),
        [
            // Before the CVE-2026-53373 fix the compat path unmapped, and
            // its error went through the error hook.
            (
                "compat_vma_mmap_remap_failure_returns_the_raw_error_without_unmapping",
                "returned -EAGAIN, expected -ENOMEM, unmaps 1, expected 0".to_string()
            ),
            // Before 7.1 a failing success_hook returned without unmapping.
            ("failing_success_hook_unmaps_the_vma", "unmaps 0, expected 1".to_string()),
        ]
    );
    let groups: Vec<(&str, Vec<&str>)> = vec![
        (
            "the tree lacks is_compat",
            vec![
                "compat_remap_failure_returns_the_raw_error_and_does_not_unmap",
                "compat_success_still_calls_mapped",
                "compat_mapped_failure_returns_the_raw_error_and_does_not_unmap",
            ],
        ),
        ("the tree lacks error_override", CHECK_MMAP_ACTION.to_vec()),
        ("the tree lacks error_override, prepare_desc", CHECK_MMAP_ACTION_FAILING.to_vec()),
        (
            "the tree lacks prepare_desc",
            vec![
                "remap_outside_the_vma_fails_prepare_with_efault",
                "remap_running_past_the_end_of_the_vma_fails_prepare_with_efault",
                "partial_remap_of_a_cow_mapping_fails_prepare_with_einval",
                "cow_remap_sets_pgoff_to_the_pfn",
                "io_remap_outside_the_vma_fails_prepare_with_efault",
                "simple_ioremap_with_pgoff_that_no_longer_fits_fails_prepare_with_einval",
                "simple_ioremap_smaller_than_the_vma_fails_prepare_with_einval",
                "simple_ioremap_wrapping_physical_memory_fails_prepare_with_einval",
                "simple_ioremap_with_pgoff_past_the_region_fails_prepare_with_einval",
                "map_kernel_pages_outside_the_vma_fails_prepare_with_efault",
                "map_kernel_pages_starting_below_the_vma_fails_prepare_with_efault",
                "unknown_action_type_warns_and_fails_prepare_with_einval",
                "compat_vma_mmap_remap_outside_the_vma_fails_with_efault",
                "compat_vma_mmap_partial_cow_remap_fails_with_einval",
            ],
        ),
        (
            "decided in mm/vma.c on this tree (rmap_unlock)",
            vec![
                "hidden_remap_success_drops_the_rmap_lock",
                "hidden_remap_failure_drops_the_rmap_lock_and_unmaps",
                "hidden_rmap_of_an_anonymous_vma_warns",
                "hidden_rmap_without_a_file_dereferences_null",
            ],
        ),
    ];
    let mut got = not_applicable(&rows);
    got.sort();
    let mut expected: Vec<(String, Vec<&str>)> = groups.into_iter().map(|(r, n)| (r.to_string(), n)).collect();
    expected.sort();
    assert_eq!(got, expected);
}

#[test]
fn the_7_0_shape_builds_and_differs_only_where_its_behaviour_does() {
    assert_void_prepare_era(
        shapes::v7_0(&tree_7_2().root),
        "error_hook success_hook vm_ops_mapped complete_action_vma desc_vma_flags io_remap simple_ioremap \
         map_kernel_pages split_tools_headers nommu_variants devmem compat_vma_mmap unmap_on_error",
    );
}

#[test]
fn the_6_19_shape_with_one_tools_header_builds_as_7_0_does() {
    assert_void_prepare_era(
        shapes::v6_19(&tree_7_2().root),
        "error_hook success_hook vm_ops_mapped complete_action_vma desc_vma_flags io_remap simple_ioremap \
         map_kernel_pages nommu_variants devmem compat_vma_mmap unmap_on_error",
    );
}
