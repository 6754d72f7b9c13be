// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * simgpu_userptr_inval: a userptr binding follows the CPU mapping. After
 * munmap, MAP_FIXED remap, mremap, mprotect, madvise(MADV_DONTNEED),
 * copy-on-write after fork and unbind, the GPU must not reach the old
 * pages any more, although every GPU TLB held a translation for them.
 *
 * How stale access is made visible and harmless: the bound mapping A is
 * one of two mappings of a memfd; the other, W (the witness), keeps the
 * old pages alive and readable. Every test first runs a batch that
 * touches A on every GPU (so each GPU TLB caches the translation), then
 * changes A, then checks that GPU accesses reach the new state and that
 * W did not change. If a TLB invalidation is skipped (debugfs
 * skip_tlb_inval) the GPU keeps using the old translation and W changes:
 * the subtest fails. The -busy variants keep the GPUs writing (STORE_LOOP)
 * while the CPU changes the mapping, with slow TLB invalidations
 * (SG_SLOW_INVAL_US): W must not move once the CPU call has returned, which
 * fails if the notifier's finish pass does not wait for the invalidation
 * (skip_finish_wait).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt_core.h"
#include "simgpu.h"

static void cookies(struct sg_ctx *ctx, uint32_t *vals)
{
	int i;

	for_each_gpu(ctx, i)
		vals[i] = sg_cookie();
}

/* Each GPU writes a fresh cookie, kept in @vals, to its slot at @gpu_va. */
static void gpus_write_cookies(struct sg_ctx *ctx, uint64_t gpu_va, uint32_t *vals)
{
	int i;

	cookies(ctx, vals);
	for_each_gpu(ctx, i)
		igt_assert_err(sg_gpu_write32(ctx, i, gpu_va + SG_SLOT(i), vals[i]), 0);
}

/* Each GPU's slot of @view still holds @vals. */
static void assert_slots(struct sg_ctx *ctx, const uint32_t *view,
			 const uint32_t *vals, const char *what)
{
	int i;

	for_each_gpu(ctx, i) {
		uint32_t v = sg_read32(view + SG_SLOT_DW(i));

		igt_assert_f(v == vals[i],
			     "%s: slot of GPU %u is %#x, expected %#x: an access went through a stale translation\n",
			     what, ctx->gpu[i].index, v, vals[i]);
	}
}

static bool fence_is_write_denied(int err)
{
	return err == -EFAULT || err == -EACCES;
}

/*
 * After @what, GPU @i's write at @addr must fail with @expected (or, if
 * @expected is 0, with -EFAULT or -EACCES); if it succeeds it went through
 * a stale translation.
 */
static void assert_write_fails(struct sg_ctx *ctx, int i, uint64_t addr,
			       int expected, const char *what)
{
	int err = sg_gpu_write32(ctx, i, addr, sg_cookie());

	igt_assert_f(err != 0,
		     "GPU %u: a write %s succeeded through a stale translation\n",
		     ctx->gpu[i].index, what);
	if (expected)
		igt_assert_err(err, expected);
	else
		igt_assert_f(fence_is_write_denied(err), "GPU %u: a write %s gave %s\n",
			     ctx->gpu[i].index, what, igt_errname(err));
}

/* Same for a read, which must fail with -EFAULT and return nothing. */
static void assert_read_fails(struct sg_ctx *ctx, int i, uint64_t addr,
			      const char *what)
{
	uint32_t v;
	int err;

	v = sg_gpu_read32(ctx, i, addr, &err);
	igt_assert_f(err != 0,
		     "GPU %u: a read %s returned %#x through a stale translation\n",
		     ctx->gpu[i].index, what, v);
	igt_assert_err(err, -EFAULT);
	igt_assert_eq_u32(v, SG_POISON);
}

/* A page of memfd-backed memory, mapped as A and W, bound (A) and warmed. */
static void setup_witness(struct sg_ctx *ctx, struct sg_witness *x, int pages,
			  int a_flags, uint32_t *warm)
{
	sg_witness_init(ctx, x, pages * ctx->page_size, a_flags);
	sg_bind_all(ctx, x->a, x->size, x->gpu, 0);
	cookies(ctx, warm);
	sg_warm_slots(ctx, x->gpu, x->w, warm);
}

/* ---- idle GPUs ----------------------------------------------------------- */

static void test_unbind(int mode)
{
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i;

	sg_ctx_init(&ctx, mode);
	setup_witness(&ctx, &x, 1, MAP_SHARED, warm);
	sg_unbind_all(&ctx, x.gpu, x.size);
	for_each_gpu(&ctx, i) {
		assert_write_fails(&ctx, i, x.gpu + SG_SLOT(i), -EFAULT, "after unbind");
		assert_read_fails(&ctx, i, x.gpu + SG_SLOT(i), "after unbind");
	}
	assert_slots(&ctx, x.w, warm, "after unbind");
	sg_ctx_fini(&ctx);
}

