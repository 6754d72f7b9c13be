// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 */

#include <linux/align.h>
#include <linux/container_of.h>
#include <linux/dma-fence.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <drm/drm_print.h>

#include <gsvm/gsvm.h>

#include "simgpu_drv.h"
#include "simgpu_tlb.h"
#include "simgpu_tlb_inval.h"
#include "simgpu_trace.h"

/**
 * DOC: simgpu TLB invalidation
 *
 * The invalidation queue mimics Xe's GuC TLB invalidation protocol
 * (xe_tlb_inval.c, xe_guc_tlb_inval.c):
 *
 * - simgpu_tlb_inval_submit() (gsvm's &gsvm_backend_ops.tlb_inval_submit)
 *   assigns a seqno (1 .. %SIMGPU_TLB_INVAL_SEQNO_MAX - 1, wrapping),
 *   widens the range to an aligned power of two (not with
 *   ``tlb_inval_exact``), initialises the caller's
 *   fence, adds it to the pending list and puts a request into a fixed ring.
 *   It never allocates or sleeps. If the ring is full, the new request is
 *   folded into the newest one, which becomes a full flush reporting the new
 *   seqno: completion stays in order and covers both.
 * - The simulated hardware completes requests in order, each
 *   ``tlb_inval_latency_us`` after its submission: under
 *   &simgpu_tlb.mmu_lock it drops the matching TLB entries (nothing with
 *   ``skip_tlb_inval``), records the request's seqno as done, then signals
 *   every pending fence whose seqno is past, in order. With
 *   ``hang_tlb_inval`` nothing completes.
 * - Completion is evaluated when it can be observed, not by a timer per
 *   request: every observer first completes the requests whose deadline has
 *   passed (simgpu_tlb_inval_poll()): a GPU memory access, before its
 *   translation; a waiter; the ``stats`` file; the timeout worker. So each
 *   of them sees what hardware completing on time would show. A soft
 *   hrtimer at the oldest request's deadline is armed only by a waiter
 *   whose fence is not signalled yet, and re-arms itself for what it leaves
 *   queued. Arming it at every submission instead (the
 *   ``arm_timer_at_submit`` module parameter, for comparison) costs the
 *   start pass a timer programming per GPU per invalidation, the largest
 *   part of a submission under qemu; a GPU does not spend CPU time to
 *   complete its own invalidation.
 * - simgpu_tlb_inval_wait() (gsvm's &gsvm_backend_ops.tlb_inval_wait) waits
 *   for the fence. With ``skip_finish_wait`` it signals the fence itself and
 *   returns at once, leaving the request queued: the TLB is flushed later,
 *   after the caller may already have released the pages.
 * - A timeout worker declares the oldest request lost once it is
 *   ``tlb_inval_timeout_ms`` old: it resets the TLB (full flush; nothing
 *   with ``timeout_noflush``, as on Xe), drops every queued request, marks
 *   the fences of the late ones with -ETIME and signals all pending fences;
 *   gsvm then recovers through simgpu_tlb_inval_reset_vm(). A waiter that
 *   outlives the timeout runs the same timeout path itself, so
 *   tlb_inval_wait() never returns before its fence is signalled and no
 *   longer referenced, as gsvm requires for fences on the stack.
 *
 * The completion paths (simgpu_tlb_inval_poll(), the timer and the timeout
 * worker) are fence signalling critical sections
 * (dma_fence_begin_signalling()) and do not allocate.
 */

static bool arm_timer_at_submit;
module_param(arm_timer_at_submit, bool, 0644);
MODULE_PARM_DESC(arm_timer_at_submit,
		 "Arm the TLB invalidation completion timer at every submission, not only for a waiter (default: N; for comparing the cost of the start pass)");

static const char *simgpu_tlb_inval_fence_get_driver_name(struct dma_fence *fence)
{
	return "simgpu";
}

static const char *simgpu_tlb_inval_fence_get_timeline_name(struct dma_fence *fence)
{
	return "tlb-inval";
}

static void simgpu_tlb_inval_fence_release(struct dma_fence *fence)
{
	/* Embedded in its owner (a gsvm range or a stack frame): nothing to free. */
}

