/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _SIMGPU_DEBUGFS_H_
#define _SIMGPU_DEBUGFS_H_

struct simgpu_device;

void simgpu_debugfs_init(void);
void simgpu_debugfs_hotplug_fini(void);
void simgpu_debugfs_fini(void);
void simgpu_debugfs_device_init(struct simgpu_device *gpu);
void simgpu_debugfs_device_fini(struct simgpu_device *gpu);

#endif /* _SIMGPU_DEBUGFS_H_ */
