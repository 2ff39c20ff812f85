// SPDX-License-Identifier: GPL-2.0
/* `cdmbench cluster run|task`: the suite on every node through srun. */
#include <stddef.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/opt.h"
#include "fleet/cluster.h"

struct cluster_args {
	struct cluster_opts o;
	struct cli_list sets;
	uint64_t timeout_ns;
	bool quiet;
};

#define CL(f) offsetof(struct cluster_args, f)

static const struct cli_opt cluster_opts[] = {
	{ .name = "out", .kind = CLI_STR, .off = CL(o.out), .arg = "DIR",
	  .help = "folder for the node databases (default\nresults/cluster-TIME)" },
	{ .name = "output", .key = 'o', .kind = CLI_STR, .off = CL(o.merged),
	  .arg = "DB", .help = "merged database (default OUT/merged.db)" },
	{ .name = "timeout", .kind = CLI_DURATION, .off = CL(timeout_ns),
	  .arg = "T", .help = "per node: stop the run after T (e.g. 20m); the\nfinished cases are kept" },
	{ .name = "set", .key = 's', .kind = CLI_LIST, .off = CL(sets),
	  .arg = "KEY=VAL", .help = "as for 'cdmbench run', on every node" },
	{ .name = "srun", .kind = CLI_STR, .off = CL(o.srun), .arg = "PATH",
	  .help = "srun to use (default: srun from PATH)" },
	CLI_OPT_QUIET_FLAG(struct cluster_args, quiet, "no progress"),
	CLI_OPT_END
};

const struct cli_spec cli_cluster_spec = {
	.cmd = "cluster",
	.usage = "usage: cdmbench cluster run [OPTIONS] JOBFILE [SRUN-OPTIONS...]\n",
	.about =
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
	"Our options come before JOBFILE; everything after it goes to srun.\n",
	.opts = cluster_opts,
	.more =
	"Exit status: 0 every node ran every case to a pass or skip; 1 a case\n"
	"or a node failed; 2 bad input, or no node wrote a database.\n",
	.in_order = true,	/* stop at JOBFILE, leave srun's options alone */
};

/* argv[0] is "run" or "task" */
static int parse(int argc, char **argv, struct cluster_args *a, bool task)
{
	struct cluster_opts *o = &a->o;
	int r = cli_parse(&cli_cluster_spec, argc, argv, a);

	if (r)
		return r;
	o->timeout_ns = a->timeout_ns;
	o->quiet = a->quiet;
	o->sets = a->sets.v;
	o->nsets = a->sets.n;
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
	struct cluster_args a = { 0 };
	struct cluster_opts *o = &a.o;
	char *out_alloc = NULL, *merged_alloc = NULL, *sub;
	bool task;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "run") && strcmp(argv[1], "task"))) {
		cdm_err("cluster: expected 'run' or 'task' (see 'cdmbench help cluster')");
		return CDM_EXIT_USAGE;
	}
	task = !strcmp(argv[1], "task");
	/* getopt names argv[0] in its messages: the whole command */
	sub = argv[1];
	argv[1] = task ? "cluster task" : "cluster run";
	rc = parse(argc - 1, argv + 1, &a, task);
	argv[1] = sub;
	if (rc) {
		cli_list_free(&a.sets);
		return cli_parse_exit(rc);
	}
	if (task) {
		rc = fleet_cluster_task(o);
	} else {
		if (!o->out) {
			char ts[40], *p;

			fmt_iso_time(ts, sizeof(ts), cdm_wall_ns());
			ts[19] = 0;
			for (p = ts; *p; p++)
				if (*p == ':')
					*p = '-';
			o->out = out_alloc = xasprintf("results/cluster-%s", ts);
		}
		if (!o->merged)
			o->merged = merged_alloc = xasprintf("%s/merged.db", o->out);
		rc = fleet_cluster_run(o);
	}
	cli_list_free(&a.sets);
	free(out_alloc);
	free(merged_alloc);
	return rc < 0 ? CDM_EXIT_USAGE : rc;
}
