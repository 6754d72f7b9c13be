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
#include <linux/error-injection.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <drm/drm_file.h>
#include <drm/drm_syncobj.h>

#include <drm/simgpu_drm.h>

#include "simgpu_dma.h"
#include "simgpu_drv.h"
#include "simgpu_engine.h"
#include "simgpu_pt.h"
#include "simgpu_tlb.h"
#include "simgpu_trace.h"
#include "simgpu_vm.h"

/**
 * DOC: simgpu engine
 *
 * Each GPU has two engines, ordered workqueues on which batches run one at a
 * time: one for dma-fence mode VMs, one for fault-mode VMs (see DOC: simgpu
 * uAPI). A batch first waits for its in-fence, then the engine fetches it
 * word by word from GPU virtual memory and executes the commands of
 * &enum drm_simgpu_cmd.
 *
 * Scheduling: each VM has its own line of batches, run in submission order
 * (its fences have a dma-fence context of their own and signal in seqno
 * order). The engine takes the VMs with queued batches in turn, one batch
 * each, so a VM that queued ``max_jobs_per_vm`` batches does not hold back
 * another VM's batch by more than one of its batches: another user waits
 * at most one batch (at most ``job_budget_ms``, 10 s by default) per other
 * VM with work queued. A file can hold ``max_vms_per_file`` VMs (64) and so
 * get that many turns in a round, as an Xe client gets one per exec queue.
 *
 * This is a round-robin of a few lines, not drm_sched. drm_sched would
 * bring per-entity run queues, dependency tracking and a timeout handler
 * (TDR) that resets a hung ring; simgpu has no ring to reset (a batch's
 * time budget ends it from inside the engine), its only dependency is one
 * in-fence waited for in the engine, and fault-mode batches have no
 * dma-fence at all, which drm_sched's job model is built around. If
 * simgpu grows real dependencies, priorities or engine resets, drm_sched
 * (as Xe uses it, with one entity per exec queue) is the way, not a larger
 * home-made scheduler.
 *
 * Every access, instruction fetch included, goes through the GPU MMU: with
 * the GPU's &simgpu_tlb.mmu_lock held, simgpu_tlb_translate() looks the
 * page up in the TLB or walks the page table, and the access itself is done
 * through the translation: DMA address, dma_to_phys(), page,
 * kmap_local_page(). This is the simulated DMA; it assumes direct DMA
 * mapping (no IOMMU and no bounce buffering for the faux device).
 *
 * An access that finds no valid translation, or a read-only one for a
 * write, is a GPU page fault. On a fault-mode VM the engine drops the MMU
 * lock, posts the fault to the GPU's fault workqueue, stalls until the fault
 * worker has answered it (gsvm_handle_fault()) and replays the access, up
 * to %SIMGPU_FAULT_RETRIES times per access and within the batch's time
 * budget, which holds across faults. On a dma-fence mode VM the engine
 * never services a fault: the access fails (-EACCES for a write through a
 * read-only translation, -EFAULT otherwise) and
 * ``gpu_faults_unserviced`` counts it. The batch's result is its first
 * error (-EFAULT, -EACCES, -EINVAL for a malformed batch, -ETIMEDOUT past
 * the ``job_budget_ms`` module parameter, 10 s by default) and the
 * remaining commands are skipped. The same budget bounds the wait for the
 * batch's in-fence.
 *
 * A dma-fence mode batch's fence may be exported anywhere and waited for
 * by reclaim and by the VM's own invalidations, so from the end of the
 * in-fence wait to the signalling of its fence the batch runs in a fence
 * signalling critical section (dma_fence_begin_signalling()): it takes no
 * lock that is held while waiting for a fence, allocates nothing and never
 * faults memory in, and lockdep checks it. Its engine is reclaim-safe
 * (WQ_MEM_RECLAIM). The batch's references are dropped on a third
 * workqueue, as dropping the last reference on a VM tears it down, which
 * waits for invalidations that may in turn wait for batches queued behind.
 *
 * A fault-mode batch has no dma-fence; it reports its result through a user
 * fence (&struct drm_simgpu_user_fence), which the engine writes into the
 * process's memory with kthread_use_mm() and then wakes every waiter of
 * DRM_IOCTL_SIMGPU_WAIT_USER_FENCE on the GPU.
 */

