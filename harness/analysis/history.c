// SPDX-License-Identifier: GPL-2.0
/*
 * A metric across runs in time order (`cdmbench history`, the report's
 * trends), and the runs that introduced a step in its level (change-point detection on
 * per-run medians, see cdm_changepoints()). Reads only the summaries, so
 * a thousand runs cost one indexed query.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/controls.h"
#include "analysis/history.h"
#include "analysis/pairs.h"
#include "stats/drift.h"
#include "store/select.h"

static char *history_sql(const struct hist_query *q, int kind,
			 char ***binds, int *nbinds)
{
	struct sbuf sb;
	int k;

	sb_init(&sb);
	/* the in-run control of kind `kind` (?6 or ?7, one of compare's),
	 * never for a control of that kind or a later one */
	sb_adds(&sb, "SELECT r.id, substr(r.uuid, 1, 8), r.started_at, coalesce(k.release, '?'), coalesce(h.hostname, '?'), c.verdict, coalesce(s.n, 0), s.median, s.mad, c.match_key, c.backend, c.device_type, m.unit, m.better, "
		"sk.median, sk.mad, sk.n, ck.better, m.id, coalesce(ck.id, 0), coalesce(s.n + s.nonfinite, 0), coalesce(sk.n + sk.nonfinite, 0) "
		"FROM cases c JOIN runs r ON r.id = c.run_id JOIN metrics m ON m.case_id = c.id AND m.name = ?1 "
		"LEFT JOIN summaries s ON s.metric_id = m.id LEFT JOIN kernels k ON k.id = r.kernel_id LEFT JOIN hosts h ON h.id = r.host_id "
		"LEFT JOIN metrics ck ON ck.case_id = c.id AND ck.name IN (?6, ?7) AND m.name NOT IN (''");
	for (k = kind; k < CDM_CONTROL_KINDS; k++)
		sb_addf(&sb, ", '%s', '%s'", cdm_controls[k][0],
			cdm_controls[k][1]);
	sb_adds(&sb, ") LEFT JOIN summaries sk ON sk.metric_id = ck.id WHERE r.status != 'running'");
	if (q->case_name)
		sb_adds(&sb, " AND c.name = ?2");
	else
		sb_adds(&sb, " AND c.match_key = ?2 AND c.backend = ?3 AND c.device_type = ?4");
	if (q->until_run)
		sb_adds(&sb, " AND (r.started_at, r.id) <= (SELECT started_at, id FROM runs WHERE id = ?5)");
	if (q->selector && cdm_selector_sql(q->selector, &sb, binds, nbinds)) {
		sb_free(&sb);
		return NULL;
	}
	sb_adds(&sb, " ORDER BY r.started_at, r.id");
	return sb_detach(&sb);
}

static void add_point(struct hist *h, sqlite3_stmt *st, size_t *cap)
{
	struct hist_point *p;
	double mad = sqlite3_column_double(st, 8);

	if (h->n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		h->p = xrealloc(h->p, *cap * sizeof(*h->p));
	}
	p = &h->p[h->n++];
	p->run_id = sqlite3_column_int64(st, 0);
	snprintf(p->uuid, sizeof(p->uuid), "%s", col_text(st, 1));
	p->started_at = xstrdup(col_text(st, 2));
	p->kernel = xstrdup(col_text(st, 3));
	p->host = xstrdup(col_text(st, 4));
	p->verdict = xstrdup(col_text(st, 5));
	p->n = sqlite3_column_int64(st, 6);
	p->median = sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN :
		    sqlite3_column_double(st, 7);
	p->noise = cdm_noise_pct(mad, p->median);
	p->level = p->median;
	p->ctrl = p->ctrl_se2 = p->paired = NAN;
	p->metric_id = sqlite3_column_int64(st, 18);
	p->ctrl_id = sqlite3_column_int64(st, 19);
	p->ny = sqlite3_column_int64(st, 20);
	p->nc = sqlite3_column_int64(st, 21);
	if (sqlite3_column_type(st, 14) != SQLITE_NULL &&
	    sqlite3_column_double(st, 14) > 0) {
		double cm = sqlite3_column_double(st, 14);
		double sd = 1.4826 * sqlite3_column_double(st, 15) / cm;
		int n = sqlite3_column_int(st, 16);

		p->ctrl = cm;
		p->ctrl_se2 = n > 0 ? sd * sd * M_PI / (2.0 * n) : NAN;
		h->ctrl_higher = !strcmp(col_text(st, 17), "higher");
	}
}

