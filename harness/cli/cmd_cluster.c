// SPDX-License-Identifier: GPL-2.0
/* `cdmbench cluster run|task`: the suite on every node through srun. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/opt.h"
#include "fleet/cluster.h"

/* our options come before JOB; everything after JOB belongs to srun */
static int parse(int argc, char **argv, struct cluster_opts *o, bool task)
{
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'O' },
		{ "output", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "set", required_argument, NULL, 's' },
		{ "srun", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 }
	};
	char err[128];
	int c;

	optind = 1;
	/* '+': stop at JOB, leave srun's options alone */
	while ((c = getopt_long(argc, argv, "+o:s:q", lo, NULL)) != -1) {
		switch (c) {
		case 'O':
			o->out = optarg;
			break;
		case 'o':
			o->merged = optarg;
			break;
		case 'T':
			if (cdm_parse_duration(optarg, &o->timeout_ns, err,
					       sizeof(err)))
				return cdm_err("cluster: --timeout %s: %s",
					       optarg, err);
			break;
		case 's':
			o->sets = xrealloc(o->sets, (o->nsets + 1) * sizeof(char *));
			o->sets[o->nsets++] = optarg;
			break;
		case 'S':
			o->srun = optarg;
			break;
		case 'q':
			o->quiet = 1;
			break;
		default:
			return cdm_err("cluster: bad option (see 'cdmbench help cluster')");
		}
	}
	if (optind >= argc)
		return cdm_err("cluster: no JOB file given (see 'cdmbench help cluster')");
	o->job = argv[optind++];
	o->srun_args = argv + optind;
	o->nsrun_args = argc - optind;
	if (task && o->nsrun_args)
		return cdm_err("cluster task: unexpected argument '%s'",
			       o->srun_args[0]);
	if (task && !o->out)
		return cdm_err("cluster task: --out DIR is required");
	return 0;
}

int cmd_cluster(int argc, char **argv)
{
	struct cluster_opts o = { 0 };
	char *out_alloc = NULL, *merged_alloc = NULL;
	bool task;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "run") && strcmp(argv[1], "task"))) {
		cdm_err("cluster: expected 'run' or 'task' (see 'cdmbench help cluster')");
		return CDM_EXIT_USAGE;
	}
	task = !strcmp(argv[1], "task");
	if (parse(argc - 1, argv + 1, &o, task)) {
		free(o.sets);
		return CDM_EXIT_USAGE;
	}
	if (task) {
		rc = fleet_cluster_task(&o);
	} else {
		if (!o.out) {
			char ts[40], *p;

			fmt_iso_time(ts, sizeof(ts), cdm_wall_ns());
			ts[19] = 0;
			for (p = ts; *p; p++)
				if (*p == ':')
					*p = '-';
			o.out = out_alloc = xasprintf("results/cluster-%s", ts);
		}
		if (!o.merged)
			o.merged = merged_alloc = xasprintf("%s/merged.db", o.out);
		rc = fleet_cluster_run(&o);
	}
	free(o.sets);
	free(out_alloc);
	free(merged_alloc);
	return rc < 0 ? CDM_EXIT_USAGE : rc;
}
