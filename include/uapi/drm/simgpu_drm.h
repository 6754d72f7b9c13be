/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _UAPI_SIMGPU_DRM_H_
#define _UAPI_SIMGPU_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: simgpu uAPI
 *
 * simgpu is a simulated GPU: each simulated GPU is one DRM render node.
 * A process creates a GPU VM on a node, binds ranges of its own
 * address space (userptr) at GPU virtual addresses, and submits batches
 * that the simulated engine executes through the GPU MMU.
 *
 * Rules shared by every ioctl:
 *
 * - every struct begins with @extensions, which must be 0 (no extension
 *   is defined yet);
 * - unknown flags, non-zero padding and non-zero reserved fields are
 *   rejected with -EINVAL;
 * - addresses and sizes are in bytes and must be aligned to
 *   &drm_simgpu_query.page_size; ranges that wrap or exceed the GPU VA
 *   space are rejected with -EINVAL;
 * - a VM is owned by the file that created it and mirrors the address
 *   space (mm) of the process that created it; using it from another
 *   process fails with -EPERM;
 * - once the GPU is removed (debugfs ``del_gpu``, or module unload), every
 *   ioctl of a file still open on it fails with -ENODEV; its VMs' bindings
 *   are gone and its batches have ended.
 *
 * A userptr binding follows the CPU mapping, not the pages it had at bind
 * time: when the CPU mapping changes (munmap, mprotect, MAP_FIXED remap,
 * madvise(MADV_DONTNEED), copy-on-write after fork, process exit) the
 * binding's GPU page-table entries are zapped and the GPU TLB is
 * invalidated before the CPU may reuse the pages. The next GPU access
 * faults and re-mirrors the range; if the memory is gone, the batch fails
 * and its fence carries -EFAULT.
 */

#define DRM_SIMGPU_QUERY		0x00
#define DRM_SIMGPU_VM_CREATE		0x01
#define DRM_SIMGPU_VM_DESTROY		0x02
#define DRM_SIMGPU_VM_BIND		0x03
#define DRM_SIMGPU_VM_UNBIND		0x04
#define DRM_SIMGPU_EXEC			0x05
#define DRM_SIMGPU_WAIT_USER_FENCE	0x06

#define DRM_IOCTL_SIMGPU_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_SIMGPU_QUERY, struct drm_simgpu_query)
#define DRM_IOCTL_SIMGPU_VM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_SIMGPU_VM_CREATE, struct drm_simgpu_vm_create)
#define DRM_IOCTL_SIMGPU_VM_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_SIMGPU_VM_DESTROY, struct drm_simgpu_vm_destroy)
#define DRM_IOCTL_SIMGPU_VM_BIND \
	DRM_IOW(DRM_COMMAND_BASE + DRM_SIMGPU_VM_BIND, struct drm_simgpu_vm_bind)
#define DRM_IOCTL_SIMGPU_VM_UNBIND \
	DRM_IOW(DRM_COMMAND_BASE + DRM_SIMGPU_VM_UNBIND, struct drm_simgpu_vm_unbind)
#define DRM_IOCTL_SIMGPU_EXEC \
	DRM_IOW(DRM_COMMAND_BASE + DRM_SIMGPU_EXEC, struct drm_simgpu_exec)
#define DRM_IOCTL_SIMGPU_WAIT_USER_FENCE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_SIMGPU_WAIT_USER_FENCE, \
		 struct drm_simgpu_wait_user_fence)

/**
 * struct drm_simgpu_query - Describe the simulated GPU behind this node
 */
struct drm_simgpu_query {
	/** @extensions: Pointer to the first extension struct; must be 0. */
	__u64 extensions;
	/** @flags: Must be 0. */
	__u32 flags;
	/** @gpu_index: Out: index of this GPU, 0 .. @num_gpus - 1. */
	__u32 gpu_index;
	/** @num_gpus: Out: number of simulated GPUs the driver created. */
	__u32 num_gpus;
	/** @va_bits: Out: width of the GPU virtual address space in bits. */
	__u32 va_bits;
	/** @page_size: Out: GPU page size in bytes; alignment of all ranges. */
	__u64 page_size;
	/** @tlb_inval_latency_ns: Out: current TLB invalidation latency. */
	__u64 tlb_inval_latency_ns;
	/** @reserved: Must be 0. */
	__u64 reserved[2];
};

