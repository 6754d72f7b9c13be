// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The gsvm authors
 *
 * Runner: every selected subtest runs in a forked child that is the leader
 * of its own process group. The parent waits for it with a time limit,
 * kills the whole group when the limit passes, maps the child's exit code
 * (0 / 77 / 98) or its death by signal to SUCCESS / SKIP / FAIL, restores
 * the files the subtest changed with igt_file_set_tmp(), and prints the
 * IGT result line.
 */

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "igt_core.h"

#define IGT_VERSION	"1.0-gsvm"
#define MAX_EXIT_HANDLERS 16
#define MAX_RESTORE	64

struct restore_entry {
	int valid;
	char path[256];
	char value[256];
};

struct restore_area {
	int count;
	struct restore_entry e[MAX_RESTORE];
};

static const char *prog = "igt";
static const char *cur_subtest;
static bool in_subtest_child;
static unsigned int dyn_run, dyn_failed, dyn_skipped;
static bool in_helper;
static bool debug_log;
static const char *device_filter;
static struct restore_area *restore;
static volatile pid_t child_pgid;

static struct {
	void (*fn)(void);
	pid_t pid;
} exit_handlers[MAX_EXIT_HANDLERS];
static int num_exit_handlers;

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool in_fail_path;

const char *igt_device_filter(void)
{
	return device_filter;
}

const char *igt_device_filter_set(const char *filter)
{
	const char *old = device_filter;

	device_filter = filter;
	return old;
}

const char *igt_subtest_name(void)
{
	return cur_subtest;
}

/* ---- logging ----------------------------------------------------------- */

static void vlog(FILE *f, const char *level, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (level)
		fprintf(f, "(%s:%d) %s: %s", prog, (int)getpid(), level, buf);
	else
		fputs(buf, f);
	fflush(f);
}

void igt_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(stdout, NULL, fmt, ap);
	va_end(ap);
}

void igt_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(stderr, "WARNING", fmt, ap);
	va_end(ap);
}

void igt_debug(const char *fmt, ...)
{
	va_list ap;

	if (!debug_log)
		return;
	va_start(ap, fmt);
	vlog(stdout, "DEBUG", fmt, ap);
	va_end(ap);
}

const char *igt_errname(int err)
{
	static const struct { int err; const char *name; } names[] = {
		{ 0, "0" },
		{ EPERM, "-EPERM" }, { ENOENT, "-ENOENT" }, { EINTR, "-EINTR" },
		{ EIO, "-EIO" }, { EBADF, "-EBADF" }, { EAGAIN, "-EAGAIN" },
		{ ENOMEM, "-ENOMEM" }, { EACCES, "-EACCES" },
		{ EFAULT, "-EFAULT" }, { EBUSY, "-EBUSY" }, { EEXIST, "-EEXIST" },
		{ ENODEV, "-ENODEV" }, { EINVAL, "-EINVAL" },
		{ ENOTTY, "-ENOTTY" }, { ENOSPC, "-ENOSPC" }, { ERANGE, "-ERANGE" },
		{ ETIME, "-ETIME" }, { EOVERFLOW, "-EOVERFLOW" },
		{ EOPNOTSUPP, "-EOPNOTSUPP" }, { ETIMEDOUT, "-ETIMEDOUT" },
		{ ECANCELED, "-ECANCELED" }, { E2BIG, "-E2BIG" }, { EPROTO, "-EPROTO" },
	};
	static __thread char buf[32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (-err == names[i].err)
			return names[i].name;
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}

/* ---- results ----------------------------------------------------------- */

static void run_exit_handlers(void)
{
	pid_t self = getpid();

	while (num_exit_handlers > 0) {
		num_exit_handlers--;
		if (exit_handlers[num_exit_handlers].pid == self)
			exit_handlers[num_exit_handlers].fn();
	}
}

void igt_install_exit_handler(void (*fn)(void))
{
	int i;

	for (i = 0; i < num_exit_handlers; i++)
		if (exit_handlers[i].fn == fn &&
		    exit_handlers[i].pid == getpid())
			return;
	if (num_exit_handlers == MAX_EXIT_HANDLERS) {
		igt_warn("too many exit handlers\n");
		igt_fail();
	}
	exit_handlers[num_exit_handlers].fn = fn;
	exit_handlers[num_exit_handlers].pid = getpid();
	num_exit_handlers++;
}

static void __attribute__((noreturn)) end_process(int code)
{
	/* A second failure from an exit handler or another thread. */
	if (in_fail_path) {
		fflush(stdout);
		fflush(stderr);
		_exit(IGT_EXIT_FAILURE);
	}
	in_fail_path = true;
	pthread_mutex_lock(&fail_lock);
	if (!in_helper)
		run_exit_handlers();
	fflush(stdout);
	fflush(stderr);
	if (!in_subtest_child && !in_helper)
		exit(code);
	_exit(code);
}

void igt_fail(void)
{
	end_process(IGT_EXIT_FAILURE);
}

static void print_fail_header(const char *file, int line, const char *func,
			      const char *expr)
{
	fprintf(stderr,
		"(%s:%d) CRITICAL: Test assertion failure function %s, file %s:%d:\n"
		"(%s:%d) CRITICAL: Failed assertion: %s\n",
		prog, (int)getpid(), func, file, line,
		prog, (int)getpid(), expr);
}

void __igt_fail_assert(const char *file, int line, const char *func,
		       const char *expr)
{
	print_fail_header(file, line, func, expr);
	igt_fail();
}

void __igt_fail_assert_f(const char *file, int line, const char *func,
			 const char *expr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	print_fail_header(file, line, func, expr);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "(%s:%d) CRITICAL: %s", prog, (int)getpid(), buf);
	if (!*buf || buf[strlen(buf) - 1] != '\n')
		fputc('\n', stderr);
	igt_fail();
}

