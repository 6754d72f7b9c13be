// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 */

#include <linux/debugfs.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>

#include <drm/drm_device.h>
#include <drm/drm_print.h>

#include <gsvm/gsvm.h>

#include "gsvm_internal.h"

/**
 * DOC: Overview
 *
 * gsvm keeps GPU page tables in step with a process's CPU page tables, for
 * any number of GPUs, and makes a CPU-side invalidation cost about one GPU
 * TLB invalidation latency however many GPUs mirror the memory.
 *
 * A GPU driver embeds one &struct gsvm_mirror in each GPU VM that mirrors a
 * process (one per process mm and GPU) and implements
 * &struct gsvm_backend_ops: page-table preparation, PTE writes and zaps, and
 * TLB invalidation as submit and wait, the shape of Xe's
 * xe_tlb_inval_range_tilemask_submit() and xe_tlb_inval_batch_wait().
 * Userptr bindings are &struct gsvm_range objects created with
 * gsvm_range_bind(); GPU page faults are serviced by gsvm_handle_fault().
 *
 * Pages are mirrored with drm_gpusvm's pages API (drm_gpusvm_get_pages(),
 * drm_gpusvm_unmap_pages(), drm_gpusvm_free_pages()) behind gsvm's own
 * two-pass notifiers, exactly as xe_userptr.c does: drm_gpusvm's own
 * notifier is single-pass, its page layer is not.
 */

/**
 * DOC: Locking
 *
 * Per mirror, outermost first:
 *
 * - &gsvm_mirror.lock (mutex) serialises bind, unbind, fault servicing and
 *   teardown and protects &gsvm_mirror.ranges. Never taken by a notifier, so
 *   it may be held while allocating and while faulting CPU pages
 *   (mmap_lock nests inside it).
 * - the notifier lock, &drm_gpusvm.notifier_lock of &gsvm_mirror.gpusvm
 *   (rw_semaphore). Write mode: the notifier passes and teardown; they zap
 *   PTEs, submit TLB invalidations and own &gsvm_range.finish_inuse. Read
 *   mode: binders, between mmu_interval_read_retry() and writing PTEs.
 *   Held across nothing that allocates or can enter reclaim: lockdep is
 *   primed with fs_reclaim at init (drm_gpusvm_init()) so that a violation
 *   is reported on first use.
 *
 * - &gsvm_mirror.inval_lock (spinlock), innermost: protects
 *   &gsvm_mirror.invalidated. Taken by the notifier passes under the
 *   notifier lock and by gsvm_mirror_revalidate() under &gsvm_mirror.lock.
 *
 * &gsvm_range.gpu_mapped is written under the notifier lock in write mode,
 * or in read mode with &gsvm_mirror.lock held (binders are serialised by
 * the mutex, invalidations exclude all binders).
 *
 * Notifier passes never allocate, never take &gsvm_mirror.lock and never
 * call mmu_interval_notifier_remove(). A TLB fence, or the backend's
 * dma-fence work (&gsvm_backend_ops.gpu_wait_idle), is waited for either in
 * the finish pass without any gsvm lock, or in the synchronous fallback
 * under the notifier lock (write).
 */

/**
 * DOC: TLB invalidation timeouts
 *
 * A TLB invalidation that times out (&gsvm_backend_ops.tlb_inval_wait
 * returns -ETIME) is a hard event, not a success: the GPU may still
 * translate through what the invalidation was to drop, so handing the
 * pages back to the CPU then would let the GPU reach memory that is
 * reused. gsvm_tlb_inval_wait() therefore counts it, warns once, and asks
 * the backend to recover (&gsvm_backend_ops.tlb_inval_reset: a full
 * invalidation or a reset, waited for). Only if that succeeds is the
 * invalidation treated as done and the pages DMA-unmapped.
 *
 * If the backend cannot recover (or has no such op), the mirror is
 * wedged (&gsvm_mirror.wedged): no page is DMA-unmapped any more, binds,
 * revalidation and fault servicing fail with -EIO, and the SVM garbage
 * collector stops. gsvm_mirror_fini() tries to recover once more; if that
 * fails too, the DMA mappings of the mirror are left in place, and their
 * bookkeeping leaked, on purpose: memory a GPU may still reach is never
 * handed back.
 *
 * Counters in debugfs ``stats``: ``tlb_inval_timeouts``,
 * ``tlb_inval_recovered``, ``mirrors_wedged``.
 */

