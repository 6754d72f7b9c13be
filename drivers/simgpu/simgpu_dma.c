// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 */
#include <linux/pfn.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/xarray.h>

#include <trace/events/dma.h>

#include "simgpu_dma.h"
#include "simgpu_trace.h"

/**
 * DOC: simgpu DMA model
 *
 * gsvm DMA-maps the pages it mirrors with drm_gpusvm, through the DMA API,
 * on the GPU's device, and unmaps them once no GPU can reach them: after
 * the zap and after the TLB invalidation has completed. Unmapping earlier
 * is a bug a real GPU behind an IOMMU turns into faults or, without one,
 * into accesses to pages the kernel may already have reused. The engine
 * reaches memory through DMA addresses (DOC: simgpu engine), so simgpu
 * checks this rule: it keeps a model of which DMA pages each GPU has
 * mapped, and every GPU access through a DMA address the model does not
 * hold is counted (``dma_unmapped_accesses`` in the GPU's ``stats``, with
 * ``dma_unmapped_last_addr`` and ``dma_unmapped_last_va``, the DMA and GPU
 * virtual address of the last one) and traced
 * (``simgpu:simgpu_dma_unmapped_access``). The access itself still goes
 * through, as it would on a GPU with no IOMMU: the tests keep such pages
 * alive (DOC: the witness buffers of the IGT tests), so that a check fails
 * with its own message rather than on corrupted memory.
 *
 * simgpu does not do the mapping, and a device cannot supply its own
 * &struct dma_map_ops on this kernel (x86 has ARCH_HAS_DMA_OPS only with
 * GART or Xen), so the model watches the DMA API's own tracepoints,
 * ``dma:dma_map_phys`` and ``dma:dma_unmap_phys``, the calls dma-debug
 * checks too: one probe of each per GPU, keeping the calls for that GPU's
 * device. A DMA page mapped several times (several VMs, several ranges)
 * stays in the model until its last mapping goes. ``dma_mapped_pages`` is
 * the number of DMA pages the GPU has mapped now; it is 0 once nothing is
 * bound.
 *
 * Limits. The IOVA API (dma_iova_link()) and scatterlists have no such
 * tracepoints; drm_gpusvm uses neither without an IOMMU, and simgpu's
 * devices never have one. The probes run in the mapping call, under
 * drm_gpusvm's notifier lock, and record a page with a GFP_NOWAIT
 * allocation; if one fails, the model is incomplete: it stops checking
 * and ``dma_model`` reads 0 (it also reads 0 on a kernel without these
 * tracepoints). Tests only rely on the count while ``dma_model`` is 1.
 */

static struct tracepoint *simgpu_tp_map_phys, *simgpu_tp_unmap_phys;

static void simgpu_dma_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "dma_map_phys"))
		simgpu_tp_map_phys = tp;
	else if (!strcmp(tp->name, "dma_unmap_phys"))
		simgpu_tp_unmap_phys = tp;
}

static void simgpu_dma_map_probe(void *data, struct device *dev,
				 phys_addr_t phys, dma_addr_t addr, size_t size,
				 enum dma_data_direction dir, unsigned long attrs)
{
	struct simgpu_device *gpu = data;
	struct simgpu_dma *dma = &gpu->dma;
	unsigned long pfn, last;

	if (dev != gpu->drm.dev || addr == DMA_MAPPING_ERROR || !size)
		return;

	last = PHYS_PFN(addr + size - 1);
	xa_lock(&dma->pages);
	for (pfn = PHYS_PFN(addr); pfn <= last; pfn++) {
		void *entry = xa_load(&dma->pages, pfn);
		unsigned long count = entry ? xa_to_value(entry) : 0;

		/* Never drops the lock: GFP_NOWAIT does not block. */
		entry = __xa_store(&dma->pages, pfn, xa_mk_value(count + 1),
				   GFP_NOWAIT);
		if (xa_is_err(entry)) {
			WRITE_ONCE(dma->lost, true);
			break;
		}
		if (!count)
			dma->mapped_pages++;
	}
	xa_unlock(&dma->pages);
}