/* Limits of a batch. */
#define SIMGPU_JOB_MAX_CMDS		SZ_64K
#define SIMGPU_FAULT_RETRIES		16
#define SIMGPU_COPY_MAX			SZ_1M
#define SIMGPU_DELAY_MAX_US		100000
#define SIMGPU_STORE_LOOP_MAX		1000000
/* Revalidation attempts of a dma-fence exec before it gives up (-EBUSY). */
#define SIMGPU_EXEC_TRIES		16

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
 * @link: Link in &simgpu_vm.job_queue until the engine takes it.
 * @free_work: Drops the job's references, on &simgpu_engine.free_wq.
 * @vm: The VM the batch runs in (a reference).
 * @fence: The batch's completion fence (a reference); dma-fence mode only.
 * @in_fence: Fence to wait for before running, or NULL (a reference).
 * @seqno: Position in its GPU's submission order (traces).
 * @batch_addr: GPU virtual address of the first command.
 * @ufence_addr: CPU address of the user fence, or 0; fault mode only.
 * @ufence_value: Value the user fence gets.
 * @pc: GPU virtual address of the next word to fetch.
 * @deadline: End of the time budget.
 */
struct simgpu_job {
	struct list_head link;
	struct work_struct free_work;
	struct simgpu_vm *vm;
	struct dma_fence *fence;
	struct dma_fence *in_fence;
	u64 seqno;
	u64 batch_addr;
	u64 ufence_addr;
	u64 ufence_value;
	u64 pc;
	ktime_t deadline;
};

/**
 * struct simgpu_fault - A GPU page fault posted to the fault workqueue
 * @work: Services the fault, on &simgpu_engine.fault_wq.
 * @vm: The VM of the faulting access.
 * @va: The faulting GPU virtual address.
 * @write: The access was a write.
 * @err: The answer: 0 to replay, or the error that fails the batch.
 */
