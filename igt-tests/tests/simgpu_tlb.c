// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * simgpu_tlb: the TLB invalidation machinery seen through the driver's
 * debugfs counters and knobs: invalidations are submitted and completed
 * per GPU, no stale TLB hit happens, a hung invalidation is recovered by
 * the timeout path, gsvm's single-pass mode is still correct, and the
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
			igt_assert_f(s[i].val[k] == 0, "GPU %u: %s is %" PRIu64 " after reset\n",
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

	igt_assert_f(t_single >= (uint64_t)(ctx.n - 1) * lat_us * 1000,
		     "single-pass munmap faster than the GPUs' latencies in sequence\n");
	igt_assert_f(t_two < 1900ull * lat_us,
		     "two-pass munmap took %.1f ms: more than one latency\n", t_two / 1e6);
	igt_assert_f(t_two * 4 < t_single * 3,
		     "two-pass does not overlap the GPUs' invalidations\n");
	igt_file_restore_all();
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
	PAIR("inval-timeout-recovers", test_inval_timeout_recovers),
	PAIR("single-pass-remap", test_single_pass_remap),
	PAIR("single-pass-munmap-busy", test_single_pass_munmap_busy),
	{ "two-pass-overlaps-gpus", test_two_pass_overlaps_gpus, SG_ALL, 0 },
};

IGT_MAIN("TLB invalidation counters, timeout recovery, gsvm single-pass mode "
	 "and two-pass overlap across GPUs.", tests)
