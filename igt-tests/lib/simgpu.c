// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/sync_file.h>
#include <xf86drm.h>

#include "simgpu.h"

/* ---- discovery --------------------------------------------------------- */

int __sg_query(int fd, struct drm_simgpu_query *q)
{
	return drmIoctl(fd, DRM_IOCTL_SIMGPU_QUERY, q) ? -errno : 0;
}

int sg_open_node(const char *path, struct sg_gpu *gpu)
{
	struct drm_simgpu_query q = { 0 };
	drmVersionPtr ver;
	bool simgpu;
	int fd, err;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ver = drmGetVersion(fd);
	simgpu = ver && ver->name && !strcmp(ver->name, "simgpu");
	drmFreeVersion(ver);
	if (!simgpu) {
		close(fd);
		return -ENODEV;
	}
	err = __sg_query(fd, &q);
	if (err) {
		igt_warn("%s: DRM_IOCTL_SIMGPU_QUERY: %s\n", path, strerror(-err));
		close(fd);
		return err;
	}
	memset(gpu, 0, sizeof(*gpu));
	gpu->fd = fd;
	gpu->index = q.gpu_index;
	gpu->num_gpus = q.num_gpus;
	gpu->va_bits = q.va_bits;
	gpu->page_size = q.page_size;
	gpu->tlb_inval_latency_ns = q.tlb_inval_latency_ns;
	snprintf(gpu->path, sizeof(gpu->path), "%s", path);
	return 0;
}

static bool filter_match(const struct sg_gpu *g)
{
	const char *filter = igt_device_filter();
	char buf[512], *save, *tok;

	if (!filter || !*filter)
		return true;
	snprintf(buf, sizeof(buf), "%s", filter);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "simgpu") || !strcmp(tok, "simgpu:*"))
			return true;
		if (!strncmp(tok, "simgpu:", 7)) {
			char *end;
			unsigned long idx = strtoul(tok + 7, &end, 10);

			if (end != tok + 7 && !*end && idx == g->index)
				return true;
			continue;
		}
		/* Bare index, as a shorthand for simgpu:N. */
		if (tok[0] >= '0' && tok[0] <= '9') {
			if (strtoul(tok, NULL, 10) == g->index)
				return true;
			continue;
		}
		if (!strcmp(tok, g->path))
			return true;
	}
	return false;
}

static bool have_path(const struct sg_gpu *gpus, int n, const char *path)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(gpus[i].path, path))
			return true;
	return false;
}

static void try_add(struct sg_gpu *gpus, int *n, int max, const char *path)
{
	struct sg_gpu g;

	if (*n >= max || have_path(gpus, *n, path))
		return;
	if (sg_open_node(path, &g))
		return;
	if (!filter_match(&g)) {
		close(g.fd);
		return;
	}
	gpus[(*n)++] = g;
}

