// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 */

#include <linux/align.h>
#include <linux/build_bug.h>
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/error-injection.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>

#include <drm/drm_pagemap.h>

#include "simgpu_pt.h"

/**
 * DOC: simgpu page table
 *
 * Each VM has a 4-level radix page table: levels 3 (root) to 1 are
 * directories, level 0 holds the leaf entries, each level decodes 9 bits of
 * the 48-bit GPU virtual address above the 12-bit page offset. A directory
 * entry holds the physical address of the next-level table ORed with
 * %SIMGPU_PTE_VALID; a leaf entry holds the DMA address of a page ORed with
 * %SIMGPU_PTE_VALID and, unless the binding is read-only,
 * %SIMGPU_PTE_WRITABLE.
 *
 * Directories are published with smp_store_release() by
 * simgpu_pt_prepare(), which gsvm serialises with &gsvm_mirror.lock. The
 * engine walks the table without any page-table lock, under its GPU's
 * &simgpu_tlb.mmu_lock only. Leaf entries are written with WRITE_ONCE() by
 * gsvm's bind (notifier lock read and &gsvm_mirror.lock) and zap (notifier
 * lock write) callbacks and read with READ_ONCE() by the walker.
 *
 * Tables are charged to the caller's memory cgroup (__GFP_ACCOUNT), and a
 * long prepare stops when the caller is killed. Each level-0 table counts
 * the prepared ranges that cover it (in its page's &page.private):
 * simgpu_pt_unprepare() takes a range's count back and unhooks the level-0
 * tables no range covers any more, and a failed prepare undoes its own
 * counts, so empty leaf tables do not pile up. No bind or zap can walk an
 * unhooked table (no range covers it); the engine may have loaded its
 * address just before, so it is freed only after a pass through the GPU's
 * &simgpu_tlb.mmu_lock (simgpu_pt_free_tables()). Directories above level
 * 0 (one per GiB and per 512 GiB) stay until simgpu_pt_fini().
 */

#define SIMGPU_PT_LEVELS	4
#define SIMGPU_PT_SHIFT		9
#define SIMGPU_PT_ENTRIES	BIT(SIMGPU_PT_SHIFT)
/* Bytes mapped by one level-0 table. */
#define SIMGPU_PT_LEAF_SPAN	(SIMGPU_PAGE_SIZE << SIMGPU_PT_SHIFT)

static unsigned int simgpu_pt_index(u64 va, unsigned int level)
{
	return (va >> (SIMGPU_PAGE_SHIFT + level * SIMGPU_PT_SHIFT)) &
	       (SIMGPU_PT_ENTRIES - 1);
}

static noinline u64 *simgpu_pt_alloc_table(void)
{
	/* One table is one page: 512 entries of 8 bytes. */
	BUILD_BUG_ON(SIMGPU_PT_ENTRIES * sizeof(u64) != SIMGPU_PAGE_SIZE);
	/* gsvm hands out PAGE_SIZE chunks; the GPU pages must match. */
	BUILD_BUG_ON(PAGE_SIZE != SIMGPU_PAGE_SIZE);

	u64 *table = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

	if (table)
		set_page_private(virt_to_page(table), 0);
	return table;
}
ALLOW_ERROR_INJECTION(simgpu_pt_alloc_table, NULL);

static u64 *simgpu_pt_table(u64 entry)
{
	return phys_to_virt(simgpu_pte_addr(entry));
}

/* The level-0 table covering @va, or NULL if a directory is missing. */
static u64 *simgpu_pt_leaf_table(const struct simgpu_pt *pt, u64 va)
{
	u64 *table = pt->root;
	unsigned int level;

	for (level = SIMGPU_PT_LEVELS - 1; level > 0; level--) {
		/* Pairs with smp_store_release() in simgpu_pt_prepare(). */
		u64 entry = smp_load_acquire(&table[simgpu_pt_index(va, level)]);

		if (!simgpu_pte_valid(entry))
			return NULL;
		table = simgpu_pt_table(entry);
	}

	return table;
}

/* First address of the next level-0 table's span after @va, capped at @end. */
static u64 simgpu_pt_leaf_span_end(u64 va, u64 end)
{
	return min(ALIGN_DOWN(va, SIMGPU_PT_LEAF_SPAN) + SIMGPU_PT_LEAF_SPAN, end);
}

/**
 * simgpu_pt_init() - Allocate an empty page table
 * @pt: The page table.
 *
 * Return: 0 or -ENOMEM.
 */
