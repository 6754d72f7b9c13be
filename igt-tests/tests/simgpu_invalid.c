// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * simgpu_invalid: every ioctl rejects malformed input with the error the
 * uAPI documents, and the engine fails malformed batches with -EINVAL on
 * their fence. Each subtest changes one field of an otherwise valid
 * request, checks the error on every GPU, and then checks that the valid
 * request is accepted, so that a rejection for the wrong reason shows.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core.h"
#include "simgpu.h"

#define BUF_PAGES	8

static struct sg_ctx ctx;
static uint32_t *buf;		/* BUF_PAGES pages of process memory */
static uint64_t va;		/* 16 free pages of GPU VA */
static uint64_t pg;		/* GPU page size */
static uint64_t zero_ext[8];	/* a readable, zeroed "extension" */

/* Once per subtest (some subtests run several checks). */
static void setup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	/* dma-fence mode: the out-syncobj checks need it. */
	sg_ctx_init(&ctx, SG_ALL | SG_DMA_FENCE);
	pg = ctx.page_size;
	buf = sg_mmap(BUF_PAGES * pg, pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 0, BUF_PAGES * pg);
	va = sg_va_alloc(&ctx, 16 * pg);
}

static int fd_of(int i)
{
	return ctx.gpu[i].fd;
}

static uint32_t vm_of(int i)
{
	return ctx.gpu[i].vm;
}

/* ---- query --------------------------------------------------------------- */

static void check_query(int err_expected, void (*mutate)(struct drm_simgpu_query *))
{
	int i;

	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_query q = { 0 };

		mutate(&q);
		igt_assert_err(__sg_query(fd_of(i), &q), err_expected);
		memset(&q, 0, sizeof(q));
		igt_assert_err(__sg_query(fd_of(i), &q), 0);
	}
}

static void q_ext(struct drm_simgpu_query *q) { q->extensions = (uintptr_t)zero_ext; }
static void q_flags(struct drm_simgpu_query *q) { q->flags = 1; }
static void q_flags_top(struct drm_simgpu_query *q) { q->flags = 0x80000000u; }
static void q_res0(struct drm_simgpu_query *q) { q->reserved[0] = 1; }
static void q_res1(struct drm_simgpu_query *q) { q->reserved[1] = 1ull << 63; }

static void query_nonzero_extensions(int a) { (void)a; check_query(-EINVAL, q_ext); }
static void query_unknown_flags(int a)
{
	(void)a;
	check_query(-EINVAL, q_flags);
	check_query(-EINVAL, q_flags_top);
}
static void query_nonzero_reserved(int a)
{
	(void)a;
	check_query(-EINVAL, q_res0);
	check_query(-EINVAL, q_res1);
}

/* ---- vm create / destroy ------------------------------------------------ */

static void check_vm_create(void (*mutate)(struct drm_simgpu_vm_create *))
{
	int i;

	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_create c = { 0 };

		mutate(&c);
		igt_assert_err(__sg_vm_create(fd_of(i), &c), -EINVAL);
		sg_vm_destroy(fd_of(i), sg_vm_create(fd_of(i)));
	}
}

static void c_ext(struct drm_simgpu_vm_create *c) { c->extensions = (uintptr_t)zero_ext; }
static void c_flags(struct drm_simgpu_vm_create *c) { c->flags = 2; }
static void c_flags31(struct drm_simgpu_vm_create *c) { c->flags = 1u << 31; }
static void c_res0(struct drm_simgpu_vm_create *c) { c->reserved[0] = 1; }
static void c_res1(struct drm_simgpu_vm_create *c) { c->reserved[1] = 1; }

static void vm_create_nonzero_extensions(int a) { (void)a; check_vm_create(c_ext); }
static void vm_create_unknown_flags(int a)
{
	(void)a;
	check_vm_create(c_flags);
	check_vm_create(c_flags31);
}
static void vm_create_nonzero_reserved(int a)
{
	(void)a;
	check_vm_create(c_res0);
	check_vm_create(c_res1);
}

static void check_vm_destroy(int err_expected,
			     void (*mutate)(struct drm_simgpu_vm_destroy *))
{
	int i;

	setup();
	for_each_gpu(&ctx, i) {
		uint32_t vm = sg_vm_create(fd_of(i));
		struct drm_simgpu_vm_destroy d = { .vm_id = vm };

		mutate(&d);
		igt_assert_err(__sg_vm_destroy(fd_of(i), &d), err_expected);
		/* The rejected request left the VM alone. */
		sg_vm_destroy(fd_of(i), vm);
	}
}

static void d_ext(struct drm_simgpu_vm_destroy *d) { d->extensions = (uintptr_t)zero_ext; }
static void d_pad(struct drm_simgpu_vm_destroy *d) { d->pad = 1; }
static void d_res0(struct drm_simgpu_vm_destroy *d) { d->reserved[0] = 1; }
static void d_res1(struct drm_simgpu_vm_destroy *d) { d->reserved[1] = 1; }

static void vm_destroy_nonzero_extensions(int a) { (void)a; check_vm_destroy(-EINVAL, d_ext); }
static void vm_destroy_nonzero_pad(int a) { (void)a; check_vm_destroy(-EINVAL, d_pad); }
static void vm_destroy_nonzero_reserved(int a)
{
	(void)a;
	check_vm_destroy(-EINVAL, d_res0);
	check_vm_destroy(-EINVAL, d_res1);
}

static void vm_destroy_unknown_vm(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_destroy d = { .vm_id = 0 };

		igt_assert_err(__sg_vm_destroy(fd_of(i), &d), -ENOENT);
		d.vm_id = 0xfffffff0u;
		igt_assert_err(__sg_vm_destroy(fd_of(i), &d), -ENOENT);
		d.vm_id = vm_of(i) + 1000;
		igt_assert_err(__sg_vm_destroy(fd_of(i), &d), -ENOENT);
	}
}

static void vm_destroy_twice(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_destroy d = { .vm_id = sg_vm_create(fd_of(i)) };

		igt_assert_err(__sg_vm_destroy(fd_of(i), &d), 0);
		igt_assert_err(__sg_vm_destroy(fd_of(i), &d), -ENOENT);
	}
}

/* A VM belongs to the file that created it. */
static void vm_destroy_vm_of_other_file(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_destroy d = { .vm_id = vm_of(i) };
		int fd2 = open(ctx.gpu[i].path, O_RDWR | O_CLOEXEC);

		/* fd2 has no VM at all (ids may be per file). */
		igt_assert(fd2 >= 0);
		igt_assert_err(__sg_vm_destroy(fd2, &d), -ENOENT);
		close(fd2);
		/* Still alive on its own file. */
		igt_assert_err(sg_gpu_write32(&ctx, i, ctx.scratch_gpu, 1), 0);
	}
}

/* ---- bind ---------------------------------------------------------------- */

static struct drm_simgpu_vm_bind valid_bind(int i)
{
	return (struct drm_simgpu_vm_bind) {
		.vm_id = vm_of(i),
		.addr = va + 2 * pg,
		.range = 2 * pg,
		.userptr = (uintptr_t)buf,
	};
}

/* The unmodified request binds (and unbinds) fine. */
static void bind_control(int i)
{
	struct drm_simgpu_vm_bind b = valid_bind(i);

	igt_assert_err(__sg_vm_bind(fd_of(i), &b), 0);
	sg_unbind(fd_of(i), b.vm_id, b.addr, b.range);
}

typedef void (*bind_mutator)(struct drm_simgpu_vm_bind *);

