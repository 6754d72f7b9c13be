// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * simgpu_vm_modes: the two VM modes, as Xe has them.
 *
 * dma-fence mode (the default): a batch's fence may be exported anywhere,
 * so it must not depend on page-fault servicing. The engine services no
 * GPU fault; the exec ioctl revalidates invalidated bindings before it
 * queues the batch; an invalidation waits for the VM's batches before it
 * zaps their translations.
 *
 * fault mode: faults are serviced, batches complete through user fences,
 * and run on an engine of their own, so that dma-fence batches never wait
 * behind fault servicing.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt_core.h"
#include "simgpu.h"

/* A short store loop: about 0.3 s nominally, one write every 100 us. */
#define SHORT_LOOP_COUNT	3000

/*
 * dma-fence mode: madvise(MADV_DONTNEED) invalidates a binding of a shared
 * memfd without freeing its memory. The next exec must revalidate the
 * binding before the batch runs: the batch may not fault (it would fail,
 * as nothing services faults here), and its write reaches the memfd.
 */
static void test_dma_fence_exec_revalidates(int mode)
{
	uint32_t vals[SG_MAX_GPUS];
	uint64_t unserviced[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i, err;

	sg_require_madvise();
	sg_ctx_init(&ctx, mode | SG_DMA_FENCE);
	sg_witness_init(&ctx, &x, ctx.page_size, MAP_SHARED);
	sg_bind_all(&ctx, x.a, x.size, x.gpu, 0);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, x.gpu + SG_SLOT(i), 1), 0);

	igt_assert(!madvise(x.a, x.size, MADV_DONTNEED));

	for_each_gpu(&ctx, i) {
		unserviced[i] = sg_stat(&ctx.gpu[i], "gpu_faults_unserviced");
		vals[i] = sg_cookie();
		err = sg_gpu_write32(&ctx, i, x.gpu + SG_SLOT(i), vals[i]);
		igt_assert_f(err == 0,
			     "GPU %u: the write after madvise failed with %s: the exec queued the batch without revalidating the invalidated binding\n",
			     ctx.gpu[i].index, igt_errname(err));
		igt_assert_f(sg_stat(&ctx.gpu[i], "gpu_faults_unserviced") == unserviced[i],
			     "GPU %u: a dma-fence batch faulted on a binding the exec should have revalidated\n",
			     ctx.gpu[i].index);
		igt_assert_eq_u32(sg_read32(x.w + SG_SLOT_DW(i)), vals[i]);
	}
	sg_ctx_fini(&ctx);
}

/*
 * dma-fence mode: the GPUs run store loops on A when A is unmapped. The
 * invalidation must wait for the batches before it zaps their
 * translations: munmap returns only once every loop has ended, and every
 * loop completes all its writes.
 */
