/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _SIMGPU_TYPES_H_
#define _SIMGPU_TYPES_H_

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/hrtimer.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <drm/drm_device.h>

#include <gsvm/gsvm.h>

struct dentry;
struct faux_device;
struct mm_struct;

/** SIMGPU_MAX_GPUS - Upper bound of the num_gpus module parameter. */
#define SIMGPU_MAX_GPUS			64

/** SIMGPU_NAME_LEN - Size of &simgpu_device.name: "simgpu" and a u32. */
#define SIMGPU_NAME_LEN			20

/** SIMGPU_VA_BITS - Width of a GPU virtual address. */
#define SIMGPU_VA_BITS			48
/** SIMGPU_VA_SIZE - Size of the GPU virtual address space. */
#define SIMGPU_VA_SIZE			BIT_ULL(SIMGPU_VA_BITS)
/** SIMGPU_PAGE_SHIFT - log2 of the GPU page size. */
#define SIMGPU_PAGE_SHIFT		12
/** SIMGPU_PAGE_SIZE - GPU page size. */
#define SIMGPU_PAGE_SIZE		BIT_ULL(SIMGPU_PAGE_SHIFT)

/** SIMGPU_MAX_ASID - Largest address-space id; ASID 0 is never used. */
#define SIMGPU_MAX_ASID			0xffff

/** SIMGPU_TLB_ENTRIES - Number of entries of the fully associative TLB. */
#define SIMGPU_TLB_ENTRIES		64

/** SIMGPU_TLB_INVAL_QUEUE_LEN - Depth of the TLB invalidation request ring. */
#define SIMGPU_TLB_INVAL_QUEUE_LEN	128
/**
 * SIMGPU_TLB_INVAL_SEQNO_MAX - Seqnos run from 1 to this value minus one and
 * wrap, like Xe's TLB_INVALIDATION_SEQNO_MAX.
 */
#define SIMGPU_TLB_INVAL_SEQNO_MAX	0x100000

/**
 * enum simgpu_stat - Per-GPU counters, shown by the debugfs ``stats`` file
 * @SIMGPU_STAT_TLB_INVAL_SUBMITTED: TLB invalidations submitted.
 * @SIMGPU_STAT_TLB_INVAL_COMPLETED: TLB invalidations completed by the
 *	simulated hardware (or by a reset, before their timeout).
 * @SIMGPU_STAT_TLB_INVAL_TIMEOUTS: TLB invalidations that timed out.
 * @SIMGPU_STAT_TLB_HITS: Translations served by the TLB.
 * @SIMGPU_STAT_TLB_MISSES: Translations that walked the page table.
 * @SIMGPU_STAT_GPU_FAULTS: GPU page faults raised by the engine.
 * @SIMGPU_STAT_GPU_FAULTS_FAILED: GPU page faults gsvm could not service.
 * @SIMGPU_STAT_GPU_FAULTS_UNSERVICED: GPU page faults on dma-fence mode VMs,
 *	which the engine never services (the batch fails with -EFAULT).
 * @SIMGPU_STAT_JOBS_COMPLETED: Batches that completed without error.
 * @SIMGPU_STAT_JOBS_FAILED: Batches whose fence carries an error.
 * @SIMGPU_STAT_STALE_TLB_HITS: TLB hits whose entry no longer matched the
 *	current page-table entry.
 * @SIMGPU_STAT_DMA_UNMAPPED_ACCESSES: GPU accesses through a DMA address
 *	that was not DMA-mapped any more (DOC: simgpu DMA model).
 * @SIMGPU_STAT_NUM: Number of counters.
 */
enum simgpu_stat {
	SIMGPU_STAT_TLB_INVAL_SUBMITTED,
	SIMGPU_STAT_TLB_INVAL_COMPLETED,
	SIMGPU_STAT_TLB_INVAL_TIMEOUTS,
	SIMGPU_STAT_TLB_HITS,
	SIMGPU_STAT_TLB_MISSES,
	SIMGPU_STAT_GPU_FAULTS,
	SIMGPU_STAT_GPU_FAULTS_FAILED,
	SIMGPU_STAT_GPU_FAULTS_UNSERVICED,
	SIMGPU_STAT_JOBS_COMPLETED,
	SIMGPU_STAT_JOBS_FAILED,
	SIMGPU_STAT_STALE_TLB_HITS,
	SIMGPU_STAT_DMA_UNMAPPED_ACCESSES,
	SIMGPU_STAT_NUM,
};

