// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 *
 * gsvm-bench: cost of one CPU-side invalidation of a buffer that N simulated
 * GPUs mirror, in gsvm's two-pass mode and in single-pass mode, measured side
 * by side in one run.
 *
 * Each sample: every GPU writes the buffer (so each holds live PTEs and TLB
 * entries for it), then the CPU calls mprotect(PROT_READ) on it, which runs
 * the mmu notifiers of all N GPUs; the sample is the duration of that call.
 * The modes are interleaved per block of samples so that drift of a noisy
 * machine hits both alike.
 *
 * -k selects the tables (comma separated, default "userptr"):
 *   userptr  the above, on userptr bindings of dma-fence mode VMs;
 *   svm      the same on SVM VMs: the GPUs fault the buffer in through
 *            drm_gpusvm (no binding), drm_gpusvm two-pass against
 *            single-pass (gsvm's two_pass parameter, read at VM creation);
 *   fault    fault service rate: N GPUs copy every page of a 4 MiB region
 *            they have not mirrored yet, in 4 KiB chunks (one VMA per page)
 *            and in 2 MiB chunks (transparent huge pages), next to the
 *            kernel's test_hmm mirror (/dev/hmm_dmirror*) reading the same
 *            region, one device per thread;
 *   collide  a second invalidation while a first one of the same drm_gpusvm
 *            notifier is between its passes, against one of another
 *            notifier (what a pool of finish objects would give);
 *   bare     the same mprotect of a buffer no GPU mirrors (row "0,bare"):
 *            the cost of the call itself; needs no device, so it can run
 *            before the modules are loaded.
 * Every table ends with the same CSV: gpus,mode,median_us,p90_us,
 * faults_per_s,pages_per_s (the last two only for the fault rows).
 *
 * The sample loop, the statistics and the printing are bench_core's, shared
 * with xe-bench; this file is the simgpu device layer and the tables only
 * simgpu can give (fault, collide).
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "simgpu_drm.h"
#include "simgpu.h"

#include "bench_core.h"

#ifdef HAVE_TEST_HMM
/* The kernel's own header (lib/ of the kernel source, see the Makefile). */
#include "test_hmm_uapi.h"
#endif

#define MAX_GPUS	64
#define BUF_SIZE	BENCH_BUF_SIZE
#define BATCH_SIZE	4096
#define BUF_VA		0x100000ull
#define BATCH_VA	0x200000ull
#define TWO_PASS_PARAM	"/sys/module/gsvm/parameters/two_pass"

struct gpu {
	int fd;
	uint32_t vm_id;
	uint32_t syncobj;
	unsigned int index;
};

static struct gpu gpus[MAX_GPUS];
static struct sg_gpu found[MAX_GPUS];
static unsigned int num_gpus;

/* Discovery is the IGT library's: GPUs ordered by index, faux bus included. */
static int open_gpus(void)
{
	int n = sg_open_all(found, MAX_GPUS), i;

	for (i = 0; i < n; i++) {
		gpus[i].fd = found[i].fd;
		gpus[i].index = found[i].index;
	}
	num_gpus = n > 0 ? n : 0;
	return 0;
}

static void bind(struct gpu *g, void *ptr, uint64_t va, uint64_t size)
{
	struct drm_simgpu_vm_bind b = {
		.vm_id = g->vm_id,
		.addr = va,
		.range = size,
		.userptr = (uintptr_t)ptr,
	};

	errno = -__sg_vm_bind(g->fd, &b);
	if (errno)
		bench_die("VM_BIND");
}

static void setup_gpu(struct gpu *g, void *buf, void *batch)
{
	struct drm_simgpu_vm_create c = { 0 };

	errno = -__sg_vm_create(g->fd, &c);
	if (errno)
		bench_die("VM_CREATE");
	g->vm_id = c.vm_id;
	if (drmSyncobjCreate(g->fd, 0, &g->syncobj))
		bench_die("drmSyncobjCreate");
	bind(g, batch, BATCH_VA, BATCH_SIZE);
	bind(g, buf, BUF_VA, BUF_SIZE);
}

static void teardown_gpu(struct gpu *g)
{
	struct drm_simgpu_vm_destroy d = { .vm_id = g->vm_id };

	errno = -__sg_vm_destroy(g->fd, &d);
	if (errno)
		bench_die("VM_DESTROY");
	drmSyncobjDestroy(g->fd, g->syncobj);
}

static void exec(struct gpu *g)
{
	struct drm_simgpu_exec e = {
		.vm_id = g->vm_id,
		.batch_addr = BATCH_VA,
		.out_syncobj = g->syncobj,
	};

	errno = -__sg_exec(g->fd, &e);
	if (errno)
		bench_die("EXEC");
}

static void wait_idle(struct gpu *g)
{
	if (drmSyncobjWait(g->fd, &g->syncobj, 1, INT64_MAX, 0, NULL))
		bench_die("drmSyncobjWait");
}

static void set_two_pass(bool on)
{
	int fd = open(TWO_PASS_PARAM, O_WRONLY);

	if (fd < 0 || write(fd, on ? "Y" : "N", 1) != 1)
		bench_die(TWO_PASS_PARAM);
	close(fd);
}

/* Set the simulated TLB invalidation latency of every GPU; 0 on success. */
static int set_latency(unsigned int us)
{
	char val[16];
	unsigned int i;

	snprintf(val, sizeof(val), "%u", us);
	for (i = 0; i < num_gpus; i++)
		if (sg_knob_write(&found[i], "tlb_inval_latency_us", val))
			return -1;
	return 0;
}

/* ---- SVM VMs: memory the GPUs fault in --------------------------------- */

struct svm_gpu {
	uint32_t vm_id;
	struct drm_simgpu_user_fence *ufence;
	uint64_t seq;
};

static struct svm_gpu svm[MAX_GPUS];

static void svm_setup(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct drm_simgpu_vm_create c = {
			.flags = DRM_SIMGPU_VM_CREATE_FAULT_MODE |
				 DRM_SIMGPU_VM_CREATE_SVM,
		};

		errno = -__sg_vm_create(gpus[i].fd, &c);
		if (errno)
			bench_die("VM_CREATE(SVM)");
		svm[i].vm_id = c.vm_id;
		if (!svm[i].ufence) {
			svm[i].ufence = aligned_alloc(64, 64);
			if (!svm[i].ufence)
				bench_die("aligned_alloc");
			memset(svm[i].ufence, 0, 64);
		}
	}
}

