/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _GSVM_GSVM_H_
#define _GSVM_GSVM_H_

#include <linux/dma-fence.h>
#include <linux/interval_tree.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include <drm/drm_gpusvm.h>
#include <drm/drm_pagemap.h>

struct drm_device;
struct gsvm_mirror;

/**
 * GSVM_RANGE_MAX_PAGES - The largest range gsvm_range_bind() accepts, in pages
 *
 * drm_gpusvm_get_pages() allocates one &struct drm_pagemap_addr per page
 * with kvmalloc(), which refuses (with a WARN) anything over INT_MAX bytes.
 * Drivers cap bindings far lower; this is the hard limit.
 */
#define GSVM_RANGE_MAX_PAGES	(INT_MAX / sizeof(struct drm_pagemap_addr))

/**
 * struct gsvm_tlb_inval_fence - One submitted GPU TLB invalidation
 * @base: Signalled by the backend when the invalidation has completed, with
 *	error -ETIME if it timed out. Embedded: never reference-counted beyond
 *	its owner, which waits for it before reusing or freeing it.
 * @link: Backend-owned link in its pending list.
 * @seqno: Backend-assigned sequence number of the request.
 * @submit_time: When the request was submitted.
 */
struct gsvm_tlb_inval_fence {
	struct dma_fence base;
	struct list_head link;
	u32 seqno;
	ktime_t submit_time;
};

/**
 * struct gsvm_backend_ops - What a GPU driver provides to gsvm
 *
 * One table per driver. @mirror identifies the GPU VM. GPU virtual
 * addresses are byte addresses, ranges are [@start, @start + @size).
 *
 * @prepare: (required) Make sure the page-table levels that map [@start,
 *	@start + @size) exist. May sleep and allocate. Called with
 *	&gsvm_mirror.lock held, never from a notifier.
 * @unprepare: (optional) Release what @prepare set up. Called with
 *	&gsvm_mirror.lock held after the range's PTEs were zapped and the
 *	TLB invalidated.
 * @bind: (required) Write the leaf PTEs for @npages pages at @start from
 *	@dma, laid out as drm_gpusvm_get_pages() fills it: one entry per
 *	mapped chunk of PAGE_SIZE << @dma[i].order bytes, so an entry may
 *	cover many pages (transparent huge pages). Must not allocate or
 *	sleep. Called with the mirror's notifier lock held in read mode and
 *	&gsvm_mirror.lock held.
 * @zap: (required) Clear the leaf PTEs of the range. Must not allocate or
 *	sleep. Called with the notifier lock held in write mode, from the
 *	notifier's start pass. Returns true if any PTE was live, so that a
 *	TLB invalidation is needed.
 * @tlb_inval_submit: (required) Submit a TLB invalidation covering the
 *	range and return without waiting. Initialises every member of @fence
 *	(it may be uninitialised stack memory) and arms it; the backend
 *	signals it on completion. Must not allocate or sleep. Called with the
 *	notifier lock held in write mode.
 * @tlb_inval_wait: (required) Wait until @fence is signalled. Returns 0,
 *	or -ETIME if the invalidation timed out. Either way the backend no
 *	longer references @fence on return, as it may live on the caller's
 *	stack. After -ETIME the TLB may still hold what the invalidation was
 *	to drop (Xe's timeout flushes nothing): gsvm then calls
 *	@tlb_inval_reset. May be called more than once, and concurrently, for
 *	one submission. May be called with or without the notifier lock
 *	held; never allocates.
 * @tlb_inval_reset: (optional) Recover from a timed-out invalidation: make
 *	sure no TLB of the GPU translates any address of the VM any more (a
 *	full invalidation waited for, or an engine or GT reset) before
 *	returning 0; return a negative error code if that could not be done.
 *	Without it, or if it fails, gsvm wedges the mirror (see DOC: TLB
 *	invalidation timeouts). May sleep; never allocates. Called with or
 *	without the notifier lock held (write).
 * @gpu_idle: (optional) For a VM whose GPU work cannot take page faults
 *	(dma-fence mode): kick that work towards completion and return true
 *	if none is left that may access the mirror. Must not sleep or
 *	allocate. Called from the start pass with the notifier lock held in
 *	write mode. If it returns false, the zap waits for @gpu_wait_idle.
 *	NULL for a VM whose GPU work faults (fault mode): zapping is enough
 *	to stop it.
 * @gpu_wait_idle: (required with @gpu_idle) Wait for the work @gpu_idle
 *	kicked. That work must complete in bounded time without allocating
 *	memory or servicing page faults (dma-fence rules), as it is waited
 *	for from the finish pass, or under the notifier lock in write mode in
 *	the synchronous fallback.
 *
 * These map one to one onto Xe: @prepare/@bind onto the PT update of a
 * bind, @zap onto xe_pt_zap_ptes_range(), @tlb_inval_submit onto
 * xe_tlb_inval_range_tilemask_submit() and @tlb_inval_wait onto
 * xe_tlb_inval_batch_wait().
 */
