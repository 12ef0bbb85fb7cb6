//! The behaviour suite on the linked tree (`KERNEL_SRC`, or the default
//! tree): one test per catalogue entry, and the tests that need more than
//! an outcome's summary. With `MMHARNESS_SANITIZE=1` every scenario runs in
//! a runner built with AddressSanitizer and UBSan.

use mmharness::backend::RunError;
use mmharness::catalogue::{self, EAGAIN, EINVAL, ENOMEM};
use mmharness::linked::linked_manifest;
use mmharness::scenario::vm_flags;
use mmharness::{run_in_process, ActionType, Backend, Event, Injection, Obj, Outcome, Ret, Runner, Scenario, Stage};
use mmharness_build::artifact::{self, Options};
use mmharness_build::{cache_dir, sanitize_requested, tree::Tree};
use std::cell::RefCell;
use std::sync::OnceLock;

thread_local! {
    static RUNNER: RefCell<Option<Runner>> = const { RefCell::new(None) };
}

/// The runner of the linked tree: plain, or built with the sanitizers.
fn new_runner() -> Runner {
    if !sanitize_requested() {
        return Runner::linked();
    }
    static SANITIZED: OnceLock<artifact::Artifact> = OnceLock::new();
    let art = SANITIZED.get_or_init(|| {
        let tree = Tree::open(&linked_manifest().tree).expect("the linked tree");
        artifact::build(&tree, &Options::runner_only(cache_dir()).sanitized(true)).expect("a sanitized build")
    });
    Runner::for_artifact(art)
}

fn through_runner(s: &Scenario) -> Result<Outcome, RunError> {
    RUNNER.with(|r| r.borrow_mut().get_or_insert_with(new_runner).run(s))
}

/// A scenario's outcome: in this process, or in a runner when the
/// sanitizers are on (their runtimes are not linked into this binary).
fn run(s: &Scenario) -> Outcome {
    if sanitize_requested() {
        through_runner(s).unwrap()
    } else {
        run_in_process(s).unwrap()
    }
}

/// Runs the catalogue entry named like the test. Entries that crash the
/// kernel code run in a runner, so this binary lives on.
fn check(name: &str, caps: &[&str]) {
    let entry = catalogue::entry(name).unwrap_or_else(|| panic!("no catalogue entry {name}"));
    let gated: Vec<&str> = caps.iter().map(|c| c.trim_start_matches("mmh_cap_")).collect();
    assert_eq!(entry.requires, gated.as_slice(), "{name}: the test's cfg gate must be the entry's requires");
    if let Err(reason) = entry.applicable(&linked_manifest().capabilities) {
        panic!("{name} ran on a tree that cannot express it ({reason})");
    }
    let outcome = if entry.expected.crash { through_runner(&entry.scenario).unwrap() } else { run(&entry.scenario) };
    if let Err(diff) = entry.expected.check(&outcome) {
        panic!("{name}: {diff}\n  why: {}\n  outcome: {outcome:#?}", entry.why);
    }
}

/// One test per entry, `name => [cfg flags the tree needs]`; a tree
/// without them ignores the test with the reason, and never passes it.
macro_rules! catalogue_tests {
    ($($name:ident => [$($cap:ident),*];)*) => {
        $(
            #[test]
            #[cfg_attr(not(all($($cap),*)), ignore = "not applicable: the tree lacks a capability this entry needs")]
            fn $name() {
                check(stringify!($name), &[$(stringify!($cap)),*]);
            }
        )*
        const LISTED: &[&str] = &[$(stringify!($name)),*];
    };
}

