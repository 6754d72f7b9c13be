// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * simgpu_userptr_race: invalidations racing with GPU work. Several threads
 * change their own mappings (remap, munmap, mprotect, bind/unbind) while
 * the GPUs run the other threads' batches; several processes each with
 * their own VMs; DRM file close, VM destroy and process exit with bindings
 * live and batches queued or running.
 *
 * As in simgpu_userptr_inval, every buffer a GPU could reach through a
 * stale translation is a memfd mapped a second time (the witness), so a
 * stale access is seen there and never touches freed memory.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "igt_core.h"
#include "simgpu.h"

#define THREADS		4
#define ITERS		40
#define PROCESSES	3

enum race_kind {
	RACE_REMAP,
	RACE_MUNMAP,
	RACE_MPROTECT,
	RACE_BIND_UNBIND,
	RACE_MIXED,	/* thread t does kind t % 4 */
};

struct racer {
	struct sg_ctx *ctx;
	int t;
	enum race_kind kind;
	uint64_t pg;
	int fd[2];		/* two memfds A alternates between */
	uint32_t *w[2];		/* their witnesses */
	uint32_t *a;		/* the bound mapping */
	uint64_t gpu;
	uint32_t expect[2];	/* what each file must hold */
	bool failed;
	char msg[256];
};

#define R_CHECK(r, cond, ...) do {					\
	if (!(cond)) {							\
		snprintf((r)->msg, sizeof((r)->msg), __VA_ARGS__);	\
		(r)->failed = true;					\
		return;							\
	}								\
} while (0)

/* What a store that should have failed and succeeded did. */
#define STALE(err) ((err) ? "" : " (succeeded through a stale translation)")

/* GPU g: stall a little (so engines overlap with other threads), then store. */
static int racer_store(struct racer *r, int g, uint64_t addr, uint32_t v)
{
	struct sg_batch b;

	sg_batch_start(r->ctx, &b);
	sg_emit_delay(&b, 300);
	sg_emit_store(&b, addr, v);
	return sg_run(r->ctx, g, sg_batch_end(&b));
}

static void racer_init(struct sg_ctx *ctx, struct racer *r, int t,
		       enum race_kind kind)
{
	int f;

	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->t = t;
	r->kind = kind == RACE_MIXED ? (enum race_kind)(t % 4) : kind;
	r->pg = ctx->page_size;
	for (f = 0; f < 2; f++) {
		r->fd[f] = sg_memfd(r->pg);
		r->w[f] = sg_mmap(r->pg, r->pg, PROT_READ | PROT_WRITE,
				  MAP_SHARED, r->fd[f], 0);
	}
	r->a = sg_mmap(r->pg, r->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		       r->fd[0], 0);
	r->gpu = sg_va_alloc(ctx, r->pg);
	if (r->kind != RACE_BIND_UNBIND)
		sg_bind_all(ctx, r->a, r->pg, r->gpu, 0);
}

/*
 * Each iteration warms the TLB of the GPU it uses (a store through the
 * current mapping), changes the mapping, and stores again through the same
 * GPU: a skipped invalidation sends that store to the old file.
 */