/**
 * DRM_SIMGPU_VM_CREATE_FAULT_MODE - the VM services GPU page faults and
 * completes batches through user fences (see DOC: simgpu uAPI).
 */
#define DRM_SIMGPU_VM_CREATE_FAULT_MODE	(1u << 0)

/**
 * DRM_SIMGPU_VM_CREATE_SVM - the VM mirrors the caller's whole address
 * space (shared virtual memory): GPU virtual addresses below
 * %DRM_SIMGPU_SVM_END are the same CPU addresses. A GPU access there is
 * served on demand through a GPU page fault, with the CPU mapping's access
 * rights: an address the CPU has nothing mapped at fails the batch with
 * -EFAULT, a write to memory the CPU maps read-only with -EACCES. Needs
 * %DRM_SIMGPU_VM_CREATE_FAULT_MODE (-EINVAL without). Userptr bindings of
 * such a VM go at or above %DRM_SIMGPU_SVM_END (-EINVAL below).
 */
#define DRM_SIMGPU_VM_CREATE_SVM	(1u << 1)

/**
 * DRM_SIMGPU_SVM_END - End of the SVM part of an SVM VM's GPU VA space: the
 * x86-64 user address space with 4-level paging.
 */
#define DRM_SIMGPU_SVM_END		(1ull << 47)

/**
 * struct drm_simgpu_vm_create - Create a GPU VM mirroring the caller's mm
 *
 * -ENOSPC if the GPU ran out of address-space ids (65535, shared by every
 * user) or the file already holds the ``max_vms_per_file`` module
 * parameter's number of VMs (default 64); -ENOMEM.
 */
struct drm_simgpu_vm_create {
	/** @extensions: Pointer to the first extension struct; must be 0. */
	__u64 extensions;
	/**
	 * @flags: 0 (dma-fence mode), %DRM_SIMGPU_VM_CREATE_FAULT_MODE, or
	 * that and %DRM_SIMGPU_VM_CREATE_SVM.
	 */
	__u32 flags;
	/** @vm_id: Out: id of the new VM, never 0. */
	__u32 vm_id;
	/** @reserved: Must be 0. */
	__u64 reserved[2];
};

/**
 * struct drm_simgpu_vm_destroy - Destroy a GPU VM and all its bindings
 *
 * Batches still running on the VM keep it alive until they complete.
 */
struct drm_simgpu_vm_destroy {
	/** @extensions: Pointer to the first extension struct; must be 0. */
	__u64 extensions;
	/** @vm_id: The VM to destroy. -ENOENT if unknown. */
	__u32 vm_id;
	/** @pad: Must be 0. */
	__u32 pad;
	/** @reserved: Must be 0. */
	__u64 reserved[2];
};

/** DRM_SIMGPU_BIND_READONLY - the GPU may only read the binding. */
#define DRM_SIMGPU_BIND_READONLY	(1u << 0)

/**
 * struct drm_simgpu_vm_bind - Bind a range of the caller's memory (userptr)
 *
 * Mirrors [@userptr, @userptr + @range) of the calling process at GPU
 * virtual address @addr. The pages are faulted in and mapped at bind time:
 * -EFAULT if any part of the range is not mapped in the CPU address space
 * (or not writable, for a read-write binding), -EEXIST if the GPU range
 * overlaps an existing binding, -ENOSPC if the VM's binding limit (65536)
 * is reached, -EBUSY if the CPU range kept changing while it was faulted in.
 * -E2BIG if @range is over the ``max_bind_mb`` module parameter (default
 * 4096 MiB) or too many pages for the kernel to track in one binding (about
 * 512 GiB of 4 KiB pages), checked before anything is allocated; the CPU
 * range is checked next, so a bind of unmapped memory allocates nothing.
 * Page tables are charged to the caller's memory cgroup. -EINTR if the
 * caller is killed meanwhile, -ENOMEM, and -EIO once the VM is wedged (a
 * TLB invalidation timed out and the GPU could not be recovered).
 */
