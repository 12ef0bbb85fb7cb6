/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What /dev/mem's mmap_mem_prepare() needs besides its leaves. The kernel's
 * mmap_mem_ops has only .access (with CONFIG_HAVE_IOREMAP_PROT), which no
 * mmap action calls; what matters here is that it has no .mapped.
 */
#ifndef MMH_DEVMEM_H
#define MMH_DEVMEM_H

#ifdef MMH_CAP_DEVMEM
static const struct vm_operations_struct mmap_mem_ops;
#endif

#endif /* MMH_DEVMEM_H */