static int cmp_index(const void *a, const void *b)
{
	const struct sg_gpu *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

int sg_open_all(struct sg_gpu *gpus, int max)
{
	drmDevicePtr devs[SG_MAX_GPUS * 2];
	struct dirent *de;
	int n = 0, count, i;
	DIR *dir;

	count = drmGetDevices2(0, devs, ARRAY_SIZE(devs));
	for (i = 0; i < count; i++) {
		if (devs[i]->available_nodes & (1 << DRM_NODE_RENDER))
			try_add(gpus, &n, max, devs[i]->nodes[DRM_NODE_RENDER]);
	}
	if (count > 0)
		drmFreeDevices(devs, count);

	/*
	 * libdrm skips devices on buses it does not know (faux, ...): also
	 * look at every render node directly.
	 */
	dir = opendir("/dev/dri");
	if (dir) {
		while ((de = readdir(dir))) {
			char path[64];

			if (strncmp(de->d_name, "renderD", 7) ||
			    strlen(de->d_name) > 32)
				continue;
			snprintf(path, sizeof(path), "/dev/dri/%.32s", de->d_name);
			try_add(gpus, &n, max, path);
		}
		closedir(dir);
	}

	qsort(gpus, n, sizeof(*gpus), cmp_index);
	for (i = 0; i < n; i++)
		igt_debug("simgpu %u: %s, %u GPUs, va_bits %u, page %" PRIu64 "\n",
			  gpus[i].index, gpus[i].path, gpus[i].num_gpus,
			  gpus[i].va_bits, gpus[i].page_size);
	return n;
}

int sg_count_gpus(void)
{
	struct sg_gpu gpus[SG_MAX_GPUS];
	int n = sg_open_all(gpus, SG_MAX_GPUS), i;

	for (i = 0; i < n; i++)
		close(gpus[i].fd);
	return n;
}

/* ---- ioctls ------------------------------------------------------------ */

int __sg_vm_create(int fd, struct drm_simgpu_vm_create *c)
{
	return drmIoctl(fd, DRM_IOCTL_SIMGPU_VM_CREATE, c) ? -errno : 0;
}

int __sg_vm_destroy(int fd, struct drm_simgpu_vm_destroy *d)
{
	return drmIoctl(fd, DRM_IOCTL_SIMGPU_VM_DESTROY, d) ? -errno : 0;
}

int __sg_vm_bind(int fd, struct drm_simgpu_vm_bind *b)
{
	return drmIoctl(fd, DRM_IOCTL_SIMGPU_VM_BIND, b) ? -errno : 0;
}

int __sg_vm_unbind(int fd, struct drm_simgpu_vm_unbind *u)
{
	return drmIoctl(fd, DRM_IOCTL_SIMGPU_VM_UNBIND, u) ? -errno : 0;
}

int __sg_exec(int fd, struct drm_simgpu_exec *e)
{
	return drmIoctl(fd, DRM_IOCTL_SIMGPU_EXEC, e) ? -errno : 0;
}

int __sg_wait_ufence(int fd, struct drm_simgpu_wait_user_fence *w)
{
	return drmIoctl(fd, DRM_IOCTL_SIMGPU_WAIT_USER_FENCE, w) ? -errno : 0;
}

/* Fault-mode VMs this process created, so that jobs pick their completion. */
#define MAX_FAULT_VMS 256

static struct {
	pid_t pid;
	int fd;
	uint32_t vm;
} fault_vms[MAX_FAULT_VMS];
static pthread_mutex_t fault_vms_lock = PTHREAD_MUTEX_INITIALIZER;

static void fault_vm_forget(int fd, uint32_t vm)
{
	int i;

	pthread_mutex_lock(&fault_vms_lock);
	for (i = 0; i < MAX_FAULT_VMS; i++)
		if (fault_vms[i].pid == getpid() && fault_vms[i].fd == fd &&
		    (!vm || fault_vms[i].vm == vm))
			fault_vms[i].pid = 0;
	pthread_mutex_unlock(&fault_vms_lock);
}

bool sg_vm_is_fault_mode(int fd, uint32_t vm)
{
	bool found = false;
	int i;

	pthread_mutex_lock(&fault_vms_lock);
	for (i = 0; i < MAX_FAULT_VMS && !found; i++)
		found = fault_vms[i].pid == getpid() && fault_vms[i].fd == fd &&
			fault_vms[i].vm == vm;
	pthread_mutex_unlock(&fault_vms_lock);
	return found;
}

uint32_t sg_vm_create_flags(int fd, uint32_t flags)
{
	struct drm_simgpu_vm_create c = { .flags = flags };
	int i;

	igt_assert_err(__sg_vm_create(fd, &c), 0);
	igt_assert(c.vm_id != 0);
	if (!(flags & DRM_SIMGPU_VM_CREATE_FAULT_MODE))
		return c.vm_id;

	fault_vm_forget(fd, c.vm_id);
	pthread_mutex_lock(&fault_vms_lock);
	for (i = 0; i < MAX_FAULT_VMS; i++) {
		if (fault_vms[i].pid != getpid()) {
			fault_vms[i].pid = getpid();
			fault_vms[i].fd = fd;
			fault_vms[i].vm = c.vm_id;
			break;
		}
	}
	pthread_mutex_unlock(&fault_vms_lock);
	igt_assert_f(i < MAX_FAULT_VMS, "too many fault-mode VMs\n");
	return c.vm_id;
}

uint32_t sg_vm_create(int fd)
{
	return sg_vm_create_flags(fd, 0);
}

/* ---- user fences -------------------------------------------------------- */

#define UFENCE_SLOTS 4096

static volatile struct drm_simgpu_user_fence *ufences;
static unsigned int ufence_next;
static uint64_t ufence_value;
static pthread_mutex_t ufence_lock = PTHREAD_MUTEX_INITIALIZER;

volatile struct drm_simgpu_user_fence *sg_ufence_alloc(void)
{
	volatile struct drm_simgpu_user_fence *uf;

	pthread_mutex_lock(&ufence_lock);
	if (!ufences) {
		void *p = mmap(NULL, UFENCE_SLOTS * sizeof(*ufences),
			       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		igt_assert_f(p != MAP_FAILED, "mmap: %s\n", strerror(errno));
		ufences = p;
	}
	uf = &ufences[ufence_next++ % UFENCE_SLOTS];
	pthread_mutex_unlock(&ufence_lock);

	uf->value = 0;
	uf->error = 0;
	return uf;
}

uint64_t sg_ufence_next_value(void)
{
	return __atomic_add_fetch(&ufence_value, 1, __ATOMIC_RELAXED);
}

/* The user fence's error once it reads @value, or -ETIME. No ioctl. */
static int ufence_poll(volatile struct drm_simgpu_user_fence *uf, uint64_t value,
		       unsigned int timeout_ms)
{
	uint64_t end = igt_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		if (uf->value == value) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			return uf->error;
		}
		if (igt_now_ns() >= end)
			return -ETIME;
		usleep(1000);
	}
}

/* Same through DRM_IOCTL_SIMGPU_WAIT_USER_FENCE on @fd. */
static int ufence_wait(int fd, volatile struct drm_simgpu_user_fence *uf,
		       uint64_t value, unsigned int timeout_ms)
{
	struct drm_simgpu_wait_user_fence w = {
		.addr = (uintptr_t)uf,
		.value = value,
		.timeout_ns = (int64_t)timeout_ms * 1000000ll,
	};
	int err;

	if (fd < 0)
		return ufence_poll(uf, value, timeout_ms);
	err = __sg_wait_ufence(fd, &w);
	if (err == -ETIME)
		return err;
	igt_assert_f(!err, "DRM_IOCTL_SIMGPU_WAIT_USER_FENCE: %s\n", igt_errname(err));
	return w.error;
}

void sg_vm_destroy(int fd, uint32_t vm)
{
	struct drm_simgpu_vm_destroy d = { .vm_id = vm };

	igt_assert_err(__sg_vm_destroy(fd, &d), 0);
	fault_vm_forget(fd, vm);
}

int __sg_bind(int fd, uint32_t vm, uint64_t addr, uint64_t range,
	      const volatile void *ptr, uint32_t flags)
{
	struct drm_simgpu_vm_bind b = {
		.vm_id = vm,
		.flags = flags,
		.addr = addr,
		.range = range,
		.userptr = (uintptr_t)ptr,
	};

	return __sg_vm_bind(fd, &b);
}

void sg_bind(int fd, uint32_t vm, uint64_t addr, uint64_t range,
	     const volatile void *ptr, uint32_t flags)
{
	int err = __sg_bind(fd, vm, addr, range, ptr, flags);

	igt_assert_f(!err, "bind %#" PRIx64 "+%#" PRIx64 " <- %p: %s\n",
		     addr, range, (const void *)ptr, igt_errname(err));
}

int __sg_unbind(int fd, uint32_t vm, uint64_t addr, uint64_t range)
{
	struct drm_simgpu_vm_unbind u = {
		.vm_id = vm,
		.addr = addr,
		.range = range,
	};

	return __sg_vm_unbind(fd, &u);
}

void sg_unbind(int fd, uint32_t vm, uint64_t addr, uint64_t range)
{
	int err = __sg_unbind(fd, vm, addr, range);

	igt_assert_f(!err, "unbind %#" PRIx64 "+%#" PRIx64 ": %s\n",
		     addr, range, igt_errname(err));
}

/* ---- memory ------------------------------------------------------------ */

