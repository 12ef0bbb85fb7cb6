/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Runs one scenario through the extracted kernel code, and implements the
 * leaves' recorders and injection points. It is compiled at the end of the
 * tree's translation unit, so it sees that tree's types; the MMH_CAP_*
 * macros, detected from the tree's own code, select what the tree can
 * express. All state is per thread, because cargo runs tests in parallel.
 */

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define MMH_POISON(p, n) __asan_poison_memory_region(p, n)
#define MMH_UNPOISON(p, n) __asan_unpoison_memory_region(p, n)
#else
#define MMH_POISON(p, n) ((void)(p), (void)(n))
#define MMH_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct mmh_state {
	const struct mmh_scenario *s;
	struct mmh_outcome *o;
	unsigned int remap_calls, insert_calls, munmap_calls, mapped_calls;
	int rmap_locked;
	/* The VMA of the scenario, snapshotted and poisoned when unmapped. */
	struct vm_area_struct *vma;
	/* The VMA poisoned by do_munmap(), to unpoison at the end. */
	struct vm_area_struct *poisoned;
	/* Where the extracted code is calling a leaf from. */
	const char *site_file;
	int site_line;
};

static _Thread_local struct mmh_state mmh_state;
static _Thread_local struct task_struct mmh_task;
static _Thread_local uint64_t mmh_warns_total;

uint64_t mmh_thread_warns(void)
{
	return mmh_warns_total;
}

void mmh_site(const char *file, int line)
{
	mmh_state.site_file = file;
	mmh_state.site_line = line;
}

_Noreturn void mmh_bug(const char *file, int line, const char *expr)
{
	fprintf(stderr, "kernel BUG at %s:%d: %s\n", file, line, expr);
	fflush(stderr);
	abort();
}

struct task_struct *get_current(void)
{
	return &mmh_task;
}

static void mmh_copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	/* Keep the end of a long path: it names the file. */
	if (n >= size)
		src += n - (size - 1);
	snprintf(dst, size, "%s", src);
}

static void mmh_event5(uint32_t kind, int32_t ret, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		       uint64_t a4)
{
	struct mmh_outcome *o = mmh_state.o;

	if (!o)
		return;
	if (o->n_events < MMH_MAX_EVENTS) {
		struct mmh_event *e = &o->events[o->n_events];

		if (mmh_state.site_file) {
			e->site_line = (uint32_t)mmh_state.site_line;
			mmh_copy_str(e->site_file, sizeof(e->site_file), mmh_state.site_file);
		}
		e->kind = kind;
		e->ret = ret;
		e->args[0] = a0;
		e->args[1] = a1;
		e->args[2] = a2;
		e->args[3] = a3;
		e->args[4] = a4;
	}
	o->n_events++;
	mmh_state.site_file = NULL;
	mmh_state.site_line = 0;
}

static void mmh_event(uint32_t kind, int32_t ret, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	mmh_event5(kind, ret, a0, a1, a2, a3, 0);
}

/* The injected result of this call to a leaf, counting the calls it matches. */
static int mmh_inject(const struct mmh_injection *inj, unsigned int *calls)
{
	if (!inj)
		return 0;
	if (inj->site_file[0]) {
		const char *file = mmh_state.site_file;
		unsigned int line = (unsigned int)mmh_state.site_line;

		if (!file || strncmp(file, inj->site_file, sizeof(inj->site_file)) ||
		    line < inj->site_first || line > inj->site_last)
			return 0;
	}
	++*calls;
	if (inj->nth == 0 || inj->nth == *calls)
		return inj->ret;
	return 0;
}

int mmh_warn(int cond, const char *file, int line, const char *macro, const char *expr)
{
	struct mmh_outcome *o = mmh_state.o;

	if (cond)
		mmh_warns_total++;
	if (!cond || !o)
		return cond;
	if (o->n_warns < MMH_MAX_WARNS) {
		struct mmh_warn *w = &o->warns[o->n_warns];

		w->line = (uint32_t)line;
		mmh_copy_str(w->file, sizeof(w->file), file);
		mmh_copy_str(w->macro, sizeof(w->macro), macro);
		mmh_copy_str(w->expr, sizeof(w->expr), expr);
	}
	o->n_warns++;
	return cond;
}

