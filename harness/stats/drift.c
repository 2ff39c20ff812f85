// SPDX-License-Identifier: GPL-2.0
/*
 * Drift-aware comparison on per-run values (see drift.h for the model).
 * Pure arithmetic, so the unit tests can feed it synthetic runs with a
 * known drift and a known step.
 */
#include <math.h>
#include <stdlib.h>

#include "stats/cstats.h"
#include "stats/drift.h"
#include "util/util.h"

double cdm_t_quantile2(double p, int df)
{
	double lo = 0, hi = 1, mid;
	int i;

	if (!(p > 0 && p < 1) || df < 1)
		return NAN;
	while (cdm_t_p2(hi, df) > p && hi < 1e12)
		hi *= 2;
	for (i = 0; i < 200; i++) {
		mid = (lo + hi) / 2;
		if (cdm_t_p2(mid, df) > p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

struct moments {
	double mean[2];
	size_t n[2];
	double ss;		/* sum of squares within the sides */
};

/* value of run i on side k: the metric, the control, or their difference */
enum which { W_RAW, W_NORM, W_CTRL };

static double value(const struct drift_in *in, int k, size_t i, enum which w,
		    double slope)
{
	const struct drift_side *s = &in->s[k];
	double v;

	switch (w) {
	case W_RAW:
		return s->y[i];
	case W_CTRL:
		return s->c ? s->c[i] : NAN;
	default:
		if (!s->c)
			return NAN;
		if (s->yn && isfinite(s->yn[i]))
			v = s->yn[i];
		else
			v = s->y[i] - in->orient * s->c[i];
		/* the pairs took out one unit of the control; the rest */
		return v - (slope - 1) * in->orient * s->c[i];
	}
}

/* runs that have both values count for every test, so all see one set */
static bool usable(const struct drift_in *in, int k, size_t i)
{
	const struct drift_side *s = &in->s[k];

	return isfinite(s->y[i]) && (!s->c || isfinite(s->c[i]));
}

static void moments(const struct drift_in *in, enum which w, double slope,
		    bool *const skip[2], struct moments *m)
{
	size_t i;
	int k;

	m->ss = 0;
	for (k = 0; k < 2; k++) {
		double sum = 0;

		m->n[k] = 0;
		for (i = 0; i < in->s[k].n; i++) {
			if (!usable(in, k, i) || (skip && skip[k][i]))
				continue;
			sum += value(in, k, i, w, slope);
			m->n[k]++;
		}
		m->mean[k] = m->n[k] ? sum / m->n[k] : NAN;
		for (i = 0; i < in->s[k].n; i++) {
			double d;

			if (!usable(in, k, i) || (skip && skip[k][i]))
				continue;
			d = value(in, k, i, w, slope) - m->mean[k];
			m->ss += d * d;
		}
	}
}

/*
 * The t test on per-run values; var/df from outside when given. extra:
 * what a fitted slope adds to 1/n0 + 1/n1, (mean c1 - mean c0)^2 / Sxx,
 * as the slope's own error moves the sides apart where their controls
 * differ (0 without a slope).
 */
static void t_test(const struct moments *m, double var, int df, double extra,
		   struct drift_test *t)
{
	double q;

	t->d = m->mean[1] - m->mean[0];
	t->se = t->p = t->lo = t->hi = NAN;
	t->df = df;
	if (!m->n[0] || !m->n[1] || df < 1 || !(var >= 0))
		return;
	t->var = var;
	t->se = sqrt(var * (1.0 / m->n[0] + 1.0 / m->n[1] + extra));
	t->p = t->se > 0 ? cdm_t_p2(t->d / t->se, df) : t->d == 0 ? 1 : 0;
	q = cdm_t_quantile2(0.05, df);
	t->lo = t->d - q * t->se;
	t->hi = t->d + q * t->se;
}

static int side_df(const struct moments *m)
{
	int df = (int)(m->n[0] + m->n[1]) - 2;

	return m->n[0] && m->n[1] && df > 0 ? df : 0;
}

/* smallest |d| found at alpha with 80% power: (t_alpha/2 + t_0.2) se */
double cdm_mde(double se, int df, double alpha)
{
	if (isnan(se) || df < 1)
		return NAN;
	return (cdm_t_quantile2(alpha, df) + cdm_t_quantile2(0.4, df)) * se;
}

/* a slope this far from 1 says more about noise than about the host */
#define SLOPE_MAX 3.0
/* other runs must supply this many degrees of freedom to the slope
 * before the compared runs stop paying one for it */
#define SLOPE_OWN_DF 10

/*
 * The metric's slope on the control, from run medians centred on their
 * side (and on their own sets of runs outside): the sides' difference
 * plays no part. 1 when the control did not move inside any set.
 */
static void fit_slope(const struct drift_in *in, struct drift_out *out)
{
	double sxy = in->ext_sxy, sxx = in->ext_sxx, syy = in->ext_syy, b, se;
	int k, df = in->ext_slope_df;
	size_t i;

	for (k = 0; k < 2; k++) {
		double my = 0, mc = 0;
		size_t n = 0;

		for (i = 0; i < in->s[k].n; i++) {
			if (!usable(in, k, i))
				continue;
			my += in->s[k].y[i];
			mc += in->orient * in->s[k].c[i];
			n++;
		}
		if (n < 2)
			continue;
		my /= n;
		mc /= n;
		for (i = 0; i < in->s[k].n; i++) {
			double dc, dy;

			if (!usable(in, k, i))
				continue;
			dc = in->orient * in->s[k].c[i] - mc;
			dy = in->s[k].y[i] - my;
			sxy += dc * dy;
			sxx += dc * dc;
			syy += dy * dy;
		}
		df += n - 1;
	}
	out->slope = 1;
	out->slope_df = df;
	out->slope_sxx = 0;
	out->follows = false;
	if (!(sxx > 0) || df < 3)
		return;
	b = fmin(fmax(sxy / sxx, 0), SLOPE_MAX);
	se = sqrt(fmax(syy - sxy * sxy / sxx, 0) / (df - 1) / sxx);
	/*
	 * Following it: the slope is clearly above 0, whether it is fitted
	 * below or stays 1 (then it is also near 1, so dividing by the
	 * control takes out more of the metric's spread than it adds).
	 */
	out->follows = b > cdm_t_quantile2(0.05, df - 1) * se;
	/*
	 * One for one unless the runs say otherwise: with a few runs a side a
	 * fitted slope costs a degree of freedom, which only pays where the
	 * metric clearly moves more or less than its control.
	 */
	if (in->ext_slope_df < SLOPE_OWN_DF &&
	    fabs(b - 1) < cdm_t_quantile2(0.05, df - 1) * se)
		return;
	out->slope = b;
	out->slope_sxx = sxx;
}

/*
 * A compared run whose normalized value sits DRIFT_OUTLIER_SD robust SDs
 * (from other runs, drift.h) from its own side's median: left out of the
 * normalized test. Needs 3 runs on the side, so the median is not its.
 */
static void mark_outliers(const struct drift_in *in, struct drift_out *out,
			  bool *const skip[2])
{
	double v[64];
	size_t i, n;
	int k;

	out->dropped[0] = out->dropped[1] = 0;
	if (!(in->ext_robust_sd > 0))
		return;
	for (k = 0; k < 2; k++) {
		double med;

		for (i = n = 0; i < in->s[k].n && n < ARRAY_SIZE(v); i++)
			if (usable(in, k, i))
				v[n++] = value(in, k, i, W_NORM, out->slope);
		if (n < 3)
			continue;
		med = cdm_median_select(v, n);
		for (i = 0; i < in->s[k].n; i++) {
			if (!usable(in, k, i) ||
			    fabs(value(in, k, i, W_NORM, out->slope) - med) <=
			    DRIFT_OUTLIER_SD * in->ext_robust_sd)
				continue;
			skip[k][i] = true;
			out->dropped[k]++;
		}
	}
}

static double slope_extra(const struct moments *ctrl,
			  const struct drift_out *out)
{
	double dc = ctrl->mean[1] - ctrl->mean[0];

	return out->slope_sxx > 0 ? dc * dc / out->slope_sxx : 0;
}

void cdm_drift_compare(const struct drift_in *in, struct drift_out *out)
{
	struct moments raw, norm, ctrl;
	int df;

	moments(in, W_RAW, 1, NULL, &raw);
	df = side_df(&raw);
	/* runs elsewhere hold more of the between-run variance: prefer them */
	if (in->ext_df >= 2)
		t_test(&raw, in->ext_var, in->ext_df, 0, &out->raw);
	else
		t_test(&raw, df ? raw.ss / df : NAN, df >= 2 ? df : 0, 0,
		       &out->raw);
	out->has_control = in->s[0].c && in->s[1].c;
	out->normalized = false;
	out->ctrl_spread = NAN;
	out->slope = 1;
	out->slope_df = out->norm_runs_df = 0;
	out->dropped[0] = out->dropped[1] = 0;
	out->slope_sxx = 0;
	out->norm = out->ctrl = (struct drift_test){ NAN, NAN, NAN, 0, NAN,
						      NAN, NAN };
	out->why = "no control in this case";
	if (out->has_control) {
		bool *skip[2] = { xcalloc(in->s[0].n + 1, sizeof(bool)),
				  xcalloc(in->s[1].n + 1, sizeof(bool)) };
		double ss;
		int ndf;

		fit_slope(in, out);
		mark_outliers(in, out, skip);
		moments(in, W_NORM, out->slope, skip, &norm);
		moments(in, W_CTRL, 1, NULL, &ctrl);
		df = side_df(&norm);
		/*
		 * Between-run variance: these runs', and other runs' of one
		 * configuration around their own means, normalized alike (as
		 * the raw test prefers ext_var). A fitted slope costs one.
		 */
		ss = norm.ss;
		ndf = df;
		if (df && in->ext_slope_df >= 2) {
			/* their value, z - (b - 1) x, as these runs' */
			double b1 = out->slope - 1;

			ss += fmax(in->ext_szz - 2 * b1 * in->ext_sxz +
				   b1 * b1 * in->ext_sxx, 0);
			ndf += in->ext_slope_df;
		}
		ndf -= out->slope_sxx > 0;
		out->norm_runs_df = ndf;
		t_test(&norm, ndf > 0 ? ss / ndf : NAN, ndf >= 2 ? ndf : 0,
		       slope_extra(&ctrl, out), &out->norm);
		t_test(&ctrl, df ? ctrl.ss / df : NAN, df >= 2 ? df : 0, 0,
		       &out->ctrl);
		if (df)
			out->ctrl_spread = sqrt(ctrl.ss / df);
		if (df < 2) {
			out->why = "too few runs to normalize (4 needed)";
		} else if ((in->c_se2 > 0 && ctrl.ss / df > 4 * in->c_se2) ||
			   out->ctrl.p < 0.05) {
			out->normalized = true;
			out->why = "the control moved beyond its own noise";
		} else if (out->follows) {
			/* runs of one configuration, here or elsewhere, show the
			 * metric following the control: held steady in these
			 * runs or not, it carries their state */
			out->normalized = true;
			out->why = "the metric follows the control from run to run";
		} else if (in->pair_var > 0 && in->pair_var < in->y_var / 2) {
			out->normalized = true;
			out->why = "the control shares the metric's noise iteration by iteration";
		} else {
			out->why = "the control held steady";
		}
		free(skip[0]);
		free(skip[1]);
	}
	out->mde = out->normalized ?
		cdm_mde(out->norm.se, out->norm.df, in->alpha) :
		cdm_mde(out->raw.se, out->raw.df, in->alpha);
}

/* recurrence up to 6, then the asymptotic series */
double cdm_digamma(double x)
{
	double r = 0, f;

	if (!(x > 0))
		return NAN;
	for (; x < 6; x++)
		r -= 1 / x;
	f = 1 / (x * x);
	return r + log(x) - 0.5 / x -
	       f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f / 240)));
}