int simgpu_pt_init(struct simgpu_pt *pt)
{
	pt->root = simgpu_pt_alloc_table();
	return pt->root ? 0 : -ENOMEM;
}

static void simgpu_pt_free_table(u64 *table, unsigned int level)
{
	unsigned int i;

	if (level) {
		for (i = 0; i < SIMGPU_PT_ENTRIES; i++)
			if (simgpu_pte_valid(table[i]))
				simgpu_pt_free_table(simgpu_pt_table(table[i]),
						     level - 1);
	}
	set_page_private(virt_to_page(table), 0);
	free_page((unsigned long)table);
}

/**
 * simgpu_pt_fini() - Free a page table and all its levels
 * @pt: The page table.
 *
 * Nobody may walk @pt any more: the VM is being released.
 */
void simgpu_pt_fini(struct simgpu_pt *pt)
{
	if (pt->root)
		simgpu_pt_free_table(pt->root, SIMGPU_PT_LEVELS - 1);
	pt->root = NULL;
}

/* The number of prepared ranges covering a level-0 table. */
static unsigned long *simgpu_pt_users(u64 *leaf)
{
	return &virt_to_page(leaf)->private;
}

/**
 * simgpu_pt_unprepare() - Give back what simgpu_pt_prepare() took for a range
 * @pt: The page table.
 * @start: First GPU virtual address of a range simgpu_pt_prepare() covered.
 * @size: Its size.
 * @freed: List the unhooked level-0 tables are added to (by &page.lru),
 *	for simgpu_pt_free_tables().
 *
 * The range's leaf entries must have been zapped. Serialised with
 * simgpu_pt_prepare() by the caller; does not allocate or sleep.
 */
void simgpu_pt_unprepare(struct simgpu_pt *pt, u64 start, u64 size,
			 struct list_head *freed)
{
	u64 end = start + size;
	u64 va;

	for (va = start; va < end; va = simgpu_pt_leaf_span_end(va, end)) {
		u64 *table = pt->root, *slot = NULL;
		unsigned int level;
		u64 entry;

		for (level = SIMGPU_PT_LEVELS - 1; level > 0; level--) {
			slot = &table[simgpu_pt_index(va, level)];
			entry = READ_ONCE(*slot);
			if (WARN_ON_ONCE(!simgpu_pte_valid(entry)))
				return;
			table = simgpu_pt_table(entry);
		}
		if (WARN_ON_ONCE(!*simgpu_pt_users(table)) || --*simgpu_pt_users(table))
			continue;
		/* No range covers it: no bind or zap walks it any more. */
		WRITE_ONCE(*slot, 0);
		list_add(&virt_to_page(table)->lru, freed);
	}
}

/**
 * simgpu_pt_free_tables() - Free the tables simgpu_pt_unprepare() unhooked
 * @freed: The list.
 *
 * The caller has passed through the GPU's &simgpu_tlb.mmu_lock since they
 * were unhooked, so no walker still holds one.
 */
void simgpu_pt_free_tables(struct list_head *freed)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, freed, lru) {
		list_del(&page->lru);
		set_page_private(page, 0);
		__free_page(page);
	}
}

/**
 * simgpu_pt_prepare() - Create the tables that map a range
 * @pt: The page table.
 * @start: First GPU virtual address, page aligned.
 * @size: Size in bytes, page aligned, non-zero; @start + @size must not
 *	exceed %SIMGPU_VA_SIZE.
 * @freed: On failure, the level-0 tables this call unhooked again (see
 *	simgpu_pt_unprepare()).
 *
 * Allocates the missing tables, charged to the caller's memory cgroup, and
 * counts the range in every level-0 table it covers. On failure nothing of
 * the range stays counted. The caller serialises calls on one page table
 * (gsvm holds &gsvm_mirror.lock); the engine may walk concurrently.
 *
 * Return: 0, -ENOMEM, or -EINTR if the caller was killed meanwhile.
 */
int simgpu_pt_prepare(struct simgpu_pt *pt, u64 start, u64 size,
		      struct list_head *freed)
{
	u64 end = start + size;
	int err = 0;
	u64 va;

	if (WARN_ON_ONCE(!size || end > SIMGPU_VA_SIZE || end < start))
		return -EINVAL;

