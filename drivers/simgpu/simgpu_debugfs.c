// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kstrtox.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "simgpu_debugfs.h"
#include "simgpu_dma.h"
#include "simgpu_drv.h"
#include "simgpu_tlb_inval.h"

/**
 * DOC: simgpu debugfs
 *
 * Per GPU, under /sys/kernel/debug/simgpu/gpu<N>/:
 *
 * - ``tlb_inval_latency_us`` (rw, default 40): time the simulated hardware
 *   takes to complete a TLB invalidation.
 * - ``tlb_inval_timeout_ms`` (rw, default 250): age at which an invalidation
 *   is declared lost and the TLB is reset.
 * - ``skip_tlb_inval`` (rw bool): invalidations complete without flushing
 *   anything; the TLB keeps serving stale translations.
 * - ``skip_finish_wait`` (rw bool): waiting for an invalidation returns at
 *   once; the flush happens later, after the CPU may have reused the pages.
 * - ``hang_tlb_inval`` (rw bool): invalidations never complete on their own;
 *   only the timeout recovers.
 * - ``timeout_noflush`` (rw bool): a timeout signals the late fences with
 *   -ETIME and flushes nothing, as Xe's does; the TLB keeps what the lost
 *   requests were to drop until gsvm's recovery (tlb_inval_reset) flushes
 *   the VM.
 * - ``skip_tlb_reset`` (rw bool): that recovery reports success without
 *   flushing anything (a bug injected for the self-checks).
 * - ``fail_tlb_reset`` (rw bool): that recovery fails with -EIO: gsvm wedges
 *   the mirror.
 * - ``skip_zap`` (rw bool): zaps leave the page-table entries in place
 *   (and report them live, so the TLB is still invalidated): the next walk
 *   finds the old translation again.
 * - ``tlb_inval_exact`` (rw bool): range invalidations flush exactly the
 *   submitted range instead of widening it to an aligned power of two, so
 *   that a range too short shows.
 * - ``tlb_inval_short`` (rw bool): range invalidations flush the submitted
 *   range less its last page, unwidened (a bug for the self-checks).
 * - ``tlb_inval_asid1`` (rw bool): range invalidations flush address space 1
 *   whatever VM they were for (a bug for the self-checks).
 * - ``tlb_inval_next_seqno`` (rw): the seqno the next invalidation gets;
 *   writable (1 .. %SIMGPU_TLB_INVAL_SEQNO_MAX - 1, else -EINVAL) only while
 *   none is pending (-EBUSY), to test the wrap.
 * - ``seqno_nowrap`` (rw bool): completion compares seqnos without wrap
 *   handling, so a fence after the wrap signals before its invalidation
 *   ran (a bug for the self-checks).
 * - ``fold_no_flush_all`` (rw bool): a request that finds the ring full is
 *   folded into the newest one without making that a full flush, so its
 *   range is never flushed (a bug for the self-checks).
 * - ``drop_stale_tlb_hits`` (rw bool): a stale TLB hit is counted, then
 *   discarded and walked again instead of being used. Makes the ``skip_*``
 *   knobs memory-safe: without it, they let the simulated GPU write to
 *   pages the kernel already freed, as broken hardware would.
 * - ``skip_job_wait`` (rw bool): an invalidation of a dma-fence mode VM
 *   zaps without waiting for the VM's queued and running batches.
 * - ``skip_exec_revalidate`` (rw bool): the exec ioctl of a dma-fence mode
 *   VM queues the batch without revalidating invalidated bindings.
 * - ``stats`` (ro): one ``name value`` line per counter of
 *   &enum simgpu_stat, then the DMA model's state (DOC: simgpu DMA model):
 *   ``dma_model`` (1 while it checks accesses), ``dma_mapped_pages``, and
 *   ``dma_unmapped_last_addr`` and ``dma_unmapped_last_va``, in decimal.
 * - ``reset_stats`` (wo): write 1 to zero every counter (not the DMA
 *   model's state).
 *
 * For the driver, under /sys/kernel/debug/simgpu/:
 *
 * - ``new_gpu`` (wo): write an index (0 .. %SIMGPU_MAX_GPUS - 1) to add
 *   that GPU: -EEXIST if it exists, -EINVAL out of range.
 * - ``del_gpu`` (wo): write an index to remove that GPU, whatever is still
 *   using it (DOC: simgpu hotplug): -ENOENT if there is none. The write
 *   returns once its batches ended and its bindings are torn down.
 */

static struct dentry *simgpu_debugfs_root;

