//! The behaviour catalogue: each entry is a scenario, the outcome the
//! kernel code gives it (read from the kernel source, and seen on it), and
//! the capabilities a tree needs to express it. The same data drives
//! `cargo test`, `mmharness table` and the runners.

use crate::outcome::Outcome;
use crate::scenario::{ActionType, Injection, Scenario, Stage, PAGE_SIZE};
use mmharness_build::caps::Capabilities;
use serde::Serialize;

pub const ENOMEM: i32 = -12;
pub const EAGAIN: i32 = -11;
pub const EFAULT: i32 = -14;
pub const EINVAL: i32 = -22;

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
}

impl Expected {
    pub fn of(o: &Outcome) -> Self {
        Self { ret: o.ret().0, unmaps: o.unmaps().len(), warns: o.warn_count(), mapped_calls: o.mapped_calls() }
    }

    /// `Err` with what differs, in words.
    pub fn check(&self, o: &Outcome) -> Result<(), String> {
        if let Some(c) = &o.crash {
            return Err(format!("the kernel code crashed: {}", c.description));
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
    Expected { ret, unmaps, warns, mapped_calls }
}

fn remap_failing(err: i32) -> Scenario {
    Scenario { remap: Injection::always(err), ..Scenario::remap_full(0x1000) }
}

pub fn catalogue() -> Vec<Entry> {
    vec![
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
            name: "override_that_is_not_an_error_fails_prepare_with_einval_and_one_warn",
            why: "check_mmap_action: WARN_ON_ONCE(override && !IS_ERR_VALUE(override)) gives -EINVAL",
            scenario: Scenario { error_override: 1, ..Scenario::default() },
            expected: expect(EINVAL, 0, 1, 0),
            requires: &["error_override"],
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
            name: "remap_outside_the_vma_fails_prepare_with_efault",
            why: "remap_pfn_range_prepare: !range_in_vma_desc(desc, start, end) gives -EFAULT before anything is mapped",
            scenario: Scenario { remap_start: Scenario::default().start - PAGE_SIZE, ..Scenario::remap_full(0x1000) },
            expected: expect(EFAULT, 0, 0, 0),
            requires: &["prepare_desc"],
        },
        Entry {
            name: "unknown_action_type_warns_and_fails_prepare_with_einval",
            why: "mmap_action_prepare: a type no case handles falls through to WARN_ON_ONCE(1) and -EINVAL",
            scenario: Scenario { action: ActionType(99), ..Scenario::default() },
            expected: expect(EINVAL, 0, 1, 0),
            requires: &["prepare_desc"],
        },
        Entry {
            name: "io_remap_reaching_complete_warns_returns_einval_and_unmaps",
            why: "mmap_action_complete: IO remaps \"should have been delegated\" at prepare: WARN, -EINVAL, then the error path unmaps",
            scenario: Scenario { stage: Stage::CompleteOnly, ..Scenario::io_remap_full(0x1000) },
            expected: expect(EINVAL, 1, 1, 0),
            requires: &["io_remap"],
        },
    ]
}

/// The entry called `name`.
pub fn entry(name: &str) -> Option<Entry> {
    catalogue().into_iter().find(|e| e.name == name)
}