/**
 * struct simgpu_knobs - Fault-injection and timing knobs of one GPU
 *
 * Written from debugfs at any time without a lock, read with READ_ONCE() by
 * the code they steer; a change applies to the next request or access.
 */
struct simgpu_knobs {
	/** @tlb_inval_latency_us: Time from submission to completion. */
	u32 tlb_inval_latency_us;
	/** @tlb_inval_timeout_ms: Age at which a request is declared lost. */
	u32 tlb_inval_timeout_ms;
	/** @skip_tlb_inval: Requests complete without flushing anything. */
	bool skip_tlb_inval;
	/** @skip_finish_wait: tlb_inval_wait returns at once. */
	bool skip_finish_wait;
	/** @hang_tlb_inval: Requests never complete on their own. */
	bool hang_tlb_inval;
	/**
	 * @timeout_noflush: A timeout signals the late fences with -ETIME
	 *	and drops the requests without flushing the TLB, as Xe does.
	 */
	bool timeout_noflush;
	/**
	 * @skip_tlb_reset: The recovery op (gsvm's tlb_inval_reset) reports
	 *	success without flushing anything (a bug injected for the
	 *	self-checks).
	 */
	bool skip_tlb_reset;
	/** @fail_tlb_reset: The recovery op fails with -EIO. */
	bool fail_tlb_reset;
	/**
	 * @skip_zap: gsvm's zap leaves the leaf entries in place and still
	 *	reports them live, so a TLB invalidation follows (a bug injected
	 *	for the self-checks).
	 */
	bool skip_zap;
	/**
	 * @tlb_inval_exact: Range requests flush exactly the submitted range,
	 *	not the aligned power of two a GuC request covers.
	 */
	bool tlb_inval_exact;
	/**
	 * @tlb_inval_short: Range requests flush the submitted range less
	 *	its last page, unwidened (a bug injected for the self-checks).
	 */
	bool tlb_inval_short;
	/**
	 * @tlb_inval_asid1: Range requests flush address space 1, whatever
	 *	VM they were for (a bug injected for the self-checks).
	 */
	bool tlb_inval_asid1;
	/**
	 * @seqno_nowrap: Completion compares seqnos as plain numbers, wrong
	 *	across the wrap (a bug injected for the self-checks).
	 */
	bool seqno_nowrap;
	/**
	 * @fold_no_flush_all: A request folded into the newest one when the
	 *	ring is full is dropped instead of turning it into a full flush
	 *	(a bug injected for the self-checks).
	 */
	bool fold_no_flush_all;
	/**
	 * @drop_stale_tlb_hits: A stale TLB hit is counted, then discarded
	 *	and treated as a miss instead of being used.
	 */
	bool drop_stale_tlb_hits;
	/**
	 * @skip_job_wait: Invalidations of a dma-fence mode VM zap without
	 *	waiting for its queued and running batches (a bug injected for
	 *	the self-checks).
	 */
	bool skip_job_wait;
	/**
	 * @skip_exec_revalidate: The exec ioctl of a dma-fence mode VM queues
	 *	the batch without revalidating invalidated bindings (a bug
	 *	injected for the self-checks).
	 */
	bool skip_exec_revalidate;
};

/**
 * struct simgpu_dma - The model of a GPU's DMA mappings
 *
 * See DOC: simgpu DMA model.
 */
