/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The gsvm authors
 *
 * Helpers for simgpu tests: device discovery, ioctl wrappers, a per-test
 * context holding one VM per GPU, GPU virtual address allocation, a batch
 * builder, job submission and completion, memfd "witness" buffers, and
 * the driver's debugfs knobs and counters.
 *
 * Conventions: functions named __sg_*() return 0 or -errno and never
 * assert; the others assert success. A buffer used by all GPUs of a
 * context is bound at the same GPU virtual address on every GPU, so one
 * batch runs unchanged on any of them.
 */
#ifndef SIMGPU_H
#define SIMGPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "simgpu_drm.h"
#include "igt_core.h"

#define SG_MAX_GPUS		64
#define SG_JOB_TIMEOUT_MS	20000	/* ordinary batches */
#define SG_LONG_TIMEOUT_MS	40000	/* store loops, exit-time waits */

/* STORE_LOOP used to keep a GPU busy: nominally 2 s, one write per 100 us. */
#define SG_LOOP_COUNT		20000
#define SG_LOOP_USECS		100

/* TLB invalidation latency the busy tests set (us), and how long they watch. */
#define SG_SLOW_INVAL_US	200000
#define SG_WATCH_MS		500

#define SG_TWO_PASS_PARAM	"/sys/module/gsvm/parameters/two_pass"
#define SG_DEBUGFS_ROOT		"/sys/kernel/debug/simgpu"

struct sg_gpu {
	int fd;
	uint32_t vm;
	uint32_t index;
	uint32_t num_gpus;
	uint32_t va_bits;
	uint64_t page_size;
	uint64_t tlb_inval_latency_ns;
	char path[64];
};

/* ---- discovery --------------------------------------------------------- */

/*
 * Opens every simgpu render node that passes the device filter, queries
 * it and sorts the result by gpu_index. Returns the number opened.
 */
int sg_open_all(struct sg_gpu *gpus, int max);
/* Opens one node; 0, or -errno (-ENODEV if it is not a simgpu node). */
int sg_open_node(const char *path, struct sg_gpu *gpu);
/* Number of simgpu nodes present (filter applied), without keeping them open. */
int sg_count_gpus(void);

/* ---- raw ioctls: 0 or -errno -------------------------------------------- */

int __sg_query(int fd, struct drm_simgpu_query *q);
int __sg_vm_create(int fd, struct drm_simgpu_vm_create *c);
int __sg_vm_destroy(int fd, struct drm_simgpu_vm_destroy *d);
int __sg_vm_bind(int fd, struct drm_simgpu_vm_bind *b);
int __sg_vm_unbind(int fd, struct drm_simgpu_vm_unbind *u);
int __sg_exec(int fd, struct drm_simgpu_exec *e);

/* A dma-fence mode VM (flags 0). */
uint32_t sg_vm_create(int fd);
/* A VM with @flags (DRM_SIMGPU_VM_CREATE_*); the lib remembers its mode. */
uint32_t sg_vm_create_flags(int fd, uint32_t flags);
/* Whether (@fd, @vm) was created by this process in fault mode. */
bool sg_vm_is_fault_mode(int fd, uint32_t vm);
void sg_vm_destroy(int fd, uint32_t vm);
int __sg_bind(int fd, uint32_t vm, uint64_t addr, uint64_t range,
	      const volatile void *ptr, uint32_t flags);
void sg_bind(int fd, uint32_t vm, uint64_t addr, uint64_t range,
	     const volatile void *ptr, uint32_t flags);
int __sg_unbind(int fd, uint32_t vm, uint64_t addr, uint64_t range);
void sg_unbind(int fd, uint32_t vm, uint64_t addr, uint64_t range);

/* ---- context ----------------------------------------------------------- */