static void free_point(struct hist_point *p)
{
	free(p->started_at);
	free(p->kernel);
	free(p->host);
	free(p->verdict);
}

/* rows come oldest first; by name, the newest row decides the identity */
static int read_rows(struct cdm_db *d, sqlite3_stmt *st, struct hist *h,
		     char ***ident)
{
	size_t cap = 0;
	int r;

	while ((r = db_step(d, st)) == SQLITE_ROW) {
		add_point(h, st, &cap);
		*ident = xrealloc(*ident, cap * sizeof(char *));
		(*ident)[h->n - 1] = xasprintf("%s\x1f%s\x1f%s",
					       col_text(st, 9), col_text(st, 10),
					       col_text(st, 11));
		free(h->unit);
		h->unit = xstrdup(col_text(st, 12));
		h->higher_better = !strcmp(col_text(st, 13), "higher");
	}
	return r == SQLITE_DONE ? 0 : -1;
}

/* keep the points of the newest identity, and at most limit of them */
static void filter_points(struct hist *h, char **ident, size_t limit)
{
	size_t i, k = 0, keep;

	for (i = 0; i < h->n; i++) {
		if (strcmp(ident[i], ident[h->n - 1])) {
			h->other_params++;
			free_point(&h->p[i]);
			continue;
		}
		h->p[k++] = h->p[i];
	}
	h->n = k;
	if (!limit || h->n <= limit)
		return;
	keep = h->n - limit;
	for (i = 0; i < keep; i++)
		free_point(&h->p[i]);
	memmove(h->p, h->p + keep, limit * sizeof(*h->p));
	h->n = limit;
}

/* each run's metric against its control, iteration by iteration */
static int load_pairs(struct cdm_db *d, struct hist *h)
{
	int orient = (h->higher_better ? 1 : -1) * (h->ctrl_higher ? 1 : -1);
	struct pair_spread sp = { 0 };
	sqlite3_stmt *st;
	size_t i;

	h->pairs_share = false;
	if (!h->n || isnan(h->p[h->n - 1].ctrl))
		return 0;
	st = db_prepare(d, PAIRS_SQL);
	if (!st)
		return -1;
	for (i = 0; i < h->n; i++)
		if (!isnan(h->p[i].ctrl))
			h->p[i].paired = cdm_paired_log(d, st, h->p[i].metric_id,
							h->p[i].ctrl_id, orient,
							h->p[i].ny, h->p[i].nc,
							&sp);
	sqlite3_finalize(st);
	/* the control shares the metric's noise sample by sample (drift.h) */
	h->pairs_share = sp.runs && sp.pair_var > 0 &&
			 sp.pair_var < sp.y_var / 2;
	return 0;
}

/*
 * A series is normalized by one kind of control throughout
 * (analysis/controls.h), the first every run of it has, so runs recorded
 * before the refault control are not measured against a different
 * yardstick from those after it.
 */
/* every run with a level has the control */
static bool control_covers(const struct hist *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (!isnan(h->p[i].level) && isnan(h->p[i].ctrl))
			return false;
	return true;
}

