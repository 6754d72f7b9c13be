// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 *
 * KUnit tests of gsvm's two-pass invalidation state machine against a fake
 * backend that records what it is asked to do.
 */

#include <linux/dma-fence.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/spinlock.h>

#include <kunit/test.h>

#include <drm/drm_device.h>

#include <gsvm/gsvm.h>

#include "../gsvm_internal.h"

#define TEST_NPAGES	4

/**
 * struct fake_gpu - A fake backend that logs calls
 * @mirror: The mirror under test.
 * @drm: A zeroed DRM device: only its address is used by the pages layer.
 * @lock: Lock of the fences the fake backend signals.
 * @context: Fence context.
 * @zaps: Number of zap calls.
 * @submits: Number of TLB invalidations submitted.
 * @waits: Number of waits.
 * @live_ptes: What zap reports.
 * @gpu_busy: What gpu_idle reports, inverted (dma-fence mode only).
 * @idle_waits: Number of gpu_wait_idle calls.
 * @zaps_at_idle_wait: @zaps when gpu_wait_idle was last called.
 * @last_submitted: The fence of the last submission.
 */
struct fake_gpu {
	struct gsvm_mirror mirror;
	struct drm_device drm;
	spinlock_t lock; /* fence lock */
	u64 context;
	unsigned int zaps;
	unsigned int submits;
	unsigned int waits;
	bool live_ptes;
	bool gpu_busy;
	unsigned int idle_waits;
	unsigned int zaps_at_idle_wait;
	struct gsvm_tlb_inval_fence *last_submitted;
};

static struct fake_gpu *to_fake(struct gsvm_mirror *mirror)
{
	return container_of(mirror, struct fake_gpu, mirror);
}

static const char *fake_fence_name(struct dma_fence *fence)
{
	return "gsvm_test";
}

static void fake_fence_release(struct dma_fence *fence)
{
	/* Embedded in its owner. */
}

static const struct dma_fence_ops fake_fence_ops = {
	.get_driver_name = fake_fence_name,
	.get_timeline_name = fake_fence_name,
	.release = fake_fence_release,
};

static int fake_prepare(struct gsvm_mirror *mirror, u64 start, u64 size)
{
	return 0;
}

static void fake_bind(struct gsvm_mirror *mirror, u64 start,
		      const struct drm_pagemap_addr *dma, unsigned long npages,
		      bool read_only)
{
}

static bool fake_zap(struct gsvm_mirror *mirror, u64 start, u64 size)
{
	struct fake_gpu *gpu = to_fake(mirror);

	lockdep_assert_held_write(&mirror->gpusvm.notifier_lock);
	gpu->zaps++;
	return gpu->live_ptes;
}

static void fake_tlb_inval_submit(struct gsvm_mirror *mirror,
				  struct gsvm_tlb_inval_fence *fence,
				  u64 start, u64 size)
{
	struct fake_gpu *gpu = to_fake(mirror);

	lockdep_assert_held_write(&mirror->gpusvm.notifier_lock);
	gpu->submits++;
	fence->seqno = gpu->submits;
	dma_fence_init(&fence->base, &fake_fence_ops, &gpu->lock, gpu->context,
		       fence->seqno);
	gpu->last_submitted = fence;
}

static int fake_tlb_inval_wait(struct gsvm_mirror *mirror,
			       struct gsvm_tlb_inval_fence *fence)
{
	struct fake_gpu *gpu = to_fake(mirror);

	gpu->waits++;
	/* The fake hardware completes a request when it is waited for. */
	dma_fence_signal(&fence->base);
	return 0;
}

static bool fake_gpu_idle(struct gsvm_mirror *mirror)
{
	lockdep_assert_held_write(&mirror->gpusvm.notifier_lock);
	return !to_fake(mirror)->gpu_busy;
}

static void fake_gpu_wait_idle(struct gsvm_mirror *mirror)
{
	struct fake_gpu *gpu = to_fake(mirror);

	gpu->idle_waits++;
	gpu->zaps_at_idle_wait = gpu->zaps;
	/* The fake GPU's dma-fence work ends when it is waited for. */
	gpu->gpu_busy = false;
}

static const struct gsvm_backend_ops fake_ops = {
	.prepare = fake_prepare,
	.bind = fake_bind,
	.zap = fake_zap,
	.tlb_inval_submit = fake_tlb_inval_submit,
	.tlb_inval_wait = fake_tlb_inval_wait,
};