int mmh_leaf_remap(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn, unsigned long size,
		   pgprot_t prot)
{
	int ret = mmh_inject(mmh_state.s ? &mmh_state.s->remap : NULL, &mmh_state.remap_calls);

	mmh_event5(MMH_EV_REMAP, ret, (uintptr_t)vma, addr, pfn, size, prot.pgprot);
	return ret;
}

int mmh_leaf_insert_pages(struct vm_area_struct *vma, unsigned long addr, const void *pages, unsigned long *num)
{
	int ret = mmh_inject(mmh_state.s ? &mmh_state.s->insert_pages : NULL, &mmh_state.insert_calls);

	mmh_event(MMH_EV_INSERT_PAGES, ret, (uintptr_t)vma, addr, *num, (uintptr_t)pages);
	return ret;
}

static void mmh_snapshot_vma(struct mmh_outcome *o, const struct vm_area_struct *vma)
{
	uint64_t flags;

	o->vma_start = vma->vm_start;
	o->vma_end = vma->vm_end;
	o->vma_pgoff = vma->vm_pgoff;
	memcpy(&flags, (const void *)&vma->vm_flags, sizeof(flags));
	o->vma_flags = flags;
	o->vma_private_data = (uintptr_t)vma->vm_private_data;
}

int mmh_leaf_munmap(struct mm_struct *mm, unsigned long start, size_t len, const void *uf)
{
	int ret = mmh_inject(mmh_state.s ? &mmh_state.s->munmap : NULL, &mmh_state.munmap_calls);

	mmh_event(MMH_EV_MUNMAP, ret, (uintptr_t)mm, start, len, (uintptr_t)uf);
	if (!ret && mmh_state.vma && mmh_state.o) {
		/* The VMA is gone: keep its last state, and catch later reads. */
		mmh_snapshot_vma(mmh_state.o, mmh_state.vma);
		mmh_state.o->vma_unmapped = 1;
		MMH_POISON(mmh_state.vma, sizeof(*mmh_state.vma));
		mmh_state.poisoned = mmh_state.vma;
		mmh_state.vma = NULL;
	}
	return ret;
}

static int mmh_devmem_allowed(unsigned int deny_bit)
{
	return !mmh_state.s || !(mmh_state.s->devmem_deny & deny_bit);
}

int mmh_leaf_devmem_range(unsigned int deny_bit, unsigned long pfn, unsigned long size)
{
	int allowed = mmh_devmem_allowed(deny_bit);

	mmh_event(MMH_EV_DEVMEM_CHECK, 0, deny_bit, (uint64_t)allowed, pfn, size);
	return allowed;
}

int mmh_leaf_private_mapping_ok(const void *desc)
{
	int allowed = mmh_devmem_allowed(MMH_DEVMEM_DENY_PRIVATE);

	mmh_event(MMH_EV_DEVMEM_PRIVATE, allowed, (uintptr_t)desc, 0, 0, 0);
	return allowed;
}

int mmh_leaf_phys_mem_access_prot_allowed(const void *file, unsigned long pfn, unsigned long size,
					  const pgprot_t *prot)
{
	int allowed = mmh_devmem_allowed(MMH_DEVMEM_DENY_PROT);

	mmh_event(MMH_EV_DEVMEM_PROT_ALLOWED, allowed, (uintptr_t)file, pfn, size, (uintptr_t)prot);
	return allowed;
}

pgprot_t mmh_leaf_phys_mem_access_prot(const void *file, unsigned long pfn, unsigned long size, pgprot_t prot)
{
	const struct mmh_scenario *s = mmh_state.s;

	mmh_event(MMH_EV_DEVMEM_ACCESS_PROT, 0, (uintptr_t)file, pfn, size, prot.pgprot);
	/* The arch may choose another protection (uncached, say): the scenario's. */
	if (s && s->devmem_prot)
		prot.pgprot = s->devmem_prot;
	return prot;
}

void mmh_leaf_rmap_unlock(struct address_space *mapping)
{
	mmh_event(MMH_EV_RMAP_UNLOCK, 0, (uintptr_t)mapping, 0, 0, 0);
	mmh_state.rmap_locked--;
}

