// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * simgpu_basic: the GPU reaches process memory through userptr bindings.
 * Query, VM life cycle, store / copy / atomics, read-only bindings, GPU
 * faults on unbound addresses, batch ordering and syncobj chaining, on one
 * GPU (-single) and on every GPU mirroring the same memory (-all).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core.h"
#include "simgpu.h"

static void test_query(int mode)
{
	struct sg_gpu gpus[SG_MAX_GPUS];
	bool seen[SG_MAX_GPUS] = { false };
	int n, i;

	(void)mode;
	n = sg_open_all(gpus, SG_MAX_GPUS);
	igt_require_f(n > 0, "no simgpu device found\n");

	for (i = 0; i < n; i++) {
		struct sg_gpu *g = &gpus[i];
		char buf[64];

		igt_info("GPU %u (%s): %u GPUs, va_bits %u, page %" PRIu64
			 ", TLB invalidation %" PRIu64 " ns\n", g->index,
			 g->path, g->num_gpus, g->va_bits, g->page_size,
			 g->tlb_inval_latency_ns);
		igt_assert_lt(g->index, g->num_gpus);
		igt_assert_eq(g->num_gpus, gpus[0].num_gpus);
		igt_assert_lt(g->index, SG_MAX_GPUS);
		igt_assert_f(!seen[g->index], "two nodes report GPU %u\n",
			     g->index);
		seen[g->index] = true;
		igt_assert_f(g->page_size >= 4096 &&
			     !(g->page_size & (g->page_size - 1)),
			     "page_size %" PRIu64 "\n", g->page_size);
		igt_assert_f(g->va_bits >= 32 && g->va_bits <= 64,
			     "va_bits %u\n", g->va_bits);

		if (!sg_knob_read(g, "tlb_inval_latency_us", buf, sizeof(buf)))
			igt_assert_eq_u64(g->tlb_inval_latency_ns,
					  strtoull(buf, NULL, 0) * 1000);
	}
	if (!igt_device_filter())
		igt_assert_eq(n, gpus[0].num_gpus);
	for (i = 0; i < n; i++)
		close(gpus[i].fd);
}

static void test_query_latency_knob(int mode)
{
	struct drm_simgpu_query q;
	struct sg_ctx ctx;
	int i;

	sg_ctx_init(&ctx, mode);
	sg_ctx_knob_set_tmp(&ctx, "tlb_inval_latency_us", "123");
	for_each_gpu(&ctx, i) {
		memset(&q, 0, sizeof(q));
		igt_assert_err(__sg_query(ctx.gpu[i].fd, &q), 0);
		igt_assert_eq_u64(q.tlb_inval_latency_ns, 123000);
	}
	sg_ctx_fini(&ctx);
}

static void test_vm_create_destroy(int mode)
{
	struct sg_ctx ctx;
	uint32_t vms[16];
	int i, j, k;

	sg_ctx_init(&ctx, mode);
	for_each_gpu(&ctx, i) {
		int fd = ctx.gpu[i].fd;

		for (j = 0; j < 16; j++) {
			vms[j] = sg_vm_create(fd);
			igt_assert(vms[j] != ctx.gpu[i].vm);
			for (k = 0; k < j; k++)
				igt_assert(vms[k] != vms[j]);
		}
		for (j = 0; j < 16; j++)
			sg_vm_destroy(fd, vms[j]);
	}
	sg_ctx_fini(&ctx);
}

static void test_store(int mode)
{
	uint32_t vals[SG_MAX_GPUS];
	struct sg_ctx ctx;
	uint64_t gpu;
	uint32_t *buf;
	int i;

	sg_ctx_init(&ctx, mode);
	buf = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for_each_gpu(&ctx, i)
		vals[i] = sg_cookie();
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), vals[i]), 0);
	for_each_gpu(&ctx, i)
		igt_assert_eq_u32(buf[SG_SLOT_DW(i)], vals[i]);
	sg_ctx_fini(&ctx);
}