/* A backend whose GPU work cannot fault (dma-fence mode). */
static const struct gsvm_backend_ops fake_dma_fence_ops = {
	.prepare = fake_prepare,
	.bind = fake_bind,
	.zap = fake_zap,
	.tlb_inval_submit = fake_tlb_inval_submit,
	.tlb_inval_wait = fake_tlb_inval_wait,
	.gpu_idle = fake_gpu_idle,
	.gpu_wait_idle = fake_gpu_wait_idle,
};

/* A range that looks bound: live PTEs and a DMA mapping to drop. */
static struct gsvm_range *fake_range(struct kunit *test, struct fake_gpu *gpu)
{
	struct gsvm_range *range = kunit_kzalloc(test, sizeof(*range), GFP_KERNEL);
	struct drm_pagemap_addr *dma;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, range);
	dma = kunit_kcalloc(test, TEST_NPAGES, sizeof(*dma), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dma);
	/* Not DRM_INTERCONNECT_SYSTEM and no pagemap: "unmapping" is a no-op. */
	for (i = 0; i < TEST_NPAGES; i++)
		dma[i].proto = 1;

	range->mirror = &gpu->mirror;
	range->size = TEST_NPAGES * PAGE_SIZE;
	range->itree.start = SZ_1M;
	range->itree.last = SZ_1M + range->size - 1;
	INIT_LIST_HEAD(&range->inval_link);
	drm_gpusvm_init_pages(&range->pages, &gpu->drm);
	range->pages.dma_addr = dma;
	range->pages.flags.has_dma_mapping = true;
	range->gpu_mapped = true;
	gpu->live_ptes = true;
	return range;
}

static int gsvm_test_init(struct kunit *test)
{
	struct fake_gpu *gpu = kunit_kzalloc(test, sizeof(*gpu), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, gpu);
	spin_lock_init(&gpu->lock);
	gpu->context = dma_fence_context_alloc(1);
	KUNIT_ASSERT_EQ(test, 0, drm_gpusvm_init(&gpu->mirror.gpusvm, "gsvm_test",
						 NULL, 0, 0, 0, NULL, NULL, 0));
	gpu->mirror.ops = &fake_ops;
	gpu->mirror.name = "gsvm_test";
	mutex_init(&gpu->mirror.lock);
	spin_lock_init(&gpu->mirror.inval_lock);
	INIT_LIST_HEAD(&gpu->mirror.invalidated);
	test->priv = gpu;
	return 0;
}

static struct mmu_interval_notifier_finish *
pass1_locked(struct gsvm_range *range, bool two_pass)
{
	struct mmu_interval_notifier_finish *finish;

	down_write(&range->mirror->gpusvm.notifier_lock);
	finish = gsvm_range_inval_pass1(range, two_pass);
	up_write(&range->mirror->gpusvm.notifier_lock);
	return finish;
}

static void two_pass_start_submits_without_waiting(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);
	struct mmu_interval_notifier_finish *finish;

	finish = pass1_locked(range, true);

	KUNIT_EXPECT_PTR_EQ(test, finish, &range->finish);
	KUNIT_EXPECT_EQ(test, gpu->zaps, 1);
	KUNIT_EXPECT_EQ(test, gpu->submits, 1);
	KUNIT_EXPECT_EQ(test, gpu->waits, 0);
	KUNIT_EXPECT_TRUE(test, range->finish_inuse);
	KUNIT_EXPECT_FALSE(test, range->gpu_mapped);
	/* Pages stay DMA-mapped until the TLB no longer reaches them. */
	KUNIT_EXPECT_TRUE(test, range->pages.flags.has_dma_mapping);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(&range->inval_fence.base));

	gsvm_range_inval_pass2(range);
}

static void two_pass_finish_waits_then_unmaps(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);

	KUNIT_ASSERT_NOT_NULL(test, pass1_locked(range, true));
	gsvm_range_inval_pass2(range);

	KUNIT_EXPECT_EQ(test, gpu->waits, 1);
	KUNIT_EXPECT_TRUE(test, dma_fence_is_signaled(&range->inval_fence.base));
	KUNIT_EXPECT_FALSE(test, range->pages.flags.has_dma_mapping);
	KUNIT_EXPECT_FALSE(test, range->finish_inuse);
}

static void single_pass_does_everything_in_start(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);

	KUNIT_EXPECT_NULL(test, pass1_locked(range, false));
	KUNIT_EXPECT_EQ(test, gpu->submits, 1);
	KUNIT_EXPECT_EQ(test, gpu->waits, 1);
	KUNIT_EXPECT_FALSE(test, range->pages.flags.has_dma_mapping);
	KUNIT_EXPECT_FALSE(test, range->finish_inuse);
}

