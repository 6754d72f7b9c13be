// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 */

#include <linux/debugfs.h>
#include <linux/error-injection.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <drm/drm_gpusvm.h>

#include <gsvm/gsvm.h>

#include "gsvm_internal.h"
#include "gsvm_trace.h"

/**
 * DOC: SVM
 *
 * A mirror created with gsvm_mirror_init_svm() also mirrors the whole CPU
 * address space below &gsvm_mirror.svm_end at the same GPU virtual
 * addresses (Xe's CPU address mirror): a GPU access there that no userptr
 * range covers is a GPU page fault, and gsvm_handle_fault() maps the memory
 * on demand. The ranges, their notifiers and their pages are drm_gpusvm's
 * (full mode, &gsvm_mirror.gpusvm); gsvm provides the drm_gpusvm ops on top
 * of its backend boundary (&struct gsvm_backend_ops).
 *
 * **Faults** (gsvm_svm_fault(), under &gsvm_mirror.lock): run the garbage
 * collector, find or insert the drm_gpusvm range of the address (chunk sizes
 * 2 MiB, 64 KiB and 4 KiB: the largest aligned chunk that fits the CPU VMA
 * and overlaps no other range), prepare the GPU page tables, fault and
 * DMA-map the pages (drm_gpusvm_get_pages()), then bind under the notifier
 * lock in read mode, only if the pages are still valid and no invalidation
 * started since they were collected (mmu_interval_read_retry()), which the
 * two-pass ops need since the pages stay DMA mapped between the passes.
 * Anything else retries, at most %GSVM_SVM_FAULT_TRIES times (-EBUSY). A
 * range is mapped writable whenever its CPU VMA is, as in Xe (so a GPU read
 * breaks copy-on-write and dirties shared file pages); a write to a
 * read-only VMA fails with -EACCES; an address without a readable VMA
 * (none, PROT_NONE, write-only), or memory the CPU could not fault in
 * either, with -EFAULT. A range the fault finds dead (unmapped, or whose
 * pages can no longer be collected) is retired: it waits for the TLB
 * invalidation of its notifier that may still be in flight, zaps and
 * DMA-unmaps it and hands it to the garbage collector.
 *
 * **Invalidation.** drm_gpusvm calls the ops under its notifier lock, held
 * in write mode (see drm_gpusvm.c, DOC: Two-pass invalidation):
 *
 * - start (gsvm_svm_invalidate_start()): for every range of the notifier
 *   that overlaps the invalidated range, mark it unmapped on
 *   %MMU_NOTIFY_UNMAP and zap its PTEs, whole ranges only; then submit one
 *   TLB invalidation for the span it zapped, into the fence of the notifier
 *   subclass (&struct gsvm_svm_notifier), and ask for a finish pass. With
 *   nothing zapped there is nothing to wait for: it does the finish work at
 *   once and asks for none.
 * - finish (gsvm_svm_invalidate_finish()): wait for that fence, then walk
 *   the ranges again (never keep range pointers across the passes: the
 *   garbage collector may free ranges in between), DMA-unmap their pages and
 *   queue the unmapped ones for garbage collection.
 *
 * drm_gpusvm serialises invalidations of one notifier that overlap in time:
 * the second one completes the first one's finish pass before doing its own
 * work, so the notifier's fence is never armed twice.
 *
 * On a kernel whose drm_gpusvm has no two-pass ops (stock 7.3, found at
 * build time), or with ``two_pass=0`` when the VM is created, the same two
 * functions run back to back in drm_gpusvm's single-pass
 * &drm_gpusvm_ops.invalidate. ``/sys/module/gsvm/parameters/svm_two_pass``
 * and the kernel log at load time say which the module was built for.
 *
 * **Garbage collection.** A range the CPU unmapped (fully or partially) is
 * dead: its PTEs are gone and its pages unmapped, but drm_gpusvm still
 * tracks it. The finish pass queues it on &gsvm_mirror.gc_list with a
 * reference and kicks &gsvm_mirror.gc_work; the collector (also run at the
 * start of every fault) removes such ranges under &gsvm_mirror.lock, and
 * drm_gpusvm removes a notifier with its last range. What is left of a
 * partially unmapped range is faulted in again as new, smaller ranges.
 *
 * **Locking**, outermost first: &gsvm_mirror.lock (faults, the collector,
 * teardown; drm_gpusvm's driver lock, asserted by
 * drm_gpusvm_range_find_or_insert()), mmap_lock, the notifier lock
 * (&drm_gpusvm.notifier_lock), &gsvm_mirror.gc_lock. The notifier passes take
 * only the notifier lock and the gc lock, never allocate and never take
 * &gsvm_mirror.lock. &gsvm_svm_range.gpu_mapped is written with the notifier
 * lock held in write mode, or in read mode with &gsvm_mirror.lock held.
 */