int mmh_leaf_mmap_read_trylock(struct mm_struct *mm)
{
	/* Normally the caller holds mmap_lock, as in the kernel: the trylock fails. */
	int got = mmh_state.s && mmh_state.s->mmap_unlocked;

	mmh_event(MMH_EV_MMAP_READ_TRYLOCK, got, (uintptr_t)mm, 0, 0, 0);
	return got;
}

pgprot_t mmh_pgprot_decrypted(pgprot_t prot)
{
	mmh_event(MMH_EV_PGPROT_DECRYPTED, 0, prot.pgprot, 0, 0, 0);
	return prot;
}

#ifdef MMH_CAP_VM_OPS_MAPPED
int mmh_hook_mapped(unsigned long start, unsigned long end, unsigned long pgoff, const struct file *file,
		    void **vm_private_data)
{
	const struct mmh_scenario *s = mmh_state.s;
	int ret = mmh_inject(s ? &s->mapped : NULL, &mmh_state.mapped_calls);

	mmh_event(MMH_EV_MAPPED, ret, start, end, pgoff, (uintptr_t)file);
	if (s && s->mapped_sets_private_data)
		*vm_private_data = (void *)(uintptr_t)s->mapped_sets_private_data;
	return ret;
}

/* mmh_mapped: generated with the tree's own prototype of ->mapped. */
static const struct vm_operations_struct mmh_ops_with_mapped = {
	.mapped = mmh_mapped,
};
#endif
static const struct vm_operations_struct mmh_ops_without_mapped;

#ifdef MMH_CAP_ERROR_HOOK
/*
 * Before error_override, "errors become X" is a hook that returns X; a hook
 * that returns 0 tries to clear the error.
 */
static _Thread_local int mmh_error_hook_ret;

int mmh_hook_error(int err)
{
	(void)err;
	return mmh_error_hook_ret;
}
#endif

#ifdef MMH_CAP_SUCCESS_HOOK
int mmh_hook_success(const struct vm_area_struct *vma)
{
	const struct mmh_scenario *s = mmh_state.s;
	int ret;

#ifndef MMH_CAP_VM_OPS_MAPPED
	if (s && !s->has_success_hook) {
		/* The success check, standing in for mapped(): what mapped() is given, read from the VMA. */
		ret = mmh_inject(&s->mapped, &mmh_state.mapped_calls);
		mmh_event(MMH_EV_SUCCESS_CHECK, ret, vma->vm_start, vma->vm_end, vma->vm_pgoff, (uintptr_t)vma->vm_file);
		return ret;
	}
#endif
	ret = s ? s->success_hook_ret : 0;

	mmh_event(MMH_EV_SUCCESS_HOOK, ret, (uintptr_t)vma, 0, 0, 0);
	return ret;
}
#endif

static void mmh_set_action(struct mmap_action *action, const struct mmh_scenario *s);

#ifdef MMH_CAP_COMPAT_VMA_MMAP
/* The .mmap_prepare hook of the file a stacked driver maps: the scenario's action. */
static int mmh_mmap_prepare(struct vm_area_desc *desc)
{
	/* What compat_set_desc_from_vma() gave the hook. */
	mmh_event(MMH_EV_MMAP_PREPARE, 0, (uintptr_t)desc->mm, (uintptr_t)desc->file, desc->page_prot.pgprot, 0);
	mmh_set_action(&desc->action, mmh_state.s);
	return mmh_state.s->mmap_prepare_ret;
}

static const struct file_operations mmh_fops = {
	.mmap_prepare = mmh_mmap_prepare,
};
#endif

static const struct vm_operations_struct *mmh_vm_ops(uint8_t which)
{
	switch (which) {
	case MMH_VM_OPS_WITHOUT_MAPPED:
		return &mmh_ops_without_mapped;
#ifdef MMH_CAP_VM_OPS_MAPPED
	case MMH_VM_OPS_WITH_MAPPED:
		return &mmh_ops_with_mapped;
#else
	case MMH_VM_OPS_WITH_MAPPED:
		/* The driver's success check is the action's success_hook: see mmh_set_action(). */
		return &mmh_ops_without_mapped;
#endif
	default:
		return NULL;
	}
}

static uint64_t mmh_desc_flags(const struct vm_area_desc *desc)
{
#ifdef MMH_CAP_DESC_VMA_FLAGS
	return desc->vma_flags.__vma_flags[0];
#else
	return desc->vm_flags;
#endif
}

