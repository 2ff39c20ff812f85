// SPDX-License-Identifier: GPL-2.0
/*
 * The comparison engine behind `compare` and the report's baseline
 * section. Cases are matched across runs by what they measured (workload,
 * every identity parameter, backend, device type), never by position, so
 * adding a case to a job does not shift the rest. Samples are read one
 * metric at a time, so memory stays at two metrics' samples however large
 * the runs are.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/controls.h"
#include "analysis/pairs.h"
#include "stats/cstats.h"
#include "stats/drift.h"
#include "stats/stats.h"

void cmp_opts_default(struct cmp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->threshold = 5;
	o->alpha = 0.05;
	o->reps = 2000;
}

const char *cmp_mark_name(enum cmp_mark m)
{
	static const char *const names[] = {
		[CMP_SAME] = "same", [CMP_BETTER] = "better",
		[CMP_WORSE] = "worse", [CMP_IMPROVEMENT] = "improvement",
		[CMP_REGRESSION] = "regression",
	};

	return names[m];
}

/* --- cases, grouped by identity and name, pooled over a side's runs --- */

struct group {
	char *key;		/* identity, then name */
	char *identity;
	char *match_key;	/* as stored, for the case's history */
	struct cmp_case c;
	int verdict_rank;
	int64_t *ids;
	size_t nids;
	long match;		/* index on the other side, or -1 */
};

struct groups {
	struct group *g;
	size_t n;
	size_t *slot;		/* open addressing over key, n + 1 based */
	size_t nslot;
};

static size_t *slot_of(struct groups *gs, const char *key)
{
	size_t h = hash_str(0, key) & (gs->nslot - 1);

	while (gs->slot[h] && strcmp(gs->g[gs->slot[h] - 1].key, key))
		h = (h + 1) & (gs->nslot - 1);
	return &gs->slot[h];
}

static void rehash(struct groups *gs)
{
	size_t i;

	free(gs->slot);
	gs->nslot = gs->nslot ? gs->nslot * 2 : 64;
	gs->slot = xcalloc(gs->nslot, sizeof(*gs->slot));
	for (i = 0; i < gs->n; i++)
		*slot_of(gs, gs->g[i].key) = i + 1;
}

static struct group *group_get(struct groups *gs, const char *identity,
			       const char *name)
{
	char *key = xasprintf("%s\x1e%s", identity, name);
	size_t *slot;
	struct group *g;

	if (2 * (gs->n + 1) > gs->nslot)
		rehash(gs);
	slot = slot_of(gs, key);
	if (*slot) {
		free(key);
		return &gs->g[*slot - 1];
	}
	gs->g = xrealloc(gs->g, (gs->n + 1) * sizeof(*gs->g));
	g = &gs->g[gs->n++];
	memset(g, 0, sizeof(*g));
	g->key = key;
	g->identity = xstrdup(identity);
	g->match = -1;
	*slot = gs->n;
	return g;
}

static void group_add_case(struct group *g, sqlite3_stmt *st)
{
	int rank = cdm_verdict_rank(cdm_verdict_parse(col_text(st, 6)));

	if (!g->nids) {
		g->c.name = xstrdup(col_text(st, 1));
		g->c.workload = xstrdup(col_text(st, 2));
		g->c.backend = xstrdup(col_text(st, 3));
		g->c.device_type = xstrdup(col_text(st, 4));
		g->c.params = xstrdup(col_text(st, 5));
		g->match_key = xstrdup(col_text(st, 9));
	}
	if (!g->nids || rank > g->verdict_rank) {
		free(g->c.verdict[0]);
		free(g->c.reason[0]);
		g->c.verdict[0] = xstrdup(col_text(st, 6));
		g->c.reason[0] = xstrdup(col_text(st, 7));
		g->verdict_rank = rank;
	}
	g->ids = xrealloc(g->ids, (g->nids + 1) * sizeof(*g->ids));
	g->ids[g->nids++] = sqlite3_column_int64(st, 0);
}

static char *identity_sql(const struct cmp_opts *o)
{
	struct sbuf sb;
	int i;

	sb_init(&sb);
	if (!o->nignore)
		sb_adds(&sb, "c.match_key");
	else {
		sb_adds(&sb, "json_remove(c.match_key");
		for (i = 0; i < o->nignore; i++)
			sb_adds(&sb, ", ?");
		sb_adds(&sb, ")");
	}
	return sb_detach(&sb);
}

static int load_groups(struct cdm_db *d, const struct cdm_runset *s,
		       const struct cmp_opts *o, struct groups *gs)
{
	char *idsql = identity_sql(o);
	char *sql = xasprintf("SELECT c.id, c.name, c.workload, c.backend, c.device_type, c.params, c.verdict, c.reason, %s, c.match_key FROM cases c WHERE c.run_id = ? ORDER BY c.seq",
			      idsql);
	sqlite3_stmt *st = db_prepare(d, sql);
	size_t i;
	int k, r = SQLITE_DONE;

	free(idsql);
	free(sql);
	if (!st)
		return -1;
	for (i = 0; i < s->nruns && r == SQLITE_DONE; i++) {
		sqlite3_reset(st);
		for (k = 0; k < o->nignore; k++) {
			char *path = xasprintf("$.\"%s\"", o->ignore[k]);

			sqlite3_bind_text(st, k + 1, path, -1, SQLITE_TRANSIENT);
			free(path);
		}
		sqlite3_bind_int64(st, o->nignore + 1, s->runs[i]);
		while ((r = db_step(d, st)) == SQLITE_ROW) {
			char *id = xasprintf("%s\x1f%s\x1f%s", col_text(st, 8),
					     col_text(st, 3), col_text(st, 4));

			group_add_case(group_get(gs, id, col_text(st, 1)), st);
			free(id);
		}
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

static void cmp_case_free(struct cmp_case *c)
{
	int s;

	free(c->name);
	free(c->workload);
	free(c->backend);
	free(c->device_type);
	free(c->params);
	for (s = 0; s < 2; s++) {
		free(c->verdict[s]);
		free(c->reason[s]);
	}
}

static void groups_free(struct groups *gs)
{
	size_t i;

	for (i = 0; i < gs->n; i++) {
		struct group *g = &gs->g[i];

		free(g->key);
		free(g->identity);
		free(g->match_key);
		free(g->ids);
		cmp_case_free(&g->c);
	}
	free(gs->g);
	free(gs->slot);
}

/*
 * Same identity and name first; then what is left pairs up by identity
 * alone, in job order, so a renamed section still matches.
 */
static void match_groups(struct groups *b, struct groups *c)
{
	size_t i, j;

	for (i = 0; i < b->n; i++) {
		size_t *slot = slot_of(c, b->g[i].key);

		if (*slot) {
			b->g[i].match = *slot - 1;
			c->g[*slot - 1].match = i;
		}
	}
	for (i = 0; i < b->n; i++) {
		if (b->g[i].match >= 0)
			continue;
		for (j = 0; j < c->n; j++) {
			if (c->g[j].match < 0 &&
			    !strcmp(b->g[i].identity, c->g[j].identity)) {
				b->g[i].match = j;
				c->g[j].match = i;
				break;
			}
		}
	}
}

/* --- metrics --- */

struct mref {
	char *name;
	char *unit;
	bool higher;
	int64_t *ids;
	size_t nids;
};

struct mlist {
	struct mref *m;
	size_t n;
};

static struct mref *mlist_get(struct mlist *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->m[i].name, name))
			return &l->m[i];
	return NULL;
}

