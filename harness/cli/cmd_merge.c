// SPDX-License-Identifier: GPL-2.0
/* `cdmbench merge`: node databases into one, idempotent, with provenance. */
#include <getopt.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fleet/merge.h"

int cmd_merge(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 }
	};
	const char *out = NULL;
	struct merge_stats ms;
	bool quiet = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:q", lo, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'q')
			quiet = true;
		else
			return cli_usage_error("merge");
	}
	if (!out) {
		cdm_err("merge: -o DB is required (the database to merge into; see 'cdmbench help merge')");
		return CDM_EXIT_USAGE;
	}
	if (optind >= argc) {
		cdm_err("merge: no source database given (see 'cdmbench help merge')");
		return CDM_EXIT_USAGE;
	}
	r = fleet_merge_file(out, argv + optind, argc - optind,
			     !quiet && isatty(2), &ms);
	if (!quiet && !r)
		printf("merged %ld file%s into %s: %ld run%s added, %ld replaced by a fuller copy, %ld already present; %lld samples; %ld unfinished run%s marked interrupted\n",
		       ms.files, ms.files == 1 ? "" : "s", out,
		       ms.runs_added, ms.runs_added == 1 ? "" : "s",
		       ms.runs_replaced, ms.runs_skipped, ms.samples,
		       ms.runs_unfinished, ms.runs_unfinished == 1 ? "" : "s");
	return r ? CDM_EXIT_USAGE : CDM_EXIT_OK;
}
