//! What a tree's mmap-action API can express, detected from the tree's own
//! code (struct fields, prototypes, enum values), never from a version
//! number: mainline and stable passed through shapes no release number names.

use crate::c::decl::{self, Definition};
use crate::extract::Extract;
use serde::{Deserialize, Serialize};

/// The shape of `mmap_action_complete`'s parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompleteShape {
    /// `mmap_action_complete(action, vma)` (6.19, 7.0).
    ActionVma,
    /// `mmap_action_complete(vma, action)`.
    VmaAction,
    /// `mmap_action_complete(vma, action, is_compat)` (7.1 and later).
    VmaActionCompat,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// `struct mmap_action` has `int error_override`.
    pub error_override: bool,
    /// `struct mmap_action` has `error_hook`.
    pub error_hook: bool,
    /// `struct mmap_action` has `success_hook`.
    pub success_hook: bool,
    /// `vm_operations_struct` has `mapped`.
    pub vm_ops_mapped: bool,
    /// `mmap_action_prepare(desc)` returns an error, rather than
    /// `void mmap_action_prepare(action, desc)`.
    pub prepare_returns_error: bool,
    pub complete: CompleteShape,
    /// `vm_area_desc` holds `vma_flags_t vma_flags` (else `vm_flags`).
    pub desc_vma_flags: bool,
    /// The action types `enum mmap_action_type` names, in order.
    pub action_types: Vec<String>,
    /// `tools/testing/vma/include/dup.h` exists (7.0 and later), rather than
    /// a single `vma_internal.h`.
    pub split_tools_headers: bool,
    /// `mm/util.c` has a `#else` (nommu) branch of the entry points.
    pub nommu_variants: bool,
    /// `drivers/char/mem.c` has `mmap_mem_prepare`, /dev/mem's hook.
    pub devmem: bool,
    /// `mm/util.c` has `compat_vma_mmap(file, vma)`, for stacked drivers.
    pub compat_vma_mmap: bool,
    /// The extracted code releases the rmap lock (`i_mmap_unlock_write`);
    /// before 7.1, mm/vma.c's `call_action_complete` did. Also set when
    /// neither does, so that the scenarios run and show the lock held.
    #[serde(default)]
    pub rmap_unlock: bool,
    /// The extracted code unmaps a VMA whose action failed (`do_munmap`),
    /// or mm/vma.c does not either (then the scenarios show it).
    #[serde(default)]
    pub unmap_on_error: bool,
    /// `io_remap_pfn_range_prepare` makes an I/O remap a plain one, so
    /// complete refuses an I/O remap that skipped prepare; before 7.1
    /// complete performed it.
    #[serde(default)]
    pub io_remap_delegated: bool,
}

/// One thing a tree's mmap-action API can express, as a catalogue entry
/// or a scenario requires it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cap {
    /// `struct mmap_action` has `int error_override`.
    ErrorOverride,
    /// `struct mmap_action` has `error_hook`.
    ErrorHook,
    /// `struct mmap_action` has `success_hook`.
    SuccessHook,
    /// `vm_operations_struct` has `mapped`.
    VmOpsMapped,
    /// `int mmap_action_prepare(desc)`: prepare can fail.
    PrepareDesc,
    CompleteActionVma,
    CompleteVmaAction,
    CompleteVmaActionCompat,
    /// `mmap_action_complete` takes `is_compat`.
    IsCompat,
    DescVmaFlags,
    IoRemap,
    SimpleIoremap,
    MapKernelPages,
    SplitToolsHeaders,
    NommuVariants,
    Devmem,
    CompatVmaMmap,
    /// The extracted code drops the rmap lock it was handed.
    RmapUnlock,
    /// The extracted code unmaps a VMA whose action failed.
    UnmapOnError,
    /// Prepare turns an I/O remap into a plain remap, which complete performs.
    IoRemapDelegated,
}

