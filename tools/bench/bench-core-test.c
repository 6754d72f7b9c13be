// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The gsvm authors
 *
 * bench-core-test: the pure logic of bench_core on known data, no GPU
 * needed: percentiles, option parsing, the table and CSV printers, and the
 * order in which the sample loop drives a device layer. Prints one
 * "PASS|FAIL bench-core/<case>" line per case; exit status 1 if one failed.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_core.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int failed;

static void report(const char *name, bool ok, const char *why)
{
	if (ok) {
		printf("PASS bench-core/%s\n", name);
	} else {
		printf("FAIL bench-core/%s (%s)\n", name, why);
		failed = 1;
	}
}

#define CHECK(cond) do { if (!(cond)) return #cond; } while (0)

/* ---- percentiles ---------------------------------------------------------- */

static const char *percentile_nearest_rank(void)
{
	double v[100], one[1] = { 7 }, three[3] = { 3, 1, 2 };
	unsigned int i;

	for (i = 0; i < 100; i++)
		v[i] = 100 - i;
	CHECK(bench_percentile(v, 100, 50) == 50);
	CHECK(bench_percentile(v, 100, 90) == 90);
	CHECK(bench_percentile(v, 100, 100) == 100);
	CHECK(bench_percentile(v, 100, 0) == 1);
	CHECK(bench_percentile(v, 10, 50) == 5);
	CHECK(bench_percentile(v, 10, 90) == 9);
	CHECK(bench_percentile(one, 1, 50) == 7);
	CHECK(bench_percentile(one, 1, 90) == 7);
	CHECK(bench_percentile(three, 3, 50) == 2);
	CHECK(bench_percentile(three, 3, 90) == 3);
	return NULL;
}

/* ---- options --------------------------------------------------------------- */

static const char *parse_counts(void)
{
	static const unsigned int def[] = { 1, 2, 4, 8 };
	struct bench_opts o;
	char many[64] = "";
	unsigned int i;

	bench_opts_init(&o, def, 4);
	CHECK(o.num_counts == 4 && o.samples == 200 && o.block == 10);
	CHECK(bench_parse_opt(&o, 'g', "3,1,16") == 0);
	CHECK(o.num_counts == 3 && o.counts[0] == 3 && o.counts[1] == 1 && o.counts[2] == 16);
	CHECK(bench_parse_opt(&o, 'g', "0") == -EINVAL);
	CHECK(bench_parse_opt(&o, 'g', "1,x") == -EINVAL);
	CHECK(bench_parse_opt(&o, 'g', "2,") == 0 && o.num_counts == 1 && o.counts[0] == 2);
	for (i = 0; i < 20; i++)
		strcat(many, "1,");
	CHECK(bench_parse_opt(&o, 'g', many) == 0 && o.num_counts == BENCH_MAX_COUNTS);
	return NULL;
}

static const char *parse_samples(void)
{
	struct bench_opts o;

	bench_opts_init(&o, NULL, 0);
	CHECK(bench_parse_opt(&o, 'n', "0") == -EINVAL);
	CHECK(bench_parse_opt(&o, 'n', "100001") == -EINVAL);
	CHECK(bench_parse_opt(&o, 'n', "100000") == 0 && o.samples == 100000);
	CHECK(bench_parse_opt(&o, 'n', "7") == 0 && o.samples == 7);
	CHECK(bench_parse_opt(&o, 'k', "7") == 1);
	return NULL;
}

static const char *parse_kinds(void)
{
	static const char *const names[] = { "userptr", "svm", "fault" };
	char a[] = "fault,userptr", b[] = "userptr,foo", c[] = "";
	unsigned int mask = 0;

	CHECK(bench_parse_kinds(a, names, 3, &mask) == 0 && mask == 5);
	mask = 0;
	CHECK(bench_parse_kinds(b, names, 3, &mask) == -EINVAL);
	mask = 0;
	CHECK(bench_parse_kinds(c, names, 3, &mask) == 0 && mask == 0);
	return NULL;
}

/* ---- printers --------------------------------------------------------------- */

static const unsigned int two_counts[] = { 1, 2 };
static const char *const ab[] = { "a", "b" };