/* Every page of a buffer, each through its own PTE. */
static void test_store_every_page(int mode)
{
	const unsigned int pages = 64;
	uint64_t gpu, size;
	struct sg_ctx ctx;
	uint32_t *buf, base = 0x51000000;
	unsigned int p;
	int i;

	sg_ctx_init(&ctx, mode);
	size = pages * ctx.page_size;
	buf = sg_alloc_bound(&ctx, size, 0, &gpu);
	for_each_gpu(&ctx, i) {
		struct sg_batch b;

		sg_batch_start(&ctx, &b);
		for (p = 0; p < pages; p++)
			sg_emit_store(&b, gpu + p * ctx.page_size + SG_SLOT(i),
				      base + (i << 8) + p);
		igt_assert_err(sg_run(&ctx, i, sg_batch_end(&b)), 0);
	}
	for_each_gpu(&ctx, i)
		for (p = 0; p < pages; p++)
			igt_assert_eq_u32(buf[p * ctx.page_size / 4 + SG_SLOT_DW(i)],
					  base + (i << 8) + p);
	sg_ctx_fini(&ctx);
}

/* Memory the CPU never touched: the GPU must write the page the CPU later sees. */
static void test_bind_untouched(int mode)
{
	uint32_t vals[SG_MAX_GPUS];
	struct sg_ctx ctx;
	uint32_t *buf;
	uint64_t gpu;
	int i;

	sg_ctx_init(&ctx, mode);
	buf = sg_mmap(ctx.page_size, ctx.page_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gpu = sg_va_alloc(&ctx, ctx.page_size);
	sg_bind_all(&ctx, buf, ctx.page_size, gpu, 0);
	for_each_gpu(&ctx, i) {
		vals[i] = sg_cookie();
		igt_assert_err(sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), vals[i]), 0);
	}
	for_each_gpu(&ctx, i)
		igt_assert_eq_u32(buf[SG_SLOT_DW(i)], vals[i]);
	sg_ctx_fini(&ctx);
}

static void check_copy(int mode, uint32_t bytes)
{
	uint64_t src_gpu, dst_gpu;
	uint32_t *src, *dst;
	struct sg_ctx ctx;
	uint64_t size;
	uint32_t k;
	int i;

	sg_ctx_init(&ctx, mode);
	size = (bytes + ctx.page_size - 1) & ~(ctx.page_size - 1);
	src = sg_alloc_bound(&ctx, size, 0, &src_gpu);
	dst = sg_alloc_bound(&ctx, size * ctx.n, 0, &dst_gpu);
	for (k = 0; k < bytes / 4; k++)
		src[k] = 0x10000000u + k * 2654435761u;
	memset(dst, 0xcc, size * ctx.n);

	for_each_gpu(&ctx, i) {
		struct sg_batch b;

		sg_batch_start(&ctx, &b);
		sg_emit_copy(&b, src_gpu, dst_gpu + i * size, bytes);
		igt_assert_err(sg_run(&ctx, i, sg_batch_end(&b)), 0);
	}
	for_each_gpu(&ctx, i) {
		uint32_t *d = dst + i * size / 4;

		for (k = 0; k < bytes / 4; k++)
			igt_assert_f(d[k] == src[k],
				     "GPU %u: dword %u is %#x, expected %#x\n",
				     ctx.gpu[i].index, k, d[k], src[k]);
		/* Nothing written past the end. */
		if (bytes < size)
			igt_assert_eq_u32(d[bytes / 4], 0xccccccccu);
	}
	sg_ctx_fini(&ctx);
}

static void test_copy(int mode)
{
	check_copy(mode, 64 * 1024 - 12);
}

static void test_copy_1mib(int mode)
{
	check_copy(mode, 1 << 20);
}

