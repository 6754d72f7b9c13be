// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 *
 * xe-bench: gsvm-bench's invalidation tables on Intel Xe devices. The cost
 * of one CPU-side invalidation of a 64 KiB buffer that N Xe devices mirror,
 * N = 1, 2, 4, 8, 16 up to the devices present: every one of the N devices
 * writes every page of the buffer (so each holds live PTEs and TLB entries
 * for it), then the CPU calls mprotect(PROT_READ) on it, which runs the mmu
 * notifiers of all N devices; the sample is the duration of that call. The
 * sample loop, its interleaving of the modes, the tables and the CSV are
 * gsvm-bench's (bench_core.c).
 *
 * -k selects the tables (comma separated, default "userptr,svm"):
 *   userptr  a DRM_XE_VM_BIND_OP_MAP_USERPTR binding of the buffer in a
 *            fault-mode VM of each device. Xe's userptr notifier is two-pass
 *            since Linux 7.1 and has no single-pass switch: "two-pass" rows
 *            only.
 *   svm      each device's VM mirrors the whole CPU address space
 *            (DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR) and faults the buffer in.
 *            "svm-two-pass" against "svm-single-pass" through the LOCAL debug
 *            parameter svm_single_pass of the gsvm kernel series (read when
 *            a VM is created, so each mode gets new VMs). A kernel without
 *            that parameter lacks the series, and its Xe SVM is single-pass:
 *            "svm-single-pass" rows only.
 *
 * Each device gets a VM in LR and fault mode, an exec queue on its first
 * render engine (else compute), and runs one batch that stores a dword to
 * every page of the buffer. LR VMs take no syncobjs: binds and execs
 * complete through user fences. The batch and the fences live in a control
 * page; it and the buffer are bound (userptr) or mirrored (svm) at their
 * CPU addresses, so GPU and CPU addresses are the same throughout.
 *
 * Exit status: 0; 77 if there is nothing to measure (no Xe device, none in
 * fault mode, no table the devices can run); 1 on errors; 2 on bad usage.
 */

#include <dirent.h>
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
#include <unistd.h>

/* From the kernel source, KSRC (see the Makefile); includes its drm.h. */
#include "xe_drm.h"

#include "bench_core.h"

#define MAX_DEVS		64
#define MAX_NODES		256
#define PAGE_4K			4096ul
#define SZ_1M			(1ul << 20)
#define SZ_2M			(2ul << 20)
#define BUF_PAGES		(BENCH_BUF_SIZE / PAGE_4K)
#define FENCE_TIMEOUT_NS	(10ll * 1000000000)

/* The series' LOCAL patch "drm/xe/svm: svm_single_pass": 0600, read at VM creation. */
#define SINGLE_PASS_PARAM	"/sys/module/xe/parameters/svm_single_pass"

/*
 * MI commands as IGT's Xe tests use them, Xe2 included: MI_STORE_DWORD_IMM
 * in its 4-dword form (header, address low, address high, data; bit 22
 * clear: a PPGTT address) and MI_BATCH_BUFFER_END.
 */
#define MI_STORE_DWORD_IMM_GEN4	((0x20u << 23) | 2)
#define MI_BATCH_BUFFER_END	(0x0au << 23)

/*
 * The sizes of the uAPI structs used here, added up by hand from 7.3's
 * xe_drm.h (every field explicit, no implicit padding), checked against
 * the header the build uses: a mismatch means a layout this file was not
 * written for. Every struct is zero-initialised (designated initialisers),
 * which makes extensions, pad and reserved zero, as the ioctls require.
 */
_Static_assert(sizeof(struct drm_xe_engine_class_instance) == 8, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_engine) == 32, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_query_engines) == 8, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_query_config) == 8, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_gt) == 96, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_query_gt_list) == 8, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_device_query) == 40, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_vm_create) == 32, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_vm_destroy) == 24, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_vm_bind_op) == 80, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_vm_bind) == 136, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_sync) == 48, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_exec_queue_create) == 48, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_exec_queue_destroy) == 24, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_exec) == 56, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_wait_user_fence) == 72, "xe uAPI");
_Static_assert(sizeof(struct drm_xe_madvise) == 64, "xe uAPI");

