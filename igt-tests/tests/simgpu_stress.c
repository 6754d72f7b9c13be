// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * simgpu_stress: a seeded, time-bounded stress run on every GPU at once.
 * Worker processes (dma-fence, fault-mode and, where simgpu has it, SVM
 * VMs, one VM per GPU each) run several threads; each thread owns a few
 * pages bound on every GPU and, in a random order, has a random GPU write
 * them or read them back and checks the value exactly, while it remaps
 * them (MAP_FIXED: an munmap for the bindings), mprotects them read-only
 * (a GPU write must then not land), drops them with MADV_DONTNEED, forks
 * (copy-on-write), and creates and destroys VMs and files with work
 * queued. All threads of a process also
 * drop pages of one shared buffer with MADV_DONTNEED at the same time while
 * the GPUs write it. Workers exit at random, with bindings live and batches
 * queued, and are replaced until the time is up.
 *
 * A data mismatch fails at once and names the GPU, the page and what it
 * read. At the end gsvm's live counters must be back where they were.
 * tools/stress.sh (make stress) runs this for 10 minutes on 8 GPUs on the
 * debug kernel, then reloads simgpu; make check runs it for 20 s.
 *
 * GSVM_SEED (default: the time), GSVM_STRESS_SECONDS (default 20),
 * GSVM_STRESS_PROCS (default 3) and GSVM_STRESS_THREADS (default 3).
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core.h"
#include "simgpu.h"

#define PAGES		4	/* owned by each thread */
#define SHARED_PAGES	32	/* per process, dropped by every thread */
#define MAX_THREADS	8

enum op {
	OP_GPU_WRITE, OP_GPU_READ, OP_SVM_WRITE, OP_REMAP, OP_MPROTECT,
	OP_DONTNEED, OP_FORK, OP_SHARED, OP_VM, OP_FILE, OP_EXIT, NOPS
};
static const char *const op_name[NOPS] = {
	"gpu-write", "gpu-read", "svm-write", "remap", "mprotect-ro",
	"dontneed", "fork", "shared-dontneed", "vm-create-destroy",
	"file-close-busy", "process-exit",
};

/* Counters shared by every worker process. */
struct shared {
	_Atomic uint64_t ops[NOPS];
	_Atomic uint64_t checks;
	_Atomic uint64_t ebusy;
	_Atomic uint64_t procs;
	_Atomic int stop;
};

static struct shared *sh;

struct thr {
	struct sg_ctx *ctx;
	pthread_t th;
	uint64_t rng;
	char *mem;		/* PAGES private pages */
	uint64_t gpu;		/* their GPU address: page k at gpu + 2 k page */
	uint32_t *res;		/* a shared page: GPU reads are copied here */
	uint64_t res_gpu;
	uint32_t *cs;		/* a shared page for batches of extra VMs */
	char *shared;		/* the process's shared buffer */
	uint64_t shared_gpu;
	int id;
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ull);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t below(struct thr *t, uint64_t n)
{
	return rnd(&t->rng) % n;
}

static uint64_t env(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	return s ? strtoull(s, NULL, 0) : def;
}

static char *page_of(struct thr *t, int k)
{
	return t->mem + k * t->ctx->page_size;
}

static uint64_t gpu_of(struct thr *t, int k)
{
	return t->gpu + 2 * k * t->ctx->page_size;
}

static uint32_t cookie(struct thr *t)
{
	return (uint32_t)rnd(&t->rng) | 1;
}

/*
 * -EBUSY is a documented answer of bind and of a dma-fence exec when
 * invalidations keep racing its revalidation, as other threads' forks and
 * drops make them here: try again (counted), a bounded number of times.
 */
#define EBUSY_TRIES	1000

static int submit_retry(struct thr *t, int gi, uint64_t batch, struct sg_job *job)
{
	int n, err;

	for (n = 0; n < EBUSY_TRIES; n++) {
		err = __sg_submit(t->ctx->gpu[gi].fd, t->ctx->gpu[gi].vm, batch, 0, job);
		if (err != -EBUSY)
			return err;
		atomic_fetch_add(&sh->ebusy, 1);
	}
	return err;
}

/* Runs @batch on GPU @gi; the batch's error, or the exec's. */
static int run_retry(struct thr *t, int gi, uint64_t batch)
{
	struct sg_job job;
	int err = submit_retry(t, gi, batch, &job);

	if (err)
		return err;
	err = sg_job_finish(&job);
	sg_job_put(&job);
	return err;
}