/* All GPUs hammer one counter concurrently. */
static void test_atomic(int mode)
{
	const unsigned int batches = 8, adds = 100;
	struct sg_job jobs[SG_MAX_GPUS][8];
	struct sg_ctx ctx;
	uint32_t *counter;
	uint64_t gpu;
	unsigned int j, k;
	int i;

	sg_ctx_init(&ctx, mode);
	counter = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for (j = 0; j < batches; j++) {
		for_each_gpu(&ctx, i) {
			struct sg_batch b;

			sg_batch_start(&ctx, &b);
			for (k = 0; k < adds; k++)
				sg_emit_atomic_add(&b, gpu, 1);
			sg_submit(&ctx, i, sg_batch_end(&b), 0, &jobs[i][j]);
		}
	}
	for (j = 0; j < batches; j++)
		for_each_gpu(&ctx, i)
			igt_assert_err(sg_job_finish(&jobs[i][j]), 0);
	igt_assert_eq(sg_read32(counter), ctx.n * batches * adds);
	sg_ctx_fini(&ctx);
}

/* GPU atomics are atomic with respect to CPU atomics on the same word. */
static void test_atomic_cpu_and_gpus(int mode)
{
	const unsigned int adds = 150;	/* 6 dwords each, one ring slot */
	struct sg_job jobs[SG_MAX_GPUS];
	uint64_t cpu_adds = 0, gpu;
	struct sg_ctx ctx;
	uint32_t *counter;
	bool busy;
	unsigned int k;
	int i;

	sg_ctx_init(&ctx, mode);
	counter = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for_each_gpu(&ctx, i) {
		struct sg_batch b;

		sg_batch_start(&ctx, &b);
		for (k = 0; k < adds; k++) {
			sg_emit_atomic_add(&b, gpu, 3);
			sg_emit_delay(&b, 100);
		}
		sg_submit(&ctx, i, sg_batch_end(&b), 0, &jobs[i]);
	}
	do {
		busy = false;
		for (k = 0; k < 64; k++, cpu_adds++)
			__atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
		for_each_gpu(&ctx, i)
			busy |= sg_job_busy(&jobs[i]);
	} while (busy);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_job_finish(&jobs[i]), 0);
	igt_info("%" PRIu64 " CPU increments raced with the GPUs\n", cpu_adds);
	igt_assert_eq_u64((uint64_t)sg_read32(counter),
			  (uint64_t)(ctx.n * adds * 3 + cpu_adds) & 0xffffffffu);
	sg_ctx_fini(&ctx);
}

static void test_readonly_read(int mode)
{
	struct sg_ctx ctx;
	uint32_t *ro, v;
	uint64_t gpu;
	int i, err;

	sg_ctx_init(&ctx, mode);
	ro = sg_mmap(ctx.page_size, ctx.page_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (i = 0; i < SG_MAX_GPUS; i++)
		ro[SG_SLOT_DW(i)] = 0x70000000u + i;
	gpu = sg_va_alloc(&ctx, ctx.page_size);
	sg_bind_all(&ctx, ro, ctx.page_size, gpu, DRM_SIMGPU_BIND_READONLY);
	for_each_gpu(&ctx, i) {
		v = sg_gpu_read32(&ctx, i, gpu + SG_SLOT(i), &err);
		igt_assert_err(err, 0);
		igt_assert_eq_u32(v, 0x70000000u + i);
	}
	sg_ctx_fini(&ctx);
}

static void test_readonly_write(int mode)
{
	struct sg_ctx ctx;
	uint32_t *ro;
	uint64_t gpu;
	int i;

	sg_ctx_init(&ctx, mode);
	ro = sg_mmap(ctx.page_size, ctx.page_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(ro, 0x5a, ctx.page_size);
	gpu = sg_va_alloc(&ctx, ctx.page_size);
	sg_bind_all(&ctx, ro, ctx.page_size, gpu, DRM_SIMGPU_BIND_READONLY);
	for_each_gpu(&ctx, i) {
		igt_assert_err(sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), 0x1234), -EACCES);
		igt_assert_eq_u32(ro[SG_SLOT_DW(i)], 0x5a5a5a5au);
	}
	/* Also through an atomic and as the destination of a copy. */
	for_each_gpu(&ctx, i) {
		struct sg_batch b;

		sg_batch_start(&ctx, &b);
		sg_emit_atomic_add(&b, gpu + SG_SLOT(i), 1);
		igt_assert_err(sg_run(&ctx, i, sg_batch_end(&b)), -EACCES);
		sg_batch_start(&ctx, &b);
		sg_emit_copy(&b, ctx.scratch_gpu, gpu + SG_SLOT(i), 4);
		igt_assert_err(sg_run(&ctx, i, sg_batch_end(&b)), -EACCES);
		igt_assert_eq_u32(ro[SG_SLOT_DW(i)], 0x5a5a5a5au);
	}
	sg_ctx_fini(&ctx);
}