struct xe_dev {
	int fd;
	char name[16];				/* renderD<minor> */
	struct drm_xe_engine_class_instance eci;	/* of the exec queue */
	unsigned int va_bits;
	unsigned int ip_major, ip_minor;	/* of the main GT (GMD_ID) */
	bool has_vram;
	bool has_mirror;			/* CPU address mirroring */
	uint16_t pat_index;
	uint32_t vm_id;
	uint32_t exec_queue_id;
};

static struct xe_dev devs[MAX_DEVS];
static unsigned int num_devs;
static int pat_override = -1;		/* -p */

/*
 * The control page: the batch and the user fences. The GPUs write the
 * exec fences at their GPU address (the CPU address, bound or mirrored);
 * the kernel writes the bind fences at their CPU address.
 */
struct ctl {
	uint32_t batch[4 * BUF_PAGES + 1];
	uint64_t exec_fence[MAX_DEVS];
	uint64_t bind_fence[MAX_DEVS];
};

_Static_assert(sizeof(struct ctl) <= PAGE_4K, "control page");

#define WINDOW_SIZE		(2 * SZ_2M)

static struct {
	enum bench_mirror mirror;
	void *window;			/* WINDOW_SIZE of PROT_NONE around ctl, buf */
	struct ctl *ctl;
	uint32_t *buf;
	uint64_t seq;			/* last user fence value */
} xb;

/* The svm_single_pass parameter: present with the gsvm series. */
static bool have_single_pass;
static char single_pass_saved[8];
static bool single_pass_written;

static int xe_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do
		ret = ioctl(fd, req, arg);
	while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

static void __attribute__((noreturn)) dev_die(const struct xe_dev *d, const char *what, int err)
{
	fprintf(stderr, "xe-bench: %s: %s: %s\n", d->name, what, strerror(-err));
	exit(1);
}

/* ---- discovery ----------------------------------------------------------- */

/* Whether the driver of @fd is xe (DRM_IOCTL_VERSION). */
static bool is_xe(int fd)
{
	char name[8] = "";
	struct drm_version v = {
		.name_len = sizeof(name) - 1,
		.name = name,
	};

	if (xe_ioctl(fd, DRM_IOCTL_VERSION, &v))
		return false;
	/* name_len comes back as the length of the driver's name. */
	return v.name_len == 2 && !memcmp(name, "xe", 2);
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return (x > y) - (x < y);
}

/* Open every render node driven by xe, in minor order. */
static void open_devices(void)
{
	unsigned int minors[MAX_NODES], n = 0, i;
	struct dirent *de;
	DIR *dir;

	dir = opendir("/dev/dri");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		unsigned int minor;
		char end;

		if (sscanf(de->d_name, "renderD%u%c", &minor, &end) == 1 && n < MAX_NODES)
			minors[n++] = minor;
	}
	closedir(dir);
	qsort(minors, n, sizeof(*minors), cmp_uint);

	for (i = 0; i < n && num_devs < MAX_DEVS; i++) {
		struct xe_dev *d = &devs[num_devs];
		char path[32];
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/renderD%u", minors[i]);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "xe-bench: %s: %s (skipped)\n", path, strerror(errno));
			continue;
		}
		if (!is_xe(fd)) {
			close(fd);
			continue;
		}
		d->fd = fd;
		snprintf(d->name, sizeof(d->name), "renderD%u", minors[i]);
		num_devs++;
	}
}

/* DRM_IOCTL_XE_DEVICE_QUERY: ask the size, then the data. */
static void *query(struct xe_dev *d, uint32_t what)
{
	struct drm_xe_device_query q = { .query = what };
	void *data;
	int err;

	err = xe_ioctl(d->fd, DRM_IOCTL_XE_DEVICE_QUERY, &q);
	if (err)
		dev_die(d, "DRM_IOCTL_XE_DEVICE_QUERY", err);
	data = calloc(1, q.size);
	if (!data)
		bench_die("calloc");
	q.data = (uintptr_t)data;
	err = xe_ioctl(d->fd, DRM_IOCTL_XE_DEVICE_QUERY, &q);
	if (err)
		dev_die(d, "DRM_IOCTL_XE_DEVICE_QUERY", err);
	return data;
}

static int vm_create(struct xe_dev *d)
{
	struct drm_xe_vm_create c = {
		/* Fault mode requires LR mode. */
		.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE,
	};
	int err = xe_ioctl(d->fd, DRM_IOCTL_XE_VM_CREATE, &c);

	d->vm_id = c.vm_id;
	return err;
}

