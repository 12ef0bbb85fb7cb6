//! The behaviour catalogue: each entry is a scenario, the outcome the
//! kernel code gives it (read from the kernel source, and seen on it), and
//! the capabilities a tree needs to express it. The same data drives
//! `cargo test`, `mmharness table` and the runners.

use crate::expect::{Details, Expected};
use crate::outcome::{Event, Obj};
use crate::scenario::{devmem_deny, vm_flags, ActionType, Injection, Scenario, Stage, VmOps, PAGE_SIZE};
use mmharness_build::caps::{Cap, Capabilities};
use nix::libc::{EAGAIN, EFAULT, EINVAL, EIO, ENOMEM, ENOSYS, EPERM, SIGSEGV};

/// Where the default scenario's VMA starts.
const START: u64 = 0x10000;
/// Where it ends: four pages on.
const END: u64 = START + 4 * PAGE_SIZE;

/// One scenario of the catalogue and what the kernel code does with it.
pub struct Entry {
    pub name: &'static str,
    /// Why, in the kernel's words, starting with the kernel function that
    /// decides it: a failing test prints where that function is.
    pub why: &'static str,
    pub scenario: Scenario,
    pub expected: Expected,
    /// What the tree must be able to express.
    pub requires: &'static [Cap],
}

impl Entry {
    /// `Err` with the reason when `caps` cannot express this entry.
    pub fn applicable(&self, caps: &Capabilities) -> Result<(), String> {
        applicable(self.requires, caps)
    }

    /// The kernel function `why` starts with.
    pub fn function(&self) -> &'static str {
        let end = self.why.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(self.why.len());
        &self.why[..end]
    }
}