struct simgpu_fault {
	struct work_struct work;
	struct simgpu_vm *vm;
	u64 va;
	bool write;
	int err;
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

/*
 * Simulated DMA: map the byte at @va through leaf entry @pte, checking the
 * DMA address against the DMA model (DOC: simgpu DMA model).
 */
static void *simgpu_engine_map(struct simgpu_device *gpu, u64 pte, u64 va,
			       bool write)
{
	dma_addr_t addr = simgpu_pte_addr(pte);
	phys_addr_t phys = dma_to_phys(gpu->drm.dev, addr);
	unsigned long pfn = PHYS_PFN(phys);

	if (WARN_ON_ONCE(!pfn_valid(pfn)))
		return NULL;

	simgpu_dma_check(gpu, addr, va, write);
	return kmap_local_page(pfn_to_page(pfn)) + (va & (SIMGPU_PAGE_SIZE - 1));
}

/* Perform @op on translated operands; &simgpu_tlb.mmu_lock held. */
static int simgpu_engine_mem_do(struct simgpu_device *gpu, enum simgpu_mem_op op,
				const u64 *va, const u64 *pte, u32 len, u32 *val)
{
	void *p0, *p1;

	simgpu_tlb_assert_held(&gpu->tlb);

	p0 = simgpu_engine_map(gpu, pte[0], va[0], op != SIMGPU_MEM_READ);
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
		p1 = simgpu_engine_map(gpu, pte[1], va[1], false);
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

static void simgpu_fault_work(struct work_struct *work)
{
	struct simgpu_fault *fault = container_of(work, struct simgpu_fault, work);

	fault->err = simgpu_vm_handle_fault(fault->vm, fault->va, fault->write);
}

static bool simgpu_engine_timed_out(const struct simgpu_job *job)
{
	return ktime_after(ktime_get(), job->deadline);
}

/*
 * A GPU page fault on @va, for which translation returned @xlate_err.
 * Fault mode: post it to the fault workqueue and stall until it is answered.
 * dma-fence mode: never serviced.
 */
static int simgpu_engine_fault(struct simgpu_job *job, u64 va, bool write,
			       int xlate_err)
{
	struct simgpu_vm *vm = job->vm;
	struct simgpu_device *gpu = vm->gpu;
	struct simgpu_fault fault = { .vm = vm, .va = va, .write = write };

	if (!vm->fault_mode) {
		simgpu_stat_inc(gpu, SIMGPU_STAT_GPU_FAULTS_UNSERVICED);
		trace_simgpu_gpu_fault(gpu, vm->asid, va, write, -EFAULT);
		return xlate_err == -EACCES ? -EACCES : -EFAULT;
	}

	INIT_WORK_ONSTACK(&fault.work, simgpu_fault_work);
	queue_work(gpu->engine.fault_wq, &fault.work);
	flush_work(&fault.work);
	destroy_work_on_stack(&fault.work);

	if (!fault.err && simgpu_engine_timed_out(job))
		return -ETIMEDOUT;
	return fault.err;
}

/*
 * One GPU memory operation on @addr (the destination of a copy, whose
 * source is @src; @len bytes within one page each). Translates and performs
 * it under the MMU lock; on a GPU page fault has it serviced and replays.
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
		err = simgpu_engine_fault(job, va[i], write[i], err);
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

static void simgpu_job_free_work(struct work_struct *work)
{
	struct simgpu_job *job = container_of(work, struct simgpu_job, free_work);

	dma_fence_put(job->in_fence);
	dma_fence_put(job->fence);
	atomic_dec(&job->vm->num_jobs);
	simgpu_vm_put(job->vm);
	kfree(job);
}

/* Write a fault-mode batch's user fence: error first, then the value. */
static void simgpu_job_write_ufence(struct simgpu_job *job, int err)
{
	struct drm_simgpu_user_fence __user *ufence = u64_to_user_ptr(job->ufence_addr);
	struct mm_struct *mm = job->vm->mirror.mm;
	struct simgpu_engine *engine = &job->vm->gpu->engine;

	if (job->ufence_addr && mmget_not_zero(mm)) {
		kthread_use_mm(mm);
		if (!put_user(err, &ufence->error)) {
			/* Pairs with smp_rmb() in the wait ioctl. */
			smp_wmb();
			put_user(job->ufence_value, &ufence->value);
		}
		kthread_unuse_mm(mm);
		mmput_async(mm);
	}

	wake_up_all(&engine->ufence_wq);
}

static unsigned int job_budget_ms = 10000;
module_param(job_budget_ms, uint, 0644);
MODULE_PARM_DESC(job_budget_ms,
		 "Run time of one batch, faults included, in ms (default 10000, at most 60000); past it the batch fails with -ETIMEDOUT");

static void simgpu_job_run(struct simgpu_job *job)
{
	struct simgpu_device *gpu = job->vm->gpu;
	bool fault_mode = job->vm->fault_mode;
	unsigned int budget_ms = clamp(READ_ONCE(job_budget_ms), 1u, 60000u);
	bool cookie = false;
	int err = 0;

	if (job->in_fence &&
	    !dma_fence_wait_timeout(job->in_fence, false, msecs_to_jiffies(budget_ms)))
		err = -ETIMEDOUT;

	if (!fault_mode)
		cookie = dma_fence_begin_signalling();

	trace_simgpu_job_begin(gpu, job->seqno, err);
	if (!err) {
		job->deadline = ktime_add_ms(ktime_get(), budget_ms);
		err = simgpu_engine_run_batch(job);
	}

	if (err)
		simgpu_stat_inc(gpu, SIMGPU_STAT_JOBS_FAILED);
	else
		simgpu_stat_inc(gpu, SIMGPU_STAT_JOBS_COMPLETED);
	trace_simgpu_job_end(gpu, job->seqno, err);

	if (fault_mode) {
		simgpu_job_write_ufence(job, err);
	} else {
		if (err)
			dma_fence_set_error(job->fence, err);
		dma_fence_signal(job->fence);
		dma_fence_end_signalling(cookie);
	}

	queue_work(gpu->engine.free_wq, &job->free_work);
}

/*
 * Takes the first VM of @active in line, runs its oldest batch, and puts
 * the VM back at the end of the line if it has more: VMs get the engine in
 * turn, one batch each, however many batches one of them queued.
 */
static void simgpu_engine_run_next(struct simgpu_engine *engine,
				   struct list_head *active, struct work_struct *run)
{
	struct simgpu_job *job;
	struct simgpu_vm *vm;

	spin_lock(&engine->lock);
	vm = list_first_entry_or_null(active, struct simgpu_vm, engine_link);
	if (!vm) {
		spin_unlock(&engine->lock);
		return;
	}
	job = list_first_entry(&vm->job_queue, struct simgpu_job, link);
	list_del(&job->link);
	list_del_init(&vm->engine_link);
	if (!list_empty(&vm->job_queue))
		list_add_tail(&vm->engine_link, active);
	/* Ordered workqueue: the next turn runs after this one. */
	if (!list_empty(active))
		queue_work(run == &engine->run ? engine->wq : engine->lr_wq, run);
	spin_unlock(&engine->lock);

	simgpu_job_run(job);
}

static void simgpu_engine_run(struct work_struct *work)
{
	struct simgpu_engine *engine = container_of(work, struct simgpu_engine, run);

	simgpu_engine_run_next(engine, &engine->active, work);
}

static void simgpu_engine_lr_run(struct work_struct *work)
{
	struct simgpu_engine *engine = container_of(work, struct simgpu_engine, lr_run);

	simgpu_engine_run_next(engine, &engine->lr_active, work);
}

/* Queue @job on its VM's line; engine lock held. */
static void simgpu_engine_queue(struct simgpu_engine *engine, struct simgpu_job *job)
{
	struct simgpu_vm *vm = job->vm;
	bool lr = vm->fault_mode;

	lockdep_assert_held(&engine->lock);
	job->seqno = ++engine->seqno;
	list_add_tail(&job->link, &vm->job_queue);
	if (list_empty(&vm->engine_link))
		list_add_tail(&vm->engine_link, lr ? &engine->lr_active : &engine->active);
	queue_work(lr ? engine->lr_wq : engine->wq, lr ? &engine->lr_run : &engine->run);
}

/*
 * dma-fence mode: revalidate the VM's invalidated bindings, then return
 * with the notifier lock held (read) and every binding valid, so that the
 * batch's fence is published before any invalidation can miss it.
 */
static noinline int simgpu_engine_revalidate_lock(struct simgpu_vm *vm)
{
	bool skip = READ_ONCE(vm->gpu->knobs.skip_exec_revalidate);
	unsigned int tries;
	int err;

	for (tries = 0; tries < SIMGPU_EXEC_TRIES; tries++) {
		if (!skip) {
			err = gsvm_mirror_revalidate(&vm->mirror);
			if (err)
				return err;
		}

		drm_gpusvm_notifier_lock(&vm->mirror.gpusvm);
		if (skip || gsvm_mirror_valid(&vm->mirror))
			return 0;
		drm_gpusvm_notifier_unlock(&vm->mirror.gpusvm);

		if (fatal_signal_pending(current))
			return -EINTR;
	}

	return -EBUSY;
}
ALLOW_ERROR_INJECTION(simgpu_engine_revalidate_lock, ERRNO);

static noinline struct simgpu_job *simgpu_job_alloc(void)
{
	return kzalloc_obj(struct simgpu_job, GFP_KERNEL_ACCOUNT);
}
ALLOW_ERROR_INJECTION(simgpu_job_alloc, NULL);

static unsigned int max_jobs_per_vm = 1024;
module_param(max_jobs_per_vm, uint, 0644);
MODULE_PARM_DESC(max_jobs_per_vm,
		 "Batches one VM may have queued or running (default 1024); more fail with -ENOSPC");

/**
 * simgpu_engine_exec_ioctl() - DRM_IOCTL_SIMGPU_EXEC
 * @drm: The DRM device.
 * @data: &struct drm_simgpu_exec.
 * @file: The DRM file.
 *
 * Queues the batch on the engine of the VM's mode; its result is reported
 * through the fence installed in the out syncobj (dma-fence mode) or the
 * user fence (fault mode).
 *
 * Return: 0, -EINVAL for malformed arguments or a completion the VM's mode
 * does not allow, -EFAULT for a user fence outside the user address space,
 * -ENOENT for an unknown VM, an unknown syncobj or an in-syncobj without a
 * fence, -EPERM from another process, -EBUSY if the bindings of a
 * dma-fence mode VM kept being invalidated while they were revalidated,
 * -ENOSPC if the VM already has ``max_jobs_per_vm`` batches queued or
 * running (wait for some to end), -EINTR if killed meanwhile, -ENOMEM.
 */
int simgpu_engine_exec_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct simgpu_device *gpu = to_simgpu_device(drm);
	struct simgpu_engine *engine = &gpu->engine;
	struct drm_simgpu_exec *args = data;
	struct drm_syncobj *out_syncobj = NULL;
	struct simgpu_job_fence *fence = NULL;
	struct simgpu_job *job;
	struct simgpu_vm *vm;
	int err;

	if (args->extensions || args->flags || args->reserved[0] || args->reserved[1])
		return -EINVAL;
	if (!IS_ALIGNED(args->batch_addr, sizeof(u32)) ||
	    args->batch_addr >= SIMGPU_VA_SIZE)
		return -EINVAL;
	if (!IS_ALIGNED(args->user_fence_addr, sizeof(u64)) ||
	    (!args->user_fence_addr && args->user_fence_value))
		return -EINVAL;

	vm = simgpu_vm_lookup(file, args->vm_id);
	if (IS_ERR(vm))
		return PTR_ERR(vm);

	err = -EINVAL;
	if (vm->fault_mode ? args->out_syncobj : args->user_fence_addr)
		goto err_vm;
	err = -EFAULT;
	if (args->user_fence_addr &&
	    !access_ok(u64_to_user_ptr(args->user_fence_addr),
		       sizeof(struct drm_simgpu_user_fence)))
		goto err_vm;

	/*
	 * Bounded, and charged to the caller: a flood fails, it does not
	 * queue. Not -EAGAIN, which libdrm's drmIoctl() retries in a loop.
	 */
	err = -ENOSPC;
	if (atomic_inc_return(&vm->num_jobs) > READ_ONCE(max_jobs_per_vm))
		goto err_jobs;
	err = -ENOMEM;
	job = simgpu_job_alloc();
	if (!job)
		goto err_jobs;
	if (!vm->fault_mode) {
		fence = kzalloc_obj(*fence, GFP_KERNEL_ACCOUNT);
		if (!fence)
			goto err_job;
		snprintf(fence->timeline, sizeof(fence->timeline), "%s-engine",
			 gpu->name);
	}

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

	INIT_WORK(&job->free_work, simgpu_job_free_work);
	job->vm = vm;
	job->batch_addr = args->batch_addr;
	job->ufence_addr = args->user_fence_addr;
	job->ufence_value = args->user_fence_value;

	if (vm->fault_mode) {
		spin_lock(&engine->lock);
		simgpu_engine_queue(engine, job);
		spin_unlock(&engine->lock);
		return 0;
	}

	err = simgpu_engine_revalidate_lock(vm);
	if (err)
		goto err_out_syncobj;

	/* A VM's fence seqno order is its execution order. */
	spin_lock(&engine->lock);
	dma_fence_init64(&fence->base, &simgpu_job_fence_ops, NULL,
			 vm->fence_context, ++vm->fence_seqno);
	job->fence = &fence->base;
	/* Invalidations of the VM's bindings wait for this fence from now on. */
	dma_fence_put(vm->last_fence);
	vm->last_fence = dma_fence_get(&fence->base);
	/* The job may complete and drop its reference at once. */
	dma_fence_get(&fence->base);
	simgpu_engine_queue(engine, job);
	spin_unlock(&engine->lock);
	drm_gpusvm_notifier_unlock(&vm->mirror.gpusvm);

	if (out_syncobj) {
		drm_syncobj_replace_fence(out_syncobj, &fence->base);
		drm_syncobj_put(out_syncobj);
	}
	dma_fence_put(&fence->base);
	return 0;

err_out_syncobj:
	if (out_syncobj)
		drm_syncobj_put(out_syncobj);
err_in_fence:
	dma_fence_put(job->in_fence);
err_fence:
	kfree(fence);
err_job:
	kfree(job);
err_jobs:
	atomic_dec(&vm->num_jobs);
err_vm:
	simgpu_vm_put(vm);
	return err;
}

/**
 * simgpu_engine_wait_ufence_ioctl() - DRM_IOCTL_SIMGPU_WAIT_USER_FENCE
 * @drm: The DRM device.
 * @data: &struct drm_simgpu_wait_user_fence.
 * @file: The DRM file.
 *
 * Return: 0 with &drm_simgpu_wait_user_fence.error set, -EINVAL for
 * malformed arguments, -EFAULT if the fence cannot be read, -ETIME on
 * timeout, -ERESTARTSYS on a signal, -ENODEV once the GPU is being removed.
 */
int simgpu_engine_wait_ufence_ioctl(struct drm_device *drm, void *data,
				    struct drm_file *file)
{
	struct simgpu_engine *engine = &to_simgpu_device(drm)->engine;
	struct drm_simgpu_wait_user_fence *args = data;
	struct drm_simgpu_user_fence __user *ufence = u64_to_user_ptr(args->addr);
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	long timeout;
	int err;