static void check_bind(int err_expected, bind_mutator mutate)
{
	int i;

	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_bind b = valid_bind(i);

		mutate(&b);
		igt_assert_err(__sg_vm_bind(fd_of(i), &b), err_expected);
		bind_control(i);
	}
}

static void b_ext(struct drm_simgpu_vm_bind *b) { b->extensions = (uintptr_t)zero_ext; }
static void b_flags1(struct drm_simgpu_vm_bind *b) { b->flags = 1u << 1; }
static void b_flags31(struct drm_simgpu_vm_bind *b) { b->flags = DRM_SIMGPU_BIND_READONLY | (1u << 31); }
static void b_res0(struct drm_simgpu_vm_bind *b) { b->reserved[0] = 1; }
static void b_res1(struct drm_simgpu_vm_bind *b) { b->reserved[1] = 1; }
static void b_addr(struct drm_simgpu_vm_bind *b) { b->addr += 4; }
static void b_addr_half(struct drm_simgpu_vm_bind *b) { b->addr += pg / 2; }
static void b_range(struct drm_simgpu_vm_bind *b) { b->range -= 4; }
static void b_range_big(struct drm_simgpu_vm_bind *b) { b->range = pg + 4; }
static void b_userptr(struct drm_simgpu_vm_bind *b) { b->userptr += 4; }
static void b_userptr_half(struct drm_simgpu_vm_bind *b) { b->userptr += pg / 2; b->range = pg; }
static void b_zero(struct drm_simgpu_vm_bind *b) { b->range = 0; }
static void b_addr_wrap(struct drm_simgpu_vm_bind *b) { b->addr = -pg; }
static void b_addr_wrap_huge(struct drm_simgpu_vm_bind *b) { b->range = -pg; }
static void b_userptr_wrap(struct drm_simgpu_vm_bind *b) { b->userptr = -pg; }
static void b_beyond(struct drm_simgpu_vm_bind *b) { b->addr = ctx.va_limit; b->range = pg; }
static void b_crossing(struct drm_simgpu_vm_bind *b) { b->addr = ctx.va_limit - pg; }
static void b_vm0(struct drm_simgpu_vm_bind *b) { b->vm_id = 0; }
static void b_vm_bad(struct drm_simgpu_vm_bind *b) { b->vm_id += 1000; }

static void bind_nonzero_extensions(int a) { (void)a; setup(); check_bind(-EINVAL, b_ext); }
static void bind_unknown_flags(int a)
{
	(void)a;
	setup();
	check_bind(-EINVAL, b_flags1);
	check_bind(-EINVAL, b_flags31);
}
static void bind_nonzero_reserved(int a)
{
	(void)a;
	setup();
	check_bind(-EINVAL, b_res0);
	check_bind(-EINVAL, b_res1);
}
static void bind_unaligned_addr(int a)
{
	(void)a;
	setup();
	check_bind(-EINVAL, b_addr);
	check_bind(-EINVAL, b_addr_half);
}
static void bind_unaligned_range(int a)
{
	(void)a;
	setup();
	check_bind(-EINVAL, b_range);
	check_bind(-EINVAL, b_range_big);
}
static void bind_unaligned_userptr(int a)
{
	(void)a;
	setup();
	check_bind(-EINVAL, b_userptr);
	check_bind(-EINVAL, b_userptr_half);
}
static void bind_zero_range(int a) { (void)a; setup(); check_bind(-EINVAL, b_zero); }
static void bind_addr_wraps(int a)
{
	(void)a;
	setup();
	check_bind(-EINVAL, b_addr_wrap);
	check_bind(-EINVAL, b_addr_wrap_huge);
}
static void bind_userptr_wraps(int a) { (void)a; setup(); check_bind(-EINVAL, b_userptr_wrap); }

static void bind_beyond_va_bits(int a)
{
	(void)a;
	setup();
	igt_require_f(ctx.va_bits < 64, "the GPU VA space is the whole 64 bits\n");
	check_bind(-EINVAL, b_beyond);
	check_bind(-EINVAL, b_crossing);
}

/* Control for the above: the last page of the GPU VA space is usable. */
static void bind_last_va_page(int a)
{
	int i;

	(void)a;
	setup();
	igt_require_f(ctx.va_bits < 64, "the GPU VA space is the whole 64 bits\n");
	for_each_gpu(&ctx, i) {
		uint64_t last = ctx.va_limit - pg;

		buf[SG_SLOT_DW(i)] = 0;
		sg_bind(fd_of(i), vm_of(i), last, pg, buf, 0);
		igt_assert_err(sg_gpu_write32(&ctx, i, last + SG_SLOT(i), 0x1a57), 0);
		igt_assert_eq_u32(buf[SG_SLOT_DW(i)], 0x1a57);
		sg_unbind(fd_of(i), vm_of(i), last, pg);
	}
}

static void bind_unknown_vm(int a)
{
	(void)a;
	setup();
	check_bind(-ENOENT, b_vm0);
	check_bind(-ENOENT, b_vm_bad);
}

static void bind_vm_of_other_file(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		int fd2 = open(ctx.gpu[i].path, O_RDWR | O_CLOEXEC);
		struct drm_simgpu_vm_bind b = valid_bind(i);

		igt_assert(fd2 >= 0);
		igt_assert_err(__sg_vm_bind(fd2, &b), -ENOENT);
		close(fd2);
		bind_control(i);
	}
}

static void bind_unmapped_userptr(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_bind b = valid_bind(i);
		void *hole = sg_mmap(2 * pg, pg, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		igt_assert(!munmap(hole, 2 * pg));
		b.userptr = (uintptr_t)hole;
		igt_assert_err(__sg_vm_bind(fd_of(i), &b), -EFAULT);
		bind_control(i);
	}
}

static void bind_partly_unmapped_userptr(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_bind b = valid_bind(i);
		char *p = sg_mmap(2 * pg, pg, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		p[0] = 1;
		igt_assert(!munmap(p + pg, pg));
		b.userptr = (uintptr_t)p;
		igt_assert_err(__sg_vm_bind(fd_of(i), &b), -EFAULT);
		/* Nothing of the failed bind is left: the range is free. */
		bind_control(i);
		munmap(p, pg);
	}
}

static void bind_prot_none_userptr(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_bind b = valid_bind(i);
		void *p = sg_mmap(2 * pg, pg, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		b.userptr = (uintptr_t)p;
		igt_assert_err(__sg_vm_bind(fd_of(i), &b), -EFAULT);
		bind_control(i);
		munmap(p, 2 * pg);
	}
}

/* The binding under test: GPU pages [2, 6) of va. */
static void bind_first(int i)
{
	sg_bind(fd_of(i), vm_of(i), va + 2 * pg, 4 * pg, buf, 0);
}

static void expect_overlap(int i, uint64_t first_page, uint64_t pages)
{
	igt_assert_err(__sg_bind(fd_of(i), vm_of(i), va + first_page * pg,
				 pages * pg, buf + 0, 0), -EEXIST);
}

static void bind_same_twice(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		bind_first(i);
		expect_overlap(i, 2, 4);
		/* Same GPU range, other memory, read-only: still taken. */
		igt_assert_err(__sg_bind(fd_of(i), vm_of(i), va + 2 * pg, 4 * pg,
					 (char *)buf + 4 * pg,
					 DRM_SIMGPU_BIND_READONLY), -EEXIST);
		sg_unbind(fd_of(i), vm_of(i), va + 2 * pg, 4 * pg);
	}
}