impl Cap {
    pub const ALL: &'static [Cap] = &[
        Cap::ErrorOverride,
        Cap::ErrorHook,
        Cap::SuccessHook,
        Cap::VmOpsMapped,
        Cap::PrepareDesc,
        Cap::CompleteActionVma,
        Cap::CompleteVmaAction,
        Cap::CompleteVmaActionCompat,
        Cap::IsCompat,
        Cap::DescVmaFlags,
        Cap::IoRemap,
        Cap::SimpleIoremap,
        Cap::MapKernelPages,
        Cap::SplitToolsHeaders,
        Cap::NommuVariants,
        Cap::Devmem,
        Cap::CompatVmaMmap,
        Cap::RmapUnlock,
        Cap::UnmapOnError,
        Cap::IoRemapDelegated,
    ];

    /// A code path that mm/vma.c owns on a tree without it, outside the
    /// artifact, rather than one the tree lacks.
    pub fn in_mm_vma_c(self) -> bool {
        matches!(self, Cap::RmapUnlock | Cap::UnmapOnError)
    }

    /// The name in manifests, `MMH_CAP_*` macros and reports.
    pub fn name(self) -> &'static str {
        match self {
            Cap::ErrorOverride => "error_override",
            Cap::ErrorHook => "error_hook",
            Cap::SuccessHook => "success_hook",
            Cap::VmOpsMapped => "vm_ops_mapped",
            Cap::PrepareDesc => "prepare_desc",
            Cap::CompleteActionVma => "complete_action_vma",
            Cap::CompleteVmaAction => "complete_vma_action",
            Cap::CompleteVmaActionCompat => "complete_vma_action_compat",
            Cap::IsCompat => "is_compat",
            Cap::DescVmaFlags => "desc_vma_flags",
            Cap::IoRemap => "io_remap",
            Cap::SimpleIoremap => "simple_ioremap",
            Cap::MapKernelPages => "map_kernel_pages",
            Cap::SplitToolsHeaders => "split_tools_headers",
            Cap::NommuVariants => "nommu_variants",
            Cap::Devmem => "devmem",
            Cap::CompatVmaMmap => "compat_vma_mmap",
            Cap::RmapUnlock => "rmap_unlock",
            Cap::UnmapOnError => "unmap_on_error",
            Cap::IoRemapDelegated => "io_remap_delegated",
        }
    }
}

impl std::fmt::Display for Cap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Capabilities {
    pub fn has_action(&self, name: &str) -> bool {
        self.action_types.iter().any(|t| t == name)
    }

    pub fn is_compat(&self) -> bool {
        self.complete == CompleteShape::VmaActionCompat
    }

    pub fn has(&self, cap: Cap) -> bool {
        match cap {
            Cap::ErrorOverride => self.error_override,
            Cap::ErrorHook => self.error_hook,
            Cap::SuccessHook => self.success_hook,
            Cap::VmOpsMapped => self.vm_ops_mapped,
            Cap::PrepareDesc => self.prepare_returns_error,
            Cap::CompleteActionVma => self.complete == CompleteShape::ActionVma,
            Cap::CompleteVmaAction => self.complete == CompleteShape::VmaAction,
            Cap::CompleteVmaActionCompat | Cap::IsCompat => self.is_compat(),
            Cap::DescVmaFlags => self.desc_vma_flags,
            Cap::IoRemap => self.has_action("MMAP_IO_REMAP_PFN"),
            Cap::SimpleIoremap => self.has_action("MMAP_SIMPLE_IO_REMAP"),
            Cap::MapKernelPages => self.has_action("MMAP_MAP_KERNEL_PAGES"),
            Cap::SplitToolsHeaders => self.split_tools_headers,
            Cap::NommuVariants => self.nommu_variants,
            Cap::Devmem => self.devmem,
            Cap::CompatVmaMmap => self.compat_vma_mmap,
            Cap::RmapUnlock => self.rmap_unlock,
            Cap::UnmapOnError => self.unmap_on_error,
            Cap::IoRemapDelegated => self.io_remap_delegated,
        }
    }

    /// The capabilities the tree has, in [`Cap::ALL`] order.
    pub fn caps(&self) -> Vec<Cap> {
        Cap::ALL.iter().copied().filter(|c| self.has(*c)).collect()
    }

    /// Their names, for reports.
    pub fn names(&self) -> Vec<&'static str> {
        self.caps().into_iter().map(Cap::name).collect()
    }

    /// `#define MMH_CAP_*` lines for the driver.
    pub fn c_defines(&self) -> String {
        self.names().iter().map(|n| format!("#define MMH_CAP_{} 1\n", n.to_uppercase())).collect()
    }
}

/// What detection reads: the tools headers' copies of the mm types, and
/// the extracted definitions with their parsed prototypes.
pub struct Inputs<'a> {
    pub action: Option<&'a Definition>,
    pub vm_ops: Option<&'a Definition>,
    pub desc: Option<&'a Definition>,
    pub action_types: Option<&'a Definition>,
    pub split_tools_headers: bool,
    pub extract: &'a Extract,
    /// mm/vma.c, where a tree may complete the action's work instead.
    pub vma_c: Option<&'a crate::c::File>,
}

fn field<'a>(d: Option<&'a Definition>, name: &str) -> Option<&'a decl::Field> {
    d?.fields.iter().find(|f| f.path == name)
}

fn param_types<'a>(x: &'a Extract, name: &str) -> Option<Vec<&'a str>> {
    x.mmu(name).map(|d| d.params.iter().map(|p| p.ty.as_str()).collect())
}

