/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _SIMGPU_DMA_H_
#define _SIMGPU_DMA_H_

#include <linux/types.h>

#include "simgpu_types.h"

void simgpu_dma_setup(void);
int simgpu_dma_init(struct simgpu_device *gpu);
void simgpu_dma_fini(struct simgpu_device *gpu);
bool simgpu_dma_active(struct simgpu_device *gpu);
void simgpu_dma_check(struct simgpu_device *gpu, dma_addr_t addr, u64 va,
		      bool write);

#endif /* _SIMGPU_DMA_H_ */