/*
 * Ranges that overlap the binding under test, GPU pages [2, 6), in
 * (first page, pages) pairs; a zero length ends a case.
 */
static const uint64_t overlaps[][3][2] = {
	[0] = { { 1, 2 } },			/* start */
	[1] = { { 5, 2 } },			/* end */
	[2] = { { 3, 1 }, { 2, 1 }, { 5, 1 } },	/* inside */
	[3] = { { 1, 6 }, { 0, 8 } },		/* around */
};

static void bind_overlap(int c)
{
	int i, j;

	setup();
	for_each_gpu(&ctx, i) {
		bind_first(i);
		for (j = 0; j < 3 && overlaps[c][j][1]; j++)
			expect_overlap(i, overlaps[c][j][0], overlaps[c][j][1]);
		sg_unbind(fd_of(i), vm_of(i), va + 2 * pg, 4 * pg);
	}
}

/* Control for the overlap checks: touching ranges do not overlap. */
static void bind_adjacent(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		bind_first(i);
		sg_bind(fd_of(i), vm_of(i), va + pg, pg, buf, 0);
		sg_bind(fd_of(i), vm_of(i), va + 6 * pg, pg, buf, 0);
		sg_unbind(fd_of(i), vm_of(i), va + pg, pg);
		sg_unbind(fd_of(i), vm_of(i), va + 6 * pg, pg);
		sg_unbind(fd_of(i), vm_of(i), va + 2 * pg, 4 * pg);
	}
}

/* ---- unbind -------------------------------------------------------------- */

static void check_unbind(int err_expected,
			 void (*mutate)(struct drm_simgpu_vm_unbind *))
{
	int i;

	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_unbind u = {
			.vm_id = vm_of(i),
			.addr = va + 2 * pg,
			.range = 4 * pg,
		};

		bind_first(i);
		mutate(&u);
		igt_assert_err(__sg_vm_unbind(fd_of(i), &u), err_expected);
		/* The binding survived the rejected request. */
		sg_unbind(fd_of(i), vm_of(i), va + 2 * pg, 4 * pg);
	}
}

static void u_ext(struct drm_simgpu_vm_unbind *u) { u->extensions = (uintptr_t)zero_ext; }
static void u_pad(struct drm_simgpu_vm_unbind *u) { u->pad = 1; }
static void u_res0(struct drm_simgpu_vm_unbind *u) { u->reserved[0] = 1; }
static void u_res1(struct drm_simgpu_vm_unbind *u) { u->reserved[1] = 1; }
static void u_addr_low(struct drm_simgpu_vm_unbind *u) { u->addr -= pg; }
static void u_addr_high(struct drm_simgpu_vm_unbind *u) { u->addr += pg; }
static void u_range_short(struct drm_simgpu_vm_unbind *u) { u->range -= pg; }
static void u_range_long(struct drm_simgpu_vm_unbind *u) { u->range += pg; }
static void u_inner(struct drm_simgpu_vm_unbind *u) { u->addr += pg; u->range = pg; }
static void u_elsewhere(struct drm_simgpu_vm_unbind *u) { u->addr = va + 10 * pg; u->range = pg; }
static void u_vm0(struct drm_simgpu_vm_unbind *u) { u->vm_id = 0; }
static void u_vm_bad(struct drm_simgpu_vm_unbind *u) { u->vm_id += 1000; }

static void unbind_nonzero_extensions(int a) { (void)a; check_unbind(-EINVAL, u_ext); }
static void unbind_nonzero_pad(int a) { (void)a; check_unbind(-EINVAL, u_pad); }
static void unbind_nonzero_reserved(int a)
{
	(void)a;
	check_unbind(-EINVAL, u_res0);
	check_unbind(-EINVAL, u_res1);
}
static void unbind_wrong_addr(int a)
{
	(void)a;
	check_unbind(-ENOENT, u_addr_low);
	check_unbind(-ENOENT, u_addr_high);
}
static void unbind_wrong_range(int a)
{
	(void)a;
	check_unbind(-ENOENT, u_range_short);
	check_unbind(-ENOENT, u_range_long);
}
static void unbind_partial(int a) { (void)a; check_unbind(-ENOENT, u_inner); }
static void unbind_never_bound(int a) { (void)a; check_unbind(-ENOENT, u_elsewhere); }
static void unbind_unknown_vm(int a)
{
	(void)a;
	check_unbind(-ENOENT, u_vm0);
	check_unbind(-ENOENT, u_vm_bad);
}

#define SG_PARAM(name)	"/sys/module/simgpu/parameters/" name

/* A simgpu module parameter, or skip the subtest without it. */
static uint64_t sg_param(const char *path)
{
	char v[32];

	igt_require_f(!igt_file_read(path, v, sizeof(v)), "no %s\n", path);
	return strtoull(v, NULL, 0);
}

/* MemAvailable in KiB. */
/* Raise max_bind_mb to @size for this subtest (restored after it). */
static void lift_bind_cap(uint64_t size)
{
	char cap[32];

	snprintf(cap, sizeof(cap), "%llu", (unsigned long long)(size >> 20));
	igt_assert_err(igt_file_set_tmp(SG_PARAM("max_bind_mb"), cap), 0);
}

/* A binding over the max_bind_mb module parameter: -E2BIG, before anything else. */
static void bind_too_large(int a)
{
	uint64_t max = sg_param(SG_PARAM("max_bind_mb")) << 20;
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_bind b = valid_bind(i);

		b.range = max + pg;
		if (b.addr + b.range > ctx.va_limit)
			b.addr = 0;
		igt_require_f(b.addr + b.range <= ctx.va_limit,
			      "max_bind_mb is beyond the GPU VA space\n");
		igt_assert_err(__sg_vm_bind(fd_of(i), &b), -E2BIG);
		bind_control(i);
	}
}

/*
 * 127 TiB (page tables alone would take about 254 GiB): -E2BIG from
 * simgpu's max_bind_mb; with that lifted, -EFAULT, as the userptr range
 * does not fit in the user address space (gsvm's own limit,
 * GSVM_RANGE_MAX_PAGES, is bind-1tib-readonly's).
 */
static void bind_127tib(int a)
{
	const uint64_t size = 127ull << 40;
	int i, k;

	(void)a;
	setup();
	igt_require_f(ctx.va_limit >= size + (1ull << 40), "GPU VA space under 128 TiB\n");
	for (k = 0; k < 2; k++) {
		if (k)
			lift_bind_cap(size);
		for_each_gpu(&ctx, i) {
			struct drm_simgpu_vm_bind b = valid_bind(i);

			b.addr = 1ull << 40;
			b.range = size;
			igt_assert_err(__sg_vm_bind(fd_of(i), &b), k ? -EFAULT : -E2BIG);
			bind_control(i);
		}
	}
	igt_file_restore_all();
}

/*
 * 256 GiB of unmapped memory with the size cap lifted: refused with
 * -EFAULT before any page table is allocated (they would take 512 MiB), so
 * the machine's free memory does not move.
 */
