/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _SIMGPU_DRV_H_
#define _SIMGPU_DRV_H_

#include <linux/atomic.h>
#include <linux/container_of.h>

#include "simgpu_types.h"

/**
 * to_simgpu_device() - The simulated GPU of a DRM device
 * @drm: A DRM device created by simgpu.
 *
 * Return: The &struct simgpu_device embedding @drm.
 */
static inline struct simgpu_device *to_simgpu_device(struct drm_device *drm)
{
	return container_of(drm, struct simgpu_device, drm);
}

/**
 * simgpu_stat_add() - Add to a counter
 * @gpu: The GPU.
 * @stat: The counter.
 * @val: The amount.
 */
static inline void simgpu_stat_add(struct simgpu_device *gpu,
				   enum simgpu_stat stat, s64 val)
{
	atomic64_add(val, &gpu->stats[stat]);
}

/**
 * simgpu_stat_inc() - Increment a counter
 * @gpu: The GPU.
 * @stat: The counter.
 */
static inline void simgpu_stat_inc(struct simgpu_device *gpu,
				   enum simgpu_stat stat)
{
	atomic64_inc(&gpu->stats[stat]);
}

unsigned int simgpu_num_gpus(void);
int simgpu_gpu_add(unsigned int index);
int simgpu_gpu_del(unsigned int index);

#endif /* _SIMGPU_DRV_H_ */