struct gsvm_backend_ops {
	int (*prepare)(struct gsvm_mirror *mirror, u64 start, u64 size);
	void (*unprepare)(struct gsvm_mirror *mirror, u64 start, u64 size);
	void (*bind)(struct gsvm_mirror *mirror, u64 start,
		     const struct drm_pagemap_addr *dma, unsigned long npages,
		     bool read_only);
	bool (*zap)(struct gsvm_mirror *mirror, u64 start, u64 size);
	void (*tlb_inval_submit)(struct gsvm_mirror *mirror,
				 struct gsvm_tlb_inval_fence *fence,
				 u64 start, u64 size);
	int (*tlb_inval_wait)(struct gsvm_mirror *mirror,
			      struct gsvm_tlb_inval_fence *fence);
	int (*tlb_inval_reset)(struct gsvm_mirror *mirror);
	bool (*gpu_idle)(struct gsvm_mirror *mirror);
	void (*gpu_wait_idle)(struct gsvm_mirror *mirror);
};

/**
 * struct gsvm_range - A CPU range mirrored at a GPU virtual address
 * @mirror: The owning mirror.
 * @notifier: This range's interval notifier on the mirror's mm. One per
 *	range and GPU: N GPUs mirroring one buffer are N notifiers, whose
 *	start passes all run before any finish pass.
 * @finish: The embedded finish object handed back by the start pass.
 * @itree: Node in &gsvm_mirror.ranges, keyed by GPU virtual address.
 * @inval_link: Link in &gsvm_mirror.invalidated while the range waits for
 *	revalidation. Protected by &gsvm_mirror.inval_lock.
 * @pages: The mirrored pages and their DMA addresses (drm_gpusvm pages API).
 * @inval_fence: The TLB invalidation the finish pass waits for.
 * @cpu_start: CPU virtual address of the range.
 * @size: Size in bytes.
 * @read_only: The GPU may only read the range.
 * @finish_inuse: @finish is handed out to a pending finish pass.
 *	Protected by the notifier lock (write).
 * @zap_deferred: The start pass found the GPU busy (&gsvm_backend_ops.gpu_idle)
 *	and left the zap to the finish pass. Protected by the notifier lock
 *	(write).
 * @inval_armed: @inval_fence was submitted at least once, so it may be
 *	waited for. Protected by the notifier lock (write).
 * @gpu_mapped: The GPU PTEs are live. Written under the notifier lock
 *	(write), or in read mode together with &gsvm_mirror.lock.
 */
struct gsvm_range {
	struct gsvm_mirror *mirror;
	struct mmu_interval_notifier notifier;
	struct mmu_interval_notifier_finish finish;
	struct interval_tree_node itree;
	struct list_head inval_link;
	struct drm_gpusvm_pages pages;
	struct gsvm_tlb_inval_fence inval_fence;
	unsigned long cpu_start;
	u64 size;
	bool read_only;
	bool finish_inuse;
	bool zap_deferred;
	bool inval_armed;
	bool gpu_mapped;
};

