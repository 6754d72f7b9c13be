// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * simgpu_hotplug: GPUs added and removed at runtime through
 * /sys/kernel/debug/simgpu/new_gpu and del_gpu, netdevsim style: idle,
 * with its file open and bindings live, with batches queued, with a
 * user-fence waiter blocked, and while the CPU keeps invalidating its
 * bindings with a slow TLB. After a removal the file's ioctls fail with
 * -ENODEV, gsvm's live counters drop back before the file is closed (the
 * bindings are torn down with the GPU), queued batches have ended, and the
 * same index can be added again and works; a removal while the GPU's knobs
 * are being written leaves no write succeeding afterwards, and nothing for
 * KASAN to find. Each subtest adds GPUs at free indices and removes them
 * again.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core.h"
#include "simgpu.h"

#define NEW_GPU SG_DEBUGFS_ROOT "/new_gpu"
#define DEL_GPU SG_DEBUGFS_ROOT "/del_gpu"

static bool added[SG_MAX_GPUS];
static char filter[32];

static int write_index(const char *path, unsigned int index)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", index);
	return igt_file_write(path, buf);
}

static int gpu_del(unsigned int index)
{
	int err = write_index(DEL_GPU, index);

	if (!err)
		added[index] = false;
	return err;
}

static void del_added(void)
{
	unsigned int i;

	for (i = 0; i < SG_MAX_GPUS; i++)
		if (added[i])
			gpu_del(i);
}

/* Whether a node of GPU @index exists (opened and queried). */
static bool gpu_present(unsigned int index, uint32_t *num_gpus)
{
	struct sg_gpu g[SG_MAX_GPUS];
	const char *old = igt_device_filter_set(NULL);
	bool found = false;
	int n, i;

	n = sg_open_all(g, SG_MAX_GPUS);
	igt_device_filter_set(old);
	for (i = 0; i < n; i++) {
		if (g[i].index == index) {
			found = true;
			if (num_gpus)
				*num_gpus = g[i].num_gpus;
		}
		close(g[i].fd);
	}
	return found;
}

/* Adds a GPU at the highest free index and returns it. */
static unsigned int gpu_add(void)
{
	unsigned int index;
	int err;

	igt_require_f(!access(NEW_GPU, W_OK), "no %s (simgpu without hotplug)\n", NEW_GPU);
	igt_install_exit_handler(del_added);
	for (index = SG_MAX_GPUS; index-- > 0;) {
		err = write_index(NEW_GPU, index);
		if (err == -EEXIST)
			continue;
		igt_assert_f(!err, "adding GPU %u: %s\n", index, igt_errname(err));
		added[index] = true;
		igt_assert_f(gpu_present(index, NULL), "GPU %u was added, it has no node\n",
			     index);
		return index;
	}
	igt_skip("no free GPU index\n");
	return 0;
}

/* A context on GPU @index alone. */
static void ctx_on(struct sg_ctx *ctx, unsigned int index, int mode)
{
	const char *old;

	snprintf(filter, sizeof(filter), "simgpu:%u", index);
	old = igt_device_filter_set(filter);
	sg_ctx_init(ctx, SG_ALL | mode);
	igt_device_filter_set(old);
	igt_assert_eq(ctx->n, 1);
	igt_assert_eq(ctx->gpu[0].index, index);
}

/*
 * Adds a GPU and a context on it with one page bound, which the GPU
 * writes @val to; *buf is the page. Returns the GPU's index.
 */
static unsigned int gpu_add_bound(struct sg_ctx *ctx, int mode, uint32_t val,
				  uint32_t **buf)
{
	unsigned int index = gpu_add();
	uint64_t gpu;

	ctx_on(ctx, index, mode);
	*buf = sg_alloc_bound(ctx, ctx->page_size, 0, &gpu);
	igt_assert_err(sg_gpu_write32(ctx, 0, gpu, val), 0);
	igt_assert_eq_u32((*buf)[0], val);
	return index;
}

