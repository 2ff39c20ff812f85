/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Comparing runs: which cases two sets of runs have in common, and for
 * each metric whether the candidate is better, worse or the same as the
 * base, with what confidence. Used by `compare` and by the report.
 */
#ifndef CDM_COMPARE_H
#define CDM_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/select.h"

struct cmp_opts {
	double threshold;	/* percent a change must exceed to count */
	double alpha;		/* false discovery rate (Benjamini-Hochberg) */
	bool latest;		/* a selector takes its newest run, not all */
	bool raw;		/* never normalize by the in-run control */
	bool no_moderation;	/* each measurement on its own runs' variance */
	char **ignore;		/* parameters left out of a case's identity */
	int nignore;
	int reps;		/* bootstrap replicates */
};
void cmp_opts_default(struct cmp_opts *o);

enum cmp_mark {
	CMP_SAME,		/* not significant */
	CMP_BETTER,		/* significant, but within the threshold or
				 * the range seen between identical runs */
	CMP_WORSE,
	CMP_IMPROVEMENT,	/* significant and beyond the threshold */
	CMP_REGRESSION,
};
const char *cmp_mark_name(enum cmp_mark m);

struct cmp_stat {
	size_t n;		/* finite samples */
	size_t nonfinite;
	double median;
	double noise;		/* MAD / median, in percent */
};

struct cmp_row {
	size_t group;		/* index into cmp_result.cases */
	char *metric;
	char *unit;
	bool higher_better;
	struct cmp_stat s[2];	/* base, candidate */
	double ratio;		/* candidate median / base median */
	double lo, hi;		/* bootstrap CI of the ratio */
	double p_samples;	/* Mann-Whitney U over the samples, two-sided */
	bool exact;
	double run_noise;	/* spread between runs of this case, log scale */
	int noise_runs;		/* runs it was estimated from, 0 if unknown */
	int noise_df;		/* its degrees of freedom */
	double p_runs;		/* the change against run_noise (t test), or NaN */
	double aa_range;	/* 95th percentile |log ratio| between identical
				 * runs (one run a side only), or NaN */
	int aa_pairs;		/* pairs of runs it comes from */
	double p;		/* max(p_samples, p_runs): must beat both */
	double q;		/* p after Benjamini-Hochberg */
	double gain;		/* percent, positive is better */
	enum cmp_mark mark;
	char *note;		/* why there are no statistics, or NULL */
	/*
	 * One measurement, several units (to_sys_bw, to_sys_page): the rows
	 * of one measurement share the test of its first row, and the
	 * correction counts measurements, not units.
	 */
	size_t measure;		/* row index of the measurement's first row */
	char *aliases;		/* on that row: the other units, or NULL */
	/* drift: the in-run control and the change normalized by it */
	char *control;		/* the control metric, or NULL */
	char *ctrl_passed;	/* a control passed over, as it changed
				 * between the sides itself, or NULL */
	double p_moved;		/* a control's change in units of the next
				 * kind (raw for the last), whichever basis
				 * its own verdict took: what decides the
				 * pass-over */
	bool normalized;	/* ratio, CI, gain and p are the normalized ones */
	/* the run-level test's parts, for moderation across measurements */
	double mod_d, mod_var, mod_k;
	int mod_df;
	bool mod_own;		/* its variance came from the compared runs alone */
	bool mod_use;		/* and it took part in the moderation */
	bool moderated;		/* p, CI and mde are the moderated ones */
	const char *basis_why;	/* why normalized or raw (static text) */
	double raw_ratio;	/* the raw ratio of medians, always */
	double raw_gain;
	double ctrl_change;	/* the control's change, percent */
	double ctrl_spread;	/* its spread between runs, percent */
	double ctrl_slope;	/* the metric's slope on it (1: one for one) */
	int slope_df;		/* runs' degrees of freedom behind the slope */
	int outliers;		/* compared runs left out of the normalized
				 * test as gross outliers (stats/drift.h) */
	int other_outliers;	/* other runs left out of slope and spread */
	double mde;		/* smallest detectable change, percent, or NaN */
	int runs[2];		/* runs on each side with a value */
};

struct cmp_case {
	char *name;
	char *workload;
	char *backend;
	char *device_type;
	char *params;
	char *verdict[2];	/* the worst verdict on each side */
	char *reason[2];
	bool broke;		/* passed in the base, fails in the candidate */
};

struct cmp_only {
	int side;		/* 0 base, 1 candidate */
	char *name;		/* case, or case:metric */
	char *what;		/* workload backend/device, or "metric" */
};

struct cmp_result {
	struct cdm_runset side[2];
	struct cmp_opts opts;
	struct cmp_case *cases;	/* matched */
	size_t ncases;
	struct cmp_row *rows;
	size_t nrows;
	struct cmp_only *only;	/* unmatched cases and metrics */
	size_t nonly;
	int regressions, improvements, broke;	/* measurements, cases */
	size_t measurements;
	/* the prior the run-level variances were moderated with, from
	 * mod_n measurements (mod_d0 0: none) */
	double mod_d0, mod_s0;
	size_t mod_n;
	/* unchanged measurements these runs could not have seen a change of
	 * the threshold in: their smallest detectable change is larger, or
	 * unknown. "0 regressions" says little about them. */
	size_t blind;
};

/* rows that open a measurement, sorted by the change the verdict used
 * (regressions first, then by size); caller frees */
size_t *cmp_sorted_measurements(const struct cmp_result *r, size_t *n);
/* the verdict in words, as every sink states it: "2 regressions,
 * 0 improvements, 1 case broke", and where some measurements were blind
 * to the threshold "; 3 unchanged measurements could not have shown a 5%
 * change (more runs a side would)" (no markup: numbers and plain words) */
const char *cmp_tally(const struct cmp_result *r, char *buf, size_t len);

/* compare; 0, or -1 with the reason reported (bad input, exit 2) */
int cdm_compare(struct cdm_db *d, const char *base, const char *cand,
		const struct cmp_opts *o, struct cmp_result *r) __must_check;
void cdm_compare_free(struct cmp_result *r);

#endif