static void vm_destroy(struct xe_dev *d)
{
	struct drm_xe_vm_destroy v = { .vm_id = d->vm_id };
	int err = xe_ioctl(d->fd, DRM_IOCTL_XE_VM_DESTROY, &v);

	if (err)
		dev_die(d, "DRM_IOCTL_XE_VM_DESTROY", err);
}

/*
 * Read what the benchmark needs of @d: VA bits, VRAM, CPU address mirroring,
 * an engine, the graphics IP version. False, with a message, if @d cannot
 * run it.
 */
static bool probe(struct xe_dev *d)
{
	struct drm_xe_query_config *cfg = query(d, DRM_XE_DEVICE_QUERY_CONFIG);
	struct drm_xe_query_engines *eng = query(d, DRM_XE_DEVICE_QUERY_ENGINES);
	struct drm_xe_query_gt_list *gts = query(d, DRM_XE_DEVICE_QUERY_GT_LIST);
	bool found = false, ok = true;
	unsigned int i;
	int err;

	if (cfg->num_params <= DRM_XE_QUERY_CONFIG_VA_BITS)
		dev_die(d, "DRM_XE_DEVICE_QUERY_CONFIG", -EPROTO);
	d->va_bits = cfg->info[DRM_XE_QUERY_CONFIG_VA_BITS];
	d->has_vram = cfg->info[DRM_XE_QUERY_CONFIG_FLAGS] & DRM_XE_QUERY_CONFIG_FLAG_HAS_VRAM;
	d->has_mirror = cfg->info[DRM_XE_QUERY_CONFIG_FLAGS] &
			DRM_XE_QUERY_CONFIG_FLAG_HAS_CPU_ADDR_MIRROR;

	for (i = 0; i < eng->num_engines && !found; i++) {
		if (eng->engines[i].instance.engine_class == DRM_XE_ENGINE_CLASS_RENDER) {
			d->eci = eng->engines[i].instance;
			found = true;
		}
	}
	for (i = 0; i < eng->num_engines && !found; i++) {
		if (eng->engines[i].instance.engine_class == DRM_XE_ENGINE_CLASS_COMPUTE) {
			d->eci = eng->engines[i].instance;
			found = true;
		}
	}

	for (i = 0; i < gts->num_gt; i++) {
		if (gts->gt_list[i].type == DRM_XE_QUERY_GT_TYPE_MAIN) {
			d->ip_major = gts->gt_list[i].ip_ver_major;
			d->ip_minor = gts->gt_list[i].ip_ver_minor;
			break;
		}
	}
	/*
	 * A write-back, CPU-coherent PAT index, as userptr and CPU address
	 * mirror bindings require: xe_pat.c's idx[XE_CACHE_WB]. Fault mode
	 * exists on Xe2 and later (graphics 20+: 2, 2-way coherent) and PVC
	 * (no GMD_ID, so IP 0.0 here: 3, 1-way coherent).
	 */
	if (pat_override >= 0)
		d->pat_index = pat_override;
	else
		d->pat_index = d->ip_major >= 20 ? 2 : 3;
	free(cfg);
	free(eng);
	free(gts);

	if (!found) {
		fprintf(stderr, "xe-bench: %s: no render or compute engine (skipped)\n", d->name);
		return false;
	}

	/* Fault mode: only platforms with recoverable page faults have it. */
	err = vm_create(d);
	if (err == -EINVAL) {
		fprintf(stderr,
			"xe-bench: %s: no fault mode: DRM_IOCTL_XE_VM_CREATE(LR_MODE | FAULT_MODE): %s (skipped)\n",
			d->name, strerror(-err));
		ok = false;
	} else if (err) {
		dev_die(d, "DRM_IOCTL_XE_VM_CREATE(LR_MODE | FAULT_MODE)", err);
	} else {
		vm_destroy(d);
	}
	return ok;
}

/* ---- the svm_single_pass parameter -------------------------------------- */

static void single_pass_write(const char *val)
{
	int fd = open(SINGLE_PASS_PARAM, O_WRONLY);
	ssize_t len = strlen(val);

	if (fd < 0 || write(fd, val, len) != len)
		bench_die(SINGLE_PASS_PARAM " (writable by root)");
	close(fd);
	single_pass_written = true;
}

