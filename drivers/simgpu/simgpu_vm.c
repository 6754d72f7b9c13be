// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 */

#include <linux/align.h>
#include <linux/atomic.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include <gsvm/gsvm.h>
#include <drm/simgpu_drm.h>

#include "simgpu_drv.h"
#include "simgpu_pt.h"
#include "simgpu_tlb.h"
#include "simgpu_tlb_inval.h"
#include "simgpu_trace.h"
#include "simgpu_vm.h"

/**
 * DOC: simgpu VM
 *
 * A VM is one GPU address space (one ASID, one page table) mirroring the
 * address space of the process that created it, through the
 * &struct gsvm_mirror it embeds. simgpu is gsvm's backend
 * (&struct gsvm_backend_ops): gsvm owns the bindings and their notifiers and
 * calls back into the VM to prepare and write page-table entries, to zap
 * them and to submit and wait for TLB invalidations. The engine calls
 * gsvm_handle_fault() when an access finds no valid translation.
 *
 * A VM is in dma-fence mode or in fault mode (see DOC: simgpu uAPI). The
 * backend's &gsvm_backend_ops.gpu_idle and &gsvm_backend_ops.gpu_wait_idle
 * work on &simgpu_vm.last_fence, so that an invalidation of a dma-fence mode
 * VM waits for its batches before it zaps, and the engine never calls into
 * gsvm for such a VM; a fault-mode VM is always idle for them. In fault
 * mode the engine posts GPU page faults to the GPU's fault workqueue, whose
 * worker calls gsvm_handle_fault().
 *
 * Lifetime: the file's VM table holds one reference, each queued or running
 * batch one, each ioctl using the VM one for its duration. Destroying the VM
 * (ioctl or file close) only drops the table's reference: batches still
 * running keep the VM, its bindings included, until they complete. The last
 * reference tears the mirror down (gsvm_mirror_fini() zaps every binding and
 * invalidates the TLB), flushes what the skip knobs may have left in the TLB
 * for the ASID, frees the page table and the ASID.
 */

/* A generous cap: each binding costs a notifier and a DMA address array. */
#define SIMGPU_VM_MAX_BINDINGS	65536

static unsigned int max_bind_mb = 4096;
module_param(max_bind_mb, uint, 0644);
MODULE_PARM_DESC(max_bind_mb,
		 "Largest userptr binding, in MiB (default 4096); larger binds fail with -E2BIG");

static unsigned int max_vms_per_file = 64;
module_param(max_vms_per_file, uint, 0644);
MODULE_PARM_DESC(max_vms_per_file,
		 "VMs one open file may hold at once (default 64; ASIDs are a shared 16-bit space); more fail with -ENOSPC");

static struct simgpu_vm *mirror_to_vm(struct gsvm_mirror *mirror)
{
	return container_of(mirror, struct simgpu_vm, mirror);
}

static void simgpu_vm_assert_notifier_held(struct simgpu_vm *vm)
{
	lockdep_assert_held(&vm->mirror.gpusvm.notifier_lock);
}

static void simgpu_vm_assert_notifier_held_write(struct simgpu_vm *vm)
{
	lockdep_assert_held_write(&vm->mirror.gpusvm.notifier_lock);
}

/* Free unhooked tables once no engine walker can still hold one. */
static void simgpu_vm_free_tables(struct simgpu_vm *vm, struct list_head *freed)
{
	if (list_empty(freed))
		return;
	/* Walkers run under the MMU lock: once we got it, they are done. */
	spin_lock_bh(&vm->gpu->tlb.mmu_lock);
	spin_unlock_bh(&vm->gpu->tlb.mmu_lock);
	simgpu_pt_free_tables(freed);
}

static int simgpu_vm_prepare(struct gsvm_mirror *mirror, u64 start, u64 size)
{
	struct simgpu_vm *vm = mirror_to_vm(mirror);
	LIST_HEAD(freed);
	int err;

	lockdep_assert_held(&mirror->lock);
	err = simgpu_pt_prepare(&vm->pt, start, size, &freed);
	simgpu_vm_free_tables(vm, &freed);
	return err;
}