static const struct dma_fence_ops simgpu_tlb_inval_fence_ops = {
	.get_driver_name = simgpu_tlb_inval_fence_get_driver_name,
	.get_timeline_name = simgpu_tlb_inval_fence_get_timeline_name,
	.release = simgpu_tlb_inval_fence_release,
};

static struct simgpu_device *tlb_inval_to_gpu(struct simgpu_tlb_inval *ti)
{
	return container_of(ti, struct simgpu_device, tlb_inval);
}

static void simgpu_tlb_inval_assert_held(struct simgpu_tlb_inval *ti)
{
	lockdep_assert_held(&ti->lock);
}

static u32 simgpu_tlb_inval_next_seqno(u32 seqno)
{
	seqno = (seqno + 1) % SIMGPU_TLB_INVAL_SEQNO_MAX;
	return seqno ?: 1;
}

static u32 simgpu_tlb_inval_prev_seqno(u32 seqno)
{
	return seqno == 1 ? SIMGPU_TLB_INVAL_SEQNO_MAX - 1 : seqno - 1;
}

/*
 * Wrap-safe "@seqno is done once @done is", as xe_tlb_inval_seqno_past();
 * plain comparison with @nowrap (``seqno_nowrap``, a bug on purpose).
 */
static bool simgpu_tlb_inval_seqno_past(u32 seqno, u32 done, bool nowrap)
{
	s32 delta = (s32)seqno - (s32)done;

	if (nowrap)
		return done >= seqno;

	if (delta < -(SIMGPU_TLB_INVAL_SEQNO_MAX / 2))
		return false;
	if (delta > SIMGPU_TLB_INVAL_SEQNO_MAX / 2)
		return true;
	return done >= seqno;
}

static s64 simgpu_tlb_inval_timeout_ns(struct simgpu_device *gpu)
{
	return (s64)max(READ_ONCE(gpu->knobs.tlb_inval_timeout_ms), 1U) * NSEC_PER_MSEC;
}

static unsigned long simgpu_tlb_inval_timeout_jiffies(struct simgpu_device *gpu)
{
	return nsecs_to_jiffies(simgpu_tlb_inval_timeout_ns(gpu)) + 1;
}

/*
 * Widen [@start, @start + @size) to a naturally aligned power of two, the
 * shape of a GuC range invalidation. Returns the size, *@astart the start.
 */
static u64 simgpu_tlb_inval_widen(u64 start, u64 size, u64 *astart)
{
	u64 end = start + size;
	u64 len = roundup_pow_of_two(max_t(u64, size, SIMGPU_PAGE_SIZE));

	*astart = ALIGN_DOWN(start, len);
	while (*astart + len < end) {
		len <<= 1;
		*astart = ALIGN_DOWN(start, len);
	}

	return len;
}

static struct simgpu_tlb_inval_req *simgpu_tlb_inval_head(struct simgpu_tlb_inval *ti)
{
	simgpu_tlb_inval_assert_held(ti);
	return ti->count ? &ti->queue[ti->head] : NULL;
}

static void simgpu_tlb_inval_pop(struct simgpu_tlb_inval *ti)
{
	simgpu_tlb_inval_assert_held(ti);
	ti->head = (ti->head + 1) % SIMGPU_TLB_INVAL_QUEUE_LEN;
	WRITE_ONCE(ti->count, ti->count - 1);
}

static void simgpu_tlb_inval_enqueue(struct simgpu_device *gpu, u32 seqno,
				     u32 asid, u64 start, u64 size, ktime_t now)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	struct simgpu_tlb_inval_req *req;

	simgpu_tlb_inval_assert_held(ti);

	if (ti->count == SIMGPU_TLB_INVAL_QUEUE_LEN) {
		/* Ring full: fold into the newest request, which now flushes all. */
		req = &ti->queue[(ti->head + ti->count - 1) % SIMGPU_TLB_INVAL_QUEUE_LEN];
		req->seqno = seqno;
		req->count++;
		/* Broken on purpose: the new request's range is not flushed. */
		if (!READ_ONCE(gpu->knobs.fold_no_flush_all))
			req->all = true;
		return;
	}

	req = &ti->queue[(ti->head + ti->count) % SIMGPU_TLB_INVAL_QUEUE_LEN];
	WRITE_ONCE(ti->count, ti->count + 1);
	*req = (struct simgpu_tlb_inval_req) {
		.submit_time = now,
		.deadline = ktime_add_us(now, READ_ONCE(gpu->knobs.tlb_inval_latency_us)),
		.start = start,
		.size = size,
		.seqno = seqno,
		.asid = asid,
		.count = 1,
	};
}