/* The engine only reads batches: they may live in a read-only binding. */
static void test_batch_readonly(int mode)
{
	uint64_t bb_gpu, dst_gpu;
	struct sg_batch b;
	struct sg_ctx ctx;
	uint32_t *bb, *dst;
	int i;

	sg_ctx_init(&ctx, mode);
	dst = sg_alloc_bound(&ctx, ctx.page_size, 0, &dst_gpu);
	bb = sg_mmap(ctx.page_size, ctx.page_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bb_gpu = sg_va_alloc(&ctx, ctx.page_size);
	sg_batch_start_at(&b, bb, bb_gpu, ctx.page_size / 4);
	for (i = 0; i < ctx.n; i++)
		sg_emit_atomic_add(&b, dst_gpu + SG_SLOT(i), 0x100 + i);
	sg_batch_end(&b);
	sg_bind_all(&ctx, bb, ctx.page_size, bb_gpu, DRM_SIMGPU_BIND_READONLY);
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_run(&ctx, i, bb_gpu), 0);
	for_each_gpu(&ctx, i)
		igt_assert_eq_u32(dst[SG_SLOT_DW(i)], (0x100 + i) * ctx.n);
	sg_ctx_fini(&ctx);
}

static void test_unbound_address(int mode)
{
	struct sg_ctx ctx;
	uint64_t hole;
	uint32_t v;
	int i, err;

	sg_ctx_init(&ctx, mode);
	hole = sg_va_alloc(&ctx, ctx.page_size);
	for_each_gpu(&ctx, i) {
		igt_assert_err(sg_gpu_write32(&ctx, i, hole, 1), -EFAULT);
		v = sg_gpu_read32(&ctx, i, hole, &err);
		igt_assert_err(err, -EFAULT);
		igt_assert_eq_u32(v, SG_POISON);
		/* The guard page right after a binding is not reachable either. */
		igt_assert_err(sg_gpu_write32(&ctx, i, ctx.scratch_gpu + SG_SCRATCH_SIZE, 1),
			       -EFAULT);
	}
	sg_ctx_fini(&ctx);
}

/* A failed batch does not stop the engine: the next batch runs. */
static void test_fault_then_next_batch(int mode)
{
	struct sg_job bad, good;
	struct sg_batch b;
	struct sg_ctx ctx;
	uint32_t *buf;
	uint64_t gpu, hole;
	int i;

	sg_ctx_init(&ctx, mode);
	buf = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	hole = sg_va_alloc(&ctx, ctx.page_size);
	for_each_gpu(&ctx, i) {
		sg_batch_start(&ctx, &b);
		sg_emit_store(&b, gpu + SG_SLOT(i), 1);
		sg_emit_store(&b, hole, 2);
		sg_emit_store(&b, gpu + SG_SLOT(i), 3);	/* never reached */
		sg_submit(&ctx, i, sg_batch_end(&b), 0, &bad);
		sg_batch_start(&ctx, &b);
		sg_emit_atomic_add(&b, gpu + SG_SLOT(i) + 4, 7);
		sg_submit(&ctx, i, sg_batch_end(&b), 0, &good);
		igt_assert_err(sg_job_finish(&bad), -EFAULT);
		igt_assert_err(sg_job_finish(&good), 0);
		igt_assert_eq_u32(buf[SG_SLOT_DW(i)], 1);
		igt_assert_eq_u32(buf[SG_SLOT_DW(i) + 1], 7);
	}
	sg_ctx_fini(&ctx);
}

