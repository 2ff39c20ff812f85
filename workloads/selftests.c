// SPDX-License-Identifier: GPL-2.0
/*
 * selftests: the kernel's own hmm-tests and gup_test, built from the tree
 * the emulated node boots (kernel/build.sh), run here and recorded test by
 * test, so an acceptance run carries upstream's verdicts next to ours.
 *
 * Upstream's harness prints a skipped test as "ok N # SKIP reason" and
 * counts it as passed in its summary (and test_hmm.sh exits 0 whatever
 * happened); we read its output line by line and record the truth: pass,
 * fail or skip per test, with the test's own log lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/result.h"
#include "core/workload.h"

enum { SUITE_ALL, SUITE_HMM, SUITE_GUP };

struct sel_cfg {
	int suite;
	char *dir;
};

static const struct cdm_opt sel_opts[] = {
	{ "suite", CDM_T_ENUM, OPT_FIELD(struct sel_cfg, suite), "all", 0, 0,
	  "all|hmm-tests|gup_test", 0,
	  "which upstream programs to run" },
	{ "dir", CDM_T_STRING, OPT_FIELD(struct sel_cfg, dir), "", 0, 0, NULL,
	  CDM_OF_NOMATCH | CDM_OF_NOLIST,
	  "where hmm-tests and gup_test are (default: $CDMBENCH_SELFTESTS, which 'cdmbench vm' sets to the kernel build's selftests/)" },
	CDM_OPT_END
};

/* the invocations upstream's run_vmtests.sh makes of gup_test */
static const char *const gup_runs[][8] = {
	{ "-u", NULL },
	{ "-a", NULL },
	{ "-ct", "-F", "0x1", "0", "19", "0x1000", NULL },
};

struct sel_counts {
	int pass, fail, skip;
	char first_fail[256];
};

static const char *sel_dir(const struct sel_cfg *c)
{
	const char *env = getenv("CDMBENCH_SELFTESTS");

	if (c->dir && *c->dir)
		return c->dir;
	return env ? env : "";
}

static bool have_prog(const char *dir, const char *prog)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, prog);
	return access(path, X_OK) == 0;
}

static bool sel_supported(const void *cfg, char *why, size_t len)
{
	const struct sel_cfg *c = cfg;
	const char *dir = sel_dir(c);

	if (!*dir) {
		snprintf(why, len,
			 "no upstream selftests: set dir= or $CDMBENCH_SELFTESTS (kernel/build.sh builds them next to bzImage; 'cdmbench vm' sets it)");
		return false;
	}
	if (c->suite != SUITE_GUP && !have_prog(dir, "hmm-tests")) {
		snprintf(why, len, "%s/hmm-tests missing (did the selftest build fail? see selftests.log)", dir);
		return false;
	}
	if (c->suite != SUITE_HMM && !have_prog(dir, "gup_test")) {
		snprintf(why, len, "%s/gup_test missing", dir);
		return false;
	}
	if (access("/dev/hmm_dmirror0", F_OK)) {
		snprintf(why, len, "no /dev/hmm_dmirror0: kernel without CONFIG_TEST_HMM");
		return false;
	}
	return true;
}

static const char *sel_devtype(const void *cfg __unused)
{
	return "mixed";
}

/*
 * hmm-tests makes its file-backed buffers with O_TMPFILE in /tmp, which
 * overlayfs (the emulated node's root) refuses before Linux 6.6. Then the
 * program gets a tmpfs /tmp of its own, in a private mount namespace.
 */
static void private_tmp_if_needed(void)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);

	if (fd >= 0) {
		close(fd);
		return;
	}
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"))
		fprintf(stderr, "cdmbench: no private /tmp for O_TMPFILE: %s\n",
			strerror(errno));
}