/*
 * Make sure the timer fires no later than the oldest request's deadline,
 * unless hung. A timer queued for a later time (a request a reset dropped,
 * or a latency since lowered) is moved earlier.
 */
static void simgpu_tlb_inval_arm(struct simgpu_device *gpu)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	struct simgpu_tlb_inval_req *req = simgpu_tlb_inval_head(ti);

	/*
	 * Every arming happens under @ti->lock and the timer callback re-arms
	 * under it for what it leaves behind, so nothing is missed. The timer
	 * may be running its callback right now: hrtimer_start() is allowed
	 * then and the callback returns HRTIMER_NORESTART.
	 */
	if (!req || READ_ONCE(gpu->knobs.hang_tlb_inval))
		return;
	if (hrtimer_is_queued(&ti->timer) &&
	    !ktime_before(req->deadline, hrtimer_get_expires(&ti->timer)))
		return;

	hrtimer_start(&ti->timer, req->deadline, HRTIMER_MODE_ABS_SOFT);
}

static void simgpu_tlb_inval_fence_signal(struct simgpu_tlb_inval *ti,
					  struct gsvm_tlb_inval_fence *fence)
{
	simgpu_tlb_inval_assert_held(ti);

	list_del_init(&fence->link);
	dma_fence_signal(&fence->base);
}

/* Signal, in order, every pending fence whose seqno is done. */
static void simgpu_tlb_inval_signal_done(struct simgpu_tlb_inval *ti)
{
	bool nowrap = READ_ONCE(tlb_inval_to_gpu(ti)->knobs.seqno_nowrap);
	struct gsvm_tlb_inval_fence *fence, *next;

	simgpu_tlb_inval_assert_held(ti);

	list_for_each_entry_safe(fence, next, &ti->pending, link) {
		if (!simgpu_tlb_inval_seqno_past(fence->seqno, ti->seqno_done, nowrap))
			break;
		simgpu_tlb_inval_fence_signal(ti, fence);
	}
}

/* Complete, in order, every request whose deadline has passed. */
static void simgpu_tlb_inval_process(struct simgpu_device *gpu, ktime_t now)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	struct simgpu_tlb_inval_req *req;

	simgpu_tlb_assert_held(&gpu->tlb);
	simgpu_tlb_inval_assert_held(ti);

	while ((req = simgpu_tlb_inval_head(ti)) && !ktime_before(now, req->deadline)) {
		if (!READ_ONCE(gpu->knobs.skip_tlb_inval)) {
			if (req->all)
				simgpu_tlb_flush_all(&gpu->tlb);
			else
				simgpu_tlb_flush_range(&gpu->tlb, req->asid,
						       req->start, req->size);
		}
		ti->seqno_done = req->seqno;
		simgpu_stat_add(gpu, SIMGPU_STAT_TLB_INVAL_COMPLETED, req->count);
		trace_simgpu_tlb_inval_done(gpu, req->seqno,
					    ktime_us_delta(now, req->submit_time));
		simgpu_tlb_inval_pop(ti);
	}

	simgpu_tlb_inval_signal_done(ti);
}

/**
 * simgpu_tlb_inval_poll() - Complete the requests whose deadline has passed
 * @gpu: The GPU; &simgpu_tlb.mmu_lock held.
 *
 * Called by every observer of the invalidation queue before it looks (see
 * DOC: simgpu TLB invalidation). Does nothing while ``hang_tlb_inval`` is
 * set. A fence signalling critical section; does not allocate or sleep.
 */
