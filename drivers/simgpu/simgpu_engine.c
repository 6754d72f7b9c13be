// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 */

#include <linux/align.h>
#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/delay.h>
#include <linux/dma-direct.h>
#include <linux/dma-fence.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/stddef.h>
#include <linux/workqueue.h>

#include <drm/drm_file.h>
#include <drm/drm_syncobj.h>

#include <drm/simgpu_drm.h>

#include "simgpu_drv.h"
#include "simgpu_engine.h"
#include "simgpu_pt.h"
#include "simgpu_tlb.h"
#include "simgpu_trace.h"
#include "simgpu_vm.h"

/**
 * DOC: simgpu engine
 *
 * Each GPU has one engine, an ordered workqueue: batches run one at a time,
 * in submission order. A batch first waits for its in-fence, then the
 * engine fetches it word by word from GPU virtual memory and executes the
 * commands of &enum drm_simgpu_cmd.
 *
 * Every access, instruction fetch included, goes through the GPU MMU: with
 * the GPU's &simgpu_tlb.mmu_lock held, simgpu_tlb_translate() looks the
 * page up in the TLB or walks the page table, and the access itself is done
 * through the translation: DMA address, dma_to_phys(), page,
 * kmap_local_page(). This is the simulated DMA; it assumes direct DMA
 * mapping (no IOMMU and no bounce buffering for the faux device).
 *
 * An access that finds no valid translation, or a read-only one for a
 * write, is a GPU page fault: the engine drops the MMU lock, calls
 * gsvm_handle_fault() and replays the access, up to
 * %SIMGPU_FAULT_RETRIES times. The batch's fence carries the first error
 * (-EFAULT, -EACCES, -EINVAL for a malformed batch, -ETIMEDOUT past
 * %SIMGPU_JOB_BUDGET_MS) and the remaining commands are skipped.
 *
 * The batch fence depends on fault servicing, which allocates
 * (hmm_range_fault()): the engine is deliberately not a fence signalling
 * critical section, and its fences must never be waited for by reclaim
 * (simgpu installs them in syncobjs only, never in a dma_resv).
 */

/* Limits of a batch. */
#define SIMGPU_JOB_MAX_CMDS		SZ_64K
#define SIMGPU_JOB_BUDGET_MS		10000
#define SIMGPU_FAULT_RETRIES		16
#define SIMGPU_COPY_MAX			SZ_1M
#define SIMGPU_DELAY_MAX_US		100000
#define SIMGPU_STORE_LOOP_MAX		1000000

/**
 * struct simgpu_job_fence - Completion fence of a batch
 * @base: The fence; first, as dma_fence_free() frees it.
 * @timeline: Timeline name, kept with the fence so that it outlives the GPU.
 */
struct simgpu_job_fence {
	struct dma_fence base;
	char timeline[32];
};

static_assert(offsetof(struct simgpu_job_fence, base) == 0);

/**
 * struct simgpu_job - One batch on its way through the engine
 * @work: Engine work item.
 * @vm: The VM the batch runs in (a reference).
 * @fence: The batch's completion fence (a reference).
 * @in_fence: Fence to wait for before running, or NULL (a reference).
 * @batch_addr: GPU virtual address of the first command.
 * @pc: GPU virtual address of the next word to fetch.
 * @deadline: End of the time budget.
 */
struct simgpu_job {
	struct work_struct work;
	struct simgpu_vm *vm;
	struct dma_fence *fence;
	struct dma_fence *in_fence;
	u64 batch_addr;
	u64 pc;
	ktime_t deadline;
};

static const char *simgpu_job_fence_get_driver_name(struct dma_fence *fence)
{
	return "simgpu";
}

static const char *simgpu_job_fence_get_timeline_name(struct dma_fence *fence)
{
	return container_of(fence, struct simgpu_job_fence, base)->timeline;
}

/* No .release and no .wait: the fence detaches from simgpu once signalled. */
static const struct dma_fence_ops simgpu_job_fence_ops = {
	.get_driver_name = simgpu_job_fence_get_driver_name,
	.get_timeline_name = simgpu_job_fence_get_timeline_name,
};

enum simgpu_mem_op {
	SIMGPU_MEM_READ,
	SIMGPU_MEM_WRITE,
	SIMGPU_MEM_ADD,
	SIMGPU_MEM_COPY,
};

/* Simulated DMA: map the byte at @va through leaf entry @pte. */
static void *simgpu_engine_map(struct simgpu_device *gpu, u64 pte, u64 va)
{
	phys_addr_t phys = dma_to_phys(gpu->drm.dev, simgpu_pte_addr(pte));
	unsigned long pfn = PHYS_PFN(phys);

	if (WARN_ON_ONCE(!pfn_valid(pfn)))
		return NULL;

	return kmap_local_page(pfn_to_page(pfn)) + (va & (SIMGPU_PAGE_SIZE - 1));
}