static void svm_teardown(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct drm_simgpu_vm_destroy d = { .vm_id = svm[i].vm_id };

		errno = -__sg_vm_destroy(gpus[i].fd, &d);
		if (errno)
			bench_die("VM_DESTROY");
	}
}

static void svm_exec(unsigned int i, const void *batch)
{
	struct drm_simgpu_exec e = {
		.vm_id = svm[i].vm_id,
		.batch_addr = (uintptr_t)batch,
		.user_fence_addr = (uintptr_t)svm[i].ufence,
		.user_fence_value = ++svm[i].seq,
	};

	errno = -__sg_exec(gpus[i].fd, &e);
	if (errno)
		bench_die("EXEC(SVM)");
}

static void svm_wait(unsigned int i)
{
	struct drm_simgpu_wait_user_fence w = {
		.addr = (uintptr_t)svm[i].ufence,
		.value = svm[i].seq,
		.timeout_ns = 60ll * 1000000000,
	};
	int err = __sg_wait_ufence(gpus[i].fd, &w);

	if (err || w.error) {
		errno = err ? -err : -w.error;
		bench_die("SVM batch");
	}
}

/* Store to the first and last page of @buf, at its CPU address. */
static void svm_build_touch(uint32_t *batch, const uint32_t *buf)
{
	uint64_t a = (uintptr_t)buf, b = a + BUF_SIZE - 4;
	unsigned int i = 0;

	batch[i++] = DRM_SIMGPU_CMD_STORE_DW;
	batch[i++] = (uint32_t)a;
	batch[i++] = (uint32_t)(a >> 32);
	batch[i++] = 1;
	batch[i++] = DRM_SIMGPU_CMD_STORE_DW;
	batch[i++] = (uint32_t)b;
	batch[i++] = (uint32_t)(b >> 32);
	batch[i++] = 2;
	batch[i++] = DRM_SIMGPU_CMD_END;
}