void *sg_mmap(size_t size, size_t align, int prot, int flags, int fd,
	      off_t off)
{
	size_t cpu_page = sysconf(_SC_PAGESIZE);
	uintptr_t base, p;
	void *r;

	if (align <= cpu_page) {
		r = mmap(NULL, size, prot, flags, fd, off);
		igt_assert_f(r != MAP_FAILED, "mmap %zu: %s\n", size,
			     strerror(errno));
		return r;
	}
	r = mmap(NULL, size + align, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	igt_assert_f(r != MAP_FAILED, "mmap %zu: %s\n", size + align,
		     strerror(errno));
	base = (uintptr_t)r;
	p = (base + align - 1) & ~(uintptr_t)(align - 1);
	if (p > base)
		munmap(r, p - base);
	if (base + align > p)
		munmap((void *)(p + size), base + align - p);
	sg_mmap_fixed((void *)p, size, prot, flags, fd, off);
	return (void *)p;
}

void sg_mmap_fixed(volatile void *addr, size_t size, int prot, int flags,
		   int fd, off_t off)
{
	void *r = mmap((void *)addr, size, prot, flags | MAP_FIXED, fd, off);

	igt_assert_f(r == (void *)addr, "mmap(MAP_FIXED) at %p: %s\n",
		     (void *)addr, strerror(errno));
}

int sg_memfd(uint64_t size)
{
	int fd = memfd_create("simgpu-test", MFD_CLOEXEC);

	igt_assert_f(fd >= 0, "memfd_create: %s\n", strerror(errno));
	igt_assert_f(!ftruncate(fd, size), "ftruncate: %s\n", strerror(errno));
	return fd;
}

uint32_t *sg_alloc_bound(struct sg_ctx *ctx, uint64_t size, uint32_t flags,
			 uint64_t *gpu)
{
	/*
	 * Shared, not private: a fork() by the test neither copies-on-write
	 * nor write-protects these pages, so it causes no invalidation of
	 * the batch ring or scratch (and needs no madvise(MADV_DONTFORK),
	 * which a kernel without CONFIG_ADVISE_SYSCALLS lacks).
	 */
	uint32_t *p = sg_mmap(size, ctx->page_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	memset(p, 0, size);
	*gpu = sg_va_alloc(ctx, size);
	sg_bind_all(ctx, p, size, *gpu, flags);
	return p;
}

void sg_witness_init(struct sg_ctx *ctx, struct sg_witness *x, uint64_t size,
		     int a_flags)
{
	x->size = size;
	x->memfd = sg_memfd(size);
	x->w = sg_mmap(size, ctx->page_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, x->memfd, 0);
	x->a = sg_mmap(size, ctx->page_size, PROT_READ | PROT_WRITE,
		       a_flags, x->memfd, 0);
	x->gpu = sg_va_alloc(ctx, size);
}

static void *dontneed_thread(void *p)
{
	struct sg_async_dontneed *d = p;

	d->err = madvise(d->addr, d->len, MADV_DONTNEED) ? -errno : 0;
	__atomic_store_n(&d->done, true, __ATOMIC_RELEASE);
	return NULL;
}

void sg_dontneed_start(struct sg_async_dontneed *d, void *addr, size_t len)
{
	*d = (struct sg_async_dontneed){ .addr = addr, .len = len };
	igt_assert(!pthread_create(&d->thread, NULL, dontneed_thread, d));
}

bool sg_dontneed_done(struct sg_async_dontneed *d)
{
	return __atomic_load_n(&d->done, __ATOMIC_ACQUIRE);
}

int sg_dontneed_join(struct sg_async_dontneed *d)
{
	igt_assert(!pthread_join(d->thread, NULL));
	return d->err;
}

uint32_t sg_cookie(void)
{
	static uint32_t counter;
	uint32_t c = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);

	return 0xc0000000u | ((uint32_t)(getpid() & 0x3fff) << 16) |
		(c & 0xffff);
}

/* ---- context ----------------------------------------------------------- */

static void sg_exit_handler(void)
{
	sg_wait_outstanding();
}

static unsigned int ctx_count;
static uint64_t small_va_next = 1u << 20;

static void va_init(struct sg_ctx *ctx)
{
	const uint64_t slot = 1ull << 32;
	uint64_t slots, pick;

	ctx->va_limit = ctx->va_bits >= 64 ? UINT64_MAX : 1ull << ctx->va_bits;
	if (ctx->svm) {
		/* Above the SVM part, which is the CPU's; same spreading. */
		igt_assert_f(ctx->va_limit >= DRM_SIMGPU_SVM_END + (16ull << 32),
			     "SVM VM with va_bits %u\n", ctx->va_bits);
		slots = ((ctx->va_limit - DRM_SIMGPU_SVM_END) >> 32) - 2;
		if (slots > 4096)
			slots = 4096;
		pick = ((uint64_t)getpid() * 2654435761u + igt_now_ns() / 1000 +
			ctx_count++ * 7) % slots;
		ctx->va_next = DRM_SIMGPU_SVM_END + (pick + 1) * slot;
		ctx->va_end = ctx->va_next + slot;
	} else if (ctx->va_limit >= (1ull << 36)) {
		/*
		 * A different 4 GiB window per process, so that a stale
		 * translation left behind by an earlier process (with a TLB
		 * knob set) does not alias this one's buffers.
		 */
		slots = (ctx->va_limit >> 32) - 2;
		if (slots > 4096)
			slots = 4096;
		pick = ((uint64_t)getpid() * 2654435761u + igt_now_ns() / 1000 +
			ctx_count++ * 7) % slots;
		ctx->va_next = (pick + 1) * slot;
		ctx->va_end = ctx->va_next + slot;
	} else {
		/* Small VA space: contexts of one process never overlap. */
		ctx->va_next = small_va_next;
		ctx->va_end = ctx->va_limit;
		ctx->va_shared = true;
	}
}

uint64_t sg_va_alloc(struct sg_ctx *ctx, uint64_t size)
{
	uint64_t align = ctx->page_size < 65536 ? 65536 : ctx->page_size;
	uint64_t addr;

	pthread_mutex_lock(&ctx->lock);
	addr = (ctx->va_next + align - 1) & ~(align - 1);
	ctx->va_next = addr + size + ctx->page_size; /* guard page */
	if (ctx->va_shared && ctx->va_next > small_va_next)
		small_va_next = ctx->va_next;
	pthread_mutex_unlock(&ctx->lock);
	igt_assert_f(addr + size <= ctx->va_end,
		     "GPU VA space exhausted (va_bits %u)\n", ctx->va_bits);
	return addr;
}

void sg_bind_all(struct sg_ctx *ctx, const volatile void *ptr, uint64_t size,
		 uint64_t addr, uint32_t flags)
{
	int i;

	for_each_gpu(ctx, i)
		sg_bind(ctx->gpu[i].fd, ctx->gpu[i].vm, addr, size, ptr, flags);
}

void sg_unbind_all(struct sg_ctx *ctx, uint64_t addr, uint64_t size)
{
	int i;

	for_each_gpu(ctx, i)
		sg_unbind(ctx->gpu[i].fd, ctx->gpu[i].vm, addr, size);
}

void sg_ctx_init(struct sg_ctx *ctx, int mode)
{
	uint64_t on;
	int i;

	memset(ctx, 0, sizeof(*ctx));
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->fault_mode = !(mode & SG_DMA_FENCE);
	ctx->svm = mode & SG_SVM;
	igt_assert_f(!ctx->svm || ctx->fault_mode, "SVM VMs are fault mode\n");
	ctx->n = sg_open_all(ctx->gpu, SG_MAX_GPUS);
	igt_require_f(ctx->n > 0, "no simgpu device found\n");
	if ((mode & SG_GPUS_MASK) == SG_ONE) {
		for (i = 1; i < ctx->n; i++)
			close(ctx->gpu[i].fd);
		ctx->n = 1;
	}
	igt_install_exit_handler(sg_exit_handler);

	ctx->page_size = ctx->gpu[0].page_size;
	ctx->va_bits = ctx->gpu[0].va_bits;
	for_each_gpu(ctx, i) {
		igt_assert_f(ctx->gpu[i].page_size == ctx->page_size,
			     "GPUs with different page sizes\n");
		if (ctx->gpu[i].va_bits < ctx->va_bits)
			ctx->va_bits = ctx->gpu[i].va_bits;
		if (ctx->svm) {
			const uint32_t flags = DRM_SIMGPU_VM_CREATE_FAULT_MODE |
					       DRM_SIMGPU_VM_CREATE_SVM;
			struct drm_simgpu_vm_create c = { .flags = flags };
			struct drm_simgpu_vm_destroy d = {};
			int err = __sg_vm_create(ctx->gpu[i].fd, &c);

			/* Probe: a simgpu from before SVM rejects the flag. */
			igt_require_f(err != -EINVAL, "simgpu without SVM VMs\n");
			igt_assert_f(!err, "SVM VM create: %s\n", igt_errname(err));
			d.vm_id = c.vm_id;
			igt_assert_err(__sg_vm_destroy(ctx->gpu[i].fd, &d), 0);
			ctx->gpu[i].vm = sg_vm_create_flags(ctx->gpu[i].fd, flags);
			continue;
		}
		ctx->gpu[i].vm = sg_vm_create_flags(ctx->gpu[i].fd, ctx->fault_mode ?
						    DRM_SIMGPU_VM_CREATE_FAULT_MODE : 0);
	}
	igt_assert_f(ctx->page_size >= (uint64_t)sysconf(_SC_PAGESIZE) &&
		     !(ctx->page_size & (ctx->page_size - 1)),
		     "unsupported GPU page size %" PRIu64 "\n", ctx->page_size);
	igt_assert_f(ctx->va_bits >= 24, "va_bits %u\n", ctx->va_bits);
	va_init(ctx);

	/* One read of stats per GPU; no debugfs, or no model: no check. */
	for_each_gpu(ctx, i) {
		struct sg_stats st;

		if (sg_stats_read(&ctx->gpu[i], &st))
			continue;
		ctx->dma_model[i] = sg_stats_find(&st, "dma_model", &on) && on &&
			sg_stats_find(&st, "dma_unmapped_accesses", &ctx->dma_unmapped[i]);
	}

	ctx->ring = sg_alloc_bound(ctx, SG_RING_SIZE, 0, &ctx->ring_gpu);
	ctx->ring_slots = SG_RING_SIZE / SG_RING_SLOT;
	ctx->scratch = sg_alloc_bound(ctx, SG_SCRATCH_SIZE, 0, &ctx->scratch_gpu);
	igt_debug("ctx: %d GPUs, VA %#" PRIx64 "..%#" PRIx64 "\n", ctx->n,
		  ctx->va_next, ctx->va_end);
}

static void forget_fd(int fd);

void sg_ctx_fini(struct sg_ctx *ctx)
{
	int i;

	sg_wait_outstanding();
	for_each_gpu(ctx, i) {
		if (ctx->gpu[i].fd < 0)
			continue;
		sg_vm_destroy(ctx->gpu[i].fd, ctx->gpu[i].vm);
		forget_fd(ctx->gpu[i].fd);
		close(ctx->gpu[i].fd);
		ctx->gpu[i].fd = -1;
	}
	sg_ctx_assert_dma(ctx, "while the context lived");
}

void sg_ctx_assert_dma(struct sg_ctx *ctx, const char *when)
{
	uint64_t now, base, addr = 0, va = 0;
	int i;

	for_each_gpu(ctx, i) {
		/* A GPU removed meanwhile has no counters any more. */
		if (!ctx->dma_model[i] ||
		    __sg_stat(&ctx->gpu[i], "dma_unmapped_accesses", &now))
			continue;
		/* The subtest may have zeroed the counters (reset_stats). */
		base = now < ctx->dma_unmapped[i] ? 0 : ctx->dma_unmapped[i];
		if (now == base)
			continue;
		__sg_stat(&ctx->gpu[i], "dma_unmapped_last_addr", &addr);
		__sg_stat(&ctx->gpu[i], "dma_unmapped_last_va", &va);
		igt_assert_f(false,
			     "GPU %u accessed memory %" PRIu64 " times through DMA addresses already DMA-unmapped, %s (the last: GPU VA %#" PRIx64 ", DMA address %#" PRIx64 "): pages were unmapped while the GPU could still reach them\n",
			     ctx->gpu[i].index, now - base, when, va, addr);
	}
}

void sg_ctx_close_fds(struct sg_ctx *ctx)
{
	int i;

	for_each_gpu(ctx, i) {
		forget_fd(ctx->gpu[i].fd);
		close(ctx->gpu[i].fd);
		ctx->gpu[i].fd = -1;
	}
}

/* ---- batches ----------------------------------------------------------- */

void sg_batch_start_at(struct sg_batch *b, uint32_t *cs, uint64_t addr,
		       unsigned int max_dw)
{
	b->cs = cs;
	b->addr = addr;
	b->len = 0;
	b->max = max_dw;
}

void sg_batch_start(struct sg_ctx *ctx, struct sg_batch *b)
{
	unsigned int slot = __atomic_fetch_add(&ctx->ring_next, 1,
					       __ATOMIC_RELAXED) % ctx->ring_slots;

	sg_batch_start_at(b, ctx->ring + slot * (SG_RING_SLOT / 4),
			  ctx->ring_gpu + (uint64_t)slot * SG_RING_SLOT,
			  SG_RING_SLOT / 4);
}

void sg_emit_dw(struct sg_batch *b, uint32_t dw)
{
	igt_assert_f(b->len < b->max, "batch overflow (%u dwords)\n", b->max);
	b->cs[b->len++] = dw;
}

static void emit_addr(struct sg_batch *b, uint64_t addr)
{
	sg_emit_dw(b, (uint32_t)addr);
	sg_emit_dw(b, (uint32_t)(addr >> 32));
}

void sg_emit_store(struct sg_batch *b, uint64_t addr, uint32_t value)
{
	sg_emit_dw(b, DRM_SIMGPU_CMD_STORE_DW);
	emit_addr(b, addr);
	sg_emit_dw(b, value);
}

void sg_emit_copy(struct sg_batch *b, uint64_t src, uint64_t dst,
		  uint32_t bytes)
{
	sg_emit_dw(b, DRM_SIMGPU_CMD_COPY);
	emit_addr(b, src);
	emit_addr(b, dst);
	sg_emit_dw(b, bytes);
}

void sg_emit_atomic_add(struct sg_batch *b, uint64_t addr, uint32_t value)
{
	sg_emit_dw(b, DRM_SIMGPU_CMD_ATOMIC_ADD);
	emit_addr(b, addr);
	sg_emit_dw(b, value);
}

void sg_emit_delay(struct sg_batch *b, uint32_t usecs)
{
	do {
		uint32_t chunk = usecs > 100000 ? 100000 : usecs;

		sg_emit_dw(b, DRM_SIMGPU_CMD_DELAY);
		sg_emit_dw(b, chunk);
		usecs -= chunk;
	} while (usecs);
}

void sg_emit_store_loop(struct sg_batch *b, uint64_t addr, uint32_t count,
			uint32_t usecs)
{
	sg_emit_dw(b, DRM_SIMGPU_CMD_STORE_LOOP);
	emit_addr(b, addr);
	sg_emit_dw(b, count);
	sg_emit_dw(b, usecs);
}

uint64_t sg_batch_end(struct sg_batch *b)
{
	sg_emit_dw(b, DRM_SIMGPU_CMD_END);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return b->addr;
}

/* ---- outstanding jobs -------------------------------------------------- */

/*
 * Every submitted job and every exported sync file is recorded here until
 * seen finished, so that the exit handler can wait for them: a batch must
 * not outlive the memory of the process that submitted it.
 */
#define MAX_TRACKED 1024

static struct tracked {
	pid_t pid;
	int fd;			/* -1: a user fence whose node was closed */
	uint32_t syncobj;	/* 0: @fd is a sync file, or @ufence is set */
	volatile struct drm_simgpu_user_fence *ufence;
	uint64_t value;
} tracked[MAX_TRACKED];
static pthread_mutex_t tracked_lock = PTHREAD_MUTEX_INITIALIZER;

static int __track(int fd, uint32_t syncobj,
		   volatile struct drm_simgpu_user_fence *ufence, uint64_t value)
{
	int i;

	pthread_mutex_lock(&tracked_lock);
	for (i = 0; i < MAX_TRACKED; i++) {
		if (tracked[i].pid != getpid()) {
			tracked[i].pid = getpid();
			tracked[i].fd = fd;
			tracked[i].syncobj = syncobj;
			tracked[i].ufence = ufence;
			tracked[i].value = value;
			break;
		}
	}
	pthread_mutex_unlock(&tracked_lock);
	igt_assert_f(i < MAX_TRACKED, "too many outstanding jobs\n");
	return i;
}

static int track(int fd, uint32_t syncobj)
{
	return __track(fd, syncobj, NULL, 0);
}

static void untrack(int slot)
{
	pthread_mutex_lock(&tracked_lock);
	tracked[slot].pid = 0;
	pthread_mutex_unlock(&tracked_lock);
}

static int64_t abs_timeout(unsigned int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec +
		(int64_t)timeout_ms * 1000000ll;
}

int sg_sync_file_status(int fd)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	igt_assert_f(!ioctl(fd, SYNC_IOC_FILE_INFO, &info),
		     "SYNC_IOC_FILE_INFO: %s\n", strerror(errno));
	return info.status;
}