struct simgpu_dma {
	/**
	 * @pages: DMA page frame number -> xa_mk_value(number of live
	 *	mappings). Written by the DMA API probes under its xa_lock,
	 *	read locklessly (RCU) by the engine.
	 */
	struct xarray pages;
	/** @mapped_pages: Entries of @pages; protected by its xa_lock. */
	unsigned long mapped_pages;
	/** @on: The probes are registered. */
	bool on;
	/** @lost: A mapping could not be recorded: the model stopped checking. */
	bool lost;
	/** @last_addr: DMA address of the last access through an unmapped one. */
	u64 last_addr;
	/** @last_va: GPU virtual address of that access. */
	u64 last_va;
};

/**
 * struct simgpu_tlb_entry - One cached translation
 *
 * All members are protected by &simgpu_tlb.mmu_lock.
 */
struct simgpu_tlb_entry {
	/** @vpn: GPU virtual page number (address >> %SIMGPU_PAGE_SHIFT). */
	u64 vpn;
	/** @pte: The page-table entry value the walk found at fill time. */
	u64 pte;
	/** @asid: Address-space id of the VM the entry belongs to. */
	u32 asid;
	/** @valid: The entry holds a translation. */
	bool valid;
};

/**
 * struct simgpu_tlb - The GPU's TLB and its MMU lock
 */
struct simgpu_tlb {
	/**
	 * @mmu_lock: Held across every GPU memory access (TLB lookup, page
	 *	walk and fill on a miss, and the access itself) and by every TLB
	 *	flush. Once a flush has dropped it, no access uses a translation
	 *	the flush removed. Taken with bottom halves disabled: the
	 *	invalidation timer takes it in softirq context. Nests outside
	 *	&simgpu_tlb_inval.lock.
	 */
	spinlock_t mmu_lock;
	/** @entries: The cache, fully associative. Protected by @mmu_lock. */
	struct simgpu_tlb_entry entries[SIMGPU_TLB_ENTRIES];
	/** @victim: Next entry to replace. Protected by @mmu_lock. */
	unsigned int victim;
};

/**
 * struct simgpu_tlb_inval_req - One request in the invalidation ring
 *
 * The simulated firmware's view of a submitted invalidation, shaped like
 * Xe's ``XE_GUC_ACTION_TLB_INVALIDATION`` message. Protected by
 * &simgpu_tlb_inval.lock.
 */
struct simgpu_tlb_inval_req {
	/** @submit_time: When the (oldest folded) request was submitted. */
	ktime_t submit_time;
	/** @deadline: When the simulated hardware completes it. */
	ktime_t deadline;
	/** @start: First address covered, aligned to @size. */
	u64 start;
	/** @size: Bytes covered, a power of two. */
	u64 size;
	/** @seqno: Seqno reported as done when the request completes. */
	u32 seqno;
	/** @asid: Address space to flush. */
	u32 asid;
	/** @count: Number of submissions folded into this request. */
	u32 count;
	/** @all: Flush every entry of every address space. */
	bool all;
};

/**
 * struct simgpu_tlb_inval - The GPU's TLB invalidation queue
 *
 * Requests complete in submission order, each
 * &simgpu_knobs.tlb_inval_latency_us after it was submitted, like Xe's GuC
 * TLB invalidation protocol.
 */
struct simgpu_tlb_inval {
	/**
	 * @lock: Protects the request ring (@queue, @head, @count), the seqnos
	 *	and @pending, and is held while fences are signalled, so that a
	 *	waiter that took it after its fence signalled knows the signaller
	 *	is done with the fence. Taken with interrupts disabled; nests
	 *	inside &simgpu_tlb.mmu_lock.
	 */
	spinlock_t lock;
	/** @queue: Ring of requests not yet completed. */
	struct simgpu_tlb_inval_req queue[SIMGPU_TLB_INVAL_QUEUE_LEN];
	/** @head: Index of the oldest request in @queue. */
	unsigned int head;
	/** @count: Number of requests in @queue. */
	unsigned int count;
	/** @seqno: Seqno the next submission gets. */
	u32 seqno;
	/** @seqno_done: Seqno of the last completed request. */
	u32 seqno_done;
	/**
	 * @pending: &gsvm_tlb_inval_fence.link list of unsignalled fences, in
	 *	seqno order.
	 */
	struct list_head pending;
	/** @fence_context: dma-fence context of the invalidation fences. */
	u64 fence_context;
	/** @fence_seqno: Last dma-fence seqno used in @fence_context. */
	u64 fence_seqno;
	/** @timer: Soft hrtimer that completes requests at their deadline. */
	struct hrtimer timer;
	/** @timeout_work: Declares requests lost and resets the TLB. */
	struct delayed_work timeout_work;
	/** @wq: Reclaim-safe workqueue running @timeout_work. */
	struct workqueue_struct *wq;
};

