//! The behaviour catalogue: each entry is a scenario, the outcome the
//! kernel code gives it (read from the kernel source, and seen on it), and
//! the capabilities a tree needs to express it. The same data drives
//! `cargo test`, `mmharness table` and the runners.

use crate::outcome::Outcome;
use crate::scenario::{devmem_deny, vm_flags, ActionType, Injection, Scenario, Stage, VmOps, PAGE_SIZE};
use mmharness_build::caps::Capabilities;
use serde::Serialize;

pub const ENOMEM: i32 = -12;
pub const EAGAIN: i32 = -11;
pub const EFAULT: i32 = -14;
pub const EINVAL: i32 = -22;
pub const EIO: i32 = -5;
pub const EPERM: i32 = -1;
pub const ENOSYS: i32 = -38;

/// The observable outcome an entry expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// What the mmap caller gets back.
    pub ret: i32,
    /// How many times `do_munmap` is called.
    pub unmaps: usize,
    /// How many WARNs fire.
    pub warns: u32,
    /// How many times `vm_ops->mapped` is called.
    pub mapped_calls: usize,
    /// The kernel code crashes (the other fields are then not compared).
    pub crash: bool,
}

impl Expected {
    pub fn of(o: &Outcome) -> Self {
        Self {
            ret: o.ret().0,
            unmaps: o.unmaps().len(),
            warns: o.warn_count(),
            mapped_calls: o.mapped_calls(),
            crash: o.crash.is_some(),
        }
    }

    /// `Err` with what differs, in words.
    pub fn check(&self, o: &Outcome) -> Result<(), String> {
        match (&o.crash, self.crash) {
            (Some(_), true) => return Ok(()),
            (Some(c), false) => return Err(format!("the kernel code crashed: {}", c.description)),
            (None, true) => return Err(format!("expected a crash, but it returned {}", o.ret())),
            (None, false) => {}
        }
        let got = Self::of(o);
        if &got == self {
            return Ok(());
        }
        let mut diffs = Vec::new();
        if got.ret != self.ret {
            diffs.push(format!("returned {}, expected {}", crate::Ret(got.ret), crate::Ret(self.ret)));
        }
        if got.unmaps != self.unmaps {
            diffs.push(format!("unmapped {} times, expected {}", got.unmaps, self.unmaps));
        }
        if got.warns != self.warns {
            let list: Vec<String> = o.warns.iter().map(|w| w.to_string()).collect();
            diffs.push(format!("{} WARNs, expected {} [{}]", got.warns, self.warns, list.join("; ")));
        }
        if got.mapped_calls != self.mapped_calls {
            diffs.push(format!("mapped() called {} times, expected {}", got.mapped_calls, self.mapped_calls));
        }
        Err(diffs.join(", "))
    }
}

pub struct Entry {
    pub name: &'static str,
    /// The kernel function that decides it, and why.
    pub why: &'static str,
    pub scenario: Scenario,
    pub expected: Expected,
    /// Capability names (see `Capabilities::names`) the tree must have.
    pub requires: &'static [&'static str],
}

impl Entry {
    /// `Err` with the reason when `caps` cannot express this entry.
    pub fn applicable(&self, caps: &Capabilities) -> Result<(), String> {
        let have = caps.names();
        let missing: Vec<&str> = self.requires.iter().copied().filter(|r| !have.contains(r)).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("not applicable: the tree lacks {}", missing.join(", ")))
        }
    }
}

const fn expect(ret: i32, unmaps: usize, warns: u32, mapped_calls: usize) -> Expected {
    Expected { ret, unmaps, warns, mapped_calls, crash: false }
}

const CRASH: Expected = Expected { ret: 0, unmaps: 0, warns: 0, mapped_calls: 0, crash: true };

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

