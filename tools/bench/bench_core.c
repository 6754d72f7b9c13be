// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 *
 * bench_core: timing, the interleaved sample loop, percentiles, the table
 * and CSV printers and the common options of the invalidation benchmarks.
 * See bench_core.h.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench_core.h"

const char *bench_prog = "bench";

void bench_die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", bench_prog, what, strerror(errno));
	exit(1);
}

double bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_percentile(double *v, unsigned int n, unsigned int pct)
{
	unsigned int idx = (n * pct + 99) / 100;

	qsort(v, n, sizeof(*v), cmp_double);
	return v[idx ? idx - 1 : 0];
}

/* ---- tables ------------------------------------------------------------- */

struct bench_table *bench_table_alloc(const unsigned int *counts, unsigned int num_counts,
				      const char *const *modes, unsigned int num_modes,
				      unsigned int samples)
{
	struct bench_table *t = calloc(1, sizeof(*t));
	size_t n = (size_t)num_counts * num_modes * samples;

	if (!t)
		bench_die("calloc");
	t->counts = counts;
	t->num_counts = num_counts;
	t->modes = modes;
	t->num_modes = num_modes;
	t->samples = samples;
	t->us = calloc(n ? n : 1, sizeof(*t->us));
	if (!t->us)
		bench_die("calloc");
	return t;
}

void bench_table_free(struct bench_table *t)
{
	if (!t)
		return;
	free(t->us);
	free(t);
}

void bench_print_table(FILE *out, struct bench_table *t, const char *title, long latency,
		       int mode_width, const char *vs_label, enum bench_vs vs)
{
	double med[BENCH_MAX_COUNTS][BENCH_MAX_MODES], p90[BENCH_MAX_COUNTS][BENCH_MAX_MODES];
	unsigned int c, m;

	if (t->num_counts > BENCH_MAX_COUNTS || t->num_modes > BENCH_MAX_MODES) {
		errno = EINVAL;
		bench_die("bench_print_table");
	}
	fprintf(out, "\n%s", title);
	if (latency >= 0)
		fprintf(out, ", TLB invalidation latency %ld us", latency);
	fprintf(out, "\n\n");
	fprintf(out, "%6s  %-*s %12s %12s %14s\n", "gpus", mode_width, "mode", "median_us",
		"p90_us", vs_label);

	for (c = 0; c < t->num_counts; c++) {
		for (m = 0; m < t->num_modes; m++) {
			med[c][m] = bench_percentile(bench_slot(t, c, m, 0), t->samples, 50);
			p90[c][m] = bench_percentile(bench_slot(t, c, m, 0), t->samples, 90);
		}
	}
	for (c = 0; c < t->num_counts; c++) {
		for (m = 0; m < t->num_modes; m++) {
			double ref = vs == BENCH_VS_FIRST_COUNT ? med[0][m] :
				     med[c][t->num_modes - 1];

			fprintf(out, "%6u  %-*s %12.1f %12.1f %13.2fx\n", t->counts[c],
				mode_width, t->modes[m], med[c][m], p90[c][m], med[c][m] / ref);
			bench_add_row(t->counts[c], t->modes[m], med[c][m], p90[c][m], -1, -1);
		}
	}
}

/* ---- the CSV ------------------------------------------------------------ */

struct bench_row {
	unsigned int gpus;
	char mode[24];
	double median_us, p90_us, faults_per_s, pages_per_s;
};

static struct bench_row rows[BENCH_MAX_ROWS];
static unsigned int num_rows;

void bench_add_row(unsigned int gpus, const char *mode, double median_us, double p90_us,
		   double faults_per_s, double pages_per_s)
{
	struct bench_row *r;

	if (num_rows == BENCH_MAX_ROWS) {
		errno = ENOSPC;
		bench_die("too many CSV rows");
	}
	r = &rows[num_rows++];
	r->gpus = gpus;
	snprintf(r->mode, sizeof(r->mode), "%s", mode);
	r->median_us = median_us;
	r->p90_us = p90_us;
	r->faults_per_s = faults_per_s;
	r->pages_per_s = pages_per_s;
}