static int load_metrics(struct cdm_db *d, sqlite3_stmt *st,
			const struct group *g, struct mlist *l)
{
	size_t i;
	int r = SQLITE_DONE;

	for (i = 0; i < g->nids && r == SQLITE_DONE; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, g->ids[i]);
		while ((r = db_step(d, st)) == SQLITE_ROW) {
			struct mref *m = mlist_get(l, col_text(st, 1));

			if (!m) {
				l->m = xrealloc(l->m, (l->n + 1) * sizeof(*m));
				m = &l->m[l->n++];
				memset(m, 0, sizeof(*m));
				m->name = xstrdup(col_text(st, 1));
				m->unit = xstrdup(col_text(st, 2));
				m->higher = !strcmp(col_text(st, 3), "higher");
			}
			m->ids = xrealloc(m->ids, (m->nids + 1) * sizeof(int64_t));
			m->ids[m->nids++] = sqlite3_column_int64(st, 0);
		}
	}
	return r == SQLITE_DONE ? 0 : -1;
}

static void mlist_free(struct mlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->m[i].name);
		free(l->m[i].unit);
		free(l->m[i].ids);
	}
	free(l->m);
	memset(l, 0, sizeof(*l));
}

/* --- samples and statistics --- */

#define FP_LEN 32	/* samples in a fingerprint */

struct dvec {
	double *v;
	size_t n;
	size_t cap;
	size_t nonfinite;
};

struct stmts {
	sqlite3_stmt *metrics;
	sqlite3_stmt *samples;
	sqlite3_stmt *count;
	sqlite3_stmt *history;
	sqlite3_stmt *median;
	sqlite3_stmt *runval;	/* a run's median with its control's */
	sqlite3_stmt *pairs;	/* a run's samples beside the control's */
	sqlite3_stmt *fprint;	/* a run's first samples, in order */
};

static int load_samples(struct cdm_db *d, struct stmts *s,
			const struct mref *m, struct dvec *v)
{
	size_t i, want = 0;
	int r = SQLITE_DONE;

	v->n = v->nonfinite = 0;
	for (i = 0; i < m->nids; i++) {
		sqlite3_reset(s->count);
		sqlite3_bind_int64(s->count, 1, m->ids[i]);
		if (db_step(d, s->count) == SQLITE_ROW)
			want += sqlite3_column_int64(s->count, 0);
	}
	/* sized once from the summaries (validated when the run was
	 * selected); never more than the limit, whatever a row says */
	if (want > (size_t)CDM_MAX_METRIC_SAMPLES)
		want = CDM_MAX_METRIC_SAMPLES;
	if (want > v->cap) {
		free(v->v);
		v->cap = want;
		v->v = xmalloc(v->cap * sizeof(double));
	}
	for (i = 0; i < m->nids && r == SQLITE_DONE; i++) {
		sqlite3_reset(s->samples);
		sqlite3_bind_int64(s->samples, 1, m->ids[i]);
		while ((r = db_step(d, s->samples)) == SQLITE_ROW) {
			bool null = sqlite3_column_type(s->samples, 0) ==
				    SQLITE_NULL;
			double x = sqlite3_column_double(s->samples, 0);

			if (null || !isfinite(x)) {
				v->nonfinite++;
				continue;
			}
			if (v->n == v->cap) {
				v->cap = v->cap ? 2 * v->cap : 1024;
				v->v = xrealloc(v->v, v->cap * sizeof(double));
			}
			v->v[v->n++] = x;
		}
	}
	return r == SQLITE_DONE ? 0 : -1;
}

static void side_stat(struct dvec *v, struct cmp_stat *s)
{
	s->n = v->n;
	s->nonfinite = v->nonfinite;
	s->median = s->noise = NAN;
	if (!v->n)
		return;
	cdm_sort_fast(v->v, v->n);
	s->median = cdm_median_sorted(v->v, v->n);
	s->noise = cdm_noise_pct(cdm_mad_sorted(v->v, v->n), s->median);
}

/*
 * Samples within one run are not independent draws of the run's
 * condition: buffer placement, page sizes, frequency and neighbours are
 * fixed for a run and change between runs, often by more than the samples
 * spread (stream on a shared VM: 2-5% within a run, 50% between runs).
 * So a change must also beat the spread between runs of one
 * configuration: the runs of each side, and other runs of the case in the
 * database on the same hosts that share kernel, command line, environment
 * and tags (A/A replicates, in effect). Groups never mix the two sides,
 * and configurations are never pooled, so a real step between kernels is
 * not mistaken for noise. The spread is the pooled standard deviation of
 * log medians within groups; it needs two degrees of freedom.
 */
#define NOISE_MIN_DF 2

#define AA_RECENT 64	/* runs per configuration kept for the A/A range */

struct ngroup {
	char *key;
	double mean, m2;
	int n;
	double recent[AA_RECENT];	/* the newest log medians, a ring */
};

static void ngroup_add(struct ngroup **g, size_t *ng, const char *key,
		       double y)
{
	struct ngroup *x = NULL;
	size_t i;
	double d;

	for (i = 0; i < *ng && !x; i++)
		if (!strcmp((*g)[i].key, key))
			x = &(*g)[i];
	if (!x) {
		*g = xrealloc(*g, (*ng + 1) * sizeof(**g));
		x = &(*g)[(*ng)++];
		memset(x, 0, sizeof(*x));
		x->key = xstrdup(key);
	}
	x->recent[x->n % AA_RECENT] = y;
	/* Welford: no cancellation however many runs */
	x->n++;
	d = y - x->mean;
	x->mean += d / x->n;
	x->m2 += d * (y - x->mean);
}

/*
 * What identical runs already showed: the 95th percentile of the
 * differences between two runs of one configuration (other than the
 * compared ones). Run-to-run noise is often bimodal (a run lands in one of
 * two cache or page-size states), which no standard deviation describes;
 * a one-run-against-one-run regression must be larger than this as well.
 */
#define AA_MIN_PAIRS 10

static double aa_range(const struct ngroup *g, size_t ng, int *pairs)
{
	double *d = NULL, q;
	size_t i, n = 0, cap = 0;
	int a, b, k;

	for (i = 0; i < ng; i++) {
		if (g[i].key[0] == '\x01')
			continue;
		k = g[i].n < AA_RECENT ? g[i].n : AA_RECENT;
		for (a = 0; a < k; a++)
			for (b = a + 1; b < k; b++) {
				if (n == cap) {
					cap = cap ? 2 * cap : 256;
					d = xrealloc(d, cap * sizeof(*d));
				}
				d[n++] = fabs(g[i].recent[a] - g[i].recent[b]);
			}
	}
	*pairs = n;
	if (n < AA_MIN_PAIRS) {
		free(d);
		return NAN;
	}
	cdm_sort_doubles(d, n);
	q = cdm_percentile_sorted(d, n, 95);
	free(d);
	return q;
}

static int side_of(const struct cmp_result *r, int64_t run)
{
	size_t i;
	int k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < r->side[k].nruns; i++)
			if (r->side[k].runs[i] == run)
				return k;
	return -1;
}

