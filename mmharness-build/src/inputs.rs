//! The one table of what mmharness reads from a kernel tree, and why.
//! Tree checks, the extraction, leaf signatures, check-dup, the default
//! tree's unpack list and the files a build watches all derive from it.

/// What a file (or directory) is to the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The top-level Makefile: the kernel's version.
    Version,
    /// Code whose definitions are extracted; the real one wins over any
    /// stub of the same name in the tools headers.
    Code,
    /// A header whose inline helpers are extracted where the tools headers
    /// lack them.
    Helpers,
    /// A header read for the declarations of the leaves.
    Declarations,
    /// The kernel's own definitions of the types the tools headers copy.
    KernelTypes,
    /// A kernel header the unit includes as `tools/testing/vma/main.c` does.
    UnitHeader,
    /// tools/testing/vma's own headers, read as text too (capabilities).
    ToolsHeader,
    /// The flags tools/testing/vma builds with.
    ToolsMakefile,
    /// Out-of-line helpers of the tools headers, included by the unit.
    ToolsHelpers,
    /// A kernel header the tools headers reach through their includes.
    Reached,
    /// A directory the unit's includes are searched in; the files read
    /// from it are the ones the preprocessor names.
    IncludeDir,
    /// Included by the end-to-end unit, as `tools/testing/vma/main.c` does,
    /// or extracted into it (`do_munmap`).
    EndToEnd,
    /// Compiled beside the end-to-end unit, as `tools/testing/vma` links it;
    /// `static` taken out where `tools/testing/shared/shared.mk` does.
    EndToEndSupport { unstatic: bool },
    /// Included by an end-to-end support source.
    EndToEndReached,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Input {
    pub path: &'static str,
    pub role: Role,
    /// A tree without it cannot be built (else: a capability it lacks).
    pub required: bool,
    pub why: &'static str,
}

const fn input(path: &'static str, role: Role, required: bool, why: &'static str) -> Input {
    Input { path, role, required, why }
}