/* (1, a) 10, (1, b) 20, (2, a) 15, (2, b) 60: one sample each. */
static struct bench_table *known_table(void)
{
	struct bench_table *t = bench_table_alloc(two_counts, 2, ab, 2, 1);

	*bench_slot(t, 0, 0, 0) = 10;
	*bench_slot(t, 0, 1, 0) = 20;
	*bench_slot(t, 1, 0, 0) = 15;
	*bench_slot(t, 1, 1, 0) = 60;
	return t;
}

static const char *print_to(char **text, struct bench_table *t, long latency, enum bench_vs vs)
{
	size_t size;
	FILE *f = open_memstream(text, &size);

	CHECK(f);
	bench_print_table(f, t, "Title, 1 samples each", latency, 16,
			  vs == BENCH_VS_FIRST_COUNT ? "vs first" : "vs other", vs);
	bench_print_csv(f);
	fclose(f);
	return NULL;
}

static const char *table_vs_first_count(void)
{
	static const char expect[] =
		"\nTitle, 1 samples each, TLB invalidation latency 40 us\n\n"
		"  gpus  mode                median_us       p90_us       vs first\n"
		"     1  a                        10.0         10.0          1.00x\n"
		"     1  b                        20.0         20.0          1.00x\n"
		"     2  a                        15.0         15.0          1.50x\n"
		"     2  b                        60.0         60.0          3.00x\n"
		"\n" BENCH_CSV_HEADER "\n"
		"1,a,10.0,10.0,,\n1,b,20.0,20.0,,\n2,a,15.0,15.0,,\n2,b,60.0,60.0,,\n";
	struct bench_table *t = known_table();
	char *text = NULL;
	const char *err;

	bench_reset_rows();
	err = print_to(&text, t, 40, BENCH_VS_FIRST_COUNT);
	bench_table_free(t);
	if (!err && strcmp(text, expect))
		err = "output differs";
	free(text);
	return err;
}

static const char *table_vs_last_mode(void)
{
	static const char expect[] =
		"\nTitle, 1 samples each\n\n"
		"  gpus  mode                median_us       p90_us       vs other\n"
		"     1  a                        10.0         10.0          0.50x\n"
		"     1  b                        20.0         20.0          1.00x\n"
		"     2  a                        15.0         15.0          0.25x\n"
		"     2  b                        60.0         60.0          1.00x\n";
	struct bench_table *t = known_table();
	char *text = NULL;
	const char *err;

	bench_reset_rows();
	err = print_to(&text, t, -1, BENCH_VS_LAST_MODE);
	bench_table_free(t);
	if (!err && strncmp(text, expect, strlen(expect)))
		err = "output differs";
	free(text);
	return err;
}

static const char *csv_fault_row(void)
{
	static const char expect[] = "\n" BENCH_CSV_HEADER "\n"
		"2,svm-fault-4k,100.0,200.5,1234,5679\n3,two-pass,1.2,3.5,,\n";
	char *text = NULL;
	size_t size;
	FILE *f = open_memstream(&text, &size);
	bool ok;

	CHECK(f);
	bench_reset_rows();
	bench_add_row(2, "svm-fault-4k", 100, 200.5, 1234.4, 5678.6);
	bench_add_row(3, "two-pass", 1.24, 3.46, -1, -1);
	bench_print_csv(f);
	fclose(f);
	ok = !strcmp(text, expect);
	free(text);
	bench_reset_rows();
	return ok ? NULL : "output differs";
}

/* ---- the sample loop, on a fake device layer ------------------------------ */

static char trace[1024];
static void *fake_buf;
static unsigned int touches;

static void rec(const char *what, unsigned int arg)
{
	size_t len = strlen(trace);

	snprintf(trace + len, sizeof(trace) - len, "%s%u ", what, arg);
}

static void *fake_prepare(enum bench_mirror mirror)
{
	rec("P", mirror);
	fake_buf = mmap(NULL, BENCH_BUF_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fake_buf == MAP_FAILED)
		bench_die("mmap");
	return fake_buf;
}

static void fake_setup(unsigned int n)
{
	rec("s", n);
}

