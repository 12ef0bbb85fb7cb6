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

#[test]
fn the_7_0_shape_builds_and_differs_only_where_its_behaviour_does() {
    let shape = shapes::v7_0(&tree_7_2().root);
    let (art, rows) = build_and_run(&shape);
    println!("{}: {}", shape.name, art.manifest.capabilities.names().join(" "));
    assert_eq!(
        art.manifest.capabilities.names(),
        [
            "error_override",
            "vm_ops_mapped",
            "complete_action_vma",
            "desc_vma_flags",
            "io_remap",
            "simple_ioremap",
            "map_kernel_pages",
            "split_tools_headers",
            "nommu_variants",
            "devmem",
            "compat_vma_mmap",
            "unmap_on_error"
        ]
    );
    // Before the CVE-2026-53373 fix the compat path unmapped, and its
    // error went through the override.
    assert_eq!(
        with_status(&rows, |s| matches!(s, Status::Fail { .. })),
        [(
            "compat_vma_mmap_remap_failure_returns_the_raw_error_without_unmapping",
            "returned -EAGAIN, expected -ENOMEM, unmaps 1, expected 0".to_string()
        )]
    );
    let lacks = |cap: &str| format!("not applicable: the tree lacks {cap}");
    let in_vma_c = "not applicable: decided in mm/vma.c on this tree (rmap_unlock)".to_string();
    let na = with_status(&rows, |s| matches!(s, Status::NotApplicable { .. }));
    for (name, reason) in &na {
        println!("n/a {name}: {reason}");
    }
    let expected: Vec<(&str, String)> = [
        ("compat_remap_failure_returns_the_raw_error_and_does_not_unmap", lacks("is_compat")),
        ("compat_success_still_calls_mapped", lacks("is_compat")),
        ("compat_mapped_failure_returns_the_raw_error_and_does_not_unmap", lacks("is_compat")),
        ("override_minus_4096_warns_and_fails_prepare_with_einval", lacks("prepare_desc")),
        ("override_that_is_not_an_error_fails_prepare_with_einval_and_one_warn", lacks("prepare_desc")),
        ("override_int_min_warns_and_fails_prepare_with_einval", lacks("prepare_desc")),
        ("override_int_max_warns_and_fails_prepare_with_einval", lacks("prepare_desc")),
        ("remap_outside_the_vma_fails_prepare_with_efault", lacks("prepare_desc")),
        ("partial_remap_of_a_cow_mapping_fails_prepare_with_einval", lacks("prepare_desc")),
        ("cow_remap_sets_pgoff_to_the_pfn", lacks("prepare_desc")),
        ("io_remap_outside_the_vma_fails_prepare_with_efault", lacks("prepare_desc")),
        ("simple_ioremap_with_pgoff_that_no_longer_fits_fails_prepare_with_einval", lacks("prepare_desc")),
        ("simple_ioremap_smaller_than_the_vma_fails_prepare_with_einval", lacks("prepare_desc")),
        ("simple_ioremap_wrapping_physical_memory_fails_prepare_with_einval", lacks("prepare_desc")),
        ("simple_ioremap_with_pgoff_past_the_region_fails_prepare_with_einval", lacks("prepare_desc")),
        ("map_kernel_pages_outside_the_vma_fails_prepare_with_efault", lacks("prepare_desc")),
        ("unknown_action_type_warns_and_fails_prepare_with_einval", lacks("prepare_desc")),
        ("hidden_remap_success_drops_the_rmap_lock", in_vma_c.clone()),
        ("hidden_remap_failure_drops_the_rmap_lock_and_unmaps", in_vma_c.clone()),
        ("hidden_rmap_of_an_anonymous_vma_warns", in_vma_c.clone()),
        ("hidden_rmap_without_a_file_dereferences_null", in_vma_c),
        ("compat_vma_mmap_remap_outside_the_vma_fails_with_efault", lacks("prepare_desc")),
        ("compat_vma_mmap_partial_cow_remap_fails_with_einval", lacks("prepare_desc")),
        ("nommu_remap_warns_at_prepare_and_complete_and_fails_with_einval", lacks("is_compat")),
        ("nommu_nothing_succeeds_and_calls_mapped", lacks("is_compat")),
        ("error_hook_that_clears_the_error_warns_after_unmapping", lacks("error_hook")),
        ("failing_success_hook_unmaps_the_vma", lacks("success_hook")),
    ]
    .into_iter()
    .collect();
    assert_eq!(na, expected);
    let passed = with_status(&rows, |s| *s == Status::Pass).len();
    println!("{}: {passed} pass, 1 fails, {} not applicable, of {}", shape.name, na.len(), rows.len());
    assert_eq!(passed + 1 + na.len(), rows.len());
}
