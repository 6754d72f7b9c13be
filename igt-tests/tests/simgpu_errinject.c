// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * simgpu_errinject: error paths of gsvm and simgpu, reached through the
 * kernel's fail_function (CONFIG_FAIL_FUNCTION). gsvm and simgpu mark their
 * allocation and submission functions ALLOW_ERROR_INJECTION(); each subtest
 * makes one of them fail once, asserts the ioctl or the GPU fault ends in a
 * clear errno, that gsvm's live counters are back where they were (nothing
 * leaked, no binding left half made), and that the same operation then
 * works, with the data the GPU wrote checked. Leaks the counters cannot see
 * are found by the kmemleak scan after the suite (tools/run-tests.sh).
 *
 * Skips on a kernel without fail_function, or when it refuses the function
 * (not on the kernel's error-injection list).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core.h"
#include "simgpu.h"

#define FF "/sys/kernel/debug/fail_function"

static void inject_clear(void)
{
	/* Writing only spaces removes every injection point. */
	igt_file_write(FF "/inject", " \n");
}

/*
 * The next @times calls of @fn return @err (0 for a function returning a
 * pointer: NULL), whichever task makes them: GPU faults are serviced by
 * kernel workers. Quiet (verbose 0): the report's backtrace would read as a
 * splat in the kernel log.
 */
static void inject(const char *fn, long err, int times)
{
	char path[128], val[32];
	int err2;

	igt_require_f(!access(FF "/inject", W_OK), "no %s (CONFIG_FAIL_FUNCTION)\n", FF);
	igt_install_exit_handler(inject_clear);
	inject_clear();
	igt_assert_err(igt_file_write(FF "/verbose", "0"), 0);
	igt_assert_err(igt_file_write(FF "/task-filter", "N"), 0);
	igt_assert_err(igt_file_write(FF "/probability", "100"), 0);
	igt_assert_err(igt_file_write(FF "/interval", "1"), 0);
	igt_assert_err(igt_file_write(FF "/space", "0"), 0);
	/* Refused (-EINVAL) unless @fn is on the error-injection list. */
	err2 = igt_file_write(FF "/inject", fn);
	igt_require_f(!err2, "%s is not error-injectable in this kernel: %s\n", fn,
		      igt_errname(err2));
	if (err) {
		snprintf(path, sizeof(path), FF "/%s/retval", fn);
		snprintf(val, sizeof(val), "%#llx", (unsigned long long)(long long)err);
		igt_assert_err(igt_file_write(path, val), 0);
	}
	snprintf(val, sizeof(val), "%d", times);
	igt_assert_err(igt_file_write(FF "/times", val), 0);
}

/* Whether the injection armed by inject() has fired: "times" counted down. */
static void assert_fired(const char *fn)
{
	char buf[32];

	igt_assert_err(igt_file_read(FF "/times", buf, sizeof(buf)) < 0 ? -EIO : 0, 0);
	igt_assert_f(atoi(buf) == 0, "%s was never called: the error path was not reached\n",
		     fn);
}

/* A page of anonymous memory, zeroed. */
static uint32_t *page_alloc(struct sg_ctx *ctx)
{
	uint32_t *p = sg_mmap(ctx->page_size, ctx->page_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	memset(p, 0, ctx->page_size);
	return p;
}

/* The GPU writes @val at @gpu and the CPU sees it at @cpu. */
static void write_and_check(struct sg_ctx *ctx, uint64_t gpu, uint32_t *cpu, uint32_t val)
{
	igt_assert_err(sg_gpu_write32(ctx, 0, gpu, val), 0);
	igt_assert_f(sg_read32(cpu) == val,
		     "GPU %u wrote %#x through a binding, the CPU reads %#x\n",
		     ctx->gpu[0].index, val, sg_read32(cpu));
}

/*
 * Bind fails because gsvm cannot allocate the range (-ENOMEM), or because
 * mirroring the pages fails after the notifier was inserted (the injected
 * -ENOMEM from gsvm_range_validate(), with the page-table levels already
 * prepared): nothing stays behind, the address is not mapped on the GPU
 * (a write there faults), and the same bind then succeeds.
 */
static void bind_fails(const char *fn, long err, int mode)
{
	struct sg_live b;
	struct sg_ctx ctx;
	uint64_t gpu;
	uint32_t *p, cookie;

	sg_ctx_init(&ctx, mode);
	p = page_alloc(&ctx);
	gpu = sg_va_alloc(&ctx, ctx.page_size);
	sg_live_take(&b);
	inject(fn, err, 1);
	igt_assert_err(__sg_bind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu, ctx.page_size, p, 0),
		       -ENOMEM);
	assert_fired(fn);
	inject_clear();
	sg_live_assert(&b, "after the failed bind");
	cookie = sg_cookie();
	igt_assert_f(sg_gpu_write32(&ctx, 0, gpu, cookie) != 0,
		     "GPU %u wrote through a binding whose bind failed\n", ctx.gpu[0].index);
	igt_assert_f(sg_read32(p) == 0, "a failed bind let GPU %u write %#x to memory\n",
		     ctx.gpu[0].index, sg_read32(p));

	sg_bind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu, ctx.page_size, p, 0);
	write_and_check(&ctx, gpu, p, cookie);
	sg_unbind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu, ctx.page_size);
	sg_live_assert(&b, "after unbind");
	sg_ctx_fini(&ctx);
	munmap(p, ctx.page_size);
}