static void busy_finish_falls_back_to_sync(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);
	struct gsvm_tlb_inval_fence *pending;

	KUNIT_ASSERT_NOT_NULL(test, pass1_locked(range, true));
	pending = gpu->last_submitted;

	/* A concurrent invalidation of the same range while finish is pending. */
	KUNIT_EXPECT_NULL(test, pass1_locked(range, true));
	/* It must not return before the pending invalidation completed. */
	KUNIT_EXPECT_TRUE(test, dma_fence_is_signaled(&pending->base));
	KUNIT_EXPECT_FALSE(test, range->pages.flags.has_dma_mapping);
	KUNIT_EXPECT_TRUE(test, range->finish_inuse);

	gsvm_range_inval_pass2(range);
	KUNIT_EXPECT_FALSE(test, range->finish_inuse);
}

static void busy_finish_with_live_ptes_invalidates_again(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);

	KUNIT_ASSERT_NOT_NULL(test, pass1_locked(range, true));
	range->gpu_mapped = true;

	KUNIT_EXPECT_NULL(test, pass1_locked(range, true));
	KUNIT_EXPECT_EQ(test, gpu->submits, 2);
	/* Its own synchronous request, and the pending one. */
	KUNIT_EXPECT_EQ(test, gpu->waits, 2);
	KUNIT_EXPECT_FALSE(test, range->gpu_mapped);

	gsvm_range_inval_pass2(range);
}

static void unmapped_range_needs_no_tlb_inval(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);

	range->gpu_mapped = false;
	KUNIT_EXPECT_NULL(test, pass1_locked(range, true));
	KUNIT_EXPECT_EQ(test, gpu->zaps, 0);
	KUNIT_EXPECT_EQ(test, gpu->submits, 0);
	KUNIT_EXPECT_FALSE(test, range->pages.flags.has_dma_mapping);
}

static void no_live_ptes_needs_no_tlb_inval(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);

	gpu->live_ptes = false;
	KUNIT_EXPECT_NULL(test, pass1_locked(range, true));
	KUNIT_EXPECT_EQ(test, gpu->zaps, 1);
	KUNIT_EXPECT_EQ(test, gpu->submits, 0);
	KUNIT_EXPECT_FALSE(test, range->gpu_mapped);
}

static void non_blockable_start_touches_nothing(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);
	struct mmu_interval_notifier_finish *finish = NULL;
	struct mmu_notifier_range mrange = {
		.start = 0,
		.end = ULONG_MAX,
		.event = MMU_NOTIFY_CLEAR,
		.flags = 0,
	};

	const struct mmu_interval_notifier_ops *ops = &gsvm_range_notifier_ops;

	range->notifier.invalidate_seq = 2;
	KUNIT_EXPECT_FALSE(test, ops->invalidate_start(&range->notifier, &mrange, 5, &finish));
	KUNIT_EXPECT_NULL(test, finish);
	KUNIT_EXPECT_EQ(test, range->notifier.invalidate_seq, 2);
	KUNIT_EXPECT_EQ(test, gpu->zaps, 0);
	KUNIT_EXPECT_TRUE(test, range->gpu_mapped);
}

static void blockable_start_sets_seq_and_defers(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);
	struct mmu_interval_notifier_finish *finish = NULL;
	struct mmu_notifier_range mrange = {
		.start = 0,
		.end = ULONG_MAX,
		.event = MMU_NOTIFY_CLEAR,
		.flags = MMU_NOTIFIER_RANGE_BLOCKABLE,
	};

	const struct mmu_interval_notifier_ops *ops = &gsvm_range_notifier_ops;

	range->notifier.invalidate_seq = 2;
	KUNIT_EXPECT_TRUE(test, ops->invalidate_start(&range->notifier, &mrange, 5, &finish));
	KUNIT_EXPECT_EQ(test, range->notifier.invalidate_seq, 5);
	KUNIT_ASSERT_PTR_EQ(test, finish, &range->finish);
	KUNIT_EXPECT_EQ(test, gpu->waits, 0);

	ops->invalidate_finish(finish);
	KUNIT_EXPECT_EQ(test, gpu->waits, 1);
	KUNIT_EXPECT_FALSE(test, range->finish_inuse);
}

static void invalidation_queues_range_for_revalidation(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);

	KUNIT_EXPECT_TRUE(test, list_empty(&gpu->mirror.invalidated));
	KUNIT_ASSERT_NOT_NULL(test, pass1_locked(range, true));
	KUNIT_EXPECT_FALSE(test, list_empty(&gpu->mirror.invalidated));
	gsvm_range_inval_pass2(range);
	/* A second invalidation before revalidation does not queue it twice. */
	KUNIT_EXPECT_NULL(test, pass1_locked(range, true));
	KUNIT_EXPECT_TRUE(test, list_is_singular(&gpu->mirror.invalidated));
}

