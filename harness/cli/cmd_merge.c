// SPDX-License-Identifier: GPL-2.0
/* `cdmbench merge`: node databases into one, idempotent, with provenance. */
#include <stddef.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fleet/merge.h"

struct merge_args {
	const char *out;
	bool quiet;
};

#define MA(f) offsetof(struct merge_args, f)

static const struct cli_opt merge_opts[] = {
	{ .name = "output", .key = 'o', .kind = CLI_STR, .off = MA(out),
	  .arg = "DB", .help = "the database to merge into (created if missing)" },
	CLI_OPT_QUIET_FLAG(struct merge_args, quiet, "no summary line"),
	CLI_OPT_END
};

const struct cli_spec cli_merge_spec = {
	.cmd = "merge",
	.usage = "usage: cdmbench merge [-q] -o DB SOURCE.db...\n",
	.about =
	"Copies every run of each SOURCE into DB with all its cases, samples,\n"
	"summaries, expectations and kernel events. A run is known by its\n"
	"uuid: merging a file twice adds nothing, and a copy of a run with\n"
	"more cases or samples than DB holds replaces the smaller one. Each run\n"
	"keeps its provenance (the source file and its node: SLURMD_NODENAME,\n"
	"the run's 'node' tag, else the hostname; see 'cdmbench nodes'). A run\n"
	"still 'running' in its source is kept and marked interrupted.\n"
	"Every source is checked first: one that is not a cdmbench database,\n"
	"or has a newer schema, stops the merge before anything is written.\n"
	"Into an existing DB, each source goes in as one transaction; a new DB\n"
	"is built aside (DB.merging-PID) and appears only when complete.\n",
	.opts = merge_opts,
	.more = "Exit status: 0 merged; 2 bad input (nothing written).\n",
};

int cmd_merge(int argc, char **argv)
{
	struct merge_args a = { 0 };
	struct merge_stats ms;
	int r;

	r = cli_parse(&cli_merge_spec, argc, argv, &a);
	if (r)
		return cli_parse_exit(r);
	if (!a.out) {
		cdm_err("merge: -o DB is required (the database to merge into; see 'cdmbench help merge')");
		return CDM_EXIT_USAGE;
	}
	if (optind >= argc) {
		cdm_err("merge: no source database given (see 'cdmbench help merge')");
		return CDM_EXIT_USAGE;
	}
	r = fleet_merge_file(a.out, argv + optind, argc - optind,
			     !a.quiet && isatty(2), &ms);
	if (!a.quiet && !r)
		printf("merged %ld file%s into %s: %ld run%s added, %ld replaced by a fuller copy, %ld already present; %lld samples; %ld unfinished run%s marked interrupted\n",
		       ms.files, ms.files == 1 ? "" : "s", a.out,
		       ms.runs_added, ms.runs_added == 1 ? "" : "s",
		       ms.runs_replaced, ms.runs_skipped, ms.samples,
		       ms.runs_unfinished, ms.runs_unfinished == 1 ? "" : "s");
	return r ? CDM_EXIT_USAGE : CDM_EXIT_OK;
}