static void simgpu_vm_unprepare(struct gsvm_mirror *mirror, u64 start, u64 size)
{
	struct simgpu_vm *vm = mirror_to_vm(mirror);
	LIST_HEAD(freed);

	lockdep_assert_held(&mirror->lock);
	simgpu_pt_unprepare(&vm->pt, start, size, &freed);
	simgpu_vm_free_tables(vm, &freed);
}

static void simgpu_vm_bind_ptes(struct gsvm_mirror *mirror, u64 start,
				const struct drm_pagemap_addr *dma,
				unsigned long npages, bool read_only)
{
	struct simgpu_vm *vm = mirror_to_vm(mirror);

	lockdep_assert_held(&mirror->lock);
	simgpu_vm_assert_notifier_held(vm);
	simgpu_pt_bind(&vm->pt, start, dma, npages, read_only);
}

static bool simgpu_vm_zap_ptes(struct gsvm_mirror *mirror, u64 start, u64 size)
{
	struct simgpu_vm *vm = mirror_to_vm(mirror);

	simgpu_vm_assert_notifier_held_write(vm);
	/* Broken on purpose: the walk finds the old entries again. */
	if (READ_ONCE(vm->gpu->knobs.skip_zap))
		return true;
	return simgpu_pt_zap(&vm->pt, start, size);
}

static void simgpu_vm_tlb_inval_submit(struct gsvm_mirror *mirror,
				       struct gsvm_tlb_inval_fence *fence,
				       u64 start, u64 size)
{
	struct simgpu_vm *vm = mirror_to_vm(mirror);

	simgpu_vm_assert_notifier_held_write(vm);
	simgpu_tlb_inval_submit(vm->gpu, fence, vm->asid, start, size);
}

static int simgpu_vm_tlb_inval_wait(struct gsvm_mirror *mirror,
				    struct gsvm_tlb_inval_fence *fence)
{
	return simgpu_tlb_inval_wait(mirror_to_vm(mirror)->gpu, fence);
}

static int simgpu_vm_tlb_inval_reset(struct gsvm_mirror *mirror)
{
	struct simgpu_vm *vm = mirror_to_vm(mirror);

	return simgpu_tlb_inval_reset_vm(vm->gpu, vm->asid);
}

/*
 * Kick the VM's dma-fence batches; true if none is left (always for a
 * fault-mode VM, whose batches fault once zapped). Notifier lock held
 * (write).
 */
static bool simgpu_vm_gpu_idle(struct gsvm_mirror *mirror)
{
	struct simgpu_vm *vm = mirror_to_vm(mirror);
	struct simgpu_engine *engine = &vm->gpu->engine;
	bool idle;

	simgpu_vm_assert_notifier_held_write(vm);
	if (vm->fault_mode || READ_ONCE(vm->gpu->knobs.skip_job_wait))
		return true;

	spin_lock(&engine->lock);
	idle = !vm->last_fence || dma_fence_is_signaled(vm->last_fence);
	spin_unlock(&engine->lock);
	return idle;
}

/*
 * Wait for the VM's batches. They signal in bounded time (the in-fence
 * wait and the batch both have a 10 s budget) and never depend on fault
 * servicing or memory allocation: the engine's dma-fence path is a
 * signalling critical section.
 */
static void simgpu_vm_gpu_wait_idle(struct gsvm_mirror *mirror)
{
	struct simgpu_vm *vm = mirror_to_vm(mirror);
	struct simgpu_engine *engine = &vm->gpu->engine;
	struct dma_fence *fence;

	spin_lock(&engine->lock);
	fence = dma_fence_get(vm->last_fence);
	spin_unlock(&engine->lock);

	if (fence) {
		dma_fence_wait(fence, false);
		dma_fence_put(fence);
	}
}