double cdm_trigamma(double x)
{
	double r = 0, f;

	if (!(x > 0))
		return NAN;
	for (; x < 6; x++)
		r += 1 / (x * x);
	f = 1 / (x * x);
	return r + 1 / x + f / 2 +
	       f / x * (1.0 / 6 - f * (1.0 / 30 - f * (1.0 / 42 - f / 30)));
}

/* y with trigamma(y) = v: trigamma falls monotonically, so bisect */
static double trigamma_inv(double v)
{
	double lo = 1e-8, hi = 1e8, mid;
	int i;

	for (i = 0; i < 100; i++) {
		mid = sqrt(lo * hi);
		if (cdm_trigamma(mid) > v)
			lo = mid;
		else
			hi = mid;
	}
	return sqrt(lo * hi);
}

int cdm_moderate_prior(const double *var, const int *df, size_t n,
		       double *d0, double *s02)
{
	double emean = 0, evar = 0, tmean = 0, sumdf = 0, e;
	size_t i, g = 0;

	for (i = 0; i < n; i++) {
		if (!(var[i] > 0) || df[i] < 1 || !isfinite(var[i]))
			continue;
		emean += log(var[i]) - cdm_digamma(df[i] / 2.0) +
			 log(df[i] / 2.0);
		tmean += cdm_trigamma(df[i] / 2.0);
		sumdf += df[i];
		g++;
	}
	if (g < MODERATE_MIN)
		return -1;
	emean /= g;
	tmean /= g;
	for (i = 0; i < n; i++) {
		if (!(var[i] > 0) || df[i] < 1 || !isfinite(var[i]))
			continue;
		e = log(var[i]) - cdm_digamma(df[i] / 2.0) + log(df[i] / 2.0);
		evar += (e - emean) * (e - emean) / (g - 1);
	}
	evar -= tmean;
	/*
	 * Spread no wider than sampling explains: the variances look alike,
	 * but the prior never holds more than all of them together.
	 */
	*d0 = evar > 0 ? fmin(2 * trigamma_inv(evar), sumdf) : sumdf;
	*s02 = exp(emean + cdm_digamma(*d0 / 2) - log(*d0 / 2));
	return 0;
}

double cdm_moderated_var(double var, int df, double d0, double s02)
{
	/*
	 * Raised towards the prior, never lowered: a measurement noisier
	 * than the rest may be so in truth (a workload that moves more from
	 * boot to boot), which the prior's one spread cannot describe.
	 */
	return fmax((d0 * s02 + df * var) / (d0 + df), var);
}
