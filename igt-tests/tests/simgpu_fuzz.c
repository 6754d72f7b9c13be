// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * simgpu_fuzz: a seeded fuzzer of every simgpu ioctl. Each call gets random
 * and boundary values (zero, one, all ones, page +- 1, the VA limits, the
 * size caps, misaligned values), or with some probability a plausible one
 * (a live VM id, a bound address, memory of the process), so that calls go
 * past the argument checks into binding, execution and waiting; unknown
 * ioctl numbers and wrong argument sizes are tried too. Batches are random
 * command streams in bound memory. Between calls the fuzzer munmaps,
 * remaps and mprotects its memory and closes and reopens files with live
 * VMs, so invalidations and teardown race with what is queued.
 *
 * Every result must be one the uAPI documents for that ioctl; anything else
 * fails the subtest, naming the call and its arguments. At the end, with
 * every file closed, gsvm's live counters return to where they were, the
 * machine's available memory has not shrunk by more than 64 MiB, and a
 * batch of a fresh file runs and writes its data: other users are
 * unaffected.
 *
 * GSVM_SEED (default: the time) seeds it, GSVM_FUZZ_CALLS (default 100000)
 * sets the number of calls; both are printed, so a failure can be replayed.
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core.h"
#include "simgpu.h"

#define ARENA_SIZE	(16u << 20)
#define NFDS		6
#define MAX_VMS		16
#define MAX_BINDS	64

enum { Q, VC, VD, VB, VU, EX, WU, BAD, SIZE, NCALLS };
static const char *const call_name[NCALLS] = {
	"QUERY", "VM_CREATE", "VM_DESTROY", "VM_BIND", "VM_UNBIND", "EXEC",
	"WAIT_USER_FENCE", "unknown ioctl", "wrong size",
};

/* The errnos the uAPI documents for each ioctl (0 is success). */
static const int allowed[NCALLS][16] = {
	[Q] = { EINVAL },
	[VC] = { EINVAL, ENOSPC, ENOMEM },
	[VD] = { EINVAL, ENOENT, EPERM },
	[VB] = { EINVAL, ENOENT, EPERM, EFAULT, EEXIST, ENOSPC, EBUSY, E2BIG, ENOMEM },
	[VU] = { EINVAL, ENOENT, EPERM },
	[EX] = { EINVAL, EFAULT, ENOENT, EPERM, EBUSY, ENOSPC, ENOMEM },
	[WU] = { EINVAL, EFAULT, ETIME, EINTR },
	[BAD] = { EINVAL },
	/* A known ioctl whose size is wrong: any of their errnos. */
	[SIZE] = { EINVAL, ENOENT, EPERM, EFAULT, EEXIST, ENOSPC, EBUSY, E2BIG, ENOMEM,
		   ETIME, EINTR },
};

struct bindrec {
	uint32_t vm;
	uint64_t addr, range;
};

struct fstate {
	int fd;
	unsigned int gpu;
	uint32_t vms[MAX_VMS];
	int nvms;
	struct bindrec binds[MAX_BINDS];
	int nbinds;
	uint32_t syncobjs[4];
};

static struct {
	uint64_t seed;
	uint64_t rng;
	struct sg_gpu gpus[SG_MAX_GPUS];
	int ngpus;
	struct fstate f[NFDS];
	char *arena;
	uint64_t sandbox, sandbox_size;
	uint64_t page;
	uint64_t va_limit;
	uint64_t counts[NCALLS][2];	/* calls, successes */
	uint64_t errnos[NCALLS][160];
	uint64_t events;
} z;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t x = (z.rng += 0x9e3779b97f4a7c15ull);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

/* A boundary value, or random bits of a random width. */
static uint64_t val64(void)
{
	const uint64_t b[] = {
		0, 1, 2, 3, 4, 7, 8, z.page - 1, z.page, z.page + 1, 2 * z.page,
		0xffffffffull, 0x100000000ull, 0x7fffffffull, 0x80000000ull,
		1ull << 47, (1ull << 47) - z.page, 1ull << 48, (1ull << 48) - z.page,
		(1ull << 48) + z.page, 4096ull << 20, (4096ull << 20) + z.page,
		127ull << 40, 1ull << 40, INT64_MAX, (uint64_t)INT64_MIN, UINT64_MAX,
		UINT64_MAX - z.page + 1, UINT64_MAX - 7,
	};

	if (chance(60))
		return b[below(sizeof(b) / sizeof(b[0]))];
	return rnd() >> below(64);
}