static const struct gsvm_backend_ops simgpu_gsvm_ops = {
	.prepare = simgpu_vm_prepare,
	.unprepare = simgpu_vm_unprepare,
	.bind = simgpu_vm_bind_ptes,
	.zap = simgpu_vm_zap_ptes,
	.tlb_inval_submit = simgpu_vm_tlb_inval_submit,
	.tlb_inval_wait = simgpu_vm_tlb_inval_wait,
	.tlb_inval_reset = simgpu_vm_tlb_inval_reset,
	.gpu_idle = simgpu_vm_gpu_idle,
	.gpu_wait_idle = simgpu_vm_gpu_wait_idle,
};

/* SVM VMs are fault mode only: none of their work needs waiting for. */
static const struct gsvm_backend_ops simgpu_gsvm_svm_ops = {
	.prepare = simgpu_vm_prepare,
	.unprepare = simgpu_vm_unprepare,
	.bind = simgpu_vm_bind_ptes,
	.zap = simgpu_vm_zap_ptes,
	.tlb_inval_submit = simgpu_vm_tlb_inval_submit,
	.tlb_inval_wait = simgpu_vm_tlb_inval_wait,
	.tlb_inval_reset = simgpu_vm_tlb_inval_reset,
};

static struct simgpu_vm *simgpu_vm_create(struct simgpu_device *gpu, u32 flags)
{
	struct simgpu_vm *vm;
	int err;

	vm = kzalloc_obj(*vm, GFP_KERNEL_ACCOUNT);
	if (!vm)
		return ERR_PTR(-ENOMEM);

	kref_init(&vm->refcount);
	vm->gpu = gpu;
	vm->mm = current->mm;
	vm->fault_mode = flags & DRM_SIMGPU_VM_CREATE_FAULT_MODE;
	vm->svm = flags & DRM_SIMGPU_VM_CREATE_SVM;
	atomic_set(&vm->num_bindings, 0);
	atomic_set(&vm->num_jobs, 0);
	INIT_LIST_HEAD(&vm->job_queue);
	INIT_LIST_HEAD(&vm->engine_link);
	vm->fence_context = dma_fence_context_alloc(1);

	err = ida_alloc_range(&gpu->asids, 1, SIMGPU_MAX_ASID, GFP_KERNEL);
	if (err < 0)
		goto err_free;
	vm->asid = err;

	err = simgpu_pt_init(&vm->pt);
	if (err)
		goto err_asid;

	if (vm->svm)
		err = gsvm_mirror_init_svm(&vm->mirror, &gpu->drm,
					   &simgpu_gsvm_svm_ops, current->mm,
					   gpu->name, DRM_SIMGPU_SVM_END);
	else
		err = gsvm_mirror_init(&vm->mirror, &gpu->drm, &simgpu_gsvm_ops,
				       current->mm, gpu->name);
	if (err)
		goto err_pt;

	drm_dev_get(&gpu->drm);
	mutex_lock(&gpu->vms_lock);
	list_add_tail(&vm->link, &gpu->vms);
	mutex_unlock(&gpu->vms_lock);
	return vm;

err_pt:
	simgpu_pt_fini(&vm->pt);
err_asid:
	ida_free(&gpu->asids, vm->asid);
err_free:
	kfree(vm);
	return ERR_PTR(err);
}

/**
 * simgpu_vm_kill() - Tear down what a VM has on its GPU
 * @vm: The VM; no ioctl, batch or fault servicing uses it any more.
 *
 * Called by the VM's release, or by simgpu_device_remove() for the VMs
 * that outlive their GPU (their files are still open): zaps and unmaps
 * every binding, waiting for the TLB invalidations (gsvm_mirror_fini()),
 * and gives the ASID back. What is left is memory, freed by the release.
 */