/*
 * The run-level test: the mean log median of the candidate's runs against
 * the base's, over the pooled spread of run medians (which already holds
 * each median's own sampling error, so nothing is added for it): a
 * two-sample t test at the level where the runs are the replicates.
 */
static void run_level_p(struct cmp_row *row, const struct ngroup *b,
			const struct ngroup *c)
{
	double d, se;

	row->p_runs = NAN;
	if (!b || !c || !row->noise_df)
		return;
	d = c->mean - b->mean;
	se = row->run_noise * sqrt(1.0 / b->n + 1.0 / c->n);
	row->p_runs = se > 0 ? cdm_t_p2(d / se, row->noise_df) :
		      d == 0 ? 1 : 0;
}

/* the medians of the compared cases themselves, one group per side */
static int side_medians(struct cdm_db *d, sqlite3_stmt *st,
			const struct mref *m, int side, struct ngroup **g,
			size_t *ng)
{
	char key[16];
	size_t i;
	int r = SQLITE_DONE;

	snprintf(key, sizeof(key), "\x01side %d", side);
	for (i = 0; i < m->nids && r != -1; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, m->ids[i]);
		r = db_step(d, st);
		if (r == SQLITE_ROW)
			ngroup_add(g, ng, key, log(sqlite3_column_double(st, 0)));
	}
	return r == -1 ? -1 : 0;
}

/* the history statement (history_query) for one metric of one case */
static void history_bind(sqlite3_stmt *st, const char *metric,
			 const char *match_key, const struct cmp_case *c)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, metric, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, match_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->backend, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->device_type, -1, SQLITE_STATIC);
}

/* other runs of the case, grouped by identity and configuration */
static int other_medians(struct cdm_db *d, sqlite3_stmt *st,
			 const struct cmp_result *res, const char *match_key,
			 const struct cmp_case *c, const char *metric,
			 struct ngroup **g, size_t *ng)
{
	int r;

	history_bind(st, metric, match_key, c);
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		char *key;

		if (side_of(res, sqlite3_column_int64(st, 1)) >= 0)
			continue;
		key = xasprintf("%s\x1f%s", match_key, col_text(st, 2));
		ngroup_add(g, ng, key, log(sqlite3_column_double(st, 0)));
		free(key);
	}
	return r == SQLITE_DONE ? 0 : -1;
}

static int run_noise(struct cdm_db *d, struct stmts *s,
		     const struct cmp_result *res, const struct group *gb,
		     const struct group *gc, const struct mref *m[2],
		     struct cmp_row *row)
{
	const struct cmp_case *c = &res->cases[res->ncases - 1];
	struct ngroup *g = NULL, *side[2] = { NULL, NULL };
	size_t ng = 0, i;
	double m2 = 0;
	int r, df = 0, runs = 0;

	row->run_noise = NAN;
	row->noise_runs = row->noise_df = 0;
	r = side_medians(d, s->median, m[0], 0, &g, &ng) ||
	    side_medians(d, s->median, m[1], 1, &g, &ng) ||
	    other_medians(d, s->history, res, gb->match_key, c, row->metric,
			  &g, &ng) ||
	    (strcmp(gb->match_key, gc->match_key) &&
	     other_medians(d, s->history, res, gc->match_key, c, row->metric,
			   &g, &ng));
	for (i = 0; i < ng; i++) {
		if (g[i].key[0] == '\x01')
			side[g[i].key[6] - '0'] = &g[i];
		if (g[i].n > 1) {
			m2 += g[i].m2;
			df += g[i].n - 1;
			runs += g[i].n;
		}
	}
	if (!r && df >= NOISE_MIN_DF) {
		row->run_noise = sqrt(m2 / df);
		row->noise_df = df;
		row->noise_runs = runs;
		run_level_p(row, side[0], side[1]);
	}
	row->aa_range = NAN;
	if (!r && res->side[0].nruns == 1 && res->side[1].nruns == 1)
		row->aa_range = aa_range(g, ng, &row->aa_pairs);
	for (i = 0; i < ng; i++)
		free(g[i].key);
	free(g);
	return r ? -1 : 0;
}

static void row_stats(struct cmp_row *row, struct dvec v[2], uint64_t seed,
		      int reps)
{
	struct cmp_stat *b = &row->s[0], *c = &row->s[1];
	struct cdm_mwu u;

	row->ratio = row->lo = row->hi = row->gain = NAN;
	row->p = row->q = row->p_samples = NAN;
	side_stat(&v[0], b);
	side_stat(&v[1], c);
	if (!b->n || !c->n) {
		row->note = xasprintf("no finite samples in the %s",
				      !b->n ? "base" : "candidate");
		return;
	}
	cdm_mann_whitney(v[0].v, v[0].n, v[1].v, v[1].n, &u);
	row->p = row->p_samples = u.p;
	row->exact = u.exact;
	if (b->median == 0 || (b->median < 0) != (c->median < 0)) {
		row->note = xstrdup("medians of zero or of opposite signs: no ratio");
		return;
	}
	row->ratio = c->median / b->median;
	row->gain = 100 * (row->higher_better ? row->ratio - 1 : 1 - row->ratio);
	cdm_ratio_ci(v[0].v, v[0].n, v[1].v, v[1].n, 0.95, reps, seed,
		     &row->lo, &row->hi);
}

static void add_only(struct cmp_result *r, int side, const char *name,
		     const char *what)
{
	struct cmp_only *o;

	r->only = xrealloc(r->only, (r->nonly + 1) * sizeof(*o));
	o = &r->only[r->nonly++];
	o->side = side;
	o->name = xstrdup(name);
	o->what = xstrdup(what);
}

static void add_unmatched(struct cmp_result *r, struct groups *gs, int side)
{
	size_t i;

	for (i = 0; i < gs->n; i++) {
		const struct cmp_case *c = &gs->g[i].c;
		char *what;

		if (gs->g[i].match >= 0)
			continue;
		what = xasprintf("%s %s/%s", c->workload, c->backend,
				 c->device_type);
		add_only(r, side, c->name, what);
		free(what);
	}
}

static struct cmp_row *new_row(struct cmp_result *r, size_t group,
			       const struct mref *m)
{
	struct cmp_row *row;

	r->rows = xrealloc(r->rows, (r->nrows + 1) * sizeof(*row));
	row = &r->rows[r->nrows++];
	memset(row, 0, sizeof(*row));
	row->group = group;
	row->metric = xstrdup(m->name);
	row->unit = xstrdup(m->unit);
	row->higher_better = m->higher;
	row->p_runs = row->run_noise = row->aa_range = NAN;
	row->raw_ratio = row->raw_gain = row->mde = NAN;
	row->ctrl_change = row->ctrl_spread = row->ctrl_slope = NAN;
	return row;
}

/* --- drift: the in-run control --- */

/*
 * The controls of a case (analysis/controls.h): for each kind, the name
 * both sides have, the workload's own before the harness's, or NULL.
 */