struct gsvm_stats gsvm_stats;

/* The backend's recovery, counted; -EOPNOTSUPP without one. */
static int gsvm_tlb_inval_recover(struct gsvm_mirror *mirror)
{
	int err;

	if (!mirror->ops->tlb_inval_reset)
		return -EOPNOTSUPP;
	err = mirror->ops->tlb_inval_reset(mirror);
	if (!err)
		atomic64_inc(&gsvm_stats.tlb_inval_recovered);
	return err;
}

/**
 * gsvm_tlb_inval_wait() - Wait for a TLB invalidation, recovering from a timeout
 * @mirror: The mirror.
 * @fence: A fence &gsvm_backend_ops.tlb_inval_submit armed.
 *
 * See DOC: TLB invalidation timeouts. Never allocates; may be called with
 * or without the notifier lock held (write).
 *
 * Return: 0 if the GPU can no longer use a translation the invalidation
 * covers, -EIO if it may: the mirror is wedged (it may already have been)
 * and the caller must leave the pages DMA-mapped.
 */
int gsvm_tlb_inval_wait(struct gsvm_mirror *mirror,
			struct gsvm_tlb_inval_fence *fence)
{
	int err;

	err = mirror->ops->tlb_inval_wait(mirror, fence);
	if (likely(!err))
		return 0;

	atomic64_inc(&gsvm_stats.tlb_inval_timeouts);
	drm_warn_once(mirror->drm, "%s: TLB invalidation timed out (%d), recovering\n",
		      mirror->name, err);
	err = gsvm_tlb_inval_recover(mirror);
	if (!err)
		return 0;

	if (!xchg(&mirror->wedged, true)) {
		atomic64_inc(&gsvm_stats.mirrors_wedged);
		drm_err(mirror->drm,
			"%s: TLB recovery failed (%d): mirror wedged, its pages stay DMA-mapped\n",
			mirror->name, err);
	}
	return -EIO;
}

/* Teardown: one more recovery for a wedged mirror; false if still wedged. */
static bool gsvm_mirror_unwedge(struct gsvm_mirror *mirror)
{
	if (!gsvm_mirror_wedged(mirror))
		return true;
	if (!gsvm_tlb_inval_recover(mirror)) {
		WRITE_ONCE(mirror->wedged, false);
		return true;
	}
	drm_err(mirror->drm, "%s: torn down wedged: leaving its DMA mappings in place\n",
		mirror->name);
	return false;
}

static int __gsvm_mirror_init(struct gsvm_mirror *mirror, struct drm_device *drm,
			      const struct gsvm_backend_ops *ops,
			      struct mm_struct *mm, const char *name, u64 svm_end)
{
	int err;

	if (!ops->prepare || !ops->bind || !ops->zap ||
	    !ops->tlb_inval_submit || !ops->tlb_inval_wait ||
	    !ops->gpu_idle != !ops->gpu_wait_idle)
		return -EINVAL;
	/* SVM memory faults: no dma-fence work may run on an SVM mirror. */
	if (svm_end && ops->gpu_idle)
		return -EINVAL;

	mirror->drm = drm;
	mirror->ops = ops;
	mirror->name = name;
	mirror->mm = mm;
	mirror->ranges = RB_ROOT_CACHED;
	mirror->wedged = false;
	mutex_init(&mirror->lock);
	spin_lock_init(&mirror->inval_lock);
	INIT_LIST_HEAD(&mirror->invalidated);

	err = gsvm_svm_init(mirror, svm_end);
	if (err) {
		mutex_destroy(&mirror->lock);
		return err;
	}
	mmgrab(mm);

