//! What a scenario did: return values, the ordered calls into the leaves,
//! the WARNs, and the descriptor and VMA afterwards.

use crate::scenario::ActionType;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A kernel return value: 0 or a negative errno.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ret(pub i32);

/// `-ENOMEM (-12)`, so a failed assertion reads as the kernel would.
impl fmt::Debug for Ret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            n if n == self.0.to_string() => write!(f, "{n}"),
            n => write!(f, "{n} ({})", self.0),
        }
    }
}

impl Ret {
    /// `-EAGAIN` for -11, `0` for 0, the number for anything else.
    pub fn name(self) -> String {
        match self.0 {
            0 => "0".into(),
            n if (-4095..0).contains(&n) => match nix::errno::Errno::from_raw(-n) {
                nix::errno::Errno::UnknownErrno => n.to_string(),
                e => format!("-{e:?}"),
            },
            n => n.to_string(),
        }
    }
}

impl fmt::Display for Ret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// An object a leaf was called with, named by what it is in the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Obj {
    Null,
    /// `current->mm`, which is also the VMA's `vm_mm`.
    CurrentMm,
    Vma,
    File,
    /// `vma->vm_file->f_mapping`.
    Mapping,
    /// The descriptor the scenario's mmap fills in.
    Desc,
    /// `&desc->page_prot`.
    DescPageProt,
    Other(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "leaf", rename_all = "snake_case")]
pub enum Event {
    Remap {
        vma: Obj,
        addr: u64,
        pfn: u64,
        size: u64,
        prot: u64,
        ret: Ret,
    },
    InsertPages {
        vma: Obj,
        addr: u64,
        pages: Obj,
        nr_pages: u64,
        ret: Ret,
    },
    Munmap {
        mm: Obj,
        start: u64,
        len: u64,
        /// The unmap's `struct list_head *uf`.
        uf: Obj,
        ret: Ret,
    },
    Mapped {
        start: u64,
        end: u64,
        pgoff: u64,
        file: Obj,
        ret: Ret,
    },
    RmapLock {
        mapping: Obj,
    },
    RmapUnlock {
        mapping: Obj,
    },
    MmapReadTrylock {
        mm: Obj,
    },
    PgprotDecrypted {
        prot: u64,
    },
    /// `valid_mmap_phys_addr_range` or `range_is_allowed` (the
    /// `scenario::devmem_deny` bit), what it was asked and its answer.
    DevMemCheck {
        check: u32,
        pfn: u64,
        size: u64,
        allowed: bool,
    },
    /// /dev/mem's `private_mapping_ok(desc)`.
    DevMemPrivateMappingOk {
        desc: Obj,
        allowed: bool,
    },
    /// /dev/mem's `phys_mem_access_prot_allowed(file, pfn, size, vma_prot)`.
    DevMemProtAllowed {
        file: Obj,
        pfn: u64,
        size: u64,
        vma_prot: Obj,
        allowed: bool,
    },
    /// /dev/mem's `phys_mem_access_prot(file, pfn, size, vma_prot)`.
    DevMemAccessProt {
        file: Obj,
        pfn: u64,
        size: u64,
        vma_prot: u64,
    },
    /// The file's `.mmap_prepare` that `compat_vma_mmap` calls: the
    /// descriptor's `mm`, `file` and `page_prot`.
    MmapPrepare {
        mm: Obj,
        file: Obj,
        page_prot: u64,
    },
    /// The hook era's `action->success_hook`.
    SuccessHook {
        vma: Obj,
        ret: Ret,
    },
    /// The success check on a tree whose `vm_ops` has no `mapped`: the
    /// action's `success_hook`, with what `mapped` would be given, read
    /// from the VMA the hook gets.
    SuccessCheck {
        start: u64,
        end: u64,
        pgoff: u64,
        file: Obj,
        ret: Ret,
    },
    Unknown {
        kind: u32,
    },
}

impl Event {
    /// One of /dev/mem's checks of what is mapped.
    pub fn is_devmem_check(&self) -> bool {
        matches!(
            self,
            Self::DevMemCheck { .. }
                | Self::DevMemPrivateMappingOk { .. }
                | Self::DevMemProtAllowed { .. }
                | Self::DevMemAccessProt { .. }
        )
    }
}

/// Where the extracted kernel code made a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub file: String,
    pub line: u32,
}

/// A WARN that fired, where the kernel code has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warn {
    pub file: String,
    pub line: u32,
    /// The macro the source used: `WARN_ON`, `WARN_ON_ONCE`, `VM_WARN_ON_ONCE`, ...
    #[serde(rename = "macro")]
    pub macro_name: String,
    pub condition: String,
}

impl fmt::Display for Warn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} {}({})", self.file, self.line, self.macro_name, self.condition)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DescAfter {
    pub action: Option<ActionType>,
    pub pgoff: u64,
    pub vm_flags: u64,
    pub remap_start: u64,
    pub remap_pfn: u64,
    pub remap_size: u64,
    pub error_override: i32,
    /// The descriptor's `vm_ops` has `mapped`.
    pub has_mapped: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VmaAfter {
    pub start: u64,
    pub end: u64,
    pub pgoff: u64,
    pub vm_flags: u64,
    pub private_data: u64,
}

/// How the code under test ended a scenario it did not return from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crash {
    /// The signal that ended the runner, if one did.
    pub signal: Option<i32>,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Outcome {
    /// The driver's `.mmap_prepare` hook's result, if it ran.
    pub hook: Option<Ret>,
    /// `mmap_action_prepare`'s result, if it ran.
    pub prepare: Option<Ret>,
    /// `mmap_action_complete`'s result, if it ran.
    pub complete: Option<Ret>,
    pub events: Vec<Event>,
    /// For each event, where the extracted code made the call.
    pub event_sites: Vec<Option<Site>>,
    /// Events past the recorder's capacity, counted but not kept.
    pub events_dropped: u32,
    pub warns: Vec<Warn>,
    pub warns_dropped: u32,
    pub desc: DescAfter,
    /// The VMA's state at the end, or when `do_munmap` removed it.
    pub vma: VmaAfter,
    pub vma_unmapped: bool,
    pub rmap_left_locked: bool,
    pub crash: Option<Crash>,
}

impl Outcome {
    /// What the mmap caller sees: complete's result if it ran, else
    /// prepare's, else the driver hook's.
    pub fn ret(&self) -> Ret {
        self.complete.or(self.prepare).or(self.hook).unwrap_or(Ret(0))
    }

    pub fn unmaps(&self) -> Vec<&Event> {
        self.events.iter().filter(|e| matches!(e, Event::Munmap { .. })).collect()
    }

    /// Calls of the success check: `vm_ops->mapped`, or the `success_hook`
    /// standing in for it on a tree without it.
    pub fn mapped_calls(&self) -> usize {
        self.events.iter().filter(|e| matches!(e, Event::Mapped { .. } | Event::SuccessCheck { .. })).count()
    }

    pub fn warn_count(&self) -> u32 {
        self.warns.len() as u32 + self.warns_dropped
    }
}
