/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stand-ins the end-to-end unit needs for the tree's real free_pgtables()
 * (mm/memory.c), which it runs in place of tools/testing/vma's empty stub,
 * so that an unmap unlinks each VMA from its file's rmap as the kernel does.
 *
 * unlink_anon_vmas(): tools/testing/vma's include/custom.h marks
 * vma->anon_vma->was_unlinked for the kernel's own tests, without checking
 * anon_vma. Its callers in mm/vma.c pass VMAs that have one, but
 * free_pgtables() calls it for every VMA it frees, and a file VMA has none:
 * the stub would dereference NULL. The kernel's own (mm/rmap.c) walks
 * vma->anon_vma_chain, empty for such a VMA, and does nothing. Same marker,
 * NULL-safe.
 *
 * tlb_free_vmas(): include/asm-generic/tlb.h's, which the tools headers do
 * not copy (their struct mmu_gather is empty); it flushes the TLB before
 * page tables go. There is no TLB and no page table here.
 *
 * PMD_SIZE: free_pgtables() unlinks VMAs that lie within PMD_SIZE of each
 * other in one batch, under one rmap lock. The tools headers have no page
 * table geometry and arch/x86/include/asm is not among the inputs (nor in
 * a tree unpacked for them), so this is x86-64's, from its
 * pgtable_64_types.h: "#define PMD_SHIFT 21". Only the batching follows it.
 */
#ifndef PMD_SIZE
#define PMD_SIZE (1UL << 21)
#endif

void unlink_anon_vmas(struct vm_area_struct *vma)
{
	if (vma->anon_vma)
		vma->anon_vma->was_unlinked = true;
}

static inline void tlb_free_vmas(struct mmu_gather *tlb)
{
	(void)tlb;
}