/* Batches of one GPU run in submission order. */
static void test_batch_order(int mode)
{
	struct sg_job first[SG_MAX_GPUS], second[SG_MAX_GPUS];
	struct sg_batch b;
	struct sg_ctx ctx;
	uint32_t *buf;
	uint64_t gpu;
	int i;

	sg_ctx_init(&ctx, mode);
	buf = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for_each_gpu(&ctx, i) {
		sg_batch_start(&ctx, &b);
		sg_emit_delay(&b, 50000);
		sg_emit_store(&b, gpu + SG_SLOT(i), 1);
		sg_submit(&ctx, i, sg_batch_end(&b), 0, &first[i]);
		sg_batch_start(&ctx, &b);
		sg_emit_copy(&b, gpu + SG_SLOT(i), gpu + SG_SLOT(i) + 4, 4);
		sg_emit_store(&b, gpu + SG_SLOT(i), 2);
		sg_submit(&ctx, i, sg_batch_end(&b), 0, &second[i]);
	}
	for_each_gpu(&ctx, i) {
		igt_assert_err(sg_job_finish(&second[i]), 0);
		igt_assert(!sg_job_busy(&first[i]));
		igt_assert_err(sg_job_finish(&first[i]), 0);
		igt_assert_eq_u32(buf[SG_SLOT_DW(i)], 2);
		igt_assert_eq_u32(buf[SG_SLOT_DW(i) + 1], 1);
	}
	sg_ctx_fini(&ctx);
}

/*
 * A chain through in/out syncobjs: batch k waits for batch k - 1 (on the
 * next GPU with -all), copies its predecessor's value and adds one. The
 * first batch is slow, so without the dependency the others would read 0.
 */
static void test_syncobj_chain(int mode)
{
	const int links = 8;
	struct sg_job jobs[8];
	struct sg_batch b;
	struct sg_ctx ctx;
	uint32_t *buf;
	uint64_t gpu;
	int k, i;

	/* Out-syncobjs: dma-fence mode VMs. */
	sg_ctx_init(&ctx, mode | SG_DMA_FENCE);
	buf = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for (k = 0; k < links; k++) {
		i = k % ctx.n;
		sg_batch_start(&ctx, &b);
		if (k == 0) {
			sg_emit_delay(&b, 100000);
			sg_emit_store(&b, gpu, 1000);
		} else {
			sg_emit_copy(&b, gpu + 4 * (k - 1), gpu + 4 * k, 4);
			sg_emit_atomic_add(&b, gpu + 4 * k, 1);
		}
		if (k == 0 || ctx.gpu[i].fd == jobs[k - 1].fd)
			sg_submit(&ctx, i, sg_batch_end(&b),
				  k ? jobs[k - 1].syncobj : 0, &jobs[k]);
		else {
			/* Syncobjs are per file: carry the fence across. */
			uint32_t h;
			int sf;

			igt_assert_err(drmSyncobjExportSyncFile(jobs[k - 1].fd,
								jobs[k - 1].syncobj, &sf), 0);
			igt_assert_err(drmSyncobjCreate(ctx.gpu[i].fd, 0, &h), 0);
			igt_assert_err(drmSyncobjImportSyncFile(ctx.gpu[i].fd, h, sf), 0);
			close(sf);
			sg_submit(&ctx, i, sg_batch_end(&b), h, &jobs[k]);
		}
	}
	igt_assert_err(sg_job_finish(&jobs[links - 1]), 0);
	for (k = 0; k < links; k++) {
		igt_assert_err(sg_job_finish(&jobs[k]), 0);
		igt_assert_eq_u32(buf[k], 1000 + k);
	}
	sg_ctx_fini(&ctx);
}