void simgpu_tlb_inval_poll(struct simgpu_device *gpu)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	unsigned long flags;
	bool cookie;

	simgpu_tlb_assert_held(&gpu->tlb);

	/* A racing submission is not due yet: its deadline is in the future. */
	if (!READ_ONCE(ti->count) || READ_ONCE(gpu->knobs.hang_tlb_inval))
		return;

	cookie = dma_fence_begin_signalling();
	spin_lock_irqsave(&ti->lock, flags);
	simgpu_tlb_inval_process(gpu, ktime_get());
	spin_unlock_irqrestore(&ti->lock, flags);
	dma_fence_end_signalling(cookie);
}

/**
 * simgpu_tlb_inval_observe() - simgpu_tlb_inval_poll() taking the MMU lock
 * @gpu: The GPU; &simgpu_tlb.mmu_lock not held.
 */
void simgpu_tlb_inval_observe(struct simgpu_device *gpu)
{
	spin_lock_bh(&gpu->tlb.mmu_lock);
	simgpu_tlb_inval_poll(gpu);
	spin_unlock_bh(&gpu->tlb.mmu_lock);
}

/*
 * The timeout path: drop every queued request and signal every pending
 * fence; those older than the timeout carry -ETIME. Like a GT reset it
 * flushes the whole TLB first, which satisfies every request, unless
 * ``timeout_noflush``: then, as with Xe, the TLB keeps what the dropped
 * requests were to take away until simgpu_tlb_inval_reset_vm().
 */
static void simgpu_tlb_inval_reset(struct simgpu_device *gpu, ktime_t now)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	s64 timeout = simgpu_tlb_inval_timeout_ns(gpu);
	struct gsvm_tlb_inval_fence *fence, *next;
	struct simgpu_tlb_inval_req *req;

	simgpu_tlb_assert_held(&gpu->tlb);
	simgpu_tlb_inval_assert_held(ti);

	if (!READ_ONCE(gpu->knobs.timeout_noflush))
		simgpu_tlb_flush_all(&gpu->tlb);

	while ((req = simgpu_tlb_inval_head(ti))) {
		s64 age = ktime_to_ns(ktime_sub(now, req->submit_time));

		if (age >= timeout) {
			simgpu_stat_add(gpu, SIMGPU_STAT_TLB_INVAL_TIMEOUTS, req->count);
			trace_simgpu_tlb_inval_timeout(gpu, req->seqno,
						       div_s64(age, NSEC_PER_USEC));
		} else {
			simgpu_stat_add(gpu, SIMGPU_STAT_TLB_INVAL_COMPLETED, req->count);
			trace_simgpu_tlb_inval_done(gpu, req->seqno,
						    div_s64(age, NSEC_PER_USEC));
		}
		simgpu_tlb_inval_pop(ti);
	}
	ti->seqno_done = simgpu_tlb_inval_prev_seqno(ti->seqno);

	list_for_each_entry_safe(fence, next, &ti->pending, link) {
		if (ktime_to_ns(ktime_sub(now, fence->submit_time)) >= timeout)
			dma_fence_set_error(&fence->base, -ETIME);
		simgpu_tlb_inval_fence_signal(ti, fence);
	}
}

static enum hrtimer_restart simgpu_tlb_inval_timer_fn(struct hrtimer *timer)
{
	struct simgpu_tlb_inval *ti = container_of(timer, struct simgpu_tlb_inval, timer);
	struct simgpu_device *gpu = tlb_inval_to_gpu(ti);
	unsigned long flags;
	bool cookie;

	cookie = dma_fence_begin_signalling();
	spin_lock_bh(&gpu->tlb.mmu_lock);
	spin_lock_irqsave(&ti->lock, flags);

	if (!READ_ONCE(gpu->knobs.hang_tlb_inval)) {
		simgpu_tlb_inval_process(gpu, ktime_get());
		simgpu_tlb_inval_arm(gpu);
	}

	spin_unlock_irqrestore(&ti->lock, flags);
	spin_unlock_bh(&gpu->tlb.mmu_lock);
	dma_fence_end_signalling(cookie);

	return HRTIMER_NORESTART;
}

/*
 * Reset if the oldest request is older than the timeout, and keep the
 * timeout worker running while requests are queued.
 */
