// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * igt_core_selftest: subtests with known outcomes, run by selfcheck-core.sh
 * to check the runner itself (results, exit codes, timeouts, helpers,
 * file restore). Not part of TESTS.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "igt_core.h"

static void pass(int arg)
{
	igt_assert_eq(arg, 0);
	igt_info("passing\n");
}

static void skip(int arg)
{
	(void)arg;
	igt_require_f(false, "skipping on purpose\n");
}

static void fail_assert(int arg)
{
	igt_assert_eq(arg + 1, 2);
}

static void fail_segv(int arg)
{
	(void)arg;
	raise(SIGSEGV);
}

static void fail_timeout(int arg)
{
	(void)arg;
	for (;;)
		pause();
}

static void fail_helper(int arg)
{
	pid_t pid = igt_fork_helper();

	(void)arg;
	if (pid == 0) {
		igt_assert(false);
		igt_helper_exit(0);
	}
	igt_assert_helper_ok(pid);
}

static void pass_helper(int arg)
{
	pid_t pid = igt_fork_helper();

	(void)arg;
	if (pid == 0)
		igt_helper_exit(0);
	igt_assert_helper_ok(pid);
}

static bool handler_ran;
static char marker[256];

static void exit_handler(void)
{
	FILE *f = fopen(marker, "w");

	if (f) {
		fputs("handler\n", f);
		fclose(f);
	}
}

static void fail_runs_exit_handler(int arg)
{
	(void)arg;
	snprintf(marker, sizeof(marker), "%s/handler", getenv("SELFTEST_DIR"));
	igt_install_exit_handler(exit_handler);
	igt_assert(handler_ran);
}

/* Changes a file; the runner must restore it although the child crashes. */
static void file_tmp_then_crash(int arg)
{
	char path[256];

	(void)arg;
	snprintf(path, sizeof(path), "%s/knob", getenv("SELFTEST_DIR"));
	igt_assert_err(igt_file_set_tmp(path, "changed"), 0);
	raise(SIGKILL);
}

static const struct igt_subtest tests[] = {
	{ "pass", pass, 0, 0 },
	{ "skip", skip, 0, 0 },
	{ "fail-assert", fail_assert, 0, 0 },
	{ "fail-segv", fail_segv, 0, 0 },
	{ "fail-timeout", fail_timeout, 0, 2 },
	{ "fail-helper", fail_helper, 0, 0 },
	{ "pass-helper", pass_helper, 0, 0 },
	{ "fail-runs-exit-handler", fail_runs_exit_handler, 0, 0 },
	{ "file-tmp-then-crash", file_tmp_then_crash, 0, 0 },
};

IGT_MAIN("Self-test of the igt_core runner.", tests)