static void bind_unmapped_256gib_allocates_nothing(int a)
{
	const uint64_t size = 256ull << 30;
	uint64_t before, after;
	void *hole;
	int i;

	(void)a;
	setup();
	igt_require_f(ctx.va_limit >= size + (1ull << 40), "GPU VA space under 1.25 TiB\n");
	hole = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	igt_require_f(hole != MAP_FAILED, "cannot reserve 256 GiB: %s\n", strerror(errno));
	igt_assert(!munmap(hole, size));
	lift_bind_cap(size);
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_bind b = valid_bind(i);

		b.addr = 1ull << 40;
		b.range = size;
		b.userptr = (uintptr_t)hole;
		before = sg_mem_available_kib();
		igt_assert_err(__sg_vm_bind(fd_of(i), &b), -EFAULT);
		after = sg_mem_available_kib();
		igt_info("GPU %u: MemAvailable %llu -> %llu KiB\n", ctx.gpu[i].index,
			 (unsigned long long)before, (unsigned long long)after);
		igt_assert_f(before < after + (64u << 10),
			     "GPU %u: a refused 256 GiB bind kept %llu MiB\n", ctx.gpu[i].index,
			     (unsigned long long)(before - after) >> 10);
		bind_control(i);
	}
	igt_file_restore_all();
}

/* A read-only bind of @size bytes at @p, at GPU address 1 TiB, on GPU @i. */
static struct drm_simgpu_vm_bind readonly_bind(int i, void *p, uint64_t size)
{
	struct drm_simgpu_vm_bind b = valid_bind(i);

	b.addr = 1ull << 40;
	b.range = size;
	b.userptr = (uintptr_t)p;
	b.flags = DRM_SIMGPU_BIND_READONLY;
	return b;
}

/*
 * 1 TiB of read-only memory that is all there (an anonymous mapping reads
 * as the zero page): too many pages for drm_gpusvm's arrays, so gsvm
 * refuses it with -E2BIG before kvmalloc() would WARN.
 */
static void bind_1tib_readonly(int a)
{
	const uint64_t size = 1ull << 40;
	void *p;
	int i;

	(void)a;
	setup();
	igt_require_f(ctx.va_limit >= 2 * size, "GPU VA space under 2 TiB\n");
	igt_require_f((size >> 12) > (2147483647ull / 16),
		      "1 TiB is within gsvm's limit with this page size\n");
	p = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	igt_require_f(p != MAP_FAILED, "cannot map 1 TiB: %s\n", strerror(errno));
	lift_bind_cap(size);
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_bind b = readonly_bind(i, p, size);

		igt_assert_err(__sg_vm_bind(fd_of(i), &b), -E2BIG);
		bind_control(i);
	}
	igt_file_restore_all();
	munmap(p, size);
}

#define CG_ROOT "/sys/fs/cgroup"

static char cg_dir[64];

/* Back to the root cgroup, and remove ours (its charges go with it). */
static void cg_leave(void)
{
	char pid[16];

	if (!cg_dir[0])
		return;
	snprintf(pid, sizeof(pid), "%d", getpid());
	igt_file_write(CG_ROOT "/cgroup.procs", pid);
	rmdir(cg_dir);
	cg_dir[0] = '\0';
}

/*
 * Moves this process into a new memory cgroup below the cgroup v2 root
 * (mounted if need be); skips on a kernel without memory cgroups.
 */
static void cg_enter(void)
{
	char controllers[256], pid[16], path[96];

	if (access(CG_ROOT "/cgroup.controllers", F_OK))
		mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL);
	igt_require_f(!igt_file_read(CG_ROOT "/cgroup.controllers", controllers,
				     sizeof(controllers)) && strstr(controllers, "memory"),
		      "no memory cgroup controller (CONFIG_MEMCG, cgroup2 on %s)\n", CG_ROOT);
	/* Already enabled on a systemd machine; not an error either way. */
	igt_file_write(CG_ROOT "/cgroup.subtree_control", "+memory");
	snprintf(cg_dir, sizeof(cg_dir), CG_ROOT "/gsvm-test-%d", getpid());
	igt_assert_f(!mkdir(cg_dir, 0755), "mkdir %s: %s\n", cg_dir, strerror(errno));
	igt_install_exit_handler(cg_leave);
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg_dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	igt_assert_err(igt_file_write(path, pid), 0);
}

/* memory.current of our cgroup, in bytes. */
static uint64_t cg_current(void)
{
	char path[96], v[32];

	snprintf(path, sizeof(path), "%s/memory.current", cg_dir);
	igt_assert_err(igt_file_read(path, v, sizeof(v)), 0);
	return strtoull(v, NULL, 10);
}

/*
 * What a bind allocates for a user is charged to the user's memory cgroup:
 * a 256 MiB read-only binding of untouched anonymous memory (the zero
 * page, which costs the process nothing) takes 8 bytes of simgpu page
 * table and 16 bytes of drm_gpusvm DMA-address array per page (patch 0008
 * of the series), 1.5 MiB in all, which must show in the caller's
 * memory.current; unbinding must give it back.
 */
static void bind_charged_to_memcg(int a)
{
	const uint64_t size = 256ull << 20, npages = size >> 12;
	const uint64_t expect = npages * (8 + 16);
	uint64_t c0, c1, c2, off;
	void *p;
	int i;

	(void)a;
	setup();
	igt_require_f(ctx.va_limit >= 2 * size + (1ull << 40), "GPU VA space too small\n");
	igt_require_f(pg == 4096, "GPU page size %llu, not 4 KiB\n", (unsigned long long)pg);
	cg_enter();
	p = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	igt_assert(p != MAP_FAILED);
	/* The CPU page tables of the zero page are charged too: before c0. */
	for (off = 0; off < size; off += pg)
		(void)*((volatile char *)p + off);
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_bind b = readonly_bind(i, p, size);

		c0 = cg_current();
		igt_assert_err(__sg_vm_bind(fd_of(i), &b), 0);
		c1 = cg_current();
		sg_unbind(fd_of(i), b.vm_id, b.addr, b.range);
		c2 = cg_current();
		igt_info("GPU %u: memory.current %llu -> %llu -> %llu KiB (bind, unbind)\n",
			 ctx.gpu[i].index, (unsigned long long)c0 >> 10,
			 (unsigned long long)c1 >> 10, (unsigned long long)c2 >> 10);
		igt_assert_f(c1 >= c0 + expect * 9 / 10,
			     "GPU %u: a 256 MiB read-only bind charged %lld KiB to the caller's memory cgroup, not the %llu KiB of its page tables and DMA-address array: something it allocated is not accounted\n",
			     ctx.gpu[i].index, ((long long)c1 - (long long)c0) / 1024,
			     (unsigned long long)expect >> 10);
		igt_assert_f(c2 < c0 + expect / 2,
			     "GPU %u: %lld KiB stayed charged after the unbind: page tables or DMA-address arrays were not freed\n",
			     ctx.gpu[i].index, ((long long)c2 - (long long)c0) / 1024);
	}
	munmap(p, size);
	cg_leave();
}

/* One file holds at most max_vms_per_file VMs: the next is -ENOSPC. */
static void vm_create_too_many(int a)
{
	uint32_t max = sg_param(SG_PARAM("max_vms_per_file"));
	uint32_t *vms;
	unsigned int n;
	int i;

	(void)a;
	setup();
	igt_require_f(max <= 4096, "max_vms_per_file %u: too many to try\n", max);
	vms = calloc(max, sizeof(*vms));
	igt_assert(vms);
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_vm_create c = { 0 };
		int err = 0;

		/* The context's own VM counts. */
		for (n = 0; n < max; n++) {
			memset(&c, 0, sizeof(c));
			err = __sg_vm_create(fd_of(i), &c);
			if (err)
				break;
			vms[n] = c.vm_id;
		}
		igt_assert_f(err == -ENOSPC && n == max - 1,
			     "GPU %u: VM %u of a file with max_vms_per_file=%u: %s\n",
			     ctx.gpu[i].index, n + 2, max, igt_errname(err));
		while (n--)
			sg_vm_destroy(fd_of(i), vms[n]);
		sg_vm_destroy(fd_of(i), sg_vm_create(fd_of(i)));
	}
	free(vms);
}

