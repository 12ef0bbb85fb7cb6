//! The behaviour suite on the linked tree (`KERNEL_SRC`, or the default
//! tree): one test per catalogue entry, and the tests that need more than
//! a scenario's summary.

use mmharness::catalogue::{self, EAGAIN, EINVAL, ENOMEM};
use mmharness::{run_in_process, Event, InProcess, Injection, Obj, Ret, Scenario};

/// Runs the catalogue entry named like the test, in this process.
fn check(name: &str) {
    let entry = catalogue::entry(name).unwrap_or_else(|| panic!("no catalogue entry {name}"));
    let caps = InProcess::new();
    if let Err(reason) = entry.applicable(mmharness::Backend::capabilities(&caps)) {
        panic!("{name} ran on a tree that cannot express it ({reason}): its cfg gate is wrong");
    }
    let outcome = run_in_process(&entry.scenario);
    if let Err(diff) = entry.expected.check(&outcome) {
        panic!("{name}: {diff}\n  why: {}\n  outcome: {outcome:#?}", entry.why);
    }
}

macro_rules! catalogue_tests {
    ($($(#[$attr:meta])* $name:ident;)*) => {
        $( #[test] $(#[$attr])* fn $name() { check(stringify!($name)); } )*
        const LISTED: &[&str] = &[$(stringify!($name)),*];
    };
}

catalogue_tests! {
    remap_failure_with_override_returns_override_and_unmaps_the_vma;
    remap_failure_without_override_returns_the_raw_error_and_unmaps;
    #[cfg_attr(not(mmh_cap_is_compat), ignore = "not applicable: the tree has no is_compat")]
    compat_remap_failure_returns_the_raw_error_and_does_not_unmap;
    #[cfg_attr(not(mmh_cap_error_override), ignore = "not applicable: the tree has no error_override")]
    override_that_is_not_an_error_fails_prepare_with_einval_and_one_warn;
    #[cfg_attr(not(mmh_cap_vm_ops_mapped), ignore = "not applicable: the tree has no vm_ops->mapped")]
    successful_remap_calls_mapped_once_and_does_not_unmap;
    #[cfg_attr(not(mmh_cap_vm_ops_mapped), ignore = "not applicable: the tree has no vm_ops->mapped")]
    mapped_failure_unmaps_and_is_overridden;
    #[cfg_attr(not(mmh_cap_prepare_desc), ignore = "not applicable: mmap_action_prepare returns no error")]
    remap_outside_the_vma_fails_prepare_with_efault;
    #[cfg_attr(not(mmh_cap_prepare_desc), ignore = "not applicable: mmap_action_prepare returns no error")]
    unknown_action_type_warns_and_fails_prepare_with_einval;
    #[cfg_attr(not(mmh_cap_io_remap), ignore = "not applicable: the tree has no MMAP_IO_REMAP_PFN")]
    io_remap_reaching_complete_warns_returns_einval_and_unmaps;
}

#[test]
fn every_catalogue_entry_has_its_own_test() {
    let names: Vec<&str> = catalogue::catalogue().iter().map(|e| e.name).collect();
    assert_eq!(names, LISTED, "tests/behaviour.rs must list the catalogue, in order");
}

// The first tests, spelled out with every recorded argument.

/// (a) mmap_action_finish(): "If an error occurs, unmap the VMA altogether
/// and return an error", `do_munmap(current->mm, vma->vm_start,
/// vma_pages(vma) << PAGE_SHIFT, NULL)`, then `error_override ?: err`.
#[test]
fn remap_enomem_with_override_eagain_returns_eagain_after_one_munmap_of_the_whole_vma() {
    let s = Scenario { remap: Injection::always(ENOMEM), error_override: EAGAIN, ..Scenario::remap_full(0x1000) };
    let o = run_in_process(&s);
    assert_eq!(o.ret(), Ret(EAGAIN));
    assert_eq!(o.unmaps(), vec![&Event::Munmap { mm: Obj::CurrentMm, start: s.start, len: s.len(), ret: Ret(0) }]);
    assert_eq!(s.len(), 4 * 4096, "the length is in bytes, not pages");
    assert!(o.warns.is_empty(), "{:?}", o.warns);
}

/// (b) "If this is invoked from the compatibility layer, post-mmap() hook
/// logic will handle cleanup for us": the raw error, no unmap, no override.
#[test]
#[cfg_attr(not(mmh_cap_is_compat), ignore = "not applicable: the tree has no is_compat")]
fn compat_remap_enomem_returns_enomem_and_does_not_unmap() {
    let s = Scenario {
        remap: Injection::always(ENOMEM),
        error_override: EAGAIN,
        is_compat: true,
        ..Scenario::remap_full(0x1000)
    };
    let o = run_in_process(&s);
    assert_eq!(o.ret(), Ret(ENOMEM));
    assert!(o.unmaps().is_empty(), "{:?}", o.events);
}

/// (c) check_mmap_action(): `WARN_ON_ONCE(override && !IS_ERR_VALUE(override))`
/// gives -EINVAL. The WARN is located in mm/util.c, whatever its line.
#[test]
#[cfg_attr(not(mmh_cap_error_override), ignore = "not applicable: the tree has no error_override")]
fn override_of_one_fails_prepare_with_einval_and_one_warn_in_mm_util_c() {
    let o = run_in_process(&Scenario { error_override: 1, ..Scenario::default() });
    assert_eq!(o.prepare, Some(Ret(EINVAL)));
    assert_eq!(o.complete, None, "complete must not run after a failed prepare");
    assert_eq!(o.warns.len(), 1, "{:?}", o.warns);
    assert_eq!(o.warns[0].file, "mm/util.c");
    assert!(o.warns[0].condition.contains("IS_ERR_VALUE(override)"), "{}", o.warns[0]);
}

/// (d) call_vma_mapped(): on success, `vm_ops->mapped(vma->vm_start,
/// vma->vm_end, pgoff, vma->vm_file, &vm_private_data)`, once.
#[test]
#[cfg_attr(not(mmh_cap_vm_ops_mapped), ignore = "not applicable: the tree has no vm_ops->mapped")]
fn successful_remap_calls_mapped_once_with_the_vma_range_and_file() {
    let s = Scenario::remap_full(0x1000);
    let o = run_in_process(&s);
    assert_eq!(o.ret(), Ret(0));
    let mapped: Vec<&Event> = o.events.iter().filter(|e| matches!(e, Event::Mapped { .. })).collect();
    // remap_pfn_range_prepare() rewrote pgoff only for CoW mappings; this one is shared.
    assert_eq!(
        mapped,
        vec![&Event::Mapped { start: s.start, end: s.end, pgoff: s.pgoff, file: Obj::File, ret: Ret(0) }]
    );
}

#[test]
fn the_runner_gives_the_same_outcome_as_the_in_process_call() {
    use mmharness::Backend;
    let mut runner = mmharness::Runner::linked();
    for e in catalogue::catalogue() {
        let a = run_in_process(&e.scenario);
        let b = runner.run(&e.scenario).unwrap();
        // Pointers differ between processes; what they name does not.
        assert_eq!(a, b, "{}", e.name);
    }
}