static int write32_retry(struct thr *t, int gi, uint64_t addr, uint32_t v)
{
	struct sg_batch b;

	sg_batch_start(t->ctx, &b);
	sg_emit_store(&b, addr, v);
	return run_retry(t, gi, sg_batch_end(&b));
}

static int bind_retry(int fd, uint32_t vm, uint64_t addr, uint64_t size, const void *p)
{
	int n, err;

	for (n = 0; n < EBUSY_TRIES; n++) {
		err = __sg_bind(fd, vm, addr, size, p, 0);
		if (err != -EBUSY)
			return err;
		atomic_fetch_add(&sh->ebusy, 1);
	}
	return err;
}

/* GPU @gi writes @v at dword @d of page @k; the CPU must read it. */
static void gpu_write_check(struct thr *t, int gi, int k, int d, uint32_t v)
{
	volatile uint32_t *p = (uint32_t *)page_of(t, k);
	int err = write32_retry(t, gi, gpu_of(t, k) + 4 * d, v);

	igt_assert_f(!err, "thread %d: GPU %u write to page %d: %s\n", t->id,
		     t->ctx->gpu[gi].index, k, igt_errname(err));
	igt_assert_f(p[d] == v, "thread %d: GPU %u wrote %#x to page %d dword %d, the CPU "
		     "reads %#x: the write went to a stale page\n", t->id,
		     t->ctx->gpu[gi].index, v, k, d, p[d]);
	atomic_fetch_add(&sh->checks, 1);
}

/* The CPU writes @v; GPU @gi copies it out and must have read @v. */
static void gpu_read_check(struct thr *t, int gi, int k, int d, uint32_t v)
{
	volatile uint32_t *p = (uint32_t *)page_of(t, k);
	volatile uint32_t *slot = t->res + 16 * gi;
	struct sg_batch b;
	int err;

	p[d] = v;
	*slot = SG_POISON;
	sg_batch_start(t->ctx, &b);
	sg_emit_copy(&b, gpu_of(t, k) + 4 * d, t->res_gpu + 64 * gi, 4);
	err = run_retry(t, gi, sg_batch_end(&b));
	igt_assert_f(!err, "thread %d: GPU %u read of page %d: %s\n", t->id,
		     t->ctx->gpu[gi].index, k, igt_errname(err));
	igt_assert_f(*slot == v, "thread %d: GPU %u read %#x from page %d dword %d where the "
		     "CPU wrote %#x: a stale translation\n", t->id, t->ctx->gpu[gi].index,
		     *slot, k, d, v);
	atomic_fetch_add(&sh->checks, 1);
}

static void rebind(struct thr *t, int k)
{
	int i, err;

	for_each_gpu(t->ctx, i) {
		sg_unbind(t->ctx->gpu[i].fd, t->ctx->gpu[i].vm, gpu_of(t, k), t->ctx->page_size);
		err = bind_retry(t->ctx->gpu[i].fd, t->ctx->gpu[i].vm, gpu_of(t, k),
				 t->ctx->page_size, page_of(t, k));
		igt_assert_f(!err, "thread %d: bind of page %d on GPU %u: %s\n", t->id, k,
			     t->ctx->gpu[i].index, igt_errname(err));
	}
}

/*
 * A VM of its own (on @fd) with page @k bound, a store queued behind a
 * delay, then the VM destroyed or the file closed at once. Raw ioctls: the
 * batch is not tracked, as nothing waits for it.
 */