void __igt_skip_require(const char *file, int line, const char *func,
			const char *expr)
{
	printf("Test requirement not met in function %s, file %s:%d:\n"
	       "Test requirement: %s\n", func, file, line, expr);
	end_process(IGT_EXIT_SKIP);
}

void __igt_skip_require_f(const char *file, int line, const char *func,
			  const char *expr, const char *fmt, ...)
{
	va_list ap;

	printf("Test requirement not met in function %s, file %s:%d:\n"
	       "Test requirement: %s\n", func, file, line, expr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	end_process(IGT_EXIT_SKIP);
}

void igt_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	end_process(IGT_EXIT_SKIP);
}

/* ---- helpers ----------------------------------------------------------- */

pid_t igt_fork_helper(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	igt_assert_f(pid >= 0, "fork: %s\n", strerror(errno));
	if (pid == 0)
		in_helper = true;
	return pid;
}

void igt_helper_exit(int code)
{
	fflush(stdout);
	fflush(stderr);
	_exit(code);
}

int igt_wait_helper(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* ---- files ------------------------------------------------------------- */

int igt_file_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int igt_file_write(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

int igt_file_set_tmp(const char *path, const char *value)
{
	struct restore_entry *e;
	char old[256];
	int idx, err;

	if (!restore)
		return -ENODEV;
	if (strlen(path) >= sizeof(e->path))
		return -ENAMETOOLONG;
	err = igt_file_read(path, old, sizeof(old));
	if (err)
		return err;
	idx = __atomic_fetch_add(&restore->count, 1, __ATOMIC_SEQ_CST);
	if (idx >= MAX_RESTORE)
		return -ENOSPC;
	e = &restore->e[idx];
	strcpy(e->path, path);
	strcpy(e->value, old);
	__atomic_store_n(&e->valid, 1, __ATOMIC_SEQ_CST);

	err = igt_file_write(path, value);
	if (err)
		__atomic_store_n(&e->valid, 0, __ATOMIC_SEQ_CST);
	else
		igt_debug("set %s = %s (was %s)\n", path, value, old);
	return err;
}

void igt_file_restore_all(void)
{
	int n, i;

	if (!restore)
		return;
	n = __atomic_exchange_n(&restore->count, 0, __ATOMIC_SEQ_CST);
	if (n > MAX_RESTORE)
		n = MAX_RESTORE;
	for (i = n - 1; i >= 0; i--) {
		struct restore_entry *e = &restore->e[i];
		int err;

		if (!__atomic_exchange_n(&e->valid, 0, __ATOMIC_SEQ_CST))
			continue;
		err = igt_file_write(e->path, e->value);
		if (err)
			fprintf(stderr, "(%s:%d) WARNING: cannot restore %s to %s: %s\n",
				prog, (int)getpid(), e->path, e->value,
				strerror(-err));
	}
}

/* ---- time -------------------------------------------------------------- */

uint64_t igt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void igt_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000l,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- runner ------------------------------------------------------------ */

enum result { RES_SUCCESS, RES_SKIP, RES_FAIL };

static const char *const result_names[] = {
	[RES_SUCCESS] = "SUCCESS",
	[RES_SKIP] = "SKIP",
	[RES_FAIL] = "FAIL",
};

static void forward_signal(int sig)
{
	if (child_pgid > 0)
		kill(-child_pgid, SIGKILL);
	if (restore)
		igt_file_restore_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool valid_name(const char *name)
{
	const char *p;

	if (!*name)
		return false;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-'))
			return false;
	return true;
}

/* --run-subtest takes a comma separated list of fnmatch() globs. */
static bool name_matches(const char *name, const char *globs)
{
	char buf[512], *save, *tok;

	if (!globs)
		return true;
	snprintf(buf, sizeof(buf), "%s", globs);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (!fnmatch(tok, name, 0))
			return true;
	return false;
}

/* Returns true with *status set when the child ended before @deadline. */
static bool wait_child(pid_t pid, int *status, uint64_t deadline)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 && errno != EINTR)
			return true;
		if (igt_now_ns() >= deadline)
			return false;
		usleep(2000);
	}
}