static void test_dma_fence_munmap_waits_for_batch(int mode)
{
	struct sg_job jobs[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	uint64_t t0;
	int i, err;

	sg_ctx_init(&ctx, mode | SG_DMA_FENCE);
	sg_witness_init(&ctx, &x, ctx.page_size, MAP_SHARED);
	sg_bind_all(&ctx, x.a, x.size, x.gpu, 0);
	for_each_gpu(&ctx, i) {
		struct sg_batch b;

		sg_batch_start(&ctx, &b);
		sg_emit_store_loop(&b, x.gpu + SG_SLOT(i), SHORT_LOOP_COUNT,
				   SG_LOOP_USECS);
		sg_submit(&ctx, i, sg_batch_end(&b), 0, &jobs[i]);
	}
	for_each_gpu(&ctx, i)
		igt_assert_f(igt_wait(sg_read32(x.w + SG_SLOT_DW(i)) != 0, 5000),
			     "GPU %u's loop never started\n", ctx.gpu[i].index);

	t0 = igt_now_ns();
	igt_assert(!munmap(x.a, x.size));
	igt_info("munmap took %.1f ms\n", (igt_now_ns() - t0) / 1e6);

	for_each_gpu(&ctx, i)
		igt_assert_f(!sg_job_busy(&jobs[i]),
			     "munmap returned while GPU %u's dma-fence batch was still running on the memory: the invalidation did not wait for it\n",
			     ctx.gpu[i].index);
	for_each_gpu(&ctx, i) {
		err = sg_job_finish(&jobs[i]);
		igt_assert_f(err == 0,
			     "GPU %u's batch failed with %s: its memory was unmapped under it, the invalidation did not wait for it\n",
			     ctx.gpu[i].index, igt_errname(err));
		igt_assert_eq_u32(sg_read32(x.w + SG_SLOT_DW(i)), SHORT_LOOP_COUNT);
	}
	sg_ctx_fini(&ctx);
}

/* dma-fence mode: a GPU fault is never serviced, and is counted. */
static void test_dma_fence_no_fault_servicing(int mode)
{
	uint64_t faults, unserviced;
	struct sg_ctx ctx;
	uint64_t va;
	int i;

	sg_ctx_init(&ctx, mode | SG_DMA_FENCE);
	va = sg_va_alloc(&ctx, ctx.page_size);
	for_each_gpu(&ctx, i) {
		faults = sg_stat(&ctx.gpu[i], "gpu_faults");
		unserviced = sg_stat(&ctx.gpu[i], "gpu_faults_unserviced");
		igt_assert_err(sg_gpu_write32(&ctx, i, va, 1), -EFAULT);
		igt_assert_f(sg_stat(&ctx.gpu[i], "gpu_faults_unserviced") == unserviced + 1,
			     "GPU %u: the fault of a dma-fence batch was not counted as unserviced\n",
			     ctx.gpu[i].index);
		igt_assert_f(sg_stat(&ctx.gpu[i], "gpu_faults") == faults,
			     "GPU %u: a fault of a dma-fence batch was serviced\n",
			     ctx.gpu[i].index);
		/* The engine goes on with the next batch. */
		igt_assert_err(sg_gpu_write32(&ctx, i, ctx.scratch_gpu + SG_SLOT(i), 2), 0);
	}
	sg_ctx_fini(&ctx);
}

/*
 * dma-fence mode: once its memory is unmapped, a binding cannot be
 * revalidated; a batch that reaches it fails with -EFAULT, and the rest of
 * the VM works on.
 */
static void test_dma_fence_munmap_then_exec(int mode)
{
	struct sg_ctx ctx;
	uint64_t gpu;
	uint32_t *a;
	int i;

	sg_ctx_init(&ctx, mode | SG_DMA_FENCE);
	a = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), 1), 0);
	igt_assert(!munmap(a, ctx.page_size));
	for_each_gpu(&ctx, i) {
		igt_assert_err(sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), 2), -EFAULT);
		igt_assert_err(sg_gpu_write32(&ctx, i, ctx.scratch_gpu + SG_SLOT(i), 3), 0);
		igt_assert_eq_u32(ctx.scratch[SG_SLOT_DW(i)], 3);
	}
	sg_ctx_fini(&ctx);
}

/* fault mode: the user fence carries each batch's result. */
static void test_fault_user_fence_results(int mode)
{
	struct sg_ctx ctx;
	uint64_t unbound, ro_gpu;
	uint32_t *ro;
	int i;

	sg_ctx_init(&ctx, mode);
	unbound = sg_va_alloc(&ctx, ctx.page_size);
	ro = sg_alloc_bound(&ctx, ctx.page_size, DRM_SIMGPU_BIND_READONLY, &ro_gpu);
	for_each_gpu(&ctx, i) {
		igt_assert_err(sg_gpu_write32(&ctx, i, ctx.scratch_gpu + SG_SLOT(i), 7), 0);
		igt_assert_eq_u32(ctx.scratch[SG_SLOT_DW(i)], 7);
		igt_assert_err(sg_gpu_write32(&ctx, i, unbound, 1), -EFAULT);
		igt_assert_err(sg_gpu_write32(&ctx, i, ro_gpu + SG_SLOT(i), 1), -EACCES);
		igt_assert_eq_u32(ro[SG_SLOT_DW(i)], 0);
	}
	sg_ctx_fini(&ctx);
}

/* fault mode: a waiter sleeping in the wait ioctl wakes when its batch ends. */
static void test_fault_wait_wakes(int mode)
{
	struct sg_ctx ctx;
	int i;

	sg_ctx_init(&ctx, mode);
	for_each_gpu(&ctx, i) {
		volatile struct drm_simgpu_user_fence *uf = sg_ufence_alloc();
		uint64_t value = sg_ufence_next_value();
		struct drm_simgpu_exec e = {
			.vm_id = ctx.gpu[i].vm,
			.user_fence_addr = (uintptr_t)uf,
			.user_fence_value = value,
		};
		struct drm_simgpu_wait_user_fence w = {
			.addr = (uintptr_t)uf,
			.value = value,
			.timeout_ns = 10000000000ll,
		};
		struct sg_batch b;
		uint64_t t0;

		sg_batch_start(&ctx, &b);
		sg_emit_delay(&b, 100000);
		sg_emit_store(&b, ctx.scratch_gpu + SG_SLOT(i), 9);
		e.batch_addr = sg_batch_end(&b);
		igt_assert_err(__sg_exec(ctx.gpu[i].fd, &e), 0);
		igt_assert_eq_u64(uf->value, 0);

		t0 = igt_now_ns();
		igt_assert_err(__sg_wait_ufence(ctx.gpu[i].fd, &w), 0);
		igt_info("GPU %u: wait returned after %.1f ms\n", ctx.gpu[i].index,
			 (igt_now_ns() - t0) / 1e6);
		igt_assert_eq(w.error, 0);
		igt_assert_eq_u64(uf->value, value);
		/* The fence is written after the batch's last store. */
		igt_assert_eq_u32(ctx.scratch[SG_SLOT_DW(i)], 9);
		igt_assert_f(igt_now_ns() - t0 < 5000000000ull,
			     "GPU %u: the waiter slept on after its fence was written\n",
			     ctx.gpu[i].index);
	}
	sg_ctx_fini(&ctx);
}

