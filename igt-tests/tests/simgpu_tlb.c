// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * simgpu_tlb: the TLB invalidation machinery seen through the driver's
 * debugfs counters and knobs: invalidations are submitted and completed
 * per GPU, no stale TLB hit happens, a hung invalidation is recovered by
 * the timeout path (gsvm recovers from a timeout that flushes nothing, and
 * wedges the mirror if it cannot), gsvm's single-pass mode is still
 * correct, and the
 * two-pass mode overlaps the invalidations of several GPUs.
 * Subtests skip when debugfs or the gsvm module parameter is missing.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt_core.h"
#include "simgpu.h"

static void read_stats(struct sg_ctx *ctx, struct sg_stats *s)
{
	int i, err;

	for_each_gpu(ctx, i) {
		igt_require_f(sg_debugfs_available(&ctx->gpu[i]),
			      "no simgpu debugfs for GPU %u\n", ctx->gpu[i].index);
		err = sg_stats_read(&ctx->gpu[i], &s[i]);
		igt_assert_f(!err, "GPU %u: cannot read stats: %s\n",
			     ctx->gpu[i].index, strerror(-err));
	}
}

static uint64_t delta(const struct sg_stats *after, const struct sg_stats *before,
		      const char *name)
{
	return sg_stats_get(after, name) - sg_stats_get(before, name);
}

static void witness_warm(struct sg_ctx *ctx, struct sg_witness *x, uint32_t *warm)
{
	int i;

	sg_witness_init(ctx, x, ctx->page_size, MAP_SHARED);
	sg_bind_all(ctx, x->a, x->size, x->gpu, 0);
	for_each_gpu(ctx, i)
		warm[i] = sg_cookie();
	sg_warm_slots(ctx, x->gpu, x->w, warm);
}

/* The DMA model's state lines of ``stats``, which are not counters. */
static bool dma_model_state(const char *name)
{
	return !strncmp(name, "dma_", 4) && strcmp(name, "dma_unmapped_accesses");
}

static void test_stats_reset(int mode)
{
	struct sg_stats s[SG_MAX_GPUS];
	struct sg_ctx ctx;
	int i, k;

	sg_ctx_init(&ctx, mode);
	read_stats(&ctx, s);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, ctx.scratch_gpu, 1), 0);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_knob_write(&ctx.gpu[i], "reset_stats", "1"), 0);
	read_stats(&ctx, s);
	for_each_gpu(&ctx, i)
		for (k = 0; k < s[i].n; k++)
			igt_assert_f(s[i].val[k] == 0 || dma_model_state(s[i].name[k]), "GPU %u: %s is %" PRIu64 " after reset\n",
				     ctx.gpu[i].index, s[i].name[k], s[i].val[k]);
	sg_ctx_fini(&ctx);
}

/* munmap of a range every GPU holds: each GPU gets its invalidation, all complete. */
static void test_stats_tlb_inval_on_munmap(int mode)
{
	struct sg_stats before[SG_MAX_GPUS], after[SG_MAX_GPUS];
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i;

	sg_ctx_init(&ctx, mode);
	read_stats(&ctx, before);
	witness_warm(&ctx, &x, warm);
	read_stats(&ctx, before);
	igt_assert(!munmap(x.a, x.size));
	read_stats(&ctx, after);
	for_each_gpu(&ctx, i) {
		uint64_t sub = delta(&after[i], &before[i], "tlb_inval_submitted");
		uint64_t done = delta(&after[i], &before[i], "tlb_inval_completed");

		igt_info("GPU %u: %" PRIu64 " invalidations submitted, %" PRIu64
			 " completed\n", ctx.gpu[i].index, sub, done);
		igt_assert_f(sub >= 1, "GPU %u: munmap submitted no TLB invalidation\n",
			     ctx.gpu[i].index);
		igt_assert_f(done == sub, "GPU %u: munmap returned with %" PRIu64
			     " of %" PRIu64 " invalidations completed\n",
			     ctx.gpu[i].index, done, sub);
		igt_assert_eq_u64(delta(&after[i], &before[i], "tlb_inval_timeouts"), 0);
	}
	sg_ctx_fini(&ctx);
}