/*
 * An address: a boundary value, or one in the fuzzer's sandbox (the arena
 * and the PROT_NONE reservation around it), never elsewhere: a binding or
 * an SVM VM's batch may make the GPUs write wherever the process can, and
 * the fuzzer's own code and data must stay out of reach.
 */
static uint64_t addr64(void)
{
	uint64_t v = val64();

	if (chance(40))
		return z.sandbox + below(z.sandbox_size) + (chance(80) ? 0 : below(8));
	/* Boundary values and kernel addresses are harmless; others are not. */
	if (v < 0x10000 || v >= (1ull << 47))
		return v;
	return z.sandbox + v % z.sandbox_size;
}

static uint32_t val32(void)
{
	return chance(70) ? (uint32_t)val64() : (uint32_t)rnd();
}

/* Zero mostly; a fuzzed value sometimes (flags, padding, reserved fields). */
static uint64_t mostly0(void)
{
	return chance(90) ? 0 : val64();
}

static struct fstate *pick_f(void)
{
	return &z.f[below(NFDS)];
}

static uint32_t pick_vm(struct fstate *f)
{
	if (f->nvms && chance(85))
		return f->vms[below(f->nvms)];
	return chance(50) ? (uint32_t)below(80) : val32();
}

/* A page-aligned address in the arena (mapped, or not any more). */
static uint64_t arena_addr(void)
{
	return (uintptr_t)z.arena + below(ARENA_SIZE / z.page) * z.page;
}

static uint64_t pick_gpu_addr(struct fstate *f)
{
	if (f->nbinds && chance(60)) {
		struct bindrec *b = &f->binds[below(f->nbinds)];

		return b->addr + (chance(50) ? below(b->range / 4) * 4 : 0);
	}
	if (chance(40))
		return (1ull << 40) + below(1024) * z.page;
	return addr64();
}

static uint64_t pick_size(void)
{
	if (chance(70))
		return (1 + below(chance(80) ? 16 : 1024)) * z.page;
	return val64();
}

static void sigalrm(int sig)
{
	(void)sig;
}

static uint64_t random_batch(struct fstate *f, uint64_t *gpu);
static void one_event(void);

/* The call being made, for the crash report. */
static char cur_what[320];
static uint64_t cur_index;

/*
 * A crash of the fuzzer itself (the kernel or a GPU wrote where it should
 * not, or a fuzzer bug): say where, and what the last call was.
 */