static void extra_vm(struct thr *t, int fd, int k, bool close_fd)
{
	uint64_t page = t->ctx->page_size, base = 1ull << 40 | (uint64_t)t->id << 30;
	struct drm_simgpu_vm_create c = {
		.flags = t->ctx->svm ? DRM_SIMGPU_VM_CREATE_FAULT_MODE | DRM_SIMGPU_VM_CREATE_SVM :
			 t->ctx->fault_mode ? DRM_SIMGPU_VM_CREATE_FAULT_MODE : 0,
	};
	struct drm_simgpu_vm_destroy d = {};
	struct drm_simgpu_exec x = {};
	struct sg_batch b;
	int err;

	igt_assert_err(__sg_vm_create(fd, &c), 0);
	if (t->ctx->svm)
		base |= DRM_SIMGPU_SVM_END;
	igt_assert_err(bind_retry(fd, c.vm_id, base, page, t->cs), 0);
	igt_assert_err(bind_retry(fd, c.vm_id, base + 2 * page, page, page_of(t, k)), 0);
	sg_batch_start_at(&b, t->cs, base, page / 4);
	sg_emit_delay(&b, 2000);
	sg_emit_store(&b, base + 2 * page + 64, cookie(t));
	x.vm_id = c.vm_id;
	x.batch_addr = sg_batch_end(&b);
	err = __sg_exec(fd, &x);
	igt_assert_f(!err || err == -EBUSY, "exec on a VM of its own: %s\n", igt_errname(err));
	if (close_fd) {
		close(fd);	/* the batch still ends; the VM goes with it */
	} else {
		d.vm_id = c.vm_id;
		igt_assert_err(__sg_vm_destroy(fd, &d), 0);
	}
}