/* After removal: every ioctl of an open file is -ENODEV. */
static void assert_enodev(int fd, uint32_t vm)
{
	struct drm_simgpu_query q = {};
	struct drm_simgpu_vm_create c = {};
	struct drm_simgpu_vm_destroy d = { .vm_id = vm };
	struct drm_simgpu_exec x = { .vm_id = vm };

	igt_assert_err(__sg_query(fd, &q), -ENODEV);
	igt_assert_err(__sg_vm_create(fd, &c), -ENODEV);
	igt_assert_err(__sg_bind(fd, vm, 1ull << 40, 4096, &q, 0), -ENODEV);
	igt_assert_err(__sg_unbind(fd, vm, 1ull << 40, 4096), -ENODEV);
	igt_assert_err(__sg_exec(fd, &x), -ENODEV);
	igt_assert_err(__sg_vm_destroy(fd, &d), -ENODEV);
}

/* QUERY's num_gpus, the same on every node, and the number of nodes. */
static uint32_t reported_num_gpus(int *nodes)
{
	struct sg_gpu g[SG_MAX_GPUS];
	const char *old = igt_device_filter_set(NULL);
	uint32_t num = 0;
	int n, i;

	n = sg_open_all(g, SG_MAX_GPUS);
	igt_device_filter_set(old);
	for (i = 0; i < n; i++) {
		igt_assert_f(!i || g[i].num_gpus == num, "GPU %u reports %u GPUs, GPU %u %u\n",
			     g[i].index, g[i].num_gpus, g[0].index, num);
		num = g[i].num_gpus;
		close(g[i].fd);
	}
	*nodes = n;
	return num;
}

static void test_add_remove(int mode)
{
	struct sg_ctx ctx;
	unsigned int index;
	int n0, n1, n2;
	uint32_t q0, q1, q2;

	(void)mode;
	q0 = reported_num_gpus(&n0);
	igt_require_f(n0 > 0, "no simgpu device found\n");
	index = gpu_add();
	q1 = reported_num_gpus(&n1);
	igt_assert_f(n1 == n0 + 1 && q1 == q0 + 1, "after adding GPU %u: %d nodes (%d before), "
		     "QUERY says %u GPUs (%u before)\n", index, n1, n0, q1, q0);
	ctx_on(&ctx, index, SG_DMA_FENCE);
	igt_assert_err(sg_gpu_write32(&ctx, 0, ctx.scratch_gpu, 0x1234), 0);
	igt_assert_eq_u32(sg_read32(ctx.scratch), 0x1234);
	sg_ctx_fini(&ctx);

	/* Bad writes. */
	igt_assert_err(write_index(NEW_GPU, index), -EEXIST);
	igt_assert_err(write_index(NEW_GPU, SG_MAX_GPUS), -EINVAL);
	igt_assert_err(write_index(DEL_GPU, SG_MAX_GPUS), -EINVAL);
	igt_assert_err(igt_file_write(NEW_GPU, "banana"), -EINVAL);

	igt_assert_err(gpu_del(index), 0);
	igt_assert_f(!gpu_present(index, NULL), "GPU %u was removed, its node remains\n", index);
	igt_assert_err(write_index(DEL_GPU, index), -ENOENT);
	q2 = reported_num_gpus(&n2);
	igt_assert_f(n2 == n0 && q2 == q0, "after removing GPU %u: %d nodes, QUERY says %u "
		     "GPUs (%d and %u before)\n", index, n2, q2, n0, q0);
}

/*
 * Removed with its file open and bindings live (the GPU wrote them): the
 * bindings are torn down with the GPU, before the file is closed; the
 * process's memory stays its own; the index comes back, and works.
 */