void igt_dynamic_f(void (*fn)(void *data), void *data, const char *fmt, ...)
{
	static const char *const names[] = { "SUCCESS", "SKIP", "FAIL" };
	char name[128];
	uint64_t start;
	int status, r;
	va_list ap;
	pid_t pid;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);

	printf("Starting dynamic subtest: %s\n", name);
	fflush(stdout);
	fflush(stderr);
	start = igt_now_ns();
	pid = fork();
	igt_assert_f(pid >= 0, "fork: %s\n", strerror(errno));
	if (pid == 0) {
		fn(data);
		run_exit_handlers();
		fflush(stdout);
		fflush(stderr);
		_exit(IGT_EXIT_SUCCESS);
	}
	while (waitpid(pid, &status, 0) < 0)
		igt_assert_f(errno == EINTR, "waitpid: %s\n", strerror(errno));

	if (WIFEXITED(status) && WEXITSTATUS(status) == IGT_EXIT_SUCCESS)
		r = 0;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == IGT_EXIT_SKIP)
		r = 1;
	else
		r = 2;
	if (WIFSIGNALED(status))
		fprintf(stderr, "(%s:%d) CRITICAL: dynamic subtest %s received signal %d (%s)\n",
			prog, (int)getpid(), name, WTERMSIG(status),
			strsignal(WTERMSIG(status)));
	dyn_run++;
	dyn_skipped += r == 1;
	dyn_failed += r == 2;
	fflush(stderr);
	printf("Dynamic subtest %s: %s (%.3fs)\n", name, names[r],
	       (igt_now_ns() - start) / 1e9);
	fflush(stdout);
}

static enum result run_subtest(const struct igt_subtest *t,
			       unsigned int default_timeout, bool *stuck)
{
	unsigned int timeout = t->timeout_s ? t->timeout_s : default_timeout;
	enum result res;
	uint64_t start, end;
	int status = 0;
	pid_t pid;

	printf("Starting subtest: %s\n", t->name);
	fflush(stdout);
	fflush(stderr);
	start = igt_now_ns();

	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		res = RES_FAIL;
		goto out;
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		in_subtest_child = true;
		cur_subtest = t->name;
		t->fn(t->arg);
		if (dyn_failed)
			end_process(IGT_EXIT_FAILURE);
		if (dyn_run && dyn_skipped == dyn_run)
			end_process(IGT_EXIT_SKIP);
		run_exit_handlers();
		fflush(stdout);
		fflush(stderr);
		_exit(IGT_EXIT_SUCCESS);
	}
	setpgid(pid, pid);
	child_pgid = pid;

	if (!wait_child(pid, &status, start + timeout * 1000000000ull)) {
		fprintf(stderr, "(%s:%d) CRITICAL: subtest %s timed out after %u s, killing it\n",
			prog, (int)getpid(), t->name, timeout);
		kill(-pid, SIGKILL);
		if (!wait_child(pid, &status, igt_now_ns() + 30000000000ull)) {
			fprintf(stderr, "(%s:%d) CRITICAL: subtest %s does not die (stuck in the kernel?)\n",
				prog, (int)getpid(), t->name);
			*stuck = true;
		}
		res = RES_FAIL;
	} else if (WIFEXITED(status)) {
		switch (WEXITSTATUS(status)) {
		case IGT_EXIT_SUCCESS:
			res = RES_SUCCESS;
			break;
		case IGT_EXIT_SKIP:
			res = RES_SKIP;
			break;
		case IGT_EXIT_FAILURE:
			res = RES_FAIL;
			break;
		default:
			fprintf(stderr, "(%s:%d) CRITICAL: subtest %s exited with unexpected code %d\n",
				prog, (int)getpid(), t->name, WEXITSTATUS(status));
			res = RES_FAIL;
			break;
		}
	} else {
		fprintf(stderr, "(%s:%d) CRITICAL: subtest %s received signal %d (%s)\n",
			prog, (int)getpid(), t->name, WTERMSIG(status),
			strsignal(WTERMSIG(status)));
		res = RES_FAIL;
	}
	/* Helpers left behind by the subtest. */
	kill(-pid, SIGKILL);
	child_pgid = 0;
	igt_file_restore_all();
