//! What to run: an mmap action, its VMA and the failures to inject.

use mmharness_build::caps::{Cap, Capabilities};
use serde::{Deserialize, Serialize};

/// A raw `enum mmap_action_type` value. Not a Rust enum: a scenario may
/// carry a value the kernel does not know, to test that it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionType(pub u32);

impl ActionType {
    pub const NOTHING: Self = Self(0);
    pub const REMAP_PFN: Self = Self(1);
    pub const IO_REMAP_PFN: Self = Self(2);
    pub const SIMPLE_IO_REMAP: Self = Self(3);
    pub const MAP_KERNEL_PAGES: Self = Self(4);

    /// The kernel's name for the value, as of the newest releases.
    pub fn name(self) -> String {
        match self.0 {
            0 => "MMAP_NOTHING".into(),
            1 => "MMAP_REMAP_PFN".into(),
            2 => "MMAP_IO_REMAP_PFN".into(),
            3 => "MMAP_SIMPLE_IO_REMAP".into(),
            4 => "MMAP_MAP_KERNEL_PAGES".into(),
            n => format!("unknown action type {n}"),
        }
    }
}

/// The result a leaf returns: on every call, or only on the nth (1-based),
/// and only for calls from one kernel function if `site` names it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Injection {
    pub ret: i32,
    pub nth: u32,
    /// An extracted function: only its calls to the leaf see `ret`.
    pub site: Option<String>,
}

impl Injection {
    pub const NONE: Self = Self { ret: 0, nth: 0, site: None };

    pub fn always(ret: i32) -> Self {
        Self { ret, ..Self::NONE }
    }

    /// `ret` on the `nth` matching call only.
    pub fn nth(ret: i32, nth: u32) -> Self {
        Self { ret, nth, site: None }
    }

    /// Only calls made from inside the kernel function `site` see `ret`.
    pub fn from(self, site: &str) -> Self {
        Self { site: Some(site.to_string()), ..self }
    }
}

/// Which entry points run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Stage {
    /// `mmap_action_prepare`, then `mmap_action_complete` if it succeeded.
    #[default]
    PrepareAndComplete,
    PrepareOnly,
    /// `mmap_action_complete` alone, on a descriptor that skipped prepare.
    CompleteOnly,
    /// `/dev/mem`'s own `mmap_mem_prepare` hook sets the action up, then
    /// prepare and complete run as mmap runs them.
    DevMem,
    /// A stacked driver's `.mmap` calls `compat_vma_mmap(file, vma)` on the
    /// VMA mmap made; the file's `.mmap_prepare` sets the action.
    CompatVmaMmap,
    /// The nommu variants, `nommu_mmap_action_prepare` then `_complete`.
    Nommu,
}

/// `/dev/mem`'s checks a scenario makes refuse (`Scenario::devmem_deny` bits).
pub mod devmem_deny {
    pub const VALID_RANGE: u32 = 1;
    pub const PRIVATE_MAPPING: u32 = 2;
    pub const RANGE_ALLOWED: u32 = 4;
    pub const PROT_ALLOWED: u32 = 8;
}

/// `vm_ops` of the VMA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum VmOps {
    None,
    WithoutMapped,
    /// With the driver's success check: `mapped`, or on a tree whose
    /// `vm_operations_struct` has none, the action's `success_hook`.
    #[default]
    WithMapped,
}

/// Legacy `VM_*` flag bits used by scenarios.
pub mod vm_flags {
    pub const READ: u64 = 0x1;
    pub const WRITE: u64 = 0x2;
    pub const SHARED: u64 = 0x8;
    pub const MAYREAD: u64 = 0x10;
    pub const MAYWRITE: u64 = 0x20;
    pub const PFNMAP: u64 = 1 << 10;
    pub const IO: u64 = 1 << 14;
    pub const DONTEXPAND: u64 = 1 << 18;
    pub const DONTDUMP: u64 = 1 << 26;
    pub const MIXEDMAP: u64 = 1 << 28;
    /// What `remap_pfn_range_prepare` sets (`VMA_REMAP_FLAGS`).
    pub const REMAP: u64 = IO | PFNMAP | DONTEXPAND | DONTDUMP;
    /// A private, writable mapping: copy-on-write.
    pub const PRIVATE_WRITABLE: u64 = READ | WRITE | MAYREAD | MAYWRITE;
}