static const char * const simgpu_stat_names[SIMGPU_STAT_NUM] = {
	[SIMGPU_STAT_TLB_INVAL_SUBMITTED] = "tlb_inval_submitted",
	[SIMGPU_STAT_TLB_INVAL_COMPLETED] = "tlb_inval_completed",
	[SIMGPU_STAT_TLB_INVAL_TIMEOUTS] = "tlb_inval_timeouts",
	[SIMGPU_STAT_TLB_HITS] = "tlb_hits",
	[SIMGPU_STAT_TLB_MISSES] = "tlb_misses",
	[SIMGPU_STAT_GPU_FAULTS] = "gpu_faults",
	[SIMGPU_STAT_GPU_FAULTS_FAILED] = "gpu_faults_failed",
	[SIMGPU_STAT_GPU_FAULTS_UNSERVICED] = "gpu_faults_unserviced",
	[SIMGPU_STAT_JOBS_COMPLETED] = "jobs_completed",
	[SIMGPU_STAT_JOBS_FAILED] = "jobs_failed",
	[SIMGPU_STAT_STALE_TLB_HITS] = "stale_tlb_hits",
	[SIMGPU_STAT_DMA_UNMAPPED_ACCESSES] = "dma_unmapped_accesses",
};

static int simgpu_stats_show(struct seq_file *m, void *data)
{
	struct simgpu_device *gpu = m->private;
	unsigned int i;

	/* Count what has completed by now. */
	simgpu_tlb_inval_observe(gpu);
	for (i = 0; i < SIMGPU_STAT_NUM; i++)
		seq_printf(m, "%s %lld\n", simgpu_stat_names[i],
			   atomic64_read(&gpu->stats[i]));
	/* The DMA model's state (DOC: simgpu DMA model); not reset. */
	seq_printf(m, "dma_model %d\n", simgpu_dma_active(gpu));
	seq_printf(m, "dma_mapped_pages %lu\n",
		   READ_ONCE(gpu->dma.mapped_pages));
	seq_printf(m, "dma_unmapped_last_addr %llu\n",
		   READ_ONCE(gpu->dma.last_addr));
	seq_printf(m, "dma_unmapped_last_va %llu\n",
		   READ_ONCE(gpu->dma.last_va));

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(simgpu_stats);

static int simgpu_reset_stats_set(void *data, u64 val)
{
	struct simgpu_device *gpu = data;
	unsigned int i;

	if (val != 1)
		return -EINVAL;

	for (i = 0; i < SIMGPU_STAT_NUM; i++)
		atomic64_set(&gpu->stats[i], 0);

	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(simgpu_reset_stats_fops, NULL, simgpu_reset_stats_set, "%llu\n");

static int simgpu_next_seqno_get(void *data, u64 *val)
{
	*val = simgpu_tlb_inval_get_next_seqno(data);
	return 0;
}

static int simgpu_next_seqno_set(void *data, u64 val)
{
	if (val > U32_MAX)
		return -EINVAL;
	return simgpu_tlb_inval_set_next_seqno(data, val);
}
DEFINE_DEBUGFS_ATTRIBUTE(simgpu_next_seqno_fops, simgpu_next_seqno_get,
			 simgpu_next_seqno_set, "%llu\n");

static ssize_t simgpu_hang_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct simgpu_device *gpu = file->private_data;
	char buf[2] = { READ_ONCE(gpu->knobs.hang_tlb_inval) ? 'Y' : 'N', '\n' };

	return simple_read_from_buffer(ubuf, count, ppos, buf, sizeof(buf));
}

static ssize_t simgpu_hang_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct simgpu_device *gpu = file->private_data;
	bool hang;
	int err;

	err = kstrtobool_from_user(ubuf, count, &hang);
	if (err)
		return err;

	WRITE_ONCE(gpu->knobs.hang_tlb_inval, hang);
	/* Let what was queued while hung complete now. */
	if (!hang)
		simgpu_tlb_inval_kick(gpu);

	return count;
}

static const struct file_operations simgpu_hang_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = simgpu_hang_read,
	.write = simgpu_hang_write,
	.llseek = default_llseek,
};

static struct dentry *simgpu_debugfs_new_gpu, *simgpu_debugfs_del_gpu;

static ssize_t simgpu_hotplug_write(struct file *f, const char __user *buf,
				    size_t count, loff_t *ppos)
{
	bool add = file_inode(f)->i_private == simgpu_hotplug_write;
	unsigned int index;
	int err;

	err = kstrtouint_from_user(buf, count, 0, &index);
	if (err)
		return err;
	err = add ? simgpu_gpu_add(index) : simgpu_gpu_del(index);
	return err ?: count;
}

