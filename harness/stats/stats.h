/* SPDX-License-Identifier: GPL-2.0 */
/* Descriptive statistics over a metric's samples. */
#ifndef CDM_STATS_H
#define CDM_STATS_H

#include <stddef.h>

struct cdm_summary {
	size_t n;		/* finite samples */
	size_t nonfinite;	/* NaN or infinite samples, excluded from the rest */
	double min;
	double p5;
	double median;
	double mean;
	double p95;
	double p99;
	double max;
	double stddev;		/* sample standard deviation (n-1) */
	double mad;		/* median absolute deviation, unscaled */
};

/* v is not modified; scratch space is allocated internally */
void cdm_summarize(const double *v, size_t n, struct cdm_summary *s);
/* percentile p in [0,100] of sorted data, linear interpolation */
double cdm_percentile_sorted(const double *sorted, size_t n, double p);
void cdm_sort_doubles(double *v, size_t n);

/* the noise every command shows: MAD / |median| in percent; NaN when the
 * median is 0 or NaN */
double cdm_noise_pct(double mad, double median);

#endif