enum sg_mode {
	SG_ONE = 1,	/* the GPU with the lowest index (after filtering) */
	SG_ALL = 2,	/* every GPU, mirroring the same memory */
	SG_GPUS_MASK = 3,
	/*
	 * Or'ed in: the context's VMs are in dma-fence mode (jobs complete
	 * through syncobjs, no GPU fault is serviced). Without it they are in
	 * fault mode (jobs complete through user fences).
	 */
	SG_DMA_FENCE = 0x10,
	/*
	 * Or'ed in: the VMs are SVM VMs (fault mode, the CPU address space
	 * mirrored below DRM_SIMGPU_SVM_END); the context's own buffers are
	 * bound above it. Skips the subtest if simgpu has no SVM.
	 */
	SG_SVM = 0x20,
};

struct sg_ctx {
	int n;
	struct sg_gpu gpu[SG_MAX_GPUS];
	uint64_t page_size;
	bool fault_mode;	/* the VMs were created in fault mode */
	bool svm;		/* ... and as SVM VMs */
	uint32_t va_bits;
	uint64_t va_limit;	/* 1 << va_bits, or UINT64_MAX */
	uint64_t va_next, va_end;
	bool va_shared;		/* small VA space: allocation shared by contexts */
	uint32_t *ring;		/* batch slots */
	uint64_t ring_gpu;
	unsigned int ring_slots;
	unsigned int ring_next;
	uint32_t *scratch;	/* bound read-write, per-GPU result slots */
	uint64_t scratch_gpu;
	pthread_mutex_t lock;
	/* simgpu's DMA model, per GPU: checked, and the count at init. */
	bool dma_model[SG_MAX_GPUS];
	uint64_t dma_unmapped[SG_MAX_GPUS];
};

#define SG_RING_SLOT		4096
#define SG_RING_SIZE		(2u << 20)
#define SG_SCRATCH_SIZE		(64u << 10)

#define for_each_gpu(ctx, i) for ((i) = 0; (i) < (ctx)->n; (i)++)

/*
 * Opens the GPUs (skips the subtest if there is none), creates one VM per
 * GPU, and binds the batch ring and the scratch buffer on every GPU.
 */
void sg_ctx_init(struct sg_ctx *ctx, int mode);
/*
 * Waits for outstanding jobs, destroys the VMs, closes the nodes, then
 * sg_ctx_assert_dma().
 */
void sg_ctx_fini(struct sg_ctx *ctx);
/*
 * Fails, naming @when, if a GPU of @ctx accessed memory through a DMA
 * address that was DMA-unmapped (simgpu's DMA model) since sg_ctx_init():
 * pages were handed back while the GPU could still reach them. Checks
 * nothing where the model is off or debugfs is missing.
 */
void sg_ctx_assert_dma(struct sg_ctx *ctx, const char *when);
/*
 * Closes the nodes without unbinding or destroying anything. Jobs still
 * running stay tracked through exported sync files.
 */
void sg_ctx_close_fds(struct sg_ctx *ctx);

/* GPU virtual address range of @size bytes, followed by a guard page. */
uint64_t sg_va_alloc(struct sg_ctx *ctx, uint64_t size);
/* Same address on every GPU of @ctx. */
void sg_bind_all(struct sg_ctx *ctx, const volatile void *ptr, uint64_t size,
		 uint64_t addr, uint32_t flags);
void sg_unbind_all(struct sg_ctx *ctx, uint64_t addr, uint64_t size);

/* ---- memory ------------------------------------------------------------ */

/* mmap() aligned to @align bytes; asserts. */
void *sg_mmap(size_t size, size_t align, int prot, int flags, int fd,
	      off_t off);
/* mmap(MAP_FIXED) at @addr; asserts the kernel used @addr. */
void sg_mmap_fixed(volatile void *addr, size_t size, int prot, int flags,
		   int fd, off_t off);
/*
 * Shared anonymous memory (a fork() leaves it alone), zeroed, bound
 * read-write (or with @flags) on every GPU of @ctx. Returns the CPU
 * pointer, *gpu the GPU address.
 */
