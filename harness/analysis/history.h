/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One metric of one case across runs, in time order, and the runs that
 * moved its level. Used by `history` and by the report's trend charts.
 */
#ifndef CDM_HISTORY_H
#define CDM_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats/cstats.h"
#include "store/db.h"

struct hist_query {
	const char *case_name;	/* by name (identity of the newest run)... */
	const char *match_key;	/* ...or by identity: all three set */
	const char *backend;
	const char *device_type;
	const char *metric;
	const char *selector;	/* KEY=VALUE[,...] as compare takes, or NULL */
	int64_t until_run;	/* only runs started no later than this one */
	size_t limit;		/* the newest N points; 0 for all */
};

struct hist_point {
	int64_t run_id;
	char uuid[9];
	char *started_at;
	char *kernel;
	char *host;
	char *verdict;
	size_t n;
	double median;		/* NaN when the run has no finite sample */
	double noise;		/* MAD / median in percent */
	double ctrl;		/* the control's median in this run, or NaN */
	double ctrl_se2;	/* its sampling variance, log scale */
	double paired;		/* log metric - log control iteration by
				 * iteration, median (analysis/pairs.h), or NaN */
	int64_t metric_id, ctrl_id;
	int64_t ny, nc;		/* samples of each */
	double level;		/* the median the steps are found on: raw, or
				 * normalized to the control's typical level */
};

struct hist_step {
	size_t index;		/* point that introduced the step */
	double before;
	double after;
	double change;		/* percent, after against before */
	bool regression;	/* worse in the metric's direction */
};

struct hist {
	char *unit;
	bool higher_better;
	struct hist_point *p;
	size_t n;
	size_t other_params;	/* same case name, other identity: left out */
	struct hist_step *steps;
	size_t nsteps;
	/* drift: levels normalized by the in-run control when it drifted
	 * beyond its own noise (as compare does) */
	bool ctrl_higher;	/* the control is a rate */
	/* the control's kind, by the workload's name for it (refault_bw or
	 * memcpy_bw; the harness's calib_ ones stand in where it has none) */
	const char *ctrl_name;
	int ctrl_kind;		/* its index in cdm_controls, or
				 * CDM_CONTROL_KINDS for none */
	/* a control passed over because it stepped itself in units of the
	 * next kind (the kernel moved it), or NULL */
	const char *ctrl_passed;
	bool normalized;
	bool pairs_share;	/* paired, the spread inside runs halves */
	double ctrl_spread;	/* its robust spread between runs, percent */
	double ctrl_noise;	/* its own sampling noise, percent */
	double ctrl_slope;	/* metric's slope on it (1: one for one) */
};

/* 0 (possibly with no points), or -1 with the reason reported */
int cdm_history_load(struct cdm_db *d, const struct hist_query *q,
		     struct hist *h) __must_check;
/* change points on the points' levels (normalized where the control
 * drifted): min_rel e.g. 0.05 */
void cdm_history_steps(struct hist *h, double alpha, double min_rel);
void cdm_history_free(struct hist *h);
/* the case exists and has the metric; else say what it has (-1) */
int cdm_history_check(struct cdm_db *d, const char *name,
		      const char *metric) __must_check;

#endif
