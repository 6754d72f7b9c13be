/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _SIMGPU_TLB_H_
#define _SIMGPU_TLB_H_

#include <linux/lockdep.h>
#include <linux/types.h>

#include "simgpu_types.h"

/**
 * simgpu_tlb_assert_held() - Assert that the MMU lock is held
 * @tlb: The TLB.
 */
static inline void simgpu_tlb_assert_held(struct simgpu_tlb *tlb)
{
	lockdep_assert_held(&tlb->mmu_lock);
}

void simgpu_tlb_init(struct simgpu_tlb *tlb);
void simgpu_tlb_flush_range(struct simgpu_tlb *tlb, u32 asid, u64 start, u64 size);
void simgpu_tlb_flush_asid(struct simgpu_tlb *tlb, u32 asid);
void simgpu_tlb_flush_all(struct simgpu_tlb *tlb);
int simgpu_tlb_translate(struct simgpu_vm *vm, u64 va, bool write, u64 *pte);

#endif /* _SIMGPU_TLB_H_ */
