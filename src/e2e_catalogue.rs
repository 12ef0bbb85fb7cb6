//! The end-to-end entries: behaviour that exists only once the mapping goes
//! through `mm/vma.c`'s `__mmap_region()` and the maple tree. Each is a
//! mapping scenario, the outcome expected on the real code, and a why that
//! starts with the deciding function and quotes the kernel. Mappings are of
//! the scenario's file, shared and read-write, from page 1024 on (0x400000),
//! with the file offset equal to the page number so neighbours could merge.

use crate::mapping::{Action, Leaf, Map, Mapping, MappingOutcome, Rmap, Vma, PAGE, REMAP_FLAGS, SHARED_RW};
use mmharness_build::caps::Cap;
use nix::libc::{EAGAIN, EFAULT, ENOMEM, EPERM};

pub struct E2eEntry {
    pub name: &'static str,
    /// What the tree must have for the entry to say something: a `mapped()`
    /// count of 0 on a tree without `vm_ops->mapped` could not fail.
    pub requires: &'static [Cap],
    pub why: &'static str,
    pub mapping: Mapping,
    pub expected: Expected,
}

/// What the real code did, written out: compared field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The address, or a negative errno.
    pub ret: i64,
    pub map_count: i32,
    pub vmas: Vec<Vma>,
    pub mapped_calls: u32,
    pub rmap: Rmap,
}

impl Expected {
    /// Each field that differs, expected against got; a WARN always differs.
    pub fn check(&self, got: &MappingOutcome) -> Result<(), String> {
        let mut diffs = Vec::new();
        let mut field = |name: &str, want: String, have: String| {
            if want != have {
                diffs.push(format!("{name}: expected {want}, got {have}"));
            }
        };
        field("ret", self.ret.to_string(), got.ret.to_string());
        field("map_count", self.map_count.to_string(), got.map_count.to_string());
        field("vmas", format!("{:x?}", self.vmas), format!("{:x?}", got.vmas));
        field("mapped_calls", self.mapped_calls.to_string(), got.mapped_calls.to_string());
        field("rmap lock depths", format!("{:?}", self.rmap.depths), format!("{:?}", got.rmap.depths));
        field("warns", "[]".into(), format!("{:?}", got.warns));
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(diffs.join("\n"))
        }
    }
}

/// A VMA of the file: `pages` pages from page `first`.
fn vma(first: u64, pages: u64, flags: u64) -> Vma {
    Vma { start: first * PAGE, end: (first + pages) * PAGE, flags, pgoff: first, file: true }
}

fn file(first: u64, pages: u64, action: Action) -> Map {
    Map::file(first, pages, SHARED_RW, action)
}

/// The rmap lock taken once and released: vma_link_file()'s
/// "i_mmap_lock_write(mapping); __vma_link_file(vma, mapping);", or
/// vma_prepare()'s for a merge.
fn balanced_once() -> Rmap {
    Rmap::of(&[1, 0])
}

/// A new VMA linked, then unmapped: free_pgtables() takes the lock again to
/// unlink it from the file (unlink_file_vma_batch_process: "i_mmap_lock_write(mapping);"),
/// after the action released it.
fn linked_then_unlinked() -> Rmap {
    Rmap::of(&[1, 0, 1, 0])
}

/// A neighbour on each side of pages 1026..1030, two pages each.
fn neighbours() -> Vec<Map> {
    vec![file(1024, 2, Action::Nothing), file(1030, 2, Action::Nothing)]
}

fn neighbour_vmas() -> Vec<Vma> {
    vec![vma(1024, 2, SHARED_RW), vma(1030, 2, SHARED_RW)]
}

pub fn e2e_catalogue() -> Vec<E2eEntry> {
    let mut v = remap_entries();
    v.extend(merge_entries());
    v.extend(fixed_and_rmap_entries());
    v
}