static void mmh_set_desc_flags(struct vm_area_desc *desc, uint64_t flags)
{
#ifdef MMH_CAP_DESC_VMA_FLAGS
	desc->vma_flags.__vma_flags[0] = flags;
#else
	desc->vm_flags = flags;
#endif
}

static void mmh_snapshot_desc(struct mmh_outcome *o, const struct vm_area_desc *desc)
{
	o->desc_action_type = desc->action.type;
	o->desc_pgoff = desc->pgoff;
	o->desc_vm_flags = mmh_desc_flags(desc);
	o->desc_remap_start = desc->action.remap.start;
	o->desc_remap_pfn = desc->action.remap.start_pfn;
	o->desc_remap_size = desc->action.remap.size;
#ifdef MMH_CAP_VM_OPS_MAPPED
	o->desc_has_mapped = desc->vm_ops && desc->vm_ops->mapped;
#endif
#ifdef MMH_CAP_ERROR_OVERRIDE
	o->desc_error_override = desc->action.error_override;
#endif
}

static void mmh_set_action(struct mmap_action *action, const struct mmh_scenario *s)
{
	action->type = (enum mmap_action_type)s->action_type;
	switch (s->action_type) {
#ifdef MMH_CAP_SIMPLE_IOREMAP
	case MMAP_SIMPLE_IO_REMAP:
		action->simple_ioremap.start_phys_addr = s->phys_start;
		action->simple_ioremap.size = s->phys_size;
		break;
#endif
#ifdef MMH_CAP_MAP_KERNEL_PAGES
	case MMAP_MAP_KERNEL_PAGES:
		action->map_kernel.start = s->kernel_start;
		action->map_kernel.nr_pages = s->kernel_nr_pages;
		break;
#endif
	default:
		action->remap.start = s->remap_start;
		action->remap.start_pfn = s->remap_pfn;
		action->remap.size = s->remap_size;
		break;
	}
	action->hide_from_rmap_until_complete = s->hide_from_rmap_until_complete;
	if (s->error_override) {
#if defined(MMH_CAP_ERROR_OVERRIDE)
		action->error_override = s->error_override;
#elif defined(MMH_CAP_ERROR_HOOK)
		mmh_error_hook_ret = s->error_override;
		action->error_hook = mmh_error_hook;
#endif
	}
#ifdef MMH_CAP_ERROR_HOOK
	if (s->error_hook_clears) {
		mmh_error_hook_ret = 0;
		action->error_hook = mmh_error_hook;
	}
#endif
#ifdef MMH_CAP_SUCCESS_HOOK
	if (s->has_success_hook)
		action->success_hook = mmh_success_hook;
#ifndef MMH_CAP_VM_OPS_MAPPED
	/* Before vm_ops->mapped, a driver learnt of success through its action's success_hook. */
	if (s->vm_ops == MMH_VM_OPS_WITH_MAPPED)
		action->success_hook = mmh_success_hook;
#endif
#endif
}

/* The nommu variants have the shape of the MMU ones, whichever it is. */
#ifdef MMH_CAP_NOMMU_VARIANTS
#define MMH_VARIANT(nommu, name, ...) ((nommu) ? nommu_##name(__VA_ARGS__) : name(__VA_ARGS__))
#else
#define MMH_VARIANT(nommu, name, ...) ((void)(nommu), name(__VA_ARGS__))
#endif

static int mmh_prepare(struct vm_area_desc *desc, int nommu)
{
#ifdef MMH_CAP_PREPARE_DESC
	return MMH_VARIANT(nommu, mmap_action_prepare, desc);
#else
	MMH_VARIANT(nommu, mmap_action_prepare, &desc->action, desc);
	return 0;
#endif
}

static int mmh_complete(struct vm_area_struct *vma, struct mmap_action *action, int is_compat, int nommu)
{
#if defined(MMH_CAP_COMPLETE_VMA_ACTION_COMPAT)
	return MMH_VARIANT(nommu, mmap_action_complete, vma, action, is_compat);
#elif defined(MMH_CAP_COMPLETE_VMA_ACTION)
	(void)is_compat;
	return MMH_VARIANT(nommu, mmap_action_complete, vma, action);
#else
	(void)is_compat;
	return MMH_VARIANT(nommu, mmap_action_complete, action, vma);
#endif
}

