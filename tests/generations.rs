//! Each older shape of the API, derived from the 7.2 tree (see `shapes`),
//! builds; its capabilities and the catalogue's gates follow its code, and
//! what differs from the catalogue is a behaviour change, never a gate.

mod shapes;

use mmharness::catalogue::catalogue;
use mmharness::outcome::{Event, Obj, Ret};
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
    for (name, difference) in with_status(rows, |s| matches!(s, Status::Fail { .. })) {
        println!("  differs, {name}: {difference}");
    }
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

/// Entries that need `vm_ops->mapped` itself, not a success check: only it
/// sets private data, and only it goes with the `vm_ops` /dev/mem replaces.
const MAPPED_ONLY: &[&str] =
    &["mapped_private_data_is_applied", "failed_mapped_leaves_private_data_unchanged", "devmem_sets_vm_ops_of_its_own"];

/// 7.1 and 7.0.y: the hooks, with 7.2's prototypes. Only `check_mmap_action`,
/// which came with `error_override`, has nothing to check, and where the
/// tree has no `mapped` its success check is the `success_hook`.
fn assert_hook_era_with_7_1_prototypes(shape: shapes::Shape, caps: &str, without_mapped: &[&str]) {
    let (art, rows) = build_and_run(&shape);
    summary(&shape, &art, &rows);
    assert_eq!(art.manifest.capabilities.names().join(" "), caps);
    assert_eq!(with_status(&rows, |s| matches!(s, Status::Fail { .. })), []);
    let lacking = [CHECK_MMAP_ACTION, CHECK_MMAP_ACTION_FAILING].concat();
    let mut expected = vec![("the tree lacks error_override".to_string(), lacking)];
    if !without_mapped.is_empty() {
        expected.push(("the tree lacks vm_ops_mapped".to_string(), without_mapped.to_vec()));
    }
    let mut got = not_applicable(&rows);
    got.sort();
    assert_eq!(got, expected);
}

#[test]
fn the_7_1_shape_builds_and_every_entry_but_check_mmap_action_runs_and_passes() {
    assert_hook_era_with_7_1_prototypes(
        shapes::v7_1(&tree_7_2().root),
        "error_hook success_hook vm_ops_mapped prepare_desc complete_vma_action_compat is_compat desc_vma_flags \
         io_remap simple_ioremap map_kernel_pages split_tools_headers nommu_variants devmem compat_vma_mmap \
         rmap_unlock unmap_on_error io_remap_delegated",
        &[],
    );
}

#[test]
fn the_7_0_stable_shape_with_const_members_and_no_mapped_checks_success_through_its_success_hook() {
    assert_hook_era_with_7_1_prototypes(
        shapes::v7_0_stable(&tree_7_2().root),
        "error_hook success_hook prepare_desc complete_vma_action_compat is_compat desc_vma_flags \
         io_remap simple_ioremap map_kernel_pages split_tools_headers nommu_variants devmem compat_vma_mmap \
         rmap_unlock unmap_on_error io_remap_delegated",
        MAPPED_ONLY,
    );
}

