// SPDX-License-Identifier: GPL-2.0
/* Summaries: values checked against hand-computed results. */
#include <math.h>
#include <string.h>

#include "stats/stats.h"
#include "tap.h"

/* 1..10: every statistic has a textbook value */
TEST(summary_known_values)
{
	double v[10] = { 7, 3, 9, 1, 5, 10, 2, 8, 4, 6 };
	struct cdm_summary s;

	cdm_summarize(v, 10, &s);
	CHECK(s.n == 10 && s.nonfinite == 0);
	CHECK_NEAR(s.min, 1, 0);
	CHECK_NEAR(s.max, 10, 0);
	CHECK_NEAR(s.mean, 5.5, 1e-12);
	CHECK_NEAR(s.median, 5.5, 1e-12);
	CHECK_NEAR(s.stddev, 3.0276503540974917, 1e-12);
	CHECK_NEAR(s.p5, 1.45, 1e-12);
	CHECK_NEAR(s.p95, 9.55, 1e-12);
	CHECK_NEAR(s.p99, 9.91, 1e-12);
	/* |x - 5.5| = .5,.5,1.5,1.5,...,4.5,4.5 -> median 2.5 */
	CHECK_NEAR(s.mad, 2.5, 1e-12);
	/* the input is left as it was */
	CHECK(v[0] == 7 && v[9] == 6);
}

/* NaN and infinities are counted, not allowed to poison the rest */
TEST(summary_nonfinite)
{
	double v[5] = { 1, NAN, 3, INFINITY, 2 };
	struct cdm_summary s;

	cdm_summarize(v, 5, &s);
	CHECK(s.n == 3 && s.nonfinite == 2);
	CHECK_NEAR(s.median, 2, 0);
	CHECK_NEAR(s.mean, 2, 1e-12);
}

TEST(summary_edge_sizes)
{
	double one = 42;
	struct cdm_summary s;

	cdm_summarize(&one, 1, &s);
	CHECK(s.n == 1 && s.median == 42 && s.p99 == 42 && s.stddev == 0 &&
	      s.mad == 0);
	cdm_summarize(NULL, 0, &s);
	CHECK(s.n == 0 && isnan(s.median));
}

/* Welford's mean stays exact where naive sums lose digits */
TEST(summary_large_offset)
{
	static double v[100000];
	struct cdm_summary s;
	size_t i;

	for (i = 0; i < 100000; i++)
		v[i] = 1e9 + (double)(i % 2);
	cdm_summarize(v, 100000, &s);
	CHECK_NEAR(s.mean, 1e9 + 0.5, 1e-6);
	CHECK_NEAR(s.stddev, 0.5000025, 1e-6);
}

/* the one noise figure: MAD / |median| in percent, undefined at median 0 */
TEST(noise_pct)
{
	CHECK_NEAR(cdm_noise_pct(2.5, 5.5), 100 * 2.5 / 5.5, 1e-12);
	CHECK_NEAR(cdm_noise_pct(1, -4), 25, 1e-12);
	CHECK(isnan(cdm_noise_pct(1, 0)));
	CHECK(isnan(cdm_noise_pct(1, NAN)));
}
