// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 */

#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "simgpu_drv.h"
#include "simgpu_pt.h"
#include "simgpu_tlb.h"
#include "simgpu_tlb_inval.h"

/**
 * DOC: simgpu TLB
 *
 * Each GPU has one fully associative TLB of %SIMGPU_TLB_ENTRIES entries
 * shared by all its VMs, tagged by (ASID, virtual page number) and holding
 * the page-table entry the walk found. Replacement prefers a free entry,
 * then goes round robin.
 *
 * A hit is used as is, even if the page-table entry has since been zapped
 * or rewritten: like real hardware, the TLB serves stale translations until
 * a TLB invalidation covering them is processed (simgpu_tlb_flush_range()
 * from the invalidation queue). Every hit is checked against the current
 * page-table entry, and one that differs is counted as a stale hit
 * (``stale_tlb_hits``). With the debugfs knob ``drop_stale_tlb_hits`` a
 * stale hit is discarded and walked again instead of being used, which
 * keeps the kernel memory-safe while the ``skip_*`` knobs break the
 * invalidation protocol on purpose.
 *
 * Everything here runs under &simgpu_tlb.mmu_lock.
 */

/**
 * simgpu_tlb_init() - Initialise an empty TLB
 * @tlb: The TLB.
 */
void simgpu_tlb_init(struct simgpu_tlb *tlb)
{
	spin_lock_init(&tlb->mmu_lock);
	memset(tlb->entries, 0, sizeof(tlb->entries));
	tlb->victim = 0;
}

static struct simgpu_tlb_entry *simgpu_tlb_lookup(struct simgpu_tlb *tlb,
						  u32 asid, u64 vpn)
{
	unsigned int i;

	simgpu_tlb_assert_held(tlb);

	for (i = 0; i < SIMGPU_TLB_ENTRIES; i++) {
		struct simgpu_tlb_entry *e = &tlb->entries[i];

		if (e->valid && e->asid == asid && e->vpn == vpn)
			return e;
	}

	return NULL;
}

static void simgpu_tlb_fill(struct simgpu_tlb *tlb, u32 asid, u64 vpn, u64 pte)
{
	struct simgpu_tlb_entry *e = NULL;
	unsigned int i;

	simgpu_tlb_assert_held(tlb);

	for (i = 0; i < SIMGPU_TLB_ENTRIES; i++) {
		if (!tlb->entries[i].valid) {
			e = &tlb->entries[i];
			break;
		}
	}
	if (!e) {
		e = &tlb->entries[tlb->victim];
		tlb->victim = (tlb->victim + 1) % SIMGPU_TLB_ENTRIES;
	}

	e->asid = asid;
	e->vpn = vpn;
	e->pte = pte;
	e->valid = true;
}

/**
 * simgpu_tlb_flush_range() - Drop the entries of an address range
 * @tlb: The TLB; &simgpu_tlb.mmu_lock held.
 * @asid: The address space.
 * @start: First GPU virtual address.
 * @size: Size in bytes.
 */
void simgpu_tlb_flush_range(struct simgpu_tlb *tlb, u32 asid, u64 start, u64 size)
{
	u64 first = start >> SIMGPU_PAGE_SHIFT;
	u64 last = (start + size - 1) >> SIMGPU_PAGE_SHIFT;
	unsigned int i;

	simgpu_tlb_assert_held(tlb);

	for (i = 0; i < SIMGPU_TLB_ENTRIES; i++) {
		struct simgpu_tlb_entry *e = &tlb->entries[i];

		if (e->valid && e->asid == asid && e->vpn >= first && e->vpn <= last)
			e->valid = false;
	}
}

/**
 * simgpu_tlb_flush_asid() - Drop every entry of an address space
 * @tlb: The TLB; &simgpu_tlb.mmu_lock held.
 * @asid: The address space.
 */
void simgpu_tlb_flush_asid(struct simgpu_tlb *tlb, u32 asid)
{
	unsigned int i;

	simgpu_tlb_assert_held(tlb);

	for (i = 0; i < SIMGPU_TLB_ENTRIES; i++)
		if (tlb->entries[i].asid == asid)
			tlb->entries[i].valid = false;
}

/**
 * simgpu_tlb_flush_all() - Drop every entry
 * @tlb: The TLB; &simgpu_tlb.mmu_lock held.
 */
void simgpu_tlb_flush_all(struct simgpu_tlb *tlb)
{
	unsigned int i;

	simgpu_tlb_assert_held(tlb);

	for (i = 0; i < SIMGPU_TLB_ENTRIES; i++)
		tlb->entries[i].valid = false;
}

/**
 * simgpu_tlb_translate() - Translate a GPU virtual address
 * @vm: The VM the access runs in.
 * @va: GPU virtual address below %SIMGPU_VA_SIZE.
 * @write: The access is a write.
 * @pte: Out: the leaf page-table entry to use.
 *
 * TLB lookup; on a miss, page walk and fill. Called with the GPU's
 * &simgpu_tlb.mmu_lock held, which the caller keeps across the access that
 * uses @pte. Does not allocate or sleep.
 *
 * Return: 0, -ENOENT if the page is not mapped (page fault), -EACCES for a
 * write through a read-only translation (protection fault).
 */
int simgpu_tlb_translate(struct simgpu_vm *vm, u64 va, bool write, u64 *pte)
{
	struct simgpu_device *gpu = vm->gpu;
	struct simgpu_tlb *tlb = &gpu->tlb;
	u64 vpn = va >> SIMGPU_PAGE_SHIFT;
	struct simgpu_tlb_entry *e;
	u64 cur;

	simgpu_tlb_assert_held(tlb);
	/* The invalidations due by now have taken effect. */
	simgpu_tlb_inval_poll(gpu);

	e = simgpu_tlb_lookup(tlb, vm->asid, vpn);
	if (e) {
		cur = simgpu_pt_walk(&vm->pt, va);
		if (cur != e->pte) {
			simgpu_stat_inc(gpu, SIMGPU_STAT_STALE_TLB_HITS);
			if (READ_ONCE(gpu->knobs.drop_stale_tlb_hits)) {
				e->valid = false;
				e = NULL;
			}
		}
	}

	if (e) {
		simgpu_stat_inc(gpu, SIMGPU_STAT_TLB_HITS);
		*pte = e->pte;
	} else {
		simgpu_stat_inc(gpu, SIMGPU_STAT_TLB_MISSES);
		*pte = simgpu_pt_walk(&vm->pt, va);
		if (!simgpu_pte_valid(*pte))
			return -ENOENT;
		simgpu_tlb_fill(tlb, vm->asid, vpn, *pte);
	}

	if (write && !simgpu_pte_writable(*pte))
		return -EACCES;

	return 0;
}