static void single_pass_save(void)
{
	int fd = open(SINGLE_PASS_PARAM, O_RDONLY);
	ssize_t len;

	if (fd < 0)
		bench_die(SINGLE_PASS_PARAM " (readable by root)");
	len = read(fd, single_pass_saved, sizeof(single_pass_saved) - 1);
	if (len <= 0)
		bench_die(SINGLE_PASS_PARAM);
	close(fd);
	single_pass_saved[strcspn(single_pass_saved, "\n")] = '\0';
}

/* atexit: leave the parameter as it was, also when a run dies. */
static void single_pass_restore(void)
{
	int fd;

	if (!single_pass_written)
		return;
	fd = open(SINGLE_PASS_PARAM, O_WRONLY);
	if (fd < 0 || write(fd, single_pass_saved, strlen(single_pass_saved)) < 0)
		fprintf(stderr, "xe-bench: cannot restore %s to %s\n", SINGLE_PASS_PARAM,
			single_pass_saved);
	if (fd >= 0)
		close(fd);
}

/* ---- binds, execs, user fences ------------------------------------------- */

/* Wait until the user fence at @addr is @value; @queue 0 for binds. */
static void wait_fence(struct xe_dev *d, uint64_t *addr, uint64_t value, uint32_t queue,
		       const char *what)
{
	struct drm_xe_wait_user_fence w = {
		.addr = (uintptr_t)addr,
		.op = DRM_XE_UFENCE_WAIT_OP_EQ,
		.value = value,
		.mask = ~0ull,
		.timeout = FENCE_TIMEOUT_NS,	/* relative; updated on restart */
		.exec_queue_id = queue,		/* -EIO if the queue was reset */
	};
	int err = xe_ioctl(d->fd, DRM_IOCTL_XE_WAIT_USER_FENCE, &w);

	if (err)
		dev_die(d, what, err);
}

/*
 * One bind operation on device @i's VM, on the default bind queue, waited
 * for through the device's bind fence. @userptr is the CPU address of a
 * MAP_USERPTR; for MAP it is obj_offset (the same union), which must be 0
 * with CPU_ADDR_MIRROR (cpu_addr_mirror_offset: GPU address == CPU address).
 */
static void bind(unsigned int i, uint32_t op, uint32_t flags, uint64_t addr, uint64_t range,
		 uint64_t userptr, const char *what)
{
	struct xe_dev *d = &devs[i];
	uint64_t value = ++xb.seq;
	struct drm_xe_sync sync = {
		.type = DRM_XE_SYNC_TYPE_USER_FENCE,
		.flags = DRM_XE_SYNC_FLAG_SIGNAL,
		.addr = (uintptr_t)&xb.ctl->bind_fence[i],	/* a CPU address for binds */
		.timeline_value = value,			/* the value written */
	};
	struct drm_xe_vm_bind b = {
		.vm_id = d->vm_id,
		.num_binds = 1,
		.bind = {
			.obj = 0,
			.pat_index = d->pat_index,
			.userptr = userptr,
			.range = range,
			.addr = addr,
			.op = op,
			.flags = flags,
		},
		.num_syncs = 1,
		.syncs = (uintptr_t)&sync,
	};
	int err = xe_ioctl(d->fd, DRM_IOCTL_XE_VM_BIND, &b);

	if (err)
		dev_die(d, what, err);
	wait_fence(d, &xb.ctl->bind_fence[i], value, 0, what);
}

/* Keep the pages in system memory: on a discrete device SVM would migrate them. */
static void prefer_system_memory(struct xe_dev *d)
{
	struct drm_xe_madvise m = {
		.start = 0,
		.range = 1ull << d->va_bits,
		.vm_id = d->vm_id,
		.type = DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC,
		.preferred_mem_loc = {
			.devmem_fd = (uint32_t)DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM,
			.migration_policy = DRM_XE_MIGRATE_ALL_PAGES,
		},
	};
	int err = xe_ioctl(d->fd, DRM_IOCTL_XE_MADVISE, &m);

	if (err)
		dev_die(d, "DRM_IOCTL_XE_MADVISE(PREFERRED_LOC_DEFAULT_SYSTEM)", err);
}