/* Fence error of a signalled syncobj. */
static int syncobj_error(int fd, uint32_t syncobj)
{
	int sf, status, err;

	err = drmSyncobjExportSyncFile(fd, syncobj, &sf);
	igt_assert_f(!err, "drmSyncobjExportSyncFile: %s\n", strerror(-err));
	status = sg_sync_file_status(sf);
	close(sf);
	igt_assert_f(status != 0, "signalled fence reads as active\n");
	return status < 0 ? status : 0;
}

/* The fd is going away: keep waitable jobs trackable through sync files. */
static void forget_fd(int fd)
{
	int i;

	fault_vm_forget(fd, 0);
	pthread_mutex_lock(&tracked_lock);
	for (i = 0; i < MAX_TRACKED; i++) {
		int sf;

		if (tracked[i].pid != getpid() || tracked[i].fd != fd)
			continue;
		if (tracked[i].ufence) {
			/* Waited for by polling from now on. */
			tracked[i].fd = -1;
			continue;
		}
		if (!tracked[i].syncobj)
			continue;
		if (drmSyncobjExportSyncFile(fd, tracked[i].syncobj, &sf)) {
			tracked[i].pid = 0;
			continue;
		}
		tracked[i].fd = sf;
		tracked[i].syncobj = 0;
	}
	pthread_mutex_unlock(&tracked_lock);
}

