/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inferential statistics for comparing runs: is a difference between two
 * sets of samples real, how large is it, and where in a series of runs did
 * a level shift happen. Everything here is deterministic (fixed seeds) so
 * the same database always gives the same report.
 */
#ifndef CDM_CSTATS_H
#define CDM_CSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* sort finite doubles ascending; radix sort, O(n), for millions of samples */
void cdm_sort_fast(double *v, size_t n);
double cdm_median_sorted(const double *s, size_t n);
/* median absolute deviation of sorted data, O(n), no scratch space */
double cdm_mad_sorted(const double *s, size_t n);
/* median of unsorted data; reorders v */
double cdm_median_select(double *v, size_t n);

/* standard normal: upper tail probability and quantile */
double cdm_norm_sf(double z);
double cdm_norm_quantile(double p);
/* Student's t with df degrees of freedom: two-sided P(|T| >= |t|) */
double cdm_t_p2(double t, int df);

struct cdm_mwu {
	double u;		/* U statistic of the first sample */
	double z;		/* normal approximation, continuity-corrected */
	double p;		/* two-sided p-value */
	bool exact;		/* p from the exact distribution (small, no ties) */
};

/*
 * Mann-Whitney U (Wilcoxon rank-sum) test of a against b, both sorted.
 * Exact p-value when there are no ties and neither sample is larger than
 * CDM_MWU_EXACT_MAX, else the normal approximation with tie correction.
 */
#define CDM_MWU_EXACT_MAX 50
void cdm_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
		      struct cdm_mwu *r);

/*
 * Percentile bootstrap interval of median(b) / median(a), both sorted.
 * Each replicate draws the two medians from their exact bootstrap
 * distribution (through uniform order statistics), so its cost does not
 * depend on the number of samples. level is e.g. 0.95.
 */
void cdm_ratio_ci(const double *a, size_t na, const double *b, size_t nb,
		  double level, int reps, uint64_t seed, double *lo,
		  double *hi);

/* Benjamini-Hochberg adjusted p-values (q-values); NaN p stays NaN */
void cdm_bh_adjust(const double *p, size_t n, double *q);

/* a level shift in a series: y[index] is the first value after it */
struct cdm_step {
	size_t index;
	double before;		/* median of the segment before */
	double after;		/* median of the segment from index on */
	double z;		/* step over the robust noise of the series */
};

/*
 * Binary segmentation of y[0..n) into segments of constant median. A split
 * is kept when the step is at least min_rel (relative, e.g. 0.05) and
 * significant at alpha (the family-wise chance of any cut on a flat
 * series), with the noise estimated robustly from the residuals (MAD) and
 * the threshold from simulated noise of the segment's length. Segments
 * have at least two values, except that the last value alone may form one: the
 * newest run is the one most worth flagging. Needs CDM_CP_MIN_POINTS
 * values. Returns the number of steps written to out (in index order), at
 * most max.
 */
#define CDM_CP_MIN_POINTS 5
size_t cdm_changepoints(const double *y, size_t n, double alpha,
			double min_rel, struct cdm_step *out, size_t max);

/* random variates for the bootstrap */
double cdm_rand_unit(uint64_t *st);	/* (0, 1) */
double cdm_rand_normal(uint64_t *st);
double cdm_rand_gamma(uint64_t *st, double shape);	/* shape >= 1 */
double cdm_rand_beta(uint64_t *st, double a, double b);	/* a, b >= 1 */

#endif
