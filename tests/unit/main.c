// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test runner: forks each registered test, enforces a timeout and
 * prints TAP. Exit status 1 if any test failed.
 *   build/unit-tests [SUBSTRING...]   run only matching tests
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util/util.h"

#define MAX_TESTS 512
#define TIMEOUT_S 30
#define EXIT_SKIP 77

struct tap_test {
	const char *name;
	tap_fn fn;
	const char *file;
};

static struct tap_test tests[MAX_TESTS];
static int ntests;
static int failed_checks;
static int report_fd = -1;
static char tmpdir[256];
static int saved_stderr = -1;
static char capture_path[300];

void tap_register(const char *name, tap_fn fn, const char *file)
{
	if (ntests < MAX_TESTS)
		tests[ntests++] = (struct tap_test){ name, fn, file };
}

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (report_fd >= 0 && write(report_fd, buf, n) < 0)
		_exit(2);
}

void tap_check_failed(const char *file, int line, const char *expr,
		      const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	failed_checks++;
	report("%s:%d: CHECK(%s) failed%s%s\n", file, line, expr,
	       msg[0] ? ": " : "", msg);
}

void tap_skip(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report("SKIP %s\n", msg);
	_exit(EXIT_SKIP);
}

void tap_abort(void)
{
	_exit(1);
}

const char *tap_tmpdir(void)
{
	return tmpdir;
}

void tap_capture_begin(void)
{
	int fd;

	snprintf(capture_path, sizeof(capture_path), "%s/.stderr", tmpdir);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

char *tap_capture_end(void)
{
	FILE *f;
	char *buf = calloc(1, 65536);

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	f = fopen(capture_path, "r");
	if (f) {
		size_t n = fread(buf, 1, 65535, f);

		buf[n] = 0;
		fclose(f);
	}
	return buf;
}

static int rm_entry(const char *path, const struct stat *sb __attribute__((unused)),
		    int flag __attribute__((unused)),
		    struct FTW *ftw __attribute__((unused)))
{
	return remove(path);
}

static bool selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return true;
	return false;
}

/* returns 0 pass, 1 fail, 2 skip */
static int run_one(const struct tap_test *t, char *msg, size_t len)
{
	int p[2], status = 0;
	time_t deadline = time(NULL) + TIMEOUT_S;
	size_t got = 0;
	pid_t pid;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cdm-unit-XXXXXX");
	if (!mkdtemp(tmpdir) || pipe(p))
		return snprintf(msg, len, "cannot set up: %s", strerror(errno)), 1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		setpgid(0, 0);
		t->fn();
		_exit(failed_checks ? 1 : 0);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n = read(p[0], msg + got, len - 1 - got);
		pid_t r;

		if (n > 0)
			got += n;
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (time(NULL) > deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			got += snprintf(msg + got, len - got,
					"timed out after %d s\n", TIMEOUT_S);
			status = 1 << 8;
			break;
		}
		usleep(2000);
	}
	got = read_fd_rest(p[0], msg, len, got);
	close(p[0]);
	kill(-pid, SIGKILL);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (WIFSIGNALED(status)) {
		snprintf(msg + got, len - got, "killed by signal %d\n",
			 WTERMSIG(status));
		return 1;
	}
	if (WEXITSTATUS(status) == EXIT_SKIP)
		return 2;
	return WEXITSTATUS(status) ? 1 : 0;
}

static void print_diag(const char *msg)
{
	const char *p = msg;

	while (*p) {
		const char *nl = strchr(p, '\n');
		int l = nl ? (int)(nl - p) : (int)strlen(p);

		printf("# %.*s\n", l, p);
		p += l + (nl ? 1 : 0);
	}
}

int main(int argc, char **argv)
{
	int i, n = 0, bad = 0;
	char msg[16384];

	for (i = 0; i < ntests; i++)
		n += selected(tests[i].name, argc, argv);
	printf("TAP version 13\n1..%d\n", n);
	n = 0;
	for (i = 0; i < ntests; i++) {
		int r;

		if (!selected(tests[i].name, argc, argv))
			continue;
		r = run_one(&tests[i], msg, sizeof(msg));
		n++;
		if (r == 2) {
			char *nl = strchr(msg, '\n');

			if (nl)
				*nl = 0;
			printf("ok %d - unit: %s # SKIP %s\n", n, tests[i].name,
			       strncmp(msg, "SKIP ", 5) ? msg : msg + 5);
			continue;
		}
		printf("%sok %d - unit: %s\n", r ? "not " : "", n,
		       tests[i].name);
		if (r) {
			bad++;
			print_diag(msg);
		}
		fflush(stdout);
	}
	return bad ? 1 : 0;
}