/* Perform @op on translated operands; &simgpu_tlb.mmu_lock held. */
static int simgpu_engine_mem_do(struct simgpu_device *gpu, enum simgpu_mem_op op,
				const u64 *va, const u64 *pte, u32 len, u32 *val)
{
	void *p0, *p1;

	simgpu_tlb_assert_held(&gpu->tlb);

	p0 = simgpu_engine_map(gpu, pte[0], va[0]);
	if (!p0)
		return -EFAULT;

	switch (op) {
	case SIMGPU_MEM_READ:
		*val = READ_ONCE(*(u32 *)p0);
		break;
	case SIMGPU_MEM_WRITE:
		WRITE_ONCE(*(u32 *)p0, *val);
		break;
	case SIMGPU_MEM_ADD:
		atomic_add(*val, (atomic_t *)p0);
		break;
	case SIMGPU_MEM_COPY:
		p1 = simgpu_engine_map(gpu, pte[1], va[1]);
		if (!p1) {
			kunmap_local(p0);
			return -EFAULT;
		}
		memmove(p0, p1, len);
		kunmap_local(p1);
		break;
	}

	kunmap_local(p0);
	return 0;
}

/*
 * One GPU memory operation on @addr (the destination of a copy, whose
 * source is @src; @len bytes within one page each). Translates and performs
 * it under the MMU lock; on a GPU page fault services it and replays.
 */
static int simgpu_engine_mem(struct simgpu_job *job, enum simgpu_mem_op op,
			     u64 addr, u64 src, u32 len, u32 *val)
{
	struct simgpu_vm *vm = job->vm;
	struct simgpu_device *gpu = vm->gpu;
	const unsigned int n = op == SIMGPU_MEM_COPY ? 2 : 1;
	const bool write[2] = { op != SIMGPU_MEM_READ, false };
	const u64 va[2] = { addr, src };
	unsigned int retries, i;
	u64 pte[2];
	int err;

	for (retries = 0; ; retries++) {
		spin_lock_bh(&gpu->tlb.mmu_lock);
		err = 0;
		for (i = 0; i < n; i++) {
			err = simgpu_tlb_translate(vm, va[i], write[i], &pte[i]);
			if (err)
				break;
		}
		if (!err)
			err = simgpu_engine_mem_do(gpu, op, va, pte, len, val);
		spin_unlock_bh(&gpu->tlb.mmu_lock);

		if (i == n)
			return err;

		/* GPU page fault on operand i: service it, then replay. */
		if (retries == SIMGPU_FAULT_RETRIES)
			return -EFAULT;
		err = simgpu_vm_handle_fault(vm, va[i], write[i]);
		if (err)
			return err;
	}
}

/* Operand addresses: malformed if misaligned, a fault outside the VA space. */
static int simgpu_engine_check_addr(u64 addr, u64 len)
{
	if (!IS_ALIGNED(addr, sizeof(u32)))
		return -EINVAL;
	if (addr >= SIMGPU_VA_SIZE || len > SIMGPU_VA_SIZE - addr)
		return -EFAULT;
	return 0;
}

static u64 simgpu_engine_addr(u32 lo, u32 hi)
{
	return (u64)hi << 32 | lo;
}

/* Stall the engine; sleeps rather than spins even for a few microseconds. */
static void simgpu_engine_sleep(u32 usecs)
{
	if (!usecs)
		cond_resched();
	else if (usecs < 20 * USEC_PER_MSEC)
		usleep_range(usecs, usecs + usecs / 8 + 1);
	else
		msleep(DIV_ROUND_UP(usecs, USEC_PER_MSEC));
}

static bool simgpu_engine_timed_out(const struct simgpu_job *job)
{
	return ktime_after(ktime_get(), job->deadline);
}

/* Fetch @n command words at the program counter. */
static int simgpu_engine_fetch(struct simgpu_job *job, u32 *dw, unsigned int n)
{
	unsigned int i;
	int err;

	for (i = 0; i < n; i++) {
		err = simgpu_engine_check_addr(job->pc, sizeof(u32));
		if (err)
			return err;
		err = simgpu_engine_mem(job, SIMGPU_MEM_READ, job->pc, 0,
					sizeof(u32), &dw[i]);
		if (err)
			return err;
		job->pc += sizeof(u32);
	}

	return 0;
}