static void sigsegv(int sig, siginfo_t *si, void *ucp)
{
	ucontext_t *uc = ucp;
	char buf[512];
	int n;

	n = snprintf(buf, sizeof(buf), "fuzzer crashed (signal %d at %p, ip %#llx, "
		     "random_batch %p one_event %p) at call %llu, seed %#llx, after: %s\n", sig,
		     si->si_addr, (unsigned long long)uc->uc_mcontext.gregs[REG_RIP],
		     (void *)random_batch, (void *)one_event, (unsigned long long)cur_index,
		     (unsigned long long)z.seed, cur_what);
	if (n > 0 && write(2, buf, n) < 0)
		_exit(99);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Arms a one-shot 30 ms timer: a blocking call ends with -EINTR. */
static void arm_timer(bool on)
{
	struct itimerval it = { .it_value = { .tv_usec = on ? 30000 : 0 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static int raw_ioctl(int fd, unsigned long req, void *arg)
{
	/* Not drmIoctl(): it retries EINTR and EAGAIN. */
	return ioctl(fd, req, arg) ? -errno : 0;
}

static void record(int call, int err, const char *what)
{
	int e = -err, i;

	z.counts[call][0]++;
	if (!err) {
		z.counts[call][1]++;
		return;
	}
	if (e > 0 && e < 160)
		z.errnos[call][e]++;
	for (i = 0; i < 16 && allowed[call][i]; i++)
		if (allowed[call][i] == e)
			return;
	igt_assert_f(false, "seed %#" PRIx64 ", call %" PRIu64 ": %s returned %s, which its "
		     "documentation does not list: %s\n", z.seed,
		     z.counts[call][0], call_name[call], igt_errname(err), what);
}

static void fopen_one(struct fstate *f, unsigned int gpu)
{
	struct sg_gpu g;
	int i;

	igt_assert_err(sg_open_node(z.gpus[gpu].path, &g), 0);
	memset(f, 0, sizeof(*f));
	f->fd = g.fd;
	f->gpu = gpu;
	for (i = 0; i < 4; i++)
		igt_assert_err(drmSyncobjCreate(f->fd, 0, &f->syncobjs[i]), 0);
}

static void fclose_one(struct fstate *f)
{
	close(f->fd);
	f->fd = -1;
}

/* A random command stream at the start of an arena page; returns it. */
static uint64_t random_batch(struct fstate *f, uint64_t *gpu)
{
	struct bindrec *b;
	uint32_t *cs;
	unsigned int n, i, max;

	if (!f->nbinds)
		return 0;
	b = &f->binds[below(f->nbinds)];
	*gpu = b->addr;
	/* The binding's CPU memory: the arena page at the same offset. */
	cs = (uint32_t *)(z.arena + ((b->addr - (1ull << 40)) % ARENA_SIZE));
	max = z.page / 4;
	n = below(24);
	/* Writable again, whatever an event made of the page (or 0: gone). */
	if (mprotect(cs, z.page, PROT_READ | PROT_WRITE))
		return 0;
	for (i = 0; i + 6 < max && n--; ) {
		uint32_t op = chance(90) ? below(6) : val32();
		uint64_t a = chance(60) ? pick_gpu_addr(f) : addr64();

		cs[i++] = op;
		switch (op) {
		case 4:		/* DELAY: short, mostly */
			cs[i++] = chance(95) ? below(200) : val32();
			break;
		case 5:		/* STORE_LOOP */
			cs[i++] = a;
			cs[i++] = a >> 32;
			cs[i++] = chance(95) ? below(8) : val32();
			cs[i++] = chance(95) ? below(100) : val32();
			break;
		case 2:		/* COPY */
			cs[i++] = a;
			cs[i++] = a >> 32;
			a = chance(60) ? pick_gpu_addr(f) : addr64();
			cs[i++] = a;
			cs[i++] = a >> 32;
			cs[i++] = chance(90) ? below(64) * 4 : val32();
			break;
		default:
			cs[i++] = a;
			cs[i++] = a >> 32;
			cs[i++] = val32();
			break;
		}
	}
	if (i < max && chance(95))
		cs[i] = 0;
	return 1;
}

static void one_call(void)
{
	struct fstate *f = pick_f();
	char what[256];
	int call = below(100), err;

	/* Weights: most calls bind, execute, and unbind. */
	call = call < 5 ? Q : call < 15 ? VC : call < 22 ? VD : call < 47 ? VB :
	       call < 60 ? VU : call < 85 ? EX : call < 93 ? WU : call < 96 ? BAD : SIZE;
	switch (call) {
	case Q: {
		struct drm_simgpu_query a = {
			.extensions = mostly0(), .flags = mostly0(),
			.reserved = { mostly0(), mostly0() },
		};

		err = raw_ioctl(f->fd, DRM_IOCTL_SIMGPU_QUERY, &a);
		snprintf(what, sizeof(what), "flags %#x", a.flags);
		break;
	}
	case VC: {
		struct drm_simgpu_vm_create a = {
			.extensions = mostly0(),
			.flags = chance(80) ? below(4) : val32(),
			.reserved = { mostly0(), mostly0() },
		};

		err = raw_ioctl(f->fd, DRM_IOCTL_SIMGPU_VM_CREATE, &a);
		snprintf(what, sizeof(what), "flags %#x", a.flags);
		if (!err && f->nvms < MAX_VMS)
			f->vms[f->nvms++] = a.vm_id;
		break;
	}
	case VD: {
		struct drm_simgpu_vm_destroy a = {
			.extensions = mostly0(), .vm_id = pick_vm(f), .pad = mostly0(),
			.reserved = { mostly0(), mostly0() },
		};
		int i;

		err = raw_ioctl(f->fd, DRM_IOCTL_SIMGPU_VM_DESTROY, &a);
		snprintf(what, sizeof(what), "vm %u", a.vm_id);
		if (!err) {
			for (i = 0; i < f->nvms; i++)
				if (f->vms[i] == a.vm_id)
					f->vms[i--] = f->vms[--f->nvms];
			for (i = 0; i < f->nbinds; i++)
				if (f->binds[i].vm == a.vm_id)
					f->binds[i--] = f->binds[--f->nbinds];
		}
		break;
	}
	case VB: {
		uint64_t size = pick_size();
		struct drm_simgpu_vm_bind a = {
			.extensions = mostly0(), .vm_id = pick_vm(f),
			.flags = chance(85) ? below(2) : val32(),
			.range = size,
			.reserved = { mostly0(), mostly0() },
		};
		uint64_t off = below(ARENA_SIZE / z.page) * z.page;

		if (chance(80)) {
			/* Arena memory, at the GPU address of its offset. */
			if (size <= ARENA_SIZE && off + size > ARENA_SIZE)
				off = ARENA_SIZE - size;
			a.userptr = (uintptr_t)z.arena + off;
			a.addr = (1ull << 40) + off;
		} else {
			a.userptr = chance(50) ? arena_addr() + below(2) : addr64();
			a.addr = chance(50) ? pick_gpu_addr(f) : val64();
		}
		err = raw_ioctl(f->fd, DRM_IOCTL_SIMGPU_VM_BIND, &a);
		snprintf(what, sizeof(what), "vm %u flags %#x addr %#llx range %#llx userptr %#llx",
			 a.vm_id, a.flags, (unsigned long long)a.addr,
			 (unsigned long long)a.range, (unsigned long long)a.userptr);
		if (!err && f->nbinds < MAX_BINDS)
			f->binds[f->nbinds++] = (struct bindrec){ a.vm_id, a.addr, a.range };
		break;
	}
	case VU: {
		struct drm_simgpu_vm_unbind a = {
			.extensions = mostly0(), .vm_id = pick_vm(f), .pad = mostly0(),
			.reserved = { mostly0(), mostly0() },
		};
		int i = -1;

		if (f->nbinds && chance(70)) {
			i = below(f->nbinds);
			a.vm_id = f->binds[i].vm;
			a.addr = f->binds[i].addr;
			a.range = f->binds[i].range;
		} else {
			a.addr = pick_gpu_addr(f);
			a.range = pick_size();
		}
		err = raw_ioctl(f->fd, DRM_IOCTL_SIMGPU_VM_UNBIND, &a);
		snprintf(what, sizeof(what), "vm %u addr %#llx range %#llx", a.vm_id,
			 (unsigned long long)a.addr, (unsigned long long)a.range);
		if (!err && i >= 0)
			f->binds[i] = f->binds[--f->nbinds];
		break;
	}
	case EX: {
		static volatile struct drm_simgpu_user_fence *uf;
		struct drm_simgpu_exec a = {
			.extensions = mostly0(), .flags = mostly0(), .vm_id = pick_vm(f),
			.reserved = { mostly0(), mostly0() },
		};
		uint64_t gpu = 0;

		if (!uf)
			uf = sg_ufence_alloc();
		if (!(chance(70) && random_batch(f, &gpu)))
			gpu = pick_gpu_addr(f);
		a.batch_addr = gpu;
		if (chance(50)) {
			a.user_fence_addr = chance(80) ? (uintptr_t)uf : addr64();
			a.user_fence_value = chance(80) ? 1 + below(1000) : val64();
		}
		if (chance(40))
			a.out_syncobj = chance(80) ? f->syncobjs[below(4)] : val32();
		if (chance(20))
			a.in_syncobj = chance(80) ? f->syncobjs[below(4)] : val32();
		err = raw_ioctl(f->fd, DRM_IOCTL_SIMGPU_EXEC, &a);
		snprintf(what, sizeof(what), "vm %u batch %#llx ufence %#llx in %u out %u",
			 a.vm_id, (unsigned long long)a.batch_addr,
			 (unsigned long long)a.user_fence_addr, a.in_syncobj, a.out_syncobj);
		break;
	}
	case WU: {
		static volatile struct drm_simgpu_user_fence *uf;
		struct drm_simgpu_wait_user_fence a = {
			.extensions = mostly0(), .flags = mostly0(),
			.reserved = { mostly0(), mostly0() },
		};
		const int64_t t[] = { 0, 1, 1000, 1000000, 20000000, -1, INT64_MAX, INT64_MIN };

		if (!uf)
			uf = sg_ufence_alloc();
		a.addr = chance(70) ? (uintptr_t)uf : addr64();
		a.value = chance(70) ? below(3) : val64();
		a.timeout_ns = chance(80) ? t[below(8)] : (int64_t)val64();
		arm_timer(true);
		err = raw_ioctl(f->fd, DRM_IOCTL_SIMGPU_WAIT_USER_FENCE, &a);
		arm_timer(false);
		snprintf(what, sizeof(what), "addr %#llx value %#llx timeout %lld",
			 (unsigned long long)a.addr, (unsigned long long)a.value,
			 (long long)a.timeout_ns);
		break;
	}
	case BAD: {
		/* Beyond simgpu's table: -EINVAL from the DRM core. */
		char buf[256] = {};
		unsigned int nr = 0x47 + below(0xa0 - 0x47);
		unsigned long req = _IOC(below(4), DRM_IOCTL_BASE, nr, below(sizeof(buf)));

		err = raw_ioctl(f->fd, req, buf);
		snprintf(what, sizeof(what), "request %#lx", req);
		break;
	}
	default: {
		/*
		 * A known one with any direction and size: the DRM core copies
		 * what fits and zeroes the rest.
		 */
		uint64_t buf[32] = {};
		unsigned int nr = 0x40 + below(7), k;
		unsigned long req = _IOC(below(4), DRM_IOCTL_BASE, nr, below(sizeof(buf)));

		for (k = 0; k < 32 && chance(30); k++)
			/* 32-bit values: no pointer out of the sandbox. */
			buf[k] = chance(50) ? addr64() : val32();
		arm_timer(true);
		err = raw_ioctl(f->fd, req, buf);
		arm_timer(false);
		snprintf(what, sizeof(what), "request %#lx", req);
		break;
	}
	}
	snprintf(cur_what, sizeof(cur_what), "%s = %s: %s", call_name[call],
		 igt_errname(err), what);
	record(call, err, what);
}

/* Changes under the bindings, and files closed with everything live. */
static void one_event(void)
{
	uint64_t off = below(ARENA_SIZE / z.page) * z.page;
	uint64_t len = (1 + below(64)) * z.page;
	char *p = z.arena + off;

	int ev = below(5);

	if (off + len > ARENA_SIZE)
		len = ARENA_SIZE - off;
	z.events++;
	snprintf(cur_what, sizeof(cur_what), "event %d at arena offset %#llx, %#llx bytes", ev,
		 (unsigned long long)off, (unsigned long long)len);
	switch (ev) {
	case 0:
		/*
		 * An munmap for the bindings, but the range stays reserved
		 * (PROT_NONE): a plain munmap would let the C library's next
		 * mmap land there, and the GPUs write it through the bindings
		 * that follow the CPU mapping.
		 */
		igt_assert(mmap(p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
				MAP_NORESERVE, -1, 0) == p);
		break;
	case 1:
		igt_assert(mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
				MAP_FIXED, -1, 0) == p);
		break;
	case 2:
		mprotect(p, len, chance(50) ? PROT_READ : PROT_READ | PROT_WRITE);
		break;
	case 3:
		madvise(p, len, MADV_DONTNEED);
		break;
	default: {
		struct fstate *f = pick_f();
		unsigned int gpu = f->gpu;

		fclose_one(f);
		fopen_one(f, gpu);
		break;
	}
	}
}

static void test_ioctls(int mode)
{
	const char *s = getenv("GSVM_SEED"), *c = getenv("GSVM_FUZZ_CALLS");
	uint64_t calls = c ? strtoull(c, NULL, 0) : 100000, i, mem0;
	struct sigaction sa = { .sa_handler = sigalrm };	/* no SA_RESTART */
	struct timespec t0, t1;
	struct sg_ctx ctx;
	double secs;
	struct sg_live l0;
	int k;

	(void)mode;
	z.seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
	z.rng = z.seed;
	igt_info("seed %#" PRIx64 " (GSVM_SEED), %" PRIu64 " calls (GSVM_FUZZ_CALLS)\n",
		 z.seed, calls);
	z.ngpus = sg_open_all(z.gpus, SG_MAX_GPUS);
	igt_require_f(z.ngpus > 0, "no simgpu device found\n");
	z.page = z.gpus[0].page_size;
	z.va_limit = z.gpus[0].va_bits >= 64 ? UINT64_MAX : 1ull << z.gpus[0].va_bits;
	for (k = 0; k < z.ngpus; k++)
		close(z.gpus[k].fd);
	sigaction(SIGALRM, &sa, NULL);
	{
		struct sigaction sv = { .sa_sigaction = sigsegv, .sa_flags = SA_SIGINFO };

		sigaction(SIGSEGV, &sv, NULL);
		sigaction(SIGBUS, &sv, NULL);
	}

	/* Batches end fast, and few queue: the run stays bounded in time. */
	igt_assert_err(igt_file_set_tmp("/sys/module/simgpu/parameters/job_budget_ms", "5"), 0);
	igt_assert_err(igt_file_set_tmp("/sys/module/simgpu/parameters/max_jobs_per_vm", "16"),
		       0);
	mem0 = sg_mem_available_kib();
	sg_live_take(&l0);

	/*
	 * The arena in the middle of 16 GiB reserved PROT_NONE: a binding of
	 * up to max_bind_mb (4 GiB) from the arena reaches nothing else.
	 */
	z.sandbox_size = 16ull << 30;
	z.sandbox = (uintptr_t)mmap(NULL, z.sandbox_size, PROT_NONE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	igt_assert(z.sandbox != (uintptr_t)MAP_FAILED);
	z.arena = (char *)(z.sandbox + z.sandbox_size / 2);
	sg_mmap_fixed(z.arena, ARENA_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(z.arena, 0, ARENA_SIZE);
	for (k = 0; k < NFDS; k++)
		fopen_one(&z.f[k], k % z.ngpus);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < calls; i++) {
		cur_index = i;
		one_call();
		if (!below(500))
			one_event();
		if (i && !(i % 20000)) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			igt_info("%" PRIu64 " calls, %.0f s\n", i,
				 (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;

	for (k = 0; k < NCALLS; k++) {
		char line[512];
		int n = 0, j;

		n += snprintf(line + n, sizeof(line) - n, "%-16s %7" PRIu64 " calls, %6" PRIu64
			      " ok", call_name[k], z.counts[k][0], z.counts[k][1]);
		for (j = 1; j < 160 && n < (int)sizeof(line) - 32; j++)
			if (z.errnos[k][j])
				n += snprintf(line + n, sizeof(line) - n, ", %s %" PRIu64,
					      igt_errname(-j), z.errnos[k][j]);
		igt_info("%s\n", line);
	}
	igt_info("%" PRIu64 " calls and %" PRIu64 " memory/file events in %.1f s: %.0f calls/s\n",
		 calls, z.events, secs, calls / secs);

	for (k = 0; k < NFDS; k++)
		fclose_one(&z.f[k]);
	munmap((void *)z.sandbox, z.sandbox_size);
	/* Closing tore everything down (the last batches end within 5 ms each). */
	sg_live_assert(&l0, "the fuzzed files closed");
	igt_file_restore_all();
	igt_info("MemAvailable %" PRIu64 " -> %" PRIu64 " KiB\n", mem0, sg_mem_available_kib());
	igt_assert_f(sg_mem_available_kib() + (64u << 10) > mem0,
		     "MemAvailable fell by %" PRIu64 " MiB over the run\n",
		     (mem0 - sg_mem_available_kib()) >> 10);

	/* Another user still gets its work done, with its data right. */
	sg_ctx_init(&ctx, SG_ALL | SG_DMA_FENCE);
	for_each_gpu(&ctx, k) {
		uint32_t cookie = sg_cookie();

		igt_assert_err(sg_gpu_write32(&ctx, k, ctx.scratch_gpu + SG_SLOT(k), cookie), 0);
		igt_assert_eq_u32(sg_read32(ctx.scratch + SG_SLOT_DW(k)), cookie);
	}
	sg_ctx_fini(&ctx);
}

static const struct igt_subtest tests[] = {
	/* 100000 calls took 98 s under TCG on the debug kernel (kmemleak on). */
	{ "ioctls", test_ioctls, 0, 1800 },
};

IGT_MAIN("Seeded fuzzer of every simgpu ioctl: documented errnos only, nothing leaked, "
	 "other users unaffected.", tests)
