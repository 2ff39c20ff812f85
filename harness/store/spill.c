// SPDX-License-Identifier: GPL-2.0
/*
 * Samples of a long case, streamed to the database while the case runs,
 * so the parent's memory does not grow with the case (2e7 samples held
 * in memory cost 484 MB). They go to a TEMP table, private to this
 * connection: writing it takes no lock on the results, so concurrent
 * runs are not held up, and a case that never finishes leaves nothing
 * behind. When the case ends its summary is computed from the table,
 * exactly as cdm_summarize() would from memory (the same order
 * statistics, the same Welford sums), and the samples are copied into
 * `samples` in the case's own transaction.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

static int spill_exec(struct cdm_db *d, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	cdm_err("%s: %s (sqlite error %d)", d->path,
		msg ? msg : sqlite3_errmsg(d->db),
		sqlite3_extended_errcode(d->db));
	sqlite3_free(msg);
	return -1;
}

int db_spill_reset_table(struct cdm_db *d)
{
	return spill_exec(d, "CREATE TEMP TABLE IF NOT EXISTS spill (metric INTEGER NOT NULL, seq INTEGER NOT NULL, value REAL, PRIMARY KEY (metric, seq)) WITHOUT ROWID");
}

int db_spill_reset_metric(struct cdm_db *d, size_t idx)
{
	sqlite3_stmt *st;
	int r;

	if (db_spill_reset_table(d))
		return -1;
	st = db_prepare(d, "DELETE FROM temp.spill WHERE metric = ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, idx);
	r = db_step(d, st);
	sqlite3_finalize(st);
	return r < 0 ? -1 : 0;
}

int db_spill(struct cdm_db *d, size_t idx, struct cdm_metric_res *m)
{
	sqlite3_stmt *st;
	size_t i;
	int r = 0;

	if (!m->n)
		return 0;
	if (!m->spilled && db_spill_reset_metric(d, idx))
		return -1;
	if (spill_exec(d, "BEGIN"))
		return -1;
	st = db_prepare(d, "INSERT INTO temp.spill (metric, seq, value) VALUES (?, ?, ?)");
	for (i = 0; st && i < m->n && !r; i++) {
		sqlite3_bind_int64(st, 1, idx);
		sqlite3_bind_int64(st, 2, m->spilled + i);
		if (isnan(m->v[i]))
			sqlite3_bind_null(st, 3);
		else
			sqlite3_bind_double(st, 3, m->v[i]);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = db_fail(d, "streaming samples to the database failed");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (!st || r || spill_exec(d, "COMMIT")) {
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	m->spilled += m->n;
	m->n = 0;
	return 0;
}

/* the order statistics cdm_percentile_sorted() reads for p */
static void pct_pos(size_t n, double p, size_t *i, double *frac)
{
	double pos = p / 100.0 * (double)(n - 1);

	*i = (size_t)pos;
	*frac = pos - (double)*i;
	if (*i >= n - 1) {
		*i = n - 1;
		*frac = 0;
	}
}

/*
 * Stream sorted values (column 0 of st) and pick the percentiles ps[] as
 * cdm_percentile_sorted() would from the sorted array.
 */
static int pick(struct cdm_db *d, sqlite3_stmt *st, size_t n, const double *ps,
		double *out, int np, double *first, double *last)
{
	size_t idx[8], j = 0;
	double frac[8], lo[8], prev = NAN;
	int k, r;

	for (k = 0; k < np; k++)
		pct_pos(n, ps[k], &idx[k], &frac[k]);
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		double v = sqlite3_column_double(st, 0);

		if (j == 0 && first)
			*first = v;
		for (k = 0; k < np; k++) {
			if (j == idx[k])
				lo[k] = v;
			if (j == idx[k] + 1 && frac[k] != 0)
				out[k] = lo[k] + (v - lo[k]) * frac[k];
			if (j == idx[k] && (frac[k] == 0 || n == 1))
				out[k] = v;
		}
		prev = v;
		j++;
	}
	if (last)
		*last = prev;
	return r == SQLITE_DONE && j == n ? 0 :
		r == SQLITE_DONE ? cdm_err("%s: streamed samples changed while summarising",
					   d->path) : -1;
}

#define FINITE "value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308"

int db_spill_summarize(struct cdm_db *d, size_t idx, struct cdm_metric_res *m)
{
	static const double ps[] = { 5, 50, 95, 99 };
	struct cdm_summary *s = &m->sum;
	sqlite3_stmt *all, *sorted = NULL, *dev = NULL;
	double mean = 0, m2 = 0, out[4], mad;
	size_t k = 0;
	int r = -1;

	if (db_spill(d, idx, m))
		return -1;
	memset(s, 0, sizeof(*s));
	s->min = s->p5 = s->median = s->mean = NAN;
	s->p95 = s->p99 = s->max = s->stddev = s->mad = NAN;
	all = db_prepare(d, "SELECT value FROM temp.spill WHERE metric = ? ORDER BY seq");
	if (!all)
		return -1;
	sqlite3_bind_int64(all, 1, idx);
	while ((r = db_step(d, all)) == SQLITE_ROW) {
		double v, delta;

		if (sqlite3_column_type(all, 0) == SQLITE_NULL ||
		    !isfinite(v = sqlite3_column_double(all, 0))) {
			s->nonfinite++;
			continue;
		}
		k++;
		delta = v - mean;
		mean += delta / (double)k;
		m2 += delta * (v - mean);
	}
	sqlite3_finalize(all);
	if (r != SQLITE_DONE)
		return -1;
	s->n = k;
	if (!k)
		return 0;
	s->mean = mean;
	s->stddev = k > 1 ? sqrt(m2 / (double)(k - 1)) : 0;
	r = -1;
	sorted = db_prepare(d, "SELECT value FROM temp.spill WHERE metric = ? AND " FINITE " ORDER BY value");
	if (!sorted)
		goto out;
	sqlite3_bind_int64(sorted, 1, idx);
	if (pick(d, sorted, k, ps, out, 4, &s->min, &s->max))
		goto out;
	s->p5 = out[0];
	s->median = out[1];
	s->p95 = out[2];
	s->p99 = out[3];
	dev = db_prepare(d, "SELECT abs(value - ?2) AS dv FROM temp.spill WHERE metric = ?1 AND " FINITE " ORDER BY dv");
	if (!dev)
		goto out;
	sqlite3_bind_int64(dev, 1, idx);
	sqlite3_bind_double(dev, 2, s->median);
	if (pick(d, dev, k, ps + 1, &mad, 1, NULL, NULL))
		goto out;
	s->mad = mad;
	r = 0;
out:
	sqlite3_finalize(sorted);
	sqlite3_finalize(dev);
	return r;
}

int db_spill_store(struct cdm_db *d, size_t idx, int64_t metric_id)
{
	sqlite3_stmt *st = db_prepare(d, "INSERT INTO samples (metric_id, seq, value) SELECT ?1, seq, value FROM temp.spill WHERE metric = ?2 ORDER BY seq");
	int r;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, metric_id);
	sqlite3_bind_int64(st, 2, idx);
	r = db_step(d, st);
	sqlite3_finalize(st);
	return r < 0 ? -1 : 0;
}