static void test_remove_with_bindings(int mode)
{
	enum { NBUF = 16 };
	struct sg_ctx ctx;
	struct sg_live l0;
	unsigned int index;
	uint64_t gpu;
	uint32_t *buf;
	int k;

	sg_live_take(&l0);
	index = gpu_add();
	ctx_on(&ctx, index, mode);
	buf = sg_mmap(NBUF * ctx.page_size, ctx.page_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 0, NBUF * ctx.page_size);
	gpu = sg_va_alloc(&ctx, 2 * NBUF * ctx.page_size);
	for (k = 0; k < NBUF; k++) {
		sg_bind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu + 2 * k * ctx.page_size,
			ctx.page_size, (char *)buf + k * ctx.page_size, 0);
		igt_assert_err(sg_gpu_write32(&ctx, 0, gpu + 2 * k * ctx.page_size, k + 1), 0);
		igt_assert_eq_u32(buf[k * ctx.page_size / 4], k + 1);
	}
	if (ctx.svm)
		igt_assert_err(sg_gpu_write32(&ctx, 0, (uintptr_t)&buf[1], 77), 0);

	igt_assert_err(gpu_del(index), 0);
	sg_live_assert(&l0, "GPU removed, its file still open");
	assert_enodev(ctx.gpu[0].fd, ctx.gpu[0].vm);
	/* The CPU's memory is untouched, and invalidating it reaches no GPU. */
	for (k = 0; k < NBUF; k++)
		igt_assert_eq_u32(buf[k * ctx.page_size / 4], k + 1);
	igt_assert(!munmap(buf, NBUF * ctx.page_size));
	sg_ctx_close_fds(&ctx);
	sg_live_assert(&l0, "file closed");

	/* The same index again. */
	igt_assert_err(write_index(NEW_GPU, index), 0);
	added[index] = true;
	ctx_on(&ctx, index, mode);
	igt_assert_err(sg_gpu_write32(&ctx, 0, ctx.scratch_gpu, 0x5678), 0);
	igt_assert_eq_u32(sg_read32(ctx.scratch), 0x5678);
	sg_ctx_fini(&ctx);
	igt_assert_err(gpu_del(index), 0);
	sg_live_assert(&l0, "the GPU added again, used and removed");
}

/*
 * Removed with batches queued (each 50 ms, then a store): removal runs them
 * to the end before it returns; dma-fence mode fences (exported as sync
 * files) have signalled without error, the stores landed.
 */
static void test_remove_with_queued_batches(int mode)
{
	enum { QUEUED = 6 };
	struct sg_job jobs[QUEUED];
	int sf[QUEUED];
	struct sg_ctx ctx;
	struct sg_live l0;
	unsigned int index;
	uint64_t gpu;
	uint32_t *buf;
	int k;

	sg_live_take(&l0);
	index = gpu_add();
	ctx_on(&ctx, index, mode);
	buf = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for (k = 0; k < QUEUED; k++) {
		struct sg_batch b;

		sg_batch_start(&ctx, &b);
		sg_emit_delay(&b, 50000);
		sg_emit_store(&b, gpu + 4 * k, 100 + k);
		sg_submit(&ctx, 0, sg_batch_end(&b), 0, &jobs[k]);
		sf[k] = ctx.fault_mode ? -1 : sg_job_export(&jobs[k]);
	}
	igt_assert_err(gpu_del(index), 0);
	for (k = 0; k < QUEUED; k++) {
		if (sf[k] >= 0) {
			/* 0: signalled without error; -ETIME: not signalled. */
			int e = sg_sync_file_wait(sf[k], 0);

			igt_assert_f(!e, "batch %d: %s when its GPU was gone\n", k,
				     e == -ETIME ? "not signalled" : igt_errname(e));
			close(sf[k]);
		} else {
			igt_assert_f(jobs[k].ufence->value >= jobs[k].ufence_value,
				     "batch %d: user fence not written when its GPU was gone\n", k);
			igt_assert_err((int)jobs[k].ufence->error, 0);
		}
		igt_assert_f(buf[k] == 100u + k, "batch %d's store did not land (%#x)\n", k,
			     buf[k]);
	}
	sg_live_assert(&l0, "GPU removed with batches queued");
	sg_ctx_close_fds(&ctx);
	sg_live_assert(&l0, "file closed");
}

struct churn {
	char *mem;
	uint64_t size, page;
	volatile bool stop;
	unsigned long rounds;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;