void mmh_desc_setup(struct vm_area_desc *desc, struct mm_struct *mm, struct file *file,
		    const struct mmh_scenario *s)
{
	memset(desc, 0, sizeof(*desc));
	/*
	 * Before 7.1 these members are "const ... *const": set them as mmap
	 * does, by initialising the object, which a copy into its bytes is.
	 */
	memcpy((void *)&desc->mm, &mm, sizeof(mm));
	memcpy((void *)&desc->file, &file, sizeof(file));
	desc->vm_file = file;
	desc->start = s->start;
	desc->end = s->end;
	desc->pgoff = s->pgoff;
	desc->page_prot.pgprot = s->page_prot;
	mmh_set_desc_flags(desc, s->vm_flags);
	desc->vm_ops = mmh_vm_ops(s->vm_ops);
	desc->private_data = (void *)(uintptr_t)s->private_data;
	mmh_set_action(&desc->action, s);
}

void mmh_vma_from_desc(struct vm_area_struct *vma, const struct vm_area_desc *desc)
{
	uint64_t flags = mmh_desc_flags(desc);

	/* As __mmap_region() sets up the new VMA from the descriptor. */
	memset(vma, 0, sizeof(*vma));
	/* const before 7.1, where the descriptor could not change the mm. */
	vma->vm_mm = (struct mm_struct *)desc->mm;
	vma->vm_start = desc->start;
	vma->vm_end = desc->end;
	vma->vm_pgoff = desc->pgoff;
	memcpy((void *)&vma->vm_flags, &flags, sizeof(flags));
	vma->vm_page_prot = desc->page_prot;
	vma->vm_file = desc->vm_file;
	vma->vm_ops = desc->vm_ops;
	vma->vm_private_data = desc->private_data;
}

void mmh_begin(const struct mmh_scenario *s, struct mmh_outcome *o, struct mm_struct *mm,
	       struct vm_area_struct *vma)
{
	memset(o, 0, sizeof(*o));
	memset(&mmh_state, 0, sizeof(mmh_state));
	mmh_state.s = s;
	mmh_state.o = o;
	mmh_state.vma = vma;
	mmh_task.mm = mm;
}

void mmh_end(void)
{
	if (mmh_state.o)
		mmh_state.o->rmap_left_locked = mmh_state.rmap_locked > 0;
	/* The caller may free or reuse the VMA now. */
	if (mmh_state.poisoned)
		MMH_UNPOISON(mmh_state.poisoned, sizeof(*mmh_state.poisoned));
	memset(&mmh_state, 0, sizeof(mmh_state));
	mmh_task.mm = NULL;
}

/*
 * What the scenario asks that this tree cannot express, in the order of
 * Scenario::needs(): the Rust side checks first, so this only keeps a caller
 * that did not from aborting or from running another path in silence.
 */
static uint8_t mmh_missing(const struct mmh_scenario *s)
{
#ifndef MMH_CAP_DEVMEM
	if (s->stage == MMH_STAGE_DEVMEM)
		return MMH_MISSING_DEVMEM;
#endif
#ifndef MMH_CAP_COMPAT_VMA_MMAP
	if (s->stage == MMH_STAGE_COMPAT_VMA_MMAP)
		return MMH_MISSING_COMPAT_VMA_MMAP;
#endif
#ifndef MMH_CAP_NOMMU_VARIANTS
	if (s->stage == MMH_STAGE_NOMMU)
		return MMH_MISSING_NOMMU_VARIANTS;
#endif
#ifndef MMH_CAP_COMPLETE_VMA_ACTION_COMPAT
	if (s->is_compat)
		return MMH_MISSING_IS_COMPAT;
#endif
#if !defined(MMH_CAP_ERROR_OVERRIDE) && !defined(MMH_CAP_ERROR_HOOK)
	if (s->error_override)
		return MMH_MISSING_ERROR_OVERRIDE_OR_HOOK;
#endif
#ifndef MMH_CAP_ERROR_HOOK
	if (s->error_hook_clears)
		return MMH_MISSING_ERROR_HOOK;
#endif
#ifndef MMH_CAP_SUCCESS_HOOK
	if (s->has_success_hook)
		return MMH_MISSING_SUCCESS_HOOK;
#endif
#ifndef MMH_CAP_VM_OPS_MAPPED
#ifdef MMH_CAP_SUCCESS_HOOK
	/* The success check is then the success_hook, which has no private data to set. */
	if (s->vm_ops == MMH_VM_OPS_WITH_MAPPED && (s->has_success_hook || s->mapped_sets_private_data))
		return MMH_MISSING_VM_OPS_MAPPED;
#else
	if (s->vm_ops == MMH_VM_OPS_WITH_MAPPED)
		return MMH_MISSING_SUCCESS_CHECK;
#endif
#endif
	(void)s;
	return MMH_MISSING_NONE;
}

