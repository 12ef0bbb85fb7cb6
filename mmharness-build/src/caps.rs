//! What a tree's mmap-action API can express, detected from the tree's own
//! code (struct fields, prototypes, enum values), never from a version
//! number: mainline and stable passed through shapes no release number names.

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
    ];

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

/// The text between the braces of `struct NAME {` (or `enum NAME {`).
pub fn body_of(text: &str, opener: &str) -> Option<String> {
    let start = text.find(opener)? + opener.len();
    let mut depth = 1;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(text[start..start + i].to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// Parameter count of a prototype header such as `int f(struct a *x, bool y)`.
pub fn param_count(header: &str) -> usize {
    let Some(open) = header.find('(') else { return 0 };
    let inner = header[open + 1..].rsplit_once(')').map_or("", |(a, _)| a).trim();
    if inner.is_empty() || inner == "void" {
        0
    } else {
        inner.split(',').count()
    }
}

/// Inputs to detection: the tools header that holds the duplicated types,
/// and the headers of the entry points as the tree's `mm/util.c` has them.
pub struct Inputs<'a> {
    pub tools_types: &'a str,
    pub split_tools_headers: bool,
    pub prepare_header: &'a str,
    pub complete_header: &'a str,
    pub nommu_variants: bool,
    pub devmem: bool,
    /// The header of `compat_vma_mmap`, empty if the tree has none.
    pub compat_vma_mmap_header: &'a str,
}

pub fn detect(i: &Inputs) -> Capabilities {
    let action = body_of(i.tools_types, "struct mmap_action {").unwrap_or_default();
    let ops = body_of(i.tools_types, "struct vm_operations_struct {").unwrap_or_default();
    let desc = body_of(i.tools_types, "struct vm_area_desc {").unwrap_or_default();
    let types = body_of(i.tools_types, "enum mmap_action_type {").unwrap_or_default();
    let complete = match param_count(i.complete_header) {
        3 => CompleteShape::VmaActionCompat,
        _ if i.complete_header.split('(').nth(1).is_some_and(|p| p.trim_start().starts_with("struct mmap_action")) => {
            CompleteShape::ActionVma
        }
        _ => CompleteShape::VmaAction,
    };
    Capabilities {
        error_override: action.contains("error_override;"),
        error_hook: action.contains("(*error_hook)"),
        success_hook: action.contains("(*success_hook)"),
        vm_ops_mapped: ops.contains("(*mapped)"),
        prepare_returns_error: param_count(i.prepare_header) == 1,
        complete,
        desc_vma_flags: desc.contains("vma_flags_t vma_flags;"),
        action_types: enum_values(&types),
        split_tools_headers: i.split_tools_headers,
        nommu_variants: i.nommu_variants,
        devmem: i.devmem,
        compat_vma_mmap: param_count(i.compat_vma_mmap_header) == 2,
    }
}

fn enum_values(body: &str) -> Vec<String> {
    let no_comments: String = body.lines().map(|l| l.split("/*").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    no_comments
        .split(',')
        .map(|v| v.split('=').next().unwrap_or("").trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
\tvma_flags_t vma_flags;
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

    #[test]
    fn detects_the_error_override_generation() {
        let c = detect(&Inputs {
            tools_types: TYPES_7_2,
            split_tools_headers: true,
            prepare_header: "int mmap_action_prepare(struct vm_area_desc *desc)",
            complete_header:
                "int mmap_action_complete(struct vm_area_struct *vma, struct mmap_action *action, bool is_compat)",
            nommu_variants: true,
            devmem: true,
            compat_vma_mmap_header: "int compat_vma_mmap(struct file *file, struct vm_area_struct *vma)",
        });
        assert!(c.error_override && !c.error_hook && !c.success_hook && c.vm_ops_mapped);
        assert!(c.prepare_returns_error && c.desc_vma_flags && c.is_compat());
        assert_eq!(c.action_types, vec!["MMAP_NOTHING", "MMAP_REMAP_PFN", "MMAP_IO_REMAP_PFN"]);
        assert!(c.c_defines().contains("#define MMH_CAP_ERROR_OVERRIDE 1\n"));
    }

    #[test]
    fn detects_the_hook_generation() {
        let c = detect(&Inputs {
            tools_types: TYPES_6_19,
            split_tools_headers: false,
            prepare_header: "void mmap_action_prepare(struct mmap_action *action, struct vm_area_desc *desc)",
            complete_header: "int mmap_action_complete(struct mmap_action *action, struct vm_area_struct *vma)",
            nommu_variants: true,
            devmem: true,
            compat_vma_mmap_header: "int compat_vma_mmap(struct file *file, struct vm_area_struct *vma)",
        });
        assert!(!c.error_override && c.error_hook && c.success_hook && !c.vm_ops_mapped);
        assert!(!c.prepare_returns_error && !c.desc_vma_flags);
        assert_eq!(c.complete, CompleteShape::ActionVma);
        assert!(!c.has_action("MMAP_SIMPLE_IO_REMAP"));
    }

    #[test]
    fn detects_the_two_argument_complete_of_mainline() {
        let c = detect(&Inputs {
            tools_types: TYPES_6_19,
            split_tools_headers: true,
            prepare_header: "int mmap_action_prepare(struct vm_area_desc *desc)",
            complete_header: "int mmap_action_complete(struct vm_area_struct *vma, struct mmap_action *action)",
            nommu_variants: false,
            devmem: false,
            compat_vma_mmap_header: "",
        });
        assert_eq!(c.complete, CompleteShape::VmaAction);
    }
}