/* Fault attempts before giving up with -EBUSY. */
#define GSVM_SVM_FAULT_TRIES	16

/* drm_gpusvm notifier size: one notifier covers this much CPU VA. */
#define GSVM_SVM_NOTIFIER_SIZE	SZ_512M

static const unsigned long gsvm_svm_chunk_sizes[] = { SZ_2M, SZ_64K, SZ_4K };

#ifdef GSVM_HAVE_GPUSVM_TWO_PASS
static bool gsvm_svm_two_pass_built = true;
#else
static bool gsvm_svm_two_pass_built;
#endif
module_param_named(svm_two_pass, gsvm_svm_two_pass_built, bool, 0444);
MODULE_PARM_DESC(svm_two_pass,
		 "Read only: SVM invalidations can be two-pass (this kernel's drm_gpusvm has the two-pass ops); N: always single-pass");

/**
 * struct gsvm_svm_range - A drm_gpusvm range with its pages and GPU state
 * @base: The drm_gpusvm range.
 * @pages: Its pages and DMA addresses.
 * @gc_link: Link in &gsvm_mirror.gc_list while queued for collection.
 *	Protected by &gsvm_mirror.gc_lock.
 * @gpu_mapped: The GPU PTEs are live; see DOC: SVM for its locking.
 * @read_only: The pages were collected, and are mapped, read-only.
 * @counted: Counted in &gsvm_svm_stats.chunks (on its first bind).
 *	Protected by &gsvm_mirror.lock.
 * @collected: Taken off @gc_link by the collector, about to be removed: it
 *	must not be queued again. Set with the notifier lock held in read
 *	mode, read with it held in write mode.
 */
struct gsvm_svm_range {
	struct drm_gpusvm_range base;
	struct drm_gpusvm_pages pages;
	struct list_head gc_link;
	bool gpu_mapped;
	bool read_only;
	bool counted;
	bool collected;
};

/**
 * struct gsvm_svm_notifier - A drm_gpusvm notifier with its in-flight state
 * @base: The drm_gpusvm notifier.
 * @fence: The TLB invalidation the finish pass waits for.
 * @inval_armed: @fence was submitted and not waited for yet. Protected by
 *	the notifier lock (write).
 */
struct gsvm_svm_notifier {
	struct drm_gpusvm_notifier base;
	struct gsvm_tlb_inval_fence fence;
	bool inval_armed;
};

/**
 * struct gsvm_svm_stats - Module-wide SVM counters (debugfs ``svm_stats``)
 * @faults: SVM faults serviced (successfully or not).
 * @faults_failed: SVM faults that ended in an error.
 * @fault_ns: Time spent servicing them.
 * @chunks: Ranges created, by chunk size (2M, 64K, 4K).
 * @ranges_live: Ranges allocated and not freed yet.
 * @ranges_collected: Ranges removed by the garbage collector.
 * @invalidations: Invalidation start passes that found ranges.
 * @tlb_invals: TLB invalidations submitted by them.
 */
struct gsvm_svm_stats {
	atomic64_t faults;
	atomic64_t faults_failed;
	atomic64_t fault_ns;
	atomic64_t chunks[ARRAY_SIZE(gsvm_svm_chunk_sizes)];
	atomic64_t ranges_live;
	atomic64_t ranges_collected;
	atomic64_t invalidations;
	atomic64_t tlb_invals;
};

static struct gsvm_svm_stats gsvm_svm_stats;

static struct gsvm_svm_range *to_svm_range(struct drm_gpusvm_range *range)
{
	return container_of(range, struct gsvm_svm_range, base);
}

static struct gsvm_svm_notifier *to_svm_notifier(struct drm_gpusvm_notifier *n)
{
	return container_of(n, struct gsvm_svm_notifier, base);
}