void sg_sync_file_track(int fd)
{
	track(fd, 0);
}

static int wait_sync_file(int fd, unsigned int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t end = igt_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int status;

	for (;;) {
		status = sg_sync_file_status(fd);
		if (status)
			return status < 0 ? status : 0;
		if (igt_now_ns() >= end)
			return -ETIME;
		poll(&pfd, 1, 10);
	}
}

int sg_sync_file_wait(int fd, unsigned int timeout_ms)
{
	int err = wait_sync_file(fd, timeout_ms), i;

	if (err == -ETIME)
		return err;
	pthread_mutex_lock(&tracked_lock);
	for (i = 0; i < MAX_TRACKED; i++)
		if (tracked[i].pid == getpid() && tracked[i].fd == fd &&
		    !tracked[i].syncobj && !tracked[i].ufence)
			tracked[i].pid = 0;
	pthread_mutex_unlock(&tracked_lock);
	return err;
}

void sg_wait_outstanding(void)
{
	int i;

	for (i = 0; i < MAX_TRACKED; i++) {
		struct tracked t;
		int err;

		pthread_mutex_lock(&tracked_lock);
		t = tracked[i];
		pthread_mutex_unlock(&tracked_lock);
		if (t.pid != getpid())
			continue;
		if (t.ufence) {
			err = ufence_poll(t.ufence, t.value, SG_LONG_TIMEOUT_MS);
		} else if (t.syncobj) {
			uint32_t h = t.syncobj;

			err = drmSyncobjWait(t.fd, &h, 1,
					     abs_timeout(SG_LONG_TIMEOUT_MS),
					     DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL);
		} else {
			err = wait_sync_file(t.fd, SG_LONG_TIMEOUT_MS);
			if (err != -ETIME)
				err = 0;
		}
		if (err == -ETIME)
			igt_warn("a batch is still running after %d ms\n",
				 SG_LONG_TIMEOUT_MS);
		untrack(i);
	}
}