uint32_t *sg_alloc_bound(struct sg_ctx *ctx, uint64_t size, uint32_t flags,
			 uint64_t *gpu);

/*
 * A buffer backed by a memfd and mapped twice: @a is the mapping tests
 * bind and then change (munmap, remap, mprotect, ...); @w maps the same
 * file pages and stays untouched. GPU accesses through a stale
 * translation of @a land in pages @w still maps: visible and harmless.
 */
struct sg_witness {
	int memfd;
	uint64_t size;
	uint32_t *a;
	uint32_t *w;
	uint64_t gpu;
};

/* @a_flags: MAP_SHARED or MAP_PRIVATE for @a. Nothing is bound. */
void sg_witness_init(struct sg_ctx *ctx, struct sg_witness *x, uint64_t size,
		     int a_flags);
/* Skips the subtest on a kernel without madvise(). */
void sg_require_madvise(void);
/* A new memfd of @size bytes, zero-filled. */
int sg_memfd(uint64_t size);

/*
 * madvise(MADV_DONTNEED) on a thread of its own (it takes mmap_lock for
 * read, so two run at once): for invalidations that overlap in time.
 */
struct sg_async_dontneed {
	pthread_t thread;
	void *addr;
	size_t len;
	int err;
	bool done;
};

void sg_dontneed_start(struct sg_async_dontneed *d, void *addr, size_t len);
/* Whether the call has returned. */
bool sg_dontneed_done(struct sg_async_dontneed *d);
/* Waits for the thread; returns 0 or -errno of the madvise(). */
int sg_dontneed_join(struct sg_async_dontneed *d);

static inline uint32_t sg_read32(const volatile void *p)
{
	return *(const volatile uint32_t *)p;
}

static inline void sg_write32(volatile void *p, uint32_t v)
{
	*(volatile uint32_t *)p = v;
}

/* Distinct non-zero values for tests to write. */
uint32_t sg_cookie(void);

/* Offset (bytes) of GPU @i's private dword in a shared page. */
#define SG_SLOT(i)	((uint64_t)(i) * 64)
#define SG_SLOT_DW(i)	((i) * 16)

/* ---- batches ----------------------------------------------------------- */

struct sg_batch {
	uint32_t *cs;
	uint64_t addr;
	unsigned int len;
	unsigned int max;
};

/* Takes the next slot of the ring (the ring wraps after ring_slots batches). */
void sg_batch_start(struct sg_ctx *ctx, struct sg_batch *b);
/* Builds into caller memory @cs mapped at GPU address @addr. */
void sg_batch_start_at(struct sg_batch *b, uint32_t *cs, uint64_t addr,
		       unsigned int max_dw);
void sg_emit_dw(struct sg_batch *b, uint32_t dw);
void sg_emit_store(struct sg_batch *b, uint64_t addr, uint32_t value);
void sg_emit_copy(struct sg_batch *b, uint64_t src, uint64_t dst,
		  uint32_t bytes);
void sg_emit_atomic_add(struct sg_batch *b, uint64_t addr, uint32_t value);
/* Any length: emitted as several DELAY commands of at most 100 ms. */
void sg_emit_delay(struct sg_batch *b, uint32_t usecs);
void sg_emit_store_loop(struct sg_batch *b, uint64_t addr, uint32_t count,
			uint32_t usecs);
/* Appends END; returns the batch's GPU address. */
uint64_t sg_batch_end(struct sg_batch *b);

/* ---- jobs -------------------------------------------------------------- */

struct sg_job {
	int fd;
	uint32_t syncobj;	/* dma-fence mode */
	volatile struct drm_simgpu_user_fence *ufence;	/* fault mode */
	uint64_t ufence_value;
	int slot;	/* in the outstanding-job table, -1 once done */
	int err;	/* fence error once done */
};