static struct gsvm_mirror *gpusvm_to_mirror(struct drm_gpusvm *gpusvm)
{
	return container_of(gpusvm, struct gsvm_mirror, gpusvm);
}

static unsigned long gsvm_svm_range_npages(struct gsvm_svm_range *r)
{
	return drm_gpusvm_range_size(&r->base) >> PAGE_SHIFT;
}

static struct drm_gpusvm_notifier *gsvm_svm_notifier_alloc(void)
{
	struct gsvm_svm_notifier *sn = kzalloc_obj(*sn, GFP_KERNEL_ACCOUNT);

	if (!sn)
		return NULL;
	atomic64_inc(&gsvm_stats.svm_notifiers_live);
	return &sn->base;
}
ALLOW_ERROR_INJECTION(gsvm_svm_notifier_alloc, NULL);

static void gsvm_svm_notifier_free(struct drm_gpusvm_notifier *notifier)
{
	struct gsvm_svm_notifier *sn = to_svm_notifier(notifier);

	WARN_ON_ONCE(sn->inval_armed);
	kfree(sn);
	atomic64_dec(&gsvm_stats.svm_notifiers_live);
}

static struct drm_gpusvm_range *gsvm_svm_range_alloc(struct drm_gpusvm *gpusvm)
{
	struct gsvm_svm_range *r = kzalloc_obj(*r, GFP_KERNEL_ACCOUNT);

	if (!r)
		return NULL;
	drm_gpusvm_init_pages(&r->pages, gpusvm_to_mirror(gpusvm)->drm);
	INIT_LIST_HEAD(&r->gc_link);
	atomic64_inc(&gsvm_svm_stats.ranges_live);
	return &r->base;
}
ALLOW_ERROR_INJECTION(gsvm_svm_range_alloc, NULL);

static void gsvm_svm_range_free(struct drm_gpusvm_range *range)
{
	struct gsvm_svm_range *r = to_svm_range(range);

	WARN_ON_ONCE(r->gpu_mapped);
	WARN_ON_ONCE(!list_empty(&r->gc_link));
	/* Normally a no-op: the finish pass or teardown unmapped them. */
	gsvm_free_pages(gpusvm_to_mirror(range->gpusvm), &r->pages,
			gsvm_svm_range_npages(r));
	atomic64_dec(&gsvm_svm_stats.ranges_live);
	kfree(r);
}

/* Zap @r if mapped; true if it had live PTEs. Notifier lock held (write). */
static bool gsvm_svm_range_zap(struct gsvm_mirror *mirror,
			       struct gsvm_svm_range *r)
{
	lockdep_assert_held_write(&mirror->gpusvm.notifier_lock);

	if (!r->gpu_mapped)
		return false;
	WRITE_ONCE(r->gpu_mapped, false);
	return gsvm_op_zap(mirror, drm_gpusvm_range_start(&r->base),
			   drm_gpusvm_range_size(&r->base));
}

/* Queue a dead range for the collector. Notifier lock held (write). */
static void gsvm_svm_gc_add(struct gsvm_mirror *mirror, struct gsvm_svm_range *r)
{
	bool queued = false;

	lockdep_assert_held_write(&mirror->gpusvm.notifier_lock);

	spin_lock(&mirror->gc_lock);
	if (list_empty(&r->gc_link) && !r->collected) {
		drm_gpusvm_range_get(&r->base);
		list_add_tail(&r->gc_link, &mirror->gc_list);
		queued = true;
	}
	spin_unlock(&mirror->gc_lock);

	if (queued)
		queue_work(system_unbound_wq, &mirror->gc_work);
}

/*
 * The part of an invalidation that must follow the TLB wait: DMA-unmap the
 * pages of every range overlapping @mmu_range and queue the dead ones for
 * collection. Notifier lock held (write).
 */
static void gsvm_svm_unmap_and_collect(struct gsvm_mirror *mirror,
				       struct drm_gpusvm_notifier *notifier,
				       unsigned long start, unsigned long end)
{
	struct drm_gpusvm_ctx ctx = { .in_notifier = true };
	struct drm_gpusvm_range *range = NULL;

	drm_gpusvm_for_each_range(range, notifier, start, end) {
		struct gsvm_svm_range *r = to_svm_range(range);

		ctx.read_only = r->read_only;
		gsvm_unmap_pages(mirror, &r->pages, gsvm_svm_range_npages(r), &ctx);
		if (range->flags.unmapped)
			gsvm_svm_gc_add(mirror, r);
	}
}

