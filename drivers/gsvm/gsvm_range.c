// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 */

#include <linux/dma-fence.h>
#include <linux/error-injection.h>
#include <linux/interval_tree.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <kunit/visibility.h>

#include <gsvm/gsvm.h>

#include "gsvm_internal.h"
#include "gsvm_trace.h"

/**
 * DOC: Two-pass invalidation
 *
 * Every &struct gsvm_range owns one &struct mmu_interval_notifier on the
 * mirrored mm. When N GPUs mirror one buffer, an invalidation of that buffer
 * finds N notifiers. The mm core calls every notifier's start pass before
 * any finish pass, so gsvm splits the work:
 *
 * - **start** (gsvm_range_invalidate_start()): returns false at once for a
 *   non-blockable range, before touching anything. Otherwise it takes the
 *   mirror's notifier lock in write mode, calls mmu_interval_set_seq(), zaps
 *   the GPU PTEs and *submits* a TLB invalidation, then hands back the
 *   finish object embedded in the range. No allocation, no waiting.
 * - **finish** (gsvm_range_invalidate_finish()): *waits* for the
 *   invalidation's fence, then DMA-unmaps the pages and frees the embedded
 *   finish object for the next invalidation.
 *
 * N GPUs therefore cost about one TLB invalidation latency instead of N.
 *
 * Concurrent invalidations of one range are legal. The finish object is
 * embedded, so only one invalidation at a time may defer its wait: a start
 * pass that finds it in use (&gsvm_range.finish_inuse) does the whole job
 * synchronously, including waiting for the pending invalidation it
 * overlaps, and returns NULL. The same synchronous path serves the
 * single-pass mode (module parameter ``two_pass=0``), which reproduces what
 * drm_gpusvm, Xe SVM, amdkfd and nouveau do today and exists to be measured
 * against.
 *
 * A range that has no live GPU PTEs needs no TLB invalidation: start only
 * bumps the sequence number and drops the DMA mappings.
 *
 * GPU work that cannot take page faults (a VM in dma-fence mode) must not
 * lose its translations while it runs. A backend with such work provides
 * &gsvm_backend_ops.gpu_idle and &gsvm_backend_ops.gpu_wait_idle: if the
 * GPU is busy, the start pass only kicks the work and defers the wait, the
 * zap and the TLB invalidation to the finish pass, so that N busy GPUs
 * still wait for their work concurrently, as xe_userptr.c does with the VM's
 * reservation fences. The busy fallback waits for the work under the
 * notifier lock, which is allowed because that work's completion never
 * depends on memory allocation or fault servicing.
 *
 * Every invalidation also queues the range on &gsvm_mirror.invalidated,
 * from which gsvm_mirror_revalidate() rebinds it before the driver queues
 * dma-fence work (a fault-mode VM revalidates on the GPU fault instead).
 *
 * Validity is sequence based: a range is (re)validated under
 * &gsvm_mirror.lock with drm_gpusvm_get_pages(), whose
 * mmu_interval_read_begin() waits for every in-flight invalidation, and its
 * PTEs are only written if mmu_interval_read_retry() says no invalidation
 * started since, checked under the notifier lock in read mode.
 */

/* Validation attempts before giving up with -EBUSY. */
#define GSVM_VALIDATE_TRIES	16

/*
 * Debug only, for the self-checks: the busy fallback returns without
 * waiting for the invalidation in flight, as Xe's userptr busy fallback
 * does today (xe_vma_userptr_do_inval() with a zero tile mask). Set through
 * /sys/kernel/debug/gsvm/xe_busy_fallback.
 */
bool gsvm_xe_busy_fallback;

bool gsvm_two_pass = true;
module_param_named(two_pass, gsvm_two_pass, bool, 0644);
MODULE_PARM_DESC(two_pass,
		 "Defer TLB invalidation waits to the notifier's finish pass (default: Y). N: wait in the start pass, GPU by GPU. Userptr: per invalidation; SVM: for VMs created afterwards.");

