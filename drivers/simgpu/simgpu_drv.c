// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 */

#include <linux/device.h>
#include <linux/device/faux.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/swiotlb.h>
#include <linux/wait.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_print.h>

#include <drm/simgpu_drm.h>

#include "simgpu_debugfs.h"
#include "simgpu_dma.h"
#include "simgpu_drv.h"
#include "simgpu_engine.h"
#include "simgpu_tlb.h"
#include "simgpu_tlb_inval.h"
#include "simgpu_vm.h"

/**
 * DOC: simgpu overview
 *
 * simgpu simulates GPUs that mirror process memory through gsvm, so that
 * gsvm's two-pass invalidation can be exercised, traced and measured
 * without hardware, the way netdevsim serves the networking stack. The
 * ``num_gpus`` module parameter (1 to 64, default 4) sets how many GPUs
 * exist; each is a faux device ``simgpu<N>`` carrying a DRM render node
 * (driver ``simgpu``, no GEM, syncobjs) with a 64-bit DMA mask.
 *
 * Each GPU has:
 *
 * - **VMs**, created per file, each with an ASID unique on the GPU and a real
 *   4-level page table (48-bit VA, 4 KiB pages, 512 entries per level) whose
 *   leaf entries hold the DMA addresses gsvm mapped with the GPU's struct
 *   device. See DOC: simgpu VM and DOC: simgpu page table.
 * - **A TLB** of 64 entries, fully associative, tagged by (ASID, virtual
 *   page). It keeps serving a translation, even after its page-table entry
 *   was zapped, until a TLB invalidation covering it has been processed.
 *   See DOC: simgpu TLB.
 * - **A TLB invalidation queue** shaped like Xe's GuC protocol: seqnos,
 *   ranges widened to aligned powers of two, in-order completion after a
 *   configurable latency (40 us by default, i915's typical figure), pending
 *   fences signalled in order, a timeout worker that resets the TLB and
 *   fails late fences with -ETIME. See DOC: simgpu TLB invalidation.
 * - **An engine** running batches of the uAPI's command set in order. Every
 *   access goes through the MMU (TLB, then page walk); a missing or
 *   read-only translation is a GPU page fault serviced by
 *   gsvm_handle_fault(), then replayed. See DOC: simgpu engine.
 * - **debugfs knobs** under /sys/kernel/debug/simgpu/gpu<N>/ for the
 *   latency and timeout, for breaking the protocol on purpose
 *   (``skip_tlb_inval``, ``skip_finish_wait``, ``hang_tlb_inval``) and for
 *   counters (``stats``). See DOC: simgpu debugfs.
 *
 * GPUs come and go at runtime, as netdevsim's devices do: writing an index
 * to /sys/kernel/debug/simgpu/new_gpu adds GPU <index>, writing it to
 * ``del_gpu`` removes it, also while its files are open, its VMs have
 * bindings, batches are queued and invalidations are in flight. See
 * DOC: simgpu hotplug.
 *
 * Tracepoints (system ``simgpu``): simgpu_tlb_inval_send,
 * simgpu_tlb_inval_done, simgpu_tlb_inval_timeout, simgpu_gpu_fault,
 * simgpu_job_begin, simgpu_job_end.
 */

/**
 * DOC: simgpu locking
 *
 * Per GPU and VM, outermost first:
 *
 * - &gsvm_mirror.lock (gsvm's mutex): gsvm holds it around
 *   &gsvm_backend_ops.prepare (page-table directories are allocated under
 *   it, GFP_KERNEL) and &gsvm_backend_ops.bind, and by the dma-fence mode
 *   exec ioctl while it revalidates. The engine reaches it only through the
 *   fault workqueue (gsvm_handle_fault(), fault mode), with no simgpu lock
 *   held.
 * - the notifier lock (&drm_gpusvm.notifier_lock, gsvm's rw_semaphore):
 *   held by gsvm around bind (read), zap and tlb_inval_submit (write), and
 *   sometimes tlb_inval_wait and gpu_wait_idle; held in read mode by the
 *   dma-fence mode exec ioctl while it publishes the batch's fence in
 *   &simgpu_vm.last_fence and queues the batch. Under it simgpu neither
 *   allocates nor sleeps, except in tlb_inval_wait and gpu_wait_idle,
 *   which wait for fences that signal without it.
 * - &simgpu_tlb.mmu_lock (spinlock, bottom halves off): held across every
 *   GPU memory access (TLB lookup, page walk, TLB fill, the access) and by
 *   every TLB flush, so that once a flush is done no access uses a
 *   translation it removed. Taken by the engine and by the invalidation
 *   completion paths, never with the notifier lock required.
 * - &simgpu_tlb_inval.lock (spinlock, interrupts off): the request ring,
 *   seqnos and pending fences; held while fences are signalled.
 * - the inline locks of the invalidation fences (dma-fence core).
 *
 * Others: &simgpu_engine.lock orders a VM's batch fence seqnos with their
 * queueing, protects the engine's run lists and &simgpu_vm.last_fence; it
 * nests inside the notifier lock.
 * The xarray lock of &simgpu_file.vms covers VM
 * lookup and reference taking; the page table is written under gsvm's locks
 * as listed above and read locklessly (READ_ONCE, smp_load_acquire) by the
 * engine under &simgpu_tlb.mmu_lock, which is safe because directories live
 * as long as the VM and the engine holds a VM reference.
 *
 * Fence signalling: the invalidation completion paths (the soft hrtimer and
 * the timeout worker) are annotated with dma_fence_begin_signalling() and
 * never allocate, since gsvm waits for those fences inside mmu notifiers.
 * So is the dma-fence mode engine, from the end of a batch's in-fence wait
 * to the signalling of its fence: it never services a fault, allocates
 * nothing and takes no lock that is held while waiting for a fence, so its
 * fences may be exported anywhere and be waited for by invalidations and
 * reclaim. The fault-mode engine is not annotated (it services faults) and
 * has no dma-fence: its batches complete through user fences.
 */