static void op_once(struct thr *t)
{
	struct sg_ctx *ctx = t->ctx;
	uint64_t page = ctx->page_size;
	int gi = below(t, ctx->n), k = below(t, PAGES), d = 16 + below(t, 1000);
	enum op op = below(t, 100);

	op = op < 30 ? OP_GPU_WRITE : op < 55 ? OP_GPU_READ : op < 60 ? OP_SVM_WRITE :
	     op < 67 ? OP_REMAP : op < 72 ? OP_MPROTECT : op < 79 ? OP_DONTNEED :
	     op < 82 ? OP_FORK : op < 92 ? OP_SHARED : op < 95 ? OP_VM : op < 98 ? OP_FILE :
	     OP_EXIT;
	if (op == OP_SVM_WRITE && !ctx->svm)
		op = OP_GPU_WRITE;
	if (op == OP_EXIT && below(t, 4))
		return;		/* exits are rarer still */
	atomic_fetch_add(&sh->ops[op], 1);

	switch (op) {
	case OP_GPU_WRITE:
		gpu_write_check(t, gi, k, d, cookie(t));
		break;
	case OP_GPU_READ:
		gpu_read_check(t, gi, k, d, cookie(t));
		break;
	case OP_SVM_WRITE: {
		/* Through the SVM mirror: the CPU address itself. */
		volatile uint32_t *p = (uint32_t *)page_of(t, k);
		uint32_t v = cookie(t);
		int err = write32_retry(t, gi, (uintptr_t)&p[d], v);

		igt_assert_f(!err, "thread %d: GPU %u SVM write: %s\n", t->id,
			     ctx->gpu[gi].index, igt_errname(err));
		igt_assert_f(p[d] == v, "thread %d: GPU %u wrote %#x through SVM, the CPU reads "
			     "%#x: a stale SVM translation\n", t->id, ctx->gpu[gi].index, v, p[d]);
		atomic_fetch_add(&sh->checks, 1);
		break;
	}
	case OP_REMAP:
		/*
		 * A new page at the same address, in one MAP_FIXED (an munmap
		 * for the bindings): between an munmap and an mmap another
		 * thread's mmap could take the address. The GPU must reach the
		 * new page.
		 */
		sg_mmap_fixed(page_of(t, k), page, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		rebind(t, k);
		gpu_read_check(t, gi, k, d, cookie(t));
		gpu_write_check(t, below(t, ctx->n), k, d, cookie(t));
		break;
	case OP_MPROTECT: {
		volatile uint32_t *p = (uint32_t *)page_of(t, k);
		uint32_t before = p[d], v = cookie(t);
		struct sg_batch b;
		struct sg_job job;
		int err;

		igt_assert(!mprotect(page_of(t, k), page, PROT_READ));
		sg_batch_start(ctx, &b);
		sg_emit_store(&b, gpu_of(t, k) + 4 * d, v);
		err = submit_retry(t, gi, sg_batch_end(&b), &job);
		if (!err) {
			err = sg_job_finish(&job);
			sg_job_put(&job);
		}
		igt_assert_f(err && p[d] == before, "thread %d: GPU %u wrote %#x (now %#x, was "
			     "%#x) to page %d after the CPU made it read-only (%s)\n", t->id,
			     ctx->gpu[gi].index, v, p[d], before, k, igt_errname(err));
		atomic_fetch_add(&sh->checks, 1);
		igt_assert(!mprotect(page_of(t, k), page, PROT_READ | PROT_WRITE));
		rebind(t, k);
		gpu_write_check(t, gi, k, d, cookie(t));
		break;
	}
	case OP_DONTNEED: {
		volatile uint32_t *p = (uint32_t *)page_of(t, k);

		igt_assert(!madvise(page_of(t, k), page, MADV_DONTNEED));
		igt_assert_f(p[d] == 0, "MADV_DONTNEED left %#x\n", p[d]);
		gpu_read_check(t, gi, k, d, cookie(t));
		break;
	}
	case OP_FORK: {
		pid_t pid = fork();

		igt_assert(pid >= 0);
		if (pid == 0) {
			/* Copy-on-write in the child; it never uses the GPUs. */
			((volatile uint32_t *)page_of(t, k))[d] = 0;
			_exit(0);
		}
		/* The parent's first write breaks COW: a new page for the GPU too. */
		gpu_read_check(t, gi, k, d, cookie(t));
		igt_assert(waitpid(pid, NULL, 0) == pid);
		gpu_write_check(t, below(t, ctx->n), k, d, cookie(t));
		break;
	}
	case OP_SHARED: {
		/* Every thread drops pages the GPUs are writing. */
		uint64_t off = below(t, SHARED_PAGES) * page;
		uint64_t len = (1 + below(t, 4)) * page;
		struct sg_batch b;
		struct sg_job job;
		int err, n;

		if (off + len > SHARED_PAGES * page)
			len = SHARED_PAGES * page - off;
		sg_batch_start(ctx, &b);
		for (n = 0; n < 8; n++)
			sg_emit_store(&b, t->shared_gpu + below(t, SHARED_PAGES * page / 4) * 4,
				      cookie(t));
		/*
		 * -EBUSY: the other threads' drops kept invalidating the buffer
		 * while this exec revalidated it, which the uAPI allows.
		 */
		err = submit_retry(t, gi, sg_batch_end(&b), &job);
		igt_assert(!madvise(t->shared + off, len, MADV_DONTNEED));
		if (!err) {
			err = sg_job_finish(&job);
			sg_job_put(&job);
		}
		igt_assert_f(!err || err == -EBUSY, "thread %d: GPU %u write to the shared buffer: "
			     "%s\n", t->id, ctx->gpu[gi].index, igt_errname(err));
		break;
	}
	case OP_VM:
		extra_vm(t, ctx->gpu[gi].fd, k, false);
		break;
	case OP_FILE: {
		struct sg_gpu g;

		igt_assert_err(sg_open_node(ctx->gpu[gi].path, &g), 0);
		extra_vm(t, g.fd, k, true);
		break;
	}
	default:
		/* Exit with bindings live and a batch queued. */
		{
			struct sg_batch b;
			struct sg_job job;

			sg_batch_start(ctx, &b);
			sg_emit_delay(&b, 20000);
			sg_emit_store(&b, gpu_of(t, k) + 4 * d, 1);
			submit_retry(t, gi, sg_batch_end(&b), &job);
			igt_helper_exit(0);
		}
	}
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;

	while (!atomic_load(&sh->stop))
		op_once(t);
	return NULL;
}

static void worker(int mode, uint64_t seed, int nthreads)
{
	struct thr t[MAX_THREADS];
	struct sg_ctx ctx;
	uint64_t page;
	char *shared;
	uint64_t shared_gpu;
	int i, k;

	sg_ctx_init(&ctx, mode);
	page = ctx.page_size;
	shared = sg_mmap(SHARED_PAGES * page, page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shared_gpu = sg_va_alloc(&ctx, SHARED_PAGES * page);
	sg_bind_all(&ctx, shared, SHARED_PAGES * page, shared_gpu, 0);
	for (i = 0; i < nthreads; i++) {
		t[i] = (struct thr){ .ctx = &ctx, .rng = seed * 131 + i, .id = i,
				     .shared = shared, .shared_gpu = shared_gpu };
		t[i].mem = sg_mmap(PAGES * page, page, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		memset(t[i].mem, 0, PAGES * page);
		t[i].gpu = sg_va_alloc(&ctx, 2 * PAGES * page);
		for (k = 0; k < PAGES; k++)
			sg_bind_all(&ctx, page_of(&t[i], k), page, gpu_of(&t[i], k), 0);
		t[i].res = sg_alloc_bound(&ctx, page, 0, &t[i].res_gpu);
		t[i].cs = sg_mmap(page, page, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	}
	for (i = 0; i < nthreads; i++)
		igt_assert(!pthread_create(&t[i].th, NULL, thread_main, &t[i]));
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i].th, NULL);
	sg_ctx_fini(&ctx);
	igt_helper_exit(0);
}

static void test_mixed(int unused)
{
	uint64_t seed = env("GSVM_SEED", time(NULL));
	uint64_t secs = env("GSVM_STRESS_SECONDS", 20);
	int nprocs = env("GSVM_STRESS_PROCS", 3), nthreads = env("GSVM_STRESS_THREADS", 3);
	int modes[3] = { SG_ALL | SG_DMA_FENCE, SG_ALL, SG_ALL | SG_SVM };
	uint64_t ranges0, mirrors0, gen = 0, total = 0, v;
	struct timespec t0, t1;
	pid_t pids[16];
	int p, nmodes = 3, failed = 0, e;
	double el;

	(void)unused;
	igt_require_f(sg_count_gpus() > 0, "no simgpu device found\n");
	igt_assert(nprocs > 0 && nprocs <= 16 && nthreads > 0 && nthreads <= MAX_THREADS);
	if (__sg_svm_stat("ranges_live", &v))
		nmodes = 2;	/* no SVM in this simgpu */
	igt_info("seed %#" PRIx64 " (GSVM_SEED), %" PRIu64 " s, %d processes of %d threads, "
		 "%d GPUs\n", seed, secs, nprocs, nthreads, sg_count_gpus());
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	igt_assert(sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	ranges0 = sg_gsvm_stat("ranges_live");
	mirrors0 = sg_gsvm_stat("mirrors_live");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (p = 0; p < nprocs; p++)
		pids[p] = -1;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (el >= secs)
			atomic_store(&sh->stop, 1);
		for (p = 0; p < nprocs; p++) {
			int status;

			if (pids[p] > 0) {
				if (waitpid(pids[p], &status, WNOHANG) != pids[p])
					continue;
				if (!WIFEXITED(status) || WEXITSTATUS(status)) {
					igt_warn("worker %d (pid %d) failed: status %#x\n", p,
						 pids[p], status);
					failed++;
					atomic_store(&sh->stop, 1);
				}
				pids[p] = -1;
			}
			if (atomic_load(&sh->stop))
				continue;
			gen++;
			pids[p] = igt_fork_helper();
			if (!pids[p])
				worker(modes[p % nmodes], seed + gen * 1000003, nthreads);
			atomic_fetch_add(&sh->procs, 1);
		}
		if (atomic_load(&sh->stop)) {
			for (p = 0; p < nprocs; p++)
				if (pids[p] > 0)
					break;
			if (p == nprocs)
				break;
		}
		usleep(20000);
	}

	for (p = 0; p < NOPS; p++) {
		igt_info("%-18s %10" PRIu64 " (%.1f/s)\n", op_name[p], (uint64_t)sh->ops[p],
			 sh->ops[p] / el);
		total += sh->ops[p];
	}
	igt_info("%" PRIu64 " operations in %.0f s (%.0f ops/s), %" PRIu64 " data checks, "
		 "0 mismatches, %" PRIu64 " worker processes, %" PRIu64 " -EBUSY retried\n",
		 total, el, total / el, (uint64_t)sh->checks, (uint64_t)sh->procs,
		 (uint64_t)sh->ebusy);
	igt_assert_f(!failed, "%d worker processes failed (their messages are above)\n", failed);

	e = igt_wait(sg_gsvm_stat("ranges_live") == ranges0 &&
		     sg_gsvm_stat("mirrors_live") == mirrors0, 60000);
	igt_assert_f(e, "gsvm live ranges %" PRIu64 " (%" PRIu64 " before), mirrors %" PRIu64
		     " (%" PRIu64 "): leaked after every worker ended\n",
		     sg_gsvm_stat("ranges_live"), ranges0, sg_gsvm_stat("mirrors_live"), mirrors0);
}

static const struct igt_subtest tests[] = {
	/* Bounded by GSVM_STRESS_SECONDS; this is a backstop. */
	{ "mixed", test_mixed, 0, 7200 },
};

IGT_MAIN("Seeded, time-bounded stress of bindings, faults, batches and invalidations "
	 "from threads and processes on every GPU, with the data checked.", tests)