/* A batch waiting on an in-syncobj does not start before that fence signals. */
static void test_syncobj_wait_before_signal(int mode)
{
	struct sg_job slow, fast;
	struct sg_batch b;
	struct sg_ctx ctx;
	uint32_t *buf;
	uint64_t gpu;
	int i;

	sg_ctx_init(&ctx, mode | SG_DMA_FENCE);
	buf = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for_each_gpu(&ctx, i) {
		sg_batch_start(&ctx, &b);
		sg_emit_delay(&b, 100000);
		sg_emit_store(&b, gpu + SG_SLOT(i), 5);
		sg_submit(&ctx, i, sg_batch_end(&b), 0, &slow);
		sg_batch_start(&ctx, &b);
		sg_emit_store(&b, gpu + SG_SLOT(i), 6);
		sg_submit(&ctx, i, sg_batch_end(&b), slow.syncobj, &fast);
		igt_assert_eq(sg_job_wait(&fast, 20), -ETIME);
		igt_assert_err(sg_job_finish(&fast), 0);
		igt_assert(!sg_job_busy(&slow));
		igt_assert_eq_u32(buf[SG_SLOT_DW(i)], 6);
	}
	sg_ctx_fini(&ctx);
}

static void test_store_loop(int mode)
{
	struct sg_job jobs[SG_MAX_GPUS];
	struct sg_batch b;
	struct sg_ctx ctx;
	uint32_t *buf;
	uint64_t gpu;
	int i;

	sg_ctx_init(&ctx, mode);
	buf = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for_each_gpu(&ctx, i) {
		sg_batch_start(&ctx, &b);
		sg_emit_store_loop(&b, gpu + SG_SLOT(i), 500 + i, 10);
		sg_submit(&ctx, i, sg_batch_end(&b), 0, &jobs[i]);
	}
	for_each_gpu(&ctx, i) {
		igt_assert_err(sg_job_finish(&jobs[i]), 0);
		igt_assert_eq_u32(buf[SG_SLOT_DW(i)], 500 + i);
	}
	sg_ctx_fini(&ctx);
}

static void test_delay(int mode)
{
	struct sg_job jobs[SG_MAX_GPUS];
	struct sg_batch b;
	struct sg_ctx ctx;
	uint64_t start, elapsed;
	int i;

	sg_ctx_init(&ctx, mode);
	start = igt_now_ns();
	for_each_gpu(&ctx, i) {
		sg_batch_start(&ctx, &b);
		sg_emit_delay(&b, 150000);
		sg_submit(&ctx, i, sg_batch_end(&b), 0, &jobs[i]);
	}
	for_each_gpu(&ctx, i)
		igt_assert_err(sg_job_finish(&jobs[i]), 0);
	elapsed = igt_now_ns() - start;
	igt_info("%d GPUs ran a 150 ms delay in %.1f ms\n", ctx.n, elapsed / 1e6);
	igt_assert_f(elapsed >= 150000000ull, "delay took only %.1f ms\n",
		     elapsed / 1e6);
	sg_ctx_fini(&ctx);
}

/* Two VMs on one GPU map the same GPU address to different memory. */
static void test_vm_isolation(int mode)
{
	struct sg_ctx ctx;
	uint32_t *a, *b, vm2;
	uint64_t gpu;
	int i;

	sg_ctx_init(&ctx, mode);
	a = sg_mmap(ctx.page_size, ctx.page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = sg_mmap(ctx.page_size, ctx.page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gpu = sg_va_alloc(&ctx, ctx.page_size);
	for_each_gpu(&ctx, i) {
		struct sg_job job;
		struct sg_batch bb;
		int fd = ctx.gpu[i].fd;

		vm2 = sg_vm_create(fd);
		sg_bind(fd, ctx.gpu[i].vm, gpu, ctx.page_size, a, 0);
		sg_bind(fd, vm2, gpu, ctx.page_size, b, 0);
		/* The batch must be reachable from vm2 too. */
		sg_bind(fd, vm2, ctx.ring_gpu, SG_RING_SIZE, ctx.ring, 0);

		igt_assert_err(sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), 0xa0 + i), 0);
		sg_batch_start(&ctx, &bb);
		sg_emit_store(&bb, gpu + SG_SLOT(i), 0xb0 + i);
		igt_assert_err(__sg_submit(fd, vm2, sg_batch_end(&bb), 0, &job), 0);
		igt_assert_err(sg_job_finish(&job), 0);

		igt_assert_eq_u32(a[SG_SLOT_DW(i)], 0xa0 + i);
		igt_assert_eq_u32(b[SG_SLOT_DW(i)], 0xb0 + i);
		sg_vm_destroy(fd, vm2);
	}
	sg_ctx_fini(&ctx);
}

