/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The end-to-end driver: runs a mapping scenario (include/mapping.h)
 * through the tree's own mmap_region(), maple tree and do_munmap(), with
 * the extracted mmap_action code in place of tools/testing/vma's stubs, and
 * runs tools/testing/vma's own tests by name. It comes last in the
 * end-to-end unit, after driver.c (whose leaves and per-thread state it
 * shares) and tools/testing/vma/main.c.
 */
#include <unistd.h>

/* More rmap lock events than this in one call is an unreadable outcome. */
#define MMH_RMAP_EVENTS 64

static _Thread_local struct {
	const struct mmh_mapping *m;
	/* The mapping being made: the call, or one of the layout. */
	const struct mmh_map *map;
	/* The rmap lock's depth after each take and release, over the call. */
	int depth, events, depths[MMH_RMAP_EVENTS];
} mmh_e2e;

static void mmh_e2e_rmap(int change)
{
	mmh_e2e.depth += change;
	if (mmh_e2e.events < MMH_RMAP_EVENTS)
		mmh_e2e.depths[mmh_e2e.events] = mmh_e2e.depth;
	mmh_e2e.events++;
}

void i_mmap_lock_write(struct address_space *mapping)
{
	mmh_event(MMH_EV_RMAP_LOCK, 0, (uintptr_t)mapping, 0, 0, 0);
	mmh_e2e_rmap(1);
}

void mmh_e2e_rmap_unlock(struct address_space *mapping)
{
	mmh_leaf_rmap_unlock(mapping);
	mmh_e2e_rmap(-1);
}

/* The do_munmap leaf: the injection first, then the tree's own do_munmap(). */
int mmh_e2e_munmap(struct mm_struct *mm, unsigned long start, size_t len, struct list_head *uf)
{
	int ret = mmh_leaf_munmap(mm, start, len, uf);

	return ret ? ret : mmh_kernel_do_munmap(mm, start, len, uf);
}

/* The file's .mmap_prepare: the mapping's action over its whole range. */
static int mmh_e2e_mmap_prepare(struct vm_area_desc *desc)
{
	const struct mmh_map *map = mmh_e2e.map;
	int is_call = map == &mmh_e2e.m->call;
	struct mmh_scenario s = mmh_e2e.m->s;

	if (!is_call) {
		s.error_override = 0;
		s.hide_from_rmap_until_complete = 0;
	}
	s.action_type = map->action;
	s.remap_start = desc->start;
	s.remap_pfn = desc->pgoff;
	s.remap_size = desc->end - desc->start + (is_call ? mmh_e2e.m->remap_overshoot : 0);
	desc->vm_ops = mmh_vm_ops(s.vm_ops);
	mmh_set_action(&desc->action, &s);
	return is_call ? s.mmap_prepare_ret : 0;
}

static const struct file_operations mmh_e2e_fops = {
	.mmap_prepare = mmh_e2e_mmap_prepare,
};
static struct address_space mmh_e2e_address_space;
static struct file mmh_e2e_file = {
	.f_mapping = &mmh_e2e_address_space,
	.f_op = &mmh_e2e_fops,
};

/*
 * Through mmap_region(), as do_mmap() calls it: its MDWE, arch and
 * writable-file checks, then __mmap_region(). Its flags are the legacy
 * word where the tree's mmap_region() takes vm_flags_t (e2e.rs reads it).
 */
static long mmh_e2e_map(const struct mmh_map *map)
{
	struct file *file = map->file ? &mmh_e2e_file : NULL;
	unsigned long len = map->end - map->start;

	mmh_e2e.map = map;
#ifdef MMH_MMAP_REGION_VM_FLAGS
	return (long)mmap_region(file, map->start, len, map->flags, map->pgoff, NULL);
#else
	vma_flags_t flags = {};

	flags.__vma_flags[0] = map->flags;
	return (long)mmap_region(file, map->start, len, flags, map->pgoff, NULL);
#endif
}

static void mmh_e2e_print_tree(FILE *out, struct mm_struct *mm)
{
	struct vm_area_struct *vma;
	VMA_ITERATOR(vmi, mm, 0);

	fprintf(out, "map_count %d\n", mm->map_count);
	for_each_vma(vmi, vma) {
		uint64_t flags;

		memcpy(&flags, (const void *)&vma->vm_flags, sizeof(flags));
		fprintf(out, "vma %lu %lu %llu %lu %d\n", vma->vm_start, vma->vm_end, (unsigned long long)flags,
			vma->vm_pgoff, vma->vm_file == &mmh_e2e_file);
	}
}