catalogue_tests! {
    remap_failure_with_override_returns_override_and_unmaps_the_vma => [];
    remap_failure_without_override_returns_the_raw_error_and_unmaps => [];
    compat_remap_failure_returns_the_raw_error_and_does_not_unmap => [mmh_cap_is_compat];
    compat_success_still_calls_mapped => [mmh_cap_is_compat, mmh_cap_vm_ops_mapped];
    compat_mapped_failure_returns_the_raw_error_and_does_not_unmap => [mmh_cap_is_compat, mmh_cap_vm_ops_mapped];
    failed_unmap_is_ignored_and_the_override_returned => [];
    override_zero_is_accepted => [mmh_cap_error_override];
    override_minus_one_is_accepted => [mmh_cap_error_override];
    override_minus_4095_is_accepted => [mmh_cap_error_override];
    override_minus_4096_warns_and_fails_prepare_with_einval => [mmh_cap_error_override];
    override_that_is_not_an_error_fails_prepare_with_einval_and_one_warn => [mmh_cap_error_override];
    override_int_min_warns_and_fails_prepare_with_einval => [mmh_cap_error_override];
    override_int_max_warns_and_fails_prepare_with_einval => [mmh_cap_error_override];
    nothing_action_succeeds_and_calls_mapped_once => [mmh_cap_vm_ops_mapped];
    successful_remap_calls_mapped_once_and_does_not_unmap => [mmh_cap_vm_ops_mapped];
    mapped_private_data_is_applied => [mmh_cap_vm_ops_mapped];
    failed_mapped_leaves_private_data_unchanged => [mmh_cap_vm_ops_mapped];
    mapped_failure_unmaps_and_is_overridden => [mmh_cap_vm_ops_mapped];
    vm_ops_without_mapped_succeed => [];
    null_vm_ops_succeed => [];
    remap_outside_the_vma_fails_prepare_with_efault => [mmh_cap_prepare_desc];
    partial_remap_of_a_cow_mapping_fails_prepare_with_einval => [mmh_cap_prepare_desc];
    cow_remap_sets_pgoff_to_the_pfn => [mmh_cap_prepare_desc, mmh_cap_vm_ops_mapped];
    io_remap_succeeds_as_a_remap => [mmh_cap_io_remap, mmh_cap_vm_ops_mapped];
    io_remap_outside_the_vma_fails_prepare_with_efault => [mmh_cap_io_remap];
    io_remap_failure_with_override_returns_override_and_unmaps => [mmh_cap_io_remap];
    io_remap_reaching_complete_warns_returns_einval_and_unmaps => [mmh_cap_io_remap];
    simple_ioremap_that_fits_succeeds => [mmh_cap_simple_ioremap, mmh_cap_vm_ops_mapped];
    simple_ioremap_with_pgoff_maps_from_that_page => [mmh_cap_simple_ioremap, mmh_cap_vm_ops_mapped];
    simple_ioremap_with_pgoff_that_no_longer_fits_fails_prepare_with_einval => [mmh_cap_simple_ioremap];
    simple_ioremap_counts_the_offset_into_its_first_page => [mmh_cap_simple_ioremap, mmh_cap_vm_ops_mapped];
    cow_simple_ioremap_remaps_the_whole_vma_and_sets_pgoff_to_the_pfn => [mmh_cap_simple_ioremap, mmh_cap_vm_ops_mapped];
    simple_ioremap_smaller_than_the_vma_fails_prepare_with_einval => [mmh_cap_simple_ioremap];
    simple_ioremap_wrapping_physical_memory_fails_prepare_with_einval => [mmh_cap_simple_ioremap];
    simple_ioremap_with_pgoff_past_the_region_fails_prepare_with_einval => [mmh_cap_simple_ioremap];
    simple_ioremap_remap_failure_unmaps => [mmh_cap_simple_ioremap];
    simple_ioremap_reaching_complete_warns_returns_einval_and_unmaps => [mmh_cap_simple_ioremap];
    map_kernel_pages_succeeds_without_a_warn => [mmh_cap_map_kernel_pages, mmh_cap_vm_ops_mapped];
    map_kernel_pages_on_a_pfnmap_warns => [mmh_cap_map_kernel_pages, mmh_cap_vm_ops_mapped];
    map_kernel_pages_without_the_mmap_lock_warns => [mmh_cap_map_kernel_pages, mmh_cap_vm_ops_mapped];
    map_kernel_pages_insert_failure_with_override_returns_override_and_unmaps => [mmh_cap_map_kernel_pages];
    map_kernel_pages_outside_the_vma_fails_prepare_with_efault => [mmh_cap_map_kernel_pages];
    unknown_action_type_warns_and_fails_prepare_with_einval => [mmh_cap_prepare_desc];
    hidden_remap_success_drops_the_rmap_lock => [mmh_cap_vm_ops_mapped];
    hidden_remap_failure_drops_the_rmap_lock_and_unmaps => [];
    hidden_rmap_of_an_anonymous_vma_warns => [];
    hidden_rmap_without_a_file_dereferences_null => [];
    compat_vma_mmap_remap_failure_returns_the_raw_error_without_unmapping => [mmh_cap_compat_vma_mmap];
    compat_vma_mmap_remap_outside_the_vma_fails_with_efault => [mmh_cap_compat_vma_mmap];
    compat_vma_mmap_success_remaps_and_calls_mapped => [mmh_cap_compat_vma_mmap, mmh_cap_vm_ops_mapped];
    compat_vma_mmap_keeps_the_vmas_pgoff => [mmh_cap_compat_vma_mmap, mmh_cap_vm_ops_mapped];
    compat_vma_mmap_returns_the_mmap_prepare_hooks_error => [mmh_cap_compat_vma_mmap];
    compat_vma_mmap_never_drops_an_rmap_lock_it_does_not_hold => [mmh_cap_compat_vma_mmap, mmh_cap_vm_ops_mapped];
    compat_vma_mmap_partial_cow_remap_fails_with_einval => [mmh_cap_compat_vma_mmap];
    nommu_remap_warns_at_prepare_and_complete_and_fails_with_einval => [mmh_cap_nommu_variants, mmh_cap_is_compat];
    nommu_nothing_succeeds_and_calls_mapped => [mmh_cap_nommu_variants, mmh_cap_is_compat, mmh_cap_vm_ops_mapped];
    error_hook_that_clears_the_error_warns_after_unmapping => [mmh_cap_error_hook];
    failing_success_hook_unmaps_the_vma => [mmh_cap_success_hook];
    devmem_mmap_succeeds_without_mapped => [mmh_cap_devmem];
    devmem_sets_vm_ops_of_its_own => [mmh_cap_devmem];
    devmem_remap_failure_reaches_userspace_as_eagain_and_unmaps => [mmh_cap_devmem];
    devmem_offset_that_does_not_fit_phys_addr_t_is_einval => [mmh_cap_devmem];
    devmem_range_wrapping_physical_memory_is_einval => [mmh_cap_devmem];
    devmem_invalid_physical_range_is_einval => [mmh_cap_devmem];
    devmem_private_mapping_refused_is_enosys => [mmh_cap_devmem];
    devmem_disallowed_range_is_eperm => [mmh_cap_devmem];
    devmem_disallowed_protection_is_einval => [mmh_cap_devmem];
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
    let o = run(&s);
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
    let o = run(&s);
    assert_eq!(o.ret(), Ret(ENOMEM));
    assert!(o.unmaps().is_empty(), "{:?}", o.events);
}

