/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _SIMGPU_VM_H_
#define _SIMGPU_VM_H_

#include <linux/kref.h>
#include <linux/types.h>

#include "simgpu_types.h"

struct drm_device;
struct drm_file;

int simgpu_vm_file_open(struct drm_file *file);
void simgpu_vm_file_close(struct drm_file *file);

struct simgpu_vm *simgpu_vm_lookup(struct drm_file *file, u32 id);
void simgpu_vm_put(struct simgpu_vm *vm);
void simgpu_vm_kill(struct simgpu_vm *vm);
int simgpu_vm_handle_fault(struct simgpu_vm *vm, u64 va, bool write);

/**
 * simgpu_vm_get() - Take a reference on a VM
 * @vm: The VM.
 *
 * Return: @vm.
 */
static inline struct simgpu_vm *simgpu_vm_get(struct simgpu_vm *vm)
{
	kref_get(&vm->refcount);
	return vm;
}

int simgpu_vm_create_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int simgpu_vm_destroy_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int simgpu_vm_bind_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int simgpu_vm_unbind_ioctl(struct drm_device *drm, void *data, struct drm_file *file);

#endif /* _SIMGPU_VM_H_ */