	while (!c->stop) {
		uint64_t off = (c->rounds % (c->size / c->page)) * c->page;

		if (c->rounds & 1)
			madvise(c->mem + off, c->page, MADV_DONTNEED);
		else
			mmap(c->mem + off, c->page, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		c->rounds++;
	}
	return NULL;
}

struct waiter {
	int fd;
	volatile struct drm_simgpu_user_fence *uf;
	int err;
	pthread_t th;
};

static void *waiter_thread(void *arg)
{
	struct waiter *w = arg;
	struct drm_simgpu_wait_user_fence a = {
		.addr = (uintptr_t)w->uf,
		.value = ~0ull,
		.timeout_ns = INT64_MAX,
	};

	w->err = __sg_wait_ufence(w->fd, &a);
	return NULL;
}

/*
 * Removed while a thread munmaps and drops the bound pages over and over
 * (every TLB invalidation takes 20 ms, so some are always in flight), a
 * batch loops over them, and another thread waits forever on a user
 * fence, which ends with -ENODEV. The invalidations keep coming after the
 * removal, and reach no GPU.
 */
static void test_remove_during_invalidations(int mode)
{
	enum { NPAGES = 32 };
	struct churn c = {};
	struct waiter w = {};
	struct sg_ctx ctx;
	struct sg_job job;
	struct sg_live l0;
	pthread_t th;
	unsigned int index;
	unsigned long r0;
	uint64_t gpu;
	struct sg_batch b;
	char knob[128];
	int k;

	sg_live_take(&l0);
	index = gpu_add();
	snprintf(knob, sizeof(knob), SG_DEBUGFS_ROOT "/gpu%u/tlb_inval_latency_us", index);
	igt_assert_err(igt_file_write(knob, "20000"), 0);
	ctx_on(&ctx, index, mode);
	c.page = ctx.page_size;
	c.size = NPAGES * c.page;
	c.mem = sg_mmap(c.size, c.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	memset(c.mem, 0, c.size);
	gpu = sg_va_alloc(&ctx, 2 * c.size);
	for (k = 0; k < NPAGES; k++)
		sg_bind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu + 2 * k * c.page, c.page,
			c.mem + k * c.page, 0);
	sg_batch_start(&ctx, &b);
	sg_emit_store_loop(&b, gpu, 2000, 100);
	sg_submit(&ctx, 0, sg_batch_end(&b), 0, &job);
	if (ctx.fault_mode) {
		w.fd = ctx.gpu[0].fd;
		w.uf = sg_ufence_alloc();
		igt_assert(!pthread_create(&w.th, NULL, waiter_thread, &w));
	}
	igt_assert(!pthread_create(&th, NULL, churn_thread, &c));
	usleep(300 * 1000);

	igt_assert_err(gpu_del(index), 0);
	r0 = c.rounds;
	sg_live_assert(&l0, "GPU removed during invalidations");
	if (ctx.fault_mode) {
		pthread_join(w.th, NULL);
		igt_assert_err(w.err, -ENODEV);
	}
	usleep(200 * 1000);
	c.stop = true;
	pthread_join(th, NULL);
	igt_info("%lu CPU unmaps and drops before the removal, %lu after\n", r0,
		 c.rounds - r0);
	igt_assert_f(r0 > 0 && c.rounds > r0, "the CPU did not keep invalidating (%lu, %lu)\n",
		     r0, c.rounds - r0);
	sg_ctx_close_fds(&ctx);
	sg_live_assert(&l0, "file closed");
}

/* Twenty rounds of add, bind, run, remove with the file open, close. */
static void test_add_remove_loop(int mode)
{
	struct sg_live l0;
	int r;

	sg_live_take(&l0);
	for (r = 0; r < 20; r++) {
		struct sg_ctx ctx;
		uint32_t *buf;
		unsigned int index = gpu_add_bound(&ctx, mode, r + 1, &buf);
		igt_assert_err(gpu_del(index), 0);
		sg_ctx_close_fds(&ctx);
		munmap(buf, ctx.page_size);
	}
	sg_live_assert(&l0, "after 20 rounds");
}

/*
 * A thread writes a GPU's knobs in a loop while the GPU is removed:
 * "N" to hang_tlb_inval kicks the invalidation queue and may arm its
 * hrtimer. The removal takes the GPU's debugfs files away before it tears
 * the queue down, so no write can re-arm the timer of a stopped queue in
 * memory about to be freed (KASAN would report the timer firing there).
 */
struct knob_writer {
	char path[128];
	pthread_t thread;
	volatile bool stop, removed;
	unsigned long ok, failed, ok_after;
	int bad_errno;
};

static void *knob_writer_thread(void *arg)
{
	struct knob_writer *w = arg;
	int fd = open(w->path, O_WRONLY);

	if (fd < 0) {
		__atomic_store_n(&w->bad_errno, errno, __ATOMIC_RELAXED);
		return NULL;
	}
	while (!w->stop) {
		bool removed = w->removed;

		if (pwrite(fd, "N", 1, 0) == 1) {
			__atomic_fetch_add(&w->ok, 1, __ATOMIC_RELAXED);
			w->ok_after += removed;
		} else if (errno == EIO || errno == ENODEV || errno == ENOENT) {
			/* debugfs cut the file off: expected once removed. */
			w->failed++;
		} else {
			__atomic_store_n(&w->bad_errno, errno, __ATOMIC_RELAXED);
			break;
		}
	}
	close(fd);
	return NULL;
}

/* Ten rounds: remove a GPU, with a live binding, while its knobs are written. */
static void test_remove_while_writing_knobs(int mode)
{
	struct sg_live l0;
	int r;

	sg_live_take(&l0);
	for (r = 0; r < 10; r++) {
		struct knob_writer w = {};
		struct sg_ctx ctx;
		uint32_t *buf;
		unsigned int index = gpu_add_bound(&ctx, mode, r + 1, &buf);

		sg_debugfs_path(&ctx.gpu[0], "hang_tlb_inval", w.path, sizeof(w.path));
		igt_assert_eq(pthread_create(&w.thread, NULL, knob_writer_thread, &w), 0);
		while (!__atomic_load_n(&w.ok, __ATOMIC_RELAXED) &&
		       !__atomic_load_n(&w.bad_errno, __ATOMIC_RELAXED))
			usleep(1000);
		igt_assert_err(gpu_del(index), 0);
		w.removed = true;
		usleep(20000);
		w.stop = true;
		pthread_join(w.thread, NULL);
		igt_assert_f(!w.bad_errno, "writing %s: %s\n", w.path, strerror(w.bad_errno));
		igt_assert_f(!w.ok_after,
			     "%lu writes to %s succeeded after del_gpu returned: the knob outlived its GPU\n",
			     w.ok_after, w.path);
		igt_assert_f(w.failed, "no write to %s failed after del_gpu\n", w.path);
		igt_debug("round %d: %lu writes before the removal\n", r, w.ok);
		sg_ctx_close_fds(&ctx);
		munmap(buf, ctx.page_size);
	}
	sg_live_assert(&l0, "after 10 rounds");
}

#define MODES(name, fn) \
	{ name "-dma-fence", fn, SG_DMA_FENCE, 0 }, \
	{ name "-fault-mode", fn, 0, 0 }, \
	{ name "-svm", fn, SG_SVM, 0 }

static const struct igt_subtest tests[] = {
	{ "add-remove", test_add_remove, 0, 0 },
	MODES("remove-with-bindings", test_remove_with_bindings),
	{ "remove-with-queued-batches-dma-fence", test_remove_with_queued_batches,
	  SG_DMA_FENCE, 0 },
	{ "remove-with-queued-batches-fault-mode", test_remove_with_queued_batches, 0, 0 },
	MODES("remove-during-invalidations", test_remove_during_invalidations),
	{ "add-remove-loop", test_add_remove_loop, SG_DMA_FENCE, 0 },
	{ "remove-while-writing-knobs", test_remove_while_writing_knobs, SG_DMA_FENCE, 0 },
};

IGT_MAIN("simgpu GPUs added and removed at runtime, idle and busy, with bindings live.",
	 tests)