out:
	end = igt_now_ns();
	fflush(stderr);
	printf("Subtest %s: %s (%.3fs)\n", t->name, result_names[res],
	       (end - start) / 1e9);
	fflush(stdout);
	return res;
}

static void usage(const char *description)
{
	printf("%s\n\n", description);
	printf("Usage: %s [OPTIONS]\n"
	       "  --list-subtests          list the subtests and exit\n"
	       "  --run-subtest GLOB[,..]  run only the matching subtests (fnmatch globs)\n"
	       "  --device FILTER          GPUs to use: simgpu:N[,M...] (gpu_index) or\n"
	       "                           /dev/dri/renderDN; also IGT_DEVICE\n"
	       "  --timeout SECONDS        time limit per subtest (default %d, or\n"
	       "                           IGT_SUBTEST_TIMEOUT)\n"
	       "  --debug                  debug messages (also IGT_LOG_LEVEL=debug)\n"
	       "  --help                   this text\n",
	       prog, IGT_DEFAULT_TIMEOUT_S);
}

int igt_main(int argc, char **argv, const char *description,
	     const struct igt_subtest *tests, size_t count)
{
	static const struct option opts[] = {
		{ "list-subtests", no_argument, NULL, 'l' },
		{ "run-subtest", required_argument, NULL, 'r' },
		{ "device", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	unsigned int timeout = IGT_DEFAULT_TIMEOUT_S;
	const char *globs = NULL, *env;
	bool list = false, stuck = false;
	size_t i, j, ran = 0, failed = 0, skipped = 0;
	struct utsname un;
	int c;

	prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	env = getenv("IGT_LOG_LEVEL");
	if (env && !strcmp(env, "debug"))
		debug_log = true;
	device_filter = getenv("IGT_DEVICE");
	env = getenv("IGT_SUBTEST_TIMEOUT");
	if (env && atoi(env) > 0)
		timeout = atoi(env);

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			list = true;
			break;
		case 'r':
			globs = optarg;
			break;
		case 'd':
			device_filter = optarg;
			break;
		case 't':
			timeout = atoi(optarg) > 0 ? (unsigned int)atoi(optarg) : timeout;
			break;
		case 'D':
			debug_log = true;
			break;
		case 'h':
			usage(description);
			return IGT_EXIT_SUCCESS;
		default:
			usage(description);
			return IGT_EXIT_INVALID;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument %s\n", prog, argv[optind]);
		usage(description);
		return IGT_EXIT_INVALID;
	}

	for (i = 0; i < count; i++) {
		if (!valid_name(tests[i].name)) {
			fprintf(stderr, "%s: invalid subtest name '%s'\n", prog,
				tests[i].name);
			return IGT_EXIT_ABORT;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(tests[i].name, tests[j].name)) {
				fprintf(stderr, "%s: duplicate subtest '%s'\n",
					prog, tests[i].name);
				return IGT_EXIT_ABORT;
			}
	}

	if (list) {
		for (i = 0; i < count; i++)
			if (name_matches(tests[i].name, globs))
				printf("%s\n", tests[i].name);
		return IGT_EXIT_SUCCESS;
	}

	uname(&un);
	printf("IGT-Version: %s (%s) (Linux: %s %s)\n", IGT_VERSION,
	       un.machine, un.release, un.machine);
	fflush(stdout);

	restore = mmap(NULL, sizeof(*restore), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (restore == MAP_FAILED) {
		restore = NULL;
		fprintf(stderr, "%s: cannot allocate shared memory\n", prog);
		return IGT_EXIT_ABORT;
	}
	signal(SIGINT, forward_signal);
	signal(SIGTERM, forward_signal);
	signal(SIGHUP, forward_signal);

	for (i = 0; i < count && !stuck; i++) {
		enum result res;

		if (!name_matches(tests[i].name, globs))
			continue;
		ran++;
		res = run_subtest(&tests[i], timeout, &stuck);
		if (res == RES_FAIL)
			failed++;
		else if (res == RES_SKIP)
			skipped++;
	}

	if (stuck)
		return IGT_EXIT_ABORT;
	if (!ran) {
		fprintf(stderr, "%s: no subtest matches '%s'\n", prog,
			globs ? globs : "");
		return IGT_EXIT_INVALID;
	}
	if (failed)
		return IGT_EXIT_FAILURE;
	if (skipped == ran)
		return IGT_EXIT_SKIP;
	return IGT_EXIT_SUCCESS;
}
