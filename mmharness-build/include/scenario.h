/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The encoding of a scenario and its outcome, shared by the Rust side, the
 * in-process driver and the runner executable of every tree. It is ours, not
 * the kernel's: its layout does not change when a kernel struct does, so one
 * Rust build can talk to the runner of any tree.
 */
#ifndef MMH_SCENARIO_H
#define MMH_SCENARIO_H

#include <stdint.h>

/* Which entry points a scenario runs. */
enum mmh_stage {
	MMH_STAGE_PREPARE_AND_COMPLETE = 0,
	MMH_STAGE_PREPARE = 1,
	MMH_STAGE_COMPLETE = 2,
	/* /dev/mem's mmap_mem_prepare() hook, then prepare and complete. */
	MMH_STAGE_DEVMEM = 3,
	/* A stacked driver's .mmap: compat_vma_mmap() on a VMA mmap already made. */
	MMH_STAGE_COMPAT_VMA_MMAP = 4,
	/* The nommu variants (the #else of CONFIG_MMU): prepare, then complete. */
	MMH_STAGE_NOMMU = 5,
};

/* What vm_ops the VMA has. */
enum mmh_vm_ops {
	MMH_VM_OPS_NONE = 0,
	MMH_VM_OPS_WITHOUT_MAPPED = 1,
	MMH_VM_OPS_WITH_MAPPED = 2,
};

/*
 * A leaf's result: `ret` on the `nth` call (1-based), or on every call if nth
 * is 0; only for calls made from lines site_first..site_last of site_file,
 * if site_file is set (the kernel file and lines of one function).
 */
struct mmh_injection {
	int32_t ret;
	uint32_t nth;
	uint32_t site_first;
	uint32_t site_last;
	char site_file[32];
};

/* /dev/mem's checks that a scenario makes fail (all pass when 0). */
enum mmh_devmem_deny {
	MMH_DEVMEM_DENY_VALID_RANGE = 1,	/* valid_mmap_phys_addr_range() */
	MMH_DEVMEM_DENY_PRIVATE = 2,		/* private_mapping_ok() */
	MMH_DEVMEM_DENY_RANGE = 4,		/* range_is_allowed() */
	MMH_DEVMEM_DENY_PROT = 8,		/* phys_mem_access_prot_allowed() */
};

struct mmh_scenario {
	uint32_t stage;
	/* Raw value of enum mmap_action_type: any value, known or not. */
	uint32_t action_type;
	/* "Errors become X": 0 leaves errors as they are. */
	int32_t error_override;
	uint8_t is_compat;
	uint8_t hide_from_rmap_until_complete;
	uint8_t has_file;
	uint8_t vm_ops;
	/* The range being mapped, its offset and legacy VM_* flag word. */
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;
	uint64_t vm_flags;
	uint64_t private_data;
	/* MMAP_REMAP_PFN and MMAP_IO_REMAP_PFN. */
	uint64_t remap_start;
	uint64_t remap_pfn;
	uint64_t remap_size;
	/* MMAP_SIMPLE_IO_REMAP. */
	uint64_t phys_start;
	uint64_t phys_size;
	/* MMAP_MAP_KERNEL_PAGES. */
	uint64_t kernel_start;
	uint64_t kernel_nr_pages;
	/* The descriptor's page protection, a value the code only copies. */
	uint64_t page_prot;
	/* What /dev/mem's phys_mem_access_prot() returns, if not 0 (its prot). */
	uint64_t devmem_prot;
	/* Injections at the leaves. */
	struct mmh_injection remap;
	struct mmh_injection insert_pages;
	struct mmh_injection munmap;
	struct mmh_injection mapped;
	/* The private data vm_ops->mapped() sets, when non-zero. */
	uint64_t mapped_sets_private_data;
	/* enum mmh_devmem_deny bits. */
	uint32_t devmem_deny;
	/* Before error_override: an error_hook that returns 0 (clears the error). */
	uint8_t error_hook_clears;
	/* Before error_override: a success_hook that returns success_hook_ret. */
	uint8_t has_success_hook;
	/* mmap_lock is not held: mmap_read_trylock() succeeds. */
	uint8_t mmap_unlocked;
	uint8_t pad;
	int32_t success_hook_ret;
	/* For MMH_STAGE_COMPAT_VMA_MMAP: what the file's .mmap_prepare returns. */
	int32_t mmap_prepare_ret;
};