static void fake_set_mode(unsigned int m)
{
	rec("m", m);
}

/* A GPU writes the buffer: it must be writable here (else SIGSEGV). */
static void fake_touch(unsigned int n)
{
	((char *)fake_buf)[BENCH_BUF_SIZE - 1] = (char)n;
	touches++;
	rec("t", n);
}

static void fake_teardown(unsigned int n)
{
	rec("d", n);
}

static void fake_finish(void)
{
	munmap(fake_buf, BENCH_BUF_SIZE);
	rec("F", 0);
}

static const char *run_order(bool mode_at_setup, const struct bench_dev_ops *ops,
			     unsigned int num_modes, const char *expect)
{
	static const unsigned int counts[] = { 1, 2 };
	struct bench_inval inval = {
		.mirror = BENCH_MIRROR_SVM,
		.modes = ab,
		.num_modes = num_modes,
		.mode_at_setup = mode_at_setup,
	};
	struct bench_opts o;
	struct bench_table *t;
	unsigned int c, m, i;
	bool ok = true;

	bench_opts_init(&o, counts, 2);
	o.samples = 3;
	o.block = 2;
	trace[0] = '\0';
	touches = 0;
	t = bench_run_inval(ops, &inval, &o);
	for (c = 0; c < 2; c++)
		for (m = 0; m < num_modes; m++)
			for (i = 0; i < 3; i++)
				ok &= *bench_slot(t, c, m, i) >= 0;
	bench_table_free(t);
	CHECK(ok);
	CHECK(touches == 2 * num_modes * 3);
	if (strcmp(trace, expect)) {
		fprintf(stderr, "got:    %s\nexpect: %s\n", trace, expect);
		return "call order differs";
	}
	return NULL;
}

static const struct bench_dev_ops fake_ops = {
	.prepare = fake_prepare,
	.setup = fake_setup,
	.set_mode = fake_set_mode,
	.touch = fake_touch,
	.teardown = fake_teardown,
	.finish = fake_finish,
};

/* Bindings: set up per block and count, then switch modes (gsvm userptr). */
static const char *loop_mode_switched_live(void)
{
	return run_order(false, &fake_ops, 2,
			 "P1 s1 m0 t1 t1 m1 t1 t1 d1 s2 m0 t2 t2 m1 t2 t2 d2 "
			 "s1 m0 t1 m1 t1 d1 s2 m0 t2 m1 t2 d2 F0 ");
}

/* The mode is read at VM creation: set it, then set up, per mode (SVM). */
static const char *loop_mode_at_setup(void)
{
	return run_order(true, &fake_ops, 2,
			 "P1 m0 s1 t1 t1 d1 m1 s1 t1 t1 d1 m0 s2 t2 t2 d2 m1 s2 t2 t2 d2 "
			 "m0 s1 t1 d1 m1 s1 t1 d1 m0 s2 t2 d2 m1 s2 t2 d2 F0 ");
}

/* One mode and no set_mode (Xe userptr). */
static const char *loop_one_mode(void)
{
	struct bench_dev_ops ops = fake_ops;

	ops.set_mode = NULL;
	return run_order(false, &ops, 1,
			 "P1 s1 t1 t1 d1 s2 t2 t2 d2 s1 t1 d1 s2 t2 d2 F0 ");
}

int main(void)
{
	static const struct {
		const char *name;
		const char *(*fn)(void);
	} cases[] = {
		{ "percentile-nearest-rank", percentile_nearest_rank },
		{ "parse-counts", parse_counts },
		{ "parse-samples", parse_samples },
		{ "parse-kinds", parse_kinds },
		{ "table-vs-first-count", table_vs_first_count },
		{ "table-vs-last-mode", table_vs_last_mode },
		{ "csv-fault-row", csv_fault_row },
		{ "loop-mode-switched-live", loop_mode_switched_live },
		{ "loop-mode-at-setup", loop_mode_at_setup },
		{ "loop-one-mode", loop_one_mode },
	};
	unsigned int i;

	bench_prog = "bench-core-test";
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *err = cases[i].fn();

		report(cases[i].name, !err, err);
	}
	return failed;
}
