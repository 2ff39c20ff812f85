// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench history CASE:METRIC`: a metric across runs in time order, and
 * the runs that introduced a step in its level (change-point detection on
 * per-run medians, see cdm_changepoints()). Reads only the summaries, so
 * a thousand runs cost one indexed query.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "analysis/compare.h"
#include "analysis/history.h"
#include "core/opt.h"

static char *history_sql(const struct hist_query *q, char ***binds,
			 int *nbinds)
{
	struct sbuf sb;

	sb_init(&sb);
	sb_adds(&sb, "SELECT r.id, substr(r.uuid, 1, 8), r.started_at, coalesce(k.release, '?'), coalesce(h.hostname, '?'), c.verdict, coalesce(s.n, 0), s.median, s.mad, c.match_key, c.backend, c.device_type, m.unit, m.better "
		"FROM cases c JOIN runs r ON r.id = c.run_id JOIN metrics m ON m.case_id = c.id AND m.name = ?1 "
		"LEFT JOIN summaries s ON s.metric_id = m.id LEFT JOIN kernels k ON k.id = r.kernel_id LEFT JOIN hosts h ON h.id = r.host_id "
		"WHERE r.status != 'running'");
	if (q->case_name)
		sb_adds(&sb, " AND c.name = ?2");
	else
		sb_adds(&sb, " AND c.match_key = ?2 AND c.backend = ?3 AND c.device_type = ?4");
	if (q->until_run)
		sb_adds(&sb, " AND (r.started_at, r.id) <= (SELECT started_at, id FROM runs WHERE id = ?5)");
	if (q->selector && cmp_selector_sql(q->selector, &sb, binds, nbinds)) {
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
	p->noise = p->median != 0 && !isnan(p->median) ?
		   100 * mad / fabs(p->median) : NAN;
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

int cdm_history_load(struct cdm_db *d, const struct hist_query *q,
		     struct hist *h)
{
	char **binds = NULL, **ident = NULL, *sql;
	size_t k, n = 0;
	int nb = 0, i, r = -1;
	sqlite3_stmt *st = NULL;

	memset(h, 0, sizeof(*h));
	sql = history_sql(q, &binds, &nb);
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
	/* the selector's plain '?'s come last, numbered after the others */
	for (i = 0; i < nb; i++)
		sqlite3_bind_text(st, sqlite3_bind_parameter_count(st) - nb + 1 + i,
				  binds[i], -1, SQLITE_STATIC);
	r = read_rows(d, st, h, &ident);
	n = h->n;
	if (!r && h->n)
		filter_points(h, ident, q->limit);
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

void cdm_history_steps(struct hist *h, double alpha, double min_rel)
{
	struct cdm_step *s;
	double *y;
	size_t *at, i, m = 0, n;

	free(h->steps);
	h->steps = NULL;
	h->nsteps = 0;
	y = xmalloc((h->n ? h->n : 1) * sizeof(*y));
	at = xmalloc((h->n ? h->n : 1) * sizeof(*at));
	/* runs without a finite sample are shown, but carry no level */
	for (i = 0; i < h->n; i++) {
		if (isnan(h->p[i].median))
			continue;
		at[m] = i;
		y[m++] = h->p[i].median;
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

/* --- the command --- */

struct history_args {
	const char *db;
	struct sbuf sel;	/* --tag selectors joined by commas */
	size_t limit;
	double min_step;
	double alpha;
	bool json;
	char *case_name;
	const char *metric;
};

static int parse_args(int argc, char **argv, struct history_args *a)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "tag", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'l' },
		{ "min-step", required_argument, NULL, 'm' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "output-format", required_argument, NULL, 'o' },
		{ 0 }
	};
	const char *colon;
	double v;
	int c;

	a->db = cli_default_db();
	a->min_step = 5;
	a->alpha = 0.05;
	while ((c = getopt_long(argc, argv, "t:o:", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->db = optarg;
			break;
		case 't':
			if (!strchr(optarg, '=') || *optarg == '=')
				return cdm_err("history: --tag %s: expected KEY=VALUE (kernel=, host=, env=, job= or a run tag)",
					       optarg);
			sb_addf(&a->sel, "%s%s", a->sel.len ? "," : "", optarg);
			break;
		case 'l':
			if (cdm_parse_number_arg("history", "--limit", optarg,
						 1, 1e9, &v))
				return -1;
			a->limit = v;
			break;
		case 'm':
			if (cdm_parse_number_arg("history", "--min-step",
						 optarg, 0, 1000,
						 &a->min_step))
				return -1;
			break;
		case 'a':
			if (cdm_parse_number_arg("history", "--alpha", optarg,
						 1e-12, 0.5, &a->alpha))
				return -1;
			break;
		case 'o':
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return cdm_err("history: --output-format %s: expected text or json",
					       optarg);
			a->json = !strcmp(optarg, "json");
			break;
		default:
			return cli_usage_error("history"), -1;
		}
	}
	if (argc - optind != 1)
		return cdm_err("history: expected one CASE:METRIC, e.g. 'stream[size=4M threads=1]:copy_bw'");
	colon = strrchr(argv[optind], ':');
	if (!colon || colon == argv[optind] || !colon[1])
		return cdm_err("history: '%s': expected CASE:METRIC, e.g. 'stream[size=4M threads=1]:copy_bw'",
			       argv[optind]);
	a->case_name = xasprintf("%.*s", (int)(colon - argv[optind]),
				 argv[optind]);
	a->metric = colon + 1;
	return 0;
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

/* the case exists, and has the metric; else say what it has */
static int check_names(struct cdm_db *d, const char *name, const char *metric)
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

static const struct hist_step *step_at(const struct hist *h, size_t i)
{
	size_t k;

	for (k = 0; k < h->nsteps; k++)
		if (h->steps[k].index == i)
			return &h->steps[k];
	return NULL;
}

static void print_text(const struct history_args *a, const struct hist *h)
{
	size_t i;

	printf("history of %s:%s (%s, %s is better): %zu run%s\n",
	       a->case_name, a->metric, h->unit,
	       h->higher_better ? "higher" : "lower", h->n, h->n == 1 ? "" : "s");
	if (h->other_params)
		printf("(%zu older run%s with a case of this name but other parameters, backend or device type left out)\n",
		       h->other_params, h->other_params == 1 ? "" : "s");
	printf("\n  %6s %-8s %-20s %-18s %-12s %-7s %8s %12s %7s\n", "run",
	       "uuid", "started (UTC)", "kernel", "host", "verdict", "n",
	       "median", "noise");
	for (i = 0; i < h->n; i++) {
		const struct hist_point *p = &h->p[i];
		const struct hist_step *s = step_at(h, i);
		char med[32], noise[16];

		snprintf(med, sizeof(med), isnan(p->median) ? "-" : "%.6g",
			 p->median);
		snprintf(noise, sizeof(noise), isnan(p->noise) ? "-" : "%.1f%%",
			 p->noise);
		printf("%s %6lld %-8s %-20.19s %-18.18s %-12.12s %-7s %8zu %12s %7s",
		       s ? ">" : " ", (long long)p->run_id, p->uuid,
		       p->started_at, p->kernel, p->host, p->verdict, p->n, med,
		       noise);
		if (s)
			printf("  step %+.1f%% %s", s->change,
			       s->regression ? "REGRESSION" : "improvement");
		putchar('\n');
	}
	printf("\n%zu step%s (median level shifts of at least %g%%, significant at %g):\n",
	       h->nsteps, h->nsteps == 1 ? "" : "s", a->min_step, a->alpha);
	for (i = 0; i < h->nsteps; i++) {
		const struct hist_step *s = &h->steps[i];
		const struct hist_point *p = &h->p[s->index];

		printf("  run %lld (%s, kernel %s, %s) introduced %s: %.6g -> %.6g %s (%+.1f%%)\n",
		       (long long)p->run_id, p->uuid, p->kernel, p->started_at,
		       s->regression ? "a REGRESSION" : "an improvement", s->before,
		       s->after, h->unit, s->change);
	}
}

static void print_json(const struct history_args *a, const struct hist *h)
{
	struct sbuf sb;
	struct json j;
	size_t i;

	sb_init(&sb);
	json_init(&j, &sb, true);
	json_obj_open(&j, NULL);
	json_str(&j, "case", a->case_name);
	json_str(&j, "metric", a->metric);
	json_str(&j, "unit", h->unit);
	json_str(&j, "better", h->higher_better ? "higher" : "lower");
	json_int(&j, "other_params_left_out", h->other_params);
	json_arr_open(&j, "runs");
	for (i = 0; i < h->n; i++) {
		const struct hist_point *p = &h->p[i];

		json_obj_open(&j, NULL);
		json_int(&j, "run_id", p->run_id);
		json_str(&j, "uuid", p->uuid);
		json_str(&j, "started_at", p->started_at);
		json_str(&j, "kernel", p->kernel);
		json_str(&j, "host", p->host);
		json_str(&j, "verdict", p->verdict);
		json_int(&j, "n", p->n);
		json_dbl(&j, "median", p->median);
		json_dbl(&j, "noise_pct", p->noise);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_arr_open(&j, "steps");
	for (i = 0; i < h->nsteps; i++) {
		const struct hist_step *s = &h->steps[i];
		const struct hist_point *p = &h->p[s->index];

		json_obj_open(&j, NULL);
		json_int(&j, "run_id", p->run_id);
		json_str(&j, "uuid", p->uuid);
		json_str(&j, "kernel", p->kernel);
		json_str(&j, "started_at", p->started_at);
		json_dbl(&j, "before", s->before);
		json_dbl(&j, "after", s->after);
		json_dbl(&j, "change_pct", s->change);
		json_str(&j, "direction", s->regression ? "regression" :
			 "improvement");
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	sb_addc(&sb, '\n');
	fputs(sb.buf, stdout);
	sb_free(&sb);
}

int cmd_history(int argc, char **argv)
{
	struct history_args a = { 0 };
	struct hist_query q = { 0 };
	struct cdm_db d;
	struct hist h = { 0 };
	int rc = CDM_EXIT_USAGE;

	sb_init(&a.sel);
	if (parse_args(argc, argv, &a) || db_open(&d, a.db, DB_READ))
		goto out;
	q.case_name = a.case_name;
	q.metric = a.metric;
	q.selector = a.sel.len ? a.sel.buf : NULL;
	q.limit = a.limit;
	if (check_names(&d, a.case_name, a.metric) ||
	    cdm_history_load(&d, &q, &h)) {
		db_close(&d);
		goto out;
	}
	if (!h.n) {
		cdm_err("history: no finished run has case '%s'%s%s",
			a.case_name, a.sel.len ? " and matches --tag " : "",
			a.sel.buf);
	} else {
		cdm_history_steps(&h, a.alpha, a.min_step / 100);
		if (a.json)
			print_json(&a, &h);
		else
			print_text(&a, &h);
		rc = fflush(stdout) || ferror(stdout) ? CDM_EXIT_FAIL : 0;
	}
	cdm_history_free(&h);
	db_close(&d);
out:
	sb_free(&a.sel);
	free(a.case_name);
	return rc;
}
