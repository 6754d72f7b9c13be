/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _GSVM_INTERNAL_H_
#define _GSVM_INTERNAL_H_

#include <linux/atomic.h>
#include <linux/kernel.h>
#include <linux/types.h>

#include <kunit/visibility.h>

#include <gsvm/gsvm.h>

struct dentry;
struct gsvm_mirror;
struct gsvm_range;
struct gsvm_tlb_inval_fence;
struct mmu_interval_notifier_finish;
struct mmu_interval_notifier_ops;

/*
 * The backend ops that must not sleep run inside non_block_start() and
 * non_block_end(), so that CONFIG_DEBUG_ATOMIC_SLEEP reports one that does
 * (the notifier passes around them may sleep, so nothing else would).
 */
static inline void gsvm_op_bind(struct gsvm_mirror *mirror, u64 start,
				const struct drm_pagemap_addr *dma,
				unsigned long npages, bool read_only)
{
	non_block_start();
	mirror->ops->bind(mirror, start, dma, npages, read_only);
	non_block_end();
}

static inline bool gsvm_op_zap(struct gsvm_mirror *mirror, u64 start, u64 size)
{
	bool live;

	non_block_start();
	live = mirror->ops->zap(mirror, start, size);
	non_block_end();
	return live;
}

static inline void gsvm_op_tlb_inval_submit(struct gsvm_mirror *mirror,
					    struct gsvm_tlb_inval_fence *fence,
					    u64 start, u64 size)
{
	non_block_start();
	mirror->ops->tlb_inval_submit(mirror, fence, start, size);
	non_block_end();
}

static inline bool gsvm_op_gpu_idle(struct gsvm_mirror *mirror)
{
	bool idle;

	non_block_start();
	idle = mirror->ops->gpu_idle(mirror);
	non_block_end();
	return idle;
}

/* Whether the mirror is wedged (DOC: TLB invalidation timeouts). */
static inline bool gsvm_mirror_wedged(const struct gsvm_mirror *mirror)
{
	return READ_ONCE(mirror->wedged);
}

/*
 * drm_gpusvm_unmap_pages() and drm_gpusvm_free_pages(), except on a wedged
 * mirror: the GPU may still reach those pages, so they stay DMA-mapped.
 */
static inline void gsvm_unmap_pages(struct gsvm_mirror *mirror,
				    struct drm_gpusvm_pages *pages,
				    unsigned long npages,
				    const struct drm_gpusvm_ctx *ctx)
{
	if (!gsvm_mirror_wedged(mirror))
		drm_gpusvm_unmap_pages(&mirror->gpusvm, pages, npages, ctx);
}

static inline void gsvm_free_pages(struct gsvm_mirror *mirror,
				   struct drm_gpusvm_pages *pages,
				   unsigned long npages)
{
	if (!gsvm_mirror_wedged(mirror))
		drm_gpusvm_free_pages(&mirror->gpusvm, pages, npages);
}

/* Module-wide counters (debugfs ``stats``, DOC: gsvm debugfs). */
struct gsvm_stats {
	atomic64_t tlb_inval_timeouts;
	atomic64_t tlb_inval_recovered;
	atomic64_t mirrors_wedged;
	atomic64_t mirrors_live;
	atomic64_t ranges_live;
	atomic64_t svm_notifiers_live;
};

extern struct gsvm_stats gsvm_stats;

void gsvm_range_destroy(struct gsvm_range *range);
void gsvm_range_destroy_all(struct gsvm_mirror *mirror);
int gsvm_tlb_inval_wait(struct gsvm_mirror *mirror,
			struct gsvm_tlb_inval_fence *fence);

extern bool gsvm_xe_busy_fallback;
extern bool gsvm_dma_unmap_before_wait;
extern bool gsvm_two_pass;

int gsvm_svm_init(struct gsvm_mirror *mirror, u64 svm_end);
void gsvm_svm_fini(struct gsvm_mirror *mirror);
int gsvm_svm_fault(struct gsvm_mirror *mirror, u64 addr, bool write);
void gsvm_svm_module_init(struct dentry *dir);

#if IS_ENABLED(CONFIG_KUNIT)
struct mmu_interval_notifier_finish *
gsvm_range_inval_pass1(struct gsvm_range *range, bool two_pass);
void gsvm_range_inval_pass2(struct gsvm_range *range);
extern const struct mmu_interval_notifier_ops gsvm_range_notifier_ops;
#endif

#endif /* _GSVM_INTERNAL_H_ */