static void mmh_e2e_run(const struct mmh_mapping *m, FILE *out)
{
	static const struct mmh_scenario quiet;
	struct mm_struct mm = {};
	struct mmh_outcome o;
	VMA_ITERATOR(vmi, &mm, 0);
	unsigned int i;
	long ret;

	memset(&mmh_e2e, 0, sizeof(mmh_e2e));
	mmh_e2e.m = m;
	mmh_begin(&quiet, &o, &mm, NULL);
	for (i = 0; i < (unsigned int)m->n_layout; i++) {
		ret = mmh_e2e_map(&m->layout[i]);
		if (IS_ERR_VALUE(ret)) {
			/* The scenario, not the code under test, is wrong: say which map line. */
			fprintf(out, "layout_failed %u %ld\n", i, ret);
			mmh_end();
			return;
		}
	}
	mmh_end();
	if (m->deny_write)
		atomic_set(&mmh_e2e_address_space.i_mmap_writable, -1);
	mmh_e2e.depth = mmh_e2e.events = 0;
	mmh_begin(&m->s, &o, &mm, NULL);
	ret = mmh_e2e_map(&m->call);
	fprintf(out, "ret %ld\ncalls %u %u %u\n", ret, mmh_state.remap_calls, mmh_state.mapped_calls,
		mmh_state.munmap_calls);
	mmh_end();
	fprintf(out, "rmap %d", mmh_e2e.events);
	for (i = 0; i < (unsigned int)mmh_e2e.events && i < MMH_RMAP_EVENTS; i++)
		fprintf(out, " %d", mmh_e2e.depths[i]);
	fputc('\n', out);
	for (i = 0; i < o.n_warns && i < MMH_MAX_WARNS; i++)
		fprintf(out, "warn %s %u %s\n", o.warns[i].file, o.warns[i].line, o.warns[i].expr);
	mmh_e2e_print_tree(out, &mm);
	cleanup_mm(&mm, &vmi);
}

static int mmh_e2e_parse_map(const char *line, const char *word, struct mmh_map *map)
{
	size_t n = strlen(word);

	/* The word first: sscanf would write the fields of another line. */
	return !strncmp(line, word, n) && line[n] == ' ' &&
	       sscanf(line + n, "%lu %lu %lu %lu %d %u", &map->start, &map->end, &map->flags, &map->pgoff,
		      &map->file, &map->action) == 6;
}

static int mmh_e2e_parse_inject(const char *line, struct mmh_scenario *s)
{
	char leaf[16];
	int ret;
	unsigned int nth;
	struct mmh_injection *inj;

	if (sscanf(line, "inject %15s %d %u", leaf, &ret, &nth) != 3)
		return 0;
	inj = !strcmp(leaf, "remap") ? &s->remap : !strcmp(leaf, "mapped") ? &s->mapped :
	      !strcmp(leaf, "munmap") ? &s->munmap : NULL;
	if (inj) {
		inj->ret = ret;
		inj->nth = nth;
	}
	return inj != NULL;
}

/* Reads one scenario; on a line it does not understand, names it and fails. */
static int mmh_e2e_read(FILE *in, struct mmh_mapping *m)
{
	char line[256];
	int vm_ops, hide;

	memset(m, 0, sizeof(*m));
	while (fgets(line, sizeof(line), in)) {
		if (line[strspn(line, " \n")] == '\0')
			continue;
		if (m->n_layout < MMH_MAX_MAPS && mmh_e2e_parse_map(line, "map", &m->layout[m->n_layout]))
			m->n_layout++;
		else if (mmh_e2e_parse_map(line, "call", &m->call))
			continue;
		else if (!strcmp(line, "deny_write\n"))
			m->deny_write = 1;
		else if (sscanf(line, "hook %d %d %d %lu %d", &vm_ops, &m->s.mmap_prepare_ret, &m->s.error_override,
				&m->remap_overshoot, &hide) == 5) {
			m->s.vm_ops = (uint8_t)vm_ops;
			m->s.hide_from_rmap_until_complete = (uint8_t)hide;
		}
		else if (!mmh_e2e_parse_inject(line, &m->s)) {
			fprintf(stderr, "mmharness e2e: cannot read the scenario line: %s", line);
			return -1;
		}
	}
	return 0;
}

int mmh_vma_test(const char *name, bool (*test)(void), int *num_tests, int *num_fail)
{
	bool ok = test();

	(*num_tests)++;
	if (!ok)
		(*num_fail)++;
	fprintf(mmh_e2e_out, "test %s %s\n", ok ? "ok" : "fail", name);
	return ok;
}

int main(int argc, char **argv)
{
	struct mmh_mapping m;
	/* Outcomes get a descriptor of their own: the kernel code prints to stdout. */
	int fd = dup(1);

	if (fd < 0 || dup2(2, 1) < 0 || !(mmh_e2e_out = fdopen(fd, "w")))
		return 1;
	if (argc > 1 && !strcmp(argv[1], "vma-tests")) {
		mmh_kernel_vma_main();
	} else {
		maple_tree_init();
		vma_state_init();
		if (mmh_e2e_read(stdin, &m))
			return 2;
		mmh_e2e_run(&m, mmh_e2e_out);
	}
	fprintf(mmh_e2e_out, "end\n");
	return fclose(mmh_e2e_out) ? 1 : 0;
}