/* ---- the simgpu device layer of the invalidation tables ----------------- */

/*
 * userptr: bound memory of dma-fence mode VMs; the batch and the buffer
 * are bound at BATCH_VA and BUF_VA. svm: SVM VMs (fault mode), the GPUs
 * fault in the CPU addresses of the batch and the buffer.
 */
static struct {
	enum bench_mirror mirror;
	uint32_t *batch, *buf;
} sim;

static void *sim_prepare(enum bench_mirror mirror)
{
	unsigned int i;

	sim.mirror = mirror;
	sim.batch = mmap(NULL, BATCH_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sim.buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sim.batch == MAP_FAILED || sim.buf == MAP_FAILED)
		bench_die("mmap");
	memset(sim.buf, 0, BUF_SIZE);
	if (mirror == BENCH_MIRROR_SVM) {
		svm_build_touch(sim.batch, sim.buf);
		return sim.buf;
	}
	/* Touch the first and last page of the buffer. */
	i = 0;
	sim.batch[i++] = DRM_SIMGPU_CMD_STORE_DW;
	sim.batch[i++] = (uint32_t)BUF_VA;
	sim.batch[i++] = (uint32_t)(BUF_VA >> 32);
	sim.batch[i++] = 1;
	sim.batch[i++] = DRM_SIMGPU_CMD_STORE_DW;
	sim.batch[i++] = (uint32_t)(BUF_VA + BUF_SIZE - 4);
	sim.batch[i++] = (uint32_t)((BUF_VA + BUF_SIZE - 4) >> 32);
	sim.batch[i++] = 2;
	sim.batch[i++] = DRM_SIMGPU_CMD_END;
	return sim.buf;
}

static void sim_setup(unsigned int n)
{
	unsigned int i;

	if (sim.mirror == BENCH_MIRROR_SVM) {
		svm_setup(n);
		return;
	}
	/* A read-write binding needs writable memory. */
	if (mprotect(sim.buf, BUF_SIZE, PROT_READ | PROT_WRITE))
		bench_die("mprotect(RW)");
	for (i = 0; i < n; i++)
		setup_gpu(&gpus[i], sim.buf, sim.batch);
}

/* Mode 0 is two-pass, mode 1 single-pass (gsvm's two_pass parameter). */
static void sim_set_mode(unsigned int m)
{
	set_two_pass(m == 0);
}

static void sim_touch(unsigned int n)
{
	unsigned int i;

	if (sim.mirror == BENCH_MIRROR_SVM) {
		for (i = 0; i < n; i++)
			svm_exec(i, sim.batch);
		for (i = 0; i < n; i++)
			svm_wait(i);
		return;
	}
	for (i = 0; i < n; i++)
		exec(&gpus[i]);
	for (i = 0; i < n; i++)
		wait_idle(&gpus[i]);
}

static void sim_teardown(unsigned int n)
{
	unsigned int i;

	if (sim.mirror == BENCH_MIRROR_SVM) {
		svm_teardown(n);
		return;
	}
	for (i = 0; i < n; i++)
		teardown_gpu(&gpus[i]);
}

static void sim_finish(void)
{
	set_two_pass(true);
	munmap(sim.batch, BATCH_SIZE);
	munmap(sim.buf, BUF_SIZE);
}

