/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _SIMGPU_TLB_INVAL_H_
#define _SIMGPU_TLB_INVAL_H_

#include <linux/types.h>

struct gsvm_tlb_inval_fence;
struct simgpu_device;

int simgpu_tlb_inval_init(struct simgpu_device *gpu);
void simgpu_tlb_inval_fini(struct simgpu_device *gpu);
void simgpu_tlb_inval_submit(struct simgpu_device *gpu,
			     struct gsvm_tlb_inval_fence *fence,
			     u32 asid, u64 start, u64 size);
int simgpu_tlb_inval_wait(struct simgpu_device *gpu,
			  struct gsvm_tlb_inval_fence *fence);
void simgpu_tlb_inval_kick(struct simgpu_device *gpu);
int simgpu_tlb_inval_reset_vm(struct simgpu_device *gpu, u32 asid);
int simgpu_tlb_inval_set_next_seqno(struct simgpu_device *gpu, u32 seqno);
u32 simgpu_tlb_inval_get_next_seqno(struct simgpu_device *gpu);
void simgpu_tlb_inval_poll(struct simgpu_device *gpu);
void simgpu_tlb_inval_observe(struct simgpu_device *gpu);

#endif /* _SIMGPU_TLB_INVAL_H_ */