/* Destroying a VM with live bindings; its id is gone afterwards. */
static void test_vm_destroy_with_bindings(int mode)
{
	struct sg_job job;
	struct sg_batch b;
	struct sg_ctx ctx;
	uint32_t *buf, vm;
	uint64_t gpu;
	int i;

	sg_ctx_init(&ctx, mode);
	buf = sg_mmap(ctx.page_size * 4, ctx.page_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gpu = sg_va_alloc(&ctx, ctx.page_size * 4);
	for_each_gpu(&ctx, i) {
		int fd = ctx.gpu[i].fd;

		vm = sg_vm_create(fd);
		sg_bind(fd, vm, gpu, ctx.page_size * 4, buf, 0);
		sg_bind(fd, vm, ctx.ring_gpu, SG_RING_SIZE, ctx.ring, 0);
		sg_batch_start(&ctx, &b);
		sg_emit_store(&b, gpu + SG_SLOT(i), 0x33);
		igt_assert_err(__sg_submit(fd, vm, sg_batch_end(&b), 0, &job), 0);
		igt_assert_err(sg_job_finish(&job), 0);
		igt_assert_eq_u32(buf[SG_SLOT_DW(i)], 0x33);

		sg_vm_destroy(fd, vm);
		igt_assert_err(__sg_submit(fd, vm, b.addr, 0, &job), -ENOENT);
		igt_assert_err(__sg_bind(fd, vm, gpu, ctx.page_size, buf, 0), -ENOENT);
	}
	sg_ctx_fini(&ctx);
}

#define PAIR(name, fn) \
	{ name "-single", fn, SG_ONE, 0 }, { name "-all", fn, SG_ALL, 0 }

static const struct igt_subtest tests[] = {
	{ "query", test_query, 0, 0 },
	PAIR("query-latency-knob", test_query_latency_knob),
	PAIR("vm-create-destroy", test_vm_create_destroy),
	PAIR("store", test_store),
	PAIR("store-every-page", test_store_every_page),
	PAIR("bind-untouched-memory", test_bind_untouched),
	PAIR("copy", test_copy),
	PAIR("copy-1mib", test_copy_1mib),
	PAIR("atomic", test_atomic),
	PAIR("atomic-cpu-and-gpus", test_atomic_cpu_and_gpus),
	PAIR("readonly-read", test_readonly_read),
	PAIR("readonly-write-eacces", test_readonly_write),
	PAIR("batch-in-readonly-binding", test_batch_readonly),
	PAIR("unbound-address-efault", test_unbound_address),
	PAIR("fault-then-next-batch", test_fault_then_next_batch),
	PAIR("batch-order", test_batch_order),
	PAIR("syncobj-chain", test_syncobj_chain),
	PAIR("syncobj-wait-before-signal", test_syncobj_wait_before_signal),
	PAIR("store-loop", test_store_loop),
	PAIR("delay", test_delay),
	PAIR("vm-isolation", test_vm_isolation),
	PAIR("vm-destroy-with-bindings", test_vm_destroy_with_bindings),
};

IGT_MAIN("Basic simgpu operation: userptr bindings, store/copy/atomic, "
	 "read-only bindings, GPU faults, batch ordering, syncobjs.", tests)