void bench_print_csv(FILE *out)
{
	unsigned int i;

	fprintf(out, "\n" BENCH_CSV_HEADER "\n");
	for (i = 0; i < num_rows; i++) {
		fprintf(out, "%u,%s,%.1f,%.1f,", rows[i].gpus, rows[i].mode,
			rows[i].median_us, rows[i].p90_us);
		if (rows[i].faults_per_s >= 0)
			fprintf(out, "%.0f,%.0f\n", rows[i].faults_per_s, rows[i].pages_per_s);
		else
			fprintf(out, ",\n");
	}
}

void bench_reset_rows(void)
{
	num_rows = 0;
}

/* ---- options ------------------------------------------------------------ */

void bench_opts_init(struct bench_opts *o, const unsigned int *counts, unsigned int num)
{
	memset(o, 0, sizeof(*o));
	if (num > BENCH_MAX_COUNTS)
		num = BENCH_MAX_COUNTS;
	if (num)
		memcpy(o->counts, counts, num * sizeof(*counts));
	o->num_counts = num;
	o->samples = 200;
	o->block = 10;
}

static int parse_counts(struct bench_opts *o, const char *arg)
{
	const char *s = arg;
	char *end;

	o->num_counts = 0;
	while (*s && o->num_counts < BENCH_MAX_COUNTS) {
		o->counts[o->num_counts++] = strtoul(s, &end, 0);
		if (end == s || !o->counts[o->num_counts - 1])
			return -EINVAL;
		s = *end == ',' ? end + 1 : end;
	}
	return 0;
}

int bench_parse_opt(struct bench_opts *o, int opt, const char *arg)
{
	switch (opt) {
	case 'n':
		o->samples = strtoul(arg, NULL, 0);
		if (!o->samples || o->samples > BENCH_MAX_SAMPLES)
			return -EINVAL;
		return 0;
	case 'g':
		return parse_counts(o, arg);
	default:
		return 1;
	}
}

int bench_parse_kinds(char *arg, const char *const *names, unsigned int num,
		      unsigned int *mask)
{
	char *tok, *save = NULL;
	unsigned int i;

	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < num; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == num)
			return -EINVAL;
		*mask |= 1u << i;
	}
	return 0;
}

/* ---- the sample loop ---------------------------------------------------- */

/* One sample: all @n GPUs write the buffer, then the CPU revokes write. */
static double sample(const struct bench_dev_ops *ops, void *buf, unsigned int n)
{
	double t0, t1;

	if (mprotect(buf, BENCH_BUF_SIZE, PROT_READ | PROT_WRITE))
		bench_die("mprotect(RW)");
	ops->touch(n);

	t0 = bench_now_us();
	if (mprotect(buf, BENCH_BUF_SIZE, PROT_READ))
		bench_die("mprotect(R)");
	t1 = bench_now_us();
	return t1 - t0;
}

struct bench_table *bench_run_inval(const struct bench_dev_ops *ops,
				    const struct bench_inval *inval,
				    const struct bench_opts *opts)
{
	struct bench_table *t = bench_table_alloc(opts->counts, opts->num_counts,
						  inval->modes, inval->num_modes,
						  opts->samples);
	unsigned int c, m, i, done;
	void *buf;

	buf = ops->prepare(inval->mirror);

	/*
	 * Interleave: blocks of samples, alternating mode and GPU count. Only
	 * the N GPUs of a block mirror the buffer, so that the invalidation
	 * runs exactly N notifiers.
	 */
	for (done = 0; done < opts->samples; done += opts->block) {
		unsigned int todo = opts->samples - done < opts->block ?
				    opts->samples - done : opts->block;

		for (c = 0; c < opts->num_counts; c++) {
			unsigned int n = opts->counts[c];

			if (!inval->mode_at_setup)
				ops->setup(n);
			for (m = 0; m < inval->num_modes; m++) {
				if (ops->set_mode)
					ops->set_mode(m);
				/* The mode is fixed when a VM is created: new VMs per mode. */
				if (inval->mode_at_setup)
					ops->setup(n);
				for (i = 0; i < todo; i++)
					*bench_slot(t, c, m, done + i) = sample(ops, buf, n);
				if (inval->mode_at_setup)
					ops->teardown(n);
			}
			if (!inval->mode_at_setup)
				ops->teardown(n);
		}
	}
	ops->finish();
	return t;
}