	/*
	 * Prime lockdep with the order documented in DOC: Locking, so that an
	 * inversion is reported on first use rather than when it deadlocks.
	 */
	if (IS_ENABLED(CONFIG_PROVE_LOCKING)) {
		mutex_lock(&mirror->lock);
		might_lock_read(&mm->mmap_lock);
		might_lock(&mirror->gpusvm.notifier_lock);
		might_lock(&mirror->gc_lock);
		mutex_unlock(&mirror->lock);
	}

	atomic64_inc(&gsvm_stats.mirrors_live);
	return 0;
}

/**
 * gsvm_mirror_init() - Initialise a GPU VM's mirror of a process
 * @mirror: The mirror, embedded in the driver's VM.
 * @drm: The DRM device that DMA-maps the pages.
 * @ops: The backend.
 * @mm: The address space to mirror; a reference is kept (mmgrab()).
 * @name: Name for traces (e.g. the device name); must outlive @mirror.
 *
 * The mirror mirrors what the driver binds (gsvm_range_bind()), nothing else.
 *
 * Return: 0 or a negative error code.
 */
int gsvm_mirror_init(struct gsvm_mirror *mirror, struct drm_device *drm,
		     const struct gsvm_backend_ops *ops, struct mm_struct *mm,
		     const char *name)
{
	return __gsvm_mirror_init(mirror, drm, ops, mm, name, 0);
}
EXPORT_SYMBOL_NS_GPL(gsvm_mirror_init, "GSVM");

/**
 * gsvm_mirror_init_svm() - Initialise a mirror of a whole address space
 * @mirror: The mirror, embedded in the driver's VM.
 * @drm: The DRM device that DMA-maps the pages.
 * @ops: The backend; without &gsvm_backend_ops.gpu_idle, as all GPU work of
 *	an SVM mirror takes page faults.
 * @mm: The address space to mirror; a reference is kept (mmgrab()).
 * @name: Name for traces (e.g. the device name); must outlive @mirror.
 * @svm_end: GPU virtual addresses [0, @svm_end) mirror the same CPU
 *	addresses, faulted in on GPU access (see DOC: SVM); page aligned,
 *	non-zero. Userptr ranges may only be bound above it.
 *
 * Return: 0, -EINVAL for bad arguments, or a negative error code.
 */
int gsvm_mirror_init_svm(struct gsvm_mirror *mirror, struct drm_device *drm,
			 const struct gsvm_backend_ops *ops,
			 struct mm_struct *mm, const char *name, u64 svm_end)
{
	if (!svm_end || !PAGE_ALIGNED(svm_end))
		return -EINVAL;
	return __gsvm_mirror_init(mirror, drm, ops, mm, name, svm_end);
}
EXPORT_SYMBOL_NS_GPL(gsvm_mirror_init_svm, "GSVM");

/**
 * gsvm_mirror_fini() - Tear down a mirror and every range still bound
 * @mirror: The mirror.
 *
 * On return the GPU can no longer reach any memory of the mirrored process,
 * unless the mirror is wedged and a last recovery fails too (DOC: TLB
 * invalidation timeouts). The driver must not run GPU work on the VM
 * concurrently, or must be ready for its faults to fail with -EFAULT. No
 * other call on @mirror may race with this one or follow it (except a new
 * gsvm_mirror_init()): the driver stops its binds, faults and
 * revalidations first.
 */
void gsvm_mirror_fini(struct gsvm_mirror *mirror)
{
	mutex_lock(&mirror->lock);
	gsvm_mirror_unwedge(mirror);
	/* One TLB invalidation for every range. */
	gsvm_range_destroy_all(mirror);
	mutex_unlock(&mirror->lock);

	gsvm_svm_fini(mirror);
	mmdrop(mirror->mm);
	mutex_destroy(&mirror->lock);
	atomic64_dec(&gsvm_stats.mirrors_live);
}
EXPORT_SYMBOL_NS_GPL(gsvm_mirror_fini, "GSVM");