/// Everything read, in the order the build reads it. Code comes first, so
/// that a leaf declared there is found there before any header.
pub const INPUTS: &[Input] = &[
    input("Makefile", Role::Version, true, "the kernel's version"),
    input("mm/util.c", Role::Code, true, "the mmap_action code under test"),
    input("mm/internal.h", Role::Code, true, "the helpers the mmap_action code calls"),
    input("mm/memory.c", Role::Code, true, "the remap and map-kernel helpers"),
    input("drivers/char/mem.c", Role::Code, false, "/dev/mem's mmap_mem_prepare, the user of error_override"),
    input("include/linux/mm.h", Role::Helpers, true, "the inline helpers tools/testing/vma lacks, and do_munmap"),
    input("include/linux/mm_types.h", Role::KernelTypes, true, "the kernel's own struct mmap_action"),
    input("include/linux/fs.h", Role::Declarations, false, "i_mmap_unlock_write"),
    input("include/linux/mmap_lock.h", Role::Declarations, false, "mmap_read_trylock"),
    input("include/linux/io.h", Role::Declarations, false, "range_is_allowed"),
    input("include/linux/pgtable.h", Role::Declarations, false, "phys_mem_access_prot_allowed"),
    input("mm/vma.h", Role::UnitHeader, true, "the VMA helpers the compat code uses"),
    input("tools/testing/vma/vma_internal.h", Role::ToolsHeader, true, "the kernel's own userland mm headers"),
    input("tools/testing/vma/include/dup.h", Role::ToolsHeader, false, "the tools headers' copies of the mm types"),
    input("tools/testing/vma/Makefile", Role::ToolsMakefile, true, "the flag widths tools/testing/vma builds with"),
    input("tools/testing/shared/autoconf.h", Role::ToolsHeader, true, "the configuration the tools headers assume"),
    input("tools/lib/bitmap.c", Role::ToolsHelpers, true, "the bitmap helpers the tools headers call"),
    input("include/linux/maple_tree.h", Role::Reached, false, "included by the tools headers' maple tree"),
    input("include/linux/rbtree.h", Role::Reached, false, "included by the tools headers"),
    input("include/linux/rbtree_types.h", Role::Reached, false, "included by the tools headers"),
    input("tools/testing/shared", Role::IncludeDir, false, "tools/testing/vma's include path"),
    input("tools/testing/vma", Role::IncludeDir, false, "tools/testing/vma's include path"),
    input("tools/include", Role::IncludeDir, false, "tools/testing/vma's include path"),
    input("tools/arch/x86/include", Role::IncludeDir, false, "tools/testing/vma's include path"),
    input("lib", Role::IncludeDir, false, "tools/testing/vma's include path"),
    input("mm/vma_init.c", Role::EndToEnd, false, "the VMA code, included as tools/testing/vma/main.c does"),
    input("mm/vma_exec.c", Role::EndToEnd, false, "the VMA code, included as tools/testing/vma/main.c does"),
    input("mm/vma.c", Role::EndToEnd, false, "__mmap_region and the VMA code the mapping goes through"),
    input("mm/mmap.c", Role::EndToEnd, false, "do_munmap, so that an unmap removes the VMA from the tree"),
    input("tools/testing/vma/main.c", Role::EndToEnd, false, "the kernel's own VMA tests and their helpers"),
    input("tools/testing/vma/shared.c", Role::EndToEnd, false, "the kernel's VMA test helpers"),
    input("tools/testing/vma/shared.h", Role::EndToEnd, false, "the kernel's VMA test helpers"),
    input("tools/testing/vma/tests/merge.c", Role::EndToEnd, false, "the kernel's own VMA tests"),
    input("tools/testing/vma/tests/mmap.c", Role::EndToEnd, false, "the kernel's own VMA tests"),
    input("tools/testing/vma/tests/vma.c", Role::EndToEnd, false, "the kernel's own VMA tests"),
    support("tools/testing/shared/xarray-shared.c", false),
    support("lib/radix-tree.c", true),
    support("lib/idr.c", true),
    support("tools/testing/shared/linux.c", false),
    support("tools/lib/slab.c", false),
    support("tools/lib/find_bit.c", false),
    support("tools/lib/hweight.c", false),
    support("tools/lib/vsprintf.c", false),
    support("tools/testing/shared/maple-shim.c", false),
    input("lib/maple_tree.c", Role::EndToEndReached, false, "the maple tree, included by maple-shim.c"),
    input("lib/xarray.c", Role::EndToEndReached, false, "the xarray, included by xarray-shared.c"),
];

const fn support(path: &'static str, unstatic: bool) -> Input {
    input(path, Role::EndToEndSupport { unstatic }, false, "linked by tools/testing/vma: the maple tree and tools/lib")
}

/// The inputs of one role, in table order.
pub fn of(role: Role) -> impl Iterator<Item = &'static Input> {
    INPUTS.iter().filter(move |i| i.role == role)
}

/// The paths of one role.
pub fn paths(role: Role) -> Vec<&'static str> {
    of(role).map(|i| i.path).collect()
}

/// Every path of the table: the files, and the include directories that
/// stand for the files under them.
pub fn all_paths() -> Vec<&'static str> {
    INPUTS.iter().map(|i| i.path).collect()
}

/// Every file read as text (not the include directories).
pub fn files() -> impl Iterator<Item = &'static Input> {
    INPUTS.iter().filter(|i| i.role != Role::IncludeDir)
}

/// Top-level directories too large to unpack whole: only the directories
/// of the inputs under them are.
const LARGE: &[&str] = &["drivers", "arch"];

/// What to unpack from a source package: each input's top-level directory,
/// or its own directory under a large one.
pub fn unpacked_paths() -> Vec<String> {
    let mut out: Vec<String> = INPUTS
        .iter()
        .map(|i| {
            let top = i.path.split('/').next().unwrap_or(i.path);
            if LARGE.contains(&top) {
                i.path.rsplit_once('/').map_or(i.path, |(dir, _)| dir).to_string()
            } else {
                top.to_string()
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unpack_list_covers_every_input() {
        assert_eq!(unpacked_paths(), vec!["Makefile", "drivers/char", "include", "lib", "mm", "tools"]);
        for i in INPUTS {
            assert!(unpacked_paths().iter().any(|p| i.path == p || i.path.starts_with(&format!("{p}/"))), "{i:?}");
        }
    }
}