pub const PAGE_SIZE: u64 = 4096;

/// Something a scenario asks that a tree may not express: any one of these
/// capabilities. "Errors become X" is `error_override`, or before it an
/// `error_hook` returning X; everything else needs one capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need(pub &'static [Cap]);

impl Need {
    pub const DEVMEM: Self = Self(&[Cap::Devmem]);
    pub const COMPAT_VMA_MMAP: Self = Self(&[Cap::CompatVmaMmap]);
    pub const NOMMU_VARIANTS: Self = Self(&[Cap::NommuVariants]);
    pub const IS_COMPAT: Self = Self(&[Cap::IsCompat]);
    pub const ERROR_OVERRIDE_OR_HOOK: Self = Self(&[Cap::ErrorOverride, Cap::ErrorHook]);
    pub const ERROR_HOOK: Self = Self(&[Cap::ErrorHook]);
    pub const SUCCESS_HOOK: Self = Self(&[Cap::SuccessHook]);
    pub const VM_OPS_MAPPED: Self = Self(&[Cap::VmOpsMapped]);
    /// A driver told that the action succeeded: `vm_ops->mapped`, or before
    /// it the action's `success_hook`.
    pub const SUCCESS_CHECK: Self = Self(&[Cap::VmOpsMapped, Cap::SuccessHook]);

    pub fn met_by(self, caps: &Capabilities) -> bool {
        self.0.iter().any(|c| caps.has(*c))
    }
}