static void test_range_alloc_bind(int mode)
{
	bind_fails("gsvm_range_alloc", 0, mode);
}

static void test_range_validate_bind(int mode)
{
	bind_fails("gsvm_range_validate", -ENOMEM, mode);
}

/*
 * simgpu cannot allocate a page-table level: a bind far from everything
 * bound so far (it needs new levels) fails with -ENOMEM, leaves nothing,
 * then succeeds.
 */
static void test_pt_alloc_bind(int mode)
{
	struct sg_live b;
	struct sg_ctx ctx;
	uint64_t gpu;
	uint32_t *p;

	sg_ctx_init(&ctx, mode);
	p = page_alloc(&ctx);
	/* A 512 GiB region of its own: new level-2, -1 and -0 tables. */
	gpu = 1ull << 39 | 7ull << 30;
	igt_require_f(gpu + ctx.page_size <= ctx.va_limit, "GPU VA space under 1 TiB\n");
	sg_live_take(&b);
	inject("simgpu_pt_alloc_table", 0, 1);
	igt_assert_err(__sg_bind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu, ctx.page_size, p, 0),
		       -ENOMEM);
	assert_fired("simgpu_pt_alloc_table");
	inject_clear();
	sg_live_assert(&b, "after the failed bind");
	sg_bind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu, ctx.page_size, p, 0);
	write_and_check(&ctx, gpu, p, sg_cookie());
	sg_unbind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu, ctx.page_size);
	sg_ctx_fini(&ctx);
	munmap(p, ctx.page_size);
}

/*
 * VM creation cannot allocate the page-table root: -ENOMEM, no mirror left,
 * and the ASID it had taken is free again (the next VM gets created).
 */
static void test_pt_alloc_vm_create(int mode)
{
	struct sg_gpu g[SG_MAX_GPUS];
	struct drm_simgpu_vm_create c = {};
	struct sg_live b;
	int n, i;

	(void)mode;
	n = sg_open_all(g, SG_MAX_GPUS);
	igt_require_f(n > 0, "no simgpu device found\n");
	sg_live_take(&b);
	inject("simgpu_pt_alloc_table", 0, 1);
	igt_assert_err(__sg_vm_create(g[0].fd, &c), -ENOMEM);
	assert_fired("simgpu_pt_alloc_table");
	inject_clear();
	sg_live_assert(&b, "after the failed VM create");
	c = (struct drm_simgpu_vm_create){};
	igt_assert_err(__sg_vm_create(g[0].fd, &c), 0);
	sg_vm_destroy(g[0].fd, c.vm_id);
	sg_live_assert(&b, "after VM destroy");
	for (i = 0; i < n; i++)
		close(g[i].fd);
}

/*
 * The exec ioctl cannot allocate its job (-ENOMEM), or fails after its
 * syncobjs were looked up (the injected -ENOMEM of the revalidation before
 * queuing): nothing ran, the out syncobj got no fence, the batch counts
 * nothing against max_jobs_per_vm, and the next exec runs.
 */