/// (c) check_mmap_action(): `WARN_ON_ONCE(override && !IS_ERR_VALUE(override))`
/// gives -EINVAL. The WARN is located in mm/util.c, whatever its line.
#[test]
#[cfg_attr(not(mmh_cap_error_override), ignore = "not applicable: the tree has no error_override")]
fn override_of_one_fails_prepare_with_einval_and_one_warn_in_mm_util_c() {
    let o = run(&Scenario { error_override: 1, ..Scenario::default() });
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
    let o = run(&s);
    assert_eq!(o.ret(), Ret(0));
    let mapped: Vec<&Event> = o.events.iter().filter(|e| matches!(e, Event::Mapped { .. })).collect();
    // remap_pfn_range_prepare() rewrites pgoff only for CoW mappings; this one is shared.
    assert_eq!(
        mapped,
        vec![&Event::Mapped { start: s.start, end: s.end, pgoff: s.pgoff, file: Obj::File, ret: Ret(0) }]
    );
}

// What needs more than an outcome's summary.

/// io_remap_pfn_range_prepare(): "Remap does the actual work", after
/// pgprot_decrypted() on the protection.
#[test]
#[cfg_attr(not(mmh_cap_io_remap), ignore = "not applicable: the tree has no MMAP_IO_REMAP_PFN")]
fn io_remap_leaves_prepare_as_a_plain_remap() {
    let o = run(&Scenario { stage: Stage::PrepareOnly, ..Scenario::io_remap_full(0x1000) });
    assert_eq!(o.prepare, Some(Ret(0)));
    assert_eq!(o.desc.action, Some(ActionType::REMAP_PFN));
    assert!(o.events.iter().any(|e| matches!(e, Event::PgprotDecrypted { .. })), "{:?}", o.events);
}

/// get_remap_pgoff(): "We mark the \"original\" un-COW'ed pages by matching
/// them up with vma->vm_pgoff": a CoW remap sets pgoff to the pfn.
#[test]
#[cfg_attr(not(mmh_cap_vm_ops_mapped), ignore = "not applicable: the tree has no vm_ops->mapped")]
fn cow_remap_sets_pgoff_to_the_pfn_and_mapped_sees_it() {
    let s = Scenario { vm_flags: vm_flags::PRIVATE_WRITABLE, ..Scenario::remap_full(0x1234) };
    let o = run(&s);
    assert_eq!(o.ret(), Ret(0));
    assert_eq!(o.desc.pgoff, 0x1234);
    assert!(o.events.iter().any(|e| matches!(e, Event::Mapped { pgoff: 0x1234, .. })), "{:?}", o.events);
}