static void gsvm_svm_clamp(struct drm_gpusvm_notifier *notifier,
			   const struct mmu_notifier_range *mmu_range,
			   unsigned long *start, unsigned long *end)
{
	*start = max(drm_gpusvm_notifier_start(notifier), mmu_range->start);
	*end = min(drm_gpusvm_notifier_end(notifier), mmu_range->end);
}

/**
 * gsvm_svm_invalidate_start() - First pass of an SVM invalidation
 * @gpusvm: The mirror's drm_gpusvm.
 * @notifier: The notifier whose range is invalidated.
 * @mmu_range: The invalidated CPU range.
 *
 * Called by drm_gpusvm with the notifier lock held in write mode. Zaps the
 * PTEs of every range overlapping @mmu_range and submits one TLB
 * invalidation for them; never waits, never allocates.
 *
 * Return: true if the finish pass must run (a TLB invalidation is in
 * flight), false if the whole invalidation is done.
 */
static bool gsvm_svm_invalidate_start(struct drm_gpusvm *gpusvm,
				      struct drm_gpusvm_notifier *notifier,
				      const struct mmu_notifier_range *mmu_range)
{
	struct gsvm_mirror *mirror = gpusvm_to_mirror(gpusvm);
	struct gsvm_svm_notifier *sn = to_svm_notifier(notifier);
	struct drm_gpusvm_range *range = NULL;
	unsigned long start, end, zstart = ULONG_MAX, zend = 0;

	lockdep_assert_held_write(&gpusvm->notifier_lock);
	gsvm_svm_clamp(notifier, mmu_range, &start, &end);

	drm_gpusvm_for_each_range(range, notifier, start, end) {
		struct gsvm_svm_range *r = to_svm_range(range);

		if (mmu_range->event == MMU_NOTIFY_UNMAP)
			drm_gpusvm_range_set_unmapped(range, &r->pages, 1,
						      mmu_range);
		if (gsvm_svm_range_zap(mirror, r)) {
			zstart = min(zstart, drm_gpusvm_range_start(range));
			zend = max(zend, drm_gpusvm_range_end(range));
		}
	}

	if (WARN_ON_ONCE(sn->inval_armed)) {
		gsvm_tlb_inval_wait(mirror, &sn->fence);
		sn->inval_armed = false;
	}

	if (zend) {
		atomic64_inc(&gsvm_svm_stats.invalidations);
		atomic64_inc(&gsvm_svm_stats.tlb_invals);
		gsvm_op_tlb_inval_submit(mirror, &sn->fence, zstart,
					 zend - zstart);
		sn->inval_armed = true;
	}
	trace_gsvm_svm_inval_start(mirror, start, end, zstart, zend);

	if (zend)
		return true;

	/* Nothing on the GPU to wait for; the pages may still be mapped. */
	gsvm_svm_unmap_and_collect(mirror, notifier, start, end);
	return false;
}

/**
 * gsvm_svm_invalidate_finish() - Second pass of an SVM invalidation
 * @gpusvm: The mirror's drm_gpusvm.
 * @notifier: The notifier whose start pass asked for this pass.
 * @mmu_range: The invalidated CPU range, as the start pass saw it.
 *
 * Called by drm_gpusvm with the notifier lock held in write mode. Waits for
 * the TLB invalidation the start pass submitted, then DMA-unmaps the pages
 * and queues the unmapped ranges for garbage collection.
 */
static void gsvm_svm_invalidate_finish(struct drm_gpusvm *gpusvm,
				       struct drm_gpusvm_notifier *notifier,
				       const struct mmu_notifier_range *mmu_range)
{
	struct gsvm_mirror *mirror = gpusvm_to_mirror(gpusvm);
	struct gsvm_svm_notifier *sn = to_svm_notifier(notifier);
	unsigned long start, end;

	lockdep_assert_held_write(&gpusvm->notifier_lock);
	gsvm_svm_clamp(notifier, mmu_range, &start, &end);

	if (sn->inval_armed) {
		if (unlikely(READ_ONCE(gsvm_dma_unmap_before_wait)))
			gsvm_svm_unmap_and_collect(mirror, notifier, start, end);
		/* Recovers from a timeout, or wedges the mirror. */
		gsvm_tlb_inval_wait(mirror, &sn->fence);
		sn->inval_armed = false;
	}
	gsvm_svm_unmap_and_collect(mirror, notifier, start, end);
	trace_gsvm_svm_inval_finish(mirror, start, end);
}

