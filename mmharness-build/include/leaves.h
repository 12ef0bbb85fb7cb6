/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The leaves of the extracted call graph: where the real code stops and our
 * injection points and recorders begin. The build generates each leaf's
 * definition with the signature the tree declares, and a body that calls
 * MMH_LEAF_<name> with the arguments in order; the macros below pick the
 * arguments they record, so a leaf that gains a parameter still builds.
 */
#ifndef MMH_LEAVES_H
#define MMH_LEAVES_H

int mmh_leaf_remap(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn, unsigned long size,
		   pgprot_t prot);
int mmh_leaf_insert_pages(struct vm_area_struct *vma, unsigned long addr, const void *pages, unsigned long *num);
int mmh_leaf_munmap(struct mm_struct *mm, unsigned long start, size_t len, const void *uf);
void mmh_leaf_rmap_unlock(struct address_space *mapping);
int mmh_leaf_mmap_read_trylock(struct mm_struct *mm);

/* /dev/mem's checks and its page protection, with what they are asked. */
int mmh_leaf_devmem_range(unsigned int deny_bit, unsigned long pfn, unsigned long size);
int mmh_leaf_private_mapping_ok(const void *desc);
int mmh_leaf_phys_mem_access_prot_allowed(const void *file, unsigned long pfn, unsigned long size,
					  const pgprot_t *prot);
pgprot_t mmh_leaf_phys_mem_access_prot(const void *file, unsigned long pfn, unsigned long size, pgprot_t prot);

/* Records where the extracted code calls a leaf: see MMH_SITE in the unit. */
void mmh_site(const char *file, int line);

#define MMH_LEAF_valid_mmap_phys_addr_range(pfn, size, ...)                                      \
	mmh_leaf_devmem_range(MMH_DEVMEM_DENY_VALID_RANGE, pfn, size)
#define MMH_LEAF_private_mapping_ok(desc, ...) mmh_leaf_private_mapping_ok(desc)
#define MMH_LEAF_range_is_allowed(pfn, size, ...) mmh_leaf_devmem_range(MMH_DEVMEM_DENY_RANGE, pfn, size)
#define MMH_LEAF_phys_mem_access_prot_allowed(file, pfn, size, prot, ...)                      \
	mmh_leaf_phys_mem_access_prot_allowed(file, pfn, size, prot)
#define MMH_LEAF_phys_mem_access_prot(file, pfn, size, prot, ...) mmh_leaf_phys_mem_access_prot(file, pfn, size, prot)
#define MMH_LEAF_do_remap_pfn_range(vma, addr, pfn, size, prot, ...) mmh_leaf_remap(vma, addr, pfn, size, prot)
#define MMH_LEAF_insert_pages(vma, addr, pages, num, ...) mmh_leaf_insert_pages(vma, addr, pages, num)
#define MMH_LEAF_do_munmap(mm, start, len, uf, ...) mmh_leaf_munmap(mm, start, len, uf)
#define MMH_LEAF_i_mmap_unlock_write(mapping, ...) mmh_leaf_rmap_unlock(mapping)
#define MMH_LEAF_mmap_read_trylock(mm, ...) mmh_leaf_mmap_read_trylock(mm)

/*
 * The hooks the code calls through function pointers. The build generates
 * mmh_mapped, mmh_success_hook and mmh_error_hook with the prototypes the
 * tree's own members declare, each calling MMH_HOOK_<member> with its
 * arguments: no function is called through a pointer of another type.
 */
int mmh_hook_mapped(unsigned long start, unsigned long end, unsigned long pgoff, const struct file *file,
		    void **vm_private_data);
int mmh_hook_success(const struct vm_area_struct *vma);
int mmh_hook_error(int err);

#define MMH_HOOK_mapped(start, end, pgoff, file, priv, ...) mmh_hook_mapped(start, end, pgoff, file, priv)
#define MMH_HOOK_success_hook(vma, ...) mmh_hook_success(vma)
#define MMH_HOOK_error_hook(err, ...) mmh_hook_error(err)

#endif /* MMH_LEAVES_H */
