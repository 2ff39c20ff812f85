/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Drift-aware comparison of two sets of runs, at the level where runs are
 * the replicates.
 *
 * A run's conditions (frequency, neighbours, page placement, a TCG host's
 * load) move every operation in it together. So each run times a control
 * beside the kernel operation (a refault of a region of the same size,
 * or, in runs recorded before that control, a memcpy), and a run's value
 * is its log median less the control's log median (the operation "in
 * units of refaults"). Drift shared within a run cancels; a change in the
 * kernel operation does not.
 *
 * The normalized value is used when the control moved beyond its own
 * noise (its run medians spread more than twice their sampling error, or
 * it changed between the sides), when the metric's fitted slope on it
 * (below) shows the metric following it from run to run, or when the
 * samples of one iteration,
 * paired, spread less than half as much as the metric's alone (the two
 * share a neighbour's load); otherwise dividing by it would only add its
 * noise, and the raw value is used. The choice looks only at the
 * control, never at the metric, so it does not bias the test.
 *
 * Where the caller pairs the samples of one iteration (drift_side.yn),
 * the normalized value is the median of the per-iteration differences
 * instead of the difference of the medians.
 *
 * The metric need not move one for one with its control: under a TCG
 * host's slow state, migrate's device-to-system time moved 1.5x while its
 * memcpy moved 1.25x. So the normalized value is log y - slope log c,
 * where the slope is the regression of run medians on the control's
 * inside each set of runs of one configuration (the two sides, and other
 * runs the caller found): analysis of covariance. Like the choice above,
 * it never looks at the difference between the sides. With few runs the
 * slope stays 1 unless it differs from 1 (t test at 5%), as
 * a fitted one costs the test a degree of freedom (and the slope's error
 * widens the test where the sides' controls differ); other runs of one
 * configuration that supply most of the slope's information waive that.
 *
 * The test is Welch-free and simple: a two-sample t test on the per-run
 * values, with the pooled within-side variance (runs are the replicates,
 * so between-run variance is what the test sees). It needs two degrees of
 * freedom (four runs, e.g. 2 + 2 or 3 + 1); with fewer, the caller
 * supplies the between-run variance it learnt from other runs.
 */
#ifndef CDM_DRIFT_H
#define CDM_DRIFT_H

#include <stdbool.h>
#include <stddef.h>

/* per-run values of one side: log medians, NaN where a run lacks one */
struct drift_side {
	const double *y;	/* the metric */
	const double *c;	/* the control, or NULL */
	/*
	 * The run's normalized value measured sample by sample, or NULL: the
	 * median over iterations of log y_i - orient log c_i, where y_i and
	 * c_i were timed side by side in one iteration. A neighbour that
	 * slows the CPU for part of a run slows both samples of an iteration,
	 * so this cancels drift inside a run too, which the difference of
	 * the two medians cannot. NaN where a run has no pairs.
	 */
	const double *yn;
	size_t n;
};

struct drift_in {
	struct drift_side s[2];	/* base, candidate */
	/* +1 when metric and control move the same way with drift (both
	 * times, or both rates), -1 when opposite (a time and a rate) */
	int orient;
	/* the control's sampling variance of one run's log median (from
	 * its samples' MAD); 0 if unknown */
	double c_se2;
	/*
	 * Inside runs, the spread (variance of log values) of the metric's
	 * samples and of the per-iteration differences metric - control,
	 * averaged over runs with pairs; 0 if unknown. When the pairs spread
	 * less than half as much, the control shares the metric's noise
	 * sample by sample, and normalizing removes noise instead of adding
	 * it. Like the control's drift, this looks at no difference between
	 * the sides.
	 */
	double y_var, pair_var;
	/* between-run variance of the raw metric learnt elsewhere (other
	 * runs of one configuration), with its degrees of freedom; used
	 * when the compared runs alone give fewer than 2 */
	double ext_var;
	int ext_df;
	/*
	 * For the slope: co-moments of (orient log c, log y) over run
	 * medians centred inside other sets of runs of one configuration,
	 * with their degrees of freedom; 0 if none. The compared sides add
	 * their own.
	 */
	double ext_sxy, ext_sxx, ext_syy;
	int ext_slope_df;
	/* and of their paired values (drift_side.yn) with orient log c:
	 * their between-run variance joins the normalized test's */
	double ext_szz, ext_sxz;
	/*
	 * The robust SD (MAD) of those runs' normalized values around their
	 * sets' means, 0 if unknown, and how many were left out as gross
	 * outliers (beyond DRIFT_OUTLIER_SD of it). A compared run that far
	 * from its own side's median is left out of the normalized test too
	 * (a rule that never looks at the other side).
	 */
	double ext_robust_sd;
	int ext_dropped;
	double alpha;		/* for the smallest detectable change */
};

struct drift_test {
	double d;		/* candidate - base, log scale */
	double se;		/* standard error of d */
	double var;		/* the between-run variance se came from */
	int df;
	double p;		/* two-sided; NaN without a variance */
	double lo, hi;		/* 95% interval of d */
};

struct drift_out {
	struct drift_test raw, norm, ctrl;
	bool has_control;
	bool normalized;	/* the verdict uses norm */
	double ctrl_spread;	/* control's between-run SD, log */
	double slope;		/* of the metric on the control (1: none fitted) */
	int slope_df;		/* the degrees of freedom it came from */
	double slope_sxx;	/* its control's centred sum of squares */
	int norm_runs_df;	/* the normalized test's between-run df */
	int dropped[2];		/* compared runs left out as gross outliers */
	bool follows;		/* the fitted slope is clearly above 0 */
	double mde;		/* smallest detectable |d| (log), NaN if unknown */
	const char *why;	/* one phrase: why raw or normalized */
};

/* a normal sample never strays this far; TCG's heaviest tail reached 6.4 */
#define DRIFT_OUTLIER_SD 8.0

void cdm_drift_compare(const struct drift_in *in, struct drift_out *out);

/*
 * Moderated variances (empirical Bayes, after Smyth 2004): the between-run
 * variances of many measurements of one comparison, each on a few degrees
 * of freedom, give a prior: a scaled inverse chi-square with d0 degrees
 * of freedom around s0^2, estimated from the mean and the spread of their
 * logs beyond what sampling alone would give. A measurement's variance is
 * then (d0 s0^2 + df s^2) / (d0 + df), on d0 + df degrees of freedom,
 * but never below its own s^2: a measurement noisier than the rest keeps
 * its spread (the prior may not describe it: on synthetic measurements in
 * two clusters 6x apart, shrinking it down flagged 8.0% of the noisy ones
 * at p < 0.05, keeping it 6.1%). Variances that spread widely give a
 * small d0, and little is borrowed.
 * Returns -1 (nothing estimated) with fewer than MODERATE_MIN of them.
 */
#define MODERATE_MIN 8
int cdm_moderate_prior(const double *var, const int *df, size_t n,
		       double *d0, double *s02);
double cdm_moderated_var(double var, int df, double d0, double s02);

/*
 * The smallest change (log scale) a two-sided t test at alpha finds with
 * 80% power, given its standard error and degrees of freedom; NaN without.
 */
double cdm_mde(double se, int df, double alpha);
double cdm_digamma(double x);
double cdm_trigamma(double x);

/* t quantile: the t with two-sided P(|T| >= t) = p */
double cdm_t_quantile2(double p, int df);

#endif