void simgpu_vm_kill(struct simgpu_vm *vm)
{
	struct simgpu_device *gpu = vm->gpu;

	lockdep_assert_held(&gpu->vms_lock);

	/* Zaps every binding and waits for the TLB invalidations. */
	gsvm_mirror_fini(&vm->mirror);

	/*
	 * Normally a no-op; with skip_tlb_inval the TLB may still hold entries
	 * of this ASID, which must not leak to the next VM that gets it.
	 */
	spin_lock_bh(&gpu->tlb.mmu_lock);
	simgpu_tlb_flush_asid(&gpu->tlb, vm->asid);
	spin_unlock_bh(&gpu->tlb.mmu_lock);

	ida_free(&gpu->asids, vm->asid);
	vm->dead = true;
}

static void simgpu_vm_release(struct kref *kref)
{
	struct simgpu_vm *vm = container_of(kref, struct simgpu_vm, refcount);
	struct simgpu_device *gpu = vm->gpu;

	mutex_lock(&gpu->vms_lock);
	list_del(&vm->link);
	if (!vm->dead)
		simgpu_vm_kill(vm);
	mutex_unlock(&gpu->vms_lock);

	dma_fence_put(vm->last_fence);
	simgpu_pt_fini(&vm->pt);
	kfree(vm);
	/* May free the GPU, if it was removed meanwhile. */
	drm_dev_put(&gpu->drm);
}

/**
 * simgpu_vm_put() - Drop a reference on a VM
 * @vm: The VM.
 *
 * The last reference tears the VM down, which sleeps.
 */
void simgpu_vm_put(struct simgpu_vm *vm)
{
	might_sleep();
	kref_put(&vm->refcount, simgpu_vm_release);
}

/**
 * simgpu_vm_lookup() - Find a VM of a file and take a reference
 * @file: The DRM file.
 * @id: The VM id.
 *
 * Return: The VM, ERR_PTR(-ENOENT) if @file has no VM @id, ERR_PTR(-EPERM)
 * if the calling process is not the one the VM mirrors.
 */
struct simgpu_vm *simgpu_vm_lookup(struct drm_file *file, u32 id)
{
	struct simgpu_file *sfile = file->driver_priv;
	struct simgpu_vm *vm;

	xa_lock(&sfile->vms);
	vm = xa_load(&sfile->vms, id);
	if (vm)
		simgpu_vm_get(vm);
	xa_unlock(&sfile->vms);

	if (!vm)
		return ERR_PTR(-ENOENT);

	if (vm->mm != current->mm) {
		simgpu_vm_put(vm);
		return ERR_PTR(-EPERM);
	}

	return vm;
}

/**
 * simgpu_vm_handle_fault() - Service a GPU page fault
 * @vm: The fault-mode VM the faulting access ran in.
 * @va: The faulting GPU virtual address.
 * @write: The access was a write.
 *
 * Called by the fault queue's worker. Sleeps; allocates.
 *
 * Return: 0 if the access can be replayed (also when invalidations kept
 * racing with the fault: the engine bounds its replays), -EACCES for a
 * write to a read-only binding, -EFAULT for anything else gsvm could not
 * service.
 */
int simgpu_vm_handle_fault(struct simgpu_vm *vm, u64 va, bool write)
{
	struct simgpu_device *gpu = vm->gpu;
	int err;

	if (WARN_ON_ONCE(!vm->fault_mode))
		return -EFAULT;

	err = gsvm_handle_fault(&vm->mirror, va, write);
	/* Invalidations kept racing: replay, the engine bounds the retries. */
	if (err == -EBUSY)
		err = 0;

	simgpu_stat_inc(gpu, SIMGPU_STAT_GPU_FAULTS);
	if (err)
		simgpu_stat_inc(gpu, SIMGPU_STAT_GPU_FAULTS_FAILED);
	trace_simgpu_gpu_fault(gpu, vm->asid, va, write, err);

	return err && err != -EACCES ? -EFAULT : err;
}

/**
 * simgpu_vm_file_open() - Set up a file's VM table
 * @file: The DRM file being opened.
 *
 * Return: 0 or -ENOMEM.
 */
