//! What the kernel code calls, with which arguments, in which order and from
//! where, on the linked tree: what needs more than the summary a catalogue
//! entry compares. In this process, or with `MMHARNESS_SANITIZE=1` in a
//! runner built with the sanitizers.

mod harness;
mod linked_runner;

use mmharness::linked::linked_manifest;
use mmharness::scenario::vm_flags;
use mmharness::{run_in_process, ActionType, Event, Injection, Obj, Outcome, Ret, Scenario, Stage};
use mmharness_build::caps::Cap;
use mmharness_build::sanitize_requested;
use nix::libc::{EAGAIN, EINVAL, ENOMEM};

fn run(s: &Scenario) -> Outcome {
    if sanitize_requested() {
        linked_runner::run(s).unwrap()
    } else {
        run_in_process(s).unwrap()
    }
}

/// mmap_action_finish(): "If an error occurs, unmap the VMA altogether
/// and return an error", `do_munmap(current->mm, vma->vm_start,
/// vma_pages(vma) << PAGE_SHIFT, NULL)`, then `error_override ?: err`.
fn remap_enomem_with_override_eagain_returns_eagain_after_one_munmap_of_the_whole_vma() {
    let s = Scenario { remap: Injection::always(-ENOMEM), error_override: -EAGAIN, ..Scenario::remap_full(0x1000) };
    let o = run(&s);
    assert_eq!(o.ret(), Ret(-EAGAIN));
    assert_eq!(
        o.unmaps(),
        vec![&Event::Munmap { mm: Obj::CurrentMm, start: s.start, len: s.len(), uf: Obj::Null, ret: Ret(0) }]
    );
    assert_eq!(s.len(), 4 * 4096, "the length is in bytes, not pages");
    assert!(o.warns.is_empty(), "{:?}", o.warns);
}

/// check_mmap_action(): `WARN_ON_ONCE(override && !IS_ERR_VALUE(override))`
/// gives -EINVAL. The WARN is located in mm/util.c, whatever its line.
fn override_of_one_fails_prepare_with_einval_and_one_warn_in_mm_util_c() {
    let o = run(&Scenario { error_override: 1, ..Scenario::default() });
    assert_eq!(o.prepare, Some(Ret(-EINVAL)));
    assert_eq!(o.complete, None, "complete must not run after a failed prepare");
    assert_eq!(o.warns.len(), 1, "{:?}", o.warns);
    assert_eq!(o.warns[0].file, "mm/util.c");
    assert!(o.warns[0].condition.contains("IS_ERR_VALUE(override)"), "{}", o.warns[0]);
    assert_eq!(o.warns[0].macro_name, "WARN_ON_ONCE", "the macro the source uses");
}

/// call_vma_mapped(): on success, `vm_ops->mapped(vma->vm_start,
/// vma->vm_end, pgoff, vma->vm_file, &vm_private_data)`, once.
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

/// io_remap_pfn_range_prepare(): "Remap does the actual work", after
/// pgprot_decrypted() on the protection.
fn io_remap_leaves_prepare_as_a_plain_remap() {
    let o = run(&Scenario { stage: Stage::PrepareOnly, ..Scenario::io_remap_full(0x1000) });
    assert_eq!(o.prepare, Some(Ret(0)));
    assert_eq!(o.desc.action, Some(ActionType::REMAP_PFN));
    assert!(o.events.iter().any(|e| matches!(e, Event::PgprotDecrypted { .. })), "{:?}", o.events);
}

/// get_remap_pgoff(): "We mark the \"original\" un-COW'ed pages by matching
/// them up with vma->vm_pgoff": a CoW remap sets pgoff to the pfn.
fn cow_remap_sets_pgoff_to_the_pfn_and_mapped_sees_it() {
    let s = Scenario { vm_flags: vm_flags::PRIVATE_WRITABLE, ..Scenario::remap_full(0x1234) };
    let o = run(&s);
    assert_eq!(o.ret(), Ret(0));
    assert_eq!(o.desc.pgoff, 0x1234);
    assert!(o.events.iter().any(|e| matches!(e, Event::Mapped { pgoff: 0x1234, .. })), "{:?}", o.events);
}

