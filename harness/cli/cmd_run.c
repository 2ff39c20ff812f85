// SPDX-License-Identifier: GPL-2.0
/* `cdmbench run`: load or build a job, then hand it to the runner. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/db.h"
#include "core/runner.h"
#include "report/console.h"

struct run_args {
	const char *workload;
	const char *db;
	const char *stream;
	char **sets;
	int nsets;
	bool dry_run;
	bool json;
	struct cdm_run_opts o;
};

static int parse_tag(struct cdm_kvlist *tags, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *k;

	if (!eq || eq == arg)
		return cdm_err("--tag %s: expected KEY=VALUE", arg);
	k = xasprintf("%.*s", (int)(eq - arg), arg);
	kv_set(tags, k, eq + 1);
	free(k);
	return 0;
}

static int parse_seed(const char *arg, uint64_t *seed)
{
	char err[128];
	int64_t v;

	if (cdm_parse_int(arg, &v, err, sizeof(err)))
		return cdm_err("--seed: %s", err);
	if (v < 0)
		return cdm_err("--seed %s: must not be negative", arg);
	*seed = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option lo[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "set", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'd' },
		{ "tag", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 'S' },
		{ "output-format", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "stream", required_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "w:s:t:o:nq", lo, NULL)) != -1) {
		switch (c) {
		case 'w':
			a->workload = optarg;
			break;
		case 's':
			a->sets = xrealloc(a->sets, (a->nsets + 1) * sizeof(char *));
			a->sets[a->nsets++] = optarg;
			break;
		case 'd':
			a->db = optarg;
			break;
		case 't':
			if (parse_tag(&a->o.tags, optarg))
				return -1;
			break;
		case 'S':
			if (parse_seed(optarg, &a->o.seed))
				return -1;
			a->o.seed_set = true;
			break;
		case 'o':
			if (!strcmp(optarg, "text"))
				a->json = false;
			else if (!strcmp(optarg, "json"))
				a->json = true;
			else
				return cdm_err("--output-format %s: expected text or json",
					       optarg);
			break;
		case 'n':
			a->dry_run = true;
			break;
		case 'R':
			a->stream = optarg;
			break;
		case 'q':
			cdm_quiet = true;
			break;
		default:
			return cli_usage_error("run"), -1;
		}
	}
	return 0;
}

static int load_job(int argc, char **argv, struct run_args *a,
		    struct cdm_job *job)
{
	if (a->workload && optind < argc)
		return cdm_err("run: give a job file or -w WORKLOAD, not both");
	if (!a->workload && optind >= argc)
		return cdm_err("run: no job file and no -w WORKLOAD (see 'cdmbench help run')");
	if (optind + 1 < argc)
		return cdm_err("run: one job file at a time ('%s' is extra)",
			       argv[optind + 1]);
	if (a->workload) {
		if (job_from_workload(job, a->workload, a->sets, a->nsets))
			return -1;
	} else if (job_load_file(job, argv[optind]) ||
		   job_add_overrides(job, a->sets, a->nsets)) {
		return -1;
	}
	if (a->o.seed_set) {
		job->seed = a->o.seed;
		job->seed_set = job->seed_from_cli = true;
	}
	return job_expand(job);
}

static void print_dry_run(const struct cdm_job *job)
{
	size_t i;

	printf("%zu case(s), seed %llu\n", job->ncases,
	       (unsigned long long)job->seed);
	for (i = 0; i < job->ncases; i++)
		printf("%3zu  %-32s %s %s\n", i + 1, job->cases[i].name,
		       job->cases[i].wl->name, job->cases[i].params_json);
}

/* the default location is created on demand; an explicit one must exist */
static void ensure_default_dir(const char *db)
{
	if (strcmp(db, CDM_DEFAULT_DB))
		return;
	if (mkdir("results", 0755) && errno != EEXIST)
		cdm_warn("cannot create results/: %s", strerror(errno));
}

static int exit_status(const struct cdm_run_totals *t, int rc)
{
	if (t->interrupted)
		return 128 + t->signal;
	if (rc)
		return CDM_EXIT_FAIL;
	if (t->verdicts[CDM_FAIL] || t->verdicts[CDM_ERROR] ||
	    t->verdicts[CDM_TIMEOUT] || t->verdicts[CDM_CRASH])
		return CDM_EXIT_FAIL;
	return CDM_EXIT_OK;
}

static void print_totals(const struct cdm_run_totals *t, const char *where,
			 int64_t run_id)
{
	int v;

	if (cdm_quiet)
		return;
	fprintf(stderr, "cdmbench: ");
	for (v = 0; v < CDM_NVERDICTS; v++)
		if (t->verdicts[v])
			fprintf(stderr, "%d %s, ", t->verdicts[v],
				cdm_verdict_name(v));
	if (run_id)
		fprintf(stderr, "run %lld in %s%s\n", (long long)run_id, where,
			t->interrupted ? " (interrupted)" : "");
	else
		fprintf(stderr, "results in %s\n", where);
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { .db = cli_default_db() };
	struct cdm_run_totals t;
	struct cdm_sink sink;
	struct cdm_job job = { 0 };
	int rc;

	if (parse_args(argc, argv, &a) || load_job(argc, argv, &a, &job)) {
		rc = CDM_EXIT_USAGE;
		goto out;
	}
	if (a.dry_run) {
		print_dry_run(&job);
		rc = 0;
		goto out;
	}
	a.o.argv = cli_join_argv(argc + 1, argv - 1);
	a.o.progress = !cdm_quiet && isatty(STDERR_FILENO);
	if (a.json)
		a.o.show_run = print_run_json;
	else
		a.o.show_case = print_case_line;
	/* handlers first: a signal during setup must not kill us mid-write */
	cdm_install_stop_handlers();
	if (a.stream) {
		rc = sink_stream_init(&sink, a.stream);
	} else {
		ensure_default_dir(a.db);
		rc = sink_db_init(&sink, a.db);
	}
	if (rc) {
		rc = CDM_EXIT_USAGE;
		goto out;
	}
	rc = cdm_run_job(&job, &sink, &a.o, &t);
	print_totals(&t, a.stream ? a.stream : a.db, sink.run_id);
	sink_close(&sink);
	rc = exit_status(&t, rc);
out:
	job_free(&job);
	kv_free(&a.o.tags);
	free(a.o.argv);
	free(a.sets);
	return rc;
}