pub fn detect(i: &Inputs) -> Capabilities {
    let x = i.extract;
    let complete = match param_types(x, "mmap_action_complete").as_deref() {
        Some([_, _, _]) => CompleteShape::VmaActionCompat,
        Some(["struct mmap_action *", _]) => CompleteShape::ActionVma,
        _ => CompleteShape::VmaAction,
    };
    let is_pointer = |f: Option<&decl::Field>| f.is_some_and(|f| f.ty.contains("(*)"));
    Capabilities {
        error_override: field(i.action, "error_override").is_some_and(|f| f.ty == "int"),
        error_hook: is_pointer(field(i.action, "error_hook")),
        success_hook: is_pointer(field(i.action, "success_hook")),
        vm_ops_mapped: is_pointer(field(i.vm_ops, "mapped")),
        prepare_returns_error: param_types(x, "mmap_action_prepare").is_some_and(|p| p.len() == 1),
        complete,
        desc_vma_flags: field(i.desc, "vma_flags").is_some_and(|f| f.ty == "vma_flags_t"),
        action_types: i.action_types.map_or_else(Vec::new, |d| d.fields.iter().map(|f| f.path.clone()).collect()),
        split_tools_headers: i.split_tools_headers,
        nommu_variants: x.definitions.iter().any(|d| d.nommu && d.name == "mmap_action_prepare"),
        devmem: x.mmu("mmap_mem_prepare").is_some(),
        compat_vma_mmap: param_types(x, "compat_vma_mmap").is_some_and(|p| p.len() == 2),
        rmap_unlock: x.leaves_reached.contains("i_mmap_unlock_write") || !vma_c_does(i.vma_c, "i_mmap_unlock_write"),
        unmap_on_error: x.leaves_reached.contains("do_munmap") || !vma_c_does(i.vma_c, "do_munmap"),
        io_remap_delegated: delegates_io_remap(x),
    }
}

/// mm/vma.c's caller of `mmap_action_complete` calls `leaf` itself, as
/// `call_action_complete` did before 7.1: the extracted code then leaves
/// that step to mm/vma.c. Where neither does it, the step is done nowhere,
/// and the capability stays so that its scenarios run and show it.
fn vma_c_does(vma_c: Option<&crate::c::File>, leaf: &str) -> bool {
    let Some(f) = vma_c else { return false };
    f.items.iter().filter_map(|d| d.body_tokens.clone()).any(|body| {
        let refs = crate::c::items::referenced(&f.lexed, body);
        refs.contains("mmap_action_complete") && refs.contains(leaf)
    })
}