/* Single-pass: both passes back to back, as drm_gpusvm drivers do today. */
static void gsvm_svm_invalidate(struct drm_gpusvm *gpusvm,
				struct drm_gpusvm_notifier *notifier,
				const struct mmu_notifier_range *mmu_range)
{
	if (gsvm_svm_invalidate_start(gpusvm, notifier, mmu_range))
		gsvm_svm_invalidate_finish(gpusvm, notifier, mmu_range);
}

static const struct drm_gpusvm_ops gsvm_svm_single_pass_ops = {
	.notifier_alloc = gsvm_svm_notifier_alloc,
	.notifier_free = gsvm_svm_notifier_free,
	.range_alloc = gsvm_svm_range_alloc,
	.range_free = gsvm_svm_range_free,
	.invalidate = gsvm_svm_invalidate,
};

#ifdef GSVM_HAVE_GPUSVM_TWO_PASS
static const struct drm_gpusvm_ops gsvm_svm_two_pass_ops = {
	.notifier_alloc = gsvm_svm_notifier_alloc,
	.notifier_free = gsvm_svm_notifier_free,
	.range_alloc = gsvm_svm_range_alloc,
	.range_free = gsvm_svm_range_free,
	.invalidate_start = gsvm_svm_invalidate_start,
	.invalidate_finish = gsvm_svm_invalidate_finish,
};
#endif

/* Take the next range off the collector's list, for good. */
static struct gsvm_svm_range *gsvm_svm_gc_next(struct gsvm_mirror *mirror)
{
	struct gsvm_svm_range *r;

	/*
	 * Excludes the notifier passes, which may find the range in the tree
	 * until drm_gpusvm_range_remove() and would queue it again.
	 */
	down_read(&mirror->gpusvm.notifier_lock);
	spin_lock(&mirror->gc_lock);
	r = list_first_entry_or_null(&mirror->gc_list, struct gsvm_svm_range,
				     gc_link);
	if (r) {
		list_del_init(&r->gc_link);
		r->collected = true;
	}
	spin_unlock(&mirror->gc_lock);
	up_read(&mirror->gpusvm.notifier_lock);
	return r;
}

/* Remove every queued dead range. &gsvm_mirror.lock held. */
static void gsvm_svm_gc_locked(struct gsvm_mirror *mirror)
{
	struct gsvm_svm_range *r;

	lockdep_assert_held(&mirror->lock);

	/* Wedged: the dead ranges keep their DMA mappings until teardown. */
	if (gsvm_mirror_wedged(mirror))
		return;

	while ((r = gsvm_svm_gc_next(mirror))) {
		trace_gsvm_svm_range_gc(mirror, drm_gpusvm_range_start(&r->base),
					drm_gpusvm_range_end(&r->base));
		/* Zapped, TLB-invalidated and DMA-unmapped by the notifier. */
		drm_gpusvm_range_remove(&mirror->gpusvm, &r->base);
		drm_gpusvm_range_put(&r->base);
		atomic64_inc(&gsvm_svm_stats.ranges_collected);
	}
}

static void gsvm_svm_gc_work(struct work_struct *work)
{
	struct gsvm_mirror *mirror = container_of(work, struct gsvm_mirror,
						  gc_work);

	mutex_lock(&mirror->lock);
	if (!mirror->svm_dead)
		gsvm_svm_gc_locked(mirror);
	mutex_unlock(&mirror->lock);
}

/*
 * Retire a range the fault path cannot use any more (its CPU memory changed
 * under it): take it off the GPU and hand it to the collector, so that the
 * next attempt inserts a new one.
 */
static void gsvm_svm_range_retire(struct gsvm_mirror *mirror,
				  struct gsvm_svm_range *r)
{
	struct drm_gpusvm_ctx ctx = { .in_notifier = true,
				      .read_only = r->read_only };
	struct gsvm_svm_notifier *sn = to_svm_notifier(r->base.notifier);
	struct gsvm_tlb_inval_fence fence;

