/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 *
 * bench_core: the measuring logic the invalidation benchmarks share
 * (gsvm-bench on simgpu, xe-bench on Intel Xe): timing, the sample loop that
 * interleaves the modes of a table (two-pass, single-pass) per GPU count,
 * median and p90, the table and CSV printers, and the common options.
 *
 * A benchmark provides its device layer as a struct bench_dev_ops. One
 * sample: the buffer is made read-write, every one of the N GPUs writes it
 * (so each holds live PTEs and TLB entries for it), then the CPU calls
 * mprotect(PROT_READ) on it, which runs the mmu notifiers of all N GPUs;
 * the sample is the duration of that call.
 *
 * Everything here runs in one thread; nothing is thread-safe.
 */
#ifndef BENCH_CORE_H
#define BENCH_CORE_H

#include <stdbool.h>
#include <stdio.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#define BENCH_BUF_SIZE		(64 * 1024)	/* the invalidated buffer */
#define BENCH_MAX_COUNTS	16		/* GPU counts per run (-g) */
#define BENCH_MAX_SAMPLES	100000		/* samples per point (-n) */
#define BENCH_MAX_MODES		2
#define BENCH_MAX_ROWS		256		/* CSV rows per run */

/* Name of the program, first on every error line; set by main(). */
extern const char *bench_prog;

/* Print "<prog>: @what: strerror(errno)" and exit(1). */
void __attribute__((noreturn)) bench_die(const char *what);

/* CLOCK_MONOTONIC, in microseconds. */
double bench_now_us(void);

/*
 * The @pct percentile of @v[0..@n), @n > 0, nearest rank (the smallest
 * sample with at least @pct% of the samples at or below it). Sorts @v.
 */
double bench_percentile(double *v, unsigned int n, unsigned int pct);

/* ---- one table's samples ----------------------------------------------- */

/**
 * struct bench_table - the samples of one table
 * @counts: the GPU counts, one row group each
 * @num_counts: number of @counts
 * @modes: the row labels (CSV mode column), one per mode
 * @num_modes: number of @modes, at most BENCH_MAX_MODES
 * @samples: samples per (count, mode)
 * @us: @num_counts x @num_modes x @samples durations, in microseconds
 */
struct bench_table {
	const unsigned int *counts;
	unsigned int num_counts;
	const char *const *modes;
	unsigned int num_modes;
	unsigned int samples;
	double *us;
};

/* A table with room for all its samples; dies if out of memory. */
struct bench_table *bench_table_alloc(const unsigned int *counts, unsigned int num_counts,
				      const char *const *modes, unsigned int num_modes,
				      unsigned int samples);
void bench_table_free(struct bench_table *t);

/* Where sample @i of (count index @c, mode @m) goes. */
static inline double *bench_slot(struct bench_table *t, unsigned int c, unsigned int m,
				 unsigned int i)
{
	return &t->us[((size_t)c * t->num_modes + m) * t->samples + i];
}

/* What the last column of a table compares a row's median with. */
enum bench_vs {
	BENCH_VS_FIRST_COUNT,	/* the same mode at the first GPU count */
	BENCH_VS_LAST_MODE,	/* the last mode at the same GPU count */
};

/*
 * Print @t to @out: a blank line, @title, ", TLB invalidation latency
 * @latency us" if @latency >= 0, a blank line, then one row per (count,
 * mode) with median, p90 and the median's ratio named @vs_label; @mode_width
 * is the width of the mode column. Each row is also added to the CSV
 * (bench_add_row()). Sorts the samples.
 */
void bench_print_table(FILE *out, struct bench_table *t, const char *title, long latency,
		       int mode_width, const char *vs_label, enum bench_vs vs);

/* ---- the CSV ------------------------------------------------------------ */

#define BENCH_CSV_HEADER	"gpus,mode,median_us,p90_us,faults_per_s,pages_per_s"

/* One CSV row; @faults_per_s and @pages_per_s < 0 when they do not apply. */
void bench_add_row(unsigned int gpus, const char *mode, double median_us, double p90_us,
		   double faults_per_s, double pages_per_s);
