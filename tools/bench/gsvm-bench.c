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
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "simgpu_drm.h"
#include "simgpu.h"

#define MAX_GPUS	64
#define BUF_SIZE	(64 * 1024)
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

static void die(const char *what)
{
	fprintf(stderr, "gsvm-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

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
		die("VM_BIND");
}

static void setup_gpu(struct gpu *g, void *buf, void *batch)
{
	struct drm_simgpu_vm_create c = { 0 };

	errno = -__sg_vm_create(g->fd, &c);
	if (errno)
		die("VM_CREATE");
	g->vm_id = c.vm_id;
	if (drmSyncobjCreate(g->fd, 0, &g->syncobj))
		die("drmSyncobjCreate");
	bind(g, batch, BATCH_VA, BATCH_SIZE);
	bind(g, buf, BUF_VA, BUF_SIZE);
}

static void teardown_gpu(struct gpu *g)
{
	struct drm_simgpu_vm_destroy d = { .vm_id = g->vm_id };

	errno = -__sg_vm_destroy(g->fd, &d);
	if (errno)
		die("VM_DESTROY");
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
		die("EXEC");
}

static void wait_idle(struct gpu *g)
{
	if (drmSyncobjWait(g->fd, &g->syncobj, 1, INT64_MAX, 0, NULL))
		die("drmSyncobjWait");
}

static void set_two_pass(bool on)
{
	int fd = open(TWO_PASS_PARAM, O_WRONLY);

	if (fd < 0 || write(fd, on ? "Y" : "N", 1) != 1)
		die(TWO_PASS_PARAM);
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

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One sample: all n GPUs touch the buffer, then the CPU revokes write. */
static double sample(void *buf, unsigned int n)
{
	double t0, t1;
	unsigned int i;

	if (mprotect(buf, BUF_SIZE, PROT_READ | PROT_WRITE))
		die("mprotect(RW)");
	for (i = 0; i < n; i++)
		exec(&gpus[i]);
	for (i = 0; i < n; i++)
		wait_idle(&gpus[i]);

	t0 = now_us();
	if (mprotect(buf, BUF_SIZE, PROT_READ))
		die("mprotect(R)");
	t1 = now_us();
	return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile(double *v, unsigned int n, unsigned int pct)
{
	unsigned int idx = (n * pct + 99) / 100;

	qsort(v, n, sizeof(*v), cmp_double);
	return v[idx ? idx - 1 : 0];
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gsvm-bench [-n SAMPLES] [-g N,N,...] [-l LATENCY_US]\n"
		"  -n  samples per (GPU count, mode), default 200\n"
		"  -l  set the simulated TLB invalidation latency first (debugfs)\n"
		"  -g  GPU counts, default 1,2,4,8 (each at most the GPUs present)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int counts[16] = { 1, 2, 4, 8 }, ncounts = 4;
	unsigned int samples = 200, block = 10;
	long latency = -1;
	static double res[16][2][100000];
	const char *mode_name[2] = { "two-pass", "single-pass" };
	uint32_t *batch, *buf;
	unsigned int c, m, i, done;
	int opt;

	while ((opt = getopt(argc, argv, "n:g:l:h")) != -1) {
		switch (opt) {
		case 'l':
			latency = strtol(optarg, NULL, 0);
			if (latency < 0 || latency > 1000000)
				usage();
			break;
		case 'n':
			samples = strtoul(optarg, NULL, 0);
			if (!samples || samples > 100000)
				usage();
			break;
		case 'g': {
			char *s = optarg, *end;

			ncounts = 0;
			while (*s && ncounts < 16) {
				counts[ncounts++] = strtoul(s, &end, 0);
				if (end == s || !counts[ncounts - 1])
					usage();
				s = *end == ',' ? end + 1 : end;
			}
			break;
		}
		default:
			usage();
		}
	}

	if (open_gpus() || !num_gpus) {
		fprintf(stderr, "gsvm-bench: no simgpu device\n");
		return 77;
	}
	for (c = 0; c < ncounts; c++) {
		if (counts[c] > num_gpus) {
			fprintf(stderr, "gsvm-bench: %u GPUs asked, %u present\n",
				counts[c], num_gpus);
			return 1;
		}
	}

	if (latency >= 0 && set_latency(latency)) {
		fprintf(stderr, "gsvm-bench: cannot set tlb_inval_latency_us\n");
		return 1;
	}

	batch = mmap(NULL, BATCH_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (batch == MAP_FAILED || buf == MAP_FAILED)
		die("mmap");
	memset(buf, 0, BUF_SIZE);
	/* Touch the first and last page of the buffer. */
	i = 0;
	batch[i++] = DRM_SIMGPU_CMD_STORE_DW;
	batch[i++] = (uint32_t)BUF_VA;
	batch[i++] = (uint32_t)(BUF_VA >> 32);
	batch[i++] = 1;
	batch[i++] = DRM_SIMGPU_CMD_STORE_DW;
	batch[i++] = (uint32_t)(BUF_VA + BUF_SIZE - 4);
	batch[i++] = (uint32_t)((BUF_VA + BUF_SIZE - 4) >> 32);
	batch[i++] = 2;
	batch[i++] = DRM_SIMGPU_CMD_END;

	/*
	 * Interleave: blocks of samples, alternating mode and GPU count. Only
	 * the N GPUs of a block mirror the buffer, so that the invalidation
	 * runs exactly N notifiers.
	 */
	for (done = 0; done < samples; done += block) {
		unsigned int todo = samples - done < block ? samples - done : block;

		for (c = 0; c < ncounts; c++) {
			/* A read-write binding needs writable memory. */
			if (mprotect(buf, BUF_SIZE, PROT_READ | PROT_WRITE))
				die("mprotect(RW)");
			for (i = 0; i < counts[c]; i++)
				setup_gpu(&gpus[i], buf, batch);
			for (m = 0; m < 2; m++) {
				set_two_pass(m == 0);
				for (i = 0; i < todo; i++)
					res[c][m][done + i] = sample(buf, counts[c]);
			}
			for (i = 0; i < counts[c]; i++)
				teardown_gpu(&gpus[i]);
		}
	}
	set_two_pass(true);

	printf("\nCPU invalidation (mprotect of a %u KiB buffer mirrored by N GPUs), %u samples each",
	       BUF_SIZE / 1024, samples);
	if (latency >= 0)
		printf(", TLB invalidation latency %ld us", latency);
	printf("\n\n");
	printf("%6s  %-12s %12s %12s %14s\n", "gpus", "mode", "median_us", "p90_us",
	       "vs first");
	{
		double med[16][2], p90[16][2];

		for (c = 0; c < ncounts; c++) {
			for (m = 0; m < 2; m++) {
				med[c][m] = percentile(res[c][m], samples, 50);
				p90[c][m] = percentile(res[c][m], samples, 90);
			}
		}
		for (c = 0; c < ncounts; c++)
			for (m = 0; m < 2; m++)
				printf("%6u  %-12s %12.1f %12.1f %13.2fx\n", counts[c],
				       mode_name[m], med[c][m], p90[c][m],
				       med[c][m] / med[0][m]);
		printf("\ngpus,mode,median_us,p90_us\n");
		for (c = 0; c < ncounts; c++)
			for (m = 0; m < 2; m++)
				printf("%u,%s,%.1f,%.1f\n", counts[c], mode_name[m],
				       med[c][m], p90[c][m]);
	}
	return 0;
}