pub fn catalogue() -> Vec<Entry> {
    vec![
        // Errors after prepare: unmap, then the override.
        Entry {
            name: "remap_failure_with_override_returns_override_and_unmaps_the_vma",
            why: "mmap_action_finish: on error and not compat, do_munmap() the VMA and return error_override ?: err",
            scenario: Scenario { error_override: EAGAIN, ..remap_failing(ENOMEM) },
            expected: expect(EAGAIN, 1, 0, 0),
            requires: &[],
        },
        Entry {
            name: "remap_failure_without_override_returns_the_raw_error_and_unmaps",
            why: "mmap_action_finish: with no override the action's own error is returned, after the unmap",
            scenario: remap_failing(ENOMEM),
            expected: expect(ENOMEM, 1, 0, 0),
            requires: &[],
        },
        Entry {
            name: "compat_remap_failure_returns_the_raw_error_and_does_not_unmap",
            why: "mmap_action_finish: \"If this is invoked from the compatibility layer, post-mmap() hook logic will handle cleanup for us\"",
            scenario: Scenario { error_override: EAGAIN, is_compat: true, ..remap_failing(ENOMEM) },
            expected: expect(ENOMEM, 0, 0, 0),
            requires: &["is_compat"],
        },
        Entry {
            name: "compat_success_still_calls_mapped",
            why: "mmap_action_finish: call_vma_mapped() runs on success whether or not the call is compat",
            scenario: Scenario { is_compat: true, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 1),
            requires: &["is_compat", "vm_ops_mapped"],
        },
        Entry {
            name: "compat_mapped_failure_returns_the_raw_error_and_does_not_unmap",
            why: "mmap_action_finish: a mapped() error on the compat path returns before the unmap and the override",
            scenario: Scenario { is_compat: true, error_override: EAGAIN, mapped: Injection::always(ENOMEM), ..Scenario::default() },
            expected: expect(ENOMEM, 0, 0, 1),
            requires: &["is_compat", "vm_ops_mapped"],
        },
        Entry {
            name: "failed_unmap_is_ignored_and_the_override_returned",
            why: "mmap_action_finish: do_munmap()'s own result is not looked at",
            scenario: Scenario { error_override: EAGAIN, munmap: Injection::always(ENOMEM), ..remap_failing(EIO) },
            expected: expect(EAGAIN, 1, 0, 0),
            requires: &[],
        },
        // error_override at its boundaries: check_mmap_action() accepts 0 and
        // IS_ERR_VALUE(), i.e. -4095..-1 once widened to unsigned long.
        Entry {
            name: "override_zero_is_accepted",
            why: "check_mmap_action: a zero override means none",
            scenario: nothing_with_override(0),
            expected: expect(0, 0, 0, 0),
            requires: &["error_override"],
        },
        Entry {
            name: "override_minus_one_is_accepted",
            why: "check_mmap_action: -1 is IS_ERR_VALUE",
            scenario: nothing_with_override(-1),
            expected: expect(0, 0, 0, 0),
            requires: &["error_override"],
        },
        Entry {
            name: "override_minus_4095_is_accepted",
            why: "check_mmap_action: -MAX_ERRNO is the last IS_ERR_VALUE",
            scenario: nothing_with_override(-4095),
            expected: expect(0, 0, 0, 0),
            requires: &["error_override"],
        },
        Entry {
            name: "override_minus_4096_warns_and_fails_prepare_with_einval",
            why: "check_mmap_action: -4096 is past MAX_ERRNO: WARN_ON_ONCE, -EINVAL",
            scenario: nothing_with_override(-4096),
            expected: expect(EINVAL, 0, 1, 0),
            requires: &["error_override"],
        },
        Entry {
            name: "override_that_is_not_an_error_fails_prepare_with_einval_and_one_warn",
            why: "check_mmap_action: WARN_ON_ONCE(override && !IS_ERR_VALUE(override)) gives -EINVAL",
            scenario: Scenario { error_override: 1, ..Scenario::default() },
            expected: expect(EINVAL, 0, 1, 0),
            requires: &["error_override"],
        },
        Entry {
            name: "override_int_min_warns_and_fails_prepare_with_einval",
            why: "check_mmap_action: INT_MIN is not IS_ERR_VALUE",
            scenario: nothing_with_override(i32::MIN),
            expected: expect(EINVAL, 0, 1, 0),
            requires: &["error_override"],
        },
        Entry {
            name: "override_int_max_warns_and_fails_prepare_with_einval",
            why: "check_mmap_action: INT_MAX is not an error value",
            scenario: nothing_with_override(i32::MAX),
            expected: expect(EINVAL, 0, 1, 0),
            requires: &["error_override"],
        },
        // MMAP_NOTHING and vm_ops->mapped.
        Entry {
            name: "nothing_action_succeeds_and_calls_mapped_once",
            why: "mmap_action_complete: MMAP_NOTHING does nothing, then call_vma_mapped()",
            scenario: Scenario::default(),
            expected: expect(0, 0, 0, 1),
            requires: &["vm_ops_mapped"],
        },
        Entry {
            name: "successful_remap_calls_mapped_once_and_does_not_unmap",
            why: "mmap_action_finish: on success call_vma_mapped() runs vm_ops->mapped once",
            scenario: Scenario::remap_full(0x1000),
            expected: expect(0, 0, 0, 1),
            requires: &["vm_ops_mapped"],
        },
        Entry {
            name: "mapped_failure_unmaps_and_is_overridden",
            why: "mmap_action_finish: a mapped() error is an error like any other: unmap, then error_override ?: err",
            scenario: Scenario { mapped: Injection::always(ENOMEM), error_override: EAGAIN, ..Scenario::default() },
            expected: expect(EAGAIN, 1, 0, 1),
            requires: &["vm_ops_mapped"],
        },
        Entry {
            name: "vm_ops_without_mapped_succeed",
            why: "call_vma_mapped: !vm_ops->mapped returns 0",
            scenario: Scenario { vm_ops: VmOps::WithoutMapped, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 0),
            requires: &[],
        },
        Entry {
            name: "null_vm_ops_succeed",
            why: "call_vma_mapped: !vm_ops returns 0",
            scenario: Scenario { vm_ops: VmOps::None, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 0),
            requires: &[],
        },
        // MMAP_REMAP_PFN's prepare-time checks.
        Entry {
            name: "remap_outside_the_vma_fails_prepare_with_efault",
            why: "remap_pfn_range_prepare: !range_in_vma_desc(desc, start, end) gives -EFAULT before anything is mapped",
            scenario: Scenario { remap_start: Scenario::default().start - PAGE_SIZE, ..Scenario::remap_full(0x1000) },
            expected: expect(EFAULT, 0, 0, 0),
            requires: &["prepare_desc"],
        },
        Entry {
            name: "partial_remap_of_a_cow_mapping_fails_prepare_with_einval",
            why: "get_remap_pgoff: a CoW mapping must be remapped whole (addr != vm_start || end != vm_end)",
            scenario: Scenario {
                vm_flags: vm_flags::READ | vm_flags::WRITE | vm_flags::MAYREAD | vm_flags::MAYWRITE,
                remap_size: PAGE_SIZE,
                ..Scenario::remap_full(0x1000)
            },
            expected: expect(EINVAL, 0, 0, 0),
            requires: &["prepare_desc"],
        },
        // MMAP_IO_REMAP_PFN: prepared into a plain remap.
        Entry {
            name: "io_remap_succeeds_as_a_remap",
            why: "io_remap_pfn_range_prepare: the action becomes MMAP_REMAP_PFN, which complete performs",
            scenario: Scenario::io_remap_full(0x1000),
            expected: expect(0, 0, 0, 1),
            requires: &["io_remap", "vm_ops_mapped"],
        },
        Entry {
            name: "io_remap_failure_with_override_returns_override_and_unmaps",
            why: "io_remap_pfn_range_prepare delegates to the remap; its failure takes mmap_action_finish's error path",
            scenario: Scenario { remap: Injection::always(EIO), error_override: EAGAIN, ..Scenario::io_remap_full(0x1000) },
            expected: expect(EAGAIN, 1, 0, 0),
            requires: &["io_remap"],
        },
        Entry {
            name: "io_remap_reaching_complete_warns_returns_einval_and_unmaps",
            why: "mmap_action_complete: IO remaps \"should have been delegated\" at prepare: WARN, -EINVAL, then the error path unmaps",
            scenario: Scenario { stage: Stage::CompleteOnly, ..Scenario::io_remap_full(0x1000) },
            expected: expect(EINVAL, 1, 1, 0),
            requires: &["io_remap"],
        },
        // MMAP_SIMPLE_IO_REMAP: __simple_ioremap_prep()'s checks, then an IO remap.
        Entry {
            name: "simple_ioremap_that_fits_succeeds",
            why: "simple_ioremap_prepare: the region covers the VMA, so it becomes an IO remap, then a remap",
            scenario: simple_ioremap_fitting(),
            expected: expect(0, 0, 0, 1),
            requires: &["simple_ioremap", "vm_ops_mapped"],
        },
        Entry {
            name: "simple_ioremap_smaller_than_the_vma_fails_prepare_with_einval",
            why: "__simple_ioremap_prep: \"Can we fit all of the mapping?\" (vm_len >> PAGE_SHIFT) > pages",
            scenario: Scenario::simple_ioremap(0x100000, PAGE_SIZE),
            expected: expect(EINVAL, 0, 0, 0),
            requires: &["simple_ioremap"],
        },
        Entry {
            name: "simple_ioremap_wrapping_physical_memory_fails_prepare_with_einval",
            why: "__simple_ioremap_prep: start_phys + size < start_phys",
            scenario: Scenario::simple_ioremap(u64::MAX - PAGE_SIZE, 4 * PAGE_SIZE),
            expected: expect(EINVAL, 0, 0, 0),
            requires: &["simple_ioremap"],
        },
        Entry {
            name: "simple_ioremap_with_pgoff_past_the_region_fails_prepare_with_einval",
            why: "__simple_ioremap_prep: vm_pgoff > pages",
            scenario: Scenario { pgoff: 5, ..simple_ioremap_fitting() },
            expected: expect(EINVAL, 0, 0, 0),
            requires: &["simple_ioremap"],
        },
        Entry {
            name: "simple_ioremap_remap_failure_unmaps",
            why: "simple_ioremap_prepare delegates to the remap; its failure takes mmap_action_finish's error path",
            scenario: Scenario { remap: Injection::always(ENOMEM), ..simple_ioremap_fitting() },
            expected: expect(ENOMEM, 1, 0, 0),
            requires: &["simple_ioremap"],
        },
        Entry {
            name: "simple_ioremap_reaching_complete_warns_returns_einval_and_unmaps",
            why: "mmap_action_complete: simple IO remaps \"should have been delegated\" at prepare",
            scenario: Scenario { stage: Stage::CompleteOnly, ..simple_ioremap_fitting() },
            expected: expect(EINVAL, 1, 1, 0),
            requires: &["simple_ioremap"],
        },
        // MMAP_MAP_KERNEL_PAGES.
        Entry {
            name: "map_kernel_pages_succeeds_without_a_warn",
            why: "map_kernel_pages_prepare: mmap_read_trylock() fails because mmap holds the lock, so its VM_WARN_ON_ONCE stays silent",
            scenario: Scenario::map_kernel_pages(),
            expected: expect(0, 0, 0, 1),
            requires: &["map_kernel_pages", "vm_ops_mapped"],
        },
        Entry {
            name: "map_kernel_pages_insert_failure_with_override_returns_override_and_unmaps",
            why: "map_kernel_pages_complete: insert_pages()'s error takes mmap_action_finish's error path",
            scenario: Scenario { insert_pages: Injection::always(ENOMEM), error_override: EAGAIN, ..Scenario::map_kernel_pages() },
            expected: expect(EAGAIN, 1, 0, 0),
            requires: &["map_kernel_pages"],
        },
        Entry {
            name: "map_kernel_pages_outside_the_vma_fails_prepare_with_efault",
            why: "map_kernel_pages_prepare: !range_in_vma_desc(desc, addr, end) gives -EFAULT",
            scenario: Scenario { kernel_nr_pages: 5, ..Scenario::map_kernel_pages() },
            expected: expect(EFAULT, 0, 0, 0),
            requires: &["map_kernel_pages"],
        },
        // Unknown action types.
        Entry {
            name: "unknown_action_type_warns_and_fails_prepare_with_einval",
            why: "mmap_action_prepare: a type no case handles falls through to WARN_ON_ONCE(1) and -EINVAL",
            scenario: Scenario { action: ActionType(99), ..Scenario::default() },
            expected: expect(EINVAL, 0, 1, 0),
            requires: &["prepare_desc"],
        },
        // The rmap lock.
        Entry {
            name: "hidden_remap_success_drops_the_rmap_lock",
            why: "mmap_action_finish: maybe_rmap_unlock_action() runs on success too",
            scenario: Scenario { hide_from_rmap_until_complete: true, ..Scenario::remap_full(0x1000) },
            expected: expect(0, 0, 0, 1),
            requires: &["vm_ops_mapped"],
        },
        Entry {
            name: "hidden_remap_failure_drops_the_rmap_lock_and_unmaps",
            why: "mmap_action_finish: \"do_munmap() might take rmap lock, so release if held\"",
            scenario: Scenario { hide_from_rmap_until_complete: true, ..remap_failing(ENOMEM) },
            expected: expect(ENOMEM, 1, 0, 0),
            requires: &[],
        },
        Entry {
            name: "hidden_rmap_without_a_file_dereferences_null",
            why: "maybe_rmap_unlock_action: file = vma->vm_file; i_mmap_unlock_write(file->f_mapping) with no file",
            scenario: Scenario { hide_from_rmap_until_complete: true, has_file: false, ..Scenario::default() },
            expected: CRASH,
            requires: &[],
        },
        // The hook era (6.19 to 7.1), before error_override replaced the hooks.
        Entry {
            name: "error_hook_that_clears_the_error_warns_after_unmapping",
            why: "mmap_action_finish (hook era): err = action->error_hook(err); \"The caller should not clear the error.\" VM_WARN_ON_ONCE(!err)",
            scenario: Scenario { error_hook_clears: true, ..remap_failing(ENOMEM) },
            expected: expect(0, 1, 1, 0),
            requires: &["error_hook"],
        },
        Entry {
            name: "failing_success_hook_unmaps_the_vma",
            why: "mmap_action_finish (7.1): a success_hook error takes the error path and unmaps; before 7.1 it returned without unmapping",
            scenario: Scenario { success_hook: Some(ENOMEM), vm_ops: VmOps::None, ..Scenario::remap_full(0x1000) },
            expected: expect(ENOMEM, 1, 0, 0),
            requires: &["success_hook"],
        },
        // /dev/mem, end to end: its hook, then prepare and complete.
        Entry {
            name: "devmem_mmap_succeeds_without_mapped",
            why: "mmap_mem_prepare: remap of the whole range from pgoff; mmap_mem_ops has no mapped()",
            scenario: Scenario::devmem(0x100),
            expected: expect(0, 0, 0, 0),
            requires: &["devmem"],
        },
        Entry {
            name: "devmem_remap_failure_reaches_userspace_as_eagain_and_unmaps",
            why: "mmap_mem_prepare sets error_override = -EAGAIN: \"very plausible userspace might treat [it] differently\"",
            scenario: Scenario { remap: Injection::always(ENOMEM), ..Scenario::devmem(0x100) },
            expected: expect(EAGAIN, 1, 0, 0),
            requires: &["devmem"],
        },
        Entry {
            name: "devmem_offset_that_does_not_fit_phys_addr_t_is_einval",
            why: "mmap_mem_prepare: \"Does it even fit in phys_addr_t?\" offset >> PAGE_SHIFT != pgoff",
            scenario: Scenario::devmem(1 << 60),
            expected: expect(EINVAL, 0, 0, 0),
            requires: &["devmem"],
        },
        Entry {
            name: "devmem_range_wrapping_physical_memory_is_einval",
            why: "mmap_mem_prepare: \"It's illegal to wrap around the end of the physical address space.\"",
            scenario: Scenario::devmem(u64::MAX >> 12),
            expected: expect(EINVAL, 0, 0, 0),
            requires: &["devmem"],
        },
        Entry {
            name: "devmem_invalid_physical_range_is_einval",
            why: "mmap_mem_prepare: !valid_mmap_phys_addr_range() gives -EINVAL",
            scenario: Scenario { devmem_deny: devmem_deny::VALID_RANGE, ..Scenario::devmem(0x100) },
            expected: expect(EINVAL, 0, 0, 0),
            requires: &["devmem"],
        },
        Entry {
            name: "devmem_private_mapping_refused_is_enosys",
            why: "mmap_mem_prepare: !private_mapping_ok() gives -ENOSYS",
            scenario: Scenario { devmem_deny: devmem_deny::PRIVATE_MAPPING, ..Scenario::devmem(0x100) },
            expected: expect(ENOSYS, 0, 0, 0),
            requires: &["devmem"],
        },
        Entry {
            name: "devmem_disallowed_range_is_eperm",
            why: "mmap_mem_prepare: !range_is_allowed() gives -EPERM",
            scenario: Scenario { devmem_deny: devmem_deny::RANGE_ALLOWED, ..Scenario::devmem(0x100) },
            expected: expect(EPERM, 0, 0, 0),
            requires: &["devmem"],
        },
        Entry {
            name: "devmem_disallowed_protection_is_einval",
            why: "mmap_mem_prepare: !phys_mem_access_prot_allowed() gives -EINVAL",
            scenario: Scenario { devmem_deny: devmem_deny::PROT_ALLOWED, ..Scenario::devmem(0x100) },
            expected: expect(EINVAL, 0, 0, 0),
            requires: &["devmem"],
        },
    ]
}

/// The entry called `name`.
pub fn entry(name: &str) -> Option<Entry> {
    catalogue().into_iter().find(|e| e.name == name)
}