impl std::fmt::Display for Need {
    /// `devmem`, or `error_override or error_hook`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|c| c.name()).collect();
        f.write_str(&names.join(" or "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    pub stage: Stage,
    pub action: ActionType,
    /// "Errors become X": `error_override` where the tree has it, an
    /// `error_hook` returning X before that. 0 leaves errors as they are.
    pub error_override: i32,
    pub is_compat: bool,
    pub hide_from_rmap_until_complete: bool,
    pub has_file: bool,
    pub vm_ops: VmOps,
    pub start: u64,
    pub end: u64,
    pub pgoff: u64,
    pub vm_flags: u64,
    pub private_data: u64,
    pub remap_start: u64,
    pub remap_pfn: u64,
    pub remap_size: u64,
    pub phys_start: u64,
    pub phys_size: u64,
    pub kernel_start: u64,
    pub kernel_nr_pages: u64,
    /// The descriptor's `page_prot`: a value the code only copies.
    pub page_prot: u64,
    /// What /dev/mem's `phys_mem_access_prot` returns, if not 0 (else its
    /// `vma_prot`): the arch's choice, such as an uncached protection.
    pub devmem_prot: u64,
    pub remap: Injection,
    pub insert_pages: Injection,
    pub munmap: Injection,
    pub mapped: Injection,
    /// What `vm_ops->mapped` stores through its private-data pointer (0: nothing).
    pub mapped_sets_private_data: u64,
    /// `devmem_deny` bits: the /dev/mem checks that refuse.
    pub devmem_deny: u32,
    /// Before `error_override`: an `error_hook` that returns 0.
    pub error_hook_clears: bool,
    /// Before `error_override`: a `success_hook` returning this.
    pub success_hook: Option<i32>,
    /// `mmap_lock` is not held, so `mmap_read_trylock` succeeds.
    pub mmap_unlocked: bool,
    /// For `Stage::CompatVmaMmap`: what the file's `.mmap_prepare` returns.
    pub mmap_prepare_ret: i32,
}

impl Default for Scenario {
    /// A shared file mapping of four pages at 0x10000, with `mapped`.
    fn default() -> Self {
        Self {
            stage: Stage::default(),
            action: ActionType::NOTHING,
            error_override: 0,
            is_compat: false,
            hide_from_rmap_until_complete: false,
            has_file: true,
            vm_ops: VmOps::default(),
            start: 0x10000,
            end: 0x10000 + 4 * PAGE_SIZE,
            pgoff: 0,
            vm_flags: vm_flags::READ | vm_flags::WRITE | vm_flags::SHARED | vm_flags::MAYREAD | vm_flags::MAYWRITE,
            private_data: 0,
            remap_start: 0,
            remap_pfn: 0,
            remap_size: 0,
            phys_start: 0,
            phys_size: 0,
            kernel_start: 0,
            kernel_nr_pages: 0,
            page_prot: 0,
            devmem_prot: 0,
            remap: Injection::NONE,
            insert_pages: Injection::NONE,
            munmap: Injection::NONE,
            mapped: Injection::NONE,
            mapped_sets_private_data: 0,
            devmem_deny: 0,
            error_hook_clears: false,
            success_hook: None,
            mmap_unlocked: false,
            mmap_prepare_ret: 0,
        }
    }
}

impl Scenario {
    /// An `MMAP_REMAP_PFN` of the whole VMA from `pfn`.
    pub fn remap_full(pfn: u64) -> Self {
        let d = Self::default();
        Self { action: ActionType::REMAP_PFN, remap_start: d.start, remap_pfn: pfn, remap_size: d.end - d.start, ..d }
    }

    /// An `MMAP_IO_REMAP_PFN` of the whole VMA from `pfn`.
    pub fn io_remap_full(pfn: u64) -> Self {
        Self { action: ActionType::IO_REMAP_PFN, ..Self::remap_full(pfn) }
    }

    /// An `MMAP_SIMPLE_IO_REMAP` of `size` bytes of physical memory at `phys`.
    pub fn simple_ioremap(phys: u64, size: u64) -> Self {
        Self { action: ActionType::SIMPLE_IO_REMAP, phys_start: phys, phys_size: size, ..Self::default() }
    }

    /// An `MMAP_MAP_KERNEL_PAGES` of every page of the VMA.
    pub fn map_kernel_pages() -> Self {
        let d = Self::default();
        Self {
            action: ActionType::MAP_KERNEL_PAGES,
            kernel_start: d.start,
            kernel_nr_pages: (d.end - d.start) / PAGE_SIZE,
            ..d
        }
    }

    /// An mmap of /dev/mem at physical page `pgoff`, through its own hook.
    pub fn devmem(pgoff: u64) -> Self {
        Self { stage: Stage::DevMem, pgoff, vm_ops: VmOps::None, ..Self::default() }
    }

    /// What the scenario asks of the tree's API, in the order the runner's
    /// driver checks it.
    pub fn needs(&self) -> Vec<Need> {
        let mut needs = Vec::new();
        match self.stage {
            Stage::DevMem => needs.push(Need::DEVMEM),
            Stage::CompatVmaMmap => needs.push(Need::COMPAT_VMA_MMAP),
            Stage::Nommu => needs.push(Need::NOMMU_VARIANTS),
            Stage::PrepareAndComplete | Stage::PrepareOnly | Stage::CompleteOnly => {}
        }
        if self.is_compat {
            needs.push(Need::IS_COMPAT);
        }
        if self.error_override != 0 {
            needs.push(Need::ERROR_OVERRIDE_OR_HOOK);
        }
        if self.error_hook_clears {
            needs.push(Need::ERROR_HOOK);
        }
        if self.success_hook.is_some() {
            needs.push(Need::SUCCESS_HOOK);
        }
        if self.vm_ops == VmOps::WithMapped {
            // Only mapped() sets private data, and a success_hook the
            // scenario sets itself cannot also be the success check.
            let mapped_only = self.success_hook.is_some() || self.mapped_sets_private_data != 0;
            needs.push(if mapped_only { Need::VM_OPS_MAPPED } else { Need::SUCCESS_CHECK });
        }
        needs.dedup();
        needs
    }

    /// The first need the tree lacks, if any.
    pub fn unmet(&self, caps: &Capabilities) -> Option<Need> {
        self.needs().into_iter().find(|n| !n.met_by(caps))
    }

    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}