static void racer_loop(struct racer *r)
{
	struct sg_ctx *ctx = r->ctx;
	int k, err, cur = 0;

	for (k = 0; k < ITERS && !r->failed; k++) {
		int g = (r->t + k) % ctx->n, f = !cur;
		uint32_t c = sg_cookie();
		void *m;

		if (r->kind == RACE_BIND_UNBIND)
			sg_bind_all(ctx, r->a, r->pg, r->gpu, 0);
		err = racer_store(r, g, r->gpu, c);
		R_CHECK(r, !err, "iter %d GPU %u: warm-up store: %s", k,
			ctx->gpu[g].index, igt_errname(err));
		r->expect[cur] = c;
		c = sg_cookie();

		switch (r->kind) {
		case RACE_REMAP:
			/* A alternates between the two files. */
			m = mmap(r->a, r->pg, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, r->fd[f], 0);
			R_CHECK(r, m == r->a, "mmap: %s", strerror(errno));
			err = racer_store(r, g, r->gpu, c);
			R_CHECK(r, !err, "iter %d GPU %u: store after remap: %s", k,
				ctx->gpu[g].index, igt_errname(err));
			r->expect[f] = c;
			cur = f;
			break;
		case RACE_MUNMAP:
			R_CHECK(r, !munmap(r->a, r->pg), "munmap: %s", strerror(errno));
			err = racer_store(r, g, r->gpu, c);
			R_CHECK(r, err == -EFAULT, "iter %d GPU %u: store after munmap: %s%s",
				k, ctx->gpu[g].index, igt_errname(err), STALE(err));
			m = mmap(r->a, r->pg, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, r->fd[f], 0);
			R_CHECK(r, m == r->a, "mmap: %s", strerror(errno));
			c = sg_cookie();
			err = racer_store(r, g, r->gpu, c);
			R_CHECK(r, !err, "iter %d GPU %u: store after mmap: %s", k,
				ctx->gpu[g].index, igt_errname(err));
			r->expect[f] = c;
			cur = f;
			break;
		case RACE_MPROTECT:
			R_CHECK(r, !mprotect(r->a, r->pg, PROT_READ), "mprotect: %s",
				strerror(errno));
			err = racer_store(r, g, r->gpu, c);
			R_CHECK(r, err == -EFAULT || err == -EACCES,
				"iter %d GPU %u: store to read-only memory: %s%s", k,
				ctx->gpu[g].index, igt_errname(err), STALE(err));
			R_CHECK(r, !mprotect(r->a, r->pg, PROT_READ | PROT_WRITE),
				"mprotect: %s", strerror(errno));
			c = sg_cookie();
			err = racer_store(r, g, r->gpu, c);
			R_CHECK(r, !err, "iter %d GPU %u: store after mprotect: %s", k,
				ctx->gpu[g].index, igt_errname(err));
			r->expect[cur] = c;
			break;
		case RACE_BIND_UNBIND:
		case RACE_MIXED:
			sg_unbind_all(ctx, r->gpu, r->pg);
			err = racer_store(r, g, r->gpu, c);
			R_CHECK(r, err == -EFAULT, "iter %d GPU %u: store after unbind: %s%s",
				k, ctx->gpu[g].index, igt_errname(err), STALE(err));
			break;
		}
		R_CHECK(r, sg_read32(r->w[0]) == r->expect[0] &&
			sg_read32(r->w[1]) == r->expect[1],
			"iter %d: files hold %#x/%#x, expected %#x/%#x: a store went through a stale translation", k,
			sg_read32(r->w[0]), sg_read32(r->w[1]),
			r->expect[0], r->expect[1]);
	}
}

static void *racer_run(void *arg)
{
	racer_loop(arg);
	return NULL;
}

static void run_racers(struct sg_ctx *ctx, enum race_kind kind, int threads)
{
	struct racer r[THREADS];
	pthread_t th[THREADS];
	int t;

	for (t = 0; t < threads; t++)
		racer_init(ctx, &r[t], t, kind);
	for (t = 0; t < threads; t++)
		igt_assert(!pthread_create(&th[t], NULL, racer_run, &r[t]));
	for (t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < threads; t++)
		igt_assert_f(!r[t].failed, "thread %d: %s\n", t, r[t].msg);
}

static void threads_test(int mode, enum race_kind kind)
{
	struct sg_ctx ctx;

	sg_ctx_init(&ctx, mode);
	run_racers(&ctx, kind, THREADS);
	sg_ctx_fini(&ctx);
}

static void test_threads_remap(int mode) { threads_test(mode, RACE_REMAP); }
static void test_threads_munmap(int mode) { threads_test(mode, RACE_MUNMAP); }
static void test_threads_mprotect(int mode) { threads_test(mode, RACE_MPROTECT); }
static void test_threads_bind_unbind(int mode) { threads_test(mode, RACE_BIND_UNBIND); }
static void test_threads_mixed(int mode) { threads_test(mode, RACE_MIXED); }

/* Several processes, each with its own VMs on the same GPUs. */
static void test_processes(int mode)
{
	pid_t pids[PROCESSES];
	int p;

	igt_require_f(sg_count_gpus() > 0, "no simgpu device found\n");
	for (p = 0; p < PROCESSES; p++) {
		pids[p] = igt_fork_helper();
		if (pids[p] == 0) {
			struct sg_ctx ctx;

			sg_ctx_init(&ctx, mode);
			run_racers(&ctx, RACE_MIXED, 2);
			sg_ctx_fini(&ctx);
			igt_helper_exit(0);
		}
	}
	for (p = 0; p < PROCESSES; p++)
		igt_assert_helper_ok(pids[p]);
}