static void find_controls(struct mlist l[2],
			  const struct mref *c[CDM_CONTROL_KINDS])
{
	int k, j;

	for (k = 0; k < CDM_CONTROL_KINDS; k++) {
		c[k] = NULL;
		for (j = 0; j < 2 && !c[k]; j++)
			if (mlist_get(&l[1], cdm_controls[k][j]))
				c[k] = mlist_get(&l[0], cdm_controls[k][j]);
	}
}

/* the first kind after `after` the case has a control of, or -1 */
static int next_control(const struct mref *const c[CDM_CONTROL_KINDS],
			int after)
{
	int k;

	for (k = after + 1; k < CDM_CONTROL_KINDS; k++)
		if (c[k])
			return k;
	return -1;
}

struct runvals {
	double *y, *c, *yn;
	size_t n;
	struct pair_spread sp;	/* inside runs, over the runs with pairs */
	double se2;		/* sum of the control's sampling variances */
	size_t nse;
};

/* one side's per-run log medians of the metric and of the control */
static int load_runvals(struct cdm_db *d, struct stmts *s,
			const struct mref *m, const char *control, int orient,
			struct runvals *v)
{
	sqlite3_stmt *st = s->runval;
	size_t i;
	int r;

	v->y = xcalloc(m->nids + 1, sizeof(double));
	v->c = xcalloc(m->nids + 1, sizeof(double));
	v->yn = xcalloc(m->nids + 1, sizeof(double));
	v->n = m->nids;
	for (i = 0; i < m->nids; i++) {
		double med, cm, mad;
		int64_t ny, nc;
		int n;

		v->y[i] = v->c[i] = v->yn[i] = NAN;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, m->ids[i]);
		sqlite3_bind_text(st, 2, control ? control : "", -1,
				  SQLITE_STATIC);
		r = db_step(d, st);
		if (r < 0)
			return -1;
		if (r != SQLITE_ROW)
			continue;
		med = sqlite3_column_double(st, 0);
		cm = sqlite3_column_double(st, 1);
		mad = sqlite3_column_double(st, 2);
		n = sqlite3_column_int(st, 3);
		ny = sqlite3_column_int64(st, 4);
		nc = sqlite3_column_int64(st, 5);
		if (sqlite3_column_type(st, 0) != SQLITE_NULL && med > 0)
			v->y[i] = log(med);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL && cm > 0) {
			v->c[i] = log(cm);
			/* variance of a log median: (1.4826 MAD/med)^2 pi/2n */
			if (n > 0) {
				double sd = 1.4826 * mad / cm;

				v->se2 += sd * sd * M_PI / (2.0 * n);
				v->nse++;
			}
			v->yn[i] = cdm_paired_log(d, s->pairs, m->ids[i],
						  sqlite3_column_int64(st, 6),
						  orient, ny, nc, &v->sp);
		}
	}
	return 0;
}

/* a run's log medians of a metric, outside the compared sides */
struct opoint {
	int64_t run;
	char *key;		/* its configuration */
	double v;
	int64_t id, count;	/* the metric row, its samples */
};

static int other_points(struct cdm_db *d, sqlite3_stmt *st,
			const struct cmp_result *res, const char *match_key,
			const char *metric, struct opoint **p, size_t *np)
{
	const struct cmp_case *c = &res->cases[res->ncases - 1];
	int r;

	history_bind(st, metric, match_key, c);
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		int64_t run = sqlite3_column_int64(st, 1);

		if (side_of(res, run) >= 0)
			continue;
		*p = xrealloc(*p, (*np + 1) * sizeof(**p));
		(*p)[*np].run = run;
		/* without tags: per-run tags (vm ab's ab-pair) would leave
		 * every set one run, and the slope is the host's */
		(*p)[*np].key = xstrdup(col_text(st, 3));
		(*p)[*np].id = sqlite3_column_int64(st, 4);
		(*p)[*np].count = sqlite3_column_int64(st, 5);
		(*p)[(*np)++].v = log(sqlite3_column_double(st, 0));
	}
	return r == SQLITE_DONE ? 0 : -1;
}

/*
 * Co-moments of one configuration's runs (Welford): x the control's log
 * median (oriented), y the metric's, z its paired value (pairs.h)
 */
struct cogroup {
	const char *key;
	int n;
	double mx, my, mz, sxx, sxy, syy, szz, sxz;
};

static void cogroup_add(struct cogroup *g, double x, double y, double z)
{
	double dx = x - g->mx, dy = y - g->my, dz = z - g->mz;

	g->n++;
	g->mx += dx / g->n;
	g->my += dy / g->n;
	g->mz += dz / g->n;
	g->sxx += dx * (x - g->mx);
	g->syy += dy * (y - g->my);
	g->sxy += dx * (y - g->my);
	g->szz += dz * (z - g->mz);
	g->sxz += dx * (z - g->mz);
}

/* one other run: its set, control (oriented), metric and paired value */
struct xpt {
	size_t g;
	double x, y, z;
	bool out;		/* a gross outlier, left out */
};

static void sum_sets(const struct xpt *p, size_t np, struct cogroup *cg,
		     size_t ng)
{
	size_t i;

	for (i = 0; i < ng; i++) {
		const char *key = cg[i].key;

		memset(&cg[i], 0, sizeof(cg[i]));
		cg[i].key = key;
	}
	for (i = 0; i < np; i++)
		if (!p[i].out)
			cogroup_add(&cg[p[i].g], p[i].x, p[i].y, p[i].z);
}

/*
 * Runs whose normalized value sits DRIFT_OUTLIER_SD robust SDs from their
 * set's mean are left out (a private to_sys 3.5x slower in one run of 60
 * under TCG, its to_dev and memcpy as usual, once tripled the spread every
 * comparison of that database saw). The robust SD (MAD) goes to the
 * caller, which holds the compared runs to the same rule.
 */
static void drop_outliers(struct xpt *p, size_t np, struct cogroup *cg,
			  size_t ng, struct drift_in *in)
{
	double sxx = 0, sxy = 0, b = 1, *r = xcalloc(np + 1, sizeof(double));
	size_t i, m = 0;

	for (i = 0; i < ng; i++) {
		sxx += cg[i].n > 1 ? cg[i].sxx : 0;
		sxy += cg[i].n > 1 ? cg[i].sxy : 0;
	}
	if (sxx > 0)
		b = fmin(fmax(sxy / sxx, 0), 3);
	for (i = 0; i < np; i++) {
		const struct cogroup *g = &cg[p[i].g];

		if (g->n > 1)
			r[m++] = fabs(p[i].z - (b - 1) * p[i].x -
				      (g->mz - (b - 1) * g->mx));
	}
	if (m >= 5) {
		in->ext_robust_sd = 1.4826 * cdm_median_select(r, m);
		for (i = 0; i < np; i++) {
			const struct cogroup *g = &cg[p[i].g];
			double dev = fabs(p[i].z - (b - 1) * p[i].x -
					  (g->mz - (b - 1) * g->mx));

			if (g->n > 1 && dev > DRIFT_OUTLIER_SD *
					      in->ext_robust_sd) {
				p[i].out = true;
				in->ext_dropped++;
			}
		}
	}
	free(r);
}

/*
 * What other runs of the case say about the metric's slope on its
 * control (see stats/drift.h): their run medians, centred inside each
 * kernel, command line, environment and host, so neither a kernel's level
 * nor the sides' difference enters. Both sides' match keys, as for the
 * run noise.
 */