/* Remapped memory: the next access faults and is serviced; unmapped: fails. */
static void test_stats_gpu_faults(int mode)
{
	struct sg_stats before[SG_MAX_GPUS], after[SG_MAX_GPUS];
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i;

	sg_ctx_init(&ctx, mode);
	witness_warm(&ctx, &x, warm);
	sg_mmap_fixed(x.a, x.size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	read_stats(&ctx, before);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, x.gpu + SG_SLOT(i), 1), 0);
	read_stats(&ctx, after);
	for_each_gpu(&ctx, i) {
		igt_assert_f(delta(&after[i], &before[i], "gpu_faults") >= 1,
			     "GPU %u: no fault after the remap: the write went through a stale translation\n",
			     ctx.gpu[i].index);
		igt_assert_eq_u64(delta(&after[i], &before[i], "gpu_faults_failed"), 0);
		igt_assert_lte(1, delta(&after[i], &before[i], "jobs_completed"));
		igt_assert_eq_u64(delta(&after[i], &before[i], "jobs_failed"), 0);
	}

	igt_assert(!munmap(x.a, x.size));
	read_stats(&ctx, before);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, x.gpu + SG_SLOT(i), 2), -EFAULT);
	read_stats(&ctx, after);
	for_each_gpu(&ctx, i) {
		igt_assert_lte(1, delta(&after[i], &before[i], "gpu_faults_failed"));
		igt_assert_lte(1, delta(&after[i], &before[i], "jobs_failed"));
	}
	sg_ctx_fini(&ctx);
}

/* A second access to a warm page is a TLB hit. */
static void test_stats_tlb_hits(int mode)
{
	struct sg_stats before[SG_MAX_GPUS], after[SG_MAX_GPUS];
	struct sg_ctx ctx;
	struct sg_batch b;
	uint32_t *buf;
	uint64_t gpu;
	int i;

	sg_ctx_init(&ctx, mode);
	buf = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), 1), 0);
	read_stats(&ctx, before);
	for_each_gpu(&ctx, i) {
		sg_batch_start(&ctx, &b);
		sg_emit_atomic_add(&b, gpu + SG_SLOT(i), 1);
		sg_emit_atomic_add(&b, gpu + SG_SLOT(i), 1);
		igt_assert_err(sg_run(&ctx, i, sg_batch_end(&b)), 0);
	}
	read_stats(&ctx, after);
	for_each_gpu(&ctx, i) {
		igt_assert_eq_u32(buf[SG_SLOT_DW(i)], 3);
		igt_assert_lte(2, delta(&after[i], &before[i], "tlb_hits"));
	}
	sg_ctx_fini(&ctx);
}

/*
 * Warm, remap, access: the driver's own stale-hit detector must stay at
 * zero (and the data must be right).
 */
static void test_stats_no_stale_tlb_hits(int mode)
{
	struct sg_stats before[SG_MAX_GPUS], after[SG_MAX_GPUS];
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i;

	sg_ctx_init(&ctx, mode);
	read_stats(&ctx, before);
	witness_warm(&ctx, &x, warm);
	sg_mmap_fixed(x.a, x.size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, x.gpu + SG_SLOT(i), 0x5eed + i), 0);
	read_stats(&ctx, after);
	for_each_gpu(&ctx, i) {
		igt_assert_f(delta(&after[i], &before[i], "stale_tlb_hits") == 0,
			     "GPU %u: %" PRIu64 " accesses through a stale translation\n",
			     ctx.gpu[i].index, delta(&after[i], &before[i], "stale_tlb_hits"));
		igt_assert_eq_u32(x.a[SG_SLOT_DW(i)], 0x5eed + i);
		igt_assert_eq_u32(x.w[SG_SLOT_DW(i)], warm[i]);
	}
	sg_ctx_fini(&ctx);
}