	down_write(&mirror->gpusvm.notifier_lock);
	/*
	 * An invalidation between its passes may have zapped this range and
	 * not waited yet: the pages must stay mapped until its TLB
	 * invalidation is done. Its finish pass waits again, which is allowed.
	 */
	if (sn->inval_armed)
		gsvm_tlb_inval_wait(mirror, &sn->fence);
	if (gsvm_svm_range_zap(mirror, r)) {
		gsvm_op_tlb_inval_submit(mirror, &fence,
					 drm_gpusvm_range_start(&r->base),
					 drm_gpusvm_range_size(&r->base));
		gsvm_tlb_inval_wait(mirror, &fence);
	}
	gsvm_unmap_pages(mirror, &r->pages, gsvm_svm_range_npages(r), &ctx);
	gsvm_svm_gc_add(mirror, r);
	up_write(&mirror->gpusvm.notifier_lock);
}

static int gsvm_svm_chunk_index(unsigned long size)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(gsvm_svm_chunk_sizes); i++)
		if (size == gsvm_svm_chunk_sizes[i])
			return i;
	return -1;
}

/* Unlocked peek at a flag set under the notifier lock (write). */
static bool gsvm_svm_range_unmapped(struct drm_gpusvm_range *range)
{
	struct drm_gpusvm_range_flags flags = {
		.__flags = READ_ONCE(range->flags.__flags),
	};

	return flags.unmapped;
}

/* One attempt; -EAGAIN to try again. &gsvm_mirror.lock held. */
static int gsvm_svm_fault_once(struct gsvm_mirror *mirror, unsigned long addr,
			       bool write, unsigned long *chunk)
{
	struct drm_gpusvm *gpusvm = &mirror->gpusvm;
	struct drm_gpusvm_ctx ctx = {};
	struct drm_gpusvm_range *range;
	struct gsvm_svm_range *r;
	unsigned long start, size;
	int err;

	if (gsvm_mirror_wedged(mirror))
		return -EIO;
	gsvm_svm_gc_locked(mirror);

	/*
	 * Writable whenever the VMA is: drm_gpusvm checks VM_WRITE under the
	 * mmap lock it takes anyway, and says -EPERM for a read-only VMA.
	 */
	range = drm_gpusvm_range_find_or_insert(gpusvm, addr, 0,
						mirror->svm_end, &ctx);
	if (IS_ERR(range) && PTR_ERR(range) == -EPERM) {
		ctx.read_only = true;
		range = drm_gpusvm_range_find_or_insert(gpusvm, addr, 0,
							mirror->svm_end, &ctx);
	}
	if (IS_ERR(range)) {
		err = PTR_ERR(range);
		/* -ENOENT, -EIO, -EINVAL: no VMA, VM_IO/VM_PFNMAP, outside. */
		return err == -ENOMEM ? err : -EFAULT;
	}
	r = to_svm_range(range);
	start = drm_gpusvm_range_start(range);
	size = drm_gpusvm_range_size(range);
	*chunk = size;

	if (gsvm_svm_range_unmapped(range) ||
	    (READ_ONCE(r->gpu_mapped) && r->read_only != ctx.read_only)) {
		gsvm_svm_range_retire(mirror, r);
		return -EAGAIN;
	}

	err = mirror->ops->prepare(mirror, start, size);
	if (err)
		return err;

	err = drm_gpusvm_get_pages(gpusvm, &r->pages, mirror->mm,
				   &range->notifier->notifier, start,
				   start + size, &ctx);
	if (err == -EFAULT || err == -EPERM) {
		/*
		 * Part of the range lost its VMA, or its access changed: a new
		 * range fits what is there now. A range never mirrored yet that
		 * fails is memory the CPU cannot fault in either (a file page
		 * past EOF, say): no new range would do better.
		 */
		bool fresh = !r->counted && !gsvm_svm_range_unmapped(range);

		gsvm_svm_range_retire(mirror, r);
		return fresh ? -EFAULT : -EAGAIN;
	}
	if (err == -EBUSY)
		return -EAGAIN;
	if (err)
		return err;
	/* Readable (hmm_range_fault() checked VM_READ), not writable. */
	if (write && ctx.read_only)
		return -EACCES;

	drm_gpusvm_notifier_lock(gpusvm);
	if (range->flags.unmapped ||
	    !drm_gpusvm_pages_valid(gpusvm, &r->pages) ||
	    mmu_interval_read_retry(&range->notifier->notifier,
				    r->pages.notifier_seq)) {
		drm_gpusvm_notifier_unlock(gpusvm);
		return -EAGAIN;
	}
	if (!r->gpu_mapped) {
		gsvm_op_bind(mirror, start, r->pages.dma_addr,
			     gsvm_svm_range_npages(r), ctx.read_only);
		r->read_only = ctx.read_only;
		WRITE_ONCE(r->gpu_mapped, true);
	}
	drm_gpusvm_notifier_unlock(gpusvm);

	if (!r->counted) {
		int i = gsvm_svm_chunk_index(size);

		r->counted = true;
		if (i >= 0)
			atomic64_inc(&gsvm_svm_stats.chunks[i]);
	}
	return 0;
}

