// SPDX-License-Identifier: GPL-2.0
/*
 * --version and probe for the plugin engines. A GPU runtime brought up in
 * the parent would not survive the fork of every later case, so the
 * parent only reads plugin tables; the runtime's answers come from a
 * forked helper over a pipe, with a deadline (a wedged driver must not
 * hang probe).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/engines.h"
#include "engine/fixture.h"

const char *const cdm_plugin_engines[] = { "hip", "cuda", NULL };

const char *cdm_engine_version(const char *name, char *buf, size_t len)
{
	const struct cdm_engine_ops *o;
	char path[512], why[512];

	o = cdm_engine_get(name, why, sizeof(why));
	if (!o)
		snprintf(buf, len, "no (%s)", why);
	else
		snprintf(buf, len, "built: %s (%s)",
			 cdm_engine_path(name, path, sizeof(path)),
			 o->build ? o->build : "no build line");
	return buf;
}

/* --- the helper: "KEY\tVALUE\n" lines on fd; tabs and newlines folded --- */

static void put_line(int fd, const char *key, const char *val)
{
	char line[1024];
	size_t i;
	int n;

	n = snprintf(line, sizeof(line) - 1, "%s\t%s", key, val ? val : "");
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	for (i = strlen(key) + 1; i < (size_t)n; i++)
		if (line[i] == '\n' || line[i] == '\t')
			line[i] = ' ';
	line[n++] = '\n';
	if (write(fd, line, n) != n)
		_exit(3);
}

static void emit_fd(void *arg, const char *key, const char *val)
{
	put_line(*(int *)arg, key, val);
}

static void __attribute__((noreturn)) helper(const char *name, int fd)
{
	static struct cdm_engine_host host;
	const struct cdm_engine_ops *o;
	char why[512] = "";
	int r;

	o = cdm_engine_get(name, why, sizeof(why));
	if (!o) {
		put_line(fd, "=no", why);
		_exit(0);
	}
	host = cdm_engine_host;
	host.page_size = sysconf(_SC_PAGESIZE);
	r = o->init(&host, why, sizeof(why));
	put_line(fd, r ? "=no" : "=yes", r ? why : "the runtime answers");
	if (o->probe)
		o->probe(emit_fd, &fd);
	_exit(0);
}

struct gather {
	char buf[16384];
	size_t n;
};

/* read the helper's output until EOF or the deadline; false on timeout */
static bool gather(int fd, struct gather *g, int timeout_s)
{
	uint64_t end = cdm_now_ns() + timeout_s * 1000000000ull;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = cdm_now_ns();
		ssize_t k;

		if (now >= end)
			return false;
		if (poll(&p, 1, (end - now) / 1000000 + 1) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (!p.revents)
			continue;
		k = read(fd, g->buf + g->n, sizeof(g->buf) - 1 - g->n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return true;
		g->n += k;
		if (g->n == sizeof(g->buf) - 1)
			return true;
	}
}

static void report(const char *name, struct gather *g, cdm_probe_add_fn add,
		   void *arg)
{
	char *line, *save = NULL, key[96];
	bool said = false;

	g->buf[g->n] = 0;
	for (line = strtok_r(g->buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');

		if (!tab)
			continue;
		*tab = 0;
		if (line[0] == '=') {
			add(arg, name, !strcmp(line, "=yes"), tab + 1);
			said = true;
			continue;
		}
		snprintf(key, sizeof(key), "%s.%s", name, line);
		/* facts are facts; only the device count can be a "no" */
		add(arg, key, strcmp(line, "devices") || isdigit((unsigned char)tab[1]),
		    tab + 1);
	}
	if (!said)
		add(arg, name, false, "the probe helper died without an answer");
}

static void probe_one(const char *name, cdm_probe_add_fn add, void *arg,
		      int timeout_s)
{
	struct gather *g = calloc(1, sizeof(*g));
	char msg[160];
	int fds[2], st;
	bool done;
	pid_t pid;

	if (!g || pipe2(fds, O_CLOEXEC)) {
		add(arg, name, false, "cannot start the probe helper");
		free(g);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		helper(name, fds[1]);
	}
	close(fds[1]);
	done = pid > 0 && gather(fds[0], g, timeout_s);
	close(fds[0]);
	if (pid > 0 && !done)
		kill(pid, SIGKILL);
	if (pid > 0)
		waitpid(pid, &st, 0);
	if (pid < 0) {
		add(arg, name, false, "fork of the probe helper failed");
	} else if (!done) {
		snprintf(msg, sizeof(msg),
			 "the %s runtime did not answer within %d s (helper killed)",
			 name, timeout_s);
		add(arg, name, false, msg);
	} else {
		report(name, g, add, arg);
	}
	free(g);
}

void cdm_engines_probe(cdm_probe_add_fn add, void *arg, int timeout_s)
{
	const char *env = getenv("CDMBENCH_PROBE_TIMEOUT");
	const char *const *e;

	/* a node whose driver takes long to come up may need more */
	if (env && atoi(env) > 0)
		timeout_s = atoi(env);
	for (e = cdm_plugin_engines; *e; e++)
		probe_one(*e, add, arg, timeout_s);
}