static const struct bench_dev_ops sim_ops = {
	.prepare = sim_prepare,
	.setup = sim_setup,
	.set_mode = sim_set_mode,
	.touch = sim_touch,
	.teardown = sim_teardown,
	.finish = sim_finish,
};

static const char *const userptr_modes[] = { "two-pass", "single-pass" };
static const char *const svm_modes[] = { "svm-two-pass", "svm-single-pass" };

/* gsvm reads two_pass per invalidation for bindings, at VM creation for SVM. */
static const struct bench_inval inval_userptr = {
	.mirror = BENCH_MIRROR_USERPTR,
	.modes = userptr_modes,
	.num_modes = 2,
	.mode_at_setup = false,
};

static const struct bench_inval inval_svm = {
	.mirror = BENCH_MIRROR_SVM,
	.modes = svm_modes,
	.num_modes = 2,
	.mode_at_setup = true,
};

static void bench_inval(const struct bench_inval *inval, const struct bench_opts *o,
			long latency)
{
	struct bench_table *t = bench_run_inval(&sim_ops, inval, o);
	char title[160];

	if (inval->mirror == BENCH_MIRROR_SVM)
		snprintf(title, sizeof(title),
			 "CPU invalidation of SVM memory (mprotect of a %u KiB buffer N GPUs faulted in), %u samples each",
			 BUF_SIZE / 1024, o->samples);
	else
		snprintf(title, sizeof(title),
			 "CPU invalidation (mprotect of a %u KiB buffer mirrored by N GPUs), %u samples each",
			 BUF_SIZE / 1024, o->samples);
	bench_print_table(stdout, t, title, latency, 16, "vs first", BENCH_VS_FIRST_COUNT);
	bench_table_free(t);
}

/* ---- two invalidations of one notifier at once ---------------------------- */

struct dontneed_arg {
	void *addr;
	double us;
};

/* MADV_DONTNEED takes mmap_lock for read: two can run at once. */
static void *dontneed(void *p)
{
	struct dontneed_arg *a = p;
	double t0 = bench_now_us();

	if (madvise(a->addr, BUF_SIZE, MADV_DONTNEED))
		bench_die("madvise(MADV_DONTNEED)");
	a->us = bench_now_us() - t0;
	return NULL;
}