/* fault mode: faults are serviced, and none is counted unserviced. */
static void test_fault_faults_serviced(int mode)
{
	struct sg_ctx ctx;
	uint64_t faults, unserviced, gpu;
	uint32_t *a;
	int i;

	sg_require_madvise();
	sg_ctx_init(&ctx, mode);
	a = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), 1), 0);
	/* Zaps every GPU's translation: the next accesses fault. */
	igt_assert(!madvise(a, ctx.page_size, MADV_DONTNEED));
	for_each_gpu(&ctx, i) {
		faults = sg_stat(&ctx.gpu[i], "gpu_faults");
		unserviced = sg_stat(&ctx.gpu[i], "gpu_faults_unserviced");
		igt_assert_err(sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), 2), 0);
		igt_assert_eq_u32(a[SG_SLOT_DW(i)], 2);
		igt_assert(sg_stat(&ctx.gpu[i], "gpu_faults") > faults);
		igt_assert_eq_u64(sg_stat(&ctx.gpu[i], "gpu_faults_unserviced"), unserviced);
	}
	sg_ctx_fini(&ctx);
}

/*
 * A fault-mode batch runs on each GPU while a dma-fence batch is submitted
 * on the same GPU: the dma-fence batch completes while the fault-mode one
 * still runs (separate engines).
 */
static void test_dma_fence_beside_fault_batch(int mode)
{
	struct sg_job loops[SG_MAX_GPUS], job;
	struct sg_ctx fctx, dctx;
	uint64_t fgpu, dgpu;
	uint32_t *fbuf, *dbuf;
	int i;

	sg_ctx_init(&fctx, mode);
	sg_ctx_init(&dctx, mode | SG_DMA_FENCE);
	fbuf = sg_alloc_bound(&fctx, fctx.page_size, 0, &fgpu);
	dbuf = sg_alloc_bound(&dctx, dctx.page_size, 0, &dgpu);
	sg_start_loops(&fctx, fgpu, loops);
	sg_wait_loops_running(&fctx, fbuf, loops);
	for_each_gpu(&dctx, i) {
		struct sg_batch b;

		sg_batch_start(&dctx, &b);
		sg_emit_store(&b, dgpu + SG_SLOT(i), 5);
		sg_submit(&dctx, i, sg_batch_end(&b), 0, &job);
		igt_assert_err(sg_job_wait(&job, 5000), 0);
		igt_assert_eq_u32(dbuf[SG_SLOT_DW(i)], 5);
		igt_assert_f(sg_job_busy(&loops[i]),
			     "GPU %u: the fault-mode loop ended before the dma-fence batch; the test proves nothing\n",
			     fctx.gpu[i].index);
		sg_job_put(&job);
	}
	/* Unmapping stops the loops: they fault and fail. */
	igt_assert(!munmap(fbuf, fctx.page_size));
	for_each_gpu(&fctx, i)
		igt_assert_err(sg_job_finish(&loops[i]), -EFAULT);
	sg_ctx_fini(&dctx);
	sg_ctx_fini(&fctx);
}

#define PAIR(name, fn) \
	{ name "-single", fn, SG_ONE, 0 }, { name "-all", fn, SG_ALL, 0 }

static const struct igt_subtest tests[] = {
	PAIR("dma-fence-exec-revalidates", test_dma_fence_exec_revalidates),
	PAIR("dma-fence-munmap-waits-for-batch", test_dma_fence_munmap_waits_for_batch),
	PAIR("dma-fence-no-fault-servicing", test_dma_fence_no_fault_servicing),
	PAIR("dma-fence-munmap-then-exec", test_dma_fence_munmap_then_exec),
	PAIR("dma-fence-beside-fault-batch", test_dma_fence_beside_fault_batch),
	PAIR("fault-user-fence-results", test_fault_user_fence_results),
	PAIR("fault-wait-wakes", test_fault_wait_wakes),
	PAIR("fault-faults-serviced", test_fault_faults_serviced),
};

IGT_MAIN("dma-fence mode and fault mode VMs: fault servicing, revalidation at exec, "
	 "invalidations waiting for dma-fence batches, user fences.", tests)
