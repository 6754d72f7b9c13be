/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM gsvm

#if !defined(_GSVM_TRACE_H_) || defined(TRACE_HEADER_MULTI_READ)
#define _GSVM_TRACE_H_

#include <linux/tracepoint.h>
#include <linux/types.h>

#include <gsvm/gsvm.h>

#include <drm/drm_device.h>

DECLARE_EVENT_CLASS(gsvm_range,
		    TP_PROTO(struct gsvm_range *range),
		    TP_ARGS(range),

		    TP_STRUCT__entry(__string(dev, range->mirror->name)
				     __field(u64, gpu_start)
				     __field(unsigned long, cpu_start)
				     __field(u64, size)),

		    TP_fast_assign(__assign_str(dev);
				   __entry->gpu_start = gsvm_range_gpu_start(range);
				   __entry->cpu_start = range->cpu_start;
				   __entry->size = range->size;),

		    TP_printk("dev=%s, gpu_start=0x%016llx, cpu_start=0x%016lx, size=0x%llx",
			      __get_str(dev), __entry->gpu_start, __entry->cpu_start,
			      __entry->size)
);

DEFINE_EVENT(gsvm_range, gsvm_inval_start_begin,
	     TP_PROTO(struct gsvm_range *range),
	     TP_ARGS(range)
);

DEFINE_EVENT(gsvm_range, gsvm_inval_finish_begin,
	     TP_PROTO(struct gsvm_range *range),
	     TP_ARGS(range)
);

DEFINE_EVENT(gsvm_range, gsvm_inval_finish_end,
	     TP_PROTO(struct gsvm_range *range),
	     TP_ARGS(range)
);

DEFINE_EVENT(gsvm_range, gsvm_range_validate,
	     TP_PROTO(struct gsvm_range *range),
	     TP_ARGS(range)
);

TRACE_EVENT(gsvm_inval_start_end,
	    TP_PROTO(struct gsvm_range *range, bool deferred),
	    TP_ARGS(range, deferred),

	    TP_STRUCT__entry(__string(dev, range->mirror->name)
			     __field(u64, gpu_start)
			     __field(u64, size)
			     __field(bool, deferred)),

	    TP_fast_assign(__assign_str(dev);
			   __entry->gpu_start = gsvm_range_gpu_start(range);
			   __entry->size = range->size;
			   __entry->deferred = deferred;),

	    TP_printk("dev=%s, gpu_start=0x%016llx, size=0x%llx, deferred=%d",
		      __get_str(dev), __entry->gpu_start, __entry->size,
		      __entry->deferred)
);

TRACE_EVENT(gsvm_fault,
	    TP_PROTO(struct gsvm_mirror *mirror, u64 gpu_addr, bool write, int err),
	    TP_ARGS(mirror, gpu_addr, write, err),

	    TP_STRUCT__entry(__string(dev, mirror->name)
			     __field(u64, gpu_addr)
			     __field(bool, write)
			     __field(int, err)),

	    TP_fast_assign(__assign_str(dev);
			   __entry->gpu_addr = gpu_addr;
			   __entry->write = write;
			   __entry->err = err;),

	    TP_printk("dev=%s, gpu_addr=0x%016llx, write=%d, err=%d",
		      __get_str(dev), __entry->gpu_addr, __entry->write,
		      __entry->err)
);

TRACE_EVENT(gsvm_svm_fault,
	    TP_PROTO(struct gsvm_mirror *mirror, u64 addr, bool write,
		     unsigned long chunk, s64 ns, int err),
	    TP_ARGS(mirror, addr, write, chunk, ns, err),

	    TP_STRUCT__entry(__string(dev, mirror->name)
			     __field(u64, addr)
			     __field(unsigned long, chunk)
			     __field(s64, ns)
			     __field(bool, write)
			     __field(int, err)),

	    TP_fast_assign(__assign_str(dev);
			   __entry->addr = addr;
			   __entry->chunk = chunk;
			   __entry->ns = ns;
			   __entry->write = write;
			   __entry->err = err;),

	    TP_printk("dev=%s, addr=0x%016llx, write=%d, chunk=0x%lx, ns=%lld, err=%d",
		      __get_str(dev), __entry->addr, __entry->write,
		      __entry->chunk, __entry->ns, __entry->err)
);

TRACE_EVENT(gsvm_svm_inval_start,
	    TP_PROTO(struct gsvm_mirror *mirror, unsigned long start,
		     unsigned long end, unsigned long zstart, unsigned long zend),
	    TP_ARGS(mirror, start, end, zstart, zend),

	    TP_STRUCT__entry(__string(dev, mirror->name)
			     __field(unsigned long, start)
			     __field(unsigned long, end)
			     __field(unsigned long, zstart)
			     __field(unsigned long, zend)),

	    TP_fast_assign(__assign_str(dev);
			   __entry->start = start;
			   __entry->end = end;
			   __entry->zstart = zend ? zstart : 0;
			   __entry->zend = zend;),

	    TP_printk("dev=%s, start=0x%016lx, end=0x%016lx, zapped=[0x%lx, 0x%lx)",
		      __get_str(dev), __entry->start, __entry->end,
		      __entry->zstart, __entry->zend)
);

DECLARE_EVENT_CLASS(gsvm_svm_span,
		    TP_PROTO(struct gsvm_mirror *mirror, unsigned long start,
			     unsigned long end),
		    TP_ARGS(mirror, start, end),

		    TP_STRUCT__entry(__string(dev, mirror->name)
				     __field(unsigned long, start)
				     __field(unsigned long, end)),

		    TP_fast_assign(__assign_str(dev);
				   __entry->start = start;
				   __entry->end = end;),

		    TP_printk("dev=%s, start=0x%016lx, end=0x%016lx",
			      __get_str(dev), __entry->start, __entry->end)
);

DEFINE_EVENT(gsvm_svm_span, gsvm_svm_inval_finish,
	     TP_PROTO(struct gsvm_mirror *mirror, unsigned long start,
		      unsigned long end),
	     TP_ARGS(mirror, start, end)
);

DEFINE_EVENT(gsvm_svm_span, gsvm_svm_range_gc,
	     TP_PROTO(struct gsvm_mirror *mirror, unsigned long start,
		      unsigned long end),
	     TP_ARGS(mirror, start, end)
);

#endif /* _GSVM_TRACE_H_ */

/* This part must be outside protection */
#undef TRACE_INCLUDE_PATH
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE gsvm_trace
#include <trace/define_trace.h>