static void exec_queue_create(struct xe_dev *d)
{
	struct drm_xe_exec_queue_create q = {
		.width = 1,
		.num_placements = 1,
		.vm_id = d->vm_id,
		.instances = (uintptr_t)&d->eci,
	};
	int err = xe_ioctl(d->fd, DRM_IOCTL_XE_EXEC_QUEUE_CREATE, &q);

	if (err)
		dev_die(d, "DRM_IOCTL_XE_EXEC_QUEUE_CREATE", err);
	d->exec_queue_id = q.exec_queue_id;
}

static void exec_queue_destroy(struct xe_dev *d)
{
	struct drm_xe_exec_queue_destroy q = { .exec_queue_id = d->exec_queue_id };
	int err = xe_ioctl(d->fd, DRM_IOCTL_XE_EXEC_QUEUE_DESTROY, &q);

	if (err)
		dev_die(d, "DRM_IOCTL_XE_EXEC_QUEUE_DESTROY", err);
}

/* Submit the batch on device @i; its exec fence becomes @value. */
static void exec_batch(unsigned int i, uint64_t value)
{
	struct xe_dev *d = &devs[i];
	struct drm_xe_sync sync = {
		.type = DRM_XE_SYNC_TYPE_USER_FENCE,
		.flags = DRM_XE_SYNC_FLAG_SIGNAL,
		.addr = (uintptr_t)&xb.ctl->exec_fence[i],	/* a GPU address for execs */
		.timeline_value = value,
	};
	struct drm_xe_exec e = {
		.exec_queue_id = d->exec_queue_id,
		.num_syncs = 1,
		.syncs = (uintptr_t)&sync,
		.address = (uintptr_t)xb.ctl->batch,
		.num_batch_buffer = 1,			/* the queue's width */
	};
	int err = xe_ioctl(d->fd, DRM_IOCTL_XE_EXEC, &e);

	if (err)
		dev_die(d, "DRM_IOCTL_XE_EXEC", err);
}

/* ---- the Xe device layer of the invalidation tables ---------------------- */