/**
 * struct simgpu_engine - The GPU's command engines
 *
 * Two engines, as Xe separates dma-fence and long-running work on one
 * engine group: dma-fence mode batches run on @wq, fault-mode batches on
 * @lr_wq, so that a dma-fence batch never waits behind fault servicing.
 * Each engine runs one batch at a time, taking the VMs with queued batches
 * in turn (DOC: simgpu engine, "Scheduling").
 */
struct simgpu_engine {
	/**
	 * @wq: Ordered, reclaim-safe workqueue running @run: dma-fence mode
	 *	batches, one at a time.
	 */
	struct workqueue_struct *wq;
	/** @lr_wq: Ordered workqueue running @lr_run: fault-mode batches. */
	struct workqueue_struct *lr_wq;
	/** @run: Runs the next dma-fence mode batch, then queues itself again. */
	struct work_struct run;
	/** @lr_run: The same for fault-mode batches. */
	struct work_struct lr_run;
	/**
	 * @active: &simgpu_vm.engine_link list of the dma-fence mode VMs with
	 *	queued batches, in the order they get their next turn.
	 */
	struct list_head active;
	/** @lr_active: The same for fault-mode VMs. */
	struct list_head lr_active;
	/**
	 * @fault_wq: The GPU's page-fault queue, the shape of Xe's
	 *	xe_pagefault.c: a faulting fault-mode batch posts its fault here
	 *	and stalls until the fault is serviced.
	 */
	struct workqueue_struct *fault_wq;
	/**
	 * @free_wq: Drops the batches' VM references, which may tear a VM
	 *	down: never on @wq, whose batches an invalidation may wait for.
	 */
	struct workqueue_struct *free_wq;
	/** @ufence_wq: Woken whenever a user fence was written. */
	wait_queue_head_t ufence_wq;
	/**
	 * @lock: Makes the fence seqno order of a VM's batches their
	 *	execution order; protects @active, @lr_active, @seqno and the
	 *	VMs' &simgpu_vm.job_queue, &simgpu_vm.engine_link,
	 *	&simgpu_vm.fence_seqno and &simgpu_vm.last_fence.
	 */
	spinlock_t lock;
	/** @seqno: Last number given to a batch of this GPU (traces only). */
	u64 seqno;
};

/**
 * struct simgpu_device - One simulated GPU
 */
struct simgpu_device {
	/** @drm: The DRM device; its struct device does the DMA mapping. */
	struct drm_device drm;
	/** @faux: The faux bus device @drm lives on. */
	struct faux_device *faux;
	/** @index: Index of the GPU, 0 .. num_gpus - 1. */
	unsigned int index;
	/** @name: "simgpu<index>", used in traces and by gsvm. */
	char name[SIMGPU_NAME_LEN];
	/** @knobs: debugfs knobs. */
	struct simgpu_knobs knobs;
	/** @stats: Counters, see &enum simgpu_stat. */
	atomic64_t stats[SIMGPU_STAT_NUM];
	/** @dma: The model of the GPU's DMA mappings. */
	struct simgpu_dma dma;
	/** @asids: Allocator of VM address-space ids (internally locked). */
	struct ida asids;
	/** @tlb: The TLB and the MMU lock. */
	struct simgpu_tlb tlb;
	/** @tlb_inval: The TLB invalidation queue. */
	struct simgpu_tlb_inval tlb_inval;
	/** @engine: The command engines and the page-fault queue. */
	struct simgpu_engine engine;
	/** @debugfs: This GPU's directory under /sys/kernel/debug/simgpu. */
	struct dentry *debugfs;
	/**
	 * @vms_lock: Protects @vms and &simgpu_vm.dead, and serialises the
	 *	teardown of a VM's bindings between its release and the GPU's
	 *	removal. Outermost: taken with no other simgpu or gsvm lock held.
	 */
	struct mutex vms_lock;
	/** @vms: &simgpu_vm.link list of the GPU's VMs. */
	struct list_head vms;
	/**
	 * @unplugged: Set when the GPU starts going away (before
	 *	drm_dev_unplug()): user-fence waits end with -ENODEV.
	 */
	bool unplugged;
};

