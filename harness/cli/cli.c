// SPDX-License-Identifier: GPL-2.0
/*
 * The command table, help texts and dispatch. main.c only calls
 * cdm_main(), so the unit tests can link everything else.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#ifdef CDM_HAVE_CURL
#include <curl/curl.h>
#endif
#ifdef CDM_HAVE_LIKWID
#include <likwid.h>
#endif
#include <liburing.h>
#include <numa.h>

#include "cli/cli.h"
#include "core/engines.h"
#include "store/db.h"
#include "util/version.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

const struct cdm_cmd cdm_cmds[] = {
	{ "run", cmd_run, "run a job file or one workload and store every sample",
	  NULL },
	{ "list", cmd_list, "list workloads, backends and every option", NULL },
	{ "probe", cmd_probe, "show what this machine supports, and why not",
	  NULL },
	{ "runs", cmd_runs, "list the runs in a database", NULL },
	{ "show", cmd_show, "show one run: context, cases, summaries, kernel events",
	  NULL },
	{ "export", cmd_export, "export a run as JSON, CSV, JUnit XML or TAP",
	  NULL },
	{ "compare", cmd_compare, "compare two runs: what got slower, faster or broke",
	  NULL },
	{ "history", cmd_history, "one metric across runs, and the runs that moved it",
	  NULL },
	{ "report", cmd_report, "a run as one self-contained HTML page, or Markdown",
	  NULL },
	{ "db", cmd_db, "database maintenance: db check", NULL },
	{ "vm", cmd_vm, "run a job in the emulated device-memory node (QEMU)",
	  NULL },
	{ "cluster", cmd_cluster, "run a job on every node of a Slurm allocation, merged",
	  "usage: cdmbench cluster run [OPTIONS] JOBFILE [SRUN-OPTIONS...]\n"
	  "\n"
	  "Starts one task per node through srun (--ntasks-per-node=1, plus\n"
	  "every SRUN-OPTION after JOBFILE, e.g. -N 64 -p batch --time=30). Each\n"
	  "node runs 'cdmbench run JOBFILE' into its own database,\n"
	  "OUT/nodes/NODE.db, and every run records the node (SLURMD_NODENAME)\n"
	  "and the Slurm job and step ids. When srun returns, the node databases\n"
	  "are merged into one (see 'cdmbench merge'; it can be rerun by hand).\n"
	  "A node that fails or passes --timeout keeps the cases it finished; its\n"
	  "run is marked interrupted with the reason. Then 'cdmbench nodes' finds\n"
	  "the slow and failing nodes.\n"
	  "\n"
	  "OUT must be reachable from the nodes and from here (a shared file\n"
	  "system; every file has one writer, so no locking crosses nodes).\n"
	  "\n"
	  "      --out DIR       folder for the node databases (default\n"
	  "                      results/cluster-TIME)\n"
	  "  -o, --output DB     merged database (default OUT/merged.db)\n"
	  "      --timeout T     per node: stop the run after T (e.g. 20m); the\n"
	  "                      finished cases are kept\n"
	  "  -s, --set KEY=VAL   as for 'cdmbench run', on every node\n"
	  "      --srun PATH     srun to use (default: srun from PATH)\n"
	  "  -q, --quiet         no progress\n"
	  "\n"
	  "Exit status: 0 every node ran every case to a pass or skip; 1 a case\n"
	  "or a node failed; 2 bad input, or no node wrote a database.\n" },
	{ "merge", cmd_merge, "merge node databases into one (idempotent)",
	  "usage: cdmbench merge [-q] -o DB SOURCE.db...\n"
	  "\n"
	  "Copies every run of each SOURCE into DB with all its cases, samples,\n"
	  "summaries, expectations and kernel events. A run is known by its\n"
	  "uuid: merging a file twice adds nothing, and a copy of a run with\n"
	  "more cases or samples than DB holds replaces the smaller one. Each run\n"
	  "keeps its provenance (the source file and its node: SLURMD_NODENAME,\n"
	  "the run's 'node' tag, else the hostname; see 'cdmbench nodes'). A run\n"
	  "still 'running' in its source is kept and marked interrupted.\n"
	  "Every source is checked first: one that is not a cdmbench database,\n"
	  "or has a newer schema, stops the merge before anything is written.\n"
	  "Each source goes in as one transaction.\n"
	  "\n"
	  "  -o, --output DB    the database to merge into (created if missing)\n"
	  "  -q, --quiet        no summary line\n"
	  "\n"
	  "Exit status: 0 merged; 2 bad input (nothing written).\n" },
	{ "nodes", cmd_nodes, "the slow and the failing nodes of a fleet",
	  "usage: cdmbench nodes [OPTIONS]\n"
	  "\n"
	  "For every case and metric of the runs that carry a node identity (a\n"
	  "merged 'cdmbench cluster run', or runs under Slurm), compares each\n"
	  "node's median with the fleet: a robust z-score, 0.6745 (x - median) /\n"
	  "MAD across nodes (the mean absolute deviation where the MAD is 0), on\n"
	  "the logarithms where all values are positive (metrics vary by factors),\n"
	  "signed so that positive is worse for the metric. An outlier has z above\n"
	  "the bound and differs from the fleet median by at least --min-change; a\n"
	  "node faster than the fleet is not one. A failing node has a case that\n"
	  "did not pass or skip, a failed expectation, or a run that did not\n"
	  "complete (interrupted, crashed, timed out). Needs 3 nodes per metric.\n"
	  "'cdmbench report' of such a run adds the node x metric view.\n"
	  "\n"
	  "      --z Z              outlier bound (default: 3.5, raised with the\n"
	  "                         number of node-metrics so that noise alone\n"
	  "                         flags one with 1% probability: 5.6 at\n"
	  "                         10,000 nodes x 100 metrics)\n"
	  "      --min-change PCT   smallest difference that counts (default 5)\n"
	  "      --job NAME         only runs of this job\n"
	  "      --slurm-job ID     only runs of this Slurm job\n"
	  "      --limit N          list at most N outliers (text)\n"
	  "  -o, --output-format F  text (default) or json\n"
	  "      --db PATH          database\n"
	  "\n"
	  "Exit status: 0 no outlier and no failing node; 1 any; 2 bad input.\n" },
	{ "push", cmd_push, "send samples to InfluxDB (line protocol), resumable",
	  "usage: cdmbench push [OPTIONS] --url URL (--database DB | --org O --bucket B) [RUN...]\n"
	  "\n"
	  "Sends every sample of the RUNs (default: every finished run) as one\n"
	  "point each: measurement 'cdmbench', tags backend, case, device_type,\n"
	  "host, job, kernel, metric, node, run (uuid) and unit, fields value and\n"
	  "seq, timestamp = the case's start + the sample's index in ms. Pushing a\n"
	  "run again overwrites its points, never duplicates them. NaN samples\n"
	  "cannot be written in line protocol and are counted, not sent.\n"
	  "\n"
	  "What is still to be sent is kept in the database (push_spool, per run\n"
	  "and target) and advanced only after the server acknowledged a batch:\n"
	  "after a crash, a kill or an outage, the next push resumes there.\n"
	  "Connection errors, timeouts, HTTP 5xx and 429 are retried with a\n"
	  "doubling back-off; HTTP 413 splits the batch; points the server\n"
	  "refuses (HTTP 400, a 'partial write') are counted and not resent;\n"
	  "HTTP 401/403 stop at once.\n"
	  "\n"
	  "      --url URL          http(s)://host:port of the server\n"
	  "      --database DB      InfluxDB 1.x: POST /write?db=DB\n"
	  "      --user NAME        1.x basic auth; the password from\n"
	  "                         $CDMBENCH_INFLUX_PASSWORD or --password-file\n"
	  "      --org O --bucket B InfluxDB 2.x API: POST /api/v2/write; the\n"
	  "                         token from $CDMBENCH_INFLUX_TOKEN or\n"
	  "                         --token-file (never printed or stored)\n"
	  "      --cacert FILE      CA bundle for https (verification is always on)\n"
	  "      --batch N          points per request (default 5000)\n"
	  "      --retries N        per request (default 5)\n"
	  "      --backoff S        first wait before a retry, doubling (0.5)\n"
	  "      --timeout S        per request (default 30)\n"
	  "      --no-gzip          send plain text\n"
	  "      --measurement M    measurement name (default cdmbench)\n"
	  "      --force            send runs already pushed to this target again\n"
	  "      --db PATH          database\n"
	  "  -q, --quiet            no summary line\n"
	  "\n"
	  "Exit status: 0 all sent; 1 stopped by a fault (the rest is spooled) or\n"
	  "points refused; 2 bad input.\n" },
	{ "help", cmd_help, "help on a command", "usage: cdmbench help [COMMAND]\n" },
	{ "version", cmd_version, "version and optional features compiled in",
	  "usage: cdmbench --version\n" },
	{ NULL, NULL, NULL, NULL }
};

/* commands whose options and help are tables (cli/opts.h) */
static const struct cli_spec *const cli_specs[] = {
	&cli_run_spec, &cli_list_spec, &cli_probe_spec, &cli_runs_spec,
	&cli_show_spec, &cli_export_spec, &cli_compare_spec,
	&cli_history_spec, &cli_report_spec, &cli_db_spec, &cli_vm_spec,
	NULL
};

