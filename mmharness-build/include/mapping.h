/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The end-to-end runner's encoding, apart from scenario.h: a mapping
 * scenario is a few lines of text on stdin, and its outcome lines of text on
 * the outcome descriptor. Text, because both sides change often and a line
 * that one side does not know is an error that names it, not a shifted
 * struct. One scenario per run: each starts from an empty mm.
 *
 * In, in any order but `map` lines in the order they are laid out:
 *   map START END FLAGS PGOFF FILE ACTION   an existing VMA, laid out by
 *                                           __mmap_region() before the call
 *   call START END FLAGS PGOFF FILE ACTION  the call under test
 *   hook VM_OPS PREPARE_RET OVERRIDE OVER HIDE
 *                                           what the file's .mmap_prepare sets
 *                                           besides the action (the call only):
 *                                           OVER bytes added to the remap's
 *                                           size, HIDE 1 to hide the VMA from
 *                                           rmap until the action completes
 *   inject LEAF RET NTH                     LEAF: remap, mapped or munmap
 *   deny_write                              the file's mapping denies writable
 *                                           mappings before the call (its
 *                                           i_mmap_writable -1, as
 *                                           mapping_deny_writable() leaves it)
 * FLAGS is the legacy VM_* word; FILE is 0 (anonymous) or 1 (the scenario's
 * file, whose .mmap_prepare sets ACTION, a raw enum mmap_action_type, over
 * the whole range, pfn = PGOFF); VM_OPS as enum mmh_vm_ops.
 *
 * Out: `ret N`, `map_count N`, a `vma START END FLAGS PGOFF FILE` line per
 * VMA in the maple tree in address order, `calls REMAP MAPPED MUNMAP`,
 * `rmap N DEPTH...` (N takes and releases of the rmap lock over the call,
 * and its depth after each, in order),
 * `warn FILE LINE EXPR` per WARN, then `end`; or `layout_failed I RET`
 * and `end` when the I-th `map` line could not be laid out.
 *
 * `vma-tests` as the argument runs tools/testing/vma's own tests instead:
 * `test ok NAME` or `test fail NAME` per test, then `end`.
 */
#ifndef MMH_MAPPING_H
#define MMH_MAPPING_H

#define MMH_MAX_MAPS 8

struct mmh_map {
	unsigned long start, end, flags, pgoff;
	int file;
	unsigned int action;
};

struct mmh_mapping {
	struct mmh_map layout[MMH_MAX_MAPS];
	int n_layout;
	struct mmh_map call;
	/* Bytes the call's remap reaches past its range. */
	unsigned long remap_overshoot;
	/* The file's mapping denies writable mappings before the call. */
	int deny_write;
	/* The action, the injections and the hook's choices, as the driver takes them. */
	struct mmh_scenario s;
};

#endif /* MMH_MAPPING_H */