static int other_slope(struct cdm_db *d, struct stmts *s,
		       const struct cmp_result *res, const struct group *g[2],
		       const char *metric, const char *control,
		       struct drift_in *in)
{
	struct opoint *y = NULL, *c = NULL;
	struct cogroup *cg = NULL;
	struct xpt *p = NULL;
	size_t ny = 0, nc = 0, ng = 0, np = 0, i, j, k;
	int rc = 0;

	for (k = 0; k < 2 && !rc; k++) {
		if (k && !strcmp(g[0]->match_key, g[1]->match_key))
			break;
		rc = other_points(d, s->history, res, g[k]->match_key, metric,
				  &y, &ny) ||
		     other_points(d, s->history, res, g[k]->match_key,
				  control, &c, &nc);
	}
	for (i = 0; i < ny && !rc; i++) {
		double z;

		for (j = 0; j < nc && c[j].run != y[i].run; j++)
			;
		if (j == nc)
			continue;
		for (k = 0; k < ng && strcmp(cg[k].key, y[i].key); k++)
			;
		if (k == ng) {
			cg = xrealloc(cg, (ng + 1) * sizeof(*cg));
			memset(&cg[ng], 0, sizeof(*cg));
			cg[ng++].key = y[i].key;
		}
		z = cdm_paired_log(d, s->pairs, y[i].id, c[j].id, in->orient,
				   y[i].count, c[j].count, NULL);
		if (isnan(z))
			z = y[i].v - in->orient * c[j].v;
		p = xrealloc(p, (np + 1) * sizeof(*p));
		p[np++] = (struct xpt){ k, in->orient * c[j].v, y[i].v, z,
					false };
	}
	sum_sets(p, np, cg, ng);
	drop_outliers(p, np, cg, ng, in);
	sum_sets(p, np, cg, ng);
	for (k = 0; k < ng && !rc; k++) {
		if (cg[k].n < 2)
			continue;
		in->ext_sxx += cg[k].sxx;
		in->ext_sxy += cg[k].sxy;
		in->ext_syy += cg[k].syy;
		in->ext_szz += cg[k].szz;
		in->ext_sxz += cg[k].sxz;
		in->ext_slope_df += cg[k].n - 1;
	}
	for (i = 0; i < ny; i++)
		free(y[i].key);
	for (i = 0; i < nc; i++)
		free(c[i].key);
	free(y);
	free(c);
	free(cg);
	free(p);
	return rc ? -1 : 0;
}

static void runvals_free(struct runvals *v)
{
	free(v->y);
	free(v->c);
	free(v->yn);
}

static int count_finite(const double *v, size_t n)
{
	int k = 0;

	while (n--)
		k += isfinite(v[n]);
	return k;
}

/*
 * The change at the level of runs, raw and normalized by the control,
 * and the verdict's basis: normalized when the control moved beyond its
 * own noise (see stats/drift.h).
 */
static int drift_row(struct cdm_db *d, struct stmts *s,
		     const struct cmp_result *r, const struct group *g[2],
		     const struct mref *m[2], const struct mref *ctrl,
		     struct cmp_row *row)
{
	const char *cname = ctrl ? ctrl->name : NULL;
	struct runvals v[2] = { { 0 } };
	struct drift_in in = { 0 };
	struct drift_out out;
	int k, rc = -1;

	row->raw_ratio = row->ratio;
	row->raw_gain = row->gain;
	row->mde = row->ctrl_change = row->ctrl_spread = NAN;
	row->ctrl_slope = NAN;
	row->slope_df = 0;
	row->basis_why = r->opts.raw ? "--raw" :
			 cdm_is_control(m[0]->name) ? "the last control, compared raw" :
			 "no control in this case";
	/* +1 when both are times or both rates */
	in.orient = m[0]->higher ? 1 : -1;
	if (cname)
		in.orient *= ctrl->higher ? 1 : -1;
	for (k = 0; k < 2; k++)
		if (load_runvals(d, s, m[k], cname, in.orient, &v[k]))
			goto out;
	for (k = 0; k < 2; k++) {
		in.s[k].y = v[k].y;
		in.s[k].c = cname && !r->opts.raw ? v[k].c : NULL;
		in.s[k].yn = v[k].yn;
		in.s[k].n = v[k].n;
		row->runs[k] = count_finite(v[k].y, v[k].n);
	}
	if (v[0].sp.runs + v[1].sp.runs) {
		size_t np = v[0].sp.runs + v[1].sp.runs;

		in.y_var = (v[0].sp.y_var + v[1].sp.y_var) / np;
		in.pair_var = (v[0].sp.pair_var + v[1].sp.pair_var) / np;
	}
	in.c_se2 = v[0].nse + v[1].nse ?
		   (v[0].se2 + v[1].se2) / (v[0].nse + v[1].nse) : 0;
	if (row->noise_df >= 2) {
		in.ext_var = row->run_noise * row->run_noise;
		in.ext_df = row->noise_df;
	}
	in.alpha = r->opts.alpha;
	if (cname && !r->opts.raw &&
	    other_slope(d, s, r, g, m[0]->name, cname, &in))
		goto out;
	cdm_drift_compare(&in, &out);
	if (cname && !r->opts.raw) {
		row->control = xstrdup(cname);
		row->basis_why = out.why;
		row->ctrl_change = 100 * expm1(out.ctrl.d);
		row->ctrl_spread = 100 * expm1(out.ctrl_spread);
		row->ctrl_slope = out.slope;
		row->slope_df = out.slope_df;
		row->outliers = out.dropped[0] + out.dropped[1];
		row->other_outliers = in.ext_dropped;
	}
	row->mde = 100 * expm1(out.mde);
	if (out.normalized && !isnan(row->gain)) {
		row->normalized = true;
		row->ratio = exp(out.norm.d);
		row->lo = exp(out.norm.lo);
		row->hi = exp(out.norm.hi);
		row->gain = 100 * (row->higher_better ? row->ratio - 1 :
				   1 - row->ratio);
		row->p_runs = out.norm.p;
		row->p = row->p_runs;
	}
	/*
	 * Whether the kernel changed a control is asked in units of the next
	 * kind even where its verdict is raw: a host that moved the whole
	 * case between the sides moves refault and copy alike, which is not
	 * the kernel changing the refault.
	 */
	row->p_moved = cname && !r->opts.raw && !isnan(out.norm.p) ?
		       out.norm.p : row->p;
	{
		const struct drift_test *t = row->normalized ? &out.norm :
					     &out.raw;

		row->mod_d = t->d;
		row->mod_var = t->var;
		row->mod_df = t->df;
		row->mod_k = t->var > 0 ? t->se * t->se / t->var : NAN;
		row->mod_own = row->normalized ? in.ext_slope_df < 2 :
			       row->noise_runs == row->runs[0] + row->runs[1];
	}
	rc = 0;
out:
	runvals_free(&v[0]);
	runvals_free(&v[1]);
	return rc;
}

/*
 * One measurement in several units (a time as GB/s, ns per page and us
 * per call) moves sample by sample in lockstep: their log samples are
 * perfectly correlated. A fingerprint is the first FP_LEN log samples of
 * the first base run, centred and scaled; two metrics with fingerprints
 * of |dot product| ~ 1 are one measurement.
 */