/*
 * TLB invalidation requests never complete: munmap must still return
 * (after the timeout), the timeout must be counted, and the recovery must
 * leave no stale translation.
 */
static void test_inval_timeout_recovers(int mode)
{
	struct sg_stats before[SG_MAX_GPUS], after[SG_MAX_GPUS];
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	uint64_t t0, t;
	int i;

	sg_ctx_init(&ctx, mode);
	witness_warm(&ctx, &x, warm);
	read_stats(&ctx, before);
	sg_ctx_knob_set_tmp(&ctx, "tlb_inval_timeout_ms", "100");
	sg_ctx_knob_set_tmp(&ctx, "hang_tlb_inval", "Y");

	t0 = igt_now_ns();
	igt_assert(!munmap(x.a, x.size));
	t = igt_now_ns() - t0;
	igt_info("munmap with hung TLB invalidations took %.1f ms\n", t / 1e6);
	igt_assert_f(t < 10000000000ull, "munmap took %.1f ms\n", t / 1e6);

	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, x.gpu + SG_SLOT(i), sg_cookie()),
			       -EFAULT);
	for_each_gpu(&ctx, i)
		igt_assert_eq_u32(x.w[SG_SLOT_DW(i)], warm[i]);
	read_stats(&ctx, after);
	for_each_gpu(&ctx, i)
		igt_assert_f(delta(&after[i], &before[i], "tlb_inval_timeouts") >= 1,
			     "GPU %u: no TLB invalidation timeout counted\n",
			     ctx.gpu[i].index);

	/* Back to normal: invalidations complete again. */
	igt_file_restore_all();
	witness_warm(&ctx, &x, warm);
	igt_assert(!munmap(x.a, x.size));
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, x.gpu + SG_SLOT(i), 1), -EFAULT);
	sg_ctx_fini(&ctx);
}

/*
 * The completion timer is moved earlier when the oldest request's deadline
 * is earlier than the time it is queued for. A request at a 10 s latency
 * times out after 3 s and the reset drops it, but the timer its waiter
 * armed stays queued for its deadline, 7 s on. The next request, at a 1 ms
 * latency, must complete once its own deadline passed; if its waiter's
 * arming left the later timer alone, nothing would complete it before the
 * waiter gave up at the 3 s timeout and looked itself.
 */