/* ---- file close, VM destroy, process exit -------------------------------- */

/* Closing the file with bindings live frees them: the GPU VA is reusable. */
static void test_close_fd_with_bindings(int mode)
{
	const int nbuf = 32;
	struct sg_ctx ctx, ctx2;
	uint64_t gpu, inval0[SG_MAX_GPUS];
	struct sg_live l0;
	uint32_t *mem;
	int k, i;

	sg_live_take(&l0);
	sg_ctx_init(&ctx, mode);
	mem = sg_mmap(nbuf * ctx.page_size, ctx.page_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(mem, 0, nbuf * ctx.page_size);
	gpu = sg_va_alloc(&ctx, 2 * nbuf * ctx.page_size);
	for (k = 0; k < nbuf; k++)
		sg_bind_all(&ctx, (char *)mem + k * ctx.page_size, ctx.page_size,
			    gpu + 2 * k * ctx.page_size, 0);
	for_each_gpu(&ctx, i) {
		igt_assert_err(sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), 1), 0);
		inval0[i] = sg_stat(&ctx.gpu[i], "tlb_inval_submitted");
	}
	sg_ctx_close_fds(&ctx);
	/* Closing the files tore down their VMs and every binding. */
	sg_live_assert(&l0, "after closing the files");
	/* ... with one TLB invalidation per VM, not one per binding. */
	for_each_gpu(&ctx, i) {
		uint64_t n = sg_stat(&ctx.gpu[i], "tlb_inval_submitted") - inval0[i];

		igt_assert_f(n == 1, "GPU %u: tearing down a VM of %d bindings took %" PRIu64
			     " TLB invalidations, not one\n", ctx.gpu[i].index, nbuf + 2, n);
	}

	/* Invalidating what the closed file had bound is harmless. */
	igt_assert(!munmap((char *)mem + (nbuf - 1) * ctx.page_size, ctx.page_size));

	sg_ctx_init(&ctx2, mode);
	for (k = 0; k < nbuf - 1; k++)
		sg_bind_all(&ctx2, (char *)mem + k * ctx.page_size, ctx.page_size,
			    gpu + 2 * k * ctx.page_size, 0);
	for_each_gpu(&ctx2, i) {
		igt_assert_err(sg_gpu_write32(&ctx2, i, gpu + SG_SLOT(i) + 4, 2), 0);
		igt_assert_eq_u32(mem[SG_SLOT_DW(i)], 1);
		igt_assert_eq_u32(mem[SG_SLOT_DW(i) + 1], 2);
	}
	sg_ctx_fini(&ctx2);
}

/* Batches queued behind a stall when the file is closed still end. */
static void test_close_fd_queued_batches(int mode)
{
	enum { QUEUED = 4 };
	uint32_t vals[SG_MAX_GPUS][QUEUED];
	int sf[SG_MAX_GPUS][QUEUED];
	struct sg_ctx ctx;
	uint32_t *buf;
	uint64_t gpu;
	int i, k, err;

	/* Sync files outlive the fds: dma-fence mode. */
	sg_ctx_init(&ctx, mode | SG_DMA_FENCE);
	buf = sg_alloc_bound(&ctx, ctx.page_size, 0, &gpu);
	for_each_gpu(&ctx, i) {
		for (k = 0; k < QUEUED; k++) {
			struct sg_batch b;
			struct sg_job job;

			vals[i][k] = sg_cookie();
			sg_batch_start(&ctx, &b);
			sg_emit_delay(&b, 50000);
			sg_emit_store(&b, gpu + SG_SLOT(i) + 4 * k, vals[i][k]);
			sg_submit(&ctx, i, sg_batch_end(&b), 0, &job);
			sf[i][k] = sg_job_export(&job);
		}
	}
	sg_ctx_close_fds(&ctx);
	for_each_gpu(&ctx, i) {
		for (k = 0; k < QUEUED; k++) {
			err = sg_sync_file_wait(sf[i][k], SG_LONG_TIMEOUT_MS);
			igt_assert_f(err != -ETIME, "batch %d of GPU %d never ended after close\n",
				     k, i);
			if (err) {
				igt_info("GPU %d batch %d ended with %s after close\n", i, k,
					 igt_errname(err));
				igt_assert_eq_u32(buf[SG_SLOT_DW(i) + k], 0);
			} else {
				igt_assert_eq_u32(buf[SG_SLOT_DW(i) + k], vals[i][k]);
			}
			close(sf[i][k]);
		}
	}
}