static void unbind_twice(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		bind_first(i);
		igt_assert_err(__sg_unbind(fd_of(i), vm_of(i), va + 2 * pg, 4 * pg), 0);
		igt_assert_err(__sg_unbind(fd_of(i), vm_of(i), va + 2 * pg, 4 * pg), -ENOENT);
	}
}

/* ---- exec ---------------------------------------------------------------- */

static uint64_t good_batch(int i)
{
	struct sg_batch b;

	sg_batch_start(&ctx, &b);
	sg_emit_store(&b, ctx.scratch_gpu + SG_SLOT(i), 0x600d);
	return sg_batch_end(&b);
}

static void exec_control(int i)
{
	sg_write32(ctx.scratch + SG_SLOT_DW(i), 0);
	igt_assert_err(sg_run(&ctx, i, good_batch(i)), 0);
	igt_assert_eq_u32(ctx.scratch[SG_SLOT_DW(i)], 0x600d);
}

/*
 * A flood of batches on one VM: past max_jobs_per_vm the exec fails with
 * -ENOSPC instead of queueing without bound, and another file's batch on
 * the same GPU still runs.
 */
static void exec_job_flood(int a)
{
	const unsigned int max = 8;
	struct sg_job jobs[8], other;
	uint64_t batches[9];
	struct sg_batch b;
	unsigned int n;
	int i, err;

	(void)a;
	setup();
	sg_param(SG_PARAM("max_jobs_per_vm"));
	igt_assert_err(igt_file_set_tmp(SG_PARAM("max_jobs_per_vm"), "8"), 0);
	for_each_gpu(&ctx, i) {
		uint32_t vm2;
		int fd2;

		/* One batch of 1 s; the others queue behind it (in order). */
		sg_batch_start(&ctx, &b);
		sg_emit_delay(&b, 1000000);
		batches[0] = sg_batch_end(&b);
		for (n = 1; n <= max; n++)
			batches[n] = good_batch(i);
		for (n = 0; n < max; n++)
			igt_assert_err(__sg_submit(fd_of(i), vm_of(i), batches[n], 0, &jobs[n]), 0);
		err = __sg_submit(fd_of(i), vm_of(i), batches[max], 0, &other);
		igt_assert_f(err == -ENOSPC, "GPU %u: batch %u on a VM with max_jobs_per_vm=%u: %s\n",
			     ctx.gpu[i].index, max + 1, max, igt_errname(err));

		/* Another user of the GPU is not refused. */
		fd2 = open(ctx.gpu[i].path, O_RDWR | O_CLOEXEC);
		igt_assert(fd2 >= 0);
		vm2 = sg_vm_create(fd2);
		err = __sg_submit(fd2, vm2, 0, 0, &other);
		igt_assert_f(!err, "GPU %u: another file's batch refused: %s\n",
			     ctx.gpu[i].index, igt_errname(err));
		sg_job_finish(&other);
		sg_vm_destroy(fd2, vm2);
		close(fd2);
		for (n = 0; n < max; n++)
			igt_assert_err(sg_job_finish(&jobs[n]), 0);
		exec_control(i);
	}
	igt_file_restore_all();
}

/*
 * One VM floods its GPU's engine with 16 batches of 100 ms; a batch of
 * another file's VM, queued after them, runs after at most two of them, as
 * the engine takes the VMs with work in turn. On a first-come engine it
 * would wait for all sixteen (1.6 s): one user stalling the GPU for others.
 */
static void exec_flood_fair(int a)
{
	enum { FLOOD = 16 };
	struct sg_job jobs[FLOOD], other;
	struct sg_batch b;
	uint64_t batch;
	int i, n, busy, err;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		uint32_t vm2;
		int fd2;

		fd2 = open(ctx.gpu[i].path, O_RDWR | O_CLOEXEC);
		igt_assert(fd2 >= 0);
		vm2 = sg_vm_create(fd2);
		sg_batch_start(&ctx, &b);
		sg_emit_delay(&b, 100000);
		batch = sg_batch_end(&b);
		for (n = 0; n < FLOOD; n++)
			igt_assert_err(__sg_submit(fd_of(i), vm_of(i), batch, 0, &jobs[n]), 0);
		/* Nothing is bound in vm2: the batch faults at once, after its turn. */
		igt_assert_err(__sg_submit(fd2, vm2, 0, 0, &other), 0);
		err = sg_job_finish(&other);
		for (n = 0, busy = 0; n < FLOOD; n++)
			busy += sg_job_busy(&jobs[n]);
		igt_info("GPU %u: the other VM's batch (%s) ended after %d of the %d batches "
			 "queued before it\n", ctx.gpu[i].index, igt_errname(err), FLOOD - busy,
			 FLOOD);
		igt_assert_f(FLOOD - busy <= 3, "GPU %u: another VM's batch waited for %d of one "
			     "VM's %d queued batches: the engine does not take VMs in turn\n",
			     ctx.gpu[i].index, FLOOD - busy, FLOOD);
		for (n = 0; n < FLOOD; n++) {
			igt_assert_err(sg_job_finish(&jobs[n]), 0);
			sg_job_put(&jobs[n]);
		}
		sg_job_put(&other);
		sg_vm_destroy(fd2, vm2);
		close(fd2);
		exec_control(i);
	}
}

static void check_exec(int err_expected, void (*mutate)(struct drm_simgpu_exec *))
{
	int i;

	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_exec e = {
			.vm_id = vm_of(i),
			.batch_addr = good_batch(i),
		};

		sg_write32(ctx.scratch + SG_SLOT_DW(i), 0);
		mutate(&e);
		igt_assert_err(__sg_exec(fd_of(i), &e), err_expected);
		/* A rejected exec runs nothing. */
		usleep(20000);
		igt_assert_eq_u32(ctx.scratch[SG_SLOT_DW(i)], 0);
		exec_control(i);
	}
}

static void e_ext(struct drm_simgpu_exec *e) { e->extensions = (uintptr_t)zero_ext; }
static void e_flags(struct drm_simgpu_exec *e) { e->flags = 1; }
static void e_flags31(struct drm_simgpu_exec *e) { e->flags = 1u << 31; }
static void e_res0(struct drm_simgpu_exec *e) { e->reserved[0] = 1; }
static void e_res1(struct drm_simgpu_exec *e) { e->reserved[1] = 1; }
static void e_vm0(struct drm_simgpu_exec *e) { e->vm_id = 0; }
static void e_vm_bad(struct drm_simgpu_exec *e) { e->vm_id += 1000; }
static void e_unaligned(struct drm_simgpu_exec *e) { e->batch_addr += 2; }
static void e_unaligned1(struct drm_simgpu_exec *e) { e->batch_addr += 1; }
static void e_in_bad(struct drm_simgpu_exec *e) { e->in_syncobj = 0x7fffffff; }
static void e_out_bad(struct drm_simgpu_exec *e) { e->out_syncobj = 0x7fffffff; }