/* ---- jobs -------------------------------------------------------------- */

int __sg_submit(int fd, uint32_t vm, uint64_t batch, uint32_t in_syncobj,
		struct sg_job *job)
{
	struct drm_simgpu_exec e = {
		.vm_id = vm,
		.batch_addr = batch,
		.in_syncobj = in_syncobj,
	};
	int err;

	job->fd = fd;
	job->slot = -1;
	job->err = 0;
	job->syncobj = 0;
	job->ufence = NULL;
	if (sg_vm_is_fault_mode(fd, vm)) {
		job->ufence = sg_ufence_alloc();
		job->ufence_value = sg_ufence_next_value();
		e.user_fence_addr = (uintptr_t)job->ufence;
		e.user_fence_value = job->ufence_value;
		err = __sg_exec(fd, &e);
		if (err) {
			job->ufence = NULL;
			return err;
		}
		job->slot = __track(fd, 0, job->ufence, job->ufence_value);
		return 0;
	}
	err = drmSyncobjCreate(fd, 0, &job->syncobj);
	igt_assert_f(!err, "drmSyncobjCreate: %s\n", strerror(-err));
	e.out_syncobj = job->syncobj;
	err = __sg_exec(fd, &e);
	if (err) {
		drmSyncobjDestroy(fd, job->syncobj);
		job->syncobj = 0;
		return err;
	}
	job->slot = track(fd, job->syncobj);
	return 0;
}

void sg_submit(struct sg_ctx *ctx, int gi, uint64_t batch,
	       uint32_t in_syncobj, struct sg_job *job)
{
	int err = __sg_submit(ctx->gpu[gi].fd, ctx->gpu[gi].vm, batch,
			      in_syncobj, job);

	igt_assert_f(!err, "exec on GPU %u: %s\n", ctx->gpu[gi].index,
		     igt_errname(err));
}

int sg_job_wait(struct sg_job *job, unsigned int timeout_ms)
{
	uint32_t h = job->syncobj;
	int err;

	if (job->slot < 0)
		return job->err;
	if (job->ufence) {
		int fd;

		pthread_mutex_lock(&tracked_lock);
		fd = tracked[job->slot].fd;
		pthread_mutex_unlock(&tracked_lock);
		err = ufence_wait(fd, job->ufence, job->ufence_value, timeout_ms);
		if (err == -ETIME)
			return err;
		job->err = err;
		untrack(job->slot);
		job->slot = -1;
		return job->err;
	}
	err = drmSyncobjWait(job->fd, &h, 1, abs_timeout(timeout_ms),
			     DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL);
	if (err == -ETIME)
		return -ETIME;
	igt_assert_f(!err, "drmSyncobjWait: %s\n", strerror(-err));
	job->err = syncobj_error(job->fd, job->syncobj);
	untrack(job->slot);
	job->slot = -1;
	return job->err;
}

int sg_job_finish(struct sg_job *job)
{
	int err = sg_job_wait(job, SG_LONG_TIMEOUT_MS);

	igt_assert_f(err != -ETIME, "batch did not complete within %d ms\n",
		     SG_LONG_TIMEOUT_MS);
	return err;
}

bool sg_job_busy(struct sg_job *job)
{
	return sg_job_wait(job, 0) == -ETIME;
}

int sg_job_export(struct sg_job *job)
{
	int sf, err;

	igt_assert_f(job->syncobj, "a fault-mode batch has no fence to export\n");
	err = drmSyncobjExportSyncFile(job->fd, job->syncobj, &sf);
	igt_assert_f(!err, "drmSyncobjExportSyncFile: %s\n", strerror(-err));
	sg_sync_file_track(sf);
	return sf;
}

void sg_job_put(struct sg_job *job)
{
	if (job->ufence) {
		sg_job_finish(job);
		job->ufence = NULL;
		return;
	}
	if (!job->syncobj)
		return;
	sg_job_finish(job);
	drmSyncobjDestroy(job->fd, job->syncobj);
	job->syncobj = 0;
}

int sg_run(struct sg_ctx *ctx, int gi, uint64_t batch)
{
	struct sg_job job;
	int err;

	sg_submit(ctx, gi, batch, 0, &job);
	err = sg_job_wait(&job, SG_JOB_TIMEOUT_MS);
	igt_assert_f(err != -ETIME, "batch on GPU %u did not complete within %d ms\n",
		     ctx->gpu[gi].index, SG_JOB_TIMEOUT_MS);
	sg_job_put(&job);
	return err;
}

