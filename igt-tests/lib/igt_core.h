/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The gsvm authors
 *
 * A small IGT-like test core: subtest tables, command line handling
 * (--list-subtests, --run-subtest, --device), IGT-style output and exit
 * codes, one forked child per subtest with a timeout, assertion macros.
 */
#ifndef IGT_CORE_H
#define IGT_CORE_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#define IGT_EXIT_SUCCESS	0
#define IGT_EXIT_SKIP		77
#define IGT_EXIT_INVALID	79
#define IGT_EXIT_FAILURE	98
#define IGT_EXIT_ABORT		112

#define IGT_DEFAULT_TIMEOUT_S	60

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/**
 * struct igt_subtest - One entry of a binary's subtest table
 * @name: Subtest name, [a-z0-9-] only.
 * @fn: Body, run in a forked child. Returning means SUCCESS.
 * @arg: Passed to @fn (e.g. one GPU or all GPUs).
 * @timeout_s: Time limit of the child, 0 for IGT_DEFAULT_TIMEOUT_S.
 */
struct igt_subtest {
	const char *name;
	void (*fn)(int arg);
	int arg;
	unsigned int timeout_s;
};

/* Runs the table according to the command line; returns the exit code. */
int igt_main(int argc, char **argv, const char *description,
	     const struct igt_subtest *tests, size_t count);

#define IGT_MAIN(description, table)					\
int main(int argc, char **argv)						\
{									\
	return igt_main(argc, argv, description, table, ARRAY_SIZE(table)); \
}

/* Device filter from --device or IGT_DEVICE, NULL if none. */
const char *igt_device_filter(void);
/* Replaces the filter (NULL: none) until set again; returns the old one. */
const char *igt_device_filter_set(const char *filter);

/* Name of the running subtest, NULL outside one. */
const char *igt_subtest_name(void);

/*
 * Dynamic subtests, as IGT's igt_dynamic_f(): runs @fn(@data) in a forked
 * child as a dynamic subtest named by @fmt of the running subtest, between
 * "Starting dynamic subtest: NAME" and "Dynamic subtest NAME: RESULT (Ts)".
 * A failure or skip ends only that dynamic subtest. The subtest fails if
 * any of its dynamic subtests failed, and skips if every one skipped. The
 * child inherits the subtest's memory but not its exit handlers.
 */
void igt_dynamic_f(void (*fn)(void *data), void *data, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- results ----------------------------------------------------------- */

void __igt_fail_assert(const char *file, int line, const char *func,
		       const char *expr) __attribute__((noreturn));
void __igt_fail_assert_f(const char *file, int line, const char *func,
			 const char *expr, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 5, 6)));
void __igt_skip_require(const char *file, int line, const char *func,
			const char *expr) __attribute__((noreturn));
void __igt_skip_require_f(const char *file, int line, const char *func,
			  const char *expr, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 5, 6)));
void igt_skip(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
void igt_fail(void) __attribute__((noreturn));

#define igt_assert(expr) do {						\
	if (!(expr))							\
		__igt_fail_assert(__FILE__, __LINE__, __func__, #expr);	\
} while (0)

#define igt_assert_f(expr, ...) do {					\
	if (!(expr))							\
		__igt_fail_assert_f(__FILE__, __LINE__, __func__, #expr,	\
				    __VA_ARGS__);			\
} while (0)

#define __igt_assert_cmp(a, op, b, type, pfmt) do {			\
	type __a = (a), __b = (b);					\
	if (!(__a op __b))						\
		__igt_fail_assert_f(__FILE__, __LINE__, __func__,	\
				    #a " " #op " " #b,			\
				    "error: " pfmt " " #op " " pfmt " is false\n", \
				    __a, __b);				\
} while (0)

#define igt_assert_eq(a, b)	__igt_assert_cmp(a, ==, b, long long, "%lld")
#define igt_assert_neq(a, b)	__igt_assert_cmp(a, !=, b, long long, "%lld")
#define igt_assert_lt(a, b)	__igt_assert_cmp(a, <, b, long long, "%lld")
#define igt_assert_lte(a, b)	__igt_assert_cmp(a, <=, b, long long, "%lld")
#define igt_assert_eq_u32(a, b)	__igt_assert_cmp(a, ==, b, uint32_t, "%#" PRIx32)
#define igt_assert_eq_u64(a, b)	__igt_assert_cmp(a, ==, b, uint64_t, "%#" PRIx64)

/* Asserts that an expression returning 0 or -errno returns @err. */
#define igt_assert_err(expr, err) do {					\
	int __r = (expr), __e = (err);					\
	if (__r != __e)							\
		__igt_fail_assert_f(__FILE__, __LINE__, __func__, #expr,	\
				    "error: returned %d (%s), expected %d (%s)\n", \
				    __r, igt_errname(__r), __e, igt_errname(__e)); \
} while (0)

#define igt_require(expr) do {						\
	if (!(expr))							\
		__igt_skip_require(__FILE__, __LINE__, __func__, #expr); \
} while (0)

#define igt_require_f(expr, ...) do {					\
	if (!(expr))							\
		__igt_skip_require_f(__FILE__, __LINE__, __func__, #expr, \
				     __VA_ARGS__);			\
} while (0)

/* "-EFAULT" style name of a 0 / -errno value (static buffer for unknown). */
const char *igt_errname(int err);

/* ---- logging ----------------------------------------------------------- */

void igt_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void igt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void igt_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- exit handlers, helpers, restore-on-exit files --------------------- */

/*
 * Runs in the subtest child when it ends (success, skip, fail), in reverse
 * order of installation, only in the process that installed it.
 */
void igt_install_exit_handler(void (*fn)(void));

/*
 * Forks a helper process of the running subtest. In the helper, a failed
 * assertion exits with IGT_EXIT_FAILURE and a skip with IGT_EXIT_SKIP
 * without running the subtest's exit handlers. Returns as fork().
 */
pid_t igt_fork_helper(void);
/* Ends a helper process: flushes stdio and _exit()s with @code. */
void igt_helper_exit(int code) __attribute__((noreturn));
/* Waits for a helper; returns its exit code, or 128 + signal. */
int igt_wait_helper(pid_t pid);
/* Waits for a helper and asserts it exited with 0. */
#define igt_assert_helper_ok(pid) do {					\
	int __st = igt_wait_helper(pid);				\
	igt_assert_f(__st == 0, "helper %d ended with %d\n", (int)(pid), __st); \
} while (0)

/*
 * Writes @value to the file at @path and remembers its previous content.
 * The runner writes the old value back after the subtest ended, even if
 * the subtest crashed or timed out. Returns 0 or -errno.
 */
int igt_file_set_tmp(const char *path, const char *value);
/* Restores every file set with igt_file_set_tmp() (also done by the runner). */
void igt_file_restore_all(void);

/* Plain file helpers, return 0 / -errno. */
int igt_file_write(const char *path, const char *value);
int igt_file_read(const char *path, char *buf, size_t size);

/* ---- time -------------------------------------------------------------- */

uint64_t igt_now_ns(void);
void igt_sleep_ms(unsigned int ms);

/*
 * Polls COND every 100 us until true or @timeout_ms passed.
 * Evaluates to the last value of COND.
 */
#define igt_wait(COND, timeout_ms) ({					\
	uint64_t __end = igt_now_ns() + (uint64_t)(timeout_ms) * 1000000ull; \
	bool __ok;							\
	while (!(__ok = (COND)) && igt_now_ns() < __end)		\
		usleep(100);						\
	__ok;								\
})

#endif /* IGT_CORE_H */