static int simgpu_engine_copy(struct simgpu_job *job, u64 src, u64 dst, u32 bytes)
{
	int err;

	if (!IS_ALIGNED(bytes, sizeof(u32)) || bytes > SIMGPU_COPY_MAX)
		return -EINVAL;
	err = simgpu_engine_check_addr(src, bytes);
	if (!err)
		err = simgpu_engine_check_addr(dst, bytes);
	if (err)
		return err;

	while (bytes) {
		u32 chunk = min3(bytes,
				 (u32)(SIMGPU_PAGE_SIZE - (src & (SIMGPU_PAGE_SIZE - 1))),
				 (u32)(SIMGPU_PAGE_SIZE - (dst & (SIMGPU_PAGE_SIZE - 1))));

		err = simgpu_engine_mem(job, SIMGPU_MEM_COPY, dst, src, chunk, NULL);
		if (err)
			return err;
		src += chunk;
		dst += chunk;
		bytes -= chunk;
		cond_resched();
	}

	return 0;
}

static int simgpu_engine_store_loop(struct simgpu_job *job, u64 addr, u32 count,
				    u32 usecs)
{
	u32 i;
	int err;

	if (count > SIMGPU_STORE_LOOP_MAX || usecs > SIMGPU_DELAY_MAX_US)
		return -EINVAL;
	err = simgpu_engine_check_addr(addr, sizeof(u32));
	if (err)
		return err;

	for (i = 1; i <= count; i++) {
		if (simgpu_engine_timed_out(job))
			return -ETIMEDOUT;
		err = simgpu_engine_mem(job, SIMGPU_MEM_WRITE, addr, 0, sizeof(u32), &i);
		if (err)
			return err;
		simgpu_engine_sleep(usecs);
	}

	return 0;
}

/* Fetch and execute one command. */
static int simgpu_engine_run_cmd(struct simgpu_job *job, bool *end)
{
	u32 dw[6];
	u64 addr;
	int err;

	err = simgpu_engine_fetch(job, dw, 1);
	if (err)
		return err;

	switch (dw[0]) {
	case DRM_SIMGPU_CMD_END:
		*end = true;
		return 0;

	case DRM_SIMGPU_CMD_STORE_DW:
	case DRM_SIMGPU_CMD_ATOMIC_ADD:
		err = simgpu_engine_fetch(job, &dw[1], 3);
		if (err)
			return err;
		addr = simgpu_engine_addr(dw[1], dw[2]);
		err = simgpu_engine_check_addr(addr, sizeof(u32));
		if (err)
			return err;
		return simgpu_engine_mem(job, dw[0] == DRM_SIMGPU_CMD_STORE_DW ?
					 SIMGPU_MEM_WRITE : SIMGPU_MEM_ADD,
					 addr, 0, sizeof(u32), &dw[3]);

	case DRM_SIMGPU_CMD_COPY:
		err = simgpu_engine_fetch(job, &dw[1], 5);
		if (err)
			return err;
		return simgpu_engine_copy(job, simgpu_engine_addr(dw[1], dw[2]),
					  simgpu_engine_addr(dw[3], dw[4]), dw[5]);

	case DRM_SIMGPU_CMD_DELAY:
		err = simgpu_engine_fetch(job, &dw[1], 1);
		if (err)
			return err;
		if (dw[1] > SIMGPU_DELAY_MAX_US)
			return -EINVAL;
		simgpu_engine_sleep(dw[1]);
		return 0;

	case DRM_SIMGPU_CMD_STORE_LOOP:
		err = simgpu_engine_fetch(job, &dw[1], 4);
		if (err)
			return err;
		return simgpu_engine_store_loop(job, simgpu_engine_addr(dw[1], dw[2]),
						dw[3], dw[4]);

	default:
		return -EINVAL;
	}
}

static int simgpu_engine_run_batch(struct simgpu_job *job)
{
	unsigned int ncmds;
	bool end = false;
	int err;

	job->pc = job->batch_addr;
	for (ncmds = 0; !end; ncmds++) {
		if (ncmds == SIMGPU_JOB_MAX_CMDS)
			return -EINVAL;
		if (simgpu_engine_timed_out(job))
			return -ETIMEDOUT;
		err = simgpu_engine_run_cmd(job, &end);
		if (err)
			return err;
		cond_resched();
	}

	return 0;
}

static void simgpu_job_free(struct simgpu_job *job)
{
	dma_fence_put(job->in_fence);
	dma_fence_put(job->fence);
	simgpu_vm_put(job->vm);
	kfree(job);
}