static const struct file_operations simgpu_hotplug_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = simgpu_hotplug_write,
	.llseek = noop_llseek,
};

/**
 * simgpu_debugfs_init() - Create the driver's debugfs root, new_gpu and
 *	del_gpu
 */
void simgpu_debugfs_init(void)
{
	simgpu_debugfs_root = debugfs_create_dir("simgpu", NULL);
	/* i_private tells the two apart. */
	simgpu_debugfs_new_gpu = debugfs_create_file("new_gpu", 0200, simgpu_debugfs_root,
						     simgpu_hotplug_write,
						     &simgpu_hotplug_fops);
	simgpu_debugfs_del_gpu = debugfs_create_file("del_gpu", 0200, simgpu_debugfs_root,
						     NULL, &simgpu_hotplug_fops);
}

/**
 * simgpu_debugfs_hotplug_fini() - Remove new_gpu and del_gpu
 *
 * On return no write to them runs, and none can start.
 */
void simgpu_debugfs_hotplug_fini(void)
{
	debugfs_remove(simgpu_debugfs_new_gpu);
	debugfs_remove(simgpu_debugfs_del_gpu);
	simgpu_debugfs_new_gpu = NULL;
	simgpu_debugfs_del_gpu = NULL;
}

/**
 * simgpu_debugfs_fini() - Remove the driver's debugfs root
 */
void simgpu_debugfs_fini(void)
{
	debugfs_remove_recursive(simgpu_debugfs_root);
	simgpu_debugfs_root = NULL;
}

/**
 * simgpu_debugfs_device_init() - Create a GPU's debugfs directory
 * @gpu: The GPU; its knobs hold their defaults.
 */
void simgpu_debugfs_device_init(struct simgpu_device *gpu)
{
	struct simgpu_knobs *knobs = &gpu->knobs;
	char name[16];
	struct dentry *dir;

	snprintf(name, sizeof(name), "gpu%u", gpu->index);
	dir = debugfs_create_dir(name, simgpu_debugfs_root);
	gpu->debugfs = dir;

	debugfs_create_u32("tlb_inval_latency_us", 0600, dir, &knobs->tlb_inval_latency_us);
	debugfs_create_u32("tlb_inval_timeout_ms", 0600, dir, &knobs->tlb_inval_timeout_ms);
	debugfs_create_bool("skip_tlb_inval", 0600, dir, &knobs->skip_tlb_inval);
	debugfs_create_bool("skip_finish_wait", 0600, dir, &knobs->skip_finish_wait);
	debugfs_create_file("hang_tlb_inval", 0600, dir, gpu, &simgpu_hang_fops);
	debugfs_create_bool("timeout_noflush", 0600, dir, &knobs->timeout_noflush);
	debugfs_create_bool("skip_tlb_reset", 0600, dir, &knobs->skip_tlb_reset);
	debugfs_create_bool("fail_tlb_reset", 0600, dir, &knobs->fail_tlb_reset);
	debugfs_create_bool("skip_zap", 0600, dir, &knobs->skip_zap);
	debugfs_create_bool("tlb_inval_exact", 0600, dir, &knobs->tlb_inval_exact);
	debugfs_create_bool("tlb_inval_short", 0600, dir, &knobs->tlb_inval_short);
	debugfs_create_bool("tlb_inval_asid1", 0600, dir, &knobs->tlb_inval_asid1);
	debugfs_create_file_unsafe("tlb_inval_next_seqno", 0600, dir, gpu,
				   &simgpu_next_seqno_fops);
	debugfs_create_bool("seqno_nowrap", 0600, dir, &knobs->seqno_nowrap);
	debugfs_create_bool("fold_no_flush_all", 0600, dir, &knobs->fold_no_flush_all);
	debugfs_create_bool("drop_stale_tlb_hits", 0600, dir, &knobs->drop_stale_tlb_hits);
	debugfs_create_bool("skip_job_wait", 0600, dir, &knobs->skip_job_wait);
	debugfs_create_bool("skip_exec_revalidate", 0600, dir, &knobs->skip_exec_revalidate);
	debugfs_create_file("stats", 0400, dir, gpu, &simgpu_stats_fops);
	debugfs_create_file_unsafe("reset_stats", 0200, dir, gpu, &simgpu_reset_stats_fops);
}

/**
 * simgpu_debugfs_device_fini() - Remove a GPU's debugfs directory
 * @gpu: The GPU.
 *
 * On return no knob file is being accessed any more.
 */
void simgpu_debugfs_device_fini(struct simgpu_device *gpu)
{
	debugfs_remove_recursive(gpu->debugfs);
	gpu->debugfs = NULL;
}