/* start prog with stdout+stderr on a pipe */
static pid_t spawn(const char *dir, const char *prog, const char *const *args,
		   FILE **out)
{
	char path[4096];
	const char *argv[16];
	int p[2], i, n = 0, exe;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", dir, prog);
	argv[n++] = path;
	for (i = 0; args && args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		/* opened first: the program may live under the /tmp we cover */
		exe = open(path, O_RDONLY | O_CLOEXEC);
		private_tmp_if_needed();
		if (exe >= 0)
			fexecve(exe, (char *const *)argv, environ);
		fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	*out = fdopen(p[0], "r");
	return pid;
}

static const char *devtype_of(const char *test)
{
	if (strstr(test, "device_coherent"))
		return "coherent";
	if (strstr(test, "device_private"))
		return "private";
	return "system";
}

static void count(struct sel_counts *n, int verdict, const char *name)
{
	if (verdict == CDM_PASS)
		n->pass++;
	else if (verdict == CDM_SKIP)
		n->skip++;
	else {
		n->fail++;
		if (!n->first_fail[0])
			snprintf(n->first_fail, sizeof(n->first_fail), "%s", name);
	}
}

struct hmm_parse {
	char test[256];
	uint64_t t0;
	struct sbuf log;
	char last_msg[512];
};

/* "ok 3 hmm.x", "not ok 4 hmm.y", "ok 5 # SKIP why" */
static bool result_line(struct cdm_ctx *ctx, struct hmm_parse *hp,
			const char *line, struct sel_counts *n)
{
	const char *skip = strstr(line, "# SKIP");
	int verdict;
	char reason[600] = "";

	if (startswith(line, "ok "))
		verdict = skip ? CDM_SKIP : CDM_PASS;
	else if (startswith(line, "not ok "))
		verdict = CDM_FAIL;
	else
		return false;
	if (!hp->test[0])
		return true;	/* a result with no RUN line: not a test */
	if (verdict == CDM_SKIP)
		snprintf(reason, sizeof(reason), "%s", strtrim((char *)skip + 6));
	else if (verdict == CDM_FAIL)
		snprintf(reason, sizeof(reason), "%s", hp->last_msg[0] ?
			 hp->last_msg : "failed (see log)");
	cdm_subcase(ctx, hp->test, devtype_of(hp->test), verdict, reason,
		    cdm_now_ns() - hp->t0, hp->log.buf);
	count(n, verdict, hp->test);
	hp->test[0] = 0;
	return true;
}

static void hmm_line(struct cdm_ctx *ctx, struct hmm_parse *hp, char *line,
		     struct sel_counts *n, char *summary, size_t slen)
{
	char *run = strstr(line, " RUN ");

	if (startswith(line, "#") && run) {
		char *name = strtrim(run + 5), *dots = strstr(name, " ...");

		if (dots)
			*dots = 0;
		snprintf(hp->test, sizeof(hp->test), "%s", name);
		hp->t0 = cdm_now_ns();
		sb_reset(&hp->log);
		hp->last_msg[0] = 0;
		return;
	}
	if (result_line(ctx, hp, line, n))
		return;
	if (strstr(line, "tests passed."))
		snprintf(summary, slen, "%s", strtrim(line + 1));
	if (hp->test[0]) {
		sb_addf(&hp->log, "%s\n", line);
		/* assertion messages name file:line; keep the latest */
		if (strstr(line, ".c:"))
			snprintf(hp->last_msg, sizeof(hp->last_msg), "%s",
				 strtrim(line + (line[0] == '#')));
	}
}

static int run_hmm_tests(struct cdm_ctx *ctx, const char *dir,
			 struct sel_counts *n)
{
	struct hmm_parse hp = { .test = "" };
	char line[4096], summary[256] = "";
	FILE *out;
	int status = 0;
	pid_t pid;

	sb_init(&hp.log);
	pid = spawn(dir, "hmm-tests", NULL, &out);
	if (pid < 0 || !out)
		return cdm_error(ctx, "cannot run %s/hmm-tests", dir);
	while (fgets(line, sizeof(line), out)) {
		line[strcspn(line, "\n")] = 0;
		hmm_line(ctx, &hp, line, n, summary, sizeof(summary));
	}
	fclose(out);
	waitpid(pid, &status, 0);
	if (hp.test[0]) {
		/* the program died inside a test */
		cdm_subcase(ctx, hp.test, devtype_of(hp.test), CDM_CRASH,
			    "hmm-tests ended during this test", cdm_now_ns() - hp.t0,
			    hp.log.buf);
		count(n, CDM_CRASH, hp.test);
	}
	sb_free(&hp.log);
	cdm_info(ctx, "hmm_tests_upstream_summary", "%s (upstream counts skips as passes; exit status %d)",
		 summary[0] ? summary : "none printed",
		 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

static void gup_name(char *buf, size_t len, const char *const *args)
{
	int i, o;

	o = snprintf(buf, len, "gup_test");
	for (i = 0; args[i] && o < (int)len; i++)
		o += snprintf(buf + o, len - o, " %s", args[i]);
}

static int run_gup_test(struct cdm_ctx *ctx, const char *dir,
			struct sel_counts *n)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(gup_runs); k++) {
		char name[128], line[1024];
		struct sbuf log;
		uint64_t t0 = cdm_now_ns();
		int status = 0, verdict;
		FILE *out;
		pid_t pid;

		gup_name(name, sizeof(name), gup_runs[k]);
		pid = spawn(dir, "gup_test", gup_runs[k], &out);
		if (pid < 0 || !out)
			return cdm_error(ctx, "cannot run %s/gup_test", dir);
		sb_init(&log);
		while (fgets(line, sizeof(line), out))
			sb_adds(&log, line);
		fclose(out);
		waitpid(pid, &status, 0);
		/* kselftest convention: 4 means skip */
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			verdict = CDM_PASS;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 4)
			verdict = CDM_SKIP;
		else
			verdict = WIFSIGNALED(status) ? CDM_CRASH : CDM_FAIL;
		cdm_subcase(ctx, name, "system", verdict,
			    verdict == CDM_PASS ? "" : strtrim(log.buf),
			    cdm_now_ns() - t0, log.buf);
		count(n, verdict, name);
		sb_free(&log);
	}
	return 0;
}

static int sel_run(struct cdm_ctx *ctx)
{
	const struct sel_cfg *cfg = cdm_cfg(ctx);
	const char *dir = sel_dir(cfg);
	struct sel_counts n = { 0 };

	if (cfg->suite != SUITE_GUP && run_hmm_tests(ctx, dir, &n))
		return -1;
	if (cfg->suite != SUITE_HMM && run_gup_test(ctx, dir, &n))
		return -1;
	cdm_info(ctx, "upstream_tests", "pass=%d fail=%d skip=%d", n.pass,
		 n.fail, n.skip);
	if (n.fail)
		cdm_fail(ctx, "%d of %d upstream tests failed, first: %s",
			 n.fail, n.pass + n.fail + n.skip, n.first_fail);
	else if (!n.pass && !n.skip)
		return cdm_error(ctx, "the upstream programs reported no test results");
	else if (!n.pass && n.skip)
		return cdm_skip(ctx, "every upstream test skipped itself (%d)",
				n.skip);
	else
		cdm_info(ctx, "integrity", "ok: %d upstream tests passed, each with its own data checks",
			 n.pass);
	return 0;
}

const struct cdm_workload cdm_wl_selftests = {
	.name = "selftests",
	.summary = "the kernel's own hmm-tests and gup_test, each test recorded as a case",
	.backend = "dmirror",
	.opts = sel_opts,
	.cfg_size = sizeof(struct sel_cfg),
	.supported = sel_supported,
	.device_type = sel_devtype,
	.run = sel_run,
};