	if (args->extensions || args->flags || args->reserved[0] || args->reserved[1] ||
	    args->timeout_ns < 0 || !IS_ALIGNED(args->addr, sizeof(u64)))
		return -EINVAL;
	if (!access_ok(ufence, sizeof(*ufence)))
		return -EFAULT;

	/* Round up: a timeout shorter than a tick still waits one. */
	timeout = args->timeout_ns > S64_MAX - TICK_NSEC ? MAX_SCHEDULE_TIMEOUT :
		  min_t(u64, nsecs_to_jiffies64(args->timeout_ns + TICK_NSEC - 1),
			MAX_SCHEDULE_TIMEOUT);

	add_wait_queue(&engine->ufence_wq, &wait);
	for (;;) {
		u64 value, again;
		s32 error;

		/* A record written again meanwhile is read again. */
		err = get_user(value, &ufence->value);
		if (!err && value >= args->value) {
			/* Pairs with smp_wmb() in simgpu_job_write_ufence(). */
			smp_rmb();
			err = get_user(error, &ufence->error);
			/* Error before the second read of the value. */
			smp_rmb();
			if (!err)
				err = get_user(again, &ufence->value);
			if (!err && again != value)
				continue;
			if (!err)
				args->error = error;
			break;
		}
		if (err) {
			err = -EFAULT;
			break;
		}
		if (!timeout) {
			err = -ETIME;
			break;
		}
		/* simgpu_device_remove() wakes us, then waits for the ioctl to end. */
		if (READ_ONCE(to_simgpu_device(drm)->unplugged)) {
			err = -ENODEV;
			break;
		}
		if (signal_pending(current)) {
			/* Restarted with what is left of the timeout. */
			if (timeout != MAX_SCHEDULE_TIMEOUT)
				args->timeout_ns = jiffies_to_nsecs(timeout);
			err = -ERESTARTSYS;
			break;
		}
		timeout = wait_woken(&wait, TASK_INTERRUPTIBLE, timeout);
	}
	remove_wait_queue(&engine->ufence_wq, &wait);

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
	init_waitqueue_head(&engine->ufence_wq);
	engine->seqno = 0;
	INIT_LIST_HEAD(&engine->active);
	INIT_LIST_HEAD(&engine->lr_active);
	INIT_WORK(&engine->run, simgpu_engine_run);
	INIT_WORK(&engine->lr_run, simgpu_engine_lr_run);