static void simgpu_tlb_inval_check_timeout(struct simgpu_device *gpu)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	s64 timeout = simgpu_tlb_inval_timeout_ns(gpu);
	struct simgpu_tlb_inval_req *req;
	unsigned long flags;
	bool cookie;
	ktime_t now;
	s64 age;

	cookie = dma_fence_begin_signalling();
	spin_lock_bh(&gpu->tlb.mmu_lock);
	spin_lock_irqsave(&ti->lock, flags);

	now = ktime_get();
	/* Only what would not have completed on time is late. */
	if (!READ_ONCE(gpu->knobs.hang_tlb_inval))
		simgpu_tlb_inval_process(gpu, now);
	req = simgpu_tlb_inval_head(ti);
	if (req && ktime_to_ns(ktime_sub(now, req->submit_time)) >= timeout) {
		drm_dbg_driver(&gpu->drm,
			       "TLB invalidation timeout, seqno=%u done=%u: resetting TLB\n",
			       req->seqno, ti->seqno_done);
		simgpu_tlb_inval_reset(gpu, now);
	}

	req = simgpu_tlb_inval_head(ti);
	if (req) {
		age = ktime_to_ns(ktime_sub(now, req->submit_time));
		queue_delayed_work(ti->wq, &ti->timeout_work,
				   nsecs_to_jiffies(max(timeout - age, 0LL)) + 1);
	}

	spin_unlock_irqrestore(&ti->lock, flags);
	spin_unlock_bh(&gpu->tlb.mmu_lock);
	dma_fence_end_signalling(cookie);
}

static void simgpu_tlb_inval_timeout_work(struct work_struct *work)
{
	struct simgpu_tlb_inval *ti = container_of(to_delayed_work(work),
						   struct simgpu_tlb_inval,
						   timeout_work);

	simgpu_tlb_inval_check_timeout(tlb_inval_to_gpu(ti));
}

/**
 * simgpu_tlb_inval_submit() - Submit a TLB invalidation
 * @gpu: The GPU.
 * @fence: Fence to initialise and signal on completion; its memory must
 *	stay valid until simgpu_tlb_inval_wait() returned for it.
 * @asid: Address space to invalidate.
 * @start: First GPU virtual address.
 * @size: Size in bytes.
 *
 * Never allocates or sleeps: callable under gsvm's notifier lock.
 */
void simgpu_tlb_inval_submit(struct simgpu_device *gpu,
			     struct gsvm_tlb_inval_fence *fence,
			     u32 asid, u64 start, u64 size)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	unsigned long flags;
	u64 astart, len;
	ktime_t now;
	u32 seqno;

	if (READ_ONCE(gpu->knobs.tlb_inval_exact) || READ_ONCE(gpu->knobs.tlb_inval_short)) {
		astart = start;
		len = size;
		/* Broken on purpose: the last page keeps its translation. */
		if (READ_ONCE(gpu->knobs.tlb_inval_short) && len > SIMGPU_PAGE_SIZE)
			len -= SIMGPU_PAGE_SIZE;
	} else {
		len = simgpu_tlb_inval_widen(start, size, &astart);
	}
	/* Broken on purpose: another VM's translations are dropped instead. */
	if (READ_ONCE(gpu->knobs.tlb_inval_asid1))
		asid = 1;

	spin_lock_irqsave(&ti->lock, flags);

	now = ktime_get();
	seqno = ti->seqno;
	ti->seqno = simgpu_tlb_inval_next_seqno(seqno);

	dma_fence_init64(&fence->base, &simgpu_tlb_inval_fence_ops, NULL,
			 ti->fence_context, ++ti->fence_seqno);
	fence->seqno = seqno;
	fence->submit_time = now;
	list_add_tail(&fence->link, &ti->pending);

	trace_simgpu_tlb_inval_send(gpu, seqno, asid, astart, len);
	simgpu_stat_inc(gpu, SIMGPU_STAT_TLB_INVAL_SUBMITTED);

	simgpu_tlb_inval_enqueue(gpu, seqno, asid, astart, len, now);
	if (READ_ONCE(arm_timer_at_submit))
		simgpu_tlb_inval_arm(gpu);
	queue_delayed_work(ti->wq, &ti->timeout_work,
			   simgpu_tlb_inval_timeout_jiffies(gpu));

	spin_unlock_irqrestore(&ti->lock, flags);
}