static void exec_nonzero_extensions(int a) { (void)a; check_exec(-EINVAL, e_ext); }
static void exec_unknown_flags(int a)
{
	(void)a;
	check_exec(-EINVAL, e_flags);
	check_exec(-EINVAL, e_flags31);
}
static void exec_nonzero_reserved(int a)
{
	(void)a;
	check_exec(-EINVAL, e_res0);
	check_exec(-EINVAL, e_res1);
}
static void exec_unknown_vm(int a)
{
	(void)a;
	check_exec(-ENOENT, e_vm0);
	check_exec(-ENOENT, e_vm_bad);
}
static void exec_unaligned_batch(int a)
{
	(void)a;
	check_exec(-EINVAL, e_unaligned);
	check_exec(-EINVAL, e_unaligned1);
}
static void exec_bad_in_syncobj(int a) { (void)a; check_exec(-ENOENT, e_in_bad); }
static void exec_bad_out_syncobj(int a) { (void)a; check_exec(-ENOENT, e_out_bad); }

static void exec_in_syncobj_without_fence(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_exec e = {
			.vm_id = vm_of(i),
			.batch_addr = good_batch(i),
		};

		igt_assert_err(drmSyncobjCreate(fd_of(i), 0, &e.in_syncobj), 0);
		igt_assert_err(__sg_exec(fd_of(i), &e), -ENOENT);
		drmSyncobjDestroy(fd_of(i), e.in_syncobj);
		exec_control(i);
	}
}

static void exec_vm_of_other_file(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_exec e = {
			.vm_id = vm_of(i),
			.batch_addr = good_batch(i),
		};
		int fd2 = open(ctx.gpu[i].path, O_RDWR | O_CLOEXEC);

		igt_assert(fd2 >= 0);
		igt_assert_err(__sg_exec(fd2, &e), -ENOENT);
		close(fd2);
		exec_control(i);
	}
}

/* A batch address nothing is bound at: the fetch faults. */
static void exec_unbound_batch(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		igt_assert_err(sg_run(&ctx, i, va), -EFAULT);
		exec_control(i);
	}
}

/* ---- fault-mode exec and user fences ----------------------------------- */

static uint32_t fvms[SG_MAX_GPUS];

/* A fault-mode VM on GPU @i with the context's ring and scratch bound. */
static uint32_t fvm_of(int i)
{
	if (!fvms[i]) {
		fvms[i] = sg_vm_create_flags(fd_of(i), DRM_SIMGPU_VM_CREATE_FAULT_MODE);
		sg_bind(fd_of(i), fvms[i], ctx.ring_gpu, SG_RING_SIZE, ctx.ring, 0);
		sg_bind(fd_of(i), fvms[i], ctx.scratch_gpu, SG_SCRATCH_SIZE,
			ctx.scratch, 0);
	}
	return fvms[i];
}

/* A good batch on the fault-mode VM still runs and writes its user fence. */
static void fault_exec_control(int i)
{
	struct sg_job job;

	sg_write32(ctx.scratch + SG_SLOT_DW(i), 0);
	igt_assert_err(__sg_submit(fd_of(i), fvm_of(i), good_batch(i), 0, &job), 0);
	igt_assert_err(sg_job_finish(&job), 0);
	igt_assert_eq_u32(ctx.scratch[SG_SLOT_DW(i)], 0x600d);
}

static volatile struct drm_simgpu_user_fence *bad_ufence;

/*
 * @fault: exec on the fault-mode VM (with a valid user fence) or on the
 * dma-fence VM, then @mutate; the ioctl must fail with @err_expected and
 * run nothing.
 */
static void check_exec_mode(bool fault, int err_expected,
			    void (*mutate)(struct drm_simgpu_exec *))
{
	int i;

	setup();
	for_each_gpu(&ctx, i) {
		volatile struct drm_simgpu_user_fence *uf = sg_ufence_alloc();
		struct drm_simgpu_exec e = {
			.vm_id = fault ? fvm_of(i) : vm_of(i),
			.batch_addr = good_batch(i),
		};

		if (fault) {
			e.user_fence_addr = (uintptr_t)uf;
			e.user_fence_value = sg_ufence_next_value();
		}
		bad_ufence = uf;
		sg_write32(ctx.scratch + SG_SLOT_DW(i), 0);
		mutate(&e);
		igt_assert_err(__sg_exec(fd_of(i), &e), err_expected);
		usleep(20000);
		igt_assert_eq_u32(ctx.scratch[SG_SLOT_DW(i)], 0);
		igt_assert_eq_u64(uf->value, 0);
		if (fault)
			fault_exec_control(i);
		else
			exec_control(i);
	}
}

static void e_ufence(struct drm_simgpu_exec *e)
{
	e->user_fence_addr = (uintptr_t)bad_ufence;
	e->user_fence_value = 1;
}
static void e_ufence_unaligned(struct drm_simgpu_exec *e) { e->user_fence_addr += 4; }
static void e_ufence_value_only(struct drm_simgpu_exec *e)
{
	e->user_fence_addr = 0;
	e->user_fence_value = 1;
}
static void e_ufence_kernel(struct drm_simgpu_exec *e)
{
	e->user_fence_addr = 0xffff888000000000ull;
}
static void e_ufence_last_byte(struct drm_simgpu_exec *e)
{
	/* Above the last user page. */
	e->user_fence_addr = 0x00007ffffffffff8ull;
}

/* Fault mode: a batch's fence would depend on fault servicing. */
static void exec_fault_vm_out_syncobj(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_exec e = {
			.vm_id = fvm_of(i),
			.batch_addr = good_batch(i),
		};
		uint32_t h;

		igt_assert_err(drmSyncobjCreate(fd_of(i), 0, &h), 0);
		e.out_syncobj = h;
		igt_assert_err(__sg_exec(fd_of(i), &e), -EINVAL);
		/* Nothing was installed in the syncobj. */
		igt_assert_eq(drmSyncobjWait(fd_of(i), &h, 1, 0, 0, NULL), -EINVAL);
		fault_exec_control(i);
	}
}

static void exec_dma_fence_vm_user_fence(int a)
{
	(void)a;
	check_exec_mode(false, -EINVAL, e_ufence);
}

static void exec_unaligned_user_fence(int a)
{
	(void)a;
	check_exec_mode(true, -EINVAL, e_ufence_unaligned);
}

static void exec_user_fence_value_without_addr(int a)
{
	(void)a;
	check_exec_mode(true, -EINVAL, e_ufence_value_only);
}

static void exec_user_fence_bad_addr(int a)
{
	(void)a;
	check_exec_mode(true, -EFAULT, e_ufence_kernel);
	check_exec_mode(true, -EFAULT, e_ufence_last_byte);
}

/* ---- wait user fence ----------------------------------------------------- */

static void check_wait(int err_expected,
		       void (*mutate)(struct drm_simgpu_wait_user_fence *))
{
	int i;

	setup();
	for_each_gpu(&ctx, i) {
		volatile struct drm_simgpu_user_fence *uf = sg_ufence_alloc();
		struct drm_simgpu_wait_user_fence w = {
			.addr = (uintptr_t)uf,
			.value = 0,	/* already reached: a good wait returns at once */
		};

		mutate(&w);
		igt_assert_err(__sg_wait_ufence(fd_of(i), &w), err_expected);
	}
}