/* A BUF_SIZE buffer at @hint, which must be free. */
static uint32_t *collide_buf(uintptr_t hint)
{
	uint32_t *p = mmap((void *)hint, BUF_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		bench_die("mmap(collide)");
	memset(p, 0, BUF_SIZE);
	return p;
}

/*
 * The cost of the finish object being one per notifier: while a first
 * invalidation of buffer A is between its passes, a second thread
 * invalidates buffer B. With B in the same drm_gpusvm notifier as A (512
 * MiB), the second finds the notifier's finish object in use and does its
 * work synchronously, notifier by notifier; with B in another notifier it
 * pipelines like any invalidation, which is what a pool of finish objects
 * would give the first case. The sample is the duration of the second
 * MADV_DONTNEED, issued a sixth of the TLB latency after the first.
 */
static void bench_collide(const struct bench_opts *o, long latency)
{
	static const char *const modes[] = {
		"svm-2nd-same-notifier", "svm-2nd-other-notifier"
	};
	struct bench_table *t = bench_table_alloc(o->counts, o->num_counts, modes, 2,
						  o->samples);
	char title[160];
	uintptr_t base = 0x7e0000000000ul;	/* 512 MiB aligned */
	uint32_t *a, *b[2], *batch;
	unsigned int c, m, i, k;
	long lat_us = latency >= 0 ? latency : 40;

	a = collide_buf(base);
	b[0] = collide_buf(base + (128u << 10));
	b[1] = collide_buf(base + (1ul << 30));
	batch = mmap(NULL, BATCH_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (batch == MAP_FAILED)
		bench_die("mmap");
	k = 0;
	for (i = 0; i < 3; i++) {
		uint64_t addr = (uintptr_t)(i == 0 ? a : b[i - 1]);

		batch[k++] = DRM_SIMGPU_CMD_STORE_DW;
		batch[k++] = (uint32_t)addr;
		batch[k++] = (uint32_t)(addr >> 32);
		batch[k++] = 1;
	}
	batch[k++] = DRM_SIMGPU_CMD_END;

	set_two_pass(true);
	for (c = 0; c < o->num_counts; c++) {
		svm_setup(o->counts[c]);
		for (i = 0; i < o->samples; i++) {
			for (m = 0; m < 2; m++) {
				struct dontneed_arg first = { .addr = a };
				struct dontneed_arg second = { .addr = b[m] };
				pthread_t th;

				for (k = 0; k < o->counts[c]; k++)
					svm_exec(k, batch);
				for (k = 0; k < o->counts[c]; k++)
					svm_wait(k);
				if (pthread_create(&th, NULL, dontneed, &first))
					bench_die("pthread_create");
				usleep(lat_us / 6);
				dontneed(&second);
				pthread_join(th, NULL);
				*bench_slot(t, c, m, i) = second.us;
			}
		}
		svm_teardown(o->counts[c]);
	}
	munmap(batch, BATCH_SIZE);
	munmap(a, BUF_SIZE);
	munmap(b[0], BUF_SIZE);
	munmap(b[1], BUF_SIZE);

	snprintf(title, sizeof(title),
		 "A second invalidation while a first one of the same notifier is in flight (SVM, two-pass), %u samples each",
		 o->samples);
	bench_print_table(stdout, t, title, latency, 24, "vs other", BENCH_VS_LAST_MODE);
	bench_table_free(t);
}

/* ---- fault service rate --------------------------------------------------- */

#define FAULT_REGION	(4u << 20)
#define FAULT_PAGES	(FAULT_REGION / 4096)
#define FAULT_SAMPLES	5

/*
 * A fresh region the GPUs have not mirrored, populated by the CPU: either
 * one VMA per page (4 KiB chunks; neighbours differ in PROT_EXEC) or one
 * 2 MiB aligned VMA on transparent huge pages (2 MiB chunks).
 */
static char *fault_region(bool huge)
{
	char *area = mmap(NULL, FAULT_REGION + (2u << 20), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *r;
	unsigned int i;

	if (area == MAP_FAILED)
		bench_die("mmap(region)");
	r = (char *)(((uintptr_t)area + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1));
	if (r > area)
		munmap(area, r - area);
	munmap(r + FAULT_REGION, area + FAULT_REGION + (2u << 20) - (r + FAULT_REGION));
	if (huge && madvise(r, FAULT_REGION, MADV_HUGEPAGE))
		bench_die("madvise(MADV_HUGEPAGE)");
	if (!huge && madvise(r, FAULT_REGION, MADV_NOHUGEPAGE))
		bench_die("madvise(MADV_NOHUGEPAGE)");
	memset(r, 1, FAULT_REGION);
	if (!huge)
		for (i = 1; i < FAULT_PAGES; i += 2)
			if (mprotect(r + i * 4096ul, 4096, PROT_READ | PROT_WRITE | PROT_EXEC))
				bench_die("mprotect(split)");
	return r;
}

/* Batch: copy every page of @region into the one page at @dst. */
static uint32_t *fault_batch(const char *region, const uint32_t *dst, size_t *size)
{
	size_t dw = FAULT_PAGES * 6 + 1, i = 0;
	uint32_t *b;
	unsigned int p;

	*size = (dw * 4 + 4095) & ~4095ul;
	b = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		bench_die("mmap(batch)");
	for (p = 0; p < FAULT_PAGES; p++) {
		uint64_t src = (uintptr_t)region + p * 4096ull, d = (uintptr_t)dst;

		b[i++] = DRM_SIMGPU_CMD_COPY;
		b[i++] = (uint32_t)src;
		b[i++] = (uint32_t)(src >> 32);
		b[i++] = (uint32_t)d;
		b[i++] = (uint32_t)(d >> 32);
		b[i++] = 4096;
	}
	b[i++] = DRM_SIMGPU_CMD_END;
	return b;
}

static uint64_t svm_faults(void)
{
	uint64_t v = 0;

	if (__sg_svm_stat("faults", &v))
		return 0;
	return v;
}

/* One sample: N GPUs fault in and copy a fresh region; us, faults. */
static double fault_sample_svm(unsigned int n, bool huge, uint64_t *faults)
{
	char *region = fault_region(huge);
	uint32_t *dst[MAX_GPUS], *warm;
	uint32_t *batch[MAX_GPUS];
	size_t bsize[MAX_GPUS];
	double t0, t1;
	uint64_t f0;
	unsigned int i;

	/* Fault in each GPU's batch and destination page beforehand. */
	for (i = 0; i < n; i++) {
		uint64_t d, src;
		size_t off;
		unsigned int k = 0;

		dst[i] = aligned_alloc(4096, 4096);
		if (!dst[i])
			bench_die("aligned_alloc");
		memset(dst[i], 0, 4096);
		batch[i] = fault_batch(region, dst[i], &bsize[i]);
		warm = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (warm == MAP_FAILED)
			bench_die("mmap(warm-up)");
		d = (uintptr_t)dst[i];
		for (off = 0; off < bsize[i]; off += 4096) {
			src = (uintptr_t)batch[i] + off;
			warm[k++] = DRM_SIMGPU_CMD_COPY;
			warm[k++] = (uint32_t)src;
			warm[k++] = (uint32_t)(src >> 32);
			warm[k++] = (uint32_t)d;
			warm[k++] = (uint32_t)(d >> 32);
			warm[k++] = 4;
		}
		warm[k++] = DRM_SIMGPU_CMD_END;
		svm_exec(i, warm);
		svm_wait(i);
		munmap(warm, 4096);
	}

	f0 = svm_faults();
	t0 = bench_now_us();
	for (i = 0; i < n; i++)
		svm_exec(i, batch[i]);
	for (i = 0; i < n; i++)
		svm_wait(i);
	t1 = bench_now_us();
	*faults = svm_faults() - f0;

	for (i = 0; i < n; i++) {
		munmap(batch[i], bsize[i]);
		free(dst[i]);
	}
	munmap(region, FAULT_REGION);
	return t1 - t0;
}

#ifdef HAVE_TEST_HMM
struct hmm_arg {
	int fd;
	char *region;
	void *out;
	uint64_t faults;
	int err;
};

static void *hmm_read(void *p)
{
	struct hmm_arg *a = p;
	struct hmm_dmirror_cmd cmd = {
		.addr = (uintptr_t)a->region,
		.ptr = (uintptr_t)a->out,
		.npages = FAULT_PAGES,
	};

	a->err = ioctl(a->fd, HMM_DMIRROR_READ, &cmd) ? errno : 0;
	a->faults = cmd.faults;
	return NULL;
}

static int hmm_fds[MAX_GPUS];
static unsigned int hmm_ndev;

static void hmm_open(void)
{
	char path[32];
	unsigned int i;

	for (i = 0; i < MAX_GPUS; i++) {
		snprintf(path, sizeof(path), "/dev/hmm_dmirror%u", i);
		hmm_fds[hmm_ndev] = open(path, O_RDWR);
		if (hmm_fds[hmm_ndev] < 0)
			break;
		hmm_ndev++;
	}
}

/* N test_hmm mirrors (threads, one device each) read a fresh region. */
static double fault_sample_hmm(unsigned int n, bool huge, uint64_t *faults)
{
	char *region = fault_region(huge);
	struct hmm_arg args[MAX_GPUS];
	pthread_t th[MAX_GPUS];
	double t0, t1;
	unsigned int i;

	for (i = 0; i < n; i++) {
		args[i] = (struct hmm_arg){ .fd = hmm_fds[i], .region = region };
		args[i].out = malloc(FAULT_REGION);
		if (!args[i].out)
			bench_die("malloc");
		memset(args[i].out, 0, FAULT_REGION);
	}
	t0 = bench_now_us();
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, hmm_read, &args[i]))
			bench_die("pthread_create");
	*faults = 0;
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (args[i].err) {
			errno = args[i].err;
			bench_die("HMM_DMIRROR_READ");
		}
		*faults += args[i].faults;
	}
	t1 = bench_now_us();
	for (i = 0; i < n; i++)
		free(args[i].out);
	munmap(region, FAULT_REGION);
	return t1 - t0;
}
#endif