static void *xb_prepare(enum bench_mirror mirror)
{
	uintptr_t w;
	unsigned int p, k = 0;

	/*
	 * The control page and the buffer, each alone in its VMA between
	 * PROT_NONE pages of one window: no SVM range covers both, and
	 * neither merges with other memory. The buffer is 64 KiB aligned.
	 */
	xb.mirror = mirror;
	xb.window = mmap(NULL, WINDOW_SIZE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (xb.window == MAP_FAILED)
		bench_die("mmap(window)");
	w = ((uintptr_t)xb.window + SZ_2M) & ~(SZ_2M - 1);
	xb.ctl = mmap((void *)w, PAGE_4K, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	xb.buf = mmap((void *)(w + SZ_1M), BENCH_BUF_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (xb.ctl == MAP_FAILED || xb.buf == MAP_FAILED)
		bench_die("mmap");
	memset(xb.ctl, 0, PAGE_4K);
	memset(xb.buf, 0, BENCH_BUF_SIZE);

	/* One dword to every page of the buffer. */
	for (p = 0; p < BUF_PAGES; p++) {
		uint64_t a = (uintptr_t)xb.buf + p * PAGE_4K;

		xb.ctl->batch[k++] = MI_STORE_DWORD_IMM_GEN4;
		xb.ctl->batch[k++] = (uint32_t)a;
		xb.ctl->batch[k++] = (uint32_t)(a >> 32);
		xb.ctl->batch[k++] = p + 1;
	}
	xb.ctl->batch[k++] = MI_BATCH_BUFFER_END;
	return xb.buf;
}

static void xb_setup(unsigned int n)
{
	unsigned int i;
	int err;

	/* A read-write userptr binding pins the pages for write. */
	if (xb.mirror == BENCH_MIRROR_USERPTR &&
	    mprotect(xb.buf, BENCH_BUF_SIZE, PROT_READ | PROT_WRITE))
		bench_die("mprotect(RW)");
	for (i = 0; i < n; i++) {
		struct xe_dev *d = &devs[i];

		err = vm_create(d);
		if (err)
			dev_die(d, "DRM_IOCTL_XE_VM_CREATE(LR_MODE | FAULT_MODE)", err);
		if (xb.mirror == BENCH_MIRROR_SVM) {
			/*
			 * Mirror the whole GPU VA, as IGT's
			 * xe_exec_system_allocator does: MAP, no object,
			 * offset 0, from 0 for 1 << va_bits.
			 */
			bind(i, DRM_XE_VM_BIND_OP_MAP, DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR,
			     0, 1ull << d->va_bits, 0, "DRM_IOCTL_XE_VM_BIND(CPU_ADDR_MIRROR)");
			if (d->has_vram)
				prefer_system_memory(d);
		} else {
			bind(i, DRM_XE_VM_BIND_OP_MAP_USERPTR, 0, (uintptr_t)xb.buf,
			     BENCH_BUF_SIZE, (uintptr_t)xb.buf,
			     "DRM_IOCTL_XE_VM_BIND(MAP_USERPTR)");
			bind(i, DRM_XE_VM_BIND_OP_MAP_USERPTR, 0, (uintptr_t)xb.ctl,
			     PAGE_4K, (uintptr_t)xb.ctl, "DRM_IOCTL_XE_VM_BIND(MAP_USERPTR)");
		}
		exec_queue_create(d);
	}
}

/* svm with the series: mode 0 two-pass, mode 1 single-pass. */
static void xb_set_mode(unsigned int m)
{
	if (xb.mirror == BENCH_MIRROR_SVM && have_single_pass)
		single_pass_write(m ? "Y" : "N");
}

static void xb_touch(unsigned int n)
{
	uint64_t value = ++xb.seq;
	unsigned int i;

	for (i = 0; i < n; i++)
		exec_batch(i, value);
	for (i = 0; i < n; i++)
		wait_fence(&devs[i], &xb.ctl->exec_fence[i], value, devs[i].exec_queue_id,
			   "DRM_IOCTL_XE_WAIT_USER_FENCE(exec)");
}

static void xb_teardown(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		exec_queue_destroy(&devs[i]);
		vm_destroy(&devs[i]);
	}
}

static void xb_finish(void)
{
	munmap(xb.window, WINDOW_SIZE);
}

static const struct bench_dev_ops xe_ops = {
	.prepare = xb_prepare,
	.setup = xb_setup,
	.set_mode = xb_set_mode,
	.touch = xb_touch,
	.teardown = xb_teardown,
	.finish = xb_finish,
};

static const char *const userptr_modes[] = { "two-pass" };
static const char *const svm_modes[] = { "svm-two-pass", "svm-single-pass" };
static const char *const svm_stock_modes[] = { "svm-single-pass" };

static void bench_userptr(const struct bench_opts *o)
{
	static const struct bench_inval inval = {
		.mirror = BENCH_MIRROR_USERPTR,
		.modes = userptr_modes,
		.num_modes = 1,
	};
	struct bench_table *t = bench_run_inval(&xe_ops, &inval, o);
	char title[256];

	snprintf(title, sizeof(title),
		 "CPU invalidation (mprotect of a %u KiB buffer mirrored by N Xe devices, userptr bindings), %u samples each\n"
		 "(Xe's userptr notifier is two-pass since Linux 7.1 and has no single-pass switch: two-pass rows only)",
		 BENCH_BUF_SIZE / 1024, o->samples);
	bench_print_table(stdout, t, title, -1, 16, "vs first", BENCH_VS_FIRST_COUNT);
	bench_table_free(t);
}

static void bench_svm(const struct bench_opts *o)
{
	struct bench_inval inval = {
		.mirror = BENCH_MIRROR_SVM,
		.modes = have_single_pass ? svm_modes : svm_stock_modes,
		.num_modes = have_single_pass ? 2 : 1,
		.mode_at_setup = true,
	};
	struct bench_table *t = bench_run_inval(&xe_ops, &inval, o);
	char title[256];
	int len;

	len = snprintf(title, sizeof(title),
		       "CPU invalidation of SVM memory (mprotect of a %u KiB buffer N Xe devices faulted in), %u samples each",
		       BENCH_BUF_SIZE / 1024, o->samples);
	if (!have_single_pass)
		snprintf(title + len, sizeof(title) - len,
			 "\n(no %s: a kernel without the gsvm series, whose Xe SVM is single-pass: svm-single-pass rows only)",
			 SINGLE_PASS_PARAM);
	bench_print_table(stdout, t, title, -1, 16, "vs first", BENCH_VS_FIRST_COUNT);
	bench_table_free(t);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xe-bench [-k KIND,...] [-n SAMPLES] [-g N,N,...] [-p PAT_INDEX]\n"
		"  -k  tables: userptr, svm (default both)\n"
		"  -n  samples per (device count, mode), default 200\n"
		"  -g  device counts, default 1,2,4,8,16 up to the Xe devices present\n"
		"  -p  PAT index of the bindings (default: write-back coherent, 2 on Xe2+, 3 on PVC)\n");
	exit(2);
}

enum { K_USERPTR, K_SVM };

int main(int argc, char **argv)
{
	static const unsigned int default_counts[] = { 1, 2, 4, 8, 16 };
	static const char *const kind_names[] = { "userptr", "svm" };
	unsigned int kinds = 0, i, n;
	struct bench_opts o;
	bool counts_given = false;
	char *end;
	int opt;

	bench_prog = "xe-bench";
	bench_opts_init(&o, default_counts, 5);
	while ((opt = getopt(argc, argv, "k:n:g:p:h")) != -1) {
		switch (opt) {
		case 'k':
			if (bench_parse_kinds(optarg, kind_names, ARRAY_SIZE(kind_names), &kinds))
				usage();
			break;
		case 'p':
			pat_override = strtol(optarg, &end, 0);
			if (end == optarg || *end || pat_override < 0 || pat_override > 0xffff)
				usage();
			break;
		case 'g':
			counts_given = true;
			if (bench_parse_opt(&o, opt, optarg))
				usage();
			break;
		default:
			if (bench_parse_opt(&o, opt, optarg))
				usage();
		}
	}
	if (optind < argc)
		usage();
	if (!kinds)
		kinds = (1u << K_USERPTR) | (1u << K_SVM);

	open_devices();
	if (!num_devs) {
		fprintf(stderr,
			"xe-bench: no Xe device (no render node driven by xe): nothing to measure\n");
		return 77;
	}
	for (i = 0, n = 0; i < num_devs; i++) {
		if (probe(&devs[i]))
			devs[n++] = devs[i];
		else
			close(devs[i].fd);
	}
	num_devs = n;
	if (!num_devs) {
		fprintf(stderr,
			"xe-bench: no Xe device in fault mode (DRM_XE_VM_CREATE_FLAG_FAULT_MODE): nothing to measure\n");
		return 77;
	}
	for (i = 0; i < num_devs && (kinds & (1u << K_SVM)); i++) {
		if (!devs[i].has_mirror) {
			fprintf(stderr,
				"xe-bench: %s: no CPU address mirroring (DRM_XE_QUERY_CONFIG_FLAG_HAS_CPU_ADDR_MIRROR; a kernel without CONFIG_DRM_XE_GPUSVM): no svm table\n",
				devs[i].name);
			kinds &= ~(1u << K_SVM);
		}
	}
	if (!kinds) {
		fprintf(stderr, "xe-bench: no table these devices can run: nothing to measure\n");
		return 77;
	}

	if (counts_given) {
		for (i = 0; i < o.num_counts; i++) {
			if (o.counts[i] > num_devs) {
				fprintf(stderr, "xe-bench: %u devices asked, %u present\n",
					o.counts[i], num_devs);
				return 1;
			}
		}
	} else {
		for (i = 0, n = 0; i < o.num_counts; i++)
			if (o.counts[i] <= num_devs)
				o.counts[n++] = o.counts[i];
		o.num_counts = n;
	}

	have_single_pass = !access(SINGLE_PASS_PARAM, F_OK);
	if ((kinds & (1u << K_SVM)) && have_single_pass) {
		single_pass_save();
		atexit(single_pass_restore);
	}

	printf("xe-bench: %u Xe device%s in fault mode; SVM single-pass switch %s\n", num_devs,
	       num_devs == 1 ? "" : "s", have_single_pass ? SINGLE_PASS_PARAM : "absent");
	for (i = 0; i < num_devs; i++)
		printf("  %s: graphics IP %u.%02u%s, engine %u:%u on GT %u, PAT index %u\n",
		       devs[i].name, devs[i].ip_major, devs[i].ip_minor,
		       devs[i].has_vram ? ", VRAM" : "", devs[i].eci.engine_class,
		       devs[i].eci.engine_instance, devs[i].eci.gt_id, devs[i].pat_index);

	if (kinds & (1u << K_USERPTR))
		bench_userptr(&o);
	if (kinds & (1u << K_SVM))
		bench_svm(&o);

	bench_print_csv(stdout);
	return 0;
}