/*
 * Submits @batch on GPU @gi with a new out-syncobj. The job stays tracked
 * until waited for: the subtest's exit handler waits for every tracked
 * job, so no batch outlives the memory a test exits with.
 */
void sg_submit(struct sg_ctx *ctx, int gi, uint64_t batch,
	       uint32_t in_syncobj, struct sg_job *job);
/* As sg_submit() on (@fd, @vm); returns the ioctl's error. */
int __sg_submit(int fd, uint32_t vm, uint64_t batch, uint32_t in_syncobj,
		struct sg_job *job);
/*
 * Batch result (0 or -errno) from its fence (dma-fence mode) or its user
 * fence (fault mode), or -ETIME if still running after @timeout_ms.
 */
int sg_job_wait(struct sg_job *job, unsigned int timeout_ms);
/* Fence error; fails the subtest if the job does not end in SG_LONG_TIMEOUT_MS. */
int sg_job_finish(struct sg_job *job);
bool sg_job_busy(struct sg_job *job);
/*
 * Sync file of the job's fence, tracked until sg_sync_file_wait() saw it
 * end. dma-fence mode only.
 */
int sg_job_export(struct sg_job *job);
/* Destroys the job's syncobj (waits for the job first). */
void sg_job_put(struct sg_job *job);
/* Submit, wait, put: returns the fence error. */
int sg_run(struct sg_ctx *ctx, int gi, uint64_t batch);
/* Waits for every tracked job and sync file of this process. */
void sg_wait_outstanding(void);

/* ---- user fences ------------------------------------------------------- */

int __sg_wait_ufence(int fd, struct drm_simgpu_wait_user_fence *w);
/* A zeroed user fence record of this process, reused after 4096 others. */
volatile struct drm_simgpu_user_fence *sg_ufence_alloc(void);
/* Distinct value for a user fence to wait for. */
uint64_t sg_ufence_next_value(void);

/* Sync files: status 1 signalled, 0 active, < 0 error. */
int sg_sync_file_status(int fd);
void sg_sync_file_track(int fd);
/* Fence error, or -ETIME; stops tracking the fd once signalled. */
int sg_sync_file_wait(int fd, unsigned int timeout_ms);

/* ---- debugfs knobs and counters --------------------------------------- */

void sg_debugfs_path(const struct sg_gpu *g, const char *name, char *buf,
		     size_t size);
bool sg_debugfs_available(const struct sg_gpu *g);
int sg_knob_read(const struct sg_gpu *g, const char *name, char *buf,
		 size_t size);
int sg_knob_write(const struct sg_gpu *g, const char *name, const char *val);
/* Set now, restored by the runner after the subtest. */
int sg_knob_set_tmp(const struct sg_gpu *g, const char *name,
		    const char *val);
/* On every GPU of @ctx; skips the subtest if debugfs is missing. */
void sg_ctx_knob_set_tmp(struct sg_ctx *ctx, const char *name, const char *val);
/* Best effort: false (and an info line) if a knob could not be set. */
bool sg_ctx_try_knob_set_tmp(struct sg_ctx *ctx, const char *name,
			     const char *val);

#define SG_MAX_STATS 32
struct sg_stats {
	int n;
	char name[SG_MAX_STATS][40];
	uint64_t val[SG_MAX_STATS];
};

/* 0 or -errno. */
int sg_stats_read(const struct sg_gpu *g, struct sg_stats *s);
/* Whether @s has counter @name; its value in *val. */
bool sg_stats_find(const struct sg_stats *s, const char *name, uint64_t *val);
/* Value of counter @name; fails the subtest if the driver has none. */
uint64_t sg_stats_get(const struct sg_stats *s, const char *name);
/* One counter of GPU @g: 0, or -errno (-ENOENT: no such counter). */
int __sg_stat(const struct sg_gpu *g, const char *name, uint64_t *val);
/* One counter of GPU @g; skips the subtest without debugfs. */
uint64_t sg_stat(const struct sg_gpu *g, const char *name);
/*
 * Counter @name of /sys/kernel/debug/gsvm/svm_stats (module-wide SVM
 * counters); -ENOENT if absent.
 */