/// mmap_action_finish(): "do_munmap() might take rmap lock, so release if
/// held": the unlock comes before the unmap, on the file's mapping, once.
#[test]
fn hidden_remap_failure_unlocks_the_files_mapping_before_unmapping() {
    let o = run(&Scenario {
        hide_from_rmap_until_complete: true,
        ..Scenario { remap: Injection::always(ENOMEM), ..Scenario::remap_full(0x1000) }
    });
    let order: Vec<&str> = o
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RmapLock { mapping: Obj::Mapping } => Some("lock"),
            Event::RmapUnlock { mapping: Obj::Mapping } => Some("unlock"),
            Event::Munmap { .. } => Some("munmap"),
            Event::RmapLock { .. } | Event::RmapUnlock { .. } => Some("lock of another mapping"),
            _ => None,
        })
        .collect();
    assert_eq!(order, vec!["lock", "unlock", "munmap"]);
    assert!(!o.rmap_left_locked);
}

#[test]
fn an_unhidden_mapping_never_touches_the_rmap_lock() {
    let o = run(&Scenario { remap: Injection::always(ENOMEM), ..Scenario::remap_full(0x1000) });
    assert!(!o.events.iter().any(|e| matches!(e, Event::RmapLock { .. } | Event::RmapUnlock { .. })));
}

#[test]
fn an_unmapped_vma_is_reported_as_it_was_when_do_munmap_removed_it() {
    let s = Scenario { remap: Injection::always(ENOMEM), ..Scenario::remap_full(0x1000) };
    let o = run(&s);
    assert!(o.vma_unmapped);
    assert_eq!((o.vma.start, o.vma.end), (s.start, s.end));
}

/// An injection can target the calls of one kernel function: the remap is
/// called from remap_pfn_range_complete(), never from map_kernel_pages_complete().
#[test]
fn an_injection_at_a_site_fails_only_the_calls_made_there() {
    let at =
        |site: &str| run(&Scenario { remap: Injection::always(ENOMEM).from(site), ..Scenario::remap_full(0x1000) });
    assert_eq!(at("remap_pfn_range_complete").ret(), Ret(ENOMEM));
    assert_eq!(at("map_kernel_pages_complete").ret(), Ret(0));
}

#[test]
fn fail_the_nth_call_spares_the_others() {
    let second = run(&Scenario { remap: Injection::nth(ENOMEM, 2), ..Scenario::remap_full(0x1000) });
    assert_eq!(second.ret(), Ret(0), "a mapping makes one remap call");
    let first = run(&Scenario { remap: Injection::nth(ENOMEM, 1), ..Scenario::remap_full(0x1000) });
    assert_eq!(first.ret(), Ret(ENOMEM));
}

/// Every call records where the kernel code made it: the unmap comes from
/// mmap_action_finish() in mm/util.c.
#[test]
fn the_unmap_is_called_from_mmap_action_finish() {
    let o = run(&Scenario { remap: Injection::always(ENOMEM), ..Scenario::remap_full(0x1000) });
    let i = o.events.iter().position(|e| matches!(e, Event::Munmap { .. })).unwrap();
    let site = o.event_sites[i].clone().expect("a site");
    let finish = linked_manifest().extracted.iter().find(|e| e.name == "mmap_action_finish").unwrap();
    assert_eq!(site.file, "mm/util.c");
    assert!((finish.line..=finish.end_line).contains(&(site.line as usize)), "{site:?} not in {finish:?}");
}

/// The real NULL dereference is a finding: the runner reports the signal
/// and the next scenario runs in a fresh runner.
#[test]
fn a_crash_in_the_kernel_code_is_reported_and_the_run_goes_on() {
    let mut runner = Runner::linked();
    let crash = Scenario { hide_from_rmap_until_complete: true, has_file: false, ..Scenario::default() };
    let o = runner.run(&crash).unwrap();
    let c = o.crash.expect("a crash");
    assert_eq!(c.signal, Some(11), "{}", c.description);
    assert_eq!(runner.run(&Scenario::remap_full(0x1000)).unwrap().ret(), Ret(0));
}

#[test]
fn the_runner_gives_the_same_outcome_as_the_in_process_call() {
    let mut runner = Runner::linked();
    for e in catalogue::catalogue().iter().filter(|e| !e.expected.crash) {
        match (run_in_process(&e.scenario), runner.run(&e.scenario)) {
            // Pointers differ between processes; what they name does not.
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", e.name),
            // A scenario the tree cannot express is refused alike.
            (a, b) => assert_eq!(a.map_err(|e| e.to_string()), b.map_err(|e| e.to_string()), "{}", e.name),
        }
    }
}