static void w_none(struct drm_simgpu_wait_user_fence *w) { (void)w; }
static void w_ext(struct drm_simgpu_wait_user_fence *w) { w->extensions = (uintptr_t)zero_ext; }
static void w_flags(struct drm_simgpu_wait_user_fence *w) { w->flags = 1; }
static void w_flags31(struct drm_simgpu_wait_user_fence *w) { w->flags = 1u << 31; }
static void w_res0(struct drm_simgpu_wait_user_fence *w) { w->reserved[0] = 1; }
static void w_res1(struct drm_simgpu_wait_user_fence *w) { w->reserved[1] = 1; }
static void w_unaligned(struct drm_simgpu_wait_user_fence *w) { w->addr += 4; }
static void w_negative(struct drm_simgpu_wait_user_fence *w) { w->timeout_ns = -1; }
static void w_kernel(struct drm_simgpu_wait_user_fence *w) { w->addr = 0xffff888000000000ull; }
static void w_null(struct drm_simgpu_wait_user_fence *w) { w->addr = 0; }
static void w_never(struct drm_simgpu_wait_user_fence *w)
{
	w->value = 12345;
	w->timeout_ns = 20000000;	/* 20 ms */
}

static void wait_ufence_nonzero_extensions(int a) { (void)a; check_wait(-EINVAL, w_ext); }
static void wait_ufence_unknown_flags(int a)
{
	(void)a;
	check_wait(-EINVAL, w_flags);
	check_wait(-EINVAL, w_flags31);
}
static void wait_ufence_nonzero_reserved(int a)
{
	(void)a;
	check_wait(-EINVAL, w_res0);
	check_wait(-EINVAL, w_res1);
}
static void wait_ufence_unaligned_addr(int a) { (void)a; check_wait(-EINVAL, w_unaligned); }
static void wait_ufence_negative_timeout(int a) { (void)a; check_wait(-EINVAL, w_negative); }
static void wait_ufence_bad_addr(int a)
{
	(void)a;
	check_wait(-EFAULT, w_kernel);
	check_wait(-EFAULT, w_null);
	check_wait(0, w_none);
}
static void wait_ufence_timeout(int a)
{
	uint64_t t0 = igt_now_ns();

	(void)a;
	check_wait(-ETIME, w_never);
	igt_assert_f(igt_now_ns() - t0 >= 20000000ull * ctx.n,
		     "a timed-out wait returned before its timeout\n");
}

/* An unmapped, aligned address: -EFAULT, not a hang. */
static void wait_ufence_unmapped_addr(int a)
{
	void *p;
	int i;

	(void)a;
	setup();
	p = sg_mmap(pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	igt_assert(!munmap(p, pg));
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_wait_user_fence w = {
			.addr = (uintptr_t)p,
			.value = 1,
			.timeout_ns = 1000000000,
		};

		igt_assert_err(__sg_wait_ufence(fd_of(i), &w), -EFAULT);
	}
}

/* ---- another process using this process's VM ---------------------------- */

static void check_other_process(int what)
{
	uint64_t batches[SG_MAX_GPUS];
	pid_t pid;
	int i;

	setup();
	for_each_gpu(&ctx, i) {
		bind_first(i);
		/* Built here: the helper only submits. */
		batches[i] = good_batch(i);
	}
	pid = igt_fork_helper();
	if (pid == 0) {
		for_each_gpu(&ctx, i) {
			struct sg_job job;

			switch (what) {
			case 0:
				igt_assert_err(__sg_bind(fd_of(i), vm_of(i), va + 8 * pg,
							 pg, buf, 0), -EPERM);
				break;
			case 1:
				igt_assert_err(__sg_unbind(fd_of(i), vm_of(i),
							   va + 2 * pg, 4 * pg), -EPERM);
				break;
			case 2:
				igt_assert_err(__sg_submit(fd_of(i), vm_of(i),
							   batches[i], 0, &job), -EPERM);
				break;
			case 3: {
				struct drm_simgpu_vm_destroy d = { .vm_id = vm_of(i) };

				igt_assert_err(__sg_vm_destroy(fd_of(i), &d), -EPERM);
				break;
			}
			}
		}
		igt_helper_exit(0);
	}
	igt_assert_helper_ok(pid);
	/* Untouched for the owner. */
	for_each_gpu(&ctx, i) {
		sg_unbind(fd_of(i), vm_of(i), va + 2 * pg, 4 * pg);
		exec_control(i);
	}
}

static void bind_from_other_process(int a) { (void)a; check_other_process(0); }
static void unbind_from_other_process(int a) { (void)a; check_other_process(1); }
static void exec_from_other_process(int a) { (void)a; check_other_process(2); }
static void vm_destroy_from_other_process(int a) { (void)a; check_other_process(3); }

/* ---- malformed batches --------------------------------------------------- */

enum bad_batch {
	BAD_OPCODE,
	BAD_OPCODE_HIGH,
	UNALIGNED_STORE,
	UNALIGNED_ATOMIC,
	UNALIGNED_COPY_SRC,
	UNALIGNED_COPY_DST,
	COPY_SIZE_NOT_DWORDS,
	COPY_TOO_LARGE,
	DELAY_TOO_LONG,
	STORE_LOOP_COUNT_TOO_LARGE,
	STORE_LOOP_USECS_TOO_LARGE,
};

static void check_bad_batch(int kind)
{
	const uint64_t big = (1 << 20) + 65536;
	struct sg_batch b;
	uint64_t big_gpu;
	int i;

	setup();
	sg_alloc_bound(&ctx, 2 * big, 0, &big_gpu);
	for_each_gpu(&ctx, i) {
		uint64_t dst = ctx.scratch_gpu + SG_SLOT(i);

		sg_batch_start(&ctx, &b);
		switch (kind) {
		case BAD_OPCODE:
			sg_emit_dw(&b, DRM_SIMGPU_CMD_STORE_LOOP + 1);
			break;
		case BAD_OPCODE_HIGH:
			sg_emit_dw(&b, 0xffffffffu);
			break;
		case UNALIGNED_STORE:
			sg_emit_store(&b, dst + 2, 1);
			break;
		case UNALIGNED_ATOMIC:
			sg_emit_atomic_add(&b, dst + 1, 1);
			break;
		case UNALIGNED_COPY_SRC:
			sg_emit_copy(&b, big_gpu + 2, big_gpu + big, 4);
			break;
		case UNALIGNED_COPY_DST:
			sg_emit_copy(&b, big_gpu, big_gpu + big + 2, 4);
			break;
		case COPY_SIZE_NOT_DWORDS:
			sg_emit_copy(&b, big_gpu, big_gpu + big, 6);
			break;
		case COPY_TOO_LARGE:
			sg_emit_copy(&b, big_gpu, big_gpu + big, (1 << 20) + 4);
			break;
		case DELAY_TOO_LONG:
			sg_emit_dw(&b, DRM_SIMGPU_CMD_DELAY);
			sg_emit_dw(&b, 100001);
			break;
		case STORE_LOOP_COUNT_TOO_LARGE:
			sg_emit_store_loop(&b, dst, 1000001, 1);
			break;
		case STORE_LOOP_USECS_TOO_LARGE:
			sg_emit_store_loop(&b, dst, 1, 100001);
			break;
		}
		igt_assert_err(sg_run(&ctx, i, sg_batch_end(&b)), -EINVAL);
		/* The engine goes on with the next batch. */
		exec_control(i);
	}
}

