// SPDX-License-Identifier: GPL-2.0
/*
 * Summaries per metric. Medians and percentiles rather than only means,
 * because device-memory timings have long tails (faults, TLB shootdowns,
 * emulation noise) that a mean hides.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"
#include "util/util.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void cdm_sort_doubles(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

double cdm_percentile_sorted(const double *s, size_t n, double p)
{
	double pos, frac;
	size_t i;

	if (!n)
		return NAN;
	if (n == 1)
		return s[0];
	pos = p / 100.0 * (double)(n - 1);
	i = (size_t)pos;
	if (i >= n - 1)
		return s[n - 1];
	frac = pos - (double)i;
	return s[i] + (s[i + 1] - s[i]) * frac;
}

static void empty_summary(struct cdm_summary *s)
{
	s->min = s->p5 = s->median = s->mean = NAN;
	s->p95 = s->p99 = s->max = s->stddev = s->mad = NAN;
}

void cdm_summarize(const double *v, size_t n, struct cdm_summary *s)
{
	double *d, mean = 0, m2 = 0, med;
	size_t i, k = 0;

	memset(s, 0, sizeof(*s));
	empty_summary(s);
	d = xmalloc((n ? n : 1) * sizeof(*d));
	for (i = 0; i < n; i++) {
		if (!isfinite(v[i])) {
			s->nonfinite++;
			continue;
		}
		d[k++] = v[i];
		/* Welford: stable for large n and values of similar size */
		{
			double delta = v[i] - mean;

			mean += delta / (double)k;
			m2 += delta * (v[i] - mean);
		}
	}
	s->n = k;
	if (!k) {
		free(d);
		return;
	}
	cdm_sort_doubles(d, k);
	s->min = d[0];
	s->max = d[k - 1];
	s->mean = mean;
	s->stddev = k > 1 ? sqrt(m2 / (double)(k - 1)) : 0;
	s->p5 = cdm_percentile_sorted(d, k, 5);
	s->median = med = cdm_percentile_sorted(d, k, 50);
	s->p95 = cdm_percentile_sorted(d, k, 95);
	s->p99 = cdm_percentile_sorted(d, k, 99);
	for (i = 0; i < k; i++)
		d[i] = fabs(d[i] - med);
	cdm_sort_doubles(d, k);
	s->mad = cdm_percentile_sorted(d, k, 50);
	free(d);
}

double cdm_noise_pct(double mad, double median)
{
	return median != 0 && !isnan(median) ? 100 * mad / fabs(median) : NAN;
}