static void exec_fails(const char *fn, long err, int mode)
{
	struct sg_ctx ctx;
	struct sg_batch bb;
	struct sg_job job;
	uint64_t gpu, batch;
	uint32_t *p, cookie = sg_cookie();
	int e;

	sg_ctx_init(&ctx, mode);
	p = page_alloc(&ctx);
	gpu = sg_va_alloc(&ctx, ctx.page_size);
	sg_bind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu, ctx.page_size, p, 0);
	sg_batch_start(&ctx, &bb);
	sg_emit_store(&bb, gpu, cookie);
	batch = sg_batch_end(&bb);

	/* A failed exec that kept its slot would make the next one -ENOSPC. */
	igt_assert_err(igt_file_set_tmp("/sys/module/simgpu/parameters/max_jobs_per_vm", "1"), 0);
	inject(fn, err, 1);
	if (ctx.fault_mode) {
		e = __sg_submit(ctx.gpu[0].fd, ctx.gpu[0].vm, batch, 0, &job);
	} else {
		struct drm_simgpu_exec x = {
			.vm_id = ctx.gpu[0].vm,
			.batch_addr = batch,
		};

		igt_assert_err(drmSyncobjCreate(ctx.gpu[0].fd, 0, &x.out_syncobj), 0);
		e = __sg_exec(ctx.gpu[0].fd, &x);
		/* No fence was installed: a wait without WAIT_FOR_SUBMIT is -EINVAL. */
		igt_assert_err(drmSyncobjWait(ctx.gpu[0].fd, &x.out_syncobj, 1, 0, 0, NULL),
			       -EINVAL);
		drmSyncobjDestroy(ctx.gpu[0].fd, x.out_syncobj);
	}
	assert_fired(fn);
	inject_clear();
	igt_assert_err(e, -ENOMEM);
	usleep(100 * 1000);
	igt_assert_f(sg_read32(p) == 0, "a batch whose exec failed wrote %#x\n", sg_read32(p));

	write_and_check(&ctx, gpu, p, cookie);
	igt_file_restore_all();
	sg_unbind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu, ctx.page_size);
	sg_ctx_fini(&ctx);
	munmap(p, ctx.page_size);
}

static void test_job_alloc_exec(int mode)
{
	exec_fails("simgpu_job_alloc", 0, mode);
}

static void test_revalidate_lock_exec(int mode)
{
	exec_fails("simgpu_engine_revalidate_lock", -ENOMEM, mode);
}

/*
 * Revalidation fails: a dma-fence mode VM whose binding was invalidated
 * (MADV_DONTNEED) cannot revalidate it before an exec, which fails with
 * -ENOMEM; a fault-mode VM's GPU fault on it cannot be serviced, and the
 * batch ends with an error. Either way the next attempt maps the new page,
 * and the GPU's write reaches it, not the page the CPU dropped.
 */
static void test_range_validate_revalidate(int mode)
{
	struct sg_batch bb;
	struct sg_job job;
	struct sg_ctx ctx;
	uint64_t gpu, failed0;
	uint32_t *p, cookie = sg_cookie();
	int e;

	sg_require_madvise();
	sg_ctx_init(&ctx, mode);
	/* Private: MADV_DONTNEED drops the page (a shared one would stay). */
	p = sg_mmap(ctx.page_size, ctx.page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 0, ctx.page_size);
	gpu = sg_va_alloc(&ctx, ctx.page_size);
	sg_bind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu, ctx.page_size, p, 0);
	write_and_check(&ctx, gpu, p, 1);
	igt_assert(!madvise(p, ctx.page_size, MADV_DONTNEED));
	igt_assert_eq_u32(sg_read32(p), 0);

	failed0 = sg_stat(&ctx.gpu[0], "gpu_faults_failed");
	sg_batch_start(&ctx, &bb);
	sg_emit_store(&bb, gpu, cookie);
	inject("gsvm_range_validate", -ENOMEM, 1);
	e = __sg_submit(ctx.gpu[0].fd, ctx.gpu[0].vm, sg_batch_end(&bb), 0, &job);
	if (!e) {
		e = sg_job_finish(&job);
		sg_job_put(&job);
	}
	assert_fired("gsvm_range_validate");
	inject_clear();
	if (ctx.fault_mode) {
		igt_assert_f(e != 0, "a GPU fault gsvm failed to service still let the batch "
			     "complete\n");
		igt_assert_eq_u64(sg_stat(&ctx.gpu[0], "gpu_faults_failed"), failed0 + 1);
	} else {
		igt_assert_err(e, -ENOMEM);
	}
	igt_info("failed attempt: %s\n", igt_errname(e));
	igt_assert_f(sg_read32(p) == 0, "GPU %u wrote %#x though its binding was not "
		     "revalidated\n", ctx.gpu[0].index, sg_read32(p));

	write_and_check(&ctx, gpu, p, cookie);
	sg_unbind(ctx.gpu[0].fd, ctx.gpu[0].vm, gpu, ctx.page_size);
	sg_ctx_fini(&ctx);
	munmap(p, ctx.page_size);
}