/**
 * DOC: simgpu hotplug
 *
 * simgpu_gpu_add() creates a GPU as module load does. simgpu_gpu_del()
 * removes one in the order a hot-unplugged PCI GPU goes:
 *
 * 1. &simgpu_device.unplugged is set and user-fence waiters are woken (they
 *    return -ENODEV), then drm_dev_unplug() waits for every ioctl in
 *    flight: each runs inside drm_dev_enter() (simgpu_ioctl()), and new
 *    ones fail with -ENODEV.
 * 2. The knob files go, then the engine runs what is queued to its end
 *    (each batch within its time budget; fault-mode batches still have
 *    their faults serviced).
 * 3. Every VM still alive (its file is open) is killed: simgpu_vm_kill()
 *    zaps and DMA-unmaps its bindings, waiting for their TLB invalidations,
 *    and removes its notifiers, which waits for invalidations in flight.
 *    From then on the process's munmaps no longer reach the GPU.
 * 4. The invalidation queue stops, the ASIDs are all free, and the faux
 *    device goes. The &struct simgpu_device lives on in memory until the
 *    last file and VM drop their references.
 *
 * &simgpu_device.vms_lock makes step 3 and a VM's own release exclude each
 * other: whichever comes first tears the bindings down, once.
 * simgpu_devices_lock serialises adding and removing GPUs with each other
 * and with module unload.
 */

static unsigned int num_gpus = 4;
module_param(num_gpus, uint, 0444);
MODULE_PARM_DESC(num_gpus, "Number of simulated GPUs at load, 1 to 64 (default: 4)");

/* Protects simgpu_devices[] and simgpu_live; see DOC: simgpu hotplug. */
static DEFINE_MUTEX(simgpu_devices_lock);
static struct simgpu_device *simgpu_devices[SIMGPU_MAX_GPUS];
static unsigned int simgpu_live;

/**
 * simgpu_num_gpus() - Number of simulated GPUs
 *
 * Return: How many GPUs exist now: num_gpus at load, then as GPUs are
 * added and removed.
 */
unsigned int simgpu_num_gpus(void)
{
	return READ_ONCE(simgpu_live);
}

static int simgpu_query_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct simgpu_device *gpu = to_simgpu_device(drm);
	struct drm_simgpu_query *args = data;

	if (args->extensions || args->flags || args->reserved[0] || args->reserved[1])
		return -EINVAL;

	args->gpu_index = gpu->index;
	args->num_gpus = simgpu_num_gpus();
	args->va_bits = SIMGPU_VA_BITS;
	args->page_size = SIMGPU_PAGE_SIZE;
	args->tlb_inval_latency_ns =
		(u64)READ_ONCE(gpu->knobs.tlb_inval_latency_us) * NSEC_PER_USEC;

	return 0;
}

static int simgpu_open(struct drm_device *drm, struct drm_file *file)
{
	return simgpu_vm_file_open(file);
}

static void simgpu_postclose(struct drm_device *drm, struct drm_file *file)
{
	simgpu_vm_file_close(file);
}