/**
 * struct gsvm_mirror - One GPU VM mirroring one process address space
 * @drm: The DRM device; its struct device does the DMA mapping.
 * @ops: The backend.
 * @mm: The mirrored address space (mmgrab'ed).
 * @gpusvm: drm_gpusvm: owns the notifier lock. In pages-only mode for a
 *	userptr-only mirror; in full mode, owning the SVM ranges and their
 *	notifiers, for an SVM mirror (see DOC: SVM).
 * @lock: Serialises binds, unbinds and fault servicing; protects @ranges.
 *	Outside the notifier lock; see DOC: Locking.
 * @ranges: Interval tree of &struct gsvm_range by GPU virtual address.
 * @inval_lock: Protects @invalidated. Innermost: nests inside the
 *	notifier lock.
 * @invalidated: Ranges invalidated since they were last validated, by
 *	&gsvm_range.inval_link; what gsvm_mirror_revalidate() works through.
 * @name: Name used in traces.
 * @svm_end: SVM mirrors: GPU virtual addresses [0, @svm_end) mirror the
 *	CPU address space one to one, faulted in on GPU access. 0 otherwise.
 * @svm_two_pass: SVM invalidations use drm_gpusvm's two-pass ops.
 * @svm_dead: Set under @lock at teardown: the garbage collector stops.
 * @gc_lock: Protects @gc_list. Innermost: nests inside the notifier lock.
 * @gc_list: SVM ranges the CPU unmapped, waiting for the garbage collector.
 * @gc_work: Runs the garbage collector outside the notifier.
 * @wedged: A TLB invalidation timed out and could not be recovered from:
 *	the GPU may still reach memory through stale translations, so no
 *	page is DMA-unmapped and nothing is bound any more. Set with
 *	WRITE_ONCE() by the waiter whose recovery failed, cleared only by
 *	teardown if a last recovery succeeds; read with READ_ONCE().
 */
struct gsvm_mirror {
	struct drm_device *drm;
	const struct gsvm_backend_ops *ops;
	struct mm_struct *mm;
	struct drm_gpusvm gpusvm;
	struct mutex lock; /* outer: binds, unbinds, faults; protects ranges */
	struct rb_root_cached ranges;
	spinlock_t inval_lock; /* protects invalidated */
	struct list_head invalidated;
	const char *name;
	u64 svm_end;
	bool svm_two_pass;
	bool svm_dead;
	spinlock_t gc_lock; /* protects gc_list */
	struct list_head gc_list;
	struct work_struct gc_work;
	bool wedged;
};

int gsvm_mirror_init(struct gsvm_mirror *mirror, struct drm_device *drm,
		     const struct gsvm_backend_ops *ops, struct mm_struct *mm,
		     const char *name);
int gsvm_mirror_init_svm(struct gsvm_mirror *mirror, struct drm_device *drm,
			 const struct gsvm_backend_ops *ops,
			 struct mm_struct *mm, const char *name, u64 svm_end);
void gsvm_mirror_fini(struct gsvm_mirror *mirror);

int gsvm_range_bind(struct gsvm_mirror *mirror, unsigned long cpu_start,
		    u64 gpu_start, u64 size, bool read_only);
int gsvm_range_unbind(struct gsvm_mirror *mirror, u64 gpu_start, u64 size);
int gsvm_handle_fault(struct gsvm_mirror *mirror, u64 gpu_addr, bool write);
int gsvm_mirror_revalidate(struct gsvm_mirror *mirror);
bool gsvm_mirror_valid(struct gsvm_mirror *mirror);

/**
 * gsvm_range_gpu_start() - GPU virtual address of a range
 * @range: The range.
 *
 * Return: The first GPU virtual address of @range.
 */
static inline u64 gsvm_range_gpu_start(const struct gsvm_range *range)
{
	return range->itree.start;
}

#endif /* _GSVM_GSVM_H_ */
