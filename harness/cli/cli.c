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
#include "store/db.h"
#include "util/version.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

const struct cdm_cmd cdm_cmds[] = {
	{ "run", cmd_run, "run a job file or one workload and store every sample",
	  "usage: cdmbench run [OPTIONS] JOBFILE\n"
	  "       cdmbench run [OPTIONS] -w WORKLOAD [--set KEY=VALUE ...]\n"
	  "\n"
	  "Runs each case of the job in its own process (own process group,\n"
	  "deadline, killed on hang) and stores every sample, summary and kernel\n"
	  "log record in the database, one transaction per case.\n"
	  "\n"
	  "  -w, --workload NAME     run one workload (see 'cdmbench list')\n"
	  "  -s, --set KEY=VALUE     set an option; repeatable; a comma list\n"
	  "                          (size=4K,2M) runs every value. With a job\n"
	  "                          file it overrides every case that has KEY\n"
	  "      --db PATH           database (default $CDMBENCH_DB or\n"
	  "                          results/cdmbench.db)\n"
	  "  -t, --tag KEY=VALUE     label the run (repeatable), e.g. node=n01\n"
	  "      --seed N            seed for data patterns and random mixes\n"
	  "                          (default: [global] seed, else random)\n"
	  "  -o, --output-format F   text (default) or json\n"
	  "  -n, --dry-run           print the expanded cases and exit\n"
	  "      --stream PATH       write a result stream instead of a database\n"
	  "                          (used inside the emulated node)\n"
	  "  -q, --quiet             no progress, no notices\n"
	  "\n"
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
	  "--format junit|tap' and 'report' list them with the run's verdict.\n" },
	{ "list", cmd_list, "list workloads, backends and every option",
	  "usage: cdmbench list [--json] [WORKLOAD]\n"
	  "\n"
	  "Shows every workload with its backend and summary, the options all\n"
	  "cases share, and each workload's options with type, default, range\n"
	  "and help. The same table drives job files, --set and the stored\n"
	  "configuration.\n" },
	{ "probe", cmd_probe, "show what this machine supports, and why not",
	  "usage: cdmbench probe [--json] [--quick]\n"
	  "\n"
	  "Reports the kernel, NUMA nodes, THP mode, /dev/kmsg, test_hmm devices\n"
	  "(/dev/hmm_dmirror*) and their memory type, gup_test in debugfs,\n"
	  "io_uring, likwid topology and GPU backends; for anything missing it\n"
	  "says why. Device types are confirmed by migrating one page to each\n"
	  "device; --quick infers them from the minor number instead.\n" },
	{ "runs", cmd_runs, "list the runs in a database",
	  "usage: cdmbench runs [--db PATH] [--limit N] [--json]\n" },
	{ "show", cmd_show, "show one run: context, cases, summaries, kernel events",
	  "usage: cdmbench show [--db PATH] [--json] RUN\n"
	  "\n"
	  "RUN is a run id, 'last', or a prefix of the run's uuid.\n" },
	{ "export", cmd_export, "export a run as JSON, CSV, JUnit XML or TAP",
	  "usage: cdmbench export [--db PATH] --format json|csv|junit|tap [-O FILE] RUN\n"
	  "\n"
	  "json: the run with its context, cases, metrics, summaries, samples and\n"
	  "kernel events. csv: one row per sample (run, case, metric, seq, value).\n"
	  "junit, tap: one test per case for CI systems (skips as skipped, crashes\n"
	  "and timeouts as errors), each with its evaluated expectations; the\n"
	  "run's acceptance verdict as a suite property (junit) or the last line\n"
	  "(tap). The exit status is 0 whatever the verdict: the CI reads it.\n" },
	{ "compare", cmd_compare, "compare two runs: what got slower, faster or broke",
	  "usage: cdmbench compare [OPTIONS] BASE CAND\n"
	  "\n"
	  "Matches the cases of BASE and CAND by workload, parameters, backend and\n"
	  "device type (not by position) and compares every metric both have:\n"
	  "the two medians, their ratio with a 95% bootstrap confidence interval,\n"
	  "a Mann-Whitney U test, and each side's noise (MAD / median). Cases and\n"
	  "metrics only one side has are listed.\n"
	  "\n"
	  "BASE and CAND are each a run id, 'last', a uuid prefix, or a selector\n"
	  "KEY=VALUE[,KEY=VALUE...] over completed runs: kernel= (release), host=,\n"
	  "env=, job= or any run tag (run --tag); values may be globs\n"
	  "(kernel=6.1.*). When a selector matches several runs, their samples\n"
	  "are pooled per case (the header lists the runs); --latest takes only\n"
	  "the newest. A run still in progress is refused.\n"
	  "\n"
	  "      --threshold PCT     smallest change that counts (default 5)\n"
	  "      --alpha A           false discovery rate (default 0.05)\n"
	  "      --latest            a selector takes its newest run, no pooling\n"
	  "      --ignore KEY        leave option KEY out of the case identity, to\n"
	  "                          compare cases differing in it (repeatable)\n"
	  "  -o, --output-format F   text (default) or json\n"
	  "      --db PATH           database\n"
	  "\n"
	  "Samples of one run share its conditions (placement, page sizes,\n"
	  "neighbours), so a change must also beat the spread between runs of one\n"
	  "configuration in the database: each side's runs, and other runs of\n"
	  "the case with the same kernel, command line, environment, host and\n"
	  "tags (a t test on run medians, from 3 such runs); one run against one,\n"
	  "it must also exceed 95% of the differences seen between two such runs\n"
	  "(from 5). Run each side a few times for verdicts you can trust.\n"
	  "\n"
	  "The p-values of all metrics are adjusted together (Benjamini-Hochberg),\n"
	  "so the share of false alarms stays at alpha however many metrics a job\n"
	  "has. A regression is a change that is significant (q < alpha) and worse\n"
	  "than the threshold in the metric's direction (lower or higher is\n"
	  "better); the text table *flanks* significant gains, as mmtests does.\n"
	  "\n"
	  "Exit status: 0 no regression; 1 a significant regression beyond the\n"
	  "threshold, or a case that passed in BASE fails in CAND; 2 bad input\n"
	  "(unknown run, run in progress, no cases, no case in common).\n" },
	{ "history", cmd_history, "one metric across runs, and the runs that moved it",
	  "usage: cdmbench history [OPTIONS] CASE:METRIC\n"
	  "\n"
	  "Lists METRIC of the case named CASE in every finished run, oldest\n"
	  "first, with each run's kernel, host, median and noise, and finds the\n"
	  "steps in its level: the runs that introduced a lasting change\n"
	  "(binary segmentation on the per-run medians; a step must be at least\n"
	  "--min-step and significant against the spread of the runs around\n"
	  "their levels). The newest run alone may form a step: it is the one\n"
	  "most worth flagging. Steps are looked for from 5 runs on.\n"
	  "\n"
	  "CASE is the case name as 'cdmbench show' prints it, matrix values\n"
	  "included, and METRIC a metric of it, split at the last colon:\n"
	  "  cdmbench history 'stream[size=4M threads=1]:copy_bw'\n"
	  "Runs whose case of that name has other parameters, backend or device\n"
	  "type than the newest one are left out (and counted).\n"
	  "\n"
	  "  -t, --tag KEY=VALUE     only runs matching (repeatable): kernel=,\n"
	  "                          host=, env=, job= or a run tag; globs allowed\n"
	  "      --limit N           only the newest N runs\n"
	  "      --min-step PCT      smallest level shift reported (default 5)\n"
	  "      --alpha A           significance of a step (default 0.05)\n"
	  "  -o, --output-format F   text (default) or json\n"
	  "      --db PATH           database\n" },
	{ "report", cmd_report, "a run as one self-contained HTML page, or Markdown",
	  "usage: cdmbench report [OPTIONS] [-o FILE] RUN\n"
	  "\n"
	  "Writes everything about RUN (an id, 'last' or a uuid prefix) in one\n"
	  "file: the environment (host, kernel, command line, devices), the\n"
	  "acceptance verdict and each case's verdict and expectations, per-case\n"
	  "tables with latency distributions, bandwidth against buffer size,\n"
	  "private beside coherent devices, trends over earlier runs of the same\n"
	  "job, the comparison with a baseline, and the kernel log. The HTML has\n"
	  "its styles and SVG charts inline and loads nothing from anywhere, so\n"
	  "it can be attached to a review or a ticket and opened offline.\n"
	  "\n"
	  "  -o, --output FILE       write FILE (directories are created; '-' or\n"
	  "                          no -o: standard output)\n"
	  "  -b, --baseline RUN      add a comparison with RUN or a selector, as\n"
	  "                          'cdmbench compare RUN' this run would give\n"
	  "  -f, --format F          html (default) or md: a Markdown summary\n"
	  "      --db PATH           database\n"
	  "\n"
	  "Example: cdmbench report last -o reports/last.html\n" },
	{ "db", cmd_db, "database maintenance: db check",
	  "usage: cdmbench db check [--db PATH]\n"
	  "\n"
	  "check: runs SQLite's integrity and foreign-key checks and prints the\n"
	  "schema version. Exit status 1 if the database is damaged.\n" },
	{ "vm", cmd_vm, "run a job in the emulated device-memory node (QEMU)",
	  "usage: cdmbench vm run JOBFILE [OPTIONS]\n"
	  "       cdmbench vm exec [OPTIONS] -- CDMBENCH-ARGS...\n"
	  "\n"
	  "Boots the cdmbench guest kernel (built by 'make kernel': Debian's\n"
	  "linux-source-6.1 with CONFIG_TEST_HMM and friends) in QEMU with two\n"
	  "NUMA nodes and 512M of guest RAM reserved (memmap=) as the special-\n"
	  "purpose memory of test_hmm's coherent devices: /dev/hmm_dmirror0,1\n"
	  "are MEMORY_DEVICE_PRIVATE, 2,3 MEMORY_DEVICE_COHERENT. The guest runs\n"
	  "this very binary from the host's root (9p, read-only) and streams its\n"
	  "results back; they land in the host's database as one run with the\n"
	  "guest kernel's identity, its command line, environment qemu-tcg or\n"
	  "qemu-kvm, and the full console log. A guest panic, hang past\n"
	  "--timeout or QEMU failure is recorded as a crashed run (the case in\n"
	  "progress as crash) and the command exits 1.\n"
	  "\n"
	  "vm exec runs any cdmbench command in the guest and prints its output,\n"
	  "e.g. 'cdmbench vm exec -- probe'.\n"
	  "\n"
	  "  --kernel PATH      bzImage (default: $CDMBENCH_KERNEL, else the one\n"
	  "                     'make kernel' built, see kernel/build.sh)\n"
	  "  --initrd PATH      guest initramfs (default build/initramfs.cpio)\n"
	  "  --append ARGS      extra kernel command line, e.g.\n"
	  "                     'init_on_alloc=1 init_on_free=1'\n"
	  "  --mem SIZE         guest RAM (default 4G; at least 3584M: RAM past\n"
	  "                     3G sits above 4 GiB, where the reservation goes)\n"
	  "  --cpus N           guest CPUs, split over the two nodes (default 2)\n"
	  "  --spm-base ADDR    start of the 512M reservation (default\n"
	  "                     0x100000000; 2M-aligned, above 4 GiB, inside RAM);\n"
	  "                     device 3 uses ADDR, device 2 ADDR+256M\n"
	  "  --timeout T        kill a guest that has not finished (default 30m)\n"
	  "  --accel A          auto (KVM if a 20 s probe boots, else TCG), kvm, tcg\n"
	  "  --db PATH, --tag KEY=VALUE, --seed N, -s/--set KEY=VALUE, -q\n"
	  "                     as for 'cdmbench run'\n"
	  "  --keep             keep the guest's files (console log, stream)\n"
	  "  --test-flag ARG    extra kernel argument for cdmbench's own tests\n"
	  "                     (cdmbench.panic_test=1, cdmbench.hang_test=1)\n"
	  "\n"
	  "On a real node with test_hmm or a GPU driver providing the devices,\n"
	  "use 'cdmbench run' directly; see the README for the modprobe line.\n" },
	{ "help", cmd_help, "help on a command", "usage: cdmbench help [COMMAND]\n" },
	{ "version", cmd_version, "version and optional features compiled in",
	  "usage: cdmbench --version\n" },
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
	fputs(c->usage, stdout);
	return 0;
}

int cli_usage_error(const char *name)
{
	const struct cdm_cmd *c = find_cmd(name);

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
	printf("cdmbench %s (git %s)\n", CDM_VERSION, CDM_GIT_REVISION);
	printf("schema version %d\n", db_latest_version());
	printf("features:\n");
	printf("  sqlite      %s\n", sqlite3_libversion());
	printf("  inih        yes\n");
	printf("  liburing    yes\n");
	printf("  libnuma     %s\n", numa_available() < 0 ?
	       "yes (kernel without NUMA)" : "yes");
#ifdef CDM_HAVE_LIKWID
	printf("  likwid      yes (topology)\n");
#else
	printf("  likwid      no\n");
#endif
#ifdef CDM_HAVE_CURL
	printf("  libcurl     %s (upload: not yet)\n", curl_version_info(CURLVERSION_NOW)->version);
#else
	printf("  libcurl     no\n");
#endif
	printf("  hip         no (backend not built in this version)\n");
	printf("  cuda        no (backend not built in this version)\n");
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