/*
 * SVM: the GPU fault on plain CPU memory cannot allocate the drm_gpusvm
 * notifier or range: the batch ends with an error, no SVM range or
 * notifier stays live, and the next access maps it and writes the memory.
 */
static void svm_fault_fails(const char *fn)
{
	struct sg_live b0, b;
	struct sg_ctx ctx;
	uint32_t *p, cookie = sg_cookie();
	int e;

	sg_live_take(&b0);
	sg_ctx_init(&ctx, SG_ONE | SG_SVM);
	/* 2 MiB aligned: a notifier and a range of its own. */
	p = sg_mmap(2u << 20, 2u << 20, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 0, 2u << 20);
	sg_live_take(&b);
	inject(fn, 0, 1);
	e = sg_gpu_write32(&ctx, 0, (uintptr_t)p, cookie);
	assert_fired(fn);
	inject_clear();
	igt_info("failed attempt: %s\n", igt_errname(e));
	igt_assert_f(e != 0, "an SVM fault gsvm could not service still let the batch "
		     "complete\n");
	igt_assert_f(sg_read32(p) == 0, "GPU %u wrote %#x though its SVM fault failed\n",
		     ctx.gpu[0].index, sg_read32(p));
	sg_live_assert(&b, "after the failed SVM fault");

	write_and_check(&ctx, (uintptr_t)p, p, cookie);
	sg_ctx_fini(&ctx);
	munmap(p, 2u << 20);
	sg_live_assert(&b0, "after the SVM VM was destroyed");
}

static void test_svm_range_alloc_fault(int mode)
{
	(void)mode;
	svm_fault_fails("gsvm_svm_range_alloc");
}

static void test_svm_notifier_alloc_fault(int mode)
{
	(void)mode;
	svm_fault_fails("gsvm_svm_notifier_alloc");
}

static const struct igt_subtest tests[] = {
	{ "range-alloc-bind", test_range_alloc_bind, SG_ONE | SG_DMA_FENCE, 0 },
	{ "range-validate-bind", test_range_validate_bind, SG_ONE | SG_DMA_FENCE, 0 },
	{ "range-validate-bind-fault-mode", test_range_validate_bind, SG_ONE, 0 },
	{ "range-validate-exec", test_range_validate_revalidate, SG_ONE | SG_DMA_FENCE, 0 },
	{ "range-validate-gpu-fault", test_range_validate_revalidate, SG_ONE, 0 },
	{ "pt-alloc-bind", test_pt_alloc_bind, SG_ONE | SG_DMA_FENCE, 0 },
	{ "pt-alloc-vm-create", test_pt_alloc_vm_create, 0, 0 },
	{ "job-alloc-exec", test_job_alloc_exec, SG_ONE | SG_DMA_FENCE, 0 },
	{ "job-alloc-exec-fault-mode", test_job_alloc_exec, SG_ONE, 0 },
	{ "revalidate-lock-exec", test_revalidate_lock_exec, SG_ONE | SG_DMA_FENCE, 0 },
	{ "svm-range-alloc-fault", test_svm_range_alloc_fault, 0, 0 },
	{ "svm-notifier-alloc-fault", test_svm_notifier_alloc_fault, 0, 0 },
};

IGT_MAIN("Error paths of gsvm and simgpu through fail_function: clear errnos, "
	 "nothing leaked, the next attempt works.", tests)