	for (va = start; va < end; va = simgpu_pt_leaf_span_end(va, end)) {
		u64 *table = pt->root;
		unsigned int level;

		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		for (level = SIMGPU_PT_LEVELS - 1; level > 0; level--) {
			u64 *slot = &table[simgpu_pt_index(va, level)];
			u64 entry = READ_ONCE(*slot);

			if (!simgpu_pte_valid(entry)) {
				u64 *child = simgpu_pt_alloc_table();

				if (!child) {
					err = -ENOMEM;
					break;
				}
				entry = virt_to_phys(child) | SIMGPU_PTE_VALID;
				/* Publish the zeroed table to lockless walkers. */
				smp_store_release(slot, entry);
			}
			table = simgpu_pt_table(entry);
		}
		if (err)
			break;
		++*simgpu_pt_users(table);
	}

	/* Undo the counts of [start, va): those spans were complete. */
	if (err && va > start)
		simgpu_pt_unprepare(pt, start, va - start, freed);
	return err;
}

/**
 * simgpu_pt_bind() - Write the leaf entries of a range
 * @pt: The page table; simgpu_pt_prepare() covered the range.
 * @start: First GPU virtual address, page aligned.
 * @dma: DMA addresses as drm_gpusvm_get_pages() lays them out: entry j maps
 *	PAGE_SIZE << @dma[j].order bytes.
 * @npages: Number of pages to map.
 * @read_only: Leave %SIMGPU_PTE_WRITABLE clear.
 *
 * Does not allocate or sleep.
 */
void simgpu_pt_bind(struct simgpu_pt *pt, u64 start,
		    const struct drm_pagemap_addr *dma, unsigned long npages,
		    bool read_only)
{
	u64 flags = SIMGPU_PTE_VALID | (read_only ? 0 : SIMGPU_PTE_WRITABLE);
	unsigned long i = 0, j, k;
	u64 *leaf = NULL;

	for (j = 0; i < npages; j++) {
		unsigned long chunk = 1UL << dma[j].order;

		WARN_ON_ONCE(dma[j].proto != DRM_INTERCONNECT_SYSTEM);
		WARN_ON_ONCE(!IS_ALIGNED(dma[j].addr, SIMGPU_PAGE_SIZE));

		for (k = 0; k < chunk && i < npages; k++, i++) {
			u64 va = start + ((u64)i << SIMGPU_PAGE_SHIFT);
			unsigned int idx = simgpu_pt_index(va, 0);

			if (!leaf || !idx) {
				leaf = simgpu_pt_leaf_table(pt, va);
				if (WARN_ON_ONCE(!leaf))
					return;
			}
			WRITE_ONCE(leaf[idx],
				   (dma[j].addr + ((u64)k << SIMGPU_PAGE_SHIFT)) | flags);
		}
	}
}

/**
 * simgpu_pt_zap() - Clear the leaf entries of a range
 * @pt: The page table.
 * @start: First GPU virtual address, page aligned.
 * @size: Size in bytes, page aligned.
 *
 * Does not allocate or sleep. The TLB may still hold the old entries: the
 * caller invalidates it if this returns true.
 *
 * Return: true if any entry of the range was valid.
 */
bool simgpu_pt_zap(struct simgpu_pt *pt, u64 start, u64 size)
{
	u64 end = min(start + size, SIMGPU_VA_SIZE);
	bool live = false;
	u64 va, next;

	for (va = start; va < end; va = next) {
		u64 *leaf = simgpu_pt_leaf_table(pt, va);

		next = simgpu_pt_leaf_span_end(va, end);
		if (!leaf)
			continue;

		for (; va < next; va += SIMGPU_PAGE_SIZE) {
			u64 *slot = &leaf[simgpu_pt_index(va, 0)];

			if (simgpu_pte_valid(READ_ONCE(*slot))) {
				WRITE_ONCE(*slot, 0);
				live = true;
			}
		}
	}

	return live;
}

/**
 * simgpu_pt_walk() - Look up the leaf entry of an address
 * @pt: The page table.
 * @va: GPU virtual address below %SIMGPU_VA_SIZE.
 *
 * Lockless: directories are never freed while the VM lives.
 *
 * Return: The leaf entry, 0 if none is mapped.
 */
u64 simgpu_pt_walk(const struct simgpu_pt *pt, u64 va)
{
	u64 *leaf = simgpu_pt_leaf_table(pt, va);

	return leaf ? READ_ONCE(leaf[simgpu_pt_index(va, 0)]) : 0;
}
