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
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

int db_spill_reset_table(struct cdm_db *d)
{
	return db_exec(d, "CREATE TEMP TABLE IF NOT EXISTS spill (metric INTEGER NOT NULL, seq INTEGER NOT NULL, value REAL, PRIMARY KEY (metric, seq)) WITHOUT ROWID");
}

int db_spill_reset_metric(struct cdm_db *d, size_t idx)
{
	sqlite3_stmt *st;

	if (db_spill_reset_table(d))
		return -1;
	st = db_prepare(d, "DELETE FROM temp.spill WHERE metric = ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, idx);
	return db_step_final(d, st);
}

/* rows per INSERT into the TEMP table: one step per row costs more than
 * the B-tree append (as for `samples`, see db.c) */
#define SPILL_BATCH 64

static void bind_sample(sqlite3_stmt *st, int col, int64_t idx, int64_t seq,
			double v)
{
	sqlite3_bind_int64(st, col, idx);
	sqlite3_bind_int64(st, col + 1, seq);
	if (isnan(v))
		sqlite3_bind_null(st, col + 2);
	else
		sqlite3_bind_double(st, col + 2, v);
}

/*
 * Running sums for the summary, updated as samples pass through here in
 * their order, so the summary needs no extra pass: n, nonfinite and the
 * Welford mean go in m->sum as they will stay; m2 waits in stddev.
 */
static void welford(struct cdm_metric_res *m)
{
	struct cdm_summary *s = &m->sum;
	size_t i;

	if (!m->spilled)
		memset(s, 0, sizeof(*s));
	for (i = 0; i < m->n; i++) {
		double v = m->v[i], delta;

		if (!isfinite(v)) {
			s->nonfinite++;
			continue;
		}
		s->n++;
		delta = v - s->mean;
		s->mean += delta / (double)s->n;
		s->stddev += delta * (v - s->mean);
	}
}

int db_spill(struct cdm_db *d, size_t idx, struct cdm_metric_res *m)
{
	sqlite3_stmt *one = NULL, *many = NULL;
	struct sbuf sql;
	size_t i = 0;
	int k, r = 0;

	if (!m->n)
		return 0;
	if (!m->spilled && db_spill_reset_metric(d, idx))
		return -1;
	sb_init(&sql);
	sb_adds(&sql, "INSERT INTO temp.spill (metric, seq, value) VALUES (?, ?, ?)");
	for (k = 1; k < SPILL_BATCH; k++)
		sb_adds(&sql, ",(?, ?, ?)");
	if (db_exec(d, "BEGIN"))
		goto fail;
	one = db_prepare(d, "INSERT INTO temp.spill (metric, seq, value) VALUES (?, ?, ?)");
	many = db_prepare(d, sql.buf);
	if (!one || !many)
		goto fail;
	for (; i + SPILL_BATCH <= m->n && !r; i += SPILL_BATCH) {
		for (k = 0; k < SPILL_BATCH; k++)
			bind_sample(many, 3 * k + 1, idx, m->spilled + i + k,
				    m->v[i + k]);
		if (sqlite3_step(many) != SQLITE_DONE)
			r = -1;
		sqlite3_reset(many);
	}
	for (; i < m->n && !r; i++) {
		bind_sample(one, 1, idx, m->spilled + i, m->v[i]);
		if (sqlite3_step(one) != SQLITE_DONE)
			r = -1;
		sqlite3_reset(one);
	}
	if (r) {
		db_fail(d, "streaming samples to the database failed");
		goto fail;
	}
	if (db_exec(d, "COMMIT"))
		goto fail;
	sqlite3_finalize(one);
	sqlite3_finalize(many);
	sb_free(&sql);
	welford(m);
	m->spilled += m->n;
	m->n = 0;
	return 0;
fail:
	sqlite3_finalize(one);
	sqlite3_finalize(many);
	sb_free(&sql);
	sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
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
		double *out, int np, double *first, double *last, FILE *keep)
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
		if (keep && fwrite(&v, sizeof(v), 1, keep) != 1)
			return cdm_errno(errno, "summarising streamed samples: writing a temporary file failed");
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

/* a buffered cursor over the sorted values in a file, either way */
struct cursor {
	FILE *f;
	long pos;		/* index of the next value, -1 or n at the end */
	long step;		/* +1 or -1 */
	long n;
	double buf[4096];
	long lo, len;		/* buf holds values [lo, lo + len) */
};

static int cursor_get(struct cursor *c, double *v)
{
	long want = c->pos;

	if (want < 0 || want >= c->n)
		return 0;
	if (want < c->lo || want >= c->lo + c->len) {
		long lo = c->step > 0 ? want : want - 4095;

		if (lo < 0)
			lo = 0;
		if (fseek(c->f, lo * (long)sizeof(double), SEEK_SET))
			return -1;
		c->len = fread(c->buf, sizeof(double), 4096, c->f);
		c->lo = lo;
		if (want >= c->lo + c->len)
			return -1;
	}
	*v = c->buf[want - c->lo];
	return 1;
}

/*
 * The median absolute deviation from the sorted values, without sorting
 * the deviations: they grow going out from the median on both sides, so
 * merging the two sides walks them in order. (med - x and x - med are
 * exact negations, so the values are those fabs() gives.)
 */
static int mad_from_sorted(FILE *f, size_t n, double med, double *mad)
{
	static struct cursor left, right;
	size_t idx, j;
	double frac, lo = NAN, v;
	long split;

	pct_pos(n, 50, &idx, &frac);
	/* the first value not below the median */
	{
		long a = 0, b = (long)n;

		while (a < b) {
			long mid = a + (b - a) / 2;

			left = (struct cursor){ .f = f, .pos = mid, .step = 1,
						.n = (long)n, .len = 0 };
			if (cursor_get(&left, &v) != 1)
				return -1;
			if (v < med)
				a = mid + 1;
			else
				b = mid;
		}
		split = a;
	}
	left = (struct cursor){ .f = f, .pos = split - 1, .step = -1,
				.n = (long)n, .len = 0 };
	right = (struct cursor){ .f = f, .pos = split, .step = 1,
				 .n = (long)n, .len = 0 };
	for (j = 0; j <= idx + 1 && j < n; j++) {
		double l, r, dev;
		int hl = cursor_get(&left, &l), hr = cursor_get(&right, &r);

		if (hl < 0 || hr < 0)
			return -1;
		if (hr && (!hl || r - med <= med - l)) {
			dev = r - med;
			right.pos++;
		} else {
			dev = med - l;
			left.pos--;
		}
		if (j == idx) {
			lo = dev;
			if (frac == 0 || n == 1) {
				*mad = dev;
				return 0;
			}
		} else if (j == idx + 1) {
			*mad = lo + (dev - lo) * frac;
			return 0;
		}
	}
	*mad = lo;
	return 0;
}

#define FINITE "value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308"

int db_spill_summarize(struct cdm_db *d, size_t idx, struct cdm_metric_res *m)
{
	static const double ps[] = { 5, 50, 95, 99 };
	struct cdm_summary *s = &m->sum;
	sqlite3_stmt *sorted = NULL;
	double out[4], m2;
	FILE *f = NULL;
	size_t k;
	int r = -1;

	if (db_spill(d, idx, m))
		return -1;
	k = s->n;
	m2 = s->stddev;
	s->min = s->p5 = s->median = s->p95 = s->p99 = s->max = NAN;
	s->stddev = s->mad = NAN;
	if (!k) {
		s->mean = NAN;
		return 0;
	}
	s->stddev = k > 1 ? sqrt(m2 / (double)(k - 1)) : 0;
	/* the sorted values, once, to a private file for the MAD */
	f = tmpfile();
	if (!f)
		return cdm_errno(errno, "summarising streamed samples: no temporary file");
	sorted = db_prepare(d, "SELECT value FROM temp.spill WHERE metric = ? AND " FINITE " ORDER BY value");
	if (!sorted)
		goto out;
	sqlite3_bind_int64(sorted, 1, idx);
	if (pick(d, sorted, k, ps, out, 4, &s->min, &s->max, f))
		goto out;
	s->p5 = out[0];
	s->median = out[1];
	s->p95 = out[2];
	s->p99 = out[3];
	if (fflush(f) || mad_from_sorted(f, k, s->median, &s->mad)) {
		cdm_errno(errno, "summarising streamed samples: reading the temporary file failed");
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(sorted);
	fclose(f);
	return r;
}

int db_spill_store(struct cdm_db *d, size_t idx, int64_t metric_id)
{
	sqlite3_stmt *st = db_prepare(d, "INSERT INTO samples (metric_id, seq, value) SELECT ?1, seq, value FROM temp.spill WHERE metric = ?2 ORDER BY seq");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, metric_id);
	sqlite3_bind_int64(st, 2, idx);
	return db_step_final(d, st);
}