/**
 * simgpu_tlb_inval_wait() - Wait for a submitted TLB invalidation
 * @gpu: The GPU.
 * @fence: A fence simgpu_tlb_inval_submit() initialised.
 *
 * Waits until @fence is signalled, recovering (TLB reset) if it outlives
 * the timeout. On return simgpu no longer references @fence, which may be
 * freed or resubmitted. May be called more than once, and concurrently, for
 * one submission. Never allocates.
 *
 * Return: 0, or -ETIME if the invalidation timed out (the TLB was reset).
 */
int simgpu_tlb_inval_wait(struct simgpu_device *gpu,
			  struct gsvm_tlb_inval_fence *fence)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	unsigned long flags;
	int err;

	if (WARN_ON_ONCE(!test_bit(DMA_FENCE_FLAG_INITIALIZED_BIT, &fence->base.flags)))
		return 0;

	if (READ_ONCE(gpu->knobs.skip_finish_wait)) {
		/* Broken on purpose: report completion, flush later. */
		spin_lock_irqsave(&ti->lock, flags);
		if (!list_empty(&fence->link))
			simgpu_tlb_inval_fence_signal(ti, fence);
		spin_unlock_irqrestore(&ti->lock, flags);
		return 0;
	}

	/* Complete what is due; have the timer fire for the rest. */
	simgpu_tlb_inval_observe(gpu);
	if (!dma_fence_is_signaled(&fence->base)) {
		spin_lock_irqsave(&ti->lock, flags);
		simgpu_tlb_inval_arm(gpu);
		spin_unlock_irqrestore(&ti->lock, flags);
	}

	while (!dma_fence_wait_timeout(&fence->base, false,
				       simgpu_tlb_inval_timeout_jiffies(gpu)))
		simgpu_tlb_inval_check_timeout(gpu);

	/*
	 * Fences are signalled under @ti->lock: once we hold it, the
	 * signaller is done with @fence.
	 */
	spin_lock_irqsave(&ti->lock, flags);
	WARN_ON_ONCE(!list_empty(&fence->link));
	err = fence->base.error;
	spin_unlock_irqrestore(&ti->lock, flags);

	return err ? -ETIME : 0;
}

/**
 * simgpu_tlb_inval_reset_vm() - Recover an address space after a timeout
 * @gpu: The GPU.
 * @asid: The address space.
 *
 * gsvm's &gsvm_backend_ops.tlb_inval_reset: drops every TLB entry of
 * @asid, as a full invalidation of the VM, or a reset, would. Never
 * allocates or sleeps.
 *
 * Return: 0, or -EIO with ``fail_tlb_reset``.
 */
int simgpu_tlb_inval_reset_vm(struct simgpu_device *gpu, u32 asid)
{
	if (READ_ONCE(gpu->knobs.fail_tlb_reset))
		return -EIO;
	if (READ_ONCE(gpu->knobs.skip_tlb_reset))
		return 0;

	spin_lock_bh(&gpu->tlb.mmu_lock);
	simgpu_tlb_flush_asid(&gpu->tlb, asid);
	spin_unlock_bh(&gpu->tlb.mmu_lock);
	return 0;
}

/**
 * simgpu_tlb_inval_set_next_seqno() - Choose the seqno of the next request
 * @gpu: The GPU.
 * @seqno: 1 .. %SIMGPU_TLB_INVAL_SEQNO_MAX - 1.
 *
 * For tests of the seqno wrap (debugfs ``tlb_inval_next_seqno``). Only
 * while nothing is pending: the completed seqno becomes the one before.
 *
 * Return: 0, -EINVAL for a seqno out of range, -EBUSY if a fence is pending.
 */