/// The tree's `io_remap_pfn_range_prepare` assigns `MMAP_REMAP_PFN` to the
/// action's `type`.
fn delegates_io_remap(x: &Extract) -> bool {
    let Some(d) = x.mmu("io_remap_pfn_range_prepare") else { return false };
    let Ok(body) = crate::c::File::new(&d.file, d.body()) else { return false };
    let l = &body.lexed;
    (0..l.tokens.len()).any(|i| l.is(i, "type") && l.is(i + 1, "=") && l.is(i + 2, "MMAP_REMAP_PFN"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::c::File;
    use crate::extract::{extract, Spec};
    use std::collections::BTreeSet;

    const TYPES_7_2: &str = "\
enum mmap_action_type {
\tMMAP_NOTHING,\t\t/* Mapping is complete, no further action. */
\tMMAP_REMAP_PFN,\t\t/* Remap PFN range. */
\tMMAP_IO_REMAP_PFN,\t/* I/O remap PFN range. */
};
struct mmap_action {
\tunion { struct { unsigned long start; } remap; };
\tenum mmap_action_type type;
\tint error_override;
\tbool hide_from_rmap_until_complete :1;
};
struct vm_area_desc {
\tvma_flags_t  vma_flags;
\tstruct mmap_action action;
};
struct vm_operations_struct {
\tint (*mapped)(unsigned long start, unsigned long end, pgoff_t pgoff,
\t\t      const struct file *file, void **vm_private_data);
};
";

    const TYPES_6_19: &str = "\
enum mmap_action_type { MMAP_NOTHING, MMAP_REMAP_PFN, MMAP_IO_REMAP_PFN, };
struct mmap_action {
\tenum mmap_action_type type;
\tint (*success_hook)(const struct vm_area_struct *vma);
\tint (*error_hook)(int err);
};
struct vm_area_desc { vm_flags_t vm_flags; };
struct vm_operations_struct { void (*open)(struct vm_area_struct *vma); };
";

    /// Detection on the types of `tools` and entry points with these headers.
    fn detect_on(tools: &str, headers: &[&str]) -> Capabilities {
        let util: String = headers.iter().map(|h| format!("{h}\n{{\n\treturn 0;\n}}\n")).collect();
        let util = File::new("mm/util.c", &util).unwrap();
        let x = extract(&Spec {
            entries: &[],
            optional_entries: &["mmap_action_prepare", "mmap_action_complete", "compat_vma_mmap"],
            code: &[&util],
            helpers: &[],
            leaves: &BTreeSet::new(),
            provided: &BTreeSet::new(),
        })
        .unwrap();
        let t = File::new("dup.h", tools).unwrap();
        let agg = |k, n| t.aggregate(k, n);
        let (a, o, d, e) = (
            agg(decl::Kind::Struct, "mmap_action"),
            agg(decl::Kind::Struct, "vm_operations_struct"),
            agg(decl::Kind::Struct, "vm_area_desc"),
            agg(decl::Kind::Enum, "mmap_action_type"),
        );
        detect(&Inputs {
            action: a.as_ref(),
            vm_ops: o.as_ref(),
            desc: d.as_ref(),
            action_types: e.as_ref(),
            split_tools_headers: true,
            extract: &x,
            vma_c: None,
        })
    }

    /// 7.0's `call_action_complete` releases the rmap lock and unmaps after
    /// `mmap_action_complete`; 7.3's `__mmap_region` leaves both to it.
    #[test]
    fn mm_vma_c_doing_the_step_after_complete_is_read_from_its_caller() {
        let v7_0 = File::new(
            "mm/vma.c",
            "static int call_action_complete(struct mmap_state *map, struct mmap_action *action,\n\
             \t\tstruct vm_area_struct *vma)\n{\n\tint err = mmap_action_complete(action, vma);\n\
             \tif (map->hold_file_rmap_lock)\n\t\ti_mmap_unlock_write(vma->vm_file->f_mapping);\n\
             \tif (err)\n\t\tdo_munmap(current->mm, vma->vm_start, 4096, NULL);\n\treturn err;\n}\n\
             static void vma_complete(struct vma_prepare *vp)\n{\n\ti_mmap_unlock_write(vp->mapping);\n}\n",
        )
        .unwrap();
        let v7_3 = File::new(
            "mm/vma.c",
            "static unsigned long __mmap_region(struct file *file)\n{\n\tint error = mmap_action_complete(vma, a, false);\n\
             \treturn error;\n}\nstatic void vma_complete(struct vma_prepare *vp)\n{\n\ti_mmap_unlock_write(vp->mapping);\n}\n",
        )
        .unwrap();
        assert!(vma_c_does(Some(&v7_0), "i_mmap_unlock_write") && vma_c_does(Some(&v7_0), "do_munmap"));
        assert!(!vma_c_does(Some(&v7_3), "i_mmap_unlock_write"), "vma_complete's unlock is another lock's");
        assert!(!vma_c_does(None, "do_munmap"));
    }

    #[test]
    fn detects_the_error_override_generation() {
        let c = detect_on(
            TYPES_7_2,
            &[
                "int mmap_action_prepare(struct vm_area_desc *desc)",
                "int mmap_action_complete(struct vm_area_struct *vma, struct mmap_action *action, bool is_compat)",
                "int compat_vma_mmap(struct file *file, struct vm_area_struct *vma)",
            ],
        );
        assert!(c.error_override && !c.error_hook && !c.success_hook && c.vm_ops_mapped);
        assert!(c.prepare_returns_error && c.desc_vma_flags && c.is_compat() && c.compat_vma_mmap);
        assert_eq!(c.action_types, vec!["MMAP_NOTHING", "MMAP_REMAP_PFN", "MMAP_IO_REMAP_PFN"]);
        assert!(c.c_defines().contains("#define MMH_CAP_ERROR_OVERRIDE 1\n"));
    }

    #[test]
    fn detects_the_hook_generation() {
        let c = detect_on(
            TYPES_6_19,
            &[
                "void mmap_action_prepare(struct mmap_action *action, struct vm_area_desc *desc)",
                "int mmap_action_complete(struct mmap_action *action, struct vm_area_struct *vma)",
            ],
        );
        assert!(!c.error_override && c.error_hook && c.success_hook && !c.vm_ops_mapped);
        assert!(!c.prepare_returns_error && !c.desc_vma_flags && !c.compat_vma_mmap);
        assert_eq!(c.complete, CompleteShape::ActionVma);
        assert!(!c.has(Cap::SimpleIoremap));
    }

    #[test]
    fn detects_the_two_argument_complete_of_mainline() {
        let c = detect_on(
            TYPES_6_19,
            &[
                "int mmap_action_prepare(struct vm_area_desc *desc)",
                "int mmap_action_complete(struct vm_area_struct *vma, struct mmap_action *action)",
            ],
        );
        assert_eq!(c.complete, CompleteShape::VmaAction);
    }

    #[test]
    fn a_member_in_a_comment_is_not_a_capability() {
        let commented = TYPES_7_2.replace("\tint error_override;", "\t/* int error_override; */");
        let c = detect_on(&commented, &[]);
        assert!(!c.error_override);
    }
}