static const struct cli_spec *find_spec(const char *name)
{
	const struct cli_spec *const *s;

	for (s = cli_specs; *s; s++)
		if (!strcmp((*s)->cmd, name))
			return *s;
	return NULL;
}

static const struct cdm_cmd *find_cmd(const char *name)
{
	const struct cdm_cmd *c;

	for (c = cdm_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void overview(FILE *f)
{
	const struct cdm_cmd *c;

	fprintf(f,
		"usage: cdmbench COMMAND [OPTIONS]\n"
		"\n"
		"Benchmarks and stress tests for Linux device memory: migrations,\n"
		"long-term pins and concurrent CPU/device access on\n"
		"MEMORY_DEVICE_COHERENT and MEMORY_DEVICE_PRIVATE pages. Every sample\n"
		"goes into an SQLite database with its full context.\n"
		"\n"
		"Commands:\n");
	for (c = cdm_cmds; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->summary);
	fprintf(f,
		"\n"
		"'cdmbench help COMMAND' or 'cdmbench COMMAND --help' for details.\n"
		"Quick start: cdmbench probe; cdmbench run configs/smoke-cpu.ini;\n"
		"cdmbench show last.\n");
}

int cli_help(const char *name)
{
	const struct cdm_cmd *c = name ? find_cmd(name) : NULL;

	if (!name) {
		overview(stdout);
		return 0;
	}
	if (!c) {
		cdm_err("help: no command '%s'", name);
		return CDM_EXIT_USAGE;
	}
	if (find_spec(name))
		cli_print_help(stdout, find_spec(name));
	else
		fputs(c->usage, stdout);
	return 0;
}

int cli_usage_error(const char *name)
{
	const struct cdm_cmd *c = find_cmd(name);

	if (find_spec(name))
		cli_print_help(stderr, find_spec(name));
	else
		fprintf(stderr, "%s", c ? c->usage : "");
	fprintf(stderr, "(see 'cdmbench help %s')\n", name);
	return CDM_EXIT_USAGE;
}

const char *cli_default_db(void)
{
	const char *e = getenv("CDMBENCH_DB");

	return e && *e ? e : CDM_DEFAULT_DB;
}

char *cli_join_argv(int argc, char **argv)
{
	struct sbuf sb;
	int i;

	sb_init(&sb);
	for (i = 0; i < argc; i++) {
		if (i)
			sb_addc(&sb, ' ');
		if (strpbrk(argv[i], " \t'\"$\\"))
			json_escape(&sb, argv[i]);
		else
			sb_adds(&sb, argv[i]);
	}
	return sb_detach(&sb);
}

static int cmd_help(int argc, char **argv)
{
	return cli_help(argc > 1 ? argv[1] : NULL);
}

static int cmd_version(int argc __unused, char **argv __unused)
{
	const char *const *e;
	char line[1024];

	printf("cdmbench %s (git %s)\n", CDM_VERSION, CDM_GIT_REVISION);
	printf("schema version %d\n", db_latest_version());
	printf("features:\n");
	printf("  sqlite      %s\n", sqlite3_libversion());
	printf("  inih        yes\n");
	printf("  liburing    yes\n");
	printf("  libnuma     %s\n", numa_available() < 0 ?
	       "yes (kernel without NUMA)" : "yes");
#ifdef CDM_HAVE_LIKWID
	printf("  likwid      yes (topology, pinning, counter groups)\n");
#else
	printf("  likwid      no\n");
#endif
#ifdef CDM_HAVE_CURL
	printf("  libcurl     %s (push)\n", curl_version_info(CURLVERSION_NOW)->version);
#else
	printf("  libcurl     no\n");
#endif
	for (e = cdm_plugin_engines; *e; e++)
		printf("  %-11s %s\n", *e, cdm_engine_version(*e, line, sizeof(line)));
	printf("  dmirror     yes (test_hmm devices)\n");
	return 0;
}

int cdm_main(int argc, char **argv)
{
	const struct cdm_cmd *c;
	int i;

	if (argc < 2) {
		overview(stderr);
		return CDM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cli_help(NULL);
	c = find_cmd(argv[1]);
	if (!c) {
		const char *names[32];
		const char *hint;
		int n = 0;

		for (i = 0; cdm_cmds[i].name && n < 32; i++)
			names[n++] = cdm_cmds[i].name;
		hint = nearest_name(argv[1], names, n);
		cdm_err("'%s' is not a command%s%s%s (see 'cdmbench --help')",
			argv[1], hint ? "; did you mean '" : "",
			hint ? hint : "", hint ? "'?" : "");
		return CDM_EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") && strcmp(c->name, "vm") &&
		    strcmp(c->name, "db"))
			return cli_help(c->name);
	}
	return c->fn(argc - 1, argv + 1);
}