fn remap_entries() -> Vec<E2eEntry> {
    vec![
        E2eEntry {
            name: "e2e_devmem_like_remap_failure_leaves_no_vma",
            requires: &[],
            why: "mmap_action_finish: \"If an error occurs, unmap the VMA altogether and return an error. We only clear \
                  the newly allocated VMA\"; do_munmap() takes it out of the maple tree, the neighbours stay",
            mapping: Mapping::new(neighbours(), file(1026, 2, Action::RemapPfn)).inject(Leaf::Remap, -EAGAIN),
            expected: Expected {
                ret: -EAGAIN as i64,
                map_count: 2,
                vmas: neighbour_vmas(),
                mapped_calls: 0,
                rmap: linked_then_unlinked(),
            },
        },
        E2eEntry {
            name: "e2e_remap_success_leaves_the_vma_with_the_remap_flags",
            requires: &[Cap::VmOpsMapped],
            why: "remap_pfn_range_prepare: \"vma_desc_set_flags_mask(desc, VMA_REMAP_FLAGS)\", and call_mmap_prepare: \
                  \"map->vma_flags = desc->vma_flags\": the VMA in the tree is VM_IO, VM_PFNMAP, VM_DONTEXPAND, VM_DONTDUMP",
            mapping: Mapping::new(neighbours(), file(1026, 2, Action::RemapPfn)),
            expected: Expected {
                ret: (1026 * PAGE) as i64,
                map_count: 3,
                vmas: vec![vma(1024, 2, SHARED_RW), vma(1026, 2, SHARED_RW | REMAP_FLAGS), vma(1030, 2, SHARED_RW)],
                mapped_calls: 1,
                rmap: balanced_once(),
            },
        },
        E2eEntry {
            name: "e2e_mapped_failure_removes_only_the_new_vma",
            requires: &[Cap::VmOpsMapped],
            why: "mmap_action_finish: \"if (!err) err = call_vma_mapped(vma);\" then \"do_munmap(current->mm, \
                  vma->vm_start, len, NULL)\" of the new VMA's range only: the neighbours it fills the gap between stay",
            mapping: Mapping::new(neighbours(), file(1026, 4, Action::RemapPfn)).inject(Leaf::Mapped, -ENOMEM),
            expected: Expected {
                ret: -ENOMEM as i64,
                map_count: 2,
                vmas: neighbour_vmas(),
                mapped_calls: 1,
                rmap: linked_then_unlinked(),
            },
        },
    ]
}

fn merge_entries() -> Vec<E2eEntry> {
    vec![
        E2eEntry {
            name: "e2e_merge_into_the_previous_vma_skips_mapped",
            requires: &[Cap::VmOpsMapped],
            why: "__mmap_region: \"if (have_mmap_prepare && allocated_new) { error = mmap_action_complete(\": a new \
                  mapping merged into its compatible neighbour allocates no VMA, so mapped() never runs; the previous \
                  VMA (page 1024) remains, extended over the new range",
            mapping: Mapping::new(vec![file(1024, 2, Action::Nothing)], file(1026, 2, Action::Nothing)),
            expected: Expected {
                ret: (1026 * PAGE) as i64,
                map_count: 1,
                vmas: vec![vma(1024, 4, SHARED_RW)],
                mapped_calls: 0,
                rmap: balanced_once(),
            },
        },
        E2eEntry {
            name: "e2e_no_merge_calls_mapped_once",
            requires: &[Cap::VmOpsMapped],
            why: "__mmap_region: \"error = __mmap_new_vma(&map, &vma, &desc.action); ... allocated_new = true;\": with a \
                  gap to its neighbour the mapping gets its own VMA and mmap_action_finish calls call_vma_mapped() once",
            mapping: Mapping::new(vec![file(1024, 2, Action::Nothing)], file(1027, 2, Action::Nothing)),
            expected: Expected {
                ret: (1027 * PAGE) as i64,
                map_count: 2,
                vmas: vec![vma(1024, 2, SHARED_RW), vma(1027, 2, SHARED_RW)],
                mapped_calls: 1,
                rmap: balanced_once(),
            },
        },
        E2eEntry {
            name: "e2e_two_remaps_side_by_side_never_merge",
            requires: &[Cap::VmOpsMapped],
            why: "vma_merge_new_range: \"Special VMAs are unmergeable, also if no prev/next.\" \
                  (vma_flags_test_any_mask(&vmg->vma_flags, VMA_SPECIAL_FLAGS)): each remap keeps its own VMA",
            mapping: Mapping::new(vec![file(1024, 2, Action::RemapPfn)], file(1026, 2, Action::RemapPfn)),
            expected: Expected {
                ret: (1026 * PAGE) as i64,
                map_count: 2,
                vmas: vec![vma(1024, 2, SHARED_RW | REMAP_FLAGS), vma(1026, 2, SHARED_RW | REMAP_FLAGS)],
                mapped_calls: 1,
                rmap: balanced_once(),
            },
        },
    ]
}