static void fault_row(const char *mode, unsigned int n, double *us,
		      const uint64_t *faults, unsigned int samples)
{
	double med, p90, f = 0;
	unsigned int i;

	for (i = 0; i < samples; i++)
		f += faults[i];
	f /= samples;
	med = bench_percentile(us, samples, 50);
	p90 = bench_percentile(us, samples, 90);
	printf("%6u  %-16s %12.1f %12.1f %14.0f %14.0f %10.0f\n", n, mode, med,
	       p90, f / med * 1e6, (double)n * FAULT_PAGES / med * 1e6, f);
	bench_add_row(n, mode, med, p90, f / med * 1e6, (double)n * FAULT_PAGES / med * 1e6);
}

static void bench_fault(const unsigned int *counts, unsigned int ncounts)
{
	unsigned int c, s, h, n;
	double us[FAULT_SAMPLES];
	uint64_t faults[FAULT_SAMPLES];
	char mode[24];

#ifdef HAVE_TEST_HMM
	hmm_open();
#endif
	printf("\nFault service: N GPUs copy every page of a %u MiB region they have not mirrored yet;\n"
	       "test_hmm reads the same region on N devices (%s); %u samples each\n\n",
	       FAULT_REGION >> 20,
#ifdef HAVE_TEST_HMM
	       hmm_ndev ? "/dev/hmm_dmirror*" : "test_hmm not loaded",
#else
	       "not built with test_hmm",
#endif
	       FAULT_SAMPLES);
	printf("%6s  %-16s %12s %12s %14s %14s %10s\n", "gpus", "mode", "median_us",
	       "p90_us", "faults_per_s", "pages_per_s", "faults");
	for (c = 0; c < ncounts; c++) {
		n = counts[c];
		for (h = 0; h < 2; h++) {
			svm_setup(n);
			for (s = 0; s < FAULT_SAMPLES; s++)
				us[s] = fault_sample_svm(n, h, &faults[s]);
			svm_teardown(n);
			snprintf(mode, sizeof(mode), "svm-fault-%s", h ? "2m" : "4k");
			fault_row(mode, n, us, faults, FAULT_SAMPLES);
#ifdef HAVE_TEST_HMM
			/* test_hmm has fewer devices than simgpu GPUs. */
			if (hmm_ndev && (n <= hmm_ndev || c == ncounts - 1)) {
				unsigned int nh = n < hmm_ndev ? n : hmm_ndev;

				for (s = 0; s < FAULT_SAMPLES; s++)
					us[s] = fault_sample_hmm(nh, h, &faults[s]);
				snprintf(mode, sizeof(mode), "hmm-dmirror-%s", h ? "2m" : "4k");
				fault_row(mode, nh, us, faults, FAULT_SAMPLES);
			}
#endif
		}
	}
}