struct drm_simgpu_vm_bind {
	/** @extensions: Pointer to the first extension struct; must be 0. */
	__u64 extensions;
	/** @vm_id: The VM. -ENOENT if unknown. */
	__u32 vm_id;
	/** @flags: DRM_SIMGPU_BIND_READONLY or 0. */
	__u32 flags;
	/** @addr: GPU virtual address, page aligned. */
	__u64 addr;
	/** @range: Size in bytes, page aligned, non-zero. */
	__u64 range;
	/** @userptr: CPU virtual address of the memory, page aligned. */
	__u64 userptr;
	/** @reserved: Must be 0. */
	__u64 reserved[2];
};

/**
 * struct drm_simgpu_vm_unbind - Remove a binding
 *
 * @addr and @range must be page aligned (-EINVAL) and exactly match one
 * binding (-ENOENT otherwise). On return the GPU can no longer reach the
 * memory.
 */
struct drm_simgpu_vm_unbind {
	/** @extensions: Pointer to the first extension struct; must be 0. */
	__u64 extensions;
	/** @vm_id: The VM. -ENOENT if unknown. */
	__u32 vm_id;
	/** @pad: Must be 0. */
	__u32 pad;
	/** @addr: GPU virtual address of the binding. */
	__u64 addr;
	/** @range: Size of the binding. */
	__u64 range;
	/** @reserved: Must be 0. */
	__u64 reserved[2];
};

/**
 * struct drm_simgpu_exec - Run a batch on the GPU's engine
 *
 * The engine fetches the batch at GPU virtual address @batch_addr through
 * the GPU MMU and executes its commands (see &enum drm_simgpu_cmd) until
 * %DRM_SIMGPU_CMD_END. Batches of one GPU run one after another, in
 * submission order.
 *
 * If @in_syncobj is non-zero the batch waits for the fence of that syncobj
 * (-ENOENT if it has none). The batch's result is 0, -EFAULT (GPU page
 * fault that could not be serviced, or any GPU page fault on a dma-fence
 * mode VM), -EACCES (write to a read-only binding), -EINVAL (malformed
 * batch) or -ETIMEDOUT (batch exceeded its time budget of 10 s, faults
 * included, or its in-fence did not signal within 10 s). An in-fence's own
 * error does not fail the batch.
 *
 * On a dma-fence mode VM, if @out_syncobj is non-zero its fence is
 * replaced by the batch's completion fence, whose error is the result
 * (read it with drmSyncobjExportSyncFile() and SYNC_IOC_FILE_INFO);
 * @user_fence_addr must be 0. Before queuing the batch the ioctl
 * revalidates the VM's invalidated bindings: -ENOMEM, -EBUSY if the CPU
 * mappings kept changing meanwhile, -EINTR if the caller is killed, -EIO if
 * a binding needs revalidating on a wedged VM.
 *
 * On any VM: -ENOSPC if the VM already has the ``max_jobs_per_vm`` module
 * parameter's number of batches queued or running (default 1024); wait for
 * some to end and retry. (Not -EAGAIN, which libdrm's drmIoctl() would
 * retry in a loop.) Batch memory is charged to the caller's memory
 * cgroup.
 *
 * On a fault-mode VM, @out_syncobj must be 0 (-EINVAL). If
 * @user_fence_addr is non-zero, it is the CPU address of a
 * &struct drm_simgpu_user_fence in the calling process (8-byte aligned,
 * -EINVAL; -EFAULT if outside the user address space), to which the
 * engine writes the result when the batch ends: first
 * &drm_simgpu_user_fence.error, then &drm_simgpu_user_fence.value =
 * @user_fence_value. If the process no longer has an address space, or
 * the address is not writable then, nothing is written.
 *
 * A batch is at most 65536 commands (-EINVAL beyond). A misaligned operand
 * is -EINVAL; an address outside the GPU VA space, or not bound (on an SVM
 * VM: neither bound nor mapped by the CPU), is -EFAULT.
 */
struct drm_simgpu_exec {
	/** @extensions: Pointer to the first extension struct; must be 0. */
	__u64 extensions;
	/** @vm_id: The VM. -ENOENT if unknown. */
	__u32 vm_id;
	/** @flags: Must be 0. */
	__u32 flags;
	/** @batch_addr: GPU virtual address of the batch, 4-byte aligned. */
	__u64 batch_addr;
	/** @in_syncobj: Syncobj handle to wait on, or 0. */
	__u32 in_syncobj;
	/** @out_syncobj: Syncobj handle to signal, or 0. */
	__u32 out_syncobj;
	/** @user_fence_addr: CPU address of the user fence, or 0. */
	__u64 user_fence_addr;
	/** @user_fence_value: Value written to the user fence at the end. */
	__u64 user_fence_value;
	/** @reserved: Must be 0. */
	__u64 reserved[2];
};

