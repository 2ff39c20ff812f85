/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Outlier nodes: for every case and metric, each node's median against
 * the median of all nodes, scaled by their median absolute deviation (a
 * robust z-score: one slow node cannot hide itself by widening the
 * spread, as it would with a mean and standard deviation).
 */
#ifndef CDM_ANALYSIS_NODES_H
#define CDM_ANALYSIS_NODES_H

#include <stdbool.h>
#include <stddef.h>

#include "store/db.h"

struct nodes_opts {
	double z;		/* z beyond this is an outlier; 0: auto */
	double min_change;	/* and at least this far from the median (0.05) */
	int min_nodes;		/* fewer nodes: no z-scores for that metric (3) */
	const char *job;	/* only runs of this job name (NULL: all) */
	const char *slurm_job;	/* only runs of this Slurm job (NULL: all) */
};

struct nodes_metric {		/* one case and metric across nodes */
	char *case_name;
	char *metric;
	char *unit;
	bool higher;		/* higher is better */
	double median;		/* across nodes */
	double mad;		/* of the logarithms if logscale */
	bool logscale;		/* every value positive: z on log(value) */
	size_t nnodes;		/* nodes that have it */
	size_t noutliers;
};

struct nodes_fail {		/* one failure on one node */
	size_t node;
	char *what;		/* "case X: fail: reason" or "run ...: interrupted" */
};

struct nodes_result {
	char **node;		/* sorted by name */
	size_t nn;
	struct nodes_metric *m;
	size_t nm;
	/* z[node * nm + metric], signed so that positive is worse;
	 * NAN where the node lacks the metric or too few nodes have it */
	double *z;
	double *value;		/* the node's median, same layout */
	struct nodes_fail *f;
	size_t nf;
	size_t *worst;		/* node indices, worst max z first */
	double *worst_z;	/* each node's largest z */
	size_t noutlier_nodes;	/* nodes with at least one outlier */
	size_t nfailing_nodes;
	double zbound;		/* the bound used: opts.z, or the auto one */
	double seconds;		/* analysis time */
};

void nodes_opts_default(struct nodes_opts *o);
int nodes_analyze(struct cdm_db *d, const struct nodes_opts *o,
		  struct nodes_result *r) __must_check;
void nodes_free(struct nodes_result *r);
bool nodes_is_outlier(const struct nodes_result *r, const struct nodes_opts *o,
		      size_t node, size_t metric);
/* the robust z of x in a sample with this median and MAD */
double nodes_robust_z(double x, double median, double mad, double meanad);

#endif