enum teardown { CLOSE_FD, VM_DESTROY };

/*
 * The GPUs are writing A when their file is closed (or their VM
 * destroyed); then A is unmapped. Whatever the driver does with running
 * batches of a dead VM, no write may reach the old pages after munmap
 * returned.
 */
static void busy_teardown_then_munmap(int mode, enum teardown how)
{
	struct sg_job jobs[SG_MAX_GPUS];
	uint32_t snap[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i, err;

	sg_ctx_init(&ctx, mode);
	sg_slow_tlb_inval(&ctx);
	sg_witness_init(&ctx, &x, ctx.page_size, MAP_SHARED);
	sg_bind_all(&ctx, x.a, x.size, x.gpu, 0);
	/* Fault mode: the loops fault once the memory is gone. */
	sg_start_loops(&ctx, x.gpu, jobs);
	sg_wait_loops_running(&ctx, x.w, jobs);

	if (how == CLOSE_FD) {
		sg_ctx_close_fds(&ctx);
	} else {
		for_each_gpu(&ctx, i)
			sg_vm_destroy(ctx.gpu[i].fd, ctx.gpu[i].vm);
	}

	igt_assert(!munmap(x.a, x.size));
	sg_snapshot_slots(&ctx, x.w, snap);
	sg_assert_slots_stable(&ctx, x.w, snap, SG_WATCH_MS, "munmap");
	for_each_gpu(&ctx, i) {
		/* With the fds closed, the user fence is polled. */
		err = sg_job_wait(&jobs[i], SG_LONG_TIMEOUT_MS);
		igt_assert_f(err != -ETIME, "loop of GPU %d never ended\n", i);
		igt_info("GPU %d: loop ended with %s\n", i, igt_errname(err));
	}
	igt_file_restore_all();
	sg_ctx_close_fds(&ctx);
}

static void test_close_fd_busy_then_munmap(int mode)
{
	busy_teardown_then_munmap(mode, CLOSE_FD);
}

static void test_vm_destroy_busy_then_munmap(int mode)
{
	busy_teardown_then_munmap(mode, VM_DESTROY);
}

static void send_fds(int sock, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * SG_MAX_GPUS * 2)];
	char dummy = 'f';
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * n),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	igt_assert(sendmsg(sock, &msg, 0) == 1);
}

/* Returns the number of fds received (0 if the peer died first). */
static int recv_fds(int sock, int *fds, int max)
{
	char cbuf[CMSG_SPACE(sizeof(int) * SG_MAX_GPUS * 2)];
	char dummy;
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int n;

	if (recvmsg(sock, &msg, 0) != 1)
		return 0;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return 0;
	n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	igt_assert(n <= max);
	memcpy(fds, CMSG_DATA(cm), sizeof(int) * n);
	return n;
}

/*
 * The memory of an exiting user: page 0 is data, the pages after it hold
 * the batches. Both live in a memfd the parent keeps mapped, so that
 * nothing a GPU may still reach after the exit (data or batch words) is
 * freed memory, even with an injected invalidation bug.
 */
#define EXIT_USER_PAGES		(1 + SG_MAX_GPUS * 2 * 256 / 4096)
#define EXIT_INVAL_US		1000000

/*
 * A helper process maps the parent's memfd, binds it on its own VMs, runs
 * @busy ? store loops : queued stores, hands the fences to the parent and
 * exits without cleaning up.
 */