static void simgpu_job_work(struct work_struct *work)
{
	struct simgpu_job *job = container_of(work, struct simgpu_job, work);
	struct simgpu_device *gpu = job->vm->gpu;
	int err = 0;

	if (job->in_fence &&
	    !dma_fence_wait_timeout(job->in_fence, false,
				    msecs_to_jiffies(SIMGPU_JOB_BUDGET_MS)))
		err = -ETIMEDOUT;

	trace_simgpu_job_begin(gpu, job->fence->seqno, err);
	if (!err) {
		job->deadline = ktime_add_ms(ktime_get(), SIMGPU_JOB_BUDGET_MS);
		err = simgpu_engine_run_batch(job);
	}

	if (err) {
		dma_fence_set_error(job->fence, err);
		simgpu_stat_inc(gpu, SIMGPU_STAT_JOBS_FAILED);
	} else {
		simgpu_stat_inc(gpu, SIMGPU_STAT_JOBS_COMPLETED);
	}
	trace_simgpu_job_end(gpu, job->fence->seqno, err);

	dma_fence_signal(job->fence);
	simgpu_job_free(job);
}

/**
 * simgpu_engine_exec_ioctl() - DRM_IOCTL_SIMGPU_EXEC
 * @drm: The DRM device.
 * @data: &struct drm_simgpu_exec.
 * @file: The DRM file.
 *
 * Queues the batch on the engine; its result is reported through the fence
 * installed in the out syncobj.
 *
 * Return: 0, -EINVAL for malformed arguments, -ENOENT for an unknown VM, an
 * unknown syncobj or an in-syncobj without a fence, -EPERM from another
 * process, -ENOMEM.
 */
int simgpu_engine_exec_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct simgpu_device *gpu = to_simgpu_device(drm);
	struct simgpu_engine *engine = &gpu->engine;
	struct drm_simgpu_exec *args = data;
	struct drm_syncobj *out_syncobj = NULL;
	struct simgpu_job_fence *fence;
	struct simgpu_job *job;
	struct simgpu_vm *vm;
	int err;

	if (args->extensions || args->flags || args->reserved[0] || args->reserved[1])
		return -EINVAL;
	if (!IS_ALIGNED(args->batch_addr, sizeof(u32)) ||
	    args->batch_addr >= SIMGPU_VA_SIZE)
		return -EINVAL;

	vm = simgpu_vm_lookup(file, args->vm_id);
	if (IS_ERR(vm))
		return PTR_ERR(vm);

	err = -ENOMEM;
	job = kzalloc_obj(*job);
	if (!job)
		goto err_vm;
	fence = kzalloc_obj(*fence);
	if (!fence)
		goto err_job;
	snprintf(fence->timeline, sizeof(fence->timeline), "%s-engine", gpu->name);

	if (args->in_syncobj) {
		struct drm_syncobj *syncobj = drm_syncobj_find(file, args->in_syncobj);

		err = -ENOENT;
		if (!syncobj)
			goto err_fence;
		job->in_fence = drm_syncobj_fence_get(syncobj);
		drm_syncobj_put(syncobj);
		if (!job->in_fence)
			goto err_fence;
	}

	if (args->out_syncobj) {
		out_syncobj = drm_syncobj_find(file, args->out_syncobj);
		err = -ENOENT;
		if (!out_syncobj)
			goto err_in_fence;
	}

	INIT_WORK(&job->work, simgpu_job_work);
	job->vm = vm;
	job->fence = &fence->base;
	job->batch_addr = args->batch_addr;

	/* Fence seqno order is execution order. */
	spin_lock(&engine->lock);
	dma_fence_init64(&fence->base, &simgpu_job_fence_ops, NULL,
			 engine->fence_context, ++engine->fence_seqno);
	/* The job may complete and drop its reference at once. */
	dma_fence_get(&fence->base);
	queue_work(engine->wq, &job->work);
	spin_unlock(&engine->lock);

	if (out_syncobj) {
		drm_syncobj_replace_fence(out_syncobj, &fence->base);
		drm_syncobj_put(out_syncobj);
	}
	dma_fence_put(&fence->base);
	return 0;

err_in_fence:
	dma_fence_put(job->in_fence);
err_fence:
	kfree(fence);
err_job:
	kfree(job);
err_vm:
	simgpu_vm_put(vm);
	return err;
}

/**
 * simgpu_engine_init() - Start a GPU's engine
 * @gpu: The GPU; &simgpu_device.name is set.
 *
 * Return: 0 or -ENOMEM.
 */
int simgpu_engine_init(struct simgpu_device *gpu)
{
	struct simgpu_engine *engine = &gpu->engine;

	spin_lock_init(&engine->lock);
	engine->fence_context = dma_fence_context_alloc(1);
	engine->fence_seqno = 0;
	engine->wq = alloc_ordered_workqueue("%s-engine", 0, gpu->name);

	return engine->wq ? 0 : -ENOMEM;
}

/**
 * simgpu_engine_fini() - Stop a GPU's engine
 * @gpu: The GPU.
 *
 * Runs every queued batch to completion first, which drops the last
 * references on the VMs of closed files.
 */
void simgpu_engine_fini(struct simgpu_device *gpu)
{
	destroy_workqueue(gpu->engine.wq);
}