static void batch_bad_opcode(int a)
{
	(void)a;
	check_bad_batch(BAD_OPCODE);
	check_bad_batch(BAD_OPCODE_HIGH);
}
static void batch_unaligned_store(int a) { (void)a; check_bad_batch(UNALIGNED_STORE); }
static void batch_unaligned_atomic(int a) { (void)a; check_bad_batch(UNALIGNED_ATOMIC); }
static void batch_unaligned_copy(int a)
{
	(void)a;
	check_bad_batch(UNALIGNED_COPY_SRC);
	check_bad_batch(UNALIGNED_COPY_DST);
}
static void batch_copy_size_not_dwords(int a) { (void)a; check_bad_batch(COPY_SIZE_NOT_DWORDS); }
static void batch_copy_too_large(int a) { (void)a; check_bad_batch(COPY_TOO_LARGE); }
static void batch_delay_too_long(int a) { (void)a; check_bad_batch(DELAY_TOO_LONG); }
static void batch_store_loop_count_too_large(int a) { (void)a; check_bad_batch(STORE_LOOP_COUNT_TOO_LARGE); }
static void batch_store_loop_usecs_too_large(int a) { (void)a; check_bad_batch(STORE_LOOP_USECS_TOO_LARGE); }

/* ---- ioctl numbers ------------------------------------------------------- */

static void ioctl_unknown_nr(int a)
{
	int i;

	(void)a;
	setup();
	for_each_gpu(&ctx, i) {
		struct drm_simgpu_query q = { 0 };
		unsigned long nr = DRM_IOWR(DRM_COMMAND_BASE + DRM_SIMGPU_WAIT_USER_FENCE + 1,
					    struct drm_simgpu_query);

		igt_assert(drmIoctl(fd_of(i), nr, &q) == -1);
		igt_assert_eq(errno, EINVAL);
	}
}

#define T(name, fn) { name, fn, 0, 0 }

static const struct igt_subtest tests[] = {
	T("query-nonzero-extensions", query_nonzero_extensions),
	T("query-unknown-flags", query_unknown_flags),
	T("query-nonzero-reserved", query_nonzero_reserved),
	T("vm-create-nonzero-extensions", vm_create_nonzero_extensions),
	T("vm-create-unknown-flags", vm_create_unknown_flags),
	T("vm-create-nonzero-reserved", vm_create_nonzero_reserved),
	T("vm-create-too-many", vm_create_too_many),
	T("vm-destroy-nonzero-extensions", vm_destroy_nonzero_extensions),
	T("vm-destroy-nonzero-pad", vm_destroy_nonzero_pad),
	T("vm-destroy-nonzero-reserved", vm_destroy_nonzero_reserved),
	T("vm-destroy-unknown-vm", vm_destroy_unknown_vm),
	T("vm-destroy-twice", vm_destroy_twice),
	T("vm-destroy-vm-of-other-file", vm_destroy_vm_of_other_file),
	T("vm-destroy-from-other-process", vm_destroy_from_other_process),
	T("bind-nonzero-extensions", bind_nonzero_extensions),
	T("bind-unknown-flags", bind_unknown_flags),
	T("bind-nonzero-reserved", bind_nonzero_reserved),
	T("bind-unaligned-addr", bind_unaligned_addr),
	T("bind-unaligned-range", bind_unaligned_range),
	T("bind-unaligned-userptr", bind_unaligned_userptr),
	T("bind-zero-range", bind_zero_range),
	T("bind-addr-wraps", bind_addr_wraps),
	T("bind-userptr-wraps", bind_userptr_wraps),
	T("bind-beyond-va-bits", bind_beyond_va_bits),
	T("bind-last-va-page", bind_last_va_page),
	T("bind-unknown-vm", bind_unknown_vm),
	T("bind-vm-of-other-file", bind_vm_of_other_file),
	T("bind-unmapped-userptr", bind_unmapped_userptr),
	T("bind-partly-unmapped-userptr", bind_partly_unmapped_userptr),
	T("bind-prot-none-userptr", bind_prot_none_userptr),
	T("bind-same-twice", bind_same_twice),
	T("bind-too-large", bind_too_large),
	T("bind-127tib", bind_127tib),
	T("bind-unmapped-256gib-allocates-nothing", bind_unmapped_256gib_allocates_nothing),
	T("bind-1tib-readonly", bind_1tib_readonly),
	T("bind-charged-to-memcg", bind_charged_to_memcg),
	{ "bind-overlap-start", bind_overlap, 0, 0 },
	{ "bind-overlap-end", bind_overlap, 1, 0 },
	{ "bind-overlap-inside", bind_overlap, 2, 0 },
	{ "bind-overlap-around", bind_overlap, 3, 0 },
	T("bind-adjacent", bind_adjacent),
	T("bind-from-other-process", bind_from_other_process),
	T("unbind-nonzero-extensions", unbind_nonzero_extensions),
	T("unbind-nonzero-pad", unbind_nonzero_pad),
	T("unbind-nonzero-reserved", unbind_nonzero_reserved),
	T("unbind-wrong-addr", unbind_wrong_addr),
	T("unbind-wrong-range", unbind_wrong_range),
	T("unbind-partial", unbind_partial),
	T("unbind-never-bound", unbind_never_bound),
	T("unbind-twice", unbind_twice),
	T("unbind-unknown-vm", unbind_unknown_vm),
	T("unbind-from-other-process", unbind_from_other_process),
	T("exec-nonzero-extensions", exec_nonzero_extensions),
	T("exec-unknown-flags", exec_unknown_flags),
	T("exec-nonzero-reserved", exec_nonzero_reserved),
	T("exec-unknown-vm", exec_unknown_vm),
	T("exec-vm-of-other-file", exec_vm_of_other_file),
	T("exec-unaligned-batch", exec_unaligned_batch),
	T("exec-bad-in-syncobj", exec_bad_in_syncobj),
	T("exec-bad-out-syncobj", exec_bad_out_syncobj),
	T("exec-in-syncobj-without-fence", exec_in_syncobj_without_fence),
	T("exec-unbound-batch", exec_unbound_batch),
	T("exec-from-other-process", exec_from_other_process),
	T("exec-fault-vm-out-syncobj", exec_fault_vm_out_syncobj),
	T("exec-dma-fence-vm-user-fence", exec_dma_fence_vm_user_fence),
	T("exec-unaligned-user-fence", exec_unaligned_user_fence),
	T("exec-user-fence-value-without-addr", exec_user_fence_value_without_addr),
	T("exec-user-fence-bad-addr", exec_user_fence_bad_addr),
	T("exec-job-flood", exec_job_flood),
	T("exec-flood-fair", exec_flood_fair),
	T("wait-ufence-nonzero-extensions", wait_ufence_nonzero_extensions),
	T("wait-ufence-unknown-flags", wait_ufence_unknown_flags),
	T("wait-ufence-nonzero-reserved", wait_ufence_nonzero_reserved),
	T("wait-ufence-unaligned-addr", wait_ufence_unaligned_addr),
	T("wait-ufence-negative-timeout", wait_ufence_negative_timeout),
	T("wait-ufence-bad-addr", wait_ufence_bad_addr),
	T("wait-ufence-unmapped-addr", wait_ufence_unmapped_addr),
	T("wait-ufence-timeout", wait_ufence_timeout),
	T("batch-bad-opcode", batch_bad_opcode),
	T("batch-unaligned-store", batch_unaligned_store),
	T("batch-unaligned-atomic", batch_unaligned_atomic),
	T("batch-unaligned-copy", batch_unaligned_copy),
	T("batch-copy-size-not-dwords", batch_copy_size_not_dwords),
	T("batch-copy-too-large", batch_copy_too_large),
	T("batch-delay-too-long", batch_delay_too_long),
	T("batch-store-loop-count-too-large", batch_store_loop_count_too_large),
	T("batch-store-loop-usecs-too-large", batch_store_loop_usecs_too_large),
	T("ioctl-unknown-nr", ioctl_unknown_nr),
};

IGT_MAIN("Invalid input to every simgpu ioctl and malformed batches, on every GPU.",
	 tests)
