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

static const struct cli_spec help_spec = {
	.cmd = "help", .usage = "usage: cdmbench help [COMMAND]\n",
};

static const struct cli_spec version_spec = {
	.cmd = "version", .usage = "usage: cdmbench --version\n",
};

const struct cdm_cmd cdm_cmds[] = {
	{ "run", cmd_run, "run a job file or one workload and store every sample",
	  &cli_run_spec },
	{ "list", cmd_list, "list workloads, backends and every option",
	  &cli_list_spec },
	{ "probe", cmd_probe, "show what this machine supports, and why not",
	  &cli_probe_spec },
	{ "runs", cmd_runs, "list the runs in a database",
	  &cli_runs_spec },
	{ "show", cmd_show, "show one run: context, cases, summaries, kernel events",
	  &cli_show_spec },
	{ "export", cmd_export, "export a run as JSON, CSV, JUnit XML or TAP",
	  &cli_export_spec },
	{ "compare", cmd_compare, "compare two runs: what got slower, faster or broke",
	  &cli_compare_spec },
	{ "history", cmd_history, "one metric across runs, and the runs that moved it",
	  &cli_history_spec },
	{ "report", cmd_report, "a run as one self-contained HTML page, or Markdown",
	  &cli_report_spec },
	{ "db", cmd_db, "database maintenance: db check",
	  &cli_db_spec },
	{ "vm", cmd_vm, "run a job in the emulated device-memory node (QEMU)",
	  &cli_vm_spec },
	{ "cluster", cmd_cluster, "run a job on every node of a Slurm allocation, merged",
	  &cli_cluster_spec },
	{ "merge", cmd_merge, "merge node databases into one (idempotent)",
	  &cli_merge_spec },
	{ "nodes", cmd_nodes, "the slow and the failing nodes of a fleet",
	  &cli_nodes_spec },
	{ "push", cmd_push, "send samples to InfluxDB (line protocol), resumable",
	  &cli_push_spec },
	{ "help", cmd_help, "help on a command", &help_spec },
	{ "version", cmd_version, "version and optional features compiled in",
	  &version_spec },
	{ NULL, NULL, NULL, NULL }
};

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
	cli_print_help(stdout, c->spec);
	return 0;
}

int cli_usage_error(const char *name)
{
	const struct cdm_cmd *c = find_cmd(name);

	if (c)
		cli_print_help(stderr, c->spec);
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
