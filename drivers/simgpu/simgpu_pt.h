/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _SIMGPU_PT_H_
#define _SIMGPU_PT_H_

#include <linux/bits.h>
#include <linux/types.h>

#include "simgpu_types.h"

struct drm_pagemap_addr;
struct list_head;

/** SIMGPU_PTE_VALID - The entry maps something. */
#define SIMGPU_PTE_VALID	BIT_ULL(0)
/** SIMGPU_PTE_WRITABLE - The GPU may write through a leaf entry. */
#define SIMGPU_PTE_WRITABLE	BIT_ULL(1)
/** SIMGPU_PTE_ADDR_MASK - Address bits of an entry. */
#define SIMGPU_PTE_ADDR_MASK	GENMASK_ULL(51, SIMGPU_PAGE_SHIFT)

/**
 * simgpu_pte_valid() - Whether a page-table entry maps something
 * @pte: The entry.
 *
 * Return: true if @pte has %SIMGPU_PTE_VALID set.
 */
static inline bool simgpu_pte_valid(u64 pte)
{
	return pte & SIMGPU_PTE_VALID;
}

/**
 * simgpu_pte_writable() - Whether a leaf entry allows writes
 * @pte: The entry.
 *
 * Return: true if @pte has %SIMGPU_PTE_WRITABLE set.
 */
static inline bool simgpu_pte_writable(u64 pte)
{
	return pte & SIMGPU_PTE_WRITABLE;
}

/**
 * simgpu_pte_addr() - The address a page-table entry points to
 * @pte: The entry.
 *
 * Return: The DMA address of a leaf entry, or the physical address of the
 * next-level table for a directory entry.
 */
static inline u64 simgpu_pte_addr(u64 pte)
{
	return pte & SIMGPU_PTE_ADDR_MASK;
}

int simgpu_pt_init(struct simgpu_pt *pt);
void simgpu_pt_fini(struct simgpu_pt *pt);
int simgpu_pt_prepare(struct simgpu_pt *pt, u64 start, u64 size,
		      struct list_head *freed);
void simgpu_pt_unprepare(struct simgpu_pt *pt, u64 start, u64 size,
			 struct list_head *freed);
void simgpu_pt_free_tables(struct list_head *freed);
void simgpu_pt_bind(struct simgpu_pt *pt, u64 start,
		    const struct drm_pagemap_addr *dma, unsigned long npages,
		    bool read_only);
bool simgpu_pt_zap(struct simgpu_pt *pt, u64 start, u64 size);
u64 simgpu_pt_walk(const struct simgpu_pt *pt, u64 va);

#endif /* _SIMGPU_PT_H_ */