/* kind CDM_CONTROL_KINDS: no control */
static int load_with(struct cdm_db *d, const struct hist_query *q, int kind,
		     struct hist *h)
{
	static const char *const none[2] = { "", "" };
	const char *const *ctrl = kind < CDM_CONTROL_KINDS ?
				  cdm_controls[kind] : none;
	char **binds = NULL, **ident = NULL, *sql;
	size_t k, n = 0;
	int nb = 0, i, r = -1;
	sqlite3_stmt *st = NULL;

	memset(h, 0, sizeof(*h));
	sql = history_sql(q, kind, &binds, &nb);
	if (!sql)
		return -1;
	st = db_prepare(d, sql);
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, q->metric, -1, SQLITE_STATIC);
	if (q->case_name) {
		sqlite3_bind_text(st, 2, q->case_name, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_text(st, 2, q->match_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, q->backend, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, q->device_type, -1, SQLITE_STATIC);
	}
	if (q->until_run)
		sqlite3_bind_int64(st, 5, q->until_run);
	sqlite3_bind_text(st, 6, ctrl[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, ctrl[1], -1, SQLITE_STATIC);
	/* the selector's plain '?'s come last, numbered after the others */
	for (i = 0; i < nb; i++)
		sqlite3_bind_text(st, sqlite3_bind_parameter_count(st) - nb + 1 + i,
				  binds[i], -1, SQLITE_STATIC);
	r = read_rows(d, st, h, &ident);
	n = h->n;
	if (!r && h->n)
		filter_points(h, ident, q->limit);
	h->ctrl_name = ctrl[0];
	h->ctrl_kind = kind;
out:
	sqlite3_finalize(st);
	for (i = 0; i < nb; i++)
		free(binds[i]);
	free(binds);
	for (k = 0; k < n; k++)
		free(ident[k]);
	free(ident);
	free(sql);
	return r;
}

/* a control is measured against the kinds after its own, as in compare */
static int load_series(struct cdm_db *d, const struct hist_query *q,
		       int first, struct hist *h)
{
	int k;

	for (k = first;; k++) {
		if (load_with(d, q, k, h))
			return -1;
		if (k + 1 >= CDM_CONTROL_KINDS || control_covers(h))
			break;
		cdm_history_free(h);
	}
	return load_pairs(d, h);
}

/*
 * As compare does (analysis/controls.h): the control's own series, in
 * units of the next kind, with a step says the kernel moved it, and the
 * metric measured against it would hide what moved both. The series is
 * then measured against the next kind. Steps at the report's settings.
 */
static int pass_over(struct cdm_db *d, const struct hist_query *q,
		     struct hist *h)
{
	struct hist_query cq = *q;
	struct hist c;
	int k = h->ctrl_kind, j, r = 0;
	bool stepped = false;

	if (k + 1 >= CDM_CONTROL_KINDS || !h->n || !control_covers(h))
		return 0;
	/* the workload's name for it, or the harness's */
	for (j = 0; j < 2 && !stepped && !r; j++) {
		cq.metric = cdm_controls[k][j];
		r = load_series(d, &cq, k + 1, &c);
		if (!r && c.n) {
			cdm_history_steps(&c, 0.05, 0.05);
			stepped = c.nsteps > 0;
		}
		cdm_history_free(&c);
	}
	if (r || !stepped)
		return r;
	cdm_history_free(h);
	if (load_series(d, q, k + 1, h))
		return -1;
	h->ctrl_passed = cdm_controls[k][0];
	return 0;
}

int cdm_history_load(struct cdm_db *d, const struct hist_query *q,
		     struct hist *h)
{
	if (load_series(d, q, cdm_control_kind(q->metric) + 1, h))
		return -1;
	return pass_over(d, q, h);
}

/*
 * Drift shared within a run moves the metric and its control together:
 * when the control's run medians spread more than twice their own
 * sampling error, each run's median is carried to the control's typical
 * level (median x (typical / this run's control), for a time against a
 * rate; where every run pairs its samples by iteration, the median of the
 * per-iteration ratios instead, see analysis/pairs.h), and the steps are
 * found on that. The same happens when the runs pair and the pairs
 * spread less than half as much as the metric alone. The choice looks at
 * the control and at the spread inside runs only, never at the levels. Every point needs a control, or none is normalized.
 */
/*
 * The metric's slope on its control (see stats/drift.h), over run
 * medians centred inside each kernel and host, so a kernel's step does
 * not enter: 1 unless it differs from 1 at 5% (it costs nothing here, but
 * a series of a few runs should not hang on a noisy fit).
 */
static bool same_set(const struct hist_point *a, const struct hist_point *b)
{
	return !isnan(b->median) && !isnan(b->ctrl) &&
	       !strcmp(a->kernel ? a->kernel : "", b->kernel ? b->kernel : "") &&
	       !strcmp(a->host ? a->host : "", b->host ? b->host : "");
}

static double hist_slope(const struct hist *h, int orient)
{
	double sxx = 0, sxy = 0, syy = 0, b, se;
	size_t i, j;
	int df = 0;

	for (i = 0; i < h->n; i++) {
		double mx = 0, my = 0;
		int n = 0;

		if (isnan(h->p[i].median) || isnan(h->p[i].ctrl))
			continue;
		/* the first point of its kernel and host gathers the set */
		for (j = 0; j < i; j++)
			if (same_set(&h->p[i], &h->p[j]))
				break;
		if (j < i)
			continue;
		for (j = i; j < h->n; j++) {
			if (!same_set(&h->p[i], &h->p[j]))
				continue;
			mx += orient * log(h->p[j].ctrl);
			my += log(h->p[j].median);
			n++;
		}
		mx /= n;
		my /= n;
		for (j = i; j < h->n; j++) {
			double dx, dy;

			if (!same_set(&h->p[i], &h->p[j]))
				continue;
			dx = orient * log(h->p[j].ctrl) - mx;
			dy = log(h->p[j].median) - my;
			sxx += dx * dx;
			sxy += dx * dy;
			syy += dy * dy;
		}
		df += n - 1;
	}
	if (!(sxx > 0) || df < 3)
		return 1;
	b = fmin(fmax(sxy / sxx, 0), 3);
	se = sqrt(fmax(syy - sxy * sxy / sxx, 0) / (df - 1) / sxx);
	return fabs(b - 1) < cdm_t_quantile2(0.05, df - 1) * se ? 1 : b;
}

static void normalize_levels(struct hist *h)
{
	double *c = xmalloc((h->n ? h->n : 1) * sizeof(*c)), mid, se2 = 0, b;
	int orient = (h->higher_better ? 1 : -1) * (h->ctrl_higher ? 1 : -1);
	size_t i, m = 0, nse = 0;
	bool paired = true;

	h->normalized = false;
	h->ctrl_spread = h->ctrl_noise = NAN;
	h->ctrl_slope = 1;
	for (i = 0; i < h->n; i++) {
		h->p[i].level = h->p[i].median;
		if (isnan(h->p[i].median))
			continue;
		if (isnan(h->p[i].ctrl))
			goto out;
		c[m++] = log(h->p[i].ctrl);
		if (!isnan(h->p[i].ctrl_se2)) {
			se2 += h->p[i].ctrl_se2;
			nse++;
		}
	}
	if (m < 3)
		goto out;
	mid = cdm_median_select(c, m);
	for (i = 0; i < m; i++)
		c[i] = fabs(c[i] - mid);
	h->ctrl_spread = 1.4826 * cdm_median_select(c, m);
	h->ctrl_noise = nse ? sqrt(se2 / nse) : 0;
	/* iteration by iteration where every run pairs, as compare does */
	for (i = 0; i < h->n; i++)
		if (!isnan(h->p[i].median) && isnan(h->p[i].paired))
			paired = false;
	if (!(h->ctrl_spread > 2 * h->ctrl_noise) &&
	    !(paired && h->pairs_share))
		goto convert;
	h->normalized = true;
	h->ctrl_slope = b = hist_slope(h, orient);
	for (i = 0; i < h->n; i++) {
		double dc;

		if (isnan(h->p[i].median))
			continue;
		dc = orient * (log(h->p[i].ctrl) - mid);
		if (paired)
			h->p[i].level = exp(h->p[i].paired + orient * mid -
					    (b - 1) * dc);
		else
			h->p[i].level = h->p[i].median * exp(-b * dc);
	}
convert:
	h->ctrl_spread = 100 * expm1(h->ctrl_spread);
	h->ctrl_noise = 100 * expm1(h->ctrl_noise);
out:
	free(c);
}

void cdm_history_steps(struct hist *h, double alpha, double min_rel)
{
	struct cdm_step *s;
	double *y;
	size_t *at, i, m = 0, n;

	free(h->steps);
	h->steps = NULL;
	h->nsteps = 0;
	normalize_levels(h);
	y = xmalloc((h->n ? h->n : 1) * sizeof(*y));
	at = xmalloc((h->n ? h->n : 1) * sizeof(*at));
	/* runs without a finite sample are shown, but carry no level */
	for (i = 0; i < h->n; i++) {
		if (isnan(h->p[i].level))
			continue;
		at[m] = i;
		y[m++] = h->p[i].level;
	}
	s = xmalloc((m ? m : 1) * sizeof(*s));
	n = cdm_changepoints(y, m, alpha, min_rel, s, m);
	h->steps = xcalloc(n ? n : 1, sizeof(*h->steps));
	for (i = 0; i < n; i++) {
		struct hist_step *t = &h->steps[i];

		t->index = at[s[i].index];
		t->before = s[i].before;
		t->after = s[i].after;
		t->change = 100 * (s[i].after / s[i].before - 1);
		t->regression = h->higher_better ? t->after < t->before :
			t->after > t->before;
	}
	h->nsteps = n;
	free(s);
	free(y);
	free(at);
}

void cdm_history_free(struct hist *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free_point(&h->p[i]);
	free(h->p);
	free(h->unit);
	free(h->steps);
	memset(h, 0, sizeof(*h));
}

/* a name that matches no case: suggest the nearest one */
static int unknown_case(struct cdm_db *d, const char *name)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT DISTINCT name FROM cases ORDER BY name LIMIT 5000");
	const char **names = NULL, *hint;
	size_t n = 0, i;

	while (st && db_step(d, st) == SQLITE_ROW) {
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(col_text(st, 0));
	}
	sqlite3_finalize(st);
	hint = nearest_name(name, names, n);
	cdm_err("history: no case named '%s' in %s%s%s%s", name, d->path,
		hint ? " (did you mean '" : " (see 'cdmbench show RUN')",
		hint ? hint : "", hint ? "'?)" : "");
	for (i = 0; i < n; i++)
		free((char *)names[i]);
	free(names);
	return -1;
}

int cdm_history_check(struct cdm_db *d, const char *name, const char *metric)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT (SELECT count(*) FROM cases WHERE name = ?1), (SELECT group_concat(n, ', ') FROM (SELECT DISTINCT m.name AS n FROM cases c JOIN metrics m ON m.case_id = c.id WHERE c.name = ?1 ORDER BY m.name)), (SELECT count(*) FROM cases c JOIN metrics m ON m.case_id = c.id WHERE c.name = ?1 AND m.name = ?2)");
	int r = -1;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, metric, -1, SQLITE_STATIC);
	if (db_step(d, st) == SQLITE_ROW) {
		if (!sqlite3_column_int(st, 0))
			r = unknown_case(d, name);
		else if (!sqlite3_column_int(st, 2))
			r = cdm_err("history: case '%s' has no metric '%s' (it has: %s)",
				    name, metric, *col_text(st, 1) ?
				    col_text(st, 1) : "none");
		else
			r = 0;
	}
	sqlite3_finalize(st);
	return r;
}