static void busy_gpu_defers_zap_to_finish(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);

	gpu->mirror.ops = &fake_dma_fence_ops;
	gpu->gpu_busy = true;

	KUNIT_ASSERT_PTR_EQ(test, pass1_locked(range, true), &range->finish);
	/* The start pass must neither wait for the GPU nor zap under it. */
	KUNIT_EXPECT_EQ(test, gpu->idle_waits, 0);
	KUNIT_EXPECT_EQ_MSG(test, gpu->zaps, 0,
			    "PTEs zapped while dma-fence work still ran");
	KUNIT_EXPECT_TRUE(test, range->gpu_mapped);

	gsvm_range_inval_pass2(range);
	KUNIT_EXPECT_EQ(test, gpu->idle_waits, 1);
	KUNIT_EXPECT_EQ_MSG(test, gpu->zaps_at_idle_wait, 0,
			    "PTEs zapped before the dma-fence work ended");
	KUNIT_EXPECT_EQ(test, gpu->zaps, 1);
	KUNIT_EXPECT_EQ(test, gpu->submits, 1);
	KUNIT_EXPECT_EQ(test, gpu->waits, 1);
	KUNIT_EXPECT_FALSE(test, range->gpu_mapped);
	KUNIT_EXPECT_FALSE(test, range->pages.flags.has_dma_mapping);
	KUNIT_EXPECT_FALSE(test, range->finish_inuse);
}

static void busy_gpu_busy_finish_waits_in_start(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);

	gpu->mirror.ops = &fake_dma_fence_ops;
	gpu->gpu_busy = true;
	KUNIT_ASSERT_NOT_NULL(test, pass1_locked(range, true));

	/* A concurrent invalidation while the first one deferred everything. */
	gpu->gpu_busy = true;
	KUNIT_EXPECT_NULL(test, pass1_locked(range, true));
	KUNIT_EXPECT_EQ(test, gpu->idle_waits, 1);
	KUNIT_EXPECT_EQ_MSG(test, gpu->zaps_at_idle_wait, 0,
			    "PTEs zapped before the dma-fence work ended");
	KUNIT_EXPECT_FALSE(test, range->gpu_mapped);
	KUNIT_EXPECT_EQ(test, gpu->submits, 1);
	KUNIT_EXPECT_FALSE(test, range->pages.flags.has_dma_mapping);

	gsvm_range_inval_pass2(range);
	KUNIT_EXPECT_FALSE(test, range->finish_inuse);
}

static void idle_gpu_pipelines_as_fault_mode(struct kunit *test)
{
	struct fake_gpu *gpu = test->priv;
	struct gsvm_range *range = fake_range(test, gpu);

	gpu->mirror.ops = &fake_dma_fence_ops;
	KUNIT_ASSERT_PTR_EQ(test, pass1_locked(range, true), &range->finish);
	KUNIT_EXPECT_EQ(test, gpu->zaps, 1);
	KUNIT_EXPECT_EQ(test, gpu->submits, 1);
	KUNIT_EXPECT_EQ(test, gpu->waits, 0);
	KUNIT_EXPECT_EQ(test, gpu->idle_waits, 0);
	gsvm_range_inval_pass2(range);
	KUNIT_EXPECT_EQ(test, gpu->waits, 1);
}

static struct kunit_case gsvm_two_pass_cases[] = {
	KUNIT_CASE(two_pass_start_submits_without_waiting),
	KUNIT_CASE(two_pass_finish_waits_then_unmaps),
	KUNIT_CASE(single_pass_does_everything_in_start),
	KUNIT_CASE(busy_finish_falls_back_to_sync),
	KUNIT_CASE(busy_finish_with_live_ptes_invalidates_again),
	KUNIT_CASE(unmapped_range_needs_no_tlb_inval),
	KUNIT_CASE(no_live_ptes_needs_no_tlb_inval),
	KUNIT_CASE(non_blockable_start_touches_nothing),
	KUNIT_CASE(blockable_start_sets_seq_and_defers),
	KUNIT_CASE(invalidation_queues_range_for_revalidation),
	KUNIT_CASE(busy_gpu_defers_zap_to_finish),
	KUNIT_CASE(busy_gpu_busy_finish_waits_in_start),
	KUNIT_CASE(idle_gpu_pipelines_as_fault_mode),
	{}
};

static struct kunit_suite gsvm_two_pass_suite = {
	.name = "gsvm_two_pass",
	.init = gsvm_test_init,
	.test_cases = gsvm_two_pass_cases,
};

kunit_test_suite(gsvm_two_pass_suite);

MODULE_DESCRIPTION("KUnit tests for gsvm's two-pass invalidation");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");