struct fprint {
	double v[FP_LEN];
	int n;
};

static int load_fprint(struct cdm_db *d, sqlite3_stmt *st, int64_t id,
		       struct fprint *f)
{
	double mean = 0, norm = 0;
	int r, i;

	f->n = 0;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, id);
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		double x = sqlite3_column_double(st, 0);

		if (sqlite3_column_type(st, 0) == SQLITE_NULL || !(x > 0)) {
			f->n = 0;	/* not comparable: no fingerprint */
			break;
		}
		f->v[f->n++] = log(x);
	}
	if (r < 0)
		return -1;
	for (i = 0; i < f->n; i++)
		mean += f->v[i] / f->n;
	for (i = 0; i < f->n; i++) {
		f->v[i] -= mean;
		norm += f->v[i] * f->v[i];
	}
	/* constant or too short: nothing to recognize it by */
	if (f->n < 3 || !(norm > 1e-18)) {
		f->n = 0;
		return 0;
	}
	for (i = 0; i < f->n; i++)
		f->v[i] /= sqrt(norm);
	return 0;
}

static bool same_measurement(const struct fprint *a, const struct fprint *b)
{
	double dot = 0;
	int i;

	if (!a->n || a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		dot += a->v[i] * b->v[i];
	return fabs(dot) > 1 - 1e-6;
}

/* rows first..last of one case: each joins an earlier row it repeats */
static void group_measurements(struct cmp_result *r, size_t first,
			       const struct fprint *fp)
{
	size_t i, j;

	for (i = first; i < r->nrows; i++) {
		struct cmp_row *row = &r->rows[i];

		row->measure = i;
		for (j = first; j < i; j++) {
			struct cmp_row *head = &r->rows[j];
			char *a;

			if (head->measure != j ||
			    !same_measurement(&fp[j - first], &fp[i - first]))
				continue;
			row->measure = j;
			a = xasprintf("%s%s%s", head->aliases ? head->aliases : "",
				      head->aliases ? ", " : "", row->metric);
			free(head->aliases);
			head->aliases = a;
			break;
		}
	}
}

/* a row waiting for its control (drift_rows) */
struct pending {
	size_t row;
	const struct mref *m[2];
};

/* p below which a control counts as changed between the sides */
#define CTRL_MOVED_P 0.05

/*
 * Each row against its control. The controls go first, the last kind
 * raw and each other in units of the kind after it (a refault in units
 * of the copy). Then the case's other metrics, against the first control
 * that did not itself change between the sides: one that did may have
 * been changed by the kernel, as what it controls was, and dividing by
 * it would hide the change (analysis/controls.h). The choice looks at the
 * controls only, never at the metric.
 */
static int drift_rows(struct cdm_db *d, struct stmts *s,
		      struct cmp_result *r, const struct group *g[2],
		      const struct mref *const ctl[CDM_CONTROL_KINDS],
		      struct pending *pd, size_t npd)
{
	bool moved[CDM_CONTROL_KINDS] = { false };
	int pass, k, use, passed;
	size_t i;

	for (pass = CDM_CONTROL_KINDS - 1; pass >= -1; pass--)
		for (i = 0; i < npd; i++) {
			struct cmp_row *row = &r->rows[pd[i].row];

			k = cdm_control_kind(row->metric);
			if (k != pass)
				continue;
			passed = -1;
			use = next_control(ctl, k);
			while (k < 0 && use >= 0 && moved[use] &&
			       next_control(ctl, use) >= 0) {
				passed = use;
				use = next_control(ctl, use);
			}
			if (drift_row(d, s, r, g, pd[i].m,
				      use >= 0 ? ctl[use] : NULL, row))
				return -1;
			if (passed >= 0 && row->control)
				row->ctrl_passed = xstrdup(ctl[passed]->name);
			if (k >= 0)
				moved[k] = row->p_moved < CTRL_MOVED_P;
		}
	return 0;
}

/* every metric of one matched pair of cases */
static int compare_pair(struct cdm_db *d, struct stmts *s,
			struct cmp_result *r, const struct group *gb,
			const struct group *gc, struct dvec v[2])
{
	struct mlist l[2] = { { 0 } };
	size_t gi = r->ncases - 1, i, first = r->nrows;
	struct fprint *fp = NULL;
	const struct mref *ctl[CDM_CONTROL_KINDS];
	struct pending *pd = NULL;
	size_t npd = 0;
	int rc = -1;

	if (load_metrics(d, s->metrics, gb, &l[0]) ||
	    load_metrics(d, s->metrics, gc, &l[1]))
		goto out;
	find_controls(l, ctl);
	fp = xcalloc(l[0].n + 1, sizeof(*fp));
	pd = xcalloc(l[0].n + 1, sizeof(*pd));
	for (i = 0; i < l[0].n; i++) {
		const struct mref *mb = &l[0].m[i];
		const struct mref *mc = mlist_get(&l[1], mb->name);
		struct cmp_row *row;
		char *what;

		if (!mc) {
			what = xasprintf("%s:%s", r->cases[gi].name, mb->name);
			add_only(r, 0, what, "metric");
			free(what);
			continue;
		}
		row = new_row(r, gi, mb);
		if (load_fprint(d, s->fprint, mb->ids[0], &fp[r->nrows - 1 - first]))
			goto out;
		if (strcmp(mb->unit, mc->unit)) {
			row->ratio = row->lo = row->hi = row->p = row->q = NAN;
			row->gain = row->p_samples = row->p_runs = NAN;
			row->run_noise = row->s[0].noise = row->s[1].noise = NAN;
			row->s[0].median = row->s[1].median = NAN;
			row->note = xasprintf("units differ: %s in the base, %s in the candidate",
					      mb->unit, mc->unit);
			continue;
		}
		if (load_samples(d, s, mb, &v[0]) ||
		    load_samples(d, s, mc, &v[1]) ||
		    run_noise(d, s, r, gb, gc, (const struct mref *[2]){ mb, mc },
			      row))
			goto out;
		row_stats(row, v, hash_str(hash_str(0x5eed, gb->key), mb->name),
			  r->opts.reps);
		if (!isnan(row->p_runs))
			row->p = fmax(row->p_samples, row->p_runs);
		if (!row->note)
			pd[npd++] = (struct pending){ r->nrows - 1, { mb, mc } };
	}
	if (drift_rows(d, s, r, (const struct group *[2]){ gb, gc }, ctl, pd,
		       npd))
		goto out;
	group_measurements(r, first, fp);
	for (i = 0; i < l[1].n; i++) {
		char *what;

		if (mlist_get(&l[0], l[1].m[i].name))
			continue;
		what = xasprintf("%s:%s", gc->c.name, l[1].m[i].name);
		add_only(r, 1, what, "metric");
		free(what);
	}
	rc = 0;
out:
	free(fp);
	free(pd);
	mlist_free(&l[0]);
	mlist_free(&l[1]);
	return rc;
}

static void add_case(struct cmp_result *r, struct group *gb,
		     struct group *gc)
{
	struct cmp_case *c;

	r->cases = xrealloc(r->cases, (r->ncases + 1) * sizeof(*c));
	c = &r->cases[r->ncases++];
	/* take the base group's strings; the candidate lends its verdict */
	*c = gb->c;
	memset(&gb->c, 0, sizeof(gb->c));
	c->verdict[1] = gc->c.verdict[0];
	c->reason[1] = gc->c.reason[0];
	gc->c.verdict[0] = gc->c.reason[0] = NULL;
	c->broke = gb->verdict_rank == cdm_verdict_rank(CDM_PASS) &&
		   gc->verdict_rank >= cdm_verdict_rank(CDM_FAIL);
	r->broke += c->broke;
}

/*
 * Moderated variances (empirical Bayes, as limma's): with a few runs a
 * side, each measurement's between-run variance rests on 2-4 degrees of
 * freedom. The variances of all measurements of the comparison, whose
 * spread beyond what sampling explains says how alike they are, give a
 * prior (s0^2, d0); each variance is shrunk towards it and its test gains
 * d0 degrees of freedom (stats/drift.h). Only variances that come from
 * the compared runs alone take part: where other runs of one
 * configuration lent theirs, the test already has its degrees of freedom.
 */
static void moderate(struct cmp_result *r)
{
	double *var = xcalloc(r->nrows + 1, sizeof(double)), d0, s02;
	int *df = xcalloc(r->nrows + 1, sizeof(int));
	size_t i, g = 0;

	for (i = 0; i < r->nrows; i++) {
		struct cmp_row *row = &r->rows[i];

		row->mod_use = row->measure == i && row->mod_own &&
			       row->mod_df >= 2 && row->mod_var > 0 &&
			       isfinite(row->mod_d) && isfinite(row->mod_k);
		if (!row->mod_use)
			continue;
		var[g] = row->mod_var;
		df[g++] = row->mod_df;
	}
	r->mod_d0 = 0;
	r->mod_s0 = NAN;
	r->mod_n = 0;
	if (!r->opts.no_moderation && !cdm_moderate_prior(var, df, g, &d0, &s02)) {
		r->mod_d0 = d0;
		r->mod_s0 = sqrt(s02);
		r->mod_n = g;
	}
	free(var);
	free(df);
	if (!(r->mod_d0 > 0))
		return;
	for (i = 0; i < r->nrows; i++) {
		struct cmp_row *row = &r->rows[i];
		double v, se, p, q;
		int rdf;

		if (!row->mod_use)
			continue;
		v = cdm_moderated_var(row->mod_var, row->mod_df, d0, s02);
		rdf = (int)floor(row->mod_df + d0);
		se = sqrt(v * row->mod_k);
		p = se > 0 ? cdm_t_p2(row->mod_d / se, rdf) : 1;
		q = cdm_t_quantile2(0.05, rdf);
		row->p_runs = p;
		row->moderated = true;
		if (row->normalized) {
			row->p = p;
			row->lo = exp(row->mod_d - q * se);
			row->hi = exp(row->mod_d + q * se);
		} else {
			row->p = fmax(row->p_samples, p);
		}
		row->mde = 100 * expm1(cdm_mde(se, rdf, r->opts.alpha));
	}
	/* the other units of a measurement share its test */
	for (i = 0; i < r->nrows; i++)
		if (r->rows[i].measure != i)
			r->rows[i].moderated = r->rows[r->rows[i].measure].moderated;
}

/*
 * Benjamini-Hochberg over measurements: each measurement's first row
 * carries its test; the other units take its q and its verdict.
 */
static void judge(struct cmp_result *r)
{
	double *p = xmalloc((r->nrows ? r->nrows : 1) * sizeof(double));
	double *q = xmalloc((r->nrows ? r->nrows : 1) * sizeof(double));
	size_t *at = xmalloc((r->nrows ? r->nrows : 1) * sizeof(size_t));
	size_t i, m = 0;

	for (i = 0; i < r->nrows; i++) {
		if (r->rows[i].measure != i)
			continue;
		at[i] = m;
		p[m++] = r->rows[i].p;
	}
	r->measurements = m;
	r->blind = 0;
	cdm_bh_adjust(p, m, q);
	for (i = 0; i < r->nrows; i++) {
		struct cmp_row *row = &r->rows[i], *head;
		bool sig, beyond;

		if (row->measure != i) {
			head = &r->rows[row->measure];
			row->q = head->q;
			row->mark = head->mark;
			continue;
		}
		sig = q[at[i]] < r->opts.alpha && !isnan(row->gain);
		row->q = q[at[i]];
		row->mark = CMP_SAME;
		if (!sig) {
			/* NaN (too few runs) counts: nothing was visible */
			r->blind += !isnan(row->gain) &&
				    !(row->mde <= r->opts.threshold);
			continue;
		}
		/* within what identical runs showed: a change, not a verdict */
		beyond = isnan(row->aa_range) ||
			 fabs(log(row->ratio)) > row->aa_range;
		if (row->gain <= -r->opts.threshold && beyond)
			row->mark = CMP_REGRESSION;
		else if (row->gain >= r->opts.threshold && beyond)
			row->mark = CMP_IMPROVEMENT;
		else
			row->mark = row->gain < 0 ? CMP_WORSE : CMP_BETTER;
		r->regressions += row->mark == CMP_REGRESSION;
		r->improvements += row->mark == CMP_IMPROVEMENT;
	}
	free(p);
	free(q);
	free(at);
}

static const struct cmp_result *sort_res;

static int rank_of(const struct cmp_row *row)
{
	static const int rank[] = {
		[CMP_REGRESSION] = 0, [CMP_IMPROVEMENT] = 1, [CMP_WORSE] = 2,
		[CMP_BETTER] = 3, [CMP_SAME] = 4,
	};

	return rank[row->mark];
}

static int by_effect(const void *a, const void *b)
{
	const struct cmp_row *x = &sort_res->rows[*(const size_t *)a];
	const struct cmp_row *y = &sort_res->rows[*(const size_t *)b];
	double gx = isnan(x->gain) ? 0 : fabs(x->gain);
	double gy = isnan(y->gain) ? 0 : fabs(y->gain);

	if (rank_of(x) != rank_of(y))
		return rank_of(x) - rank_of(y);
	if (gx != gy)
		return gx < gy ? 1 : -1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

const char *cmp_tally(const struct cmp_result *r, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%d regression%s, %d improvement%s, %d case%s broke",
			 r->regressions, r->regressions == 1 ? "" : "s",
			 r->improvements, r->improvements == 1 ? "" : "s",
			 r->broke, r->broke == 1 ? "" : "s");

	if (r->blind && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n,
			 "; %zu unchanged measurement%s could not have shown a %g%% change (more runs a side would)",
			 r->blind, r->blind == 1 ? "" : "s", r->opts.threshold);
	return buf;
}

size_t *cmp_sorted_measurements(const struct cmp_result *r, size_t *n)
{
	size_t *v = xmalloc((r->nrows ? r->nrows : 1) * sizeof(size_t));
	size_t i;

	*n = 0;
	for (i = 0; i < r->nrows; i++)
		if (r->rows[i].measure == i)
			v[(*n)++] = i;
	sort_res = r;
	qsort(v, *n, sizeof(*v), by_effect);
	sort_res = NULL;
	return v;
}

/* this case's medians in completed runs on the hosts being compared,
 * each with its configuration */
static char *history_query(const struct cmp_result *r)
{
	struct sbuf sb;
	size_t i;
	int k;

	sb_init(&sb);
	sb_adds(&sb, "SELECT s.median, r.id, printf('%d|%s|%s|%d|%s', r.kernel_id, r.cmdline, r.environment, r.host_id, "
		"coalesce((SELECT group_concat(key || '=' || value, ',') FROM (SELECT key, value FROM run_tags t WHERE t.run_id = r.id ORDER BY key)), '')), "
		"printf('%d|%s|%s|%d', r.kernel_id, r.cmdline, r.environment, r.host_id), m.id, s.n + s.nonfinite "
		"FROM cases c JOIN runs r ON r.id = c.run_id JOIN metrics m ON m.case_id = c.id AND m.name = ?1 JOIN summaries s ON s.metric_id = m.id "
		"WHERE c.match_key = ?2 AND c.backend = ?3 AND c.device_type = ?4 AND r.status = 'completed' AND s.median > 0 AND r.host_id IN (SELECT host_id FROM runs WHERE id IN (");
	for (k = 0; k < 2; k++)
		for (i = 0; i < r->side[k].nruns; i++)
			sb_addf(&sb, "%s%lld", k || i ? ", " : "",
				(long long)r->side[k].runs[i]);
	sb_adds(&sb, ")) ORDER BY r.started_at, r.id");
	return sb_detach(&sb);
}

static int prepare(struct cdm_db *d, struct stmts *s, const char *history_sql)
{
	s->metrics = db_prepare(d, "SELECT id, name, unit, better FROM metrics WHERE case_id = ? ORDER BY id");
	s->samples = db_prepare(d, "SELECT value FROM samples WHERE metric_id = ?");
	s->count = db_prepare(d, "SELECT n + nonfinite FROM summaries WHERE metric_id = ?");
	s->history = db_prepare(d, history_sql);
	s->median = db_prepare(d, "SELECT median FROM summaries WHERE metric_id = ? AND median > 0");
	s->runval = db_prepare(d, "SELECT sm.median, sc.median, sc.mad, sc.n, sm.n + sm.nonfinite, sc.n + sc.nonfinite, k.id FROM summaries sm JOIN metrics m ON m.id = sm.metric_id "
			       "LEFT JOIN metrics k ON k.case_id = m.case_id AND k.name = ?2 LEFT JOIN summaries sc ON sc.metric_id = k.id WHERE sm.metric_id = ?1");
	s->pairs = db_prepare(d, PAIRS_SQL);
	s->fprint = db_prepare(d, "SELECT value FROM samples WHERE metric_id = ? ORDER BY seq LIMIT 32");	/* FP_LEN */
	return s->metrics && s->samples && s->count && s->history &&
	       s->median && s->runval && s->pairs && s->fprint ? 0 : -1;
}

static void finalize(struct stmts *s)
{
	sqlite3_finalize(s->metrics);
	sqlite3_finalize(s->samples);
	sqlite3_finalize(s->count);
	sqlite3_finalize(s->history);
	sqlite3_finalize(s->median);
	sqlite3_finalize(s->runval);
	sqlite3_finalize(s->pairs);
	sqlite3_finalize(s->fprint);
}

/* nothing to compare: say why in one line, naming the cases */
static int nothing_in_common(const struct cmp_result *r, struct groups gs[2])
{
	struct sbuf sb;
	size_t i;
	int s;

	sb_init(&sb);
	for (s = 0; s < 2; s++) {
		sb_adds(&sb, s ? "; candidate: " : "base: ");
		for (i = 0; i < gs[s].n && i < 8; i++)
			sb_addf(&sb, "%s%s", i ? ", " : "", gs[s].g[i].c.name);
		if (gs[s].n > 8)
			sb_addf(&sb, ", ... (%zu cases)", gs[s].n);
	}
	cdm_err("compare: base %s and candidate %s have no case in common (%s)",
		r->side[0].spec, r->side[1].spec, sb.buf);
	sb_free(&sb);
	return -1;
}

static int check_sides(struct cmp_result *r, struct groups gs[2])
{
	size_t i, j;
	int s;

	for (i = 0; i < r->side[0].nruns; i++)
		for (j = 0; j < r->side[1].nruns; j++)
			if (r->side[0].runs[i] == r->side[1].runs[j])
				return cdm_err("compare: run %lld is on both sides (base %s, candidate %s)",
					       (long long)r->side[0].runs[i],
					       r->side[0].spec, r->side[1].spec);
	for (s = 0; s < 2; s++)
		if (!gs[s].n)
			return cdm_err("compare: %s %s has no cases",
				       s ? "candidate" : "base",
				       r->side[s].spec);
	return 0;
}

static int run_compare(struct cdm_db *d, struct cmp_result *r,
		       struct groups gs[2])
{
	struct dvec v[2] = { { 0 } };
	struct stmts s = { 0 };
	char *history = NULL;
	size_t i;
	int rc = -1;

	if (load_groups(d, &r->side[0], &r->opts, &gs[0]) ||
	    load_groups(d, &r->side[1], &r->opts, &gs[1]) ||
	    check_sides(r, gs))
		return -1;
	match_groups(&gs[0], &gs[1]);
	add_unmatched(r, &gs[0], 0);
	add_unmatched(r, &gs[1], 1);
	if (r->nonly == gs[0].n + gs[1].n)
		return nothing_in_common(r, gs);
	history = history_query(r);
	if (prepare(d, &s, history))
		goto out;
	for (i = 0; i < gs[0].n; i++) {
		struct group *gb = &gs[0].g[i], *gc;

		if (gb->match < 0)
			continue;
		gc = &gs[1].g[gb->match];
		add_case(r, gb, gc);
		if (compare_pair(d, &s, r, gb, gc, v))
			goto out;
	}
	moderate(r);
	judge(r);
	rc = 0;
out:
	finalize(&s);
	free(history);
	free(v[0].v);
	free(v[1].v);
	return rc;
}

int cdm_compare(struct cdm_db *d, const char *base, const char *cand,
		const struct cmp_opts *o, struct cmp_result *r)
{
	struct groups gs[2] = { { 0 } };
	int rc;

	memset(r, 0, sizeof(*r));
	r->opts = *o;
	if (cdm_select_runs(d, base, o->latest, &r->side[0]) ||
	    cdm_select_runs(d, cand, o->latest, &r->side[1]))
		return -1;
	rc = run_compare(d, r, gs);
	groups_free(&gs[0]);
	groups_free(&gs[1]);
	return rc;
}

void cdm_compare_free(struct cmp_result *r)
{
	size_t i;
	int s;

	for (s = 0; s < 2; s++)
		cdm_runset_free(&r->side[s]);
	for (i = 0; i < r->ncases; i++)
		cmp_case_free(&r->cases[i]);
	free(r->cases);
	for (i = 0; i < r->nrows; i++) {
		free(r->rows[i].metric);
		free(r->rows[i].unit);
		free(r->rows[i].note);
		free(r->rows[i].aliases);
		free(r->rows[i].control);
		free(r->rows[i].ctrl_passed);
	}
	free(r->rows);
	for (i = 0; i < r->nonly; i++) {
		free(r->only[i].name);
		free(r->only[i].what);
	}
	free(r->only);
	memset(r, 0, sizeof(*r));
}