/* ---- the bare mprotect, nothing bound ----------------------------------- */

/* The sample of the invalidation tables on a buffer nobody mirrors. */
static void bench_bare(const struct bench_opts *o)
{
	double *us = calloc(o->samples, sizeof(*us));
	unsigned int i, off;
	char *buf;

	buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!us || buf == MAP_FAILED)
		bench_die("bare: allocating the buffer");
	for (i = 0; i < o->samples; i++) {
		double t0;

		/* Present, writable PTEs, as after the GPUs' stores. */
		for (off = 0; off < BUF_SIZE; off += 4096)
			buf[off] = (char)i;
		t0 = bench_now_us();
		if (mprotect(buf, BUF_SIZE, PROT_READ))
			bench_die("bare: mprotect");
		us[i] = bench_now_us() - t0;
		if (mprotect(buf, BUF_SIZE, PROT_READ | PROT_WRITE))
			bench_die("bare: mprotect");
	}
	printf("\nmprotect(PROT_READ) of a %u KiB buffer no GPU mirrors, %u samples:"
	       " median %.1f us, p90 %.1f us\n", BUF_SIZE / 1024, o->samples,
	       bench_percentile(us, o->samples, 50), bench_percentile(us, o->samples, 90));
	bench_add_row(0, "bare", bench_percentile(us, o->samples, 50),
		      bench_percentile(us, o->samples, 90), -1, -1);
	munmap(buf, BUF_SIZE);
	free(us);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gsvm-bench [-k KIND,...] [-n SAMPLES] [-g N,N,...] [-l LATENCY_US]\n"
		"  -k  tables: userptr, svm, fault, collide, bare (default userptr)\n"
		"  -n  samples per (GPU count, mode), default 200\n"
		"  -l  set the simulated TLB invalidation latency first (debugfs)\n"
		"  -g  GPU counts, default 1,2,4,8 (each at most the GPUs present)\n");
	exit(2);
}