/// mmap_action_finish(): "do_munmap() might take rmap lock, so release if
/// held": the unlock comes before the unmap, on the file's mapping, once.
fn hidden_remap_failure_unlocks_the_files_mapping_before_unmapping() {
    let o = run(&Scenario {
        hide_from_rmap_until_complete: true,
        ..Scenario { remap: Injection::always(-ENOMEM), ..Scenario::remap_full(0x1000) }
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

fn an_unhidden_mapping_never_touches_the_rmap_lock() {
    let o = run(&Scenario { remap: Injection::always(-ENOMEM), ..Scenario::remap_full(0x1000) });
    assert!(!o.events.iter().any(|e| matches!(e, Event::RmapLock { .. } | Event::RmapUnlock { .. })));
}

fn an_unmapped_vma_is_reported_as_it_was_when_do_munmap_removed_it() {
    let s = Scenario { remap: Injection::always(-ENOMEM), ..Scenario::remap_full(0x1000) };
    let o = run(&s);
    assert!(o.vma_unmapped);
    assert_eq!((o.vma.start, o.vma.end), (s.start, s.end));
}

/// An injection can target the calls of one kernel function: the remap is
/// called from remap_pfn_range_complete(), never from map_kernel_pages_complete().
fn an_injection_at_a_site_fails_only_the_calls_made_there() {
    let at =
        |site: &str| run(&Scenario { remap: Injection::always(-ENOMEM).from(site), ..Scenario::remap_full(0x1000) });
    assert_eq!(at("remap_pfn_range_complete").ret(), Ret(-ENOMEM));
    assert_eq!(at("map_kernel_pages_complete").ret(), Ret(0));
}

fn fail_the_nth_call_spares_the_others() {
    let second = run(&Scenario { remap: Injection::nth(-ENOMEM, 2), ..Scenario::remap_full(0x1000) });
    assert_eq!(second.ret(), Ret(0), "a mapping makes one remap call");
    let first = run(&Scenario { remap: Injection::nth(-ENOMEM, 1), ..Scenario::remap_full(0x1000) });
    assert_eq!(first.ret(), Ret(-ENOMEM));
}

/// Every call records where the kernel code made it: the unmap comes from
/// mmap_action_finish() in mm/util.c.
fn the_unmap_is_called_from_mmap_action_finish() {
    let o = run(&Scenario { remap: Injection::always(-ENOMEM), ..Scenario::remap_full(0x1000) });
    let i = o.events.iter().position(|e| matches!(e, Event::Munmap { .. })).unwrap();
    let site = o.event_sites[i].clone().expect("a site");
    let finish = linked_manifest().extracted.iter().find(|e| e.name == "mmap_action_finish").unwrap();
    assert_eq!(site.file, "mm/util.c");
    assert!((finish.line..=finish.end_line).contains(&(site.line as usize)), "{site:?} not in {finish:?}");
}

fn main() {
    harness::main(harness::tests![
        remap_enomem_with_override_eagain_returns_eagain_after_one_munmap_of_the_whole_vma,
        override_of_one_fails_prepare_with_einval_and_one_warn_in_mm_util_c => [Cap::ErrorOverride],
        successful_remap_calls_mapped_once_with_the_vma_range_and_file => [Cap::VmOpsMapped],
        io_remap_leaves_prepare_as_a_plain_remap => [Cap::IoRemap],
        cow_remap_sets_pgoff_to_the_pfn_and_mapped_sees_it => [Cap::VmOpsMapped],
        hidden_remap_failure_unlocks_the_files_mapping_before_unmapping,
        an_unhidden_mapping_never_touches_the_rmap_lock,
        an_unmapped_vma_is_reported_as_it_was_when_do_munmap_removed_it,
        an_injection_at_a_site_fails_only_the_calls_made_there,
        fail_the_nth_call_spares_the_others,
        the_unmap_is_called_from_mmap_action_finish,
    ])
}