enum mmh_event_kind {
	MMH_EV_REMAP = 1,		/* vma, addr, pfn, size, prot */
	MMH_EV_INSERT_PAGES = 2,	/* vma, addr, nr_pages, pages */
	MMH_EV_MUNMAP = 3,		/* mm, start, len, uf */
	MMH_EV_MAPPED = 4,		/* start, end, pgoff, file */
	MMH_EV_RMAP_LOCK = 5,		/* mapping */
	MMH_EV_RMAP_UNLOCK = 6,		/* mapping */
	MMH_EV_MMAP_READ_TRYLOCK = 7,	/* mm */
	MMH_EV_PGPROT_DECRYPTED = 8,	/* pgprot */
	MMH_EV_DEVMEM_CHECK = 9,	/* enum mmh_devmem_deny bit, allowed, pfn, size */
	MMH_EV_SUCCESS_HOOK = 10,	/* vma */
	/* /dev/mem's other checks; ret is 1 when allowed. */
	MMH_EV_DEVMEM_PRIVATE = 11,	/* desc */
	MMH_EV_DEVMEM_PROT_ALLOWED = 12,	/* file, pfn, size, vma_prot */
	MMH_EV_DEVMEM_ACCESS_PROT = 13,	/* file, pfn, size, vma_prot value */
	/* The file's .mmap_prepare hook compat_vma_mmap() calls. */
	MMH_EV_MMAP_PREPARE = 14,	/* desc->mm, desc->file, desc->page_prot */
	/* The success check where vm_ops has no mapped(): the action's success_hook. */
	MMH_EV_SUCCESS_CHECK = 15,	/* vma->vm_start, vm_end, vm_pgoff, vm_file */
};

struct mmh_event {
	uint32_t kind;
	int32_t ret;
	uint64_t args[5];
	/* Where the extracted code made the call (0 if not from it). */
	uint32_t site_line;
	char site_file[28];
};

struct mmh_warn {
	uint32_t line;
	char file[60];
	/* The macro the source wrote: WARN_ON_ONCE, VM_WARN_ON_ONCE, ... */
	char macro[24];
	char expr[96];
};

#define MMH_MAX_EVENTS 32
#define MMH_MAX_WARNS 8

/* Object identities the events refer to, so that Rust can name them. */
struct mmh_objects {
	uint64_t mm;
	uint64_t vma;
	uint64_t file;
	uint64_t mapping;
	uint64_t desc;
	/* &desc->page_prot, which /dev/mem's check may change. */
	uint64_t desc_page_prot;
};

/*
 * A capability the tree lacks for what the scenario asks: the driver then
 * runs nothing. Callers check first; this keeps one that did not from
 * aborting the runner or running another path in silence.
 */
enum mmh_missing {
	MMH_MISSING_NONE = 0,
	MMH_MISSING_DEVMEM = 1,
	MMH_MISSING_COMPAT_VMA_MMAP = 2,
	MMH_MISSING_NOMMU_VARIANTS = 3,
	/* 4 was a prepare that cannot fail: the driver calls either shape. */
	MMH_MISSING_IS_COMPAT = 5,
	MMH_MISSING_ERROR_OVERRIDE_OR_HOOK = 6,
	MMH_MISSING_ERROR_HOOK = 7,
	MMH_MISSING_SUCCESS_HOOK = 8,
	MMH_MISSING_VM_OPS_MAPPED = 9,
	/* Neither vm_ops->mapped nor a success_hook. */
	MMH_MISSING_SUCCESS_CHECK = 10,
};

struct mmh_outcome {
	uint8_t prepared;
	uint8_t completed;
	/* The rmap lock was still held when the scenario ended. */
	uint8_t rmap_left_locked;
	/* The VMA was unmapped: the vma_* fields are its state at do_munmap(). */
	uint8_t vma_unmapped;
	int32_t prepare_ret;
	int32_t complete_ret;
	/* The driver's .mmap_prepare hook, for MMH_STAGE_DEVMEM. */
	uint8_t hooked;
	/* enum mmh_missing: nothing ran. */
	uint8_t missing;
	uint8_t pad[2];
	int32_t hook_ret;
	uint32_t n_events;
	uint32_t n_warns;
	/* Counts beyond the arrays' capacity are kept; entries are not. */
	struct mmh_event events[MMH_MAX_EVENTS];
	struct mmh_warn warns[MMH_MAX_WARNS];
	/* The descriptor after prepare (and the driver's hook). */
	uint32_t desc_action_type;
	int32_t desc_error_override;
	uint8_t desc_has_mapped;
	uint8_t pad2[7];
	uint64_t desc_pgoff;
	uint64_t desc_vm_flags;
	uint64_t desc_remap_start;
	uint64_t desc_remap_pfn;
	uint64_t desc_remap_size;
	/* The VMA at the end of the run. */
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_pgoff;
	uint64_t vma_flags;
	uint64_t vma_private_data;
	struct mmh_objects objects;
};

/* Runs one scenario on the calling thread. */
void mmh_run(const struct mmh_scenario *s, struct mmh_outcome *o);

/*
 * For tests that call the kernel functions directly: record leaf calls into
 * `o`, with `s`'s injections, until mmh_end(). `mm` is current->mm; `vma`,
 * if set, is snapshotted when do_munmap() removes it.
 */
struct mm_struct;
struct vm_area_struct;
struct vm_area_desc;
struct file;
void mmh_begin(const struct mmh_scenario *s, struct mmh_outcome *o, struct mm_struct *mm,
	       struct vm_area_struct *vma);
void mmh_end(void);
/* The descriptor a scenario describes, and the VMA mmap makes of one. */
void mmh_desc_setup(struct vm_area_desc *desc, struct mm_struct *mm, struct file *file,
		    const struct mmh_scenario *s);
void mmh_vma_from_desc(struct vm_area_struct *vma, const struct vm_area_desc *desc);

/* WARNs on this thread, in or out of a scenario, for direct calls. */
uint64_t mmh_thread_warns(void);

#endif /* MMH_SCENARIO_H */
