/* SPDX-License-Identifier: GPL-2.0 */
/* cdmbench cluster: one cdmbench run per Slurm node, merged into one DB. */
#ifndef CDM_FLEET_CLUSTER_H
#define CDM_FLEET_CLUSTER_H

#include <stdint.h>

struct cluster_opts {
	const char *job;	/* job file, as for cdmbench run */
	const char *out;	/* folder for the per-node databases */
	const char *merged;	/* the merged database */
	const char *srun;	/* srun binary (default "srun") */
	uint64_t timeout_ns;	/* per node; 0: none */
	char **sets;		/* --set KEY=VALUE passed to every node */
	int nsets;
	char **srun_args;	/* after JOB: given to srun as they are */
	int nsrun_args;
	int quiet;
};

/* srun, one task per node, then merge; exit status as 'cdmbench run' */
int fleet_cluster_run(const struct cluster_opts *o);
/* the task srun starts on each node (cdmbench cluster task) */
int fleet_cluster_task(const struct cluster_opts *o);

#endif
