//! Direct calls into the linked tree's kernel functions, through the raw
//! bindings: the static `mmap_action_finish` and the nommu variants, which
//! no scenario reaches on its own.

mod harness;

use mmharness::linked::{empty_raw_outcome, outcome_of_raw, raw_scenario};
use mmharness::{sys, Outcome, Scenario};
use mmharness_build::caps::Cap;
use nix::libc::{EAGAIN, EINVAL, ENOMEM};

/// Runs `f` on a descriptor and VMA set up from `s`, recording leaf calls;
/// gives what was recorded and the WARNs that fired.
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
fn mmap_action_finish_with_an_error_unmaps_and_returns_the_override() {
    let s = Scenario { error_override: -EAGAIN, ..Scenario::remap_full(0x1000) };
    let mut ret = 0;
    let (o, _) =
        with_structs(&s, |desc, vma| ret = unsafe { sys::mmap_action_finish(vma, &mut desc.action, -ENOMEM, false) });
    assert_eq!(ret, -EAGAIN);
    assert_eq!(o.unmaps().len(), 1);
    assert_eq!(o.mapped_calls(), 0, "mapped() runs only when err is 0");
}

/// The nommu variants (the `#else` of CONFIG_MMU), compiled under MMU
/// headers as nommu_<name>: "nommu cannot handle these".
fn nommu_prepare_of_a_remap_warns_and_succeeds_and_complete_fails_with_einval() {
    let s = Scenario::remap_full(0x1000);
    let mut prepared = -1;
    let (_, warns) = with_structs(&s, |desc, _| prepared = unsafe { sys::nommu_mmap_action_prepare(desc) });
    assert_eq!((prepared, warns), (0, 1));
    let mut completed = 0;
    let (o, warns) = with_structs(&s, |desc, vma| {
        completed = unsafe { sys::nommu_mmap_action_complete(vma, &mut desc.action, false) }
    });
    assert_eq!((completed, warns), (-EINVAL, 1));
    assert_eq!(o.unmaps().len(), 1, "the shared mmap_action_finish unmaps");
}

fn main() {
    harness::main(harness::tests![
        mmap_action_finish_with_an_error_unmaps_and_returns_the_override => [Cap::IsCompat, Cap::ErrorOverride],
        nommu_prepare_of_a_remap_warns_and_succeeds_and_complete_fails_with_einval =>
            [Cap::NommuVariants, Cap::IsCompat],
    ])
}