int simgpu_vm_file_open(struct drm_file *file)
{
	struct simgpu_file *sfile;

	sfile = kzalloc_obj(*sfile);
	if (!sfile)
		return -ENOMEM;

	xa_init_flags(&sfile->vms, XA_FLAGS_ALLOC1);
	file->driver_priv = sfile;
	return 0;
}

/**
 * simgpu_vm_file_close() - Destroy every VM of a closing file
 * @file: The DRM file.
 *
 * Batches still queued or running keep their VM until they complete.
 */
void simgpu_vm_file_close(struct drm_file *file)
{
	struct simgpu_file *sfile = file->driver_priv;
	struct simgpu_vm *vm;
	unsigned long id;

	xa_for_each(&sfile->vms, id, vm) {
		xa_erase(&sfile->vms, id);
		simgpu_vm_put(vm);
	}
	xa_destroy(&sfile->vms);
	kfree(sfile);
	file->driver_priv = NULL;
}

/**
 * simgpu_vm_create_ioctl() - DRM_IOCTL_SIMGPU_VM_CREATE
 * @drm: The DRM device.
 * @data: &struct drm_simgpu_vm_create.
 * @file: The DRM file.
 *
 * Return: 0, -EINVAL for malformed arguments, -EPERM without a user address
 * space, -ENOSPC if the GPU ran out of ASIDs or the file already holds
 * ``max_vms_per_file`` VMs, -ENOMEM.
 */
int simgpu_vm_create_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct simgpu_file *sfile = file->driver_priv;
	struct drm_simgpu_vm_create *args = data;
	struct simgpu_vm *vm;
	u32 id;
	int err;

	if (args->extensions || args->reserved[0] || args->reserved[1] ||
	    args->flags & ~(DRM_SIMGPU_VM_CREATE_FAULT_MODE |
			    DRM_SIMGPU_VM_CREATE_SVM))
		return -EINVAL;
	/* SVM memory is reached through GPU page faults only. */
	if ((args->flags & DRM_SIMGPU_VM_CREATE_SVM) &&
	    !(args->flags & DRM_SIMGPU_VM_CREATE_FAULT_MODE))
		return -EINVAL;
	if (!current->mm)
		return -EPERM;

	vm = simgpu_vm_create(to_simgpu_device(drm), args->flags);
	if (IS_ERR(vm))
		return PTR_ERR(vm);

	/* IDs 1 .. max_vms_per_file: at most that many VMs at once. */
	err = xa_alloc(&sfile->vms, &id, vm,
		       XA_LIMIT(1, max(READ_ONCE(max_vms_per_file), 1U)),
		       GFP_KERNEL_ACCOUNT);
	if (err) {
		simgpu_vm_put(vm);
		return err == -EBUSY ? -ENOSPC : err;
	}

	args->vm_id = id;
	return 0;
}

/**
 * simgpu_vm_destroy_ioctl() - DRM_IOCTL_SIMGPU_VM_DESTROY
 * @drm: The DRM device.
 * @data: &struct drm_simgpu_vm_destroy.
 * @file: The DRM file.
 *
 * Return: 0, -EINVAL for malformed arguments, -ENOENT for an unknown VM,
 * -EPERM from another process.
 */
int simgpu_vm_destroy_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct simgpu_file *sfile = file->driver_priv;
	struct drm_simgpu_vm_destroy *args = data;
	struct simgpu_vm *vm;
	int err = 0;

	if (args->extensions || args->pad || args->reserved[0] || args->reserved[1])
		return -EINVAL;

	xa_lock(&sfile->vms);
	vm = xa_load(&sfile->vms, args->vm_id);
	if (!vm)
		err = -ENOENT;
	else if (vm->mm != current->mm)
		err = -EPERM;
	else
		__xa_erase(&sfile->vms, args->vm_id);
	xa_unlock(&sfile->vms);

	if (!err)
		simgpu_vm_put(vm);
	return err;
}