static void test_inval_timer_earlier(int mode)
{
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x, y;
	struct sg_ctx ctx;
	uint64_t t0, t;

	sg_ctx_init(&ctx, mode);
	witness_warm(&ctx, &x, warm);
	witness_warm(&ctx, &y, warm);
	sg_ctx_knob_set_tmp(&ctx, "tlb_inval_timeout_ms", "3000");
	sg_ctx_knob_set_tmp(&ctx, "tlb_inval_latency_us", "10000000");
	igt_assert(!munmap(x.a, x.size));

	sg_ctx_knob_set_tmp(&ctx, "tlb_inval_latency_us", "1000");
	t0 = igt_now_ns();
	igt_assert(!munmap(y.a, y.size));
	t = igt_now_ns() - t0;
	igt_info("munmap at a 1 ms latency, after a timed-out one: %.1f ms\n", t / 1e6);
	igt_assert_f(t < 1000000000ull,
		     "munmap at a 1 ms TLB invalidation latency took %.1f ms: its invalidation completed only when the waiter reached the 3000 ms timeout, the timer stayed queued for the dropped request's later deadline\n",
		     t / 1e6);
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

/*
 * A timeout that flushes nothing, as Xe's does: the TLB still holds the
 * translations the lost invalidation was to drop. gsvm must treat it as a
 * hard event and recover (the backend's tlb_inval_reset) before munmap
 * returns: no GPU may then write through the old translation.
 */
static void test_inval_timeout_noflush(int mode)
{
	struct sg_stats before[SG_MAX_GPUS], after[SG_MAX_GPUS];
	uint32_t warm[SG_MAX_GPUS];
	uint64_t rec0, rec;
	struct sg_witness x;
	struct sg_ctx ctx;
	int i, err;

	sg_ctx_init(&ctx, mode);
	witness_warm(&ctx, &x, warm);
	read_stats(&ctx, before);
	rec0 = sg_gsvm_stat("tlb_inval_recovered");
	sg_ctx_knob_set_tmp(&ctx, "tlb_inval_timeout_ms", "100");
	sg_ctx_knob_set_tmp(&ctx, "timeout_noflush", "Y");
	sg_ctx_knob_set_tmp(&ctx, "hang_tlb_inval", "Y");

	igt_assert(!munmap(x.a, x.size));

	for_each_gpu(&ctx, i) {
		err = sg_gpu_write32(&ctx, i, x.gpu + SG_SLOT(i), sg_cookie());
		igt_assert_f(err == -EFAULT,
			     "GPU %u: write after munmap with a timed-out invalidation: %s%s\n",
			     ctx.gpu[i].index, igt_errname(err),
			     err ? "" : ": it went through a stale translation");
	}
	for_each_gpu(&ctx, i)
		igt_assert_f(x.w[SG_SLOT_DW(i)] == warm[i],
			     "GPU %u: stale translation: its write landed in the unmapped pages (%#x -> %#x)\n",
			     ctx.gpu[i].index, warm[i], x.w[SG_SLOT_DW(i)]);
	read_stats(&ctx, after);
	for_each_gpu(&ctx, i)
		igt_assert_f(delta(&after[i], &before[i], "tlb_inval_timeouts") >= 1,
			     "GPU %u: no TLB invalidation timeout counted\n",
			     ctx.gpu[i].index);
	rec = sg_gsvm_stat("tlb_inval_recovered") - rec0;
	igt_assert_f(rec >= (uint64_t)ctx.n,
		     "gsvm recovered from %" PRIu64 " timeouts, expected at least %d\n",
		     rec, ctx.n);
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

/*
 * A timeout the backend cannot recover from: the mirror must be wedged
 * (counted, and every later bind fails with -EIO) rather than treat the
 * invalidation as done. Closing the VM with recovery working again must
 * tear it down cleanly.
 */
static void test_inval_timeout_unrecoverable(int mode)
{
	uint32_t warm[SG_MAX_GPUS];
	uint64_t wedged0, wedged, va;
	struct sg_witness x;
	struct sg_ctx ctx;
	int i, err;

	sg_ctx_init(&ctx, mode);
	witness_warm(&ctx, &x, warm);
	wedged0 = sg_gsvm_stat("mirrors_wedged");
	sg_ctx_knob_set_tmp(&ctx, "tlb_inval_timeout_ms", "100");
	sg_ctx_knob_set_tmp(&ctx, "timeout_noflush", "Y");
	sg_ctx_knob_set_tmp(&ctx, "fail_tlb_reset", "Y");
	sg_ctx_knob_set_tmp(&ctx, "hang_tlb_inval", "Y");

	igt_assert(!munmap(x.a, x.size));

	wedged = sg_gsvm_stat("mirrors_wedged") - wedged0;
	igt_assert_f(wedged == (uint64_t)ctx.n,
		     "%" PRIu64 " mirrors wedged after an unrecoverable timeout, expected %d\n",
		     wedged, ctx.n);
	va = sg_va_alloc(&ctx, ctx.page_size);
	for_each_gpu(&ctx, i) {
		err = __sg_bind(ctx.gpu[i].fd, ctx.gpu[i].vm, va, ctx.page_size,
				ctx.scratch, 0);
		igt_assert_f(err == -EIO, "GPU %u: bind on a wedged VM: %s, expected -EIO\n",
			     ctx.gpu[i].index, igt_errname(err));
	}
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

/* After munmap, GPU i's write at @addr must fault and leave @view alone. */
static void assert_no_stale_write(struct sg_ctx *ctx, uint64_t addr, const uint32_t *view,
				  const uint32_t *warm, const char *what)
{
	int i, err;

	for_each_gpu(ctx, i) {
		err = sg_gpu_write32(ctx, i, addr + SG_SLOT(i), sg_cookie());
		igt_assert_f(err == -EFAULT, "GPU %u: write to %s after munmap: %s%s\n",
			     ctx->gpu[i].index, what, igt_errname(err),
			     err ? "" : ": it went through a stale translation");
		igt_assert_f(view[SG_SLOT_DW(i)] == warm[i],
			     "GPU %u: stale translation: its write landed in %s (%#x -> %#x)\n",
			     ctx->gpu[i].index, what, warm[i], view[SG_SLOT_DW(i)]);
	}
}

/*
 * With invalidations flushing exactly the range gsvm asks for (no GuC
 * widening to cover for a short one), munmap of a 4-page buffer whose
 * every page the GPUs have translated must leave no translation of its
 * last page.
 */
static void test_inval_exact_range(int mode)
{
	const unsigned int npages = 4;
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	uint64_t last;
	unsigned int p;
	int i;

	sg_ctx_init(&ctx, mode);
	sg_ctx_knob_set_tmp(&ctx, "tlb_inval_exact", "Y");
	sg_witness_init(&ctx, &x, npages * ctx.page_size, MAP_SHARED);
	sg_bind_all(&ctx, x.a, x.size, x.gpu, 0);
	for_each_gpu(&ctx, i)
		warm[i] = sg_cookie();
	for (p = 0; p < npages; p++)
		sg_warm_slots(&ctx, x.gpu + p * ctx.page_size,
			      x.w + p * ctx.page_size / 4, warm);
	last = (npages - 1) * ctx.page_size;

	igt_assert(!munmap(x.a, x.size));
	assert_no_stale_write(&ctx, x.gpu + last, x.w + last / 4, warm,
			      "the last page");
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

/*
 * The context's VMs get address-space ids other than 1 (another file's VM
 * holds the lowest free one, 1, on every GPU): their invalidations must
 * drop their own translations.
 */
static void test_inval_asid_not_1(int mode)
{
	struct sg_gpu holders[SG_MAX_GPUS];
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int n, k;

	n = sg_open_all(holders, SG_MAX_GPUS);
	igt_require_f(n > 0, "no simgpu device\n");
	for (k = 0; k < n; k++)
		sg_vm_create(holders[k].fd);

	sg_ctx_init(&ctx, mode);
	witness_warm(&ctx, &x, warm);
	igt_assert(!munmap(x.a, x.size));
	assert_no_stale_write(&ctx, x.gpu, x.w, warm, "the unmapped pages");
	sg_ctx_fini(&ctx);
	for (k = 0; k < n; k++)
		close(holders[k].fd);
}

/* simgpu's SIMGPU_TLB_INVAL_SEQNO_MAX: seqnos run 1 .. this - 1. */
#define SG_TLB_INVAL_SEQNO_MAX	0x100000u

/*
 * Invalidations across the seqno wrap (the next seqno set just below it):
 * each must still complete before munmap returns, so no GPU write goes
 * through the old translation.
 */
static void test_inval_seqno_wrap(int mode)
{
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	char v[32];
	int i, round;

	sg_ctx_init(&ctx, mode);
	/* Slow enough that a fence signalled early is seen before the flush. */
	sg_slow_tlb_inval(&ctx);
	snprintf(v, sizeof(v), "%u", SG_TLB_INVAL_SEQNO_MAX - 3);
	for_each_gpu(&ctx, i)
		igt_require_f(!sg_knob_write(&ctx.gpu[i], "tlb_inval_next_seqno", v),
			      "GPU %u: no tlb_inval_next_seqno knob\n", ctx.gpu[i].index);
	for (round = 0; round < 6; round++) {
		witness_warm(&ctx, &x, warm);
		igt_assert(!munmap(x.a, x.size));
		assert_no_stale_write(&ctx, x.gpu, x.w, warm, "the unmapped pages");
	}
	for_each_gpu(&ctx, i) {
		igt_assert(!sg_knob_read(&ctx.gpu[i], "tlb_inval_next_seqno", v, sizeof(v)));
		igt_assert_f(strtoul(v, NULL, 0) < SG_TLB_INVAL_SEQNO_MAX - 3,
			     "GPU %u: the seqno did not wrap (next %s)\n", ctx.gpu[i].index, v);
	}
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

/*
 * More invalidations outstanding on a GPU than its request ring holds
 * (128): one munmap of 136 one-page bindings. The requests past the ring
 * are folded into its newest one, which must then flush everything: no
 * page may keep its translation.
 */
static void test_inval_ring_fold(int mode)
{
	const unsigned int npages = 136;
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	char what[32];
	unsigned int p;
	uint64_t pg;
	int i;

	sg_ctx_init(&ctx, mode);
	pg = ctx.page_size;
	sg_slow_tlb_inval_us(&ctx, 20000);
	sg_witness_init(&ctx, &x, npages * pg, MAP_SHARED);
	for (p = 0; p < npages; p++)
		sg_bind_all(&ctx, (char *)x.a + p * pg, pg, x.gpu + p * pg, 0);
	for_each_gpu(&ctx, i)
		warm[i] = sg_cookie();
	for (p = 0; p < npages; p++)
		sg_warm_slots(&ctx, x.gpu + p * pg, x.w + p * pg / 4, warm);

	igt_assert(!munmap(x.a, x.size));
	/*
	 * Last page first: the TLB (64 entries) still holds the pages warmed
	 * last, which are also the requests that found the ring full.
	 */
	for (p = npages; p-- > 0;) {
		snprintf(what, sizeof(what), "page %u", p);
		assert_no_stale_write(&ctx, x.gpu + p * pg, x.w + p * pg / 4, warm, what);
	}
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

static void require_two_pass_param(void)
{
	char v[16];

	igt_require_f(!igt_file_read(SG_TWO_PASS_PARAM, v, sizeof(v)),
		      "no %s\n", SG_TWO_PASS_PARAM);
}

static void set_two_pass(bool on)
{
	char v[16];
	int err;

	err = igt_file_set_tmp(SG_TWO_PASS_PARAM, on ? "Y" : "N");
	igt_assert_f(!err, "cannot write %s: %s\n", SG_TWO_PASS_PARAM, strerror(-err));
	igt_assert_err(igt_file_read(SG_TWO_PASS_PARAM, v, sizeof(v)), 0);
	igt_assert_f(v[0] == (on ? 'Y' : 'N'), "two_pass reads %s\n", v);
}

/* gsvm's single-pass fallback: remap still redirects every GPU. */
static void test_single_pass_remap(int mode)
{
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i;

	require_two_pass_param();
	sg_ctx_init(&ctx, mode);
	set_two_pass(false);
	witness_warm(&ctx, &x, warm);
	sg_mmap_fixed(x.a, x.size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, x.gpu + SG_SLOT(i), 0x5111 + i), 0);
	for_each_gpu(&ctx, i) {
		igt_assert_f(x.a[SG_SLOT_DW(i)] == 0x5111u + i &&
			     x.w[SG_SLOT_DW(i)] == warm[i],
			     "GPU %u: the write after the remap missed the new pages (new %#x, old %#x): a stale translation\n",
			     ctx.gpu[i].index, x.a[SG_SLOT_DW(i)], x.w[SG_SLOT_DW(i)]);
	}
	sg_ctx_fini(&ctx);
}

/* Single-pass with busy GPUs: no write reaches the old pages after munmap. */
static void test_single_pass_munmap_busy(int mode)
{
	struct sg_job jobs[SG_MAX_GPUS];
	uint32_t snap[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i;

	require_two_pass_param();
	sg_ctx_init(&ctx, mode);
	set_two_pass(false);
	sg_slow_tlb_inval(&ctx);
	sg_witness_init(&ctx, &x, ctx.page_size, MAP_SHARED);
	sg_bind_all(&ctx, x.a, x.size, x.gpu, 0);
	sg_start_loops(&ctx, x.gpu, jobs);
	sg_wait_loops_running(&ctx, x.w, jobs);
	igt_assert(!munmap(x.a, x.size));
	sg_snapshot_slots(&ctx, x.w, snap);
	sg_assert_slots_stable(&ctx, x.w, snap, SG_WATCH_MS, "munmap");
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_job_finish(&jobs[i]), -EFAULT);
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

/* Fastest of a few munmaps of a page every GPU has warm in its TLB. */
static uint64_t time_munmap(struct sg_ctx *ctx, int reps)
{
	uint64_t best = UINT64_MAX;
	int r;

	for (r = 0; r < reps; r++) {
		uint32_t warm[SG_MAX_GPUS];
		struct sg_witness x;
		uint64_t t0, t;

		witness_warm(ctx, &x, warm);
		t0 = igt_now_ns();
		igt_assert(!munmap(x.a, x.size));
		t = igt_now_ns() - t0;
		if (t < best)
			best = t;
		munmap(x.w, x.size);
		close(x.memfd);
	}
	return best;
}

/*
 * With N GPUs and latency L, a single-pass notifier waits for each GPU in
 * turn (about N x L); the two-pass notifier submits every GPU's
 * invalidation before waiting for any (about L).
 */
static void test_two_pass_overlaps_gpus(int mode)
{
	const unsigned int lat_us = 100000;
	uint64_t t_two, t_single;
	struct sg_ctx ctx;
	char v[16];

	require_two_pass_param();
	sg_ctx_init(&ctx, mode);
	igt_require_f(ctx.n >= 2, "needs at least 2 GPUs, have %d\n", ctx.n);
	snprintf(v, sizeof(v), "%u", lat_us);
	sg_ctx_knob_set_tmp(&ctx, "tlb_inval_latency_us", v);
	sg_ctx_knob_set_tmp(&ctx, "tlb_inval_timeout_ms", "10000");

	set_two_pass(true);
	t_two = time_munmap(&ctx, 3);
	set_two_pass(false);
	t_single = time_munmap(&ctx, 3);
	igt_info("%d GPUs, latency %u us: munmap %.1f ms two-pass, %.1f ms single-pass\n",
		 ctx.n, lat_us, t_two / 1e6, t_single / 1e6);

	/*
	 * Causal, not a speed: the simulated invalidation cannot complete
	 * before its latency, and the munmap must wait for it.
	 */
	igt_assert_f(t_two >= 1000ull * lat_us,
		     "two-pass munmap returned after %.1f ms, before one TLB invalidation "
		     "latency (%u us): it did not wait for the invalidations\n", t_two / 1e6,
		     lat_us);
	igt_assert_f(t_single >= (uint64_t)(ctx.n - 1) * lat_us * 1000,
		     "single-pass munmap faster than the GPUs' latencies in sequence\n");
	igt_assert_f(t_two < 1900ull * lat_us,
		     "two-pass munmap took %.1f ms: more than one latency\n", t_two / 1e6);
	igt_assert_f(t_two * 4 < t_single * 3,
		     "two-pass does not overlap the GPUs' invalidations\n");
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

/*
 * simgpu's DMA model follows the mappings gsvm makes on each GPU's device:
 * binding a buffer maps each of its pages once per GPU, and unbinding it
 * unmaps every one of them. The rule checks rest on this (DOC: simgpu DMA
 * model); gsvm/dma_unmap_before_wait shows them failing.
 */
static void test_dma_model(int mode)
{
	uint64_t before[SG_MAX_GPUS], now, gpu, npages = 64, size, p;
	struct sg_ctx ctx;
	uint8_t *buf;
	int i;

	sg_ctx_init(&ctx, mode);
	for_each_gpu(&ctx, i) {
		igt_require_f(sg_stat(&ctx.gpu[i], "dma_model") == 1,
			      "GPU %u: simgpu's DMA model is off\n", ctx.gpu[i].index);
		before[i] = sg_stat(&ctx.gpu[i], "dma_mapped_pages");
	}
	size = npages * ctx.page_size;
	buf = sg_mmap(size, ctx.page_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Pages of their own: none is the zero page or mapped already. */
	for (p = 0; p < size; p += ctx.page_size)
		buf[p] = 1;
	gpu = sg_va_alloc(&ctx, size);

	sg_bind_all(&ctx, buf, size, gpu, 0);
	for_each_gpu(&ctx, i) {
		now = sg_stat(&ctx.gpu[i], "dma_mapped_pages");
		igt_assert_f(now == before[i] + npages,
			     "GPU %u: %" PRIu64 " DMA pages mapped after binding %" PRIu64
			     " pages, %" PRIu64 " before: the model does not see the mappings\n",
			     ctx.gpu[i].index, now, npages, before[i]);
	}
	sg_unbind_all(&ctx, gpu, size);
	for_each_gpu(&ctx, i) {
		now = sg_stat(&ctx.gpu[i], "dma_mapped_pages");
		igt_assert_f(now == before[i],
			     "GPU %u: %" PRIu64 " DMA pages mapped after the unbind, %" PRIu64
			     " before: the unbind left DMA mappings behind\n",
			     ctx.gpu[i].index, now, before[i]);
	}
	munmap(buf, size);
	sg_ctx_fini(&ctx);
}

#define PAIR(name, fn) \
	{ name "-single", fn, SG_ONE, 0 }, { name "-all", fn, SG_ALL, 0 }

static const struct igt_subtest tests[] = {
	PAIR("stats-reset", test_stats_reset),
	PAIR("stats-tlb-inval-on-munmap", test_stats_tlb_inval_on_munmap),
	PAIR("stats-gpu-faults", test_stats_gpu_faults),
	PAIR("stats-tlb-hits", test_stats_tlb_hits),
	PAIR("stats-no-stale-tlb-hits", test_stats_no_stale_tlb_hits),
	PAIR("dma-model", test_dma_model),
	PAIR("inval-timeout-recovers", test_inval_timeout_recovers),
	PAIR("inval-timeout-noflush-recovers", test_inval_timeout_noflush),
	PAIR("inval-timeout-unrecoverable-wedges", test_inval_timeout_unrecoverable),
	/* One GPU: on more, other GPUs' timeout workers may observe it early. */
	{ "inval-timer-moves-earlier", test_inval_timer_earlier, SG_ONE, 0 },
	PAIR("inval-exact-range", test_inval_exact_range),
	PAIR("inval-asid-not-1", test_inval_asid_not_1),
	PAIR("inval-seqno-wrap", test_inval_seqno_wrap),
	PAIR("inval-ring-fold", test_inval_ring_fold),
	PAIR("single-pass-remap", test_single_pass_remap),
	PAIR("single-pass-munmap-busy", test_single_pass_munmap_busy),
	{ "two-pass-overlaps-gpus", test_two_pass_overlaps_gpus, SG_ALL, 0 },
};

IGT_MAIN("TLB invalidation counters, timeout recovery, gsvm single-pass mode "
	 "and two-pass overlap across GPUs.", tests)