	engine->wq = alloc_ordered_workqueue("%s-engine", WQ_MEM_RECLAIM, gpu->name);
	engine->lr_wq = alloc_ordered_workqueue("%s-engine-lr", 0, gpu->name);
	engine->free_wq = alloc_workqueue("%s-engine-free", WQ_UNBOUND, 0, gpu->name);
	engine->fault_wq = alloc_ordered_workqueue("%s-faults", 0, gpu->name);
	if (!engine->wq || !engine->lr_wq || !engine->free_wq || !engine->fault_wq) {
		simgpu_engine_fini(gpu);
		return -ENOMEM;
	}

	return 0;
}

/**
 * simgpu_engine_fini() - Stop a GPU's engine
 * @gpu: The GPU.
 *
 * Runs every queued batch to completion first (fault-mode batches with the
 * fault worker still answering), then drops their references, the last
 * ones on the VMs of closed files.
 */
void simgpu_engine_fini(struct simgpu_device *gpu)
{
	struct simgpu_engine *engine = &gpu->engine;

	if (engine->lr_wq)
		destroy_workqueue(engine->lr_wq);
	if (engine->wq)
		destroy_workqueue(engine->wq);
	if (engine->fault_wq)
		destroy_workqueue(engine->fault_wq);
	if (engine->free_wq)
		destroy_workqueue(engine->free_wq);
	engine->lr_wq = NULL;
	engine->wq = NULL;
	engine->free_wq = NULL;
	engine->fault_wq = NULL;
}
