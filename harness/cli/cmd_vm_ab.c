// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench vm ab --base KERNEL --cand KERNEL --runs N JOB`: an
 * interleaved A/B comparison of two kernels in the emulated node, as one
 * command.
 *
 * Runs alternate base, cand, base, cand... so that whatever drifts over
 * the session (a TCG host's load, a neighbour) lands on both sides alike
 * instead of passing for the kernel's effect. Each run is a `vm run` of
 * this very binary, tagged ab=base or ab=cand and with a session tag
 * naming this comparison only, so earlier runs in the database never mix
 * in. It ends with `compare` of the two sides: its table, its verdict and
 * its exit status (1 on a regression or a case that broke).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/opt.h"

struct ab_args {
	const char *kernel[2];
	const char *append[2];
	int64_t runs;
	const char *job;
	const char *db;
	char **fwd;		/* options passed through to every vm run */
	int nfwd;
	bool quiet;
};

static const char *const side_name[2] = { "base", "cand" };

/* --opt VALUE or --opt=VALUE; advances *i past the value */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static void forward(struct ab_args *a, const char *arg)
{
	a->fwd = xrealloc(a->fwd, (a->nfwd + 1) * sizeof(char *));
	a->fwd[a->nfwd++] = (char *)arg;
}

static int check_file(const char *what, const char *path)
{
	struct stat st;

	errno = 0;
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return cdm_err("vm ab: %s %s: %s", what, path,
			       errno ? strerror(errno) : "not a file");
	return 0;
}

static int parse_ab(int argc, char **argv, struct ab_args *a)
{
	const char *v;
	char err[160];
	int i;

	for (i = 1; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--base"))) {
			a->kernel[0] = v;
		} else if ((v = opt_value(argc, argv, &i, "--cand"))) {
			a->kernel[1] = v;
		} else if ((v = opt_value(argc, argv, &i, "--base-append"))) {
			a->append[0] = v;
		} else if ((v = opt_value(argc, argv, &i, "--cand-append"))) {
			a->append[1] = v;
		} else if ((v = opt_value(argc, argv, &i, "--runs"))) {
			if (cdm_parse_int(v, &a->runs, err, sizeof(err)) ||
			    a->runs < 1 || a->runs > 1000)
				return cdm_err("vm ab: --runs %s: expected a number of runs a side from 1 to 1000",
					       v);
		} else if (!strcmp(argv[i], "--kernel") ||
			   !strncmp(argv[i], "--kernel=", 9) ||
			   !strcmp(argv[i], "--append") ||
			   !strncmp(argv[i], "--append=", 9)) {
			return cdm_err("vm ab: %s: use --base/--cand and --base-append/--cand-append",
				       argv[i]);
		} else if (i == argc - 1 && argv[i][0] != '-') {
			a->job = argv[i];
		} else {
			if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
				a->quiet = true;
			if ((v = opt_value(argc, argv, &i, "--db"))) {
				a->db = v;
				forward(a, "--db");
				forward(a, v);
				continue;
			}
			forward(a, argv[i]);
		}
	}
	if (!a->kernel[0] || !a->kernel[1])
		return cdm_err("vm ab: expected --base KERNEL and --cand KERNEL (bzImage paths)");
	if (!a->job)
		return cdm_err("vm ab: expected a JOBFILE last");
	return check_file("--base", a->kernel[0]) ||
	       check_file("--cand", a->kernel[1]) ||
	       check_file("job", a->job);
}

/* run this binary with argv; its exit status, or 2 if it did not run */
static int run_self(char **argv)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return cdm_err("vm ab: fork: %s", strerror(errno)), CDM_EXIT_USAGE;
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		fprintf(stderr, "cdmbench: vm ab: cannot run myself: %s\n",
			strerror(errno));
		_exit(CDM_EXIT_USAGE);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return CDM_EXIT_USAGE;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static int vm_run(const struct ab_args *a, int side, const char *session,
		  int pair)
{
	char **v = xcalloc(a->nfwd + 16, sizeof(char *));
	char *tags[3];
	int n = 0, k, rc;

	tags[0] = xasprintf("ab=%s", side_name[side]);
	tags[1] = xasprintf("ab-session=%s", session);
	tags[2] = xasprintf("ab-pair=%d", pair);
	v[n++] = "cdmbench";
	v[n++] = "vm";
	v[n++] = "run";
	v[n++] = "--kernel";
	v[n++] = (char *)a->kernel[side];
	if (a->append[side]) {
		v[n++] = "--append";
		v[n++] = (char *)a->append[side];
	}
	for (k = 0; k < 3; k++) {
		v[n++] = "--tag";
		v[n++] = tags[k];
	}
	for (k = 0; k < a->nfwd; k++)
		v[n++] = a->fwd[k];
	v[n++] = (char *)a->job;
	v[n] = NULL;
	rc = run_self(v);
	for (k = 0; k < 3; k++)
		free(tags[k]);
	free(v);
	return rc;
}

static int compare_sides(const struct ab_args *a, const char *session)
{
	char *sel[2];
	char *v[8];
	int n = 0, k, rc;

	for (k = 0; k < 2; k++)
		sel[k] = xasprintf("ab-session=%s,ab=%s", session, side_name[k]);
	v[n++] = "cdmbench";
	v[n++] = "compare";
	v[n++] = "--db";
	v[n++] = (char *)(a->db ? a->db : cli_default_db());
	v[n++] = sel[0];
	v[n++] = sel[1];
	v[n] = NULL;
	rc = run_self(v);
	free(sel[0]);
	free(sel[1]);
	return rc;
}

int cmd_vm_ab(int argc, char **argv)
{
	struct ab_args a = { .runs = 3 };
	char session[48];
	int i, side, rc, failed = 0;

	if (argc >= 2 && !strcmp(argv[1], "--help"))
		return cli_help("vm");
	if (parse_ab(argc, argv, &a)) {
		free(a.fwd);
		return CDM_EXIT_USAGE;
	}
	snprintf(session, sizeof(session), "%lld-%d", (long long)time(NULL),
		 (int)getpid());
	for (i = 0; i < a.runs; i++) {
		for (side = 0; side < 2; side++) {
			if (!a.quiet)
				fprintf(stderr, "cdmbench: vm ab: run %d of %lld, %s: %s%s%s\n",
					2 * i + side + 1, (long long)(2 * a.runs),
					side_name[side], a.kernel[side],
					a.append[side] ? " " : "",
					a.append[side] ? a.append[side] : "");
			rc = vm_run(&a, side, session, i + 1);
			/* bad input fails the first run before it boots */
			if (rc == CDM_EXIT_USAGE) {
				free(a.fwd);
				return rc;
			}
			if (rc >= 128) {
				free(a.fwd);
				return rc;	/* interrupted */
			}
			failed += rc != 0;
		}
	}
	if (!a.quiet)
		fprintf(stderr, "cdmbench: vm ab: session ab-session=%s: %lld runs a side, interleaved; comparing\n",
			session, (long long)a.runs);
	rc = compare_sides(&a, session);
	if (failed && rc == CDM_EXIT_OK) {
		cdm_err("vm ab: %d of %lld runs did not pass (see 'cdmbench runs'): the comparison holds for the cases that ran",
			failed, (long long)(2 * a.runs));
		rc = CDM_EXIT_FAIL;
	}
	free(a.fwd);
	return rc;
}