/* ---- debugfs ----------------------------------------------------------- */

static void mount_debugfs(void)
{
	static bool tried;

	if (tried)
		return;
	tried = true;
	if (access(SG_DEBUGFS_ROOT, F_OK) && !access("/sys/kernel/debug", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
}

void sg_debugfs_path(const struct sg_gpu *g, const char *name, char *buf,
		     size_t size)
{
	snprintf(buf, size, SG_DEBUGFS_ROOT "/gpu%u/%s", g->index, name);
}

bool sg_debugfs_available(const struct sg_gpu *g)
{
	char path[256];

	mount_debugfs();
	sg_debugfs_path(g, "", path, sizeof(path));
	return !access(path, F_OK);
}

int sg_knob_read(const struct sg_gpu *g, const char *name, char *buf,
		 size_t size)
{
	char path[256];

	mount_debugfs();
	sg_debugfs_path(g, name, path, sizeof(path));
	return igt_file_read(path, buf, size);
}

int sg_knob_write(const struct sg_gpu *g, const char *name, const char *val)
{
	char path[256];

	mount_debugfs();
	sg_debugfs_path(g, name, path, sizeof(path));
	return igt_file_write(path, val);
}

int sg_knob_set_tmp(const struct sg_gpu *g, const char *name, const char *val)
{
	char path[256];

	mount_debugfs();
	sg_debugfs_path(g, name, path, sizeof(path));
	return igt_file_set_tmp(path, val);
}

void sg_ctx_knob_set_tmp(struct sg_ctx *ctx, const char *name, const char *val)
{
	int i, err;

	for_each_gpu(ctx, i) {
		igt_require_f(sg_debugfs_available(&ctx->gpu[i]),
			      "no simgpu debugfs for GPU %u\n", ctx->gpu[i].index);
		err = sg_knob_set_tmp(&ctx->gpu[i], name, val);
		igt_assert_f(!err, "GPU %u: cannot set %s to %s: %s\n",
			     ctx->gpu[i].index, name, val, strerror(-err));
	}
}

bool sg_ctx_try_knob_set_tmp(struct sg_ctx *ctx, const char *name,
			     const char *val)
{
	bool ok = true;
	int i, err;

	for_each_gpu(ctx, i) {
		err = sg_knob_set_tmp(&ctx->gpu[i], name, val);
		if (err) {
			igt_info("GPU %u: cannot set %s to %s (%s), going on without\n",
				 ctx->gpu[i].index, name, val, strerror(-err));
			ok = false;
		}
	}
	return ok;
}

int sg_stats_read(const struct sg_gpu *g, struct sg_stats *s)
{
	char buf[4096], *line, *save;
	int err;

	err = sg_knob_read(g, "stats", buf, sizeof(buf));
	if (err)
		return err;
	s->n = 0;
	for (line = strtok_r(buf, "\n", &save); line && s->n < SG_MAX_STATS;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long v;
		char name[40];

		if (sscanf(line, "%39s %llu", name, &v) != 2)
			continue;
		/* Tolerate "name: value". */
		if (name[strlen(name) - 1] == ':')
			name[strlen(name) - 1] = '\0';
		snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
		s->val[s->n] = v;
		s->n++;
	}
	return 0;
}

uint64_t sg_stats_get(const struct sg_stats *s, const char *name)
{
	uint64_t val = 0;

	igt_assert_f(sg_stats_find(s, name, &val), "no counter '%s' in stats\n", name);
	return val;
}

bool sg_stats_find(const struct sg_stats *s, const char *name, uint64_t *val)
{
	int i;

	for (i = 0; i < s->n; i++) {
		if (!strcmp(s->name[i], name)) {
			*val = s->val[i];
			return true;
		}
	}
	return false;
}

int __sg_stat(const struct sg_gpu *g, const char *name, uint64_t *val)
{
	struct sg_stats st;
	int err;

	err = sg_stats_read(g, &st);
	if (err)
		return err;
	return sg_stats_find(&st, name, val) ? 0 : -ENOENT;
}

uint64_t sg_stat(const struct sg_gpu *g, const char *name)
{
	uint64_t val = 0;
	int err = __sg_stat(g, name, &val);

	igt_require_f(err != -ENOENT || sg_debugfs_available(g),
		      "simgpu debugfs stats not available\n");
	igt_assert_f(!err, "counter %s of GPU %u: %s\n", name, g->index,
		     igt_errname(err));
	return val;
}

#define SG_SVM_STATS	"/sys/kernel/debug/gsvm/svm_stats"

#define SG_GSVM_STATS	"/sys/kernel/debug/gsvm/stats"

/* Counter @name of a "name value" file at @path; 0 or -errno. */
static int sg_named_stat(const char *path, const char *name, uint64_t *val)
{
	char key[64], word[64];
	unsigned long long v;
	int err = -ENOENT;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %63s", key, word) == 2) {
		if (strcmp(key, name))
			continue;
		if (sscanf(word, "%llu", &v) == 1) {
			*val = v;
			err = 0;
		} else {
			err = -EINVAL;
		}
		break;
	}
	fclose(f);
	return err;
}

int __sg_svm_stat(const char *name, uint64_t *val)
{
	return sg_named_stat(SG_SVM_STATS, name, val);
}

uint64_t sg_gsvm_stat(const char *name)
{
	uint64_t val = 0;
	int err = sg_named_stat(SG_GSVM_STATS, name, &val);

	igt_require_f(err != -ENOENT || access(SG_GSVM_STATS, R_OK) == 0,
		      "gsvm debugfs stats not available\n");
	igt_assert_f(!err, "gsvm counter %s: %s\n", name, igt_errname(err));
	return val;
}

void sg_live_take(struct sg_live *l)
{
	l->mirrors = sg_gsvm_stat("mirrors_live");
	l->ranges = sg_gsvm_stat("ranges_live");
	l->svm_notifiers = sg_gsvm_stat("svm_notifiers_live");
	l->svm_ranges = sg_svm_stat("ranges_live");
}

void sg_live_assert(const struct sg_live *l, const char *when)
{
	struct sg_live now;
	int t;

	for (t = 0; t < 6000; t++) {
		sg_live_take(&now);
		if (!memcmp(&now, l, sizeof(now)))
			return;
		usleep(10000);
	}
	igt_assert_f(false, "%s: gsvm live mirrors %" PRIu64 " (%" PRIu64 " before), ranges %"
		     PRIu64 " (%" PRIu64 "), SVM notifiers %" PRIu64 " (%" PRIu64 "), SVM ranges %"
		     PRIu64 " (%" PRIu64 "): leaked\n", when, now.mirrors, l->mirrors, now.ranges,
		     l->ranges, now.svm_notifiers, l->svm_notifiers, now.svm_ranges, l->svm_ranges);
}

uint64_t sg_mem_available_kib(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	igt_assert(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

uint64_t sg_svm_stat(const char *name)
{
	uint64_t val = 0;
	int err = __sg_svm_stat(name, &val);

	igt_require_f(err != -ENOENT || access(SG_SVM_STATS, R_OK) == 0,
		      "gsvm debugfs svm_stats not available\n");
	igt_assert_f(!err, "gsvm SVM counter %s: %s\n", name, igt_errname(err));
	return val;
}

bool sg_svm_two_pass(void)
{
	char key[64], word[64];
	bool found = false, two = false;
	FILE *f = fopen(SG_SVM_STATS, "r");

	igt_require_f(f, "gsvm debugfs svm_stats not available\n");
	while (fscanf(f, "%63s %63s", key, word) == 2) {
		if (!strcmp(key, "mode")) {
			found = true;
			two = !strcmp(word, "two-pass");
			break;
		}
	}
	fclose(f);
	igt_assert_f(found, "no mode line in " SG_SVM_STATS "\n");
	return two;
}

/* ---- scenario helpers -------------------------------------------------- */

int sg_gpu_write32(struct sg_ctx *ctx, int gi, uint64_t addr, uint32_t value)
{
	struct sg_batch b;

	sg_batch_start(ctx, &b);
	sg_emit_store(&b, addr, value);
	return sg_run(ctx, gi, sg_batch_end(&b));
}

uint32_t sg_gpu_read32(struct sg_ctx *ctx, int gi, uint64_t addr, int *err)
{
	uint32_t *slot = ctx->scratch + SG_SLOT_DW(gi);
	struct sg_batch b;

	sg_write32(slot, SG_POISON);
	sg_batch_start(ctx, &b);
	sg_emit_copy(&b, addr, ctx->scratch_gpu + SG_SLOT(gi), 4);
	*err = sg_run(ctx, gi, sg_batch_end(&b));
	return sg_read32(slot);
}

void sg_warm_slots(struct sg_ctx *ctx, uint64_t addr, uint32_t *view,
		   const uint32_t *vals)
{
	int i, err;

	for_each_gpu(ctx, i) {
		err = sg_gpu_write32(ctx, i, addr + SG_SLOT(i), vals[i]);
		igt_assert_f(!err, "GPU %u: warm-up write failed: %s\n",
			     ctx->gpu[i].index, igt_errname(err));
		igt_assert_eq_u32(sg_read32(view + SG_SLOT_DW(i)), vals[i]);
	}
}

void sg_start_loops(struct sg_ctx *ctx, uint64_t addr, struct sg_job *jobs)
{
	int i;

	for_each_gpu(ctx, i) {
		struct sg_batch b;

		sg_batch_start(ctx, &b);
		sg_emit_store_loop(&b, addr + SG_SLOT(i), SG_LOOP_COUNT,
				   SG_LOOP_USECS);
		sg_submit(ctx, i, sg_batch_end(&b), 0, &jobs[i]);
	}
}

void sg_wait_loops_running(struct sg_ctx *ctx, const uint32_t *view,
			   struct sg_job *jobs)
{
	int i;

	for_each_gpu(ctx, i) {
		bool running = igt_wait(sg_read32(view + SG_SLOT_DW(i)) != 0, 10000);

		igt_assert_f(running, "GPU %u: store loop never reached memory (fence %s)\n",
			     ctx->gpu[i].index,
			     igt_errname(sg_job_wait(&jobs[i], 0)));
		igt_assert_f(sg_job_busy(&jobs[i]),
			     "GPU %u: store loop already ended (%s)\n",
			     ctx->gpu[i].index, igt_errname(jobs[i].err));
	}
}

void sg_snapshot_slots(struct sg_ctx *ctx, const uint32_t *view,
		       uint32_t *snap)
{
	int i;

	for_each_gpu(ctx, i)
		snap[i] = sg_read32(view + SG_SLOT_DW(i));
}

void sg_assert_slots_stable(struct sg_ctx *ctx, const uint32_t *view,
			    const uint32_t *snap, unsigned int ms,
			    const char *what)
{
	uint64_t start = igt_now_ns(), end = start + ms * 1000000ull, now;
	char when[128];
	int i;

	do {
		now = igt_now_ns();
		for_each_gpu(ctx, i) {
			uint32_t v = sg_read32(view + SG_SLOT_DW(i));

			igt_assert_f(v == snap[i],
				     "GPU %u wrote the old pages through a stale translation %.1f ms after %s returned: %#x -> %#x\n",
				     ctx->gpu[i].index, (now - start) / 1e6,
				     what, snap[i], v);
		}
		usleep(500);
	} while (now < end);

	snprintf(when, sizeof(when), "during %s", what);
	sg_ctx_assert_dma(ctx, when);
}

void sg_slow_tlb_inval_us(struct sg_ctx *ctx, unsigned int latency_us)
{
	char val[32];

	snprintf(val, sizeof(val), "%u", latency_us / 1000 * 50);
	sg_ctx_try_knob_set_tmp(ctx, "tlb_inval_timeout_ms", val);
	snprintf(val, sizeof(val), "%u", latency_us);
	/* At the default latency a watch window sees nothing: skip instead. */
	igt_require_f(sg_ctx_try_knob_set_tmp(ctx, "tlb_inval_latency_us", val),
		      "no tlb_inval_latency_us knob: TLB invalidations cannot be slowed down\n");
}

void sg_slow_tlb_inval(struct sg_ctx *ctx)
{
	sg_slow_tlb_inval_us(ctx, SG_SLOW_INVAL_US);
}

void sg_require_madvise(void)
{
	igt_require_f(!madvise(NULL, 0, MADV_NORMAL) || errno != ENOSYS,
		      "no madvise() in this kernel (CONFIG_ADVISE_SYSCALLS=n)\n");
}