/* Common checks of a GPU range: aligned, non-empty, inside the VA space. */
static bool simgpu_vm_range_valid(u64 addr, u64 range)
{
	return range && IS_ALIGNED(addr, SIMGPU_PAGE_SIZE) &&
	       IS_ALIGNED(range, SIMGPU_PAGE_SIZE) && addr < SIMGPU_VA_SIZE &&
	       range <= SIMGPU_VA_SIZE - addr;
}

/**
 * simgpu_vm_bind_ioctl() - DRM_IOCTL_SIMGPU_VM_BIND
 * @drm: The DRM device.
 * @data: &struct drm_simgpu_vm_bind.
 * @file: The DRM file.
 *
 * Return: 0, -EINVAL for malformed arguments (or an address below
 * %DRM_SIMGPU_SVM_END on an SVM VM), -ENOENT for an unknown VM,
 * -EPERM from another process, -EEXIST if the range overlaps a binding,
 * -ENOSPC past %SIMGPU_VM_MAX_BINDINGS bindings, -E2BIG for a range over
 * the ``max_bind_mb`` module parameter, -EFAULT if the memory is not mapped
 * with the needed access, -EBUSY if the CPU mapping kept changing while it
 * was being mirrored, -EINTR if the caller was killed meanwhile, -EIO if the
 * VM is wedged after an unrecoverable TLB invalidation timeout, -ENOMEM.
 */
int simgpu_vm_bind_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_simgpu_vm_bind *args = data;
	struct simgpu_vm *vm;
	int err;

	if (args->extensions || args->reserved[0] || args->reserved[1] ||
	    args->flags & ~DRM_SIMGPU_BIND_READONLY)
		return -EINVAL;
	if (!simgpu_vm_range_valid(args->addr, args->range) ||
	    !IS_ALIGNED(args->userptr, SIMGPU_PAGE_SIZE) ||
	    args->userptr + args->range < args->userptr)
		return -EINVAL;
	if (args->range > (u64)READ_ONCE(max_bind_mb) << 20)
		return -E2BIG;
	if (!access_ok(u64_to_user_ptr(args->userptr), args->range))
		return -EFAULT;

	vm = simgpu_vm_lookup(file, args->vm_id);
	if (IS_ERR(vm))
		return PTR_ERR(vm);

	if (atomic_inc_return(&vm->num_bindings) > SIMGPU_VM_MAX_BINDINGS) {
		err = -ENOSPC;
	} else {
		err = gsvm_range_bind(&vm->mirror, args->userptr, args->addr,
				      args->range,
				      args->flags & DRM_SIMGPU_BIND_READONLY);
	}
	if (err)
		atomic_dec(&vm->num_bindings);

	simgpu_vm_put(vm);
	return err;
}

/**
 * simgpu_vm_unbind_ioctl() - DRM_IOCTL_SIMGPU_VM_UNBIND
 * @drm: The DRM device.
 * @data: &struct drm_simgpu_vm_unbind.
 * @file: The DRM file.
 *
 * On success the GPU can no longer reach the memory.
 *
 * Return: 0, -EINVAL for malformed arguments, -ENOENT for an unknown VM or
 * if no binding matches exactly, -EPERM from another process.
 */
int simgpu_vm_unbind_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_simgpu_vm_unbind *args = data;
	struct simgpu_vm *vm;
	int err;

	if (args->extensions || args->pad || args->reserved[0] || args->reserved[1])
		return -EINVAL;
	if (!simgpu_vm_range_valid(args->addr, args->range))
		return -EINVAL;

	vm = simgpu_vm_lookup(file, args->vm_id);
	if (IS_ERR(vm))
		return PTR_ERR(vm);

	err = gsvm_range_unbind(&vm->mirror, args->addr, args->range);
	if (!err)
		atomic_dec(&vm->num_bindings);

	simgpu_vm_put(vm);
	return err;
}
