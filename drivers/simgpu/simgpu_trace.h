/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM simgpu

#if !defined(_SIMGPU_TRACE_H_) || defined(TRACE_HEADER_MULTI_READ)
#define _SIMGPU_TRACE_H_

#include <linux/tracepoint.h>
#include <linux/types.h>

#include "simgpu_types.h"

TRACE_EVENT(simgpu_tlb_inval_send,
	    TP_PROTO(struct simgpu_device *gpu, u32 seqno, u32 asid, u64 start, u64 size),
	    TP_ARGS(gpu, seqno, asid, start, size),

	    TP_STRUCT__entry(__string(dev, gpu->name)
			     __field(u32, seqno)
			     __field(u32, asid)
			     __field(u64, start)
			     __field(u64, size)),

	    TP_fast_assign(__assign_str(dev);
			   __entry->seqno = seqno;
			   __entry->asid = asid;
			   __entry->start = start;
			   __entry->size = size;),

	    TP_printk("dev=%s, seqno=%u, asid=%u, start=0x%012llx, size=0x%llx",
		      __get_str(dev), __entry->seqno, __entry->asid,
		      __entry->start, __entry->size)
);

DECLARE_EVENT_CLASS(simgpu_tlb_inval_seqno,
		    TP_PROTO(struct simgpu_device *gpu, u32 seqno, s64 latency_us),
		    TP_ARGS(gpu, seqno, latency_us),

		    TP_STRUCT__entry(__string(dev, gpu->name)
				     __field(u32, seqno)
				     __field(s64, latency_us)),

		    TP_fast_assign(__assign_str(dev);
				   __entry->seqno = seqno;
				   __entry->latency_us = latency_us;),

		    TP_printk("dev=%s, seqno=%u, latency_us=%lld",
			      __get_str(dev), __entry->seqno, __entry->latency_us)
);

DEFINE_EVENT(simgpu_tlb_inval_seqno, simgpu_tlb_inval_done,
	     TP_PROTO(struct simgpu_device *gpu, u32 seqno, s64 latency_us),
	     TP_ARGS(gpu, seqno, latency_us)
);

DEFINE_EVENT(simgpu_tlb_inval_seqno, simgpu_tlb_inval_timeout,
	     TP_PROTO(struct simgpu_device *gpu, u32 seqno, s64 latency_us),
	     TP_ARGS(gpu, seqno, latency_us)
);

TRACE_EVENT(simgpu_gpu_fault,
	    TP_PROTO(struct simgpu_device *gpu, u32 asid, u64 addr, bool write, int result),
	    TP_ARGS(gpu, asid, addr, write, result),

	    TP_STRUCT__entry(__string(dev, gpu->name)
			     __field(u32, asid)
			     __field(u64, addr)
			     __field(bool, write)
			     __field(int, result)),

	    TP_fast_assign(__assign_str(dev);
			   __entry->asid = asid;
			   __entry->addr = addr;
			   __entry->write = write;
			   __entry->result = result;),

	    TP_printk("dev=%s, asid=%u, addr=0x%012llx, write=%d, result=%d",
		      __get_str(dev), __entry->asid, __entry->addr, __entry->write,
		      __entry->result)
);

TRACE_EVENT(simgpu_dma_unmapped_access,
	    TP_PROTO(struct simgpu_device *gpu, u64 va, u64 dma_addr, bool write),
	    TP_ARGS(gpu, va, dma_addr, write),

	    TP_STRUCT__entry(__string(dev, gpu->name)
			     __field(u64, va)
			     __field(u64, dma_addr)
			     __field(bool, write)),

	    TP_fast_assign(__assign_str(dev);
			   __entry->va = va;
			   __entry->dma_addr = dma_addr;
			   __entry->write = write;),

	    TP_printk("dev=%s, va=0x%012llx, dma_addr=0x%llx, write=%d",
		      __get_str(dev), __entry->va, __entry->dma_addr,
		      __entry->write)
);

DECLARE_EVENT_CLASS(simgpu_job,
		    TP_PROTO(struct simgpu_device *gpu, u64 seqno, int error),
		    TP_ARGS(gpu, seqno, error),

		    TP_STRUCT__entry(__string(dev, gpu->name)
				     __field(u64, seqno)
				     __field(int, error)),

		    TP_fast_assign(__assign_str(dev);
				   __entry->seqno = seqno;
				   __entry->error = error;),

		    TP_printk("dev=%s, seqno=%llu, error=%d",
			      __get_str(dev), __entry->seqno, __entry->error)
);

DEFINE_EVENT(simgpu_job, simgpu_job_begin,
	     TP_PROTO(struct simgpu_device *gpu, u64 seqno, int error),
	     TP_ARGS(gpu, seqno, error)
);

DEFINE_EVENT(simgpu_job, simgpu_job_end,
	     TP_PROTO(struct simgpu_device *gpu, u64 seqno, int error),
	     TP_ARGS(gpu, seqno, error)
);

#endif /* _SIMGPU_TRACE_H_ */

/* This part must be outside protection */
#undef TRACE_INCLUDE_PATH
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE simgpu_trace
#include <trace/define_trace.h>
