// SPDX-License-Identifier: GPL-2.0
/* `cdmbench run`: load or build a job, then hand it to the runner. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/escape.h"
#include "cli/cli.h"
#include "store/db.h"
#include "core/runner.h"
#include "report/console.h"

struct run_args {
	const char *workload;
	const char *db;
	const char *stream;
	struct cli_list sets;
	bool dry_run;
	const char *format;
	struct cli_seed seed;
	struct cdm_run_opts o;
};

const struct cli_spec cli_run_spec = {
	.cmd = "run",
	.usage =
	"usage: cdmbench run [OPTIONS] JOBFILE\n"
	"       cdmbench run [OPTIONS] -w WORKLOAD [--set KEY=VALUE ...]\n",
	.about =
	"Runs each case of the job in its own process (own process group,\n"
	"deadline, killed on hang) and stores every sample, summary and kernel\n"
	"log record in the database, one transaction per case.\n",
	.opts = (const struct cli_opt[]) {
		{ .name = "workload", .key = 'w', .kind = CLI_STR,
		  .off = offsetof(struct run_args, workload), .arg = "NAME",
		  .help = "run one workload (see 'cdmbench list')" },
		CLI_OPT_SET(struct run_args, sets),
		CLI_OPT_DB(struct run_args, db),
		CLI_OPT_TAG(struct run_args, o.tags),
		CLI_OPT_SEED(struct run_args, seed),
		CLI_OPT_FORMAT(struct run_args, format),
		{ .name = "dry-run", .key = 'n', .kind = CLI_FLAG,
		  .off = offsetof(struct run_args, dry_run),
		  .help = "print the expanded cases and exit" },
		{ .name = "stream", .kind = CLI_STR,
		  .off = offsetof(struct run_args, stream), .arg = "PATH",
		  .help = "write a result stream instead of a database\n(used inside the emulated node)" },
		CLI_OPT_QUIET,
		CLI_OPT_END
	},
	.more =
	"Exit status: 0 every case passed or was skipped; 1 a case failed,\n"
	"errored, timed out or crashed; 2 bad input; 130/143 interrupted by\n"
	"SIGINT/SIGTERM (finished cases are kept, the run is marked\n"
	"interrupted).\n"
	"\n"
	"Job file (INI):\n"
	"  [global]                 seed, name, description, tag.KEY, and\n"
	"  seed = 42                defaults for any option below\n"
	"  repeat = 20\n"
	"  [copy]                   one section per case\n"
	"  workload = stream\n"
	"  size = 4M, 64M           comma lists expand into a matrix\n"
	"Sizes: 4096, 4K, 2M, 1G. Durations: 500ms, 10s, 2m.\n"
	"\n"
	"Acceptance expectations, in a case section (or [global] for all):\n"
	"  expect.metric.NAME = STAT OP NUMBER [UNIT] [and ...]\n"
	"      e.g. median >= 5 GB/s and p99 < 2ms; STAT: min p5 median mean\n"
	"      p95 p99 max stddev mad n nonfinite noise (MAD/median, %)\n"
	"  expect.info.KEY = GLOB[|GLOB...], OP NUMBER, present or absent\n"
	"      a fact the case reported, e.g. placement_after_pin = system\n"
	"  expect.kmsg = clean     no kernel warning, BUG, oops... in the case\n"
	"  expect.verdict = pass   skips not accepted (default: pass|skip)\n"
	"  expect.integrity = ok   the case's data checks found no corruption\n"
	"A failed expectation fails the case with the reason; 'show', 'export\n"
	"--format junit|tap' and 'report' list them with the run's verdict.\n",
};

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
		if (job_from_workload(job, a->workload, a->sets.v, a->sets.n))
			return -1;
	} else if (job_load_file(job, argv[optind]) ||
		   job_add_overrides(job, a->sets.v, a->sets.n)) {
		return -1;
	}
	if (a->seed.set) {
		job->seed = a->seed.v;
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
		printf("%3zu  %-32s %s %s\n", i + 1, tesc(job->cases[i].name),
		       job->cases[i].wl->name, tesc(job->cases[i].params_json));
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
	if (rc || t->unstored)
		return CDM_EXIT_FAIL;
	if (t->verdicts[CDM_FAIL] || t->verdicts[CDM_ERROR] ||
	    t->verdicts[CDM_TIMEOUT] || t->verdicts[CDM_CRASH])
		return CDM_EXIT_FAIL;
	/* every case skipped: nothing was measured, nothing is accepted */
	if (!t->verdicts[CDM_PASS] && t->verdicts[CDM_SKIP]) {
		cdm_warn("no case passed: every case skipped, nothing was measured");
		return CDM_EXIT_FAIL;
	}
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
	if (t->unstored)
		fprintf(stderr, "%d NOT STORED, ", t->unstored);
	if (run_id)
		fprintf(stderr, "run %lld in %s%s\n", (long long)run_id, where,
			t->interrupted ? " (interrupted)" : "");
	else
		fprintf(stderr, "results in %s\n", where);
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { .db = cli_default_db(), .format = "text" };
	struct cdm_run_totals t;
	struct cdm_sink sink;
	struct cdm_job job = { 0 };
	int rc;

	rc = cli_parse(&cli_run_spec, argc, argv, &a);
	if (rc || load_job(argc, argv, &a, &job)) {
		rc = cli_parse_exit(rc);
		goto out;
	}
	if (a.dry_run) {
		print_dry_run(&job);
		rc = 0;
		goto out;
	}
	a.o.argv = cli_join_argv(argc + 1, argv - 1);
	a.o.progress = !cdm_quiet && isatty(STDERR_FILENO);
	a.o.seed_set = a.seed.set;
	a.o.seed = a.seed.v;
	if (!strcmp(a.format, "json"))
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
	cli_list_free(&a.sets);
	return rc;
}