// Direct calls into the kernel functions, through the raw bindings.

mod direct {
    use super::*;
    use mmharness::linked::{empty_raw_outcome, outcome_of_raw, raw_scenario};
    use mmharness::sys;

    /// Runs `f` on a descriptor and VMA set up from `s`, recording leaf calls.
    fn with_structs(s: &Scenario, f: impl FnOnce(&mut sys::vm_area_desc, &mut sys::vm_area_struct)) -> (Outcome, u64) {
        let raw = raw_scenario(s).unwrap();
        let mut out = empty_raw_outcome();
        let mut mm = sys::mm_struct::default();
        let mut desc = sys::vm_area_desc::default();
        let mut vma = sys::vm_area_struct::default();
        let warns = unsafe {
            sys::mmh_desc_setup(&mut desc, &mut mm, std::ptr::null_mut(), &raw);
            sys::mmh_vma_from_desc(&mut vma, &desc);
            let before = sys::mmh_thread_warns();
            sys::mmh_begin(&raw, &mut out, &mut mm, &mut vma);
            f(&mut desc, &mut vma);
            sys::mmh_end();
            sys::mmh_thread_warns() - before
        };
        (outcome_of_raw(&out).unwrap(), warns)
    }

    /// mmap_action_finish(), called directly with an error: unmap, override.
    #[test]
    #[cfg_attr(
        not(all(mmh_cap_is_compat, mmh_cap_error_override)),
        ignore = "not applicable: another finish signature"
    )]
    fn mmap_action_finish_with_an_error_unmaps_and_returns_the_override() {
        let s = Scenario { error_override: EAGAIN, ..Scenario::remap_full(0x1000) };
        let mut ret = 0;
        let (o, _) = with_structs(&s, |desc, vma| {
            ret = unsafe { sys::mmap_action_finish(vma, &mut desc.action, ENOMEM, false) }
        });
        assert_eq!(ret, EAGAIN);
        assert_eq!(o.unmaps().len(), 1);
        assert_eq!(o.mapped_calls(), 0, "mapped() runs only when err is 0");
    }

    /// The nommu variants (the `#else` of CONFIG_MMU), compiled under MMU
    /// headers as nommu_<name>: "nommu cannot handle these".
    #[test]
    #[cfg_attr(not(all(mmh_cap_nommu_variants, mmh_cap_is_compat)), ignore = "not applicable: no nommu variants")]
    fn nommu_prepare_of_a_remap_warns_and_succeeds_and_complete_fails_with_einval() {
        let s = Scenario::remap_full(0x1000);
        let mut prepared = -1;
        let (_, warns) = with_structs(&s, |desc, _| prepared = unsafe { sys::nommu_mmap_action_prepare(desc) });
        assert_eq!((prepared, warns), (0, 1));
        let mut completed = 0;
        let (o, warns) = with_structs(&s, |desc, vma| {
            completed = unsafe { sys::nommu_mmap_action_complete(vma, &mut desc.action, false) }
        });
        assert_eq!((completed, warns), (EINVAL, 1));
        assert_eq!(o.unmaps().len(), 1, "the shared mmap_action_finish unmaps");
    }
}

/// A runner that never answers (a revision or a mutant that loops) is
/// killed after the timeout and reported, so a bisect cannot hang.
#[test]
fn a_runner_that_hangs_is_killed_and_reported() {
    use mmharness::sys;
    let dir = tempfile::tempdir().unwrap();
    let mut hello = Vec::new();
    for word in [
        0x3148_4d4d_u32,
        std::mem::size_of::<sys::mmh_scenario>() as u32,
        std::mem::size_of::<sys::mmh_outcome>() as u32,
        0,
    ] {
        hello.extend(word.to_ne_bytes());
    }
    std::fs::write(dir.path().join("hello"), hello).unwrap();
    let script = dir.path().join("runner");
    std::fs::write(&script, format!("#!/bin/sh\ncat {}\nexec sleep 30\n", dir.path().join("hello").display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut runner =
        Runner::new(&script, linked_manifest().clone()).with_timeout(std::time::Duration::from_millis(300));
    let o = runner.run(&Scenario::default()).unwrap();
    let c = o.crash.expect("a hang is reported");
    assert!(c.description.starts_with("timed out after 0.3 s"), "{}", c.description);
}