static unsigned long gsvm_range_npages(const struct gsvm_range *range)
{
	return range->size >> PAGE_SHIFT;
}

static void gsvm_notifier_lock_write(struct gsvm_mirror *mirror)
{
	down_write(&mirror->gpusvm.notifier_lock);
}

static void gsvm_notifier_unlock_write(struct gsvm_mirror *mirror)
{
	up_write(&mirror->gpusvm.notifier_lock);
}

static void gsvm_assert_notifier_write_locked(struct gsvm_mirror *mirror)
{
	lockdep_assert_held_write(&mirror->gpusvm.notifier_lock);
}

static void gsvm_range_unmap_pages(struct gsvm_range *range)
{
	struct gsvm_mirror *mirror = range->mirror;
	struct drm_gpusvm_ctx ctx = {
		.in_notifier = true,
		.read_only = range->read_only,
	};

	gsvm_assert_notifier_write_locked(mirror);
	gsvm_unmap_pages(mirror, &range->pages, gsvm_range_npages(range), &ctx);
}

static void gsvm_range_tlb_inval_sync(struct gsvm_range *range)
{
	struct gsvm_mirror *mirror = range->mirror;
	struct gsvm_tlb_inval_fence fence;

	gsvm_op_tlb_inval_submit(mirror, &fence, gsvm_range_gpu_start(range),
				 range->size);
	gsvm_tlb_inval_wait(mirror, &fence);
}

/* Queue @range for gsvm_mirror_revalidate(); notifier lock held (write). */
static void gsvm_range_mark_invalid(struct gsvm_range *range)
{
	struct gsvm_mirror *mirror = range->mirror;

	gsvm_assert_notifier_write_locked(mirror);
	spin_lock(&mirror->inval_lock);
	/* A range being revalidated stays on that list; validation rechecks. */
	if (list_empty(&range->inval_link))
		list_add_tail(&range->inval_link, &mirror->invalidated);
	spin_unlock(&mirror->inval_lock);
}

/* Zap @range; true if it had live PTEs. Notifier lock held (write). */
static bool gsvm_range_zap(struct gsvm_range *range)
{
	struct gsvm_mirror *mirror = range->mirror;

	gsvm_assert_notifier_write_locked(mirror);

	if (!range->gpu_mapped)
		return false;
	range->gpu_mapped = false;
	return gsvm_op_zap(mirror, gsvm_range_gpu_start(range), range->size);
}

/*
 * Zap @range and, if it had live PTEs, submit a TLB invalidation into its
 * own fence. Notifier lock held (write), @range->inval_fence free.
 */
static bool gsvm_range_zap_submit(struct gsvm_range *range)
{
	struct gsvm_mirror *mirror = range->mirror;

	if (!gsvm_range_zap(range))
		return false;

	gsvm_op_tlb_inval_submit(mirror, &range->inval_fence,
				 gsvm_range_gpu_start(range), range->size);
	range->inval_armed = true;
	return true;
}

/**
 * gsvm_range_inval_pass1() - Zap a range and start its TLB invalidation
 * @range: The range being invalidated.
 * @two_pass: Whether the wait may be deferred to the finish pass.
 *
 * Called with the notifier lock held in write mode, after
 * mmu_interval_set_seq().
 *
 * If the backend reports GPU work that cannot fault still running on the
 * VM (&gsvm_backend_ops.gpu_idle), the zap must wait for it: the start
 * pass only kicks it and defers the wait, the zap and the TLB invalidation
 * to the finish pass.
 *
 * Return: The finish object if the remaining work was deferred, NULL if
 * everything is done.
 */
