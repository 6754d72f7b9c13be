/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _SIMGPU_ENGINE_H_
#define _SIMGPU_ENGINE_H_

struct drm_device;
struct drm_file;
struct simgpu_device;

int simgpu_engine_init(struct simgpu_device *gpu);
void simgpu_engine_fini(struct simgpu_device *gpu);
int simgpu_engine_exec_ioctl(struct drm_device *drm, void *data, struct drm_file *file);
int simgpu_engine_wait_ufence_ioctl(struct drm_device *drm, void *data,
				    struct drm_file *file);

#endif /* _SIMGPU_ENGINE_H_ */