int __sg_svm_stat(const char *name, uint64_t *val);
/* Same; skips the subtest without it. */
uint64_t sg_svm_stat(const char *name);
/*
 * Counter @name of /sys/kernel/debug/gsvm/stats (module-wide counters of
 * every mirror); skips the subtest without that file.
 */
uint64_t sg_gsvm_stat(const char *name);
/*
 * gsvm's live objects (/sys/kernel/debug/gsvm/stats and svm_stats): what a
 * test takes before it starts and asserts is back once it tore down.
 */
struct sg_live {
	uint64_t mirrors, ranges, svm_notifiers, svm_ranges;
};

void sg_live_take(struct sg_live *l);
/*
 * Fails, naming @when and each counter, unless every one is back at @l
 * within 60 s (the last reference on a VM drops from a worker once its
 * last batch ended).
 */
void sg_live_assert(const struct sg_live *l, const char *when);

/* MemAvailable of /proc/meminfo, in KiB. */
uint64_t sg_mem_available_kib(void);

/* The SVM mode gsvm gives new VMs: true for two-pass. Skips without it. */
bool sg_svm_two_pass(void);

/* ---- scenario helpers -------------------------------------------------- */

/* GPU @gi writes @value at @addr; returns the fence error. */
int sg_gpu_write32(struct sg_ctx *ctx, int gi, uint64_t addr, uint32_t value);
/*
 * GPU @gi reads the dword at @addr (COPY into its scratch slot, which is
 * poisoned first); returns the value, *err the fence error.
 */
uint32_t sg_gpu_read32(struct sg_ctx *ctx, int gi, uint64_t addr, int *err);
/* Poison written to scratch slots before a GPU read. */
#define SG_POISON	0xdeadbeefu

/*
 * Warms every GPU's TLB for the page at @addr: GPU i writes @vals[i] at
 * @addr + SG_SLOT(i); asserts success and that @view (a CPU mapping of
 * the same page) shows the value.
 */
void sg_warm_slots(struct sg_ctx *ctx, uint64_t addr, uint32_t *view,
		   const uint32_t *vals);

/* Starts a STORE_LOOP on every GPU i at @addr + SG_SLOT(i). */
void sg_start_loops(struct sg_ctx *ctx, uint64_t addr, struct sg_job *jobs);
/* Asserts every loop reaches the CPU view @view (slot non-zero) and is still running. */
void sg_wait_loops_running(struct sg_ctx *ctx, const uint32_t *view,
			   struct sg_job *jobs);
void sg_snapshot_slots(struct sg_ctx *ctx, const uint32_t *view,
		       uint32_t *snap);
/*
 * Asserts for @ms milliseconds that no slot of @view moves from @snap:
 * no GPU writes through an old translation after the CPU call returned.
 * Then sg_ctx_assert_dma(): nor did one reach a page DMA-unmapped before
 * its TLB invalidation completed.
 */
void sg_assert_slots_stable(struct sg_ctx *ctx, const uint32_t *view,
			    const uint32_t *snap, unsigned int ms,
			    const char *what);

/*
 * Slow TLB invalidations (SG_SLOW_INVAL_US) and a timeout well above
 * them, on every GPU of @ctx, restored after the subtest. Skips the
 * subtest without the latency knob: at the default latency the -busy
 * checks could not see a stale write, so they would pass for nothing.
 */
void sg_slow_tlb_inval(struct sg_ctx *ctx);
/* Same with another latency (timeout: 50 times the latency). */
void sg_slow_tlb_inval_us(struct sg_ctx *ctx, unsigned int latency_us);

#endif /* SIMGPU_H */