VISIBLE_IF_KUNIT struct mmu_interval_notifier_finish *
gsvm_range_inval_pass1(struct gsvm_range *range, bool two_pass)
{
	struct gsvm_mirror *mirror = range->mirror;
	bool gpu_busy;

	gsvm_assert_notifier_write_locked(mirror);
	gsvm_range_mark_invalid(range);

	/* Without live PTEs there is nothing to take away from the GPU. */
	gpu_busy = range->gpu_mapped && mirror->ops->gpu_idle &&
		   !gsvm_op_gpu_idle(mirror);
	if (gpu_busy && two_pass && !range->finish_inuse) {
		range->finish_inuse = true;
		range->zap_deferred = true;
		return &range->finish;
	}
	if (gpu_busy)
		mirror->ops->gpu_wait_idle(mirror);

	if (!range->finish_inuse) {
		if (!gsvm_range_zap_submit(range)) {
			gsvm_range_unmap_pages(range);
			return NULL;
		}
		if (two_pass) {
			range->finish_inuse = true;
			return &range->finish;
		}

		if (unlikely(READ_ONCE(gsvm_dma_unmap_before_wait)))
			gsvm_range_unmap_pages(range);
		gsvm_tlb_inval_wait(mirror, &range->inval_fence);
		gsvm_range_unmap_pages(range);
		return NULL;
	}

	/*
	 * A concurrent invalidation owns the finish object and may not have
	 * waited yet. Its fence cannot be re-armed while we hold the notifier
	 * lock, so wait for it here too: the CPU must not reuse the pages
	 * before every TLB invalidation covering them has completed.
	 */
	if (gsvm_range_zap(range))
		gsvm_range_tlb_inval_sync(range);
	if (range->inval_armed && !READ_ONCE(gsvm_xe_busy_fallback))
		gsvm_tlb_inval_wait(mirror, &range->inval_fence);
	gsvm_range_unmap_pages(range);
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(gsvm_range_inval_pass1);

/**
 * gsvm_range_inval_pass2() - Complete a deferred invalidation
 * @range: The range whose start pass returned its finish object.
 *
 * If the start pass found the GPU busy, waits for it first, then zaps and
 * submits the TLB invalidation. Waits for the TLB invalidation without
 * holding the notifier lock (no binder can run: mmu_interval_read_begin()
 * waits for this pass), then DMA-unmaps the pages and releases the finish
 * object.
 */
VISIBLE_IF_KUNIT void gsvm_range_inval_pass2(struct gsvm_range *range)
{
	struct gsvm_mirror *mirror = range->mirror;
	bool need_inval = true;

	/* Only this invalidation's start pass set it; nobody else clears it. */
	if (READ_ONCE(range->zap_deferred)) {
		mirror->ops->gpu_wait_idle(mirror);
		gsvm_notifier_lock_write(mirror);
		range->zap_deferred = false;
		need_inval = gsvm_range_zap_submit(range);
		gsvm_notifier_unlock_write(mirror);
	}

	if (need_inval && unlikely(READ_ONCE(gsvm_dma_unmap_before_wait))) {
		gsvm_notifier_lock_write(mirror);
		gsvm_range_unmap_pages(range);
		gsvm_notifier_unlock_write(mirror);
	}
	if (need_inval)
		gsvm_tlb_inval_wait(mirror, &range->inval_fence);

	gsvm_notifier_lock_write(mirror);
	WARN_ON_ONCE(!range->finish_inuse);
	gsvm_range_unmap_pages(range);
	range->finish_inuse = false;
	gsvm_notifier_unlock_write(mirror);
}
EXPORT_SYMBOL_IF_KUNIT(gsvm_range_inval_pass2);

static bool gsvm_range_invalidate_start(struct mmu_interval_notifier *mni,
					const struct mmu_notifier_range *mrange,
					unsigned long cur_seq,
					struct mmu_interval_notifier_finish **finish)
{
	struct gsvm_range *range = container_of(mni, struct gsvm_range, notifier);
	struct gsvm_mirror *mirror = range->mirror;

	if (!mmu_notifier_range_blockable(mrange))
		return false;

	trace_gsvm_inval_start_begin(range);

	gsvm_notifier_lock_write(mirror);
	mmu_interval_set_seq(mni, cur_seq);
	*finish = gsvm_range_inval_pass1(range, READ_ONCE(gsvm_two_pass));
	gsvm_notifier_unlock_write(mirror);

	trace_gsvm_inval_start_end(range, !!*finish);
	return true;
}

static void gsvm_range_invalidate_finish(struct mmu_interval_notifier_finish *finish)
{
	struct gsvm_range *range = container_of(finish, struct gsvm_range, finish);

	trace_gsvm_inval_finish_begin(range);
	gsvm_range_inval_pass2(range);
	trace_gsvm_inval_finish_end(range);
}

VISIBLE_IF_KUNIT const struct mmu_interval_notifier_ops gsvm_range_notifier_ops = {
	.invalidate_start = gsvm_range_invalidate_start,
	.invalidate_finish = gsvm_range_invalidate_finish,
};
EXPORT_SYMBOL_IF_KUNIT(gsvm_range_notifier_ops);

/**
 * gsvm_range_validate() - Mirror a range's pages and map them on the GPU
 * @range: The range.
 *
 * Faults the CPU pages in and DMA-maps them (drm_gpusvm_get_pages(), which
 * returns at once if the mapping is still valid), then writes the GPU PTEs
 * unless an invalidation started meanwhile, in which case it starts over.
 *
 * On success the range leaves &gsvm_mirror.invalidated.
 *
 * Not inlined, and on the error-injection list: tests make it fail to
 * reach the error paths of bind, fault and revalidation.
 *
 * Return: 0, -EFAULT if the CPU range is no longer (fully) mapped or lacks
 * the needed access, -ENOMEM, -EBUSY if invalidations kept racing with it
 * %GSVM_VALIDATE_TRIES times, -EIO if the mirror is wedged.
 */
static noinline int gsvm_range_validate(struct gsvm_range *range)
{
	struct gsvm_mirror *mirror = range->mirror;
	struct drm_gpusvm_ctx ctx = {
		.read_only = range->read_only,
	};
	unsigned int tries;
	int err;

	lockdep_assert_held(&mirror->lock);
	trace_gsvm_range_validate(range);

	for (tries = 0; tries < GSVM_VALIDATE_TRIES; tries++) {
		if (gsvm_mirror_wedged(mirror))
			return -EIO;
		err = drm_gpusvm_get_pages(&mirror->gpusvm, &range->pages,
					   mirror->mm, &range->notifier,
					   range->cpu_start,
					   range->cpu_start + range->size, &ctx);
		if (err)
			return err == -EPERM ? -EFAULT : err;

		drm_gpusvm_notifier_lock(&mirror->gpusvm);
		if (mmu_interval_read_retry(&range->notifier,
					    range->pages.notifier_seq) ||
		    gsvm_mirror_wedged(mirror)) {
			drm_gpusvm_notifier_unlock(&mirror->gpusvm);
			continue;
		}
		if (!range->gpu_mapped) {
			gsvm_op_bind(mirror, gsvm_range_gpu_start(range),
				     range->pages.dma_addr,
				     gsvm_range_npages(range),
				     range->read_only);
			WRITE_ONCE(range->gpu_mapped, true);
		}
		spin_lock(&mirror->inval_lock);
		list_del_init(&range->inval_link);
		spin_unlock(&mirror->inval_lock);
		drm_gpusvm_notifier_unlock(&mirror->gpusvm);
		return 0;
	}

	return -EBUSY;
}
ALLOW_ERROR_INJECTION(gsvm_range_validate, ERRNO);

static struct gsvm_range *gsvm_range_lookup(struct gsvm_mirror *mirror,
					    u64 start, u64 last)
{
	struct interval_tree_node *node;

	lockdep_assert_held(&mirror->lock);
	node = interval_tree_iter_first(&mirror->ranges, start, last);
	return node ? container_of(node, struct gsvm_range, itree) : NULL;
}

/* Tear a range down. Its notifier must not be inserted any more. */
static void gsvm_range_teardown(struct gsvm_range *range)
{
	struct gsvm_mirror *mirror = range->mirror;

	spin_lock(&mirror->inval_lock);
	list_del(&range->inval_link);
	spin_unlock(&mirror->inval_lock);

	gsvm_notifier_lock_write(mirror);
	if (gsvm_range_zap(range))
		gsvm_range_tlb_inval_sync(range);
	WARN_ON_ONCE(range->finish_inuse);
	gsvm_notifier_unlock_write(mirror);

	gsvm_free_pages(mirror, &range->pages, gsvm_range_npages(range));
	if (mirror->ops->unprepare)
		mirror->ops->unprepare(mirror, gsvm_range_gpu_start(range),
				       range->size);
}

/**
 * gsvm_range_destroy() - Remove a range from its mirror and free it
 * @range: The range, which must be in &gsvm_mirror.ranges.
 *
 * Waits for the backend's dma-fence work (&gsvm_backend_ops.gpu_wait_idle),
 * removes the notifier (waiting for any invalidation in flight), then
 * zaps the PTEs, invalidates the TLB and drops the pages. On return the GPU
 * can no longer reach the memory. Called with &gsvm_mirror.lock held.
 */
void gsvm_range_destroy(struct gsvm_range *range)
{
	struct gsvm_mirror *mirror = range->mirror;

	lockdep_assert_held(&mirror->lock);

	/* dma-fence work must not lose its translations under it. */
	if (mirror->ops->gpu_wait_idle)
		mirror->ops->gpu_wait_idle(mirror);

	interval_tree_remove(&range->itree, &mirror->ranges);
	mmu_interval_notifier_remove(&range->notifier);
	gsvm_range_teardown(range);
	kfree(range);
	atomic64_dec(&gsvm_stats.ranges_live);
}

/**
 * gsvm_range_destroy_all() - Remove and free every range of a mirror
 * @mirror: The mirror.
 *
 * As gsvm_range_destroy() on each range, but with one TLB invalidation for
 * all of them: every notifier is removed first (waiting for invalidations
 * in flight), then every range is zapped under one write hold of the
 * notifier lock, one invalidation covering the span of the zapped ones is
 * submitted and waited for, and only then are the pages dropped. A VM
 * with thousands of bindings is torn down in one TLB latency, not
 * thousands. Called with &gsvm_mirror.lock held.
 */
void gsvm_range_destroy_all(struct gsvm_mirror *mirror)
{
	struct gsvm_tlb_inval_fence fence;
	struct interval_tree_node *node;
	struct gsvm_range *range, *next;
	u64 start = U64_MAX, end = 0;
	LIST_HEAD(dead);

	lockdep_assert_held(&mirror->lock);
	if (RB_EMPTY_ROOT(&mirror->ranges.rb_root))
		return;

	/* dma-fence work must not lose its translations under it. */
	if (mirror->ops->gpu_wait_idle)
		mirror->ops->gpu_wait_idle(mirror);

	while ((node = interval_tree_iter_first(&mirror->ranges, 0, ULONG_MAX))) {
		range = container_of(node, struct gsvm_range, itree);
		interval_tree_remove(node, &mirror->ranges);
		mmu_interval_notifier_remove(&range->notifier);
		/* No notifier queues it for revalidation any more. */
		spin_lock(&mirror->inval_lock);
		list_move_tail(&range->inval_link, &dead);
		spin_unlock(&mirror->inval_lock);
	}

	gsvm_notifier_lock_write(mirror);
	list_for_each_entry(range, &dead, inval_link) {
		WARN_ON_ONCE(range->finish_inuse);
		if (gsvm_range_zap(range)) {
			start = min(start, gsvm_range_gpu_start(range));
			end = max(end, gsvm_range_gpu_start(range) + range->size);
		}
	}
	if (end) {
		gsvm_op_tlb_inval_submit(mirror, &fence, start, end - start);
		gsvm_tlb_inval_wait(mirror, &fence);
	}
	gsvm_notifier_unlock_write(mirror);

	list_for_each_entry_safe(range, next, &dead, inval_link) {
		list_del(&range->inval_link);
		gsvm_free_pages(mirror, &range->pages, gsvm_range_npages(range));
		if (mirror->ops->unprepare)
			mirror->ops->unprepare(mirror, gsvm_range_gpu_start(range),
					       range->size);
		kfree(range);
		atomic64_dec(&gsvm_stats.ranges_live);
	}
}

static bool gsvm_range_args_valid(unsigned long cpu_start, u64 gpu_start, u64 size)
{
	return size && PAGE_ALIGNED(size) && PAGE_ALIGNED(cpu_start) &&
	       PAGE_ALIGNED(gpu_start) && cpu_start + size > cpu_start &&
	       gpu_start + size > gpu_start;
}

/*
 * Whether every page of [@start, @start + @size) lies in a VMA that allows
 * the access (write too unless @read_only): checked before anything is
 * allocated for the range, so that a bind of memory that is not there
 * costs nothing. drm_gpusvm_get_pages() checks again, page by page.
 */
static int gsvm_cpu_range_check(struct mm_struct *mm, unsigned long start,
				unsigned long size, bool read_only)
{
	unsigned long end = start + size, addr = start;
	struct vm_area_struct *vma;
	int err = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	while (addr < end) {
		vma = vma_lookup(mm, addr);
		if (!vma || !(vma->vm_flags & VM_READ) ||
		    (!read_only && !(vma->vm_flags & VM_WRITE))) {
			err = -EFAULT;
			break;
		}
		addr = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return err;
}

/* Its own function, so that fail_function can make it fail. */
static noinline struct gsvm_range *gsvm_range_alloc(void)
{
	return kzalloc_obj(struct gsvm_range, GFP_KERNEL_ACCOUNT);
}
ALLOW_ERROR_INJECTION(gsvm_range_alloc, NULL);

/**
 * gsvm_range_bind() - Mirror a CPU range at a GPU virtual address
 * @mirror: The mirror; must be called from a task using @mirror's mm.
 * @cpu_start: CPU virtual address, page aligned.
 * @gpu_start: GPU virtual address, page aligned.
 * @size: Size in bytes, page aligned, non-zero.
 * @read_only: The GPU may only read the range.
 *
 * Inserts the range's interval notifier, faults the pages in and maps them
 * on the GPU. The binding then follows the CPU mapping: invalidations zap
 * it, and GPU faults (gsvm_handle_fault()) revalidate it.
 *
 * Return: 0, -EINVAL for bad arguments (including a GPU range below
 * &gsvm_mirror.svm_end of an SVM mirror), -EEXIST if the GPU range overlaps
 * another range, -EFAULT if the CPU range is not fully mapped with the
 * needed access, -E2BIG for a range over %GSVM_RANGE_MAX_PAGES pages,
 * -ENOMEM, -EINTR if the caller was killed meanwhile, -EBUSY if the CPU
 * mapping kept changing while it was mirrored, -EIO if the mirror is wedged
 * (DOC: TLB invalidation timeouts).
 */
int gsvm_range_bind(struct gsvm_mirror *mirror, unsigned long cpu_start,
		    u64 gpu_start, u64 size, bool read_only)
{
	struct gsvm_range *range;
	int err;

	if (!gsvm_range_args_valid(cpu_start, gpu_start, size))
		return -EINVAL;
	/* The SVM part of the GPU VA space is the CPU's, one to one. */
	if (gpu_start < mirror->svm_end)
		return -EINVAL;
	if (current->mm != mirror->mm)
		return -EPERM;
	/* drm_gpusvm_get_pages() allocates its arrays with kvmalloc(). */
	if ((size >> PAGE_SHIFT) > GSVM_RANGE_MAX_PAGES)
		return -E2BIG;
	if (gsvm_mirror_wedged(mirror))
		return -EIO;
	err = gsvm_cpu_range_check(mirror->mm, cpu_start, size, read_only);
	if (err)
		return err;

	range = gsvm_range_alloc();
	if (!range)
		return -ENOMEM;

	range->mirror = mirror;
	range->cpu_start = cpu_start;
	range->size = size;
	range->read_only = read_only;
	range->itree.start = gpu_start;
	range->itree.last = gpu_start + size - 1;
	INIT_LIST_HEAD(&range->inval_link);
	drm_gpusvm_init_pages(&range->pages, mirror->drm);

	mutex_lock(&mirror->lock);
	if (gsvm_range_lookup(mirror, range->itree.start, range->itree.last)) {
		err = -EEXIST;
		goto err_unlock;
	}

	err = mirror->ops->prepare(mirror, gpu_start, size);
	if (err)
		goto err_unlock;

	err = mmu_interval_notifier_insert(&range->notifier, mirror->mm,
					   cpu_start, size,
					   &gsvm_range_notifier_ops);
	if (err)
		goto err_unprepare;

	err = gsvm_range_validate(range);
	if (err)
		goto err_remove;

	interval_tree_insert(&range->itree, &mirror->ranges);
	atomic64_inc(&gsvm_stats.ranges_live);
	mutex_unlock(&mirror->lock);
	return 0;

err_remove:
	mmu_interval_notifier_remove(&range->notifier);
	gsvm_range_teardown(range);
	mutex_unlock(&mirror->lock);
	kfree(range);
	return err;

err_unprepare:
	if (mirror->ops->unprepare)
		mirror->ops->unprepare(mirror, gpu_start, size);
err_unlock:
	mutex_unlock(&mirror->lock);
	kfree(range);
	return err;
}
EXPORT_SYMBOL_NS_GPL(gsvm_range_bind, "GSVM");

/**
 * gsvm_range_unbind() - Remove the range bound exactly at a GPU address
 * @mirror: The mirror.
 * @gpu_start: GPU virtual address the range was bound at.
 * @size: Its size.
 *
 * On return the GPU can no longer reach the memory.
 *
 * Return: 0, or -ENOENT if no range matches exactly.
 */
int gsvm_range_unbind(struct gsvm_mirror *mirror, u64 gpu_start, u64 size)
{
	struct gsvm_range *range;
	int err = -ENOENT;

	if (!size || gpu_start + size < gpu_start)
		return -ENOENT;

	mutex_lock(&mirror->lock);
	range = gsvm_range_lookup(mirror, gpu_start, gpu_start + size - 1);
	if (range && gsvm_range_gpu_start(range) == gpu_start &&
	    range->size == size) {
		gsvm_range_destroy(range);
		err = 0;
	}
	mutex_unlock(&mirror->lock);
	return err;
}
EXPORT_SYMBOL_NS_GPL(gsvm_range_unbind, "GSVM");

/**
 * gsvm_handle_fault() - Service a GPU page fault
 * @mirror: The mirror of the faulting GPU VM.
 * @gpu_addr: The faulting GPU virtual address.
 * @write: The access was a write.
 *
 * Revalidates the range covering @gpu_addr, so that the GPU can replay the
 * access. On an SVM mirror, an address below &gsvm_mirror.svm_end that no
 * userptr range covers is SVM memory (see DOC: SVM). Sleeps; may allocate.
 * Must not be called from a notifier.
 *
 * Return: 0 if the access can be replayed, -EFAULT if no range covers
 * @gpu_addr or its CPU memory is gone, -EACCES for a write to a read-only
 * range, -ENOMEM, -EBUSY if invalidations kept racing with the fault, -EIO
 * if the mirror is wedged.
 */
int gsvm_handle_fault(struct gsvm_mirror *mirror, u64 gpu_addr, bool write)
{
	struct gsvm_range *range;
	int err;

	mutex_lock(&mirror->lock);
	range = gsvm_range_lookup(mirror, gpu_addr, gpu_addr);
	if (!range && gpu_addr < mirror->svm_end) {
		err = gsvm_svm_fault(mirror, gpu_addr, write);
		mutex_unlock(&mirror->lock);
		return err;
	}
	if (!range)
		err = -EFAULT;
	else if (write && range->read_only)
		err = -EACCES;
	else
		err = gsvm_range_validate(range);
	mutex_unlock(&mirror->lock);

	trace_gsvm_fault(mirror, gpu_addr, write, err);
	return err;
}
EXPORT_SYMBOL_NS_GPL(gsvm_handle_fault, "GSVM");

/**
 * gsvm_mirror_revalidate() - Revalidate every range invalidated since its
 *	last validation
 * @mirror: The mirror; must be called from a task using @mirror's mm.
 *
 * For a VM whose GPU work cannot fault (dma-fence mode), the driver calls
 * this before queuing GPU work, then checks gsvm_mirror_valid() under the
 * notifier lock before publishing the work's fence, and starts over if an
 * invalidation came in between. A range whose CPU memory is gone
 * (-EFAULT) is left unmapped and no longer revalidated, as Xe does with
 * userptrs: a GPU access to it faults.
 *
 * Return: 0, -ENOMEM, -EBUSY if invalidations kept racing with a range,
 * -EIO if the mirror is wedged.
 */
int gsvm_mirror_revalidate(struct gsvm_mirror *mirror)
{
	struct gsvm_range *range;
	unsigned int budget = GSVM_VALIDATE_TRIES;
	int err = 0;

	if (current->mm != mirror->mm)
		return -EPERM;

	mutex_lock(&mirror->lock);
	spin_lock(&mirror->inval_lock);
	list_for_each_entry(range, &mirror->invalidated, inval_link)
		budget++;

	/*
	 * Ranges stay on the list while they are validated, so that
	 * gsvm_mirror_valid() says false meanwhile. Each pass takes one off
	 * (validated, or memory gone); invalidations may queue more, hence
	 * the budget.
	 */
	while ((range = list_first_entry_or_null(&mirror->invalidated,
						 struct gsvm_range, inval_link))) {
		if (!budget--) {
			err = -EBUSY;
			break;
		}
		spin_unlock(&mirror->inval_lock);

		/* Leaves the list on success. */
		err = gsvm_range_validate(range);

		spin_lock(&mirror->inval_lock);
		if (err == -EFAULT) {
			list_del_init(&range->inval_link);
			err = 0;
		}
		if (err)
			break;
	}
	spin_unlock(&mirror->inval_lock);
	mutex_unlock(&mirror->lock);

	return err;
}
EXPORT_SYMBOL_NS_GPL(gsvm_mirror_revalidate, "GSVM");

/**
 * gsvm_mirror_valid() - Whether no range awaits revalidation
 * @mirror: The mirror.
 *
 * Called with the notifier lock held (drm_gpusvm_notifier_lock()), which
 * keeps the answer true until it is dropped.
 *
 * Return: true if every range is either validated at its current sequence
 * number or known to have lost its CPU memory.
 */
bool gsvm_mirror_valid(struct gsvm_mirror *mirror)
{
	bool valid;

	lockdep_assert_held(&mirror->gpusvm.notifier_lock);

	spin_lock(&mirror->inval_lock);
	valid = list_empty(&mirror->invalidated);
	spin_unlock(&mirror->inval_lock);
	return valid;
}
EXPORT_SYMBOL_NS_GPL(gsvm_mirror_valid, "GSVM");