static const struct drm_ioctl_desc simgpu_ioctls[] = {
	DRM_IOCTL_DEF_DRV(SIMGPU_QUERY, simgpu_query_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(SIMGPU_VM_CREATE, simgpu_vm_create_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(SIMGPU_VM_DESTROY, simgpu_vm_destroy_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(SIMGPU_VM_BIND, simgpu_vm_bind_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(SIMGPU_VM_UNBIND, simgpu_vm_unbind_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(SIMGPU_EXEC, simgpu_engine_exec_ioctl, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(SIMGPU_WAIT_USER_FENCE, simgpu_engine_wait_ufence_ioctl,
			  DRM_RENDER_ALLOW),
};

/*
 * Every ioctl runs inside drm_dev_enter(), so that removing the GPU can wait
 * for them to end (DOC: simgpu hotplug); once it started, -ENODEV.
 */
static long simgpu_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct drm_file *file = filp->private_data;
	long ret;
	int idx;

	if (!drm_dev_enter(file->minor->dev, &idx))
		return -ENODEV;
	ret = drm_ioctl(filp, cmd, arg);
	drm_dev_exit(idx);
	return ret;
}

#ifdef CONFIG_COMPAT
static long simgpu_compat_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct drm_file *file = filp->private_data;
	long ret;
	int idx;

	if (!drm_dev_enter(file->minor->dev, &idx))
		return -ENODEV;
	ret = drm_compat_ioctl(filp, cmd, arg);
	drm_dev_exit(idx);
	return ret;
}
#else
#define simgpu_compat_ioctl NULL
#endif

/* DRM_GEM_FOPS without mmap: simgpu has no GEM objects. */
static const struct file_operations simgpu_fops = {
	.owner = THIS_MODULE,
	.open = drm_open,
	.release = drm_release,
	.unlocked_ioctl = simgpu_ioctl,
	.compat_ioctl = simgpu_compat_ioctl,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	.fop_flags = FOP_UNSIGNED_OFFSET,
};

static const struct drm_driver simgpu_driver = {
	.driver_features = DRIVER_RENDER | DRIVER_SYNCOBJ,
	.open = simgpu_open,
	.postclose = simgpu_postclose,
	.ioctls = simgpu_ioctls,
	.num_ioctls = ARRAY_SIZE(simgpu_ioctls),
	.fops = &simgpu_fops,
	.name = "simgpu",
	.desc = "Simulated multi-GPU for shared virtual memory testing",
	.major = 1,
	.minor = 0,
};

static void simgpu_knobs_init(struct simgpu_knobs *knobs)
{
	*knobs = (struct simgpu_knobs) {
		.tlb_inval_latency_us = 40,
		.tlb_inval_timeout_ms = 250,
	};
}

static int simgpu_device_create(unsigned int index)
{
	struct faux_device *fdev;
	struct simgpu_device *gpu;
	char name[SIMGPU_NAME_LEN];
	int err;

	snprintf(name, sizeof(name), "simgpu%u", index);
	fdev = faux_device_create(name, NULL, NULL);
	if (!fdev)
		return -ENODEV;

	if (!devres_open_group(&fdev->dev, NULL, GFP_KERNEL)) {
		err = -ENOMEM;
		goto err_faux;
	}

	/* gsvm DMA-maps with this device; the engine reads those addresses. */
	err = dma_coerce_mask_and_coherent(&fdev->dev, DMA_BIT_MASK(64));
	if (err)
		goto err_devres;
	if (is_swiotlb_force_bounce(&fdev->dev)) {
		dev_err(&fdev->dev, "bounce buffering breaks the simulated DMA\n");
		err = -ENODEV;
		goto err_devres;
	}

	gpu = devm_drm_dev_alloc(&fdev->dev, &simgpu_driver, struct simgpu_device, drm);
	if (IS_ERR(gpu)) {
		err = PTR_ERR(gpu);
		goto err_devres;
	}

	gpu->faux = fdev;
	gpu->index = index;
	strscpy(gpu->name, name);
	simgpu_knobs_init(&gpu->knobs);
	ida_init(&gpu->asids);
	mutex_init(&gpu->vms_lock);
	INIT_LIST_HEAD(&gpu->vms);
	simgpu_tlb_init(&gpu->tlb);

	/* Before anything can DMA-map on the device. */
	err = simgpu_dma_init(gpu);
	if (err)
		goto err_devres;

	err = simgpu_tlb_inval_init(gpu);
	if (err)
		goto err_dma;

	err = simgpu_engine_init(gpu);
	if (err)
		goto err_tlb_inval;

	simgpu_debugfs_device_init(gpu);

	err = drm_dev_register(&gpu->drm, 0);
	if (err)
		goto err_debugfs;

	simgpu_devices[index] = gpu;
	WRITE_ONCE(simgpu_live, simgpu_live + 1);
	return 0;

err_debugfs:
	simgpu_debugfs_device_fini(gpu);
	simgpu_engine_fini(gpu);
err_tlb_inval:
	simgpu_tlb_inval_fini(gpu);
err_dma:
	simgpu_dma_fini(gpu);
err_devres:
	devres_release_group(&fdev->dev, NULL);
err_faux:
	faux_device_destroy(fdev);
	return err;
}

/* See DOC: simgpu hotplug. Called with simgpu_devices_lock held. */
static void simgpu_device_remove(struct simgpu_device *gpu)
{
	struct faux_device *fdev = gpu->faux;
	struct simgpu_vm *vm;

	lockdep_assert_held(&simgpu_devices_lock);
	simgpu_devices[gpu->index] = NULL;
	WRITE_ONCE(simgpu_live, simgpu_live - 1);

	WRITE_ONCE(gpu->unplugged, true);
	wake_up_all(&gpu->engine.ufence_wq);
	/* Unregisters the nodes and waits for the ioctls in flight. */
	drm_dev_unplug(&gpu->drm);
	/*
	 * First, so that no knob write (hang_tlb_inval kicks the queue) can
	 * reach the invalidation queue once it is torn down.
	 */
	simgpu_debugfs_device_fini(gpu);
	/* Runs what is queued, and releases the VMs of closed files. */
	simgpu_engine_fini(gpu);
	/* The VMs of files still open lose their bindings now. */
	mutex_lock(&gpu->vms_lock);
	list_for_each_entry(vm, &gpu->vms, link) {
		if (!vm->dead)
			simgpu_vm_kill(vm);
	}
	mutex_unlock(&gpu->vms_lock);
	simgpu_tlb_inval_fini(gpu);
	/* No binding is left to DMA-unmap. */
	simgpu_dma_fini(gpu);
	WARN_ON(!ida_is_empty(&gpu->asids));
	ida_destroy(&gpu->asids);
	/* Drops the devm reference; open files and VMs keep their own. */
	devres_release_group(&fdev->dev, NULL);
	faux_device_destroy(fdev);
}

/**
 * simgpu_gpu_add() - Add a simulated GPU at runtime
 * @index: Its index, below %SIMGPU_MAX_GPUS and not in use.
 *
 * Return: 0, -EINVAL for an index out of range, -EEXIST if GPU @index
 * exists, or the error of creating it (-ENOMEM, -ENODEV).
 */
int simgpu_gpu_add(unsigned int index)
{
	int err;

	if (index >= SIMGPU_MAX_GPUS)
		return -EINVAL;
	mutex_lock(&simgpu_devices_lock);
	err = simgpu_devices[index] ? -EEXIST : simgpu_device_create(index);
	mutex_unlock(&simgpu_devices_lock);
	return err;
}

/**
 * simgpu_gpu_del() - Remove a simulated GPU at runtime
 * @index: The GPU.
 *
 * See DOC: simgpu hotplug. Sleeps until the GPU's queued batches ended
 * and its VMs' bindings are torn down.
 *
 * Return: 0, -EINVAL for an index out of range, -ENOENT if there is no
 * GPU @index.
 */
int simgpu_gpu_del(unsigned int index)
{
	int err = 0;

	if (index >= SIMGPU_MAX_GPUS)
		return -EINVAL;
	mutex_lock(&simgpu_devices_lock);
	if (simgpu_devices[index])
		simgpu_device_remove(simgpu_devices[index]);
	else
		err = -ENOENT;
	mutex_unlock(&simgpu_devices_lock);
	return err;
}

static void simgpu_destroy_all(void)
{
	unsigned int i;

	mutex_lock(&simgpu_devices_lock);
	for (i = SIMGPU_MAX_GPUS; i-- > 0;) {
		if (simgpu_devices[i])
			simgpu_device_remove(simgpu_devices[i]);
	}
	mutex_unlock(&simgpu_devices_lock);
}

static int __init simgpu_init(void)
{
	unsigned int i;
	int err;

	if (!num_gpus || num_gpus > SIMGPU_MAX_GPUS) {
		pr_err("simgpu: num_gpus must be 1 to %u, not %u\n",
		       SIMGPU_MAX_GPUS, num_gpus);
		return -EINVAL;
	}

	simgpu_dma_setup();
	simgpu_debugfs_init();

	for (i = 0; i < num_gpus; i++) {
		err = simgpu_gpu_add(i);
		if (err) {
			simgpu_debugfs_hotplug_fini();
			simgpu_destroy_all();
			simgpu_debugfs_fini();
			return err;
		}
	}

	return 0;
}

static void __exit simgpu_exit(void)
{
	/* First: no new_gpu or del_gpu write runs or follows. */
	simgpu_debugfs_hotplug_fini();
	simgpu_destroy_all();
	simgpu_debugfs_fini();
	/* Let RCU readers of signalled fences finish with our strings and ops. */
	synchronize_rcu();
}

module_init(simgpu_init);
module_exit(simgpu_exit);

MODULE_DESCRIPTION("Simulated multi-GPU DRM driver for gsvm");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("GSVM");
