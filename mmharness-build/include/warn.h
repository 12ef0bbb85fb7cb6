/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * WARN and BUG, replacing the tools headers' versions after vma_internal.h:
 * theirs print, and WARN_ON_ONCE fires once per site per process, so a test
 * could not see a WARN that an earlier test already hit. Ours record every
 * hit with the kernel file and line (the extract carries #line directives),
 * per scenario, per thread, with the name of the macro the source used; a
 * BUG aborts with its place on stderr. Each macro stringifies its own
 * argument: one defined through another would record the condition
 * macro-expanded.
 */
#ifndef MMH_WARN_H
#define MMH_WARN_H

int mmh_warn(int cond, const char *file, int line, const char *macro, const char *expr);
/* Prints where, then aborts: in a runner that is a crash outcome. */
_Noreturn void mmh_bug(const char *file, int line, const char *expr);

#define MMH_WARN(cond, macro, text) mmh_warn(!!(cond), __FILE__, __LINE__, macro, text)

#undef WARN_ON
#undef WARN_ON_ONCE
#undef WARN
#undef WARN_ONCE
#undef VM_WARN_ON
#undef VM_WARN_ON_ONCE
#undef VM_WARN_ON_ONCE_VMA
#undef VM_WARN_ON_VMG
#define WARN_ON(cond) MMH_WARN(cond, "WARN_ON", #cond)
#define WARN_ON_ONCE(cond) MMH_WARN(cond, "WARN_ON_ONCE", #cond)
#define WARN(cond, ...) MMH_WARN(cond, "WARN", #cond)
#define WARN_ONCE(cond, ...) MMH_WARN(cond, "WARN_ONCE", #cond)
#define VM_WARN_ON(cond) MMH_WARN(cond, "VM_WARN_ON", #cond)
#define VM_WARN_ON_ONCE(cond) MMH_WARN(cond, "VM_WARN_ON_ONCE", #cond)
#define VM_WARN_ON_ONCE_VMA(cond, vma) MMH_WARN(cond, "VM_WARN_ON_ONCE_VMA", #cond)
#define VM_WARN_ON_VMG(cond, vmg) MMH_WARN(cond, "VM_WARN_ON_VMG", #cond)

#undef BUG
#undef BUG_ON
#undef VM_BUG_ON
#undef VM_BUG_ON_VMA
#define BUG() mmh_bug(__FILE__, __LINE__, "BUG()")
#define BUG_ON(cond) do { if (cond) mmh_bug(__FILE__, __LINE__, #cond); } while (0)
#define VM_BUG_ON(cond) do { if (cond) mmh_bug(__FILE__, __LINE__, #cond); } while (0)
#define VM_BUG_ON_VMA(cond, vma) do { if (cond) mmh_bug(__FILE__, __LINE__, #cond); } while (0)

#endif /* MMH_WARN_H */