void mmh_run(const struct mmh_scenario *s, struct mmh_outcome *o)
{
	uint8_t missing = mmh_missing(s);
	/*
	 * Each object on the heap on its own, so that in the sanitizer build a
	 * read past one, or of the VMA after do_munmap(), is caught.
	 */
	struct mm_struct *mm;
	struct address_space *mapping;
	struct file *file;
	struct vm_area_struct *vma;
	struct vm_area_desc *desc;

	if (missing) {
		memset(o, 0, sizeof(*o));
		o->missing = missing;
		return;
	}
	mm = calloc(1, sizeof(*mm));
	mapping = calloc(1, sizeof(*mapping));
	file = calloc(1, sizeof(*file));
	vma = calloc(1, sizeof(*vma));
	desc = calloc(1, sizeof(*desc));
	if (!mm || !mapping || !file || !vma || !desc)
		abort();
	mmh_begin(s, o, mm, NULL);
	file->f_mapping = mapping;

	o->objects.mm = (uintptr_t)mm;
	o->objects.vma = (uintptr_t)vma;
	o->objects.file = s->has_file ? (uintptr_t)file : 0;
	o->objects.mapping = (uintptr_t)mapping;
	o->objects.desc = (uintptr_t)desc;
	o->objects.desc_page_prot = (uintptr_t)&desc->page_prot;

	mmh_desc_setup(desc, mm, s->has_file ? file : NULL, s);

#ifdef MMH_CAP_DEVMEM
	if (s->stage == MMH_STAGE_DEVMEM) {
		o->hook_ret = mmap_mem_prepare(desc);
		o->hooked = 1;
		if (o->hook_ret)
			goto out;
	}
#endif

#ifdef MMH_CAP_COMPAT_VMA_MMAP
	if (s->stage == MMH_STAGE_COMPAT_VMA_MMAP) {
		/* The VMA mmap made before the driver's .mmap called us. */
		mmh_vma_from_desc(vma, desc);
		file->f_op = &mmh_fops;
		mmh_state.vma = vma;
		o->complete_ret = compat_vma_mmap(file, vma);
		o->completed = 1;
		goto out;
	}
#endif

	if (s->stage != MMH_STAGE_COMPLETE) {
		o->prepare_ret = mmh_prepare(desc, s->stage == MMH_STAGE_NOMMU);
		o->prepared = 1;
	}

	if (s->stage != MMH_STAGE_PREPARE && o->prepare_ret == 0) {
		mmh_vma_from_desc(vma, desc);
		/* The rmap lock mmap takes when it hides the VMA from rmap. */
		if (desc->action.hide_from_rmap_until_complete) {
			mmh_event(MMH_EV_RMAP_LOCK, 0, (uintptr_t)(vma->vm_file ? vma->vm_file->f_mapping : NULL), 0, 0, 0);
			mmh_state.rmap_locked++;
		}
		mmh_state.vma = vma;
		o->complete_ret = mmh_complete(vma, &desc->action, s->is_compat, s->stage == MMH_STAGE_NOMMU);
		o->completed = 1;
	}

	/* Not jumped to on a tree without /dev/mem's hook or compat_vma_mmap. */
out: __attribute__((unused))
	mmh_snapshot_desc(o, desc);
	if (!o->vma_unmapped)
		mmh_snapshot_vma(o, vma);
	mmh_end();
	free(desc);
	free(vma);
	free(file);
	free(mapping);
	free(mm);
}