static pid_t spawn_exiting_user(int mode, int memfd, uint64_t size, bool busy,
				uint32_t *vals, int sock[2])
{
	pid_t pid;

	igt_assert(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock));
	pid = igt_fork_helper();
	if (pid == 0) {
		struct sg_job jobs[SG_MAX_GPUS * 2];
		int fds[SG_MAX_GPUS * 2];
		struct sg_ctx ctx;
		uint32_t *a;
		uint64_t gpu, pg;
		int i, n = 0;

		close(sock[0]);
		sg_ctx_init(&ctx, mode);
		pg = ctx.page_size;
		a = sg_mmap(size, pg, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
		gpu = sg_va_alloc(&ctx, size);
		sg_bind_all(&ctx, a, size, gpu, 0);
		for_each_gpu(&ctx, i) {
			int k;

			for (k = 0; k < (busy ? 1 : 2); k++) {
				unsigned int slot = 2 * i + k;
				struct sg_batch b;

				/* 256-byte batch slots after the data page. */
				sg_batch_start_at(&b, a + pg / 4 + slot * 64,
						  gpu + pg + slot * 256, 64);
				if (busy) {
					sg_emit_store_loop(&b, gpu + SG_SLOT(i),
							   SG_LOOP_COUNT, SG_LOOP_USECS);
				} else {
					sg_emit_delay(&b, 100000);
					sg_emit_store(&b, gpu + SG_SLOT(i) + 4 * k,
						      vals[slot]);
				}
				sg_submit(&ctx, i, sg_batch_end(&b), 0, &jobs[n]);
				/* Queued batches: dma-fence mode, fences to hand over. */
				if (!busy)
					fds[n] = sg_job_export(&jobs[n]);
				n++;
			}
		}
		if (busy) {
			/* Fault mode: no fence; the memfd says "running". */
			sg_wait_loops_running(&ctx, a, jobs);
			fds[0] = memfd;
			n = 1;
		}
		send_fds(sock[1], fds, n);
		/* Exit with everything live: bindings, VMs, running batches. */
		_exit(0);
	}
	close(sock[1]);
	return pid;
}

/*
 * A process exits with two 100 ms batches queued on each GPU's dma-fence
 * engine, its memory a memfd the parent keeps. The exit tears the mm down
 * through the invalidation of every binding, which must wait for the VM's
 * batches before it zaps: each batch ends without error and its store is
 * in memory. A batch that failed was zapped under: its translations went
 * before it ran.
 */