/// `Err` naming what `caps` lacks of `requires`.
pub fn applicable(requires: &[Cap], caps: &Capabilities) -> Result<(), String> {
    let missing: Vec<Cap> = requires.iter().copied().filter(|c| !caps.has(*c)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let (in_vma_c, lacked): (Vec<Cap>, Vec<Cap>) = missing.into_iter().partition(|c| c.in_mm_vma_c());
    let mut reasons = Vec::new();
    if !lacked.is_empty() {
        reasons.push(format!("the tree lacks {}", lacked.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")));
    }
    if !in_vma_c.is_empty() {
        let names: Vec<&str> = in_vma_c.iter().map(|c| c.name()).collect();
        reasons.push(format!("decided in mm/vma.c on this tree ({})", names.join(", ")));
    }
    Err(format!("not applicable: {}", reasons.join("; ")))
}

fn expect(ret: i32, unmaps: usize, warns: u32, mapped_calls: usize) -> Expected {
    Expected { ret, unmaps, warns, mapped_calls, crash: false, details: Details::default() }
}

/// A crash by `signal`: the kernel code itself faulted, not a BUG() or a sanitizer.
fn crash(signal: i32) -> Expected {
    Expected { crash: true, ..expect(0, 0, 0, 0) }.with(Details { crash_signal: Some(signal), ..Details::default() })
}

fn remap_failing(err: i32) -> Scenario {
    Scenario { remap: Injection::always(err), ..Scenario::remap_full(0x1000) }
}

fn nothing_with_override(error_override: i32) -> Scenario {
    Scenario { error_override, stage: Stage::PrepareOnly, ..Scenario::default() }
}

/// A simple I/O remap of exactly the VMA's size at 1 MiB.
fn simple_ioremap_fitting() -> Scenario {
    let d = Scenario::default();
    Scenario::simple_ioremap(0x100000, d.end - d.start)
}

/// /dev/mem's checks of the default VMA's four pages from physical page `pfn`.
fn valid_range(pfn: u64, allowed: bool) -> Event {
    Event::DevMemCheck { check: devmem_deny::VALID_RANGE, pfn, size: 4 * PAGE_SIZE, allowed }
}

fn private_mapping_ok(allowed: bool) -> Event {
    Event::DevMemPrivateMappingOk { desc: Obj::Desc, allowed }
}

fn range_allowed(pfn: u64, allowed: bool) -> Event {
    Event::DevMemCheck { check: devmem_deny::RANGE_ALLOWED, pfn, size: 4 * PAGE_SIZE, allowed }
}

fn prot_allowed(pfn: u64, allowed: bool) -> Event {
    Event::DevMemProtAllowed { file: Obj::File, pfn, size: 4 * PAGE_SIZE, vma_prot: Obj::DescPageProt, allowed }
}

/// The protection asked for is the descriptor's, 0 in these scenarios.
fn access_prot(pfn: u64) -> Event {
    Event::DevMemAccessProt { file: Obj::File, pfn, size: 4 * PAGE_SIZE, vma_prot: 0 }
}

pub fn catalogue() -> Vec<Entry> {
    vec![
        // Errors after prepare: unmap, then the override.
        Entry {
            name: "remap_failure_with_override_returns_override_and_unmaps_the_vma",
            why: "mmap_action_finish: on error and not compat, do_munmap() the VMA and return error_override ?: err",
            scenario: Scenario { error_override: -EAGAIN, ..remap_failing(-ENOMEM) },
            // The length is vma_pages(vma) << PAGE_SHIFT: bytes, the whole VMA.
            expected: expect(-EAGAIN, 1, 0, 0).with(Details { remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), ..Details::default() }),
            requires: &[],
        },
        Entry {
            name: "remap_failure_without_override_returns_the_raw_error_and_unmaps",
            why: "mmap_action_finish: with no override the action's own error is returned, after the unmap",
            scenario: remap_failing(-ENOMEM),
            expected: expect(-ENOMEM, 1, 0, 0).with(Details { remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), ..Details::default() }),
            requires: &[],
        },
        Entry {
            name: "compat_remap_failure_returns_the_raw_error_and_does_not_unmap",
            why: "mmap_action_finish: \"If this is invoked from the compatibility layer, post-mmap() hook logic will handle cleanup for us\"",
            scenario: Scenario { error_override: -EAGAIN, is_compat: true, ..remap_failing(-ENOMEM) },
            expected: expect(-ENOMEM, 0, 0, 0).with(Details { remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), ..Details::default() }),
            requires: &[Cap::IsCompat],
        },
        Entry {
            name: "compat_success_still_calls_mapped",
            why: "mmap_action_finish: call_vma_mapped() runs on success whether or not the call is compat",
            scenario: Scenario { is_compat: true, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 1).with(Details { remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), mapped: Some((START, END, 0, Obj::File)), ..Details::default() }),
            requires: &[Cap::IsCompat],
        },
        Entry {
            name: "compat_mapped_failure_returns_the_raw_error_and_does_not_unmap",
            why: "mmap_action_finish: a mapped() error on the compat path returns before the unmap and the override",
            scenario: Scenario { is_compat: true, error_override: -EAGAIN, mapped: Injection::always(-ENOMEM), ..Scenario::default() },
            expected: expect(-ENOMEM, 0, 0, 1).with(Details { mapped: Some((START, END, 0, Obj::File)), ..Details::default() }),
            requires: &[Cap::IsCompat],
        },
        Entry {
            name: "failed_unmap_is_ignored_and_the_override_returned",
            why: "mmap_action_finish: do_munmap()'s own result is not looked at",
            scenario: Scenario { error_override: -EAGAIN, munmap: Injection::always(-ENOMEM), ..remap_failing(-EIO) },
            expected: expect(-EAGAIN, 1, 0, 0).with(Details { remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), ..Details::default() }),
            requires: &[],
        },
        // error_override at its boundaries: check_mmap_action() accepts 0 and
        // IS_ERR_VALUE(), i.e. -4095..-1 once widened to unsigned long.
        Entry {
            name: "override_zero_is_accepted",
            why: "check_mmap_action: a zero override means none",
            scenario: nothing_with_override(0),
            expected: expect(0, 0, 0, 0),
            requires: &[Cap::ErrorOverride],
        },
        Entry {
            name: "override_minus_one_is_accepted",
            why: "check_mmap_action: -1 is IS_ERR_VALUE",
            scenario: nothing_with_override(-1),
            expected: expect(0, 0, 0, 0),
            requires: &[Cap::ErrorOverride],
        },
        Entry {
            name: "override_minus_4095_is_accepted",
            why: "check_mmap_action: -MAX_ERRNO is the last IS_ERR_VALUE",
            scenario: nothing_with_override(-4095),
            expected: expect(0, 0, 0, 0),
            requires: &[Cap::ErrorOverride],
        },
        Entry {
            name: "override_minus_4096_warns_and_fails_prepare_with_einval",
            why: "check_mmap_action: -4096 is past MAX_ERRNO: WARN_ON_ONCE, -EINVAL",
            scenario: nothing_with_override(-4096),
            expected: expect(-EINVAL, 0, 1, 0),
            requires: &[Cap::ErrorOverride, Cap::PrepareDesc],
        },
        Entry {
            name: "override_that_is_not_an_error_fails_prepare_with_einval_and_one_warn",
            why: "check_mmap_action: WARN_ON_ONCE(override && !IS_ERR_VALUE(override)) gives -EINVAL",
            scenario: Scenario { error_override: 1, ..Scenario::default() },
            expected: expect(-EINVAL, 0, 1, 0),
            requires: &[Cap::ErrorOverride, Cap::PrepareDesc],
        },
        Entry {
            name: "override_int_min_warns_and_fails_prepare_with_einval",
            why: "check_mmap_action: INT_MIN is not IS_ERR_VALUE",
            scenario: nothing_with_override(i32::MIN),
            expected: expect(-EINVAL, 0, 1, 0),
            requires: &[Cap::ErrorOverride, Cap::PrepareDesc],
        },
        Entry {
            name: "override_int_max_warns_and_fails_prepare_with_einval",
            why: "check_mmap_action: INT_MAX is not an error value",
            scenario: nothing_with_override(i32::MAX),
            expected: expect(-EINVAL, 0, 1, 0),
            requires: &[Cap::ErrorOverride, Cap::PrepareDesc],
        },
        // MMAP_NOTHING and vm_ops->mapped.
        Entry {
            name: "nothing_action_succeeds_and_calls_mapped_once",
            why: "mmap_action_complete: MMAP_NOTHING does nothing, then call_vma_mapped()",
            scenario: Scenario::default(),
            expected: expect(0, 0, 0, 1).with(Details { mapped: Some((START, END, 0, Obj::File)), ..Details::default() }),
            requires: &[],
        },
        Entry {
            name: "successful_remap_calls_mapped_once_and_does_not_unmap",
            why: "mmap_action_finish: on success call_vma_mapped() runs vm_ops->mapped once",
            scenario: Scenario::remap_full(0x1000),
            expected: expect(0, 0, 0, 1).with(Details { mapped: Some((START, END, 0, Obj::File)),
                remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)),
                vma_flags_set: Some(vm_flags::REMAP),
                ..Details::default()
            }),
            requires: &[],
        },
        Entry {
            name: "mapped_private_data_is_applied",
            why: "call_vma_mapped: \"if (vm_private_data != vma->vm_private_data) vma->vm_private_data = vm_private_data\"",
            scenario: Scenario { private_data: 0x1111, mapped_sets_private_data: 0xfeed, ..Scenario::default() },
            expected: expect(0, 0, 0, 1).with(Details { mapped: Some((START, END, 0, Obj::File)), vma_private_data: Some(0xfeed), ..Details::default() }),
            requires: &[Cap::VmOpsMapped],
        },
        Entry {
            name: "failed_mapped_leaves_private_data_unchanged",
            why: "call_vma_mapped: \"if (err) return err;\" comes before the private data is applied",
            scenario: Scenario {
                private_data: 0x1111,
                mapped_sets_private_data: 0xfeed,
                mapped: Injection::always(-ENOMEM),
                ..Scenario::default()
            },
            expected: expect(-ENOMEM, 1, 0, 1).with(Details { munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), mapped: Some((START, END, 0, Obj::File)), vma_private_data: Some(0x1111), ..Details::default() }),
            requires: &[Cap::VmOpsMapped],
        },
        Entry {
            name: "mapped_failure_unmaps_and_is_overridden",
            why: "mmap_action_finish: a mapped() error is an error like any other: unmap, then error_override ?: err",
            scenario: Scenario { mapped: Injection::always(-ENOMEM), error_override: -EAGAIN, ..Scenario::default() },
            expected: expect(-EAGAIN, 1, 0, 1).with(Details { munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), mapped: Some((START, END, 0, Obj::File)), ..Details::default() }),
            requires: &[],
        },
        Entry {
            name: "vm_ops_without_mapped_succeed",
            why: "call_vma_mapped: !vm_ops->mapped returns 0",
            scenario: Scenario { vm_ops: VmOps::WithoutMapped, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 0).with(Details { remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), ..Details::default() }),
            requires: &[],
        },
        Entry {
            name: "null_vm_ops_succeed",
            why: "call_vma_mapped: !vm_ops returns 0",
            scenario: Scenario { vm_ops: VmOps::None, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 0).with(Details { remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), ..Details::default() }),
            requires: &[],
        },
        // MMAP_REMAP_PFN's prepare-time checks.
        Entry {
            name: "remap_outside_the_vma_fails_prepare_with_efault",
            why: "remap_pfn_range_prepare: !range_in_vma_desc(desc, start, end) gives -EFAULT before anything is mapped",
            scenario: Scenario { remap_start: START - PAGE_SIZE, ..Scenario::remap_full(0x1000) },
            expected: expect(-EFAULT, 0, 0, 0),
            requires: &[Cap::PrepareDesc],
        },
        Entry {
            name: "remap_running_past_the_end_of_the_vma_fails_prepare_with_efault",
            why: "remap_pfn_range_prepare: range_in_vma_desc(desc, start, end) wants end <= desc->end: five pages from the start of a four-page VMA is -EFAULT",
            scenario: Scenario { remap_size: 5 * PAGE_SIZE, ..Scenario::remap_full(0x1000) },
            expected: expect(-EFAULT, 0, 0, 0),
            requires: &[Cap::PrepareDesc],
        },
        Entry {
            name: "partial_remap_of_a_cow_mapping_fails_prepare_with_einval",
            why: "get_remap_pgoff: a CoW mapping must be remapped whole (addr != vm_start || end != vm_end)",
            scenario: Scenario {
                vm_flags: vm_flags::PRIVATE_WRITABLE,
                remap_size: PAGE_SIZE,
                ..Scenario::remap_full(0x1000)
            },
            expected: expect(-EINVAL, 0, 0, 0),
            requires: &[Cap::PrepareDesc],
        },
        Entry {
            name: "cow_remap_sets_pgoff_to_the_pfn",
            why: "get_remap_pgoff: \"We mark the 'original' un-COW'ed pages by matching them up with vma->vm_pgoff\"",
            scenario: Scenario { vm_flags: vm_flags::PRIVATE_WRITABLE, ..Scenario::remap_full(0x1234) },
            expected: expect(0, 0, 0, 1).with(Details { remap: Some((Obj::Vma, START, 0x1234, 4 * PAGE_SIZE, 0)), mapped: Some((START, END, 0x1234, Obj::File)), vma_pgoff: Some(0x1234), ..Details::default() }),
            requires: &[],
        },
        // MMAP_IO_REMAP_PFN: prepared into a plain remap.
        Entry {
            name: "io_remap_succeeds_as_a_remap",
            why: "io_remap_pfn_range_prepare: the action becomes MMAP_REMAP_PFN, which complete performs",
            scenario: Scenario::io_remap_full(0x1000),
            // io_remap_pfn_range_pfn() is the identity unless the arch defines it.
            expected: expect(0, 0, 0, 1).with(Details { pgprot_decrypted: Some(0), mapped: Some((START, END, 0, Obj::File)), remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), ..Details::default() }),
            requires: &[Cap::IoRemap],
        },
        Entry {
            name: "io_remap_outside_the_vma_fails_prepare_with_efault",
            why: "io_remap_pfn_range_prepare delegates to remap_pfn_range_prepare's range check",
            scenario: Scenario { remap_start: START - PAGE_SIZE, ..Scenario::io_remap_full(0x1000) },
            expected: expect(-EFAULT, 0, 0, 0).with(Details { pgprot_decrypted: Some(0), ..Details::default() }),
            requires: &[Cap::IoRemap, Cap::PrepareDesc],
        },
        Entry {
            name: "io_remap_failure_with_override_returns_override_and_unmaps",
            why: "io_remap_pfn_range_prepare delegates to the remap; its failure takes mmap_action_finish's error path",
            scenario: Scenario { remap: Injection::always(-EIO), error_override: -EAGAIN, ..Scenario::io_remap_full(0x1000) },
            expected: expect(-EAGAIN, 1, 0, 0).with(Details { pgprot_decrypted: Some(0), remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), ..Details::default() }),
            requires: &[Cap::IoRemap],
        },
        Entry {
            name: "io_remap_reaching_complete_warns_returns_einval_and_unmaps",
            why: "mmap_action_complete: IO remaps \"should have been delegated\" at prepare: WARN, -EINVAL, then the error path unmaps",
            scenario: Scenario { stage: Stage::CompleteOnly, ..Scenario::io_remap_full(0x1000) },
            expected: expect(-EINVAL, 1, 1, 0).with(Details { munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), ..Details::default() }),
            requires: &[Cap::IoRemap, Cap::IoRemapDelegated],
        },
        // MMAP_SIMPLE_IO_REMAP: __simple_ioremap_prep()'s checks, then an IO remap.
        Entry {
            name: "simple_ioremap_that_fits_succeeds",
            why: "simple_ioremap_prepare: the region covers the VMA, so it becomes an IO remap, then a remap",
            scenario: simple_ioremap_fitting(),
            // pfn = start_phys >> PAGE_SHIFT, + vm_pgoff.
            expected: expect(0, 0, 0, 1).with(Details { pgprot_decrypted: Some(0), mapped: Some((START, END, 0, Obj::File)), remap: Some((Obj::Vma, START, 0x100, 4 * PAGE_SIZE, 0)), ..Details::default() }),
            requires: &[Cap::SimpleIoremap],
        },
        Entry {
            name: "simple_ioremap_with_pgoff_maps_from_that_page",
            why: "__simple_ioremap_prep: \"We start the mapping 'vm_pgoff' pages into the area\": pfn += vm_pgoff",
            scenario: Scenario { pgoff: 1, ..Scenario::simple_ioremap(0x100000, 5 * PAGE_SIZE) },
            expected: expect(0, 0, 0, 1).with(Details { pgprot_decrypted: Some(0), mapped: Some((START, END, 1, Obj::File)), remap: Some((Obj::Vma, START, 0x101, 4 * PAGE_SIZE, 0)), ..Details::default() }),
            requires: &[Cap::SimpleIoremap],
        },
        Entry {
            name: "simple_ioremap_with_pgoff_that_no_longer_fits_fails_prepare_with_einval",
            why: "__simple_ioremap_prep: pages -= vm_pgoff, then \"Can we fit all of the mapping?\"",
            scenario: Scenario { pgoff: 1, ..simple_ioremap_fitting() },
            expected: expect(-EINVAL, 0, 0, 0),
            requires: &[Cap::SimpleIoremap, Cap::PrepareDesc],
        },
        Entry {
            name: "simple_ioremap_counts_the_offset_into_its_first_page",
            why: "__simple_ioremap_prep: size += start_phys & ~PAGE_MASK: 0x2900 bytes from 0x100800 span four pages",
            scenario: Scenario::simple_ioremap(0x100800, 0x2900),
            expected: expect(0, 0, 0, 1).with(Details { pgprot_decrypted: Some(0), mapped: Some((START, END, 0, Obj::File)), remap: Some((Obj::Vma, START, 0x100, 4 * PAGE_SIZE, 0)), ..Details::default() }),
            requires: &[Cap::SimpleIoremap],
        },
        Entry {
            name: "cow_simple_ioremap_remaps_the_whole_vma_and_sets_pgoff_to_the_pfn",
            why: "simple_ioremap_prepare: mmap_action_ioremap_full() covers the VMA, which get_remap_pgoff() requires of a CoW mapping",
            scenario: Scenario { vm_flags: vm_flags::PRIVATE_WRITABLE, ..simple_ioremap_fitting() },
            expected: expect(0, 0, 0, 1).with(Details { pgprot_decrypted: Some(0), remap: Some((Obj::Vma, START, 0x100, 4 * PAGE_SIZE, 0)), mapped: Some((START, END, 0x100, Obj::File)), vma_pgoff: Some(0x100), ..Details::default() }),
            requires: &[Cap::SimpleIoremap],
        },
        Entry {
            name: "simple_ioremap_smaller_than_the_vma_fails_prepare_with_einval",
            why: "__simple_ioremap_prep: \"Can we fit all of the mapping?\" (vm_len >> PAGE_SHIFT) > pages",
            scenario: Scenario::simple_ioremap(0x100000, PAGE_SIZE),
            expected: expect(-EINVAL, 0, 0, 0),
            requires: &[Cap::SimpleIoremap, Cap::PrepareDesc],
        },
        Entry {
            name: "simple_ioremap_wrapping_physical_memory_fails_prepare_with_einval",
            why: "__simple_ioremap_prep: start_phys + size < start_phys",
            scenario: Scenario::simple_ioremap(u64::MAX - PAGE_SIZE, 4 * PAGE_SIZE),
            expected: expect(-EINVAL, 0, 0, 0),
            requires: &[Cap::SimpleIoremap, Cap::PrepareDesc],
        },
        Entry {
            name: "simple_ioremap_with_pgoff_past_the_region_fails_prepare_with_einval",
            why: "__simple_ioremap_prep: vm_pgoff > pages",
            scenario: Scenario { pgoff: 5, ..simple_ioremap_fitting() },
            expected: expect(-EINVAL, 0, 0, 0),
            requires: &[Cap::SimpleIoremap, Cap::PrepareDesc],
        },
        Entry {
            name: "simple_ioremap_remap_failure_unmaps",
            why: "simple_ioremap_prepare delegates to the remap; its failure takes mmap_action_finish's error path",
            scenario: Scenario { remap: Injection::always(-ENOMEM), ..simple_ioremap_fitting() },
            expected: expect(-ENOMEM, 1, 0, 0).with(Details { pgprot_decrypted: Some(0), remap: Some((Obj::Vma, START, 0x100, 4 * PAGE_SIZE, 0)), munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), ..Details::default() }),
            requires: &[Cap::SimpleIoremap],
        },
        Entry {
            name: "simple_ioremap_reaching_complete_warns_returns_einval_and_unmaps",
            why: "mmap_action_complete: simple IO remaps \"should have been delegated\" at prepare",
            scenario: Scenario { stage: Stage::CompleteOnly, ..simple_ioremap_fitting() },
            expected: expect(-EINVAL, 1, 1, 0).with(Details { munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), ..Details::default() }),
            requires: &[Cap::SimpleIoremap],
        },
        // MMAP_MAP_KERNEL_PAGES.
        Entry {
            name: "map_kernel_pages_succeeds_without_a_warn",
            why: "map_kernel_pages_prepare: mmap_read_trylock() fails because mmap holds the lock, so its VM_WARN_ON_ONCE stays silent",
            scenario: Scenario::map_kernel_pages(),
            expected: expect(0, 0, 0, 1).with(Details { mmap_read_trylock: Some(Obj::CurrentMm), insert: Some((Obj::Vma, START, Obj::Null, 4)), mapped: Some((START, END, 0, Obj::File)),
                vma_flags_set: Some(vm_flags::MIXEDMAP),
                ..Details::default()
            }),
            requires: &[Cap::MapKernelPages],
        },
        Entry {
            name: "map_kernel_pages_on_a_pfnmap_warns",
            why: "map_kernel_pages_prepare: VM_WARN_ON_ONCE(vma_desc_test(desc, VMA_PFNMAP_BIT))",
            scenario: Scenario { vm_flags: Scenario::default().vm_flags | vm_flags::PFNMAP, ..Scenario::map_kernel_pages() },
            expected: expect(0, 0, 1, 1).with(Details { mmap_read_trylock: Some(Obj::CurrentMm), insert: Some((Obj::Vma, START, Obj::Null, 4)), mapped: Some((START, END, 0, Obj::File)), ..Details::default() }),
            requires: &[Cap::MapKernelPages],
        },
        Entry {
            name: "map_kernel_pages_without_the_mmap_lock_warns",
            why: "map_kernel_pages_prepare: VM_WARN_ON_ONCE(mmap_read_trylock(desc->mm)): the caller must hold mmap_lock",
            scenario: Scenario { mmap_unlocked: true, ..Scenario::map_kernel_pages() },
            expected: expect(0, 0, 1, 1).with(Details { mmap_read_trylock: Some(Obj::CurrentMm), insert: Some((Obj::Vma, START, Obj::Null, 4)), mapped: Some((START, END, 0, Obj::File)), ..Details::default() }),
            requires: &[Cap::MapKernelPages],
        },
        Entry {
            name: "map_kernel_pages_insert_failure_with_override_returns_override_and_unmaps",
            why: "map_kernel_pages_complete: insert_pages()'s error takes mmap_action_finish's error path",
            scenario: Scenario { insert_pages: Injection::always(-ENOMEM), error_override: -EAGAIN, ..Scenario::map_kernel_pages() },
            expected: expect(-EAGAIN, 1, 0, 0).with(Details { mmap_read_trylock: Some(Obj::CurrentMm), insert: Some((Obj::Vma, START, Obj::Null, 4)), munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), ..Details::default() }),
            requires: &[Cap::MapKernelPages],
        },
        Entry {
            name: "map_kernel_pages_outside_the_vma_fails_prepare_with_efault",
            why: "map_kernel_pages_prepare: !range_in_vma_desc(desc, addr, end) gives -EFAULT",
            scenario: Scenario { kernel_nr_pages: 5, ..Scenario::map_kernel_pages() },
            expected: expect(-EFAULT, 0, 0, 0).with(Details { mmap_read_trylock: Some(Obj::CurrentMm), ..Details::default() }),
            requires: &[Cap::MapKernelPages, Cap::PrepareDesc],
        },
        Entry {
            name: "map_kernel_pages_starting_below_the_vma_fails_prepare_with_efault",
            why: "map_kernel_pages_prepare: range_in_vma_desc(desc, addr, end) wants addr >= desc->start: a page below the VMA is -EFAULT",
            scenario: Scenario { kernel_start: START - PAGE_SIZE, kernel_nr_pages: 1, ..Scenario::map_kernel_pages() },
            expected: expect(-EFAULT, 0, 0, 0).with(Details { mmap_read_trylock: Some(Obj::CurrentMm), ..Details::default() }),
            requires: &[Cap::MapKernelPages, Cap::PrepareDesc],
        },
        Entry {
            name: "map_kernel_pages_on_a_mixedmap_vma_skips_the_mmap_lock_check",
            why: "map_kernel_pages_prepare: only if (!vma_desc_test(desc, VMA_MIXEDMAP_BIT)) does it VM_WARN_ON_ONCE(mmap_read_trylock(desc->mm))",
            scenario: Scenario { vm_flags: Scenario::default().vm_flags | vm_flags::MIXEDMAP, mmap_unlocked: true, ..Scenario::map_kernel_pages() },
            expected: expect(0, 0, 0, 1).with(Details { insert: Some((Obj::Vma, START, Obj::Null, 4)), mapped: Some((START, END, 0, Obj::File)), ..Details::default() }),
            requires: &[Cap::MapKernelPages],
        },
        // Unknown action types.
        Entry {
            name: "unknown_action_type_warns_and_fails_prepare_with_einval",
            why: "mmap_action_prepare: a type no case handles falls through to WARN_ON_ONCE(1) and -EINVAL",
            scenario: Scenario { action: ActionType(99), ..Scenario::default() },
            expected: expect(-EINVAL, 0, 1, 0),
            requires: &[Cap::PrepareDesc],
        },
        // The rmap lock.
        Entry {
            name: "hidden_remap_success_drops_the_rmap_lock",
            why: "mmap_action_finish: maybe_rmap_unlock_action() runs on success too",
            scenario: Scenario { hide_from_rmap_until_complete: true, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 1).with(Details { remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), mapped: Some((START, END, 0, Obj::File)), rmap_unlocks: Some(1), rmap_unlock: Some(Obj::Mapping), ..Details::default() }),
            requires: &[Cap::RmapUnlock],
        },
        Entry {
            name: "hidden_remap_failure_drops_the_rmap_lock_and_unmaps",
            why: "mmap_action_finish: \"do_munmap() might take rmap lock, so release if held\"",
            scenario: Scenario { hide_from_rmap_until_complete: true, ..remap_failing(-ENOMEM) },
            expected: expect(-ENOMEM, 1, 0, 0).with(Details { remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), rmap_unlocks: Some(1), rmap_unlock: Some(Obj::Mapping), ..Details::default() }),
            requires: &[Cap::RmapUnlock],
        },
        Entry {
            name: "hidden_rmap_of_an_anonymous_vma_warns",
            why: "maybe_rmap_unlock_action: VM_WARN_ON_ONCE(vma_is_anonymous(vma)), which is !vma->vm_ops",
            scenario: Scenario { hide_from_rmap_until_complete: true, vm_ops: VmOps::None, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 1, 0).with(Details { rmap_unlocks: Some(1), rmap_unlock: Some(Obj::Mapping), remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), ..Details::default() }),
            requires: &[Cap::RmapUnlock],
        },
        Entry {
            name: "hidden_rmap_without_a_file_dereferences_null",
            why: "maybe_rmap_unlock_action: file = vma->vm_file; i_mmap_unlock_write(file->f_mapping) with no file",
            scenario: Scenario { hide_from_rmap_until_complete: true, has_file: false, ..Scenario::default() },
            expected: crash(SIGSEGV),
            requires: &[Cap::RmapUnlock],
        },
        // A stacked driver's .mmap: compat_vma_mmap() on the VMA mmap made.
        Entry {
            name: "compat_vma_mmap_remap_failure_returns_the_raw_error_without_unmapping",
            why: "__compat_vma_mmap: mmap_action_complete(vma, &desc->action, /*is_compat=*/true)",
            scenario: Scenario { stage: Stage::CompatVmaMmap, error_override: -EAGAIN, ..remap_failing(-ENOMEM) },
            expected: expect(-ENOMEM, 0, 0, 0).with(Details { mmap_prepare: Some((Obj::CurrentMm, Obj::File, 0)), remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), ..Details::default() }),
            requires: &[Cap::CompatVmaMmap],
        },
        Entry {
            name: "compat_vma_mmap_remap_outside_the_vma_fails_with_efault",
            why: "__compat_vma_mmap: mmap_action_prepare() on the descriptor made from the VMA checks the range",
            scenario: Scenario {
                stage: Stage::CompatVmaMmap,
                remap_start: START - PAGE_SIZE,
                ..Scenario::remap_full(0x1000)
            },
            expected: expect(-EFAULT, 0, 0, 0).with(Details { mmap_prepare: Some((Obj::CurrentMm, Obj::File, 0)), ..Details::default() }),
            requires: &[Cap::CompatVmaMmap, Cap::PrepareDesc],
        },
        Entry {
            name: "compat_vma_mmap_success_remaps_and_calls_mapped",
            why: "compat_set_desc_from_vma() then compat_set_vma_from_desc(): the VMA gets the remap's flags, then mapped() runs",
            scenario: Scenario { stage: Stage::CompatVmaMmap, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 1).with(Details { mmap_prepare: Some((Obj::CurrentMm, Obj::File, 0)), mapped: Some((START, END, 0, Obj::File)),
                remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)),
                vma_flags_set: Some(vm_flags::REMAP),
                ..Details::default()
            }),
            requires: &[Cap::CompatVmaMmap],
        },
        Entry {
            name: "compat_vma_mmap_keeps_the_vmas_pgoff",
            why: "compat_set_desc_from_vma: desc->pgoff = vma_start_pgoff(vma), then compat_set_vma_from_desc sets it back",
            scenario: Scenario { stage: Stage::CompatVmaMmap, pgoff: 5, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 1).with(Details { mmap_prepare: Some((Obj::CurrentMm, Obj::File, 0)), remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), mapped: Some((START, END, 5, Obj::File)), vma_pgoff: Some(5), ..Details::default() }),
            requires: &[Cap::CompatVmaMmap],
        },
        Entry {
            name: "compat_vma_mmap_gives_mmap_prepare_the_vmas_page_prot",
            why: "compat_set_desc_from_vma: desc->page_prot = vma->vm_page_prot, before the file's .mmap_prepare sees the descriptor",
            // 0x25: a protection the code only copies.
            scenario: Scenario { stage: Stage::CompatVmaMmap, page_prot: 0x25, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 1).with(Details {
                mmap_prepare: Some((Obj::CurrentMm, Obj::File, 0x25)),
                remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)),
                mapped: Some((START, END, 0, Obj::File)),
                ..Details::default()
            }),
            requires: &[Cap::CompatVmaMmap],
        },
        Entry {
            name: "compat_vma_mmap_returns_the_mmap_prepare_hooks_error",
            why: "compat_vma_mmap: err = vfs_mmap_prepare(file, &desc); if (err) return err;",
            scenario: Scenario { stage: Stage::CompatVmaMmap, mmap_prepare_ret: -ENOMEM, ..Scenario::remap_full(0x1000) },
            expected: expect(-ENOMEM, 0, 0, 0).with(Details { mmap_prepare: Some((Obj::CurrentMm, Obj::File, 0)), ..Details::default() }),
            requires: &[Cap::CompatVmaMmap],
        },
        Entry {
            name: "compat_vma_mmap_never_drops_an_rmap_lock_it_does_not_hold",
            why: "compat_vma_mmap: \"being invoked from .mmmap means we don't have to enforce this\": hide_from_rmap_until_complete = false",
            scenario: Scenario { stage: Stage::CompatVmaMmap, hide_from_rmap_until_complete: true, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 1).with(Details { mmap_prepare: Some((Obj::CurrentMm, Obj::File, 0)), remap: Some((Obj::Vma, START, 0x1000, 4 * PAGE_SIZE, 0)), mapped: Some((START, END, 0, Obj::File)), rmap_unlocks: Some(0), ..Details::default() }),
            requires: &[Cap::CompatVmaMmap],
        },
        Entry {
            name: "compat_vma_mmap_partial_cow_remap_fails_with_einval",
            why: "compat_set_desc_from_vma copies the VMA's flags, so get_remap_pgoff sees the CoW mapping",
            scenario: Scenario {
                stage: Stage::CompatVmaMmap,
                vm_flags: vm_flags::PRIVATE_WRITABLE,
                remap_size: PAGE_SIZE,
                ..Scenario::remap_full(0x1000)
            },
            expected: expect(-EINVAL, 0, 0, 0).with(Details { mmap_prepare: Some((Obj::CurrentMm, Obj::File, 0)), ..Details::default() }),
            requires: &[Cap::CompatVmaMmap, Cap::PrepareDesc],
        },
        // The nommu variants, compiled as nommu_<name> under MMU headers.
        Entry {
            name: "nommu_remap_warns_at_prepare_and_complete_and_fails_with_einval",
            why: "nommu_mmap_action_complete: WARN_ON_ONCE(1); /* nommu cannot handle this. */ err = -EINVAL, after prepare's own WARN; then the error path unmaps",
            scenario: Scenario { stage: Stage::Nommu, ..Scenario::remap_full(0x1000) },
            expected: expect(-EINVAL, 1, 2, 0).with(Details { munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), ..Details::default() }),
            requires: &[Cap::NommuVariants],
        },
        Entry {
            name: "nommu_remap_failure_with_override_returns_the_override",
            why: "nommu_mmap_action_complete: err = -EINVAL goes to mmap_action_finish(vma, action, err, is_compat), which unmaps and returns error_override ?: err",
            scenario: Scenario { stage: Stage::Nommu, error_override: -EAGAIN, ..Scenario::remap_full(0x1000) },
            expected: expect(-EAGAIN, 1, 2, 0).with(Details { munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), ..Details::default() }),
            requires: &[Cap::NommuVariants],
        },
        Entry {
            name: "nommu_nothing_succeeds_and_calls_mapped",
            why: "nommu_mmap_action_complete: MMAP_NOTHING breaks to mmap_action_finish, as on MMU",
            scenario: Scenario { stage: Stage::Nommu, ..Scenario::default() },
            expected: expect(0, 0, 0, 1).with(Details { mapped: Some((START, END, 0, Obj::File)), ..Details::default() }),
            requires: &[Cap::NommuVariants],
        },
        // The hook era (6.19 to 7.1), before error_override replaced the hooks.
        Entry {
            name: "error_hook_that_clears_the_error_warns_after_unmapping",
            why: "mmap_action_finish (hook era): err = action->error_hook(err); \"The caller should not clear the error.\" VM_WARN_ON_ONCE(!err)",
            scenario: Scenario { error_hook_clears: true, ..remap_failing(-ENOMEM) },
            expected: expect(0, 1, 1, 0),
            requires: &[Cap::ErrorHook],
        },
        Entry {
            name: "failing_success_hook_unmaps_the_vma",
            why: "mmap_action_finish (7.1): a success_hook error takes the error path and unmaps; before 7.1 it returned without unmapping",
            scenario: Scenario { success_hook: Some(-ENOMEM), vm_ops: VmOps::None, ..Scenario::remap_full(0x1000) },
            expected: expect(-ENOMEM, 1, 0, 0),
            requires: &[Cap::SuccessHook],
        },
        // /dev/mem, end to end: its hook, then prepare and complete.
        Entry {
            name: "devmem_mmap_succeeds_without_mapped",
            why: "mmap_mem_prepare: mmap_action_remap_full(desc, desc->pgoff): the whole VMA from pfn pgoff, an I/O remap's flags",
            scenario: Scenario::devmem(0x100),
            expected: expect(0, 0, 0, 0).with(Details { devmem: Some(vec![valid_range(0x100, true), private_mapping_ok(true), range_allowed(0x100, true), prot_allowed(0x100, true), access_prot(0x100)]),
                remap: Some((Obj::Vma, START, 0x100, 4 * PAGE_SIZE, 0)),
                vma_flags_set: Some(vm_flags::REMAP),
                ..Details::default()
            }),
            requires: &[Cap::Devmem],
        },
        Entry {
            name: "devmem_sets_vm_ops_of_its_own",
            why: "mmap_mem_prepare: desc->vm_ops = &mmap_mem_ops, whatever the descriptor had; it has no mapped()",
            scenario: Scenario { vm_ops: VmOps::WithMapped, ..Scenario::devmem(0x100) },
            expected: expect(0, 0, 0, 0).with(Details { devmem: Some(vec![valid_range(0x100, true), private_mapping_ok(true), range_allowed(0x100, true), prot_allowed(0x100, true), access_prot(0x100)]), remap: Some((Obj::Vma, START, 0x100, 4 * PAGE_SIZE, 0)), ..Details::default() }),
            requires: &[Cap::Devmem, Cap::VmOpsMapped],
        },
        Entry {
            name: "devmem_remap_failure_reaches_userspace_as_eagain_and_unmaps",
            why: "mmap_mem_prepare sets error_override = -EAGAIN: \"very plausible userspace might treat [it] differently\"",
            scenario: Scenario { remap: Injection::always(-ENOMEM), ..Scenario::devmem(0x100) },
            expected: expect(-EAGAIN, 1, 0, 0).with(Details { devmem: Some(vec![valid_range(0x100, true), private_mapping_ok(true), range_allowed(0x100, true), prot_allowed(0x100, true), access_prot(0x100)]), remap: Some((Obj::Vma, START, 0x100, 4 * PAGE_SIZE, 0)), munmap: Some((Obj::CurrentMm, START, 4 * PAGE_SIZE, Obj::Null)), ..Details::default() }),
            requires: &[Cap::Devmem],
        },
        Entry {
            name: "devmem_remaps_with_the_protection_phys_mem_access_prot_chooses",
            why: "mmap_mem_prepare: desc->page_prot = phys_mem_access_prot(file, desc->pgoff, size, desc->page_prot), then mmap_action_remap_full() takes desc->page_prot for the remap",
            // 0x25 and 0x35: protections the code only copies; the arch's
            // phys_mem_access_prot() answers 0x35 (as it may answer an
            // uncached protection).
            scenario: Scenario { page_prot: 0x25, devmem_prot: 0x35, ..Scenario::devmem(0x100) },
            expected: expect(0, 0, 0, 0).with(Details {
                remap: Some((Obj::Vma, START, 0x100, 4 * PAGE_SIZE, 0x35)),
                devmem: Some(vec![
                    valid_range(0x100, true),
                    private_mapping_ok(true),
                    range_allowed(0x100, true),
                    prot_allowed(0x100, true),
                    Event::DevMemAccessProt { file: Obj::File, pfn: 0x100, size: 4 * PAGE_SIZE, vma_prot: 0x25 },
                ]),
                ..Details::default()
            }),
            requires: &[Cap::Devmem],
        },
        Entry {
            name: "devmem_offset_that_does_not_fit_phys_addr_t_is_einval",
            why: "mmap_mem_prepare: \"Does it even fit in phys_addr_t?\" offset >> PAGE_SHIFT != pgoff",
            scenario: Scenario::devmem(1 << 60),
            expected: expect(-EINVAL, 0, 0, 0),
            requires: &[Cap::Devmem],
        },
        Entry {
            name: "devmem_range_wrapping_physical_memory_is_einval",
            why: "mmap_mem_prepare: \"It's illegal to wrap around the end of the physical address space.\"",
            scenario: Scenario::devmem(u64::MAX >> 12),
            expected: expect(-EINVAL, 0, 0, 0),
            requires: &[Cap::Devmem],
        },
        Entry {
            name: "devmem_invalid_physical_range_is_einval",
            why: "mmap_mem_prepare: !valid_mmap_phys_addr_range() gives -EINVAL",
            scenario: Scenario { devmem_deny: devmem_deny::VALID_RANGE, ..Scenario::devmem(0x100) },
            expected: expect(-EINVAL, 0, 0, 0).with(Details { devmem: Some(vec![valid_range(0x100, false)]), ..Details::default() }),
            requires: &[Cap::Devmem],
        },
        Entry {
            name: "devmem_private_mapping_refused_is_enosys",
            why: "mmap_mem_prepare: !private_mapping_ok() gives -ENOSYS",
            scenario: Scenario { devmem_deny: devmem_deny::PRIVATE_MAPPING, ..Scenario::devmem(0x100) },
            expected: expect(-ENOSYS, 0, 0, 0).with(Details { devmem: Some(vec![valid_range(0x100, true), private_mapping_ok(false)]), ..Details::default() }),
            requires: &[Cap::Devmem],
        },
        Entry {
            name: "devmem_disallowed_range_is_eperm",
            why: "mmap_mem_prepare: !range_is_allowed() gives -EPERM",
            scenario: Scenario { devmem_deny: devmem_deny::RANGE_ALLOWED, ..Scenario::devmem(0x100) },
            expected: expect(-EPERM, 0, 0, 0).with(Details { devmem: Some(vec![valid_range(0x100, true), private_mapping_ok(true), range_allowed(0x100, false)]), ..Details::default() }),
            requires: &[Cap::Devmem],
        },
        Entry {
            name: "devmem_disallowed_protection_is_einval",
            why: "mmap_mem_prepare: !phys_mem_access_prot_allowed() gives -EINVAL",
            scenario: Scenario { devmem_deny: devmem_deny::PROT_ALLOWED, ..Scenario::devmem(0x100) },
            expected: expect(-EINVAL, 0, 0, 0).with(Details { devmem: Some(vec![valid_range(0x100, true), private_mapping_ok(true), range_allowed(0x100, true), prot_allowed(0x100, false)]), ..Details::default() }),
            requires: &[Cap::Devmem],
        },
    ]
}

/// The entry called `name`.
pub fn entry(name: &str) -> Option<Entry> {
    catalogue().into_iter().find(|e| e.name == name)
}