/**
 * struct simgpu_pt - A GPU VM's 4-level page table
 *
 * 48-bit virtual addresses, 4 KiB pages, 512 entries of 64 bits per level.
 * Directory entries hold the physical address of the next level; leaf
 * entries hold a DMA address. Directories are created by
 * simgpu_pt_prepare() under &gsvm_mirror.lock and never freed before the
 * VM, so that the engine can walk the table without a lock.
 */
struct simgpu_pt {
	/** @root: The level-3 table. */
	u64 *root;
};

/**
 * struct simgpu_vm - A GPU VM mirroring one process
 */
struct simgpu_vm {
	/** @mirror: gsvm's state, which owns the bindings. */
	struct gsvm_mirror mirror;
	/** @gpu: The GPU (holds a drm_dev_get() reference). */
	struct simgpu_device *gpu;
	/** @pt: The page table. */
	struct simgpu_pt pt;
	/**
	 * @refcount: One reference for the file's VM table, one per batch
	 *	queued or running, one per ioctl using the VM.
	 */
	struct kref refcount;
	/**
	 * @mm: The address space the VM mirrors; only compared with
	 *	current->mm, never dereferenced (@mirror holds the mmgrab()).
	 */
	struct mm_struct *mm;
	/** @num_bindings: Bindings live in @mirror. */
	atomic_t num_bindings;
	/** @num_jobs: Batches queued or running, up to ``max_jobs_per_vm``. */
	atomic_t num_jobs;
	/** @link: Link in &simgpu_device.vms. */
	struct list_head link;
	/**
	 * @dead: The bindings, the mirror and the ASID are gone: the GPU was
	 *	removed while the VM lived. Protected by &simgpu_device.vms_lock.
	 */
	bool dead;
	/** @asid: Address-space id, unique on @gpu while the VM lives. */
	u32 asid;
	/** @fault_mode: Created with %DRM_SIMGPU_VM_CREATE_FAULT_MODE. */
	bool fault_mode;
	/** @svm: Created with %DRM_SIMGPU_VM_CREATE_SVM. */
	bool svm;
	/**
	 * @job_queue: &simgpu_job.link list of the VM's batches waiting for
	 *	the engine, in submission order. Protected by
	 *	&simgpu_engine.lock.
	 */
	struct list_head job_queue;
	/**
	 * @engine_link: Link in &simgpu_engine.active (or lr_active) while
	 *	@job_queue is not empty. Protected by &simgpu_engine.lock.
	 */
	struct list_head engine_link;
	/**
	 * @fence_context: dma-fence context of the VM's batch fences: the
	 *	engine takes VMs in turn, so only one VM's batches complete in
	 *	seqno order.
	 */
	u64 fence_context;
	/** @fence_seqno: Last seqno used in @fence_context. */
	u64 fence_seqno;
	/**
	 * @last_fence: Fence of the last batch queued on a dma-fence mode VM,
	 *	or NULL; batches of a VM complete in order, so it signals once
	 *	all have. Protected by &simgpu_engine.lock; published under the
	 *	notifier lock (read), so invalidations (write) see every batch
	 *	that was queued against the bindings they invalidate.
	 */
	struct dma_fence *last_fence;
};

/**
 * struct simgpu_file - Per open file state
 */
struct simgpu_file {
	/** @vms: The file's VMs by id (from 1); internally locked. */
	struct xarray vms;
};

#endif /* _SIMGPU_TYPES_H_ */