fn fixed_and_rmap_entries() -> Vec<E2eEntry> {
    let hidden_failure = Mapping {
        hide_from_rmap: true,
        ..Mapping::new(neighbours(), file(1026, 2, Action::RemapPfn)).inject(Leaf::Remap, -EAGAIN)
    };
    let write_denied = Mapping { deny_write: true, ..Mapping::new(vec![], file(1026, 2, Action::RemapPfn)) };
    let efault = Mapping {
        error_override: -EAGAIN,
        remap_overshoot: PAGE,
        ..Mapping::new(neighbours(), file(1026, 2, Action::RemapPfn))
    };
    vec![
        E2eEntry {
            name: "e2e_shared_writable_map_of_a_write_denied_file_fails_before_prepare",
            requires: &[],
            why: "mmap_region: \"/* Map writable and ensure this isn't a sealed memfd. */ if (file && \
                  is_shared_maywrite(&vma_flags)) { int error = mapping_map_writable(file->f_mapping); if (error) \
                  return error;\": -EPERM before __mmap_region(), so no .mmap_prepare, no VMA, no rmap lock",
            mapping: write_denied,
            expected: Expected {
                ret: -EPERM as i64,
                map_count: 0,
                vmas: vec![],
                mapped_calls: 0,
                rmap: Rmap::default(),
            },
        },
        E2eEntry {
            name: "e2e_map_fixed_over_a_vma_then_a_failing_action_leaves_a_hole",
            requires: &[],
            why: "__mmap_complete: \"/* Unmap any existing mapping in the area. */ vms_complete_munmap_vmas(\" runs \
                  before mmap_action_complete(), whose failure unmaps the new VMA: the old page is gone too, and the \
                  old VMA remains split around the hole; the rmap lock is taken and released five times in turn, \
                  never nested: two splits (vma_prepare: \"i_mmap_lock_write(vp->mapping);\"), the new VMA's \
                  vma_link_file(), and free_pgtables() in each of the two unmaps",
            mapping: Mapping::new(vec![file(1024, 4, Action::Nothing)], file(1025, 1, Action::RemapPfn))
                .inject(Leaf::Remap, -EAGAIN),
            expected: Expected {
                ret: -EAGAIN as i64,
                map_count: 2,
                vmas: vec![vma(1024, 1, SHARED_RW), vma(1026, 2, SHARED_RW)],
                mapped_calls: 0,
                rmap: Rmap::of(&[1, 0, 1, 0, 1, 0, 1, 0, 1, 0]),
            },
        },
        E2eEntry {
            name: "e2e_rmap_lock_held_over_a_failing_hidden_action_is_released_once",
            requires: &[],
            why: "mmap_action_finish: \"/* do_munmap() might take rmap lock, so release if held. */ \
                  maybe_rmap_unlock_action(vma, action);\" after vma_link_file(vma, hide_from_rmap_until_complete) \
                  kept it: released before do_munmap(), whose free_pgtables() takes it again to unlink the VMA \
                  from the file, never nested",
            mapping: hidden_failure,
            expected: Expected {
                ret: -EAGAIN as i64,
                map_count: 2,
                vmas: neighbour_vmas(),
                mapped_calls: 0,
                rmap: linked_then_unlinked(),
            },
        },
        E2eEntry {
            name: "e2e_override_not_applied_to_a_prepare_time_efault",
            requires: &[Cap::ErrorOverride],
            why: "remap_pfn_range_prepare: \"if (!range_in_vma_desc(desc, start, end)) return -EFAULT;\" fails the \
                  mapping before any VMA exists; only mmap_action_finish applies \"action->error_override ?: err\"",
            mapping: efault,
            expected: Expected {
                ret: -EFAULT as i64,
                map_count: 2,
                vmas: neighbour_vmas(),
                mapped_calls: 0,
                rmap: Rmap::default(),
            },
        },
    ]
}