enum { K_USERPTR, K_SVM, K_FAULT, K_COLLIDE, K_BARE };

int main(int argc, char **argv)
{
	static const unsigned int default_counts[] = { 1, 2, 4, 8 };
	static const char *const kind_names[] = { "userptr", "svm", "fault", "collide", "bare" };
	struct bench_opts o;
	unsigned int kinds = 0, c;
	long latency = -1;
	int opt;

	bench_prog = "gsvm-bench";
	bench_opts_init(&o, default_counts, 4);
	while ((opt = getopt(argc, argv, "k:n:g:l:h")) != -1) {
		switch (opt) {
		case 'k':
			if (bench_parse_kinds(optarg, kind_names, ARRAY_SIZE(kind_names), &kinds))
				usage();
			break;
		case 'l':
			latency = strtol(optarg, NULL, 0);
			if (latency < 0 || latency > 1000000)
				usage();
			break;
		default:
			if (bench_parse_opt(&o, opt, optarg))
				usage();
		}
	}
	if (!kinds)
		kinds = 1u << K_USERPTR;
	if (kinds == 1u << K_BARE) {
		bench_bare(&o);
		bench_print_csv(stdout);
		return 0;
	}

	if (open_gpus() || !num_gpus) {
		fprintf(stderr, "gsvm-bench: no simgpu device\n");
		return 77;
	}
	for (c = 0; c < o.num_counts; c++) {
		if (o.counts[c] > num_gpus) {
			fprintf(stderr, "gsvm-bench: %u GPUs asked, %u present\n",
				o.counts[c], num_gpus);
			return 1;
		}
	}

	if (latency >= 0 && set_latency(latency)) {
		fprintf(stderr, "gsvm-bench: cannot set tlb_inval_latency_us\n");
		return 1;
	}

	if (kinds & (1u << K_USERPTR))
		bench_inval(&inval_userptr, &o, latency);
	if (kinds & (1u << K_SVM))
		bench_inval(&inval_svm, &o, latency);
	if (kinds & (1u << K_FAULT))
		bench_fault(o.counts, o.num_counts);
	if (kinds & (1u << K_COLLIDE))
		bench_collide(&o, latency);
	if (kinds & (1u << K_BARE))
		bench_bare(&o);

	bench_print_csv(stdout);
	return 0;
}