int simgpu_tlb_inval_set_next_seqno(struct simgpu_device *gpu, u32 seqno)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	unsigned long flags;
	int err = 0;

	if (!seqno || seqno >= SIMGPU_TLB_INVAL_SEQNO_MAX)
		return -EINVAL;

	simgpu_tlb_inval_observe(gpu);
	spin_lock_irqsave(&ti->lock, flags);
	if (list_empty(&ti->pending) && !ti->count) {
		ti->seqno = seqno;
		ti->seqno_done = simgpu_tlb_inval_prev_seqno(seqno);
	} else {
		err = -EBUSY;
	}
	spin_unlock_irqrestore(&ti->lock, flags);
	return err;
}

/**
 * simgpu_tlb_inval_get_next_seqno() - The seqno the next request gets
 * @gpu: The GPU.
 *
 * Return: That seqno.
 */
u32 simgpu_tlb_inval_get_next_seqno(struct simgpu_device *gpu)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	unsigned long flags;
	u32 seqno;

	spin_lock_irqsave(&ti->lock, flags);
	seqno = ti->seqno;
	spin_unlock_irqrestore(&ti->lock, flags);
	return seqno;
}

/**
 * simgpu_tlb_inval_kick() - Restart request processing
 * @gpu: The GPU.
 *
 * Called when ``hang_tlb_inval`` is cleared, so that requests queued while
 * hung complete without waiting for the timeout.
 */
void simgpu_tlb_inval_kick(struct simgpu_device *gpu)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	unsigned long flags;

	simgpu_tlb_inval_observe(gpu);
	spin_lock_irqsave(&ti->lock, flags);
	simgpu_tlb_inval_arm(gpu);
	spin_unlock_irqrestore(&ti->lock, flags);
}

/**
 * simgpu_tlb_inval_init() - Initialise a GPU's invalidation queue
 * @gpu: The GPU; &simgpu_device.name and &simgpu_device.tlb are set up.
 *
 * Return: 0 or -ENOMEM.
 */
int simgpu_tlb_inval_init(struct simgpu_device *gpu)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	unsigned long flags;
	bool cookie;

	spin_lock_init(&ti->lock);
	INIT_LIST_HEAD(&ti->pending);
	ti->head = 0;
	ti->count = 0;
	ti->seqno = 1;
	ti->seqno_done = 0;
	ti->fence_context = dma_fence_context_alloc(1);
	ti->fence_seqno = 0;
	hrtimer_setup(&ti->timer, simgpu_tlb_inval_timer_fn, CLOCK_MONOTONIC,
		      HRTIMER_MODE_ABS_SOFT);
	INIT_DELAYED_WORK(&ti->timeout_work, simgpu_tlb_inval_timeout_work);

	ti->wq = alloc_ordered_workqueue("%s-tlb-inval", WQ_MEM_RECLAIM, gpu->name);
	if (!ti->wq)
		return -ENOMEM;

	/*
	 * Teach lockdep that both locks are taken while signalling fences that
	 * reclaim may wait for, so that an allocation under them, or a wait
	 * for a fence, is reported on first occurrence.
	 */
	if (IS_ENABLED(CONFIG_LOCKDEP)) {
		fs_reclaim_acquire(GFP_KERNEL);
		cookie = dma_fence_begin_signalling();
		spin_lock_bh(&gpu->tlb.mmu_lock);
		spin_lock_irqsave(&ti->lock, flags);
		spin_unlock_irqrestore(&ti->lock, flags);
		spin_unlock_bh(&gpu->tlb.mmu_lock);
		dma_fence_end_signalling(cookie);
		fs_reclaim_release(GFP_KERNEL);
	}

	return 0;
}

/**
 * simgpu_tlb_inval_fini() - Stop a GPU's invalidation queue
 * @gpu: The GPU. Every submitted fence must have been waited for.
 */
void simgpu_tlb_inval_fini(struct simgpu_device *gpu)
{
	struct simgpu_tlb_inval *ti = &gpu->tlb_inval;
	unsigned long flags;

	hrtimer_cancel(&ti->timer);
	cancel_delayed_work_sync(&ti->timeout_work);

	spin_lock_irqsave(&ti->lock, flags);
	WARN_ON(!list_empty(&ti->pending));
	spin_unlock_irqrestore(&ti->lock, flags);

	destroy_workqueue(ti->wq);
}