/**
 * DOC: gsvm debugfs
 *
 * /sys/kernel/debug/gsvm/:
 *
 * - ``xe_busy_fallback`` (rw bool, default N): a bug injected for the
 *   self-checks. The busy fallback of an invalidation (a second
 *   invalidation of a range whose first one has not finished) returns
 *   without waiting for the first one's TLB invalidation, as Xe's userptr
 *   busy fallback does in 7.3.4 (xe_userptr.c: the second invalidation
 *   zaps nothing, submits for no tile and does not wait): the CPU may then
 *   reuse pages the GPU TLB still translates.
 * - ``dma_unmap_before_wait`` (rw bool, default N): a bug injected for the
 *   self-checks. An invalidation DMA-unmaps its pages before it waits for
 *   its TLB invalidation (userptr and SVM, two-pass and single-pass),
 *   while the GPU TLB may still translate to them; it still waits before
 *   the CPU may reuse the pages. simgpu's DMA model counts every GPU access
 *   in that window (DOC: simgpu DMA model).
 * - ``svm_stats`` (ro): the SVM mode (``two-pass`` or ``single-pass``) new
 *   SVM mirrors get, and module-wide SVM counters: ``faults``,
 *   ``faults_failed``, ``fault_ns`` (time spent servicing them),
 *   ``chunks_2m``, ``chunks_64k``, ``chunks_4k`` (ranges bound, by size),
 *   ``ranges_live``, ``ranges_collected`` (by the garbage collector),
 *   ``invalidations`` (start passes that zapped something) and
 *   ``tlb_invals``.
 * - ``stats`` (ro): module-wide counters of every mirror:
 *   ``tlb_inval_timeouts``, ``tlb_inval_recovered`` and ``mirrors_wedged``
 *   (DOC: TLB invalidation timeouts); and what is alive now, which returns
 *   to its value before a test once the test's files are closed:
 *   ``mirrors_live``, ``ranges_live`` (userptr ranges, each with its
 *   interval notifier) and ``svm_notifiers_live`` (drm_gpusvm notifiers of
 *   SVM mirrors; their ranges are ``ranges_live`` of ``svm_stats``).
 */

#define GSVM_STAT(name) { #name, &gsvm_stats.name }

static const struct {
	const char *name;
	atomic64_t *value;
} gsvm_stat_files[] = {
	GSVM_STAT(tlb_inval_timeouts),
	GSVM_STAT(tlb_inval_recovered),
	GSVM_STAT(mirrors_wedged),
	GSVM_STAT(mirrors_live),
	GSVM_STAT(ranges_live),
	GSVM_STAT(svm_notifiers_live),
};

static int gsvm_stats_show(struct seq_file *m, void *data)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(gsvm_stat_files); i++)
		seq_printf(m, "%s %lld\n", gsvm_stat_files[i].name,
			   atomic64_read(gsvm_stat_files[i].value));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gsvm_stats);

/*
 * Debug only, for the self-checks: an invalidation DMA-unmaps its pages
 * before waiting for its TLB invalidation. Set through
 * /sys/kernel/debug/gsvm/dma_unmap_before_wait.
 */
bool gsvm_dma_unmap_before_wait;

static struct dentry *gsvm_debugfs;

static int __init gsvm_init(void)
{
	gsvm_debugfs = debugfs_create_dir("gsvm", NULL);
	debugfs_create_bool("xe_busy_fallback", 0600, gsvm_debugfs,
			    &gsvm_xe_busy_fallback);
	debugfs_create_bool("dma_unmap_before_wait", 0600, gsvm_debugfs,
			    &gsvm_dma_unmap_before_wait);
	debugfs_create_file("stats", 0444, gsvm_debugfs, NULL, &gsvm_stats_fops);
	gsvm_svm_module_init(gsvm_debugfs);
	return 0;
}
module_init(gsvm_init);

static void __exit gsvm_exit(void)
{
	debugfs_remove_recursive(gsvm_debugfs);
}
module_exit(gsvm_exit);

MODULE_DESCRIPTION("Multi-GPU shared virtual memory manager with two-pass TLB invalidation");
MODULE_LICENSE("GPL");