static void simgpu_dma_unmap_probe(void *data, struct device *dev,
				   dma_addr_t addr, size_t size,
				   enum dma_data_direction dir,
				   unsigned long attrs)
{
	struct simgpu_device *gpu = data;
	struct simgpu_dma *dma = &gpu->dma;
	unsigned long pfn, last;

	if (dev != gpu->drm.dev || !size)
		return;

	last = PHYS_PFN(addr + size - 1);
	xa_lock(&dma->pages);
	for (pfn = PHYS_PFN(addr); pfn <= last; pfn++) {
		void *entry = xa_load(&dma->pages, pfn);
		unsigned long count;

		/* Only after a lost mapping (dma-debug reports the others). */
		if (!entry)
			continue;
		count = xa_to_value(entry);
		if (count > 1) {
			/* Replaces an entry: allocates nothing. */
			__xa_store(&dma->pages, pfn, xa_mk_value(count - 1),
				   GFP_NOWAIT);
		} else {
			__xa_erase(&dma->pages, pfn);
			dma->mapped_pages--;
		}
	}
	xa_unlock(&dma->pages);
}

/**
 * simgpu_dma_setup() - Find the DMA API tracepoints the model watches
 *
 * Called once at module load. Without them (a kernel built without
 * tracepoints), every GPU's model stays off.
 */
void simgpu_dma_setup(void)
{
	/* The probes must have the tracepoints' prototypes. */
	check_trace_callback_type_dma_map_phys(simgpu_dma_map_probe);
	check_trace_callback_type_dma_unmap_phys(simgpu_dma_unmap_probe);

	for_each_kernel_tracepoint(simgpu_dma_find_tp, NULL);
	if (!simgpu_tp_map_phys || !simgpu_tp_unmap_phys)
		pr_info("simgpu: no dma_map_phys/dma_unmap_phys tracepoints: DMA model off\n");
}

/**
 * simgpu_dma_init() - Start the DMA model of a GPU
 * @gpu: The GPU, before anything can DMA-map on its device.
 *
 * Return: 0 (the model is on, or off for lack of tracepoints), or the
 * error of registering a probe.
 */
int simgpu_dma_init(struct simgpu_device *gpu)
{
	struct simgpu_dma *dma = &gpu->dma;
	int err;

	xa_init(&dma->pages);
	if (!simgpu_tp_map_phys || !simgpu_tp_unmap_phys)
		return 0;

	err = tracepoint_probe_register(simgpu_tp_map_phys,
					simgpu_dma_map_probe, gpu);
	if (err)
		return err;
	err = tracepoint_probe_register(simgpu_tp_unmap_phys,
					simgpu_dma_unmap_probe, gpu);
	if (err) {
		tracepoint_probe_unregister(simgpu_tp_map_phys,
					    simgpu_dma_map_probe, gpu);
		tracepoint_synchronize_unregister();
		return err;
	}
	dma->on = true;
	return 0;
}

/**
 * simgpu_dma_fini() - Stop the DMA model of a GPU
 * @gpu: The GPU, whose VMs hold no binding any more.
 *
 * On return no probe runs for @gpu.
 */
void simgpu_dma_fini(struct simgpu_device *gpu)
{
	struct simgpu_dma *dma = &gpu->dma;

	if (dma->on) {
		tracepoint_probe_unregister(simgpu_tp_unmap_phys,
					    simgpu_dma_unmap_probe, gpu);
		tracepoint_probe_unregister(simgpu_tp_map_phys,
					    simgpu_dma_map_probe, gpu);
		tracepoint_synchronize_unregister();
		WRITE_ONCE(dma->on, false);
	}
	/* Left over: pages a wedged mirror leaves mapped on purpose. */
	xa_destroy(&dma->pages);
}

/**
 * simgpu_dma_active() - Whether the model checks accesses
 * @gpu: The GPU.
 *
 * Return: true if the probes are registered and no mapping was lost.
 */
bool simgpu_dma_active(struct simgpu_device *gpu)
{
	return READ_ONCE(gpu->dma.on) && !READ_ONCE(gpu->dma.lost);
}

/**
 * simgpu_dma_check() - Check a GPU access against the DMA model
 * @gpu: The GPU.
 * @addr: The DMA address accessed.
 * @va: The GPU virtual address it was reached through.
 * @write: Whether the access writes.
 *
 * Counts and traces the access if @addr is not DMA-mapped for @gpu.
 * Called with &simgpu_tlb.mmu_lock held; takes no lock.
 */
void simgpu_dma_check(struct simgpu_device *gpu, dma_addr_t addr, u64 va,
		      bool write)
{
	struct simgpu_dma *dma = &gpu->dma;

	if (!simgpu_dma_active(gpu) || xa_load(&dma->pages, PHYS_PFN(addr)))
		return;

	atomic64_inc(&gpu->stats[SIMGPU_STAT_DMA_UNMAPPED_ACCESSES]);
	WRITE_ONCE(dma->last_addr, addr);
	WRITE_ONCE(dma->last_va, va);
	trace_simgpu_dma_unmapped_access(gpu, va, addr, write);
}