static void test_process_exit_queued_batches(int mode)
{
	uint32_t vals[SG_MAX_GPUS * 2];
	int sock[2], fds[SG_MAX_GPUS * 2];
	struct sg_ctx ctx;
	uint64_t size;
	uint32_t *w;
	int memfd, n, k, err;
	pid_t pid;

	sg_ctx_init(&ctx, mode | SG_DMA_FENCE);
	size = EXIT_USER_PAGES * ctx.page_size;
	memfd = sg_memfd(size);
	w = sg_mmap(size, ctx.page_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	for (k = 0; k < ctx.n * 2; k++)
		vals[k] = sg_cookie();

	pid = spawn_exiting_user(mode | SG_DMA_FENCE, memfd, size, false, vals, sock);
	n = recv_fds(sock[0], fds, ARRAY_SIZE(fds));
	for (k = 0; k < n; k++)
		sg_sync_file_track(fds[k]);
	igt_assert_helper_ok(pid);
	igt_assert_eq(n, ctx.n * 2);

	for (k = 0; k < n; k++) {
		int i = k / 2, slot = SG_SLOT_DW(i) + k % 2;

		err = sg_sync_file_wait(fds[k], SG_LONG_TIMEOUT_MS);
		igt_assert_f(err != -ETIME, "batch %d never ended after exit\n", k);
		igt_assert_f(!err, "batch %d of GPU %d ended with %s: the exit zapped its "
			     "bindings before the batch ran (the invalidation did not wait for "
			     "it)\n", k % 2, ctx.gpu[i].index, igt_errname(err));
		igt_assert_f(w[slot] == vals[k], "batch %d of GPU %d ended, its store is not in "
			     "memory (%#x, not %#x)\n", k % 2, ctx.gpu[i].index, w[slot],
			     vals[k]);
		close(fds[k]);
	}
	sg_ctx_fini(&ctx);
}

/*
 * A process exits while its GPUs write its memory (a memfd the parent
 * still maps). Process exit tears the mm down through the notifiers'
 * release: once the process is gone no GPU write may reach the pages.
 */
/* Sum of counter @name over the GPUs of @ctx; false without debugfs. */
static bool try_stat_sum(struct sg_ctx *ctx, const char *name, uint64_t *sum)
{
	uint64_t v;
	int i;

	*sum = 0;
	for_each_gpu(ctx, i) {
		if (__sg_stat(&ctx->gpu[i], name, &v))
			return false;
		*sum += v;
	}
	return true;
}

/*
 * The loops of an exited helper, which the parent cannot wait for through
 * fences (fault mode has none): their memory is the parent's memfd, which
 * must outlive them even when the subtest fails (with an injected bug the
 * loops go on through stale translations), so the exit handler waits for
 * the GPUs' counters to show them ended.
 */
static struct sg_ctx *exited_ctx;
static uint64_t exited_ended0;
static int exited_loops;

static bool jobs_ended(struct sg_ctx *ctx, uint64_t *n)
{
	uint64_t failed, completed;

	if (!try_stat_sum(ctx, "jobs_failed", &failed) ||
	    !try_stat_sum(ctx, "jobs_completed", &completed))
		return false;
	*n = failed + completed;
	return true;
}

static void wait_exited_loops(void)
{
	uint64_t end = igt_now_ns() + SG_LONG_TIMEOUT_MS * 1000000ull, n;

	while (exited_ctx && jobs_ended(exited_ctx, &n) &&
	       n - exited_ended0 < (uint64_t)exited_loops && igt_now_ns() < end)
		usleep(10000);
	exited_ctx = NULL;
}

static uint64_t stat_sum(struct sg_ctx *ctx, const char *name)
{
	uint64_t sum = 0;
	int i;

	for_each_gpu(ctx, i)
		sum += sg_stat(&ctx->gpu[i], name);
	return sum;
}

static void test_process_exit_busy(int mode)
{
	int sock[2], fds[SG_MAX_GPUS * 2];
	uint64_t size, t0, failed0, completed0, end;
	uint32_t snap[SG_MAX_GPUS];
	struct sg_ctx ctx;
	uint32_t *w;
	int memfd, n, i;
	pid_t pid;

	sg_ctx_init(&ctx, mode);
	/*
	 * Process exit does much more after the notifiers' release pass than
	 * munmap does after its invalidation (the rest of exit_mmap(), closing
	 * files): a slower invalidation keeps a skipped wait observable.
	 */
	sg_slow_tlb_inval_us(&ctx, EXIT_INVAL_US);
	size = EXIT_USER_PAGES * ctx.page_size;
	memfd = sg_memfd(size);
	w = sg_mmap(size, ctx.page_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	failed0 = stat_sum(&ctx, "jobs_failed");
	completed0 = stat_sum(&ctx, "jobs_completed");
	exited_ended0 = failed0 + completed0;
	exited_loops = ctx.n;
	exited_ctx = &ctx;
	igt_install_exit_handler(wait_exited_loops);

	pid = spawn_exiting_user(mode, memfd, size, true, NULL, sock);
	n = recv_fds(sock[0], fds, ARRAY_SIZE(fds));
	t0 = igt_now_ns();
	igt_assert_helper_ok(pid);
	igt_info("process exit took %.1f ms\n", (igt_now_ns() - t0) / 1e6);
	igt_assert_eq(n, 1);
	close(fds[0]);

	sg_snapshot_slots(&ctx, w, snap);
	for_each_gpu(&ctx, i)
		igt_assert(snap[i] != 0);
	sg_assert_slots_stable(&ctx, w, snap, EXIT_INVAL_US / 1000 + SG_WATCH_MS,
			       "process exit");

	/* Fault mode has no fence to hand over: the GPUs' counters tell. */
	end = igt_now_ns() + SG_LONG_TIMEOUT_MS * 1000000ull;
	while (stat_sum(&ctx, "jobs_failed") - failed0 < (uint64_t)ctx.n &&
	       igt_now_ns() < end)
		usleep(10000);
	igt_assert_f(stat_sum(&ctx, "jobs_failed") - failed0 >= (uint64_t)ctx.n,
		     "the loops never ended after exit\n");
	igt_assert_f(stat_sum(&ctx, "jobs_completed") == completed0,
		     "a loop completed although its process exited\n");
	exited_ctx = NULL;
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

/* ---- two invalidations of one range at the same time ---------------------- */

#define TWO_INVAL_US	300000

/*
 * Two threads MADV_DONTNEED different pages of one binding while the GPUs
 * write the second page, with slow TLB invalidations. The first
 * invalidation (page 1) zaps the binding and defers its TLB wait to its
 * finish pass; the second (page 2) finds the finish object in use and
 * takes the busy fallback, which must wait for the first one's TLB
 * invalidation: once the second madvise has returned, no GPU may reach
 * the binding through a translation cached before the zap (simgpu counts
 * such TLB hits as stale_tlb_hits). Xe's userptr busy fallback does not
 * wait (debugfs gsvm/xe_busy_fallback reproduces it).
 */
static void test_two_invalidations_one_range(int mode)
{
	uint64_t before[SG_MAX_GPUS], after[SG_MAX_GPUS], t0, t_second;
	struct sg_job jobs[SG_MAX_GPUS];
	struct sg_async_dontneed first;
	struct sg_witness x;
	struct sg_ctx ctx;
	uint64_t pg;
	bool overlapped;
	int i;

	sg_require_madvise();
	sg_ctx_init(&ctx, mode);
	igt_require_f(sg_debugfs_available(&ctx.gpu[0]),
		      "needs the simgpu latency knob and counters\n");
	sg_slow_tlb_inval_us(&ctx, TWO_INVAL_US);
	pg = ctx.page_size;
	sg_witness_init(&ctx, &x, 2 * pg, MAP_SHARED);
	sg_bind_all(&ctx, x.a, x.size, x.gpu, 0);
	sg_start_loops(&ctx, x.gpu + pg, jobs);
	sg_wait_loops_running(&ctx, x.w + pg / 4, jobs);

	t0 = igt_now_ns();
	sg_dontneed_start(&first, x.a, pg);
	/* Let the first invalidation reach its finish pass. */
	usleep(TWO_INVAL_US / 6);
	igt_assert(!madvise((char *)x.a + pg, pg, MADV_DONTNEED));
	t_second = igt_now_ns();
	overlapped = !sg_dontneed_done(&first);

	/* From here on, every TLB hit on the old translation is stale. */
	for_each_gpu(&ctx, i)
		before[i] = sg_stat(&ctx.gpu[i], "stale_tlb_hits");
	usleep(TWO_INVAL_US / 3);
	for_each_gpu(&ctx, i)
		after[i] = sg_stat(&ctx.gpu[i], "stale_tlb_hits");
	igt_assert_err(sg_dontneed_join(&first), 0);
	igt_info("second madvise returned after %.1f ms, %s the first\n",
		 (t_second - t0) / 1e6, overlapped ? "before" : "after");

	for_each_gpu(&ctx, i)
		igt_assert_f(after[i] == before[i],
			     "GPU %u reached the binding through a stale translation %" PRIu64
			     " times after the second MADV_DONTNEED returned: its busy fallback did not wait for the first invalidation\n",
			     ctx.gpu[i].index, after[i] - before[i]);
	/*
	 * Stop the loops (they may also have run out of their time budget
	 * under load); they must end, whichever way.
	 */
	igt_assert(!munmap(x.a, x.size));
	for_each_gpu(&ctx, i)
		igt_info("GPU %u: loop ended with %s\n", ctx.gpu[i].index,
			 igt_errname(sg_job_finish(&jobs[i])));
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

#define PAIR(name, fn, timeout) \
	{ name "-single", fn, SG_ONE, timeout }, { name "-all", fn, SG_ALL, timeout }

static const struct igt_subtest tests[] = {
	PAIR("threads-remap", test_threads_remap, 120),
	PAIR("threads-munmap", test_threads_munmap, 120),
	PAIR("threads-mprotect", test_threads_mprotect, 120),
	PAIR("threads-bind-unbind", test_threads_bind_unbind, 120),
	PAIR("threads-mixed", test_threads_mixed, 120),
	PAIR("processes", test_processes, 120),
	PAIR("close-fd-with-bindings", test_close_fd_with_bindings, 0),
	PAIR("close-fd-queued-batches", test_close_fd_queued_batches, 0),
	PAIR("close-fd-busy-then-munmap", test_close_fd_busy_then_munmap, 0),
	PAIR("vm-destroy-busy-then-munmap", test_vm_destroy_busy_then_munmap, 0),
	PAIR("process-exit-queued-batches", test_process_exit_queued_batches, 0),
	PAIR("process-exit-busy", test_process_exit_busy, 0),
	PAIR("two-invalidations-one-range", test_two_invalidations_one_range, 0),
};

IGT_MAIN("Invalidations racing with GPU work: threads, processes, file close, "
	 "VM destroy and process exit with live bindings and batches.", tests)