static void test_munmap(int mode)
{
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i;

	sg_ctx_init(&ctx, mode);
	setup_witness(&ctx, &x, 1, MAP_SHARED, warm);
	igt_assert(!munmap(x.a, x.size));
	for_each_gpu(&ctx, i) {
		assert_write_fails(&ctx, i, x.gpu + SG_SLOT(i), -EFAULT, "after munmap");
		assert_read_fails(&ctx, i, x.gpu + SG_SLOT(i), "after munmap");
	}
	assert_slots(&ctx, x.w, warm, "after munmap");
	sg_ctx_fini(&ctx);
}

/*
 * munmap of the second page of a two-page binding. The GPU must fault on
 * that page; whether the first page still works depends on whether the
 * driver re-mirrors page by page or the whole binding, so either outcome
 * is accepted for it as long as it is consistent.
 */
static void test_munmap_partial(int mode)
{
	uint32_t warm[SG_MAX_GPUS], warm2[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	uint32_t *w2;
	uint64_t pg;
	int i, err;

	sg_ctx_init(&ctx, mode);
	pg = ctx.page_size;
	setup_witness(&ctx, &x, 2, MAP_SHARED, warm);
	w2 = x.w + pg / 4;
	cookies(&ctx, warm2);
	sg_warm_slots(&ctx, x.gpu + pg, w2, warm2);

	igt_assert(!munmap((char *)x.a + pg, pg));
	for_each_gpu(&ctx, i)
		assert_write_fails(&ctx, i, x.gpu + pg + SG_SLOT(i), -EFAULT,
				   "to the unmapped page");
	assert_slots(&ctx, w2, warm2, "unmapped page after munmap");

	for_each_gpu(&ctx, i) {
		uint32_t c = sg_cookie();

		err = sg_gpu_write32(&ctx, i, x.gpu + SG_SLOT(i), c);
		if (err) {
			igt_assert_err(err, -EFAULT);
			igt_assert_f(x.w[SG_SLOT_DW(i)] == warm[i],
				     "GPU %u: a failed write reached the page through a stale translation\n",
				     ctx.gpu[i].index);
		} else {
			igt_assert_eq_u32(x.w[SG_SLOT_DW(i)], c);
			igt_assert_eq_u32(x.a[SG_SLOT_DW(i)], c);
		}
	}
	assert_slots(&ctx, w2, warm2, "unmapped page at the end");
	sg_ctx_fini(&ctx);
}

/* Marker in the old pages where no GPU wrote: reads of new pages give 0. */
#define MARK_DW		512
#define MARK		0x77777777u

static void test_remap(int mode)
{
	uint32_t warm[SG_MAX_GPUS], vals[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	uint32_t v;
	int i, err;

	sg_ctx_init(&ctx, mode);
	setup_witness(&ctx, &x, 1, MAP_SHARED, warm);
	x.w[MARK_DW] = MARK;

	sg_mmap_fixed(x.a, x.size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for_each_gpu(&ctx, i) {
		v = sg_gpu_read32(&ctx, i, x.gpu + MARK_DW * 4, &err);
		igt_assert_err(err, 0);
		igt_assert_f(v == 0,
			     "GPU %u read %#x from the old pages after the remap, through a stale translation\n",
			     ctx.gpu[i].index, v);
	}
	gpus_write_cookies(&ctx, x.gpu, vals);
	assert_slots(&ctx, x.a, vals, "new pages");
	assert_slots(&ctx, x.w, warm, "old pages");
	sg_ctx_fini(&ctx);
}

/* MAP_FIXED of another file over A: the GPU follows to the new file. */
static void test_remap_other_file(int mode)
{
	uint32_t warm[SG_MAX_GPUS], vals[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	uint32_t *w2, v;
	int fd2, i, err;

	sg_ctx_init(&ctx, mode);
	setup_witness(&ctx, &x, 1, MAP_SHARED, warm);
	fd2 = sg_memfd(x.size);
	w2 = sg_mmap(x.size, ctx.page_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	w2[MARK_DW] = MARK;

	sg_mmap_fixed(x.a, x.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);

	for_each_gpu(&ctx, i) {
		v = sg_gpu_read32(&ctx, i, x.gpu + MARK_DW * 4, &err);
		igt_assert_err(err, 0);
		igt_assert_f(v == MARK,
			     "GPU %u read %#x, not the new file's %#x: a stale translation\n",
			     ctx.gpu[i].index, v, MARK);
	}
	gpus_write_cookies(&ctx, x.gpu, vals);
	assert_slots(&ctx, w2, vals, "new file");
	assert_slots(&ctx, x.w, warm, "old file");
	sg_ctx_fini(&ctx);
}

/* mremap moves the pages away: A's old range is empty, then refilled. */
static void test_mremap(int mode)
{
	uint32_t warm[SG_MAX_GPUS], vals[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	uint32_t *moved;
	void *dest;
	int i;

	sg_ctx_init(&ctx, mode);
	setup_witness(&ctx, &x, 1, MAP_SHARED, warm);
	dest = sg_mmap(x.size, ctx.page_size, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	moved = mremap(x.a, x.size, x.size, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	igt_assert(moved == dest);

	for_each_gpu(&ctx, i)
		assert_write_fails(&ctx, i, x.gpu + SG_SLOT(i), -EFAULT, "after mremap");
	assert_slots(&ctx, x.w, warm, "moved pages (witness)");
	assert_slots(&ctx, moved, warm, "moved pages");

	sg_mmap_fixed(x.a, x.size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gpus_write_cookies(&ctx, x.gpu, vals);
	assert_slots(&ctx, x.a, vals, "new pages");
	assert_slots(&ctx, x.w, warm, "moved pages (witness)");
	sg_ctx_fini(&ctx);
}

/*
 * The CPU made the memory read-only: a GPU write through the read-write
 * binding can no longer be serviced (hmm_range_fault refuses the write
 * fault), so it fails and memory is unchanged.
 */
static void test_mprotect_readonly(int mode)
{
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i;

	sg_ctx_init(&ctx, mode);
	setup_witness(&ctx, &x, 1, MAP_SHARED, warm);
	igt_assert(!mprotect(x.a, x.size, PROT_READ));
	for_each_gpu(&ctx, i)
		assert_write_fails(&ctx, i, x.gpu + SG_SLOT(i), 0,
				   "to read-only memory");
	assert_slots(&ctx, x.w, warm, "after mprotect(PROT_READ)");
	sg_ctx_fini(&ctx);
}

/*
 * A read-only binding over memory the CPU makes read-only keeps working:
 * after the invalidation the GPU re-mirrors it and reads the current data.
 * (A read-write binding needs write access to the whole range: after
 * mprotect(PROT_READ) even its reads fault, see mprotect-none.)
 */
static void test_mprotect_readonly_ro_binding(int mode)
{
	struct sg_witness x;
	struct sg_ctx ctx;
	uint32_t v;
	int i, err;

	sg_ctx_init(&ctx, mode);
	sg_witness_init(&ctx, &x, ctx.page_size, MAP_SHARED);
	for_each_gpu(&ctx, i)
		x.w[SG_SLOT_DW(i)] = 0x0ead0000u + i;
	sg_bind_all(&ctx, x.a, x.size, x.gpu, DRM_SIMGPU_BIND_READONLY);
	for_each_gpu(&ctx, i) {
		v = sg_gpu_read32(&ctx, i, x.gpu + SG_SLOT(i), &err);
		igt_assert_err(err, 0);
		igt_assert_eq_u32(v, 0x0ead0000u + i);
	}
	igt_assert(!mprotect(x.a, x.size, PROT_READ));
	for_each_gpu(&ctx, i)
		x.w[SG_SLOT_DW(i)] = 0x0eae0000u + i;
	for_each_gpu(&ctx, i) {
		v = sg_gpu_read32(&ctx, i, x.gpu + SG_SLOT(i), &err);
		igt_assert_err(err, 0);
		igt_assert_eq_u32(v, 0x0eae0000u + i);
		igt_assert_err(sg_gpu_write32(&ctx, i, x.gpu + SG_SLOT(i), 1), -EACCES);
	}
	sg_ctx_fini(&ctx);
}

/* Read-only and back: GPU writes fail, then work again. */
static void test_mprotect_restore(int mode)
{
	uint32_t warm[SG_MAX_GPUS], vals[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i;

	sg_ctx_init(&ctx, mode);
	setup_witness(&ctx, &x, 1, MAP_SHARED, warm);
	igt_assert(!mprotect(x.a, x.size, PROT_READ));
	for_each_gpu(&ctx, i)
		assert_write_fails(&ctx, i, x.gpu + SG_SLOT(i), 0,
				   "to read-only memory");
	igt_assert(!mprotect(x.a, x.size, PROT_READ | PROT_WRITE));
	gpus_write_cookies(&ctx, x.gpu, vals);
	assert_slots(&ctx, x.w, vals, "after mprotect(PROT_READ | PROT_WRITE)");
	sg_ctx_fini(&ctx);
}

static void test_mprotect_none(int mode)
{
	uint32_t warm[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i;

	sg_ctx_init(&ctx, mode);
	setup_witness(&ctx, &x, 1, MAP_SHARED, warm);
	igt_assert(!mprotect(x.a, x.size, PROT_NONE));
	for_each_gpu(&ctx, i) {
		assert_read_fails(&ctx, i, x.gpu + SG_SLOT(i), "of PROT_NONE memory");
		assert_write_fails(&ctx, i, x.gpu + SG_SLOT(i), 0, "to PROT_NONE memory");
	}
	assert_slots(&ctx, x.w, warm, "after mprotect(PROT_NONE)");
	sg_ctx_fini(&ctx);
}

/* A helper process that keeps copy-on-write shared pages alive until released. */
static pid_t fork_holder(int *release)
{
	int p[2];
	pid_t pid;

	igt_assert(!pipe(p));
	pid = igt_fork_helper();
	if (pid == 0) {
		char c;

		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		igt_helper_exit(0);
	}
	close(p[0]);
	*release = p[1];
	return pid;
}

/*
 * MADV_DONTNEED on a private mapping of the memfd drops A's private
 * (copied-on-write) pages: A shows the file's pages again. The GPU must
 * read the file's content, not the dropped private page.
 */
static void fill_private(struct sg_ctx *ctx, struct sg_witness *x,
			 uint32_t *file_vals, uint32_t *priv_vals)
{
	int i;

	for_each_gpu(ctx, i) {
		file_vals[i] = sg_cookie();
		priv_vals[i] = sg_cookie();
		x->w[SG_SLOT_DW(i)] = file_vals[i];
	}
	/* CPU writes to A copy the page: A now has its own private page. */
	for_each_gpu(ctx, i)
		x->a[SG_SLOT_DW(i)] = priv_vals[i];
	assert_slots(ctx, x->w, file_vals, "file after private writes");
}

/*
 * Read-only binding; a forked holder shares the private page, so the page
 * MADV_DONTNEED drops stays alive: a stale read returns the old data
 * instead of touching freed memory.
 */
static void test_madvise_dontneed(int mode)
{
	uint32_t file_vals[SG_MAX_GPUS], priv_vals[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int release, i, err;
	pid_t holder;
	uint32_t v;

	sg_require_madvise();
	sg_ctx_init(&ctx, mode);
	sg_witness_init(&ctx, &x, ctx.page_size, MAP_PRIVATE);
	fill_private(&ctx, &x, file_vals, priv_vals);
	holder = fork_holder(&release);
	sg_bind_all(&ctx, x.a, x.size, x.gpu, DRM_SIMGPU_BIND_READONLY);
	for_each_gpu(&ctx, i) {
		v = sg_gpu_read32(&ctx, i, x.gpu + SG_SLOT(i), &err);
		igt_assert_err(err, 0);
		igt_assert_eq_u32(v, priv_vals[i]);
	}

	igt_assert(!madvise(x.a, x.size, MADV_DONTNEED));
	assert_slots(&ctx, x.a, file_vals, "CPU view after MADV_DONTNEED");

	for_each_gpu(&ctx, i) {
		v = sg_gpu_read32(&ctx, i, x.gpu + SG_SLOT(i), &err);
		igt_assert_err(err, 0);
		igt_assert_f(v == file_vals[i],
			     "GPU %u read %#x after MADV_DONTNEED, expected the file's %#x%s: a stale translation\n",
			     ctx.gpu[i].index, v, file_vals[i],
			     v == priv_vals[i] ? " (the dropped page)" : "");
	}
	close(release);
	igt_assert_helper_ok(holder);
	sg_ctx_fini(&ctx);
}

/*
 * Same with a read-write binding, then a GPU write that copies the file
 * page again. Nothing keeps the dropped page alive here: with a broken
 * invalidation the GPU would read freed memory, so this one is not part
 * of the injected-bug self-checks.
 */
static void test_madvise_dontneed_rw(int mode)
{
	uint32_t file_vals[SG_MAX_GPUS], priv_vals[SG_MAX_GPUS], vals[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	uint32_t v;
	int i, err;

	sg_require_madvise();
	sg_ctx_init(&ctx, mode);
	sg_witness_init(&ctx, &x, ctx.page_size, MAP_PRIVATE);
	fill_private(&ctx, &x, file_vals, priv_vals);
	sg_bind_all(&ctx, x.a, x.size, x.gpu, 0);
	/* Warm: every GPU reads the private page. */
	for_each_gpu(&ctx, i) {
		v = sg_gpu_read32(&ctx, i, x.gpu + SG_SLOT(i), &err);
		igt_assert_err(err, 0);
		igt_assert_eq_u32(v, priv_vals[i]);
	}

	igt_assert(!madvise(x.a, x.size, MADV_DONTNEED));
	assert_slots(&ctx, x.a, file_vals, "CPU view after MADV_DONTNEED");

	for_each_gpu(&ctx, i) {
		v = sg_gpu_read32(&ctx, i, x.gpu + SG_SLOT(i), &err);
		igt_assert_err(err, 0);
		igt_assert_f(v == file_vals[i],
			     "GPU %u read %#x after MADV_DONTNEED, expected the file's %#x%s: a stale translation\n",
			     ctx.gpu[i].index, v, file_vals[i],
			     v == priv_vals[i] ? " (the dropped page)" : "");
	}
	/* Only reached with a correct TLB: writing copies the page again. */
	gpus_write_cookies(&ctx, x.gpu, vals);
	assert_slots(&ctx, x.a, vals, "private page after GPU writes");
	assert_slots(&ctx, x.w, file_vals, "file after GPU writes");
	sg_ctx_fini(&ctx);
}

/*
 * MADV_DONTNEED on private anonymous memory: the GPU must see the new
 * zero-filled page. The dropped page stays alive in a forked holder, so a
 * stale read returns the old data instead of reading freed memory.
 */
static void test_madvise_dontneed_anon(int mode)
{
	uint32_t old[SG_MAX_GPUS];
	struct sg_ctx ctx;
	uint32_t *a, v;
	uint64_t gpu;
	int release, i, err;
	pid_t holder;

	sg_require_madvise();
	sg_ctx_init(&ctx, mode);
	a = sg_mmap(ctx.page_size, ctx.page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cookies(&ctx, old);
	for_each_gpu(&ctx, i)
		a[SG_SLOT_DW(i)] = old[i];
	holder = fork_holder(&release);

	gpu = sg_va_alloc(&ctx, ctx.page_size);
	sg_bind_all(&ctx, a, ctx.page_size, gpu, DRM_SIMGPU_BIND_READONLY);
	for_each_gpu(&ctx, i) {
		v = sg_gpu_read32(&ctx, i, gpu + SG_SLOT(i), &err);
		igt_assert_err(err, 0);
		igt_assert_eq_u32(v, old[i]);
	}

	igt_assert(!madvise(a, ctx.page_size, MADV_DONTNEED));
	igt_assert_eq_u32(a[SG_SLOT_DW(0)], 0);

	for_each_gpu(&ctx, i) {
		v = sg_gpu_read32(&ctx, i, gpu + SG_SLOT(i), &err);
		igt_assert_err(err, 0);
		igt_assert_f(v == 0,
			     "GPU %u read %#x after MADV_DONTNEED, expected 0%s: a stale translation\n",
			     ctx.gpu[i].index, v, v == old[i] ? " (the dropped page)" : "");
	}
	close(release);
	igt_assert_helper_ok(holder);
	sg_ctx_fini(&ctx);
}

/* ---- fork and copy-on-write ---------------------------------------------- */

struct chan {
	int to_child[2];
	int to_parent[2];
};

static void chan_init(struct chan *c)
{
	igt_assert(!pipe(c->to_child));
	igt_assert(!pipe(c->to_parent));
}

static void chan_side(struct chan *c, bool child)
{
	close(child ? c->to_child[1] : c->to_child[0]);
	close(child ? c->to_parent[0] : c->to_parent[1]);
}

static void chan_send(int fd, char v)
{
	igt_assert(write(fd, &v, 1) == 1);
}

/* Returns 0 on EOF. */
static char chan_recv(int fd)
{
	ssize_t n;
	char v;

	do {
		n = read(fd, &v, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? v : 0;
}

/* In the child: wait until the parent closes the channel, then exit. */
static void __attribute__((noreturn)) child_linger(struct chan *c, int code)
{
	while (chan_recv(c->to_child[0]))
		;
	igt_helper_exit(code);
}

static uint32_t *cow_buffer(struct sg_ctx *ctx, uint64_t *gpu, uint32_t *warm)
{
	uint32_t *a = sg_mmap(ctx->page_size, ctx->page_size,
			      PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	memset(a, 0x11, ctx->page_size);
	*gpu = sg_va_alloc(ctx, ctx->page_size);
	sg_bind_all(ctx, a, ctx->page_size, *gpu, 0);
	cookies(ctx, warm);
	sg_warm_slots(ctx, *gpu, a, warm);
	return a;
}

/*
 * Parent binds and warms, forks, then writes the page itself (so the
 * parent gets a copy and the child keeps the original). The GPU writes
 * of the parent must land in the parent's new copy; the child's page
 * must not change. A GPU still using the pre-fork translation writes the
 * child's page.
 */
static void test_fork_cow_parent_write(int mode)
{
	uint32_t warm[SG_MAX_GPUS], vals[SG_MAX_GPUS];
	int errs[SG_MAX_GPUS];
	struct sg_ctx ctx;
	struct chan c;
	uint32_t *a;
	uint64_t gpu;
	char verdict;
	pid_t pid;
	int i;

	sg_ctx_init(&ctx, mode);
	a = cow_buffer(&ctx, &gpu, warm);
	chan_init(&c);
	pid = igt_fork_helper();
	if (pid == 0) {
		uint32_t *snap = malloc(ctx.page_size);

		chan_side(&c, true);
		memcpy(snap, a, ctx.page_size);
		chan_send(c.to_parent[1], 'r');
		if (chan_recv(c.to_child[0]) != 'c')
			igt_helper_exit(1);
		verdict = memcmp(snap, a, ctx.page_size) ? 'n' : 'y';
		if (verdict == 'n')
			for (i = 0; i < SG_MAX_GPUS; i++)
				if (a[SG_SLOT_DW(i)] != snap[SG_SLOT_DW(i)])
					igt_info("child: slot %d changed %#x -> %#x\n", i,
						 snap[SG_SLOT_DW(i)], a[SG_SLOT_DW(i)]);
		chan_send(c.to_parent[1], verdict);
		child_linger(&c, 0);
	}
	chan_side(&c, false);
	igt_assert_eq(chan_recv(c.to_parent[0]), 'r');

	a[ctx.page_size / 4 - 1] ^= 1;	/* the parent's copy-on-write */
	cookies(&ctx, vals);
	for_each_gpu(&ctx, i)
		errs[i] = sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), vals[i]);
	chan_send(c.to_child[1], 'c');
	verdict = chan_recv(c.to_parent[0]);
	close(c.to_child[1]);
	igt_assert_helper_ok(pid);

	for_each_gpu(&ctx, i)
		igt_assert_err(errs[i], 0);
	igt_assert_f(verdict == 'y', "the child's copy-on-write page was written by the parent's GPU, through a stale translation\n");
	assert_slots(&ctx, a, vals, "parent after GPU writes");
	sg_ctx_fini(&ctx);
}

/* The child writes (and gets its copy); the parent's GPU writes stay in the parent. */
static void test_fork_cow_child_write(int mode)
{
	uint32_t warm[SG_MAX_GPUS], vals[SG_MAX_GPUS];
	int errs[SG_MAX_GPUS];
	struct sg_ctx ctx;
	struct chan c;
	uint32_t *a;
	uint64_t gpu;
	char verdict;
	pid_t pid;
	int i;

	sg_ctx_init(&ctx, mode);
	a = cow_buffer(&ctx, &gpu, warm);
	chan_init(&c);
	pid = igt_fork_helper();
	if (pid == 0) {
		chan_side(&c, true);
		for (i = 0; i < ctx.n; i++)
			a[SG_SLOT_DW(i)] = 0xc41d0000u + i;
		chan_send(c.to_parent[1], 'r');
		if (chan_recv(c.to_child[0]) != 'c')
			igt_helper_exit(1);
		verdict = 'y';
		for (i = 0; i < ctx.n; i++)
			if (a[SG_SLOT_DW(i)] != 0xc41d0000u + i)
				verdict = 'n';
		chan_send(c.to_parent[1], verdict);
		child_linger(&c, 0);
	}
	chan_side(&c, false);
	igt_assert_eq(chan_recv(c.to_parent[0]), 'r');
	assert_slots(&ctx, a, warm, "parent after the child's writes");
	cookies(&ctx, vals);
	for_each_gpu(&ctx, i)
		errs[i] = sg_gpu_write32(&ctx, i, gpu + SG_SLOT(i), vals[i]);
	chan_send(c.to_child[1], 'c');
	verdict = chan_recv(c.to_parent[0]);
	close(c.to_child[1]);
	igt_assert_helper_ok(pid);

	for_each_gpu(&ctx, i)
		igt_assert_err(errs[i], 0);
	igt_assert_f(verdict == 'y', "the child's page was written by the parent's GPU\n");
	assert_slots(&ctx, a, vals, "parent after GPU writes");
	sg_ctx_fini(&ctx);
}

/* ---- busy GPUs ----------------------------------------------------------- */

/*
 * Witness page bound at A with a STORE_LOOP running on every GPU; slow TLB
 * invalidations so that a CPU call returning before the invalidation
 * completed leaves a long window in which W still moves.
 */
static void setup_busy(struct sg_ctx *ctx, struct sg_witness *x,
		       struct sg_job *jobs)
{
	sg_slow_tlb_inval(ctx);
	sg_witness_init(ctx, x, ctx->page_size, MAP_SHARED);
	sg_bind_all(ctx, x->a, x->size, x->gpu, 0);
	sg_start_loops(ctx, x->gpu, jobs);
	sg_wait_loops_running(ctx, x->w, jobs);
}

static void finish_loops(struct sg_ctx *ctx, struct sg_job *jobs,
			 bool (*ok)(int err), const char *expected)
{
	int i, err;

	for_each_gpu(ctx, i) {
		err = sg_job_finish(&jobs[i]);
		igt_assert_f(ok(err), "GPU %u: store loop ended with %s, expected %s\n",
			     ctx->gpu[i].index, igt_errname(err), expected);
	}
}

static bool is_efault(int err)
{
	return err == -EFAULT;
}

static bool is_stopped(int err)
{
	return err == 0 || err == -EFAULT || err == -EACCES;
}

/* Stops loops writing into memory that stays mapped: no page is freed. */
static void stop_loops(struct sg_ctx *ctx, void *a, uint64_t size,
		       struct sg_job *jobs)
{
	igt_assert(!mprotect(a, size, PROT_READ));
	finish_loops(ctx, jobs, is_stopped, "0, -EFAULT or -EACCES");
}

static void test_munmap_busy(int mode)
{
	uint32_t snap[SG_MAX_GPUS];
	struct sg_job jobs[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;

	sg_ctx_init(&ctx, mode);
	setup_busy(&ctx, &x, jobs);
	igt_assert(!munmap(x.a, x.size));
	sg_snapshot_slots(&ctx, x.w, snap);
	sg_assert_slots_stable(&ctx, x.w, snap, SG_WATCH_MS, "munmap");
	finish_loops(&ctx, jobs, is_efault, "-EFAULT");
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

static void test_remap_busy(int mode)
{
	uint32_t snap[SG_MAX_GPUS];
	struct sg_job jobs[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int i;

	sg_ctx_init(&ctx, mode);
	setup_busy(&ctx, &x, jobs);
	sg_mmap_fixed(x.a, x.size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sg_snapshot_slots(&ctx, x.w, snap);
	sg_assert_slots_stable(&ctx, x.w, snap, SG_WATCH_MS, "mmap(MAP_FIXED)");
	/* The loops went on, in the new pages. */
	for_each_gpu(&ctx, i)
		igt_assert_f(igt_wait(sg_read32(x.a + SG_SLOT_DW(i)) != 0, 5000),
			     "GPU %u never wrote the new pages (loop %s)\n",
			     ctx.gpu[i].index, igt_errname(sg_job_wait(&jobs[i], 0)));
	stop_loops(&ctx, x.a, x.size, jobs);
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

static void test_mprotect_busy(int mode)
{
	uint32_t snap[SG_MAX_GPUS];
	struct sg_job jobs[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;

	sg_ctx_init(&ctx, mode);
	setup_busy(&ctx, &x, jobs);
	igt_assert(!mprotect(x.a, x.size, PROT_READ));
	sg_snapshot_slots(&ctx, x.w, snap);
	sg_assert_slots_stable(&ctx, x.w, snap, SG_WATCH_MS, "mprotect(PROT_READ)");
	finish_loops(&ctx, jobs, fence_is_write_denied, "-EFAULT or -EACCES");
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

static void test_unbind_busy(int mode)
{
	uint32_t snap[SG_MAX_GPUS];
	struct sg_job jobs[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;

	sg_ctx_init(&ctx, mode);
	setup_busy(&ctx, &x, jobs);
	sg_unbind_all(&ctx, x.gpu, x.size);
	sg_snapshot_slots(&ctx, x.w, snap);
	sg_assert_slots_stable(&ctx, x.w, snap, SG_WATCH_MS, "unbind");
	finish_loops(&ctx, jobs, is_efault, "-EFAULT");
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

/*
 * Batches that read A, stall, and read A again; MADV_DONTNEED lands
 * during the stall. The second read must see the file's page. (Read-only
 * binding and a holder process, as in madvise-dontneed.)
 */
static void test_madvise_busy(int mode)
{
	uint32_t file_vals[SG_MAX_GPUS], priv_vals[SG_MAX_GPUS];
	struct sg_job jobs[SG_MAX_GPUS];
	struct sg_witness x;
	struct sg_ctx ctx;
	int release, i;
	pid_t holder;

	sg_require_madvise();
	sg_ctx_init(&ctx, mode);
	sg_witness_init(&ctx, &x, ctx.page_size, MAP_PRIVATE);
	fill_private(&ctx, &x, file_vals, priv_vals);
	holder = fork_holder(&release);
	sg_bind_all(&ctx, x.a, x.size, x.gpu, DRM_SIMGPU_BIND_READONLY);
	for_each_gpu(&ctx, i) {
		uint64_t r = ctx.scratch_gpu + SG_SLOT(i);
		struct sg_batch b;

		ctx.scratch[SG_SLOT_DW(i)] = SG_POISON;
		ctx.scratch[SG_SLOT_DW(i) + 1] = SG_POISON;
		sg_batch_start(&ctx, &b);
		sg_emit_copy(&b, x.gpu + SG_SLOT(i), r, 4);
		sg_emit_delay(&b, 500000);
		sg_emit_copy(&b, x.gpu + SG_SLOT(i), r + 4, 4);
		sg_submit(&ctx, i, sg_batch_end(&b), 0, &jobs[i]);
	}
	for_each_gpu(&ctx, i)
		igt_assert_f(igt_wait(sg_read32(ctx.scratch + SG_SLOT_DW(i)) != SG_POISON,
				      10000), "GPU %u did not start\n", ctx.gpu[i].index);
	igt_assert(!madvise(x.a, x.size, MADV_DONTNEED));
	for_each_gpu(&ctx, i)
		igt_assert_f(sg_job_busy(&jobs[i]),
			     "GPU %u finished before MADV_DONTNEED: inconclusive\n",
			     ctx.gpu[i].index);
	for_each_gpu(&ctx, i) {
		igt_assert_err(sg_job_finish(&jobs[i]), 0);
		igt_assert_eq_u32(ctx.scratch[SG_SLOT_DW(i)], priv_vals[i]);
		igt_assert_f(ctx.scratch[SG_SLOT_DW(i) + 1] == file_vals[i],
			     "GPU %u read %#x after MADV_DONTNEED, expected %#x: a stale translation\n",
			     ctx.gpu[i].index, ctx.scratch[SG_SLOT_DW(i) + 1],
			     file_vals[i]);
	}
	close(release);
	igt_assert_helper_ok(holder);
	sg_ctx_fini(&ctx);
}

/*
 * fork() while the GPUs write a private page: fork write-protects the
 * parent's page, the GPUs fault and the parent gets a copy. From the
 * moment fork returned, the child's page must not change.
 */
static void test_fork_cow_busy(int mode)
{
	struct sg_job jobs[SG_MAX_GPUS];
	int errs[SG_MAX_GPUS];
	uint32_t s1[SG_MAX_GPUS];
	bool moving = true;
	struct sg_ctx ctx;
	struct chan c;
	uint32_t *a;
	uint64_t gpu;
	char verdict;
	pid_t pid;
	int i;

	sg_ctx_init(&ctx, mode);
	sg_slow_tlb_inval(&ctx);
	a = sg_mmap(ctx.page_size, ctx.page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(a, 0, ctx.page_size);
	gpu = sg_va_alloc(&ctx, ctx.page_size);
	sg_bind_all(&ctx, a, ctx.page_size, gpu, 0);
	sg_start_loops(&ctx, gpu, jobs);
	sg_wait_loops_running(&ctx, a, jobs);

	chan_init(&c);
	pid = igt_fork_helper();
	if (pid == 0) {
		uint32_t snap[SG_MAX_GPUS];
		uint64_t end;

		chan_side(&c, true);
		for (i = 0; i < ctx.n; i++)
			snap[i] = a[SG_SLOT_DW(i)];
		verdict = 'y';
		end = igt_now_ns() + SG_WATCH_MS * 1000000ull;
		while (igt_now_ns() < end && verdict == 'y') {
			for (i = 0; i < ctx.n; i++)
				if (a[SG_SLOT_DW(i)] != snap[i]) {
					igt_info("child: slot %d moved %#x -> %#x after fork\n",
						 i, snap[i], a[SG_SLOT_DW(i)]);
					verdict = 'n';
				}
			usleep(500);
		}
		chan_send(c.to_parent[1], verdict);
		child_linger(&c, 0);
	}
	chan_side(&c, false);

	/* The GPUs keep writing, now into the parent's copy. */
	sg_snapshot_slots(&ctx, a, s1);
	for_each_gpu(&ctx, i)
		if (!igt_wait(sg_read32(a + SG_SLOT_DW(i)) != s1[i], 5000))
			moving = false;
	verdict = chan_recv(c.to_parent[0]);

	/* Stop the loops; the child keeps its page alive until they ended. */
	igt_assert(!mprotect(a, ctx.page_size, PROT_READ));
	for_each_gpu(&ctx, i)
		errs[i] = sg_job_finish(&jobs[i]);
	close(c.to_child[1]);
	igt_assert_helper_ok(pid);

	igt_assert_f(verdict == 'y', "a GPU wrote the child's page through a stale translation after fork returned\n");
	igt_assert_f(moving, "the GPUs stopped writing the parent's page after fork\n");
	for_each_gpu(&ctx, i)
		igt_assert_f(is_stopped(errs[i]), "GPU %u: store loop ended with %s\n",
			     ctx.gpu[i].index, igt_errname(errs[i]));
	igt_file_restore_all();
	sg_ctx_fini(&ctx);
}

#define PAIR(name, fn) \
	{ name "-single", fn, SG_ONE, 0 }, { name "-all", fn, SG_ALL, 0 }

static const struct igt_subtest tests[] = {
	PAIR("unbind", test_unbind),
	PAIR("munmap", test_munmap),
	PAIR("munmap-partial", test_munmap_partial),
	PAIR("remap", test_remap),
	PAIR("remap-other-file", test_remap_other_file),
	PAIR("mremap", test_mremap),
	PAIR("mprotect-readonly", test_mprotect_readonly),
	PAIR("mprotect-readonly-ro-binding", test_mprotect_readonly_ro_binding),
	PAIR("mprotect-restore", test_mprotect_restore),
	PAIR("mprotect-none", test_mprotect_none),
	PAIR("madvise-dontneed", test_madvise_dontneed),
	PAIR("madvise-dontneed-rw", test_madvise_dontneed_rw),
	PAIR("madvise-dontneed-anon", test_madvise_dontneed_anon),
	PAIR("fork-cow-parent-write", test_fork_cow_parent_write),
	PAIR("fork-cow-child-write", test_fork_cow_child_write),
	PAIR("munmap-busy", test_munmap_busy),
	PAIR("remap-busy", test_remap_busy),
	PAIR("mprotect-busy", test_mprotect_busy),
	PAIR("unbind-busy", test_unbind_busy),
	PAIR("madvise-busy", test_madvise_busy),
	PAIR("fork-cow-busy", test_fork_cow_busy),
};

IGT_MAIN("Userptr invalidation: after munmap, remap, mremap, mprotect, madvise, "
	 "fork and unbind no GPU reaches the old pages, idle or busy.", tests)