/// 7.0 and 6.19: a void prepare, `mmap_action_complete(action, vma)`, the
/// rmap lock in mm/vma.c, no `mapped`, no simple I/O remap or kernel pages. What differs from the catalogue is
/// the two behaviour changes since, never a gate.
fn assert_void_prepare_era(shape: shapes::Shape, caps: &str) {
    let (art, rows) = build_and_run(&shape);
    summary(&shape, &art, &rows);
    assert_eq!(art.manifest.capabilities.names().join(" "), caps);
    // No vm_ops->mapped: the success check is the action's success_hook,
    // given the VMA that mapped() would have been given the range of.
    let remap = rows.iter().find(|r| r.name == "successful_remap_calls_mapped_once_and_does_not_unmap").unwrap();
    let checks: Vec<&Event> = (remap.outcome.as_ref().unwrap().events.iter())
        .filter(|e| matches!(e, Event::Mapped { .. } | Event::SuccessCheck { .. }))
        .collect();
    assert_eq!(checks, [&Event::SuccessCheck { start: 0x10000, end: 0x14000, pgoff: 0, file: Obj::File, ret: Ret(0) }]);
    assert_eq!(
        with_status(&rows, |s| matches!(s, Status::Fail { .. })),
        [
            // Before 7.1 a failing success_hook returned without unmapping:
            // seen as the success check, the success_hook standing in for
            // mapped(), that fails, and as the hook itself.
            (
                "mapped_failure_unmaps_and_is_overridden",
                "returned -ENOMEM, expected -EAGAIN, unmaps 0, expected 1, do_munmap(mm, start, len, uf) none, \
                 expected (current->mm, 0x10000, 0x4000, NULL)"
                    .to_string()
            ),
            // Before the CVE-2026-53373 fix the compat path unmapped, and
            // its error went through the error hook.
            (
                "compat_vma_mmap_remap_failure_returns_the_raw_error_without_unmapping",
                "returned -EAGAIN, expected -ENOMEM, unmaps 1, expected 0".to_string()
            ),
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
        ("the tree lacks vm_ops_mapped", MAPPED_ONLY.to_vec()),
        ("the tree lacks error_override, prepare_desc", CHECK_MMAP_ACTION_FAILING.to_vec()),
        (
            "the tree lacks prepare_desc",
            vec![
                "remap_outside_the_vma_fails_prepare_with_efault",
                "remap_running_past_the_end_of_the_vma_fails_prepare_with_efault",
                "partial_remap_of_a_cow_mapping_fails_prepare_with_einval",
                "io_remap_outside_the_vma_fails_prepare_with_efault",
                "unknown_action_type_warns_and_fails_prepare_with_einval",
                "compat_vma_mmap_remap_outside_the_vma_fails_with_efault",
                "compat_vma_mmap_partial_cow_remap_fails_with_einval",
            ],
        ),
        // Complete performed I/O remaps before 7.1.
        ("the tree lacks io_remap_delegated", vec!["io_remap_reaching_complete_warns_returns_einval_and_unmaps"]),
        // The action types 7.1 added.
        (
            "the tree lacks simple_ioremap",
            vec![
                "simple_ioremap_that_fits_succeeds",
                "simple_ioremap_with_pgoff_maps_from_that_page",
                "simple_ioremap_counts_the_offset_into_its_first_page",
                "cow_simple_ioremap_remaps_the_whole_vma_and_sets_pgoff_to_the_pfn",
                "simple_ioremap_remap_failure_unmaps",
                "simple_ioremap_reaching_complete_warns_returns_einval_and_unmaps",
            ],
        ),
        (
            "the tree lacks simple_ioremap, prepare_desc",
            vec![
                "simple_ioremap_with_pgoff_that_no_longer_fits_fails_prepare_with_einval",
                "simple_ioremap_smaller_than_the_vma_fails_prepare_with_einval",
                "simple_ioremap_wrapping_physical_memory_fails_prepare_with_einval",
                "simple_ioremap_with_pgoff_past_the_region_fails_prepare_with_einval",
            ],
        ),
        (
            "the tree lacks map_kernel_pages",
            vec![
                "map_kernel_pages_succeeds_without_a_warn",
                "map_kernel_pages_on_a_pfnmap_warns",
                "map_kernel_pages_without_the_mmap_lock_warns",
                "map_kernel_pages_insert_failure_with_override_returns_override_and_unmaps",
                "map_kernel_pages_on_a_mixedmap_vma_skips_the_mmap_lock_check",
            ],
        ),
        (
            "the tree lacks map_kernel_pages, prepare_desc",
            vec![
                "map_kernel_pages_outside_the_vma_fails_prepare_with_efault",
                "map_kernel_pages_starting_below_the_vma_fails_prepare_with_efault",
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
        "error_hook success_hook complete_action_vma io_remap split_tools_headers nommu_variants devmem \
         compat_vma_mmap unmap_on_error",
    );
}

#[test]
fn the_6_19_shape_with_one_tools_header_builds_as_7_0_does() {
    assert_void_prepare_era(
        shapes::v6_19(&tree_7_2().root),
        "error_hook success_hook complete_action_vma io_remap nommu_variants devmem compat_vma_mmap \
         unmap_on_error",
    );
}

/// For runs by hand (`mmharness table --kernel DIR`, `git bisect`): makes
/// each shape in a temp dir that outlives the test and prints where.
/// `cargo test --test generations -- --ignored --nocapture shapes_for_manual_runs`
#[test]
#[ignore = "leaves the shapes in the temp dir: for runs by hand"]
fn shapes_for_manual_runs() {
    let root = tree_7_2().root;
    for shape in [shapes::v6_19(&root), shapes::v7_0(&root), shapes::v7_0_stable(&root), shapes::v7_1(&root)] {
        println!("{} shape: {}", shape.name, shape.overlay.path().display());
        std::mem::forget(shape);
    }
}

/// A 7.2 tree whose `mmap_action_finish` no longer releases the rmap lock,
/// its mm/vma.c untouched: nobody releases it, so this is a regression of
/// the tree, not an older generation's mm/vma.c doing it. The entries on the
/// rmap lock run there and fail; "decided in mm/vma.c" would hide it.
#[test]
fn a_finish_that_forgets_the_rmap_lock_fails_its_entries_rather_than_skipping_them() {
    let tree = tree_7_2();
    let util = std::fs::read_to_string(tree.root.join("mm/util.c")).unwrap();
    let forgot = shapes::rmap_unlock_in_vma_c("mm/util.c", &util);
    assert_ne!(forgot, util, "mmap_action_finish calls maybe_rmap_unlock_action()");
    let shape = shapes::Shape {
        name: "7.2 without the rmap unlock",
        overlay: mmharness_build::overlay::Overlay::new(&tree.root, &[("mm/util.c", &forgot)]).unwrap(),
    };
    let (art, rows) = build_and_run(&shape);
    assert!(art.manifest.capabilities.rmap_unlock, "nobody releases the lock: the capability stays");
    let failed: Vec<&str> = with_status(&rows, |s| matches!(s, Status::Fail { .. })).iter().map(|(n, _)| *n).collect();
    assert!(failed.contains(&"hidden_remap_success_drops_the_rmap_lock"), "{failed:?}");
    assert!(failed.contains(&"hidden_remap_failure_drops_the_rmap_lock_and_unmaps"), "{failed:?}");
}
