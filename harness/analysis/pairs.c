// SPDX-License-Identifier: GPL-2.0
/*
 * Per-iteration pairs of a metric and its in-run control (see pairs.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/pairs.h"
#include "stats/cstats.h"

/* robust spreads: a neighbour's bursts make heavy tails */
static double log_var(const double *v, size_t n)
{
	double *s = xcalloc(n + 1, sizeof(double)), mad;

	memcpy(s, v, n * sizeof(double));
	cdm_sort_fast(s, n);
	mad = 1.4826 * cdm_mad_sorted(s, n);
	free(s);
	return mad * mad;
}

double cdm_paired_log(struct cdm_db *d, sqlite3_stmt *st, int64_t id,
		      int64_t cid, int orient, int64_t ny, int64_t nc,
		      struct pair_spread *sp)
{
	size_t want = ny > 0 ? (size_t)ny : 0, n = 0;
	double *v, *ly, med = NAN;
	int r;

	if (!want || ny != nc || ny > CDM_MAX_METRIC_SAMPLES || !cid)
		return NAN;
	v = xcalloc(want + 1, sizeof(double));
	ly = xcalloc(want + 1, sizeof(double));
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, cid);
	while ((r = db_step(d, st)) == SQLITE_ROW && n < want) {
		double y = sqlite3_column_double(st, 0);
		double c = sqlite3_column_double(st, 1);

		if (y > 0 && c > 0 && isfinite(y) && isfinite(c)) {
			ly[n] = log(y);
			v[n++] = log(y) - orient * log(c);
		}
	}
	if (r >= 0 && n == want) {
		if (sp) {
			sp->y_var += log_var(ly, n);
			sp->pair_var += log_var(v, n);
			sp->runs++;
		}
		med = cdm_median_select(v, n);
	}
	free(ly);
	free(v);
	return med;
}