/**
 * struct drm_simgpu_user_fence - Completion record of a fault-mode batch
 *
 * Lives in user memory; the engine writes it when the batch ends.
 */
struct drm_simgpu_user_fence {
	/** @value: Set to &drm_simgpu_exec.user_fence_value, after @error. */
	__u64 value;
	/** @error: The batch's result, 0 or a negative errno. */
	__s32 error;
	/** @pad: Not written by the engine. */
	__u32 pad;
};

/**
 * struct drm_simgpu_wait_user_fence - Wait for a user fence
 *
 * Waits until the &drm_simgpu_user_fence.value at @addr in the calling
 * process is at least @value (unsigned), for a batch that runs on this
 * GPU, then returns the fence's &drm_simgpu_user_fence.error in @error. A
 * fence reused by later batches should get increasing values. The fence is
 * read again each time a batch of this GPU ends, so a fence written by
 * anything but this GPU's engine is only noticed when the GPU next
 * completes a batch.
 *
 * Return: 0; -EINVAL for malformed arguments or an @addr not 8-byte
 * aligned; -EFAULT if the fence cannot be read; -ETIME if @value was not
 * reached within @timeout_ns nanoseconds (0: check once; rounded up to the
 * scheduler tick); -ERESTARTSYS if interrupted by a signal, with
 * @timeout_ns set to what was left of it, so that a restarted call waits
 * no longer than the first would have.
 */
struct drm_simgpu_wait_user_fence {
	/** @extensions: Pointer to the first extension struct; must be 0. */
	__u64 extensions;
	/** @addr: CPU address of the &struct drm_simgpu_user_fence. */
	__u64 addr;
	/** @value: The value to wait for, or any larger one. */
	__u64 value;
	/** @timeout_ns: Relative timeout, 0 .. 2^63 - 1; see above. */
	__s64 timeout_ns;
	/** @flags: Must be 0. */
	__u32 flags;
	/** @error: Out: the batch's result once @value was reached. */
	__s32 error;
	/** @reserved: Must be 0. */
	__u64 reserved[2];
};

/**
 * enum drm_simgpu_cmd - Batch commands
 *
 * A batch is a sequence of 32-bit words. Each command starts with its
 * opcode word; 64-bit addresses are two words, low word first. All
 * addresses are GPU virtual addresses and must be 4-byte aligned.
 *
 * @DRM_SIMGPU_CMD_END: End of batch. 1 word.
 * @DRM_SIMGPU_CMD_STORE_DW: ``STORE_DW, addr_lo, addr_hi, value``: write
 *	value at addr. 4 words.
 * @DRM_SIMGPU_CMD_COPY: ``COPY, src_lo, src_hi, dst_lo, dst_hi, bytes``:
 *	copy bytes (a multiple of 4, at most 1 MiB) from src to dst. 6 words.
 * @DRM_SIMGPU_CMD_ATOMIC_ADD: ``ATOMIC_ADD, addr_lo, addr_hi, value``: add
 *	value to the word at addr, atomically with respect to the CPU and
 *	other GPUs. 4 words.
 * @DRM_SIMGPU_CMD_DELAY: ``DELAY, usecs``: stall the engine for usecs
 *	microseconds (at most 100000). 2 words.
 * @DRM_SIMGPU_CMD_STORE_LOOP: ``STORE_LOOP, addr_lo, addr_hi, count,
 *	usecs``: write 1, 2, ... count at addr, one write every usecs
 *	microseconds (count at most 1000000, usecs at most 100000). Keeps the
 *	GPU reaching the memory while the CPU changes its mapping. 5 words.
 */
enum drm_simgpu_cmd {
	DRM_SIMGPU_CMD_END = 0,
	DRM_SIMGPU_CMD_STORE_DW = 1,
	DRM_SIMGPU_CMD_COPY = 2,
	DRM_SIMGPU_CMD_ATOMIC_ADD = 3,
	DRM_SIMGPU_CMD_DELAY = 4,
	DRM_SIMGPU_CMD_STORE_LOOP = 5,
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_SIMGPU_DRM_H_ */