/* Print a blank line, the CSV header and every row added so far. */
void bench_print_csv(FILE *out);
/* Forget the rows (for the self-test). */
void bench_reset_rows(void);

/* ---- invalidation tables ------------------------------------------------ */

/* How the GPUs of an invalidation table mirror its buffer. */
enum bench_mirror {
	BENCH_MIRROR_USERPTR,	/* each GPU binds it (a userptr binding) */
	BENCH_MIRROR_SVM,	/* each GPU faults the CPU pages in (SVM) */
};

/**
 * struct bench_dev_ops - the device layer of an invalidation table
 * @prepare: (required) map the table's buffer, BENCH_BUF_SIZE bytes, and
 *	what the GPUs need to write it (batches, fences) for @mirror; return
 *	the buffer. Its protection is read-write.
 * @setup: (required) make the first @n GPUs mirror the buffer (VMs,
 *	bindings, exec queues).
 * @set_mode: (optional) select mode @m of the table, an index into
 *	&bench_inval.modes.
 * @touch: (required) each of the first @n GPUs writes the buffer, which
 *	is read-write; return when all have completed, so that their PTEs and
 *	TLB entries for it are live.
 * @teardown: (required) undo @setup.
 * @finish: (required) undo @prepare; leave the device in its default mode.
 *
 * Errors are fatal: the ops call bench_die() or exit themselves.
 */
struct bench_dev_ops {
	void *(*prepare)(enum bench_mirror mirror);
	void (*setup)(unsigned int n);
	void (*set_mode)(unsigned int m);
	void (*touch)(unsigned int n);
	void (*teardown)(unsigned int n);
	void (*finish)(void);
};

/**
 * struct bench_inval - an invalidation table
 * @mirror: how the GPUs mirror the buffer
 * @modes: the row labels, one per mode, in &bench_dev_ops.set_mode order
 * @num_modes: number of @modes, at most BENCH_MAX_MODES
 * @mode_at_setup: the device reads the mode when its VMs are created: set
 *	the mode, then set up, per mode. Otherwise set up once per GPU count
 *	and block, then switch modes.
 */
struct bench_inval {
	enum bench_mirror mirror;
	const char *const *modes;
	unsigned int num_modes;
	bool mode_at_setup;
};

/**
 * struct bench_opts - the options the benchmarks share
 * @counts: GPU counts (-g)
 * @num_counts: number of @counts
 * @samples: samples per (GPU count, mode) (-n)
 * @block: samples per mode in a row before the next mode and count, so
 *	that drift of a noisy machine hits every mode alike
 */
struct bench_opts {
	unsigned int counts[BENCH_MAX_COUNTS];
	unsigned int num_counts;
	unsigned int samples;
	unsigned int block;
};

/* Defaults: @counts (at most BENCH_MAX_COUNTS), 200 samples, blocks of 10. */
void bench_opts_init(struct bench_opts *o, const unsigned int *counts, unsigned int num);

/*
 * Parse option @opt with argument @arg if it is a common one: -n SAMPLES
 * (1 to BENCH_MAX_SAMPLES), -g N,N,... (each > 0; the first
 * BENCH_MAX_COUNTS). Returns 0 if parsed, -EINVAL if @arg is invalid, 1 if
 * @opt is not a common option.
 */
int bench_parse_opt(struct bench_opts *o, int opt, const char *arg);

/*
 * Parse @arg, a comma-separated list of names among @names[0..@num), into
 * the bit mask @mask (bit i for @names[i], or-ed in). Returns 0 or -EINVAL
 * on an unknown name. Modifies @arg.
 */
int bench_parse_kinds(char *arg, const char *const *names, unsigned int num,
		      unsigned int *mask);

/*
 * Run invalidation table @inval on the device layer @ops with @opts: for
 * each block of samples, for each GPU count N, for each mode, sample the
 * invalidation of the buffer that only the first N GPUs mirror. Returns
 * the samples, for bench_print_table().
 */
struct bench_table *bench_run_inval(const struct bench_dev_ops *ops,
				    const struct bench_inval *inval,
				    const struct bench_opts *opts);

#endif /* BENCH_CORE_H */