/**
 * gsvm_svm_fault() - Service a GPU page fault on SVM memory
 * @mirror: The mirror; &gsvm_mirror.lock held.
 * @addr: The faulting address, below &gsvm_mirror.svm_end.
 * @write: The access was a write.
 *
 * See DOC: SVM.
 *
 * Return: 0 if the access can be replayed, -EFAULT if the CPU has nothing
 * mapped at @addr, -EACCES for a write to read-only memory, -ENOMEM,
 * -EBUSY if invalidations kept racing with the fault, or -EIO if the
 * mirror is wedged.
 */
int gsvm_svm_fault(struct gsvm_mirror *mirror, u64 addr, bool write)
{
	unsigned long chunk = 0;
	unsigned int tries;
	ktime_t t0 = ktime_get();
	s64 ns;
	int err = -EBUSY;

	lockdep_assert_held(&mirror->lock);

	for (tries = 0; tries < GSVM_SVM_FAULT_TRIES; tries++) {
		err = gsvm_svm_fault_once(mirror, addr, write, &chunk);
		if (err != -EAGAIN)
			break;
		err = -EBUSY;
	}

	ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
	atomic64_inc(&gsvm_svm_stats.faults);
	atomic64_add(ns, &gsvm_svm_stats.fault_ns);
	if (err)
		atomic64_inc(&gsvm_svm_stats.faults_failed);
	trace_gsvm_svm_fault(mirror, addr, write, chunk, ns, err);
	return err;
}

/**
 * gsvm_svm_init() - Set up the SVM part of a mirror
 * @mirror: The mirror, with @drm, @mm and @name set.
 * @svm_end: End of the mirrored CPU range, or 0 for a userptr-only mirror
 *	(drm_gpusvm in pages-only mode).
 *
 * Return: 0 or a negative error code.
 */
int gsvm_svm_init(struct gsvm_mirror *mirror, u64 svm_end)
{
	const struct drm_gpusvm_ops *ops = &gsvm_svm_single_pass_ops;
	int err;

	mirror->svm_end = svm_end;
	mirror->svm_dead = false;
	spin_lock_init(&mirror->gc_lock);
	INIT_LIST_HEAD(&mirror->gc_list);
	INIT_WORK(&mirror->gc_work, gsvm_svm_gc_work);

	if (!svm_end)
		return drm_gpusvm_init(&mirror->gpusvm, mirror->name, NULL, 0,
				       0, 0, NULL, NULL, 0);

#ifdef GSVM_HAVE_GPUSVM_TWO_PASS
	if (READ_ONCE(gsvm_two_pass))
		ops = &gsvm_svm_two_pass_ops;
#endif
	mirror->svm_two_pass = ops != &gsvm_svm_single_pass_ops;

	err = drm_gpusvm_init(&mirror->gpusvm, mirror->name, mirror->mm, 0,
			      svm_end, GSVM_SVM_NOTIFIER_SIZE, ops,
			      gsvm_svm_chunk_sizes,
			      ARRAY_SIZE(gsvm_svm_chunk_sizes));
	if (err)
		return err;
	drm_gpusvm_driver_set_lock(&mirror->gpusvm, &mirror->lock);
	return 0;
}

/**
 * gsvm_svm_fini() - Tear down the SVM part of a mirror
 * @mirror: The mirror, once every userptr range is gone.
 *
 * Zaps every SVM range, waits for one TLB invalidation covering them and
 * DMA-unmaps their pages, before drm_gpusvm_fini() removes the notifiers
 * and the ranges; then stops the garbage collector.
 */
