/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Leaves that are macros in the kernel, so there is no declaration for a
 * shim to follow: each is written here by hand.
 */
#ifndef MMH_ARCH_H
#define MMH_ARCH_H

/* x86 clears the encryption bit; an unencrypted machine returns prot as is. */
pgprot_t mmh_pgprot_decrypted(pgprot_t prot);
#undef pgprot_decrypted
#define pgprot_decrypted(prot) mmh_pgprot_decrypted(prot)

#endif /* MMH_ARCH_H */