void gsvm_svm_fini(struct gsvm_mirror *mirror)
{
	struct drm_gpusvm *gpusvm = &mirror->gpusvm;
	struct drm_gpusvm_notifier *notifier;
	struct gsvm_tlb_inval_fence fence;
	unsigned long zstart = ULONG_MAX, zend = 0;
	struct gsvm_svm_range *r, *next;
	LIST_HEAD(dead);

	mutex_lock(&mirror->lock);
	if (mirror->svm_end) {
		down_write(&gpusvm->notifier_lock);
		drm_gpusvm_for_each_notifier(notifier, gpusvm, 0, mirror->svm_end) {
			struct drm_gpusvm_range *range = NULL;

			drm_gpusvm_for_each_range(range, notifier, 0,
						  mirror->svm_end) {
				if (gsvm_svm_range_zap(mirror, to_svm_range(range))) {
					zstart = min(zstart, drm_gpusvm_range_start(range));
					zend = max(zend, drm_gpusvm_range_end(range));
				}
			}
		}
		if (zend) {
			gsvm_op_tlb_inval_submit(mirror, &fence, zstart,
						 zend - zstart);
			gsvm_tlb_inval_wait(mirror, &fence);
		}
		/* drm_gpusvm_range_remove() leaves the pages to range_free. */
		drm_gpusvm_for_each_notifier(notifier, gpusvm, 0, mirror->svm_end) {
			struct drm_gpusvm_ctx ctx = { .in_notifier = true };
			struct drm_gpusvm_range *range = NULL;

			drm_gpusvm_for_each_range(range, notifier, 0,
						  mirror->svm_end) {
				struct gsvm_svm_range *r = to_svm_range(range);

				ctx.read_only = r->read_only;
				gsvm_unmap_pages(mirror, &r->pages,
						 gsvm_svm_range_npages(r), &ctx);
			}
		}
		up_write(&gpusvm->notifier_lock);
	}

	/* The collector must not race with drm_gpusvm_fini()'s removals. */
	mirror->svm_dead = true;
	drm_gpusvm_fini(gpusvm);
	mutex_unlock(&mirror->lock);

	/* No notifier is left to queue more; drop what is still queued. */
	cancel_work_sync(&mirror->gc_work);
	spin_lock(&mirror->gc_lock);
	list_splice_init(&mirror->gc_list, &dead);
	spin_unlock(&mirror->gc_lock);
	list_for_each_entry_safe(r, next, &dead, gc_link) {
		list_del_init(&r->gc_link);
		drm_gpusvm_range_put(&r->base);
	}
}

static int gsvm_svm_stats_show(struct seq_file *m, void *data)
{
	struct gsvm_svm_stats *s = &gsvm_svm_stats;

	seq_printf(m, "mode %s\n", gsvm_svm_two_pass_built && READ_ONCE(gsvm_two_pass) ?
		   "two-pass" : "single-pass");
	seq_printf(m, "faults %lld\n", atomic64_read(&s->faults));
	seq_printf(m, "faults_failed %lld\n", atomic64_read(&s->faults_failed));
	seq_printf(m, "fault_ns %lld\n", atomic64_read(&s->fault_ns));
	seq_printf(m, "chunks_2m %lld\n", atomic64_read(&s->chunks[0]));
	seq_printf(m, "chunks_64k %lld\n", atomic64_read(&s->chunks[1]));
	seq_printf(m, "chunks_4k %lld\n", atomic64_read(&s->chunks[2]));
	seq_printf(m, "ranges_live %lld\n", atomic64_read(&s->ranges_live));
	seq_printf(m, "ranges_collected %lld\n",
		   atomic64_read(&s->ranges_collected));
	seq_printf(m, "invalidations %lld\n", atomic64_read(&s->invalidations));
	seq_printf(m, "tlb_invals %lld\n", atomic64_read(&s->tlb_invals));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gsvm_svm_stats);

/**
 * gsvm_svm_module_init() - Report the SVM mode, create the debugfs files
 * @dir: gsvm's debugfs directory.
 */
void gsvm_svm_module_init(struct dentry *dir)
{
	debugfs_create_file("svm_stats", 0444, dir, NULL, &gsvm_svm_stats_fops);
	pr_info("gsvm: SVM invalidation is %s\n", gsvm_svm_two_pass_built ?
		"two-pass (drm_gpusvm has two-pass ops)" :
		"single-pass (this kernel's drm_gpusvm has no two-pass ops)");
}
