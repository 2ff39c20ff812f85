// SPDX-License-Identifier: GPL-2.0
/*
 * Event lines beside timing changes; see events.h. Counters are case
 * facts (schema 005): counters.<phase>.<source>:<event> summed over a
 * side's runs, divided by the pages the phase moved on that side.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/events.h"

/* vmstat is system-wide and has many movers: show the first few */
#define MAX_VMSTAT 6

struct ev_val {
	char *key;		/* "<source>:<event>" */
	double v[2];
};

struct ev_sides {
	char **phases;
	size_t nphases;
	char *phase;		/* the one the metric belongs to */
	double count[2], pages[2];
	struct ev_val *val;
	size_t nval;
	char *status[2][8];	/* "<source>: unavailable: why" */
	size_t nstatus[2];
};

const char *ev_phase_of(const char *metric, char *const *phases, size_t n)
{
	const char *best = "run";
	size_t i, bl = 0;

	for (i = 0; i < n; i++) {
		size_t l = strlen(phases[i]);

		if (l > bl && !strncmp(metric, phases[i], l) &&
		    (!metric[l] || metric[l] == '_')) {
			best = phases[i];
			bl = l;
		}
	}
	return best;
}

static void add_phase(struct ev_sides *s, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < s->nphases; i++)
		if (strlen(s->phases[i]) == len && !strncmp(s->phases[i], p, len))
			return;
	s->phases = xrealloc(s->phases, (s->nphases + 1) * sizeof(char *));
	s->phases[s->nphases++] = xasprintf("%.*s", (int)len, p);
}

static struct ev_val *val_for(struct ev_sides *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nval; i++)
		if (!strcmp(s->val[i].key, key))
			return &s->val[i];
	s->val = xrealloc(s->val, (s->nval + 1) * sizeof(*s->val));
	s->val[s->nval].key = xstrdup(key);
	s->val[s->nval].v[0] = s->val[s->nval].v[1] = 0;
	return &s->val[s->nval++];
}

static sqlite3_stmt *query(struct cdm_db *d, const int64_t *runs, size_t n,
			   const char *case_name)
{
	struct sbuf sql;
	sqlite3_stmt *st;
	size_t i;

	sb_init(&sql);
	sb_adds(&sql, "SELECT i.key, i.value FROM case_info i JOIN cases c ON c.id = i.case_id WHERE c.name = ? AND (i.key GLOB 'counters.*' OR i.key GLOB 'counter_status.*') AND c.run_id IN (");
	for (i = 0; i < n; i++)
		sb_adds(&sql, i ? ",?" : "?");
	sb_adds(&sql, ")");
	st = db_prepare(d, sql.buf);
	sb_free(&sql);
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, case_name, -1, SQLITE_TRANSIENT);
	for (i = 0; i < n; i++)
		sqlite3_bind_int64(st, i + 2, runs[i]);
	return st;
}

static void add_status(struct ev_sides *s, int side, const char *src,
		       const char *st)
{
	size_t i;

	if (!startswith(st, "unavailable"))
		return;
	for (i = 0; i < s->nstatus[side]; i++)
		if (startswith(s->status[side][i], src))
			return;
	if (s->nstatus[side] < 8)
		s->status[side][s->nstatus[side]++] = xasprintf("%s %s", src, st);
}

/* pass 0 collects phases; pass 1, with the phase known, the values */
static int load(struct cdm_db *d, const int64_t *runs, size_t n,
		const char *case_name, int side, int pass, struct ev_sides *s)
{
	sqlite3_stmt *st = query(d, runs, n, case_name);
	int rc;

	if (!st)
		return -1;
	while ((rc = db_step(d, st)) == SQLITE_ROW) {
		const char *k = col_text(st, 0), *v = col_text(st, 1), *dot;
		size_t pl;

		if (startswith(k, "counter_status.")) {
			if (pass)
				add_status(s, side, k + 15, v);
			continue;
		}
		k += 9;
		dot = strchr(k, '.');
		if (!dot || !strchr(dot, ':'))
			continue;
		pl = dot - k;
		if (!pass) {
			add_phase(s, k, pl);
			continue;
		}
		if (strlen(s->phase) != pl || strncmp(k, s->phase, pl))
			continue;
		if (!strcmp(dot + 1, "phase:count"))
			s->count[side] += atof(v);
		else if (!strcmp(dot + 1, "phase:pages"))
			s->pages[side] += atof(v);
		else if (!startswith(dot + 1, "phase:") &&
			 !startswith(dot + 1, "vmstat:nr_"))
			/* nr_* are gauges (pages in a state), not events */
			val_for(s, dot + 1)->v[side] += atof(v);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static bool changed(const struct ev_val *e, const double *norm)
{
	double a = norm[0] ? e->v[0] / norm[0] : 0;
	double b = norm[1] ? e->v[1] / norm[1] : 0;

	return fabs(a - b) > 0.05 * fmax(fabs(a), fabs(b));
}

static int source_rank(const char *key)
{
	static const char *const order[] = { "perf:", "trace:", "vmstat:",
					     "likwid:" };
	int i;

	for (i = 0; i < 4; i++)
		if (startswith(key, order[i]))
			return i;
	return 4;
}

static const double *ev_norm;

/* by source (this process's counters first), changed ones first, by name */
static int cmp_val(const void *a, const void *b)
{
	const struct ev_val *x = a, *y = b;
	int cx = changed(x, ev_norm), cy = changed(y, ev_norm);

	if (source_rank(x->key) != source_rank(y->key))
		return source_rank(x->key) - source_rank(y->key);
	if (cx != cy)
		return cy - cx;
	return strcmp(x->key, y->key);
}

static void fmt_val(char *buf, size_t len, double v)
{
	if (v == 0 || fabs(v) >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (fabs(v) >= 0.01)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "%.2g", v);
}

static void put_event(struct sbuf *sb, const struct ev_val *e,
		      const double *norm, const char *per)
{
	const char *name = strchr(e->key, ':') + 1;
	char a[32], b[32];

	fmt_val(a, sizeof(a), norm[0] ? e->v[0] / norm[0] : 0);
	fmt_val(b, sizeof(b), norm[1] ? e->v[1] / norm[1] : 0);
	if (startswith(e->key, "vmstat:"))
		sb_adds(sb, "vmstat ");
	else if (startswith(e->key, "likwid:"))
		sb_adds(sb, "likwid ");
	sb_addf(sb, "%s %s %s -> %s", name, per, a, b);
}

static bool has_status(const struct ev_sides *s, int side, const char *st)
{
	size_t i;

	for (i = 0; i < s->nstatus[side]; i++)
		if (!strcmp(s->status[side][i], st))
			return true;
	return false;
}

static char *render(struct ev_sides *s)
{
	bool per_page = s->pages[0] > 0 && s->pages[1] > 0;
	double norm[2];
	struct sbuf sb;
	size_t i, shown = 0, vm = 0, left = 0;
	int side;

	norm[0] = per_page ? s->pages[0] : s->count[0];
	norm[1] = per_page ? s->pages[1] : s->count[1];
	ev_norm = norm;
	qsort(s->val, s->nval, sizeof(*s->val), cmp_val);
	sb_init(&sb);
	sb_addf(&sb, "phase %s: ", s->phase);
	for (i = 0; i < s->nval; i++) {
		if (!s->val[i].v[0] && !s->val[i].v[1])
			continue;
		if (startswith(s->val[i].key, "vmstat:") && vm++ >= MAX_VMSTAT) {
			left++;
			continue;
		}
		if (shown++)
			sb_adds(&sb, ", ");
		put_event(&sb, &s->val[i], norm,
			  per_page ? "per page" : "per op");
	}
	if (!shown)
		sb_adds(&sb, "no event counted");
	if (left)
		sb_addf(&sb, " (+%zu more vmstat, see the case_counters view)",
			left);
	for (side = 0; side < 2; side++)
		for (i = 0; i < s->nstatus[side]; i++) {
			bool both = !side && has_status(s, 1, s->status[0][i]);

			if (side && has_status(s, 0, s->status[1][i]))
				continue;
			sb_addf(&sb, "; %s%s", both ? "" :
				side ? "candidate: " : "base: ",
				s->status[side][i]);
		}
	return sb_detach(&sb);
}

static void sides_free(struct ev_sides *s)
{
	size_t i;
	int side;

	for (i = 0; i < s->nphases; i++)
		free(s->phases[i]);
	free(s->phases);
	for (i = 0; i < s->nval; i++)
		free(s->val[i].key);
	free(s->val);
	for (side = 0; side < 2; side++)
		for (i = 0; i < s->nstatus[side]; i++)
			free(s->status[side][i]);
	free(s->phase);
}

char *ev_line(struct cdm_db *d, const int64_t *base, size_t nbase,
	      const int64_t *cand, size_t ncand, const char *case_name,
	      const char *metric)
{
	struct ev_sides s;
	char *out = NULL;

	memset(&s, 0, sizeof(s));
	if (!nbase || !ncand ||
	    load(d, base, nbase, case_name, 0, 0, &s) ||
	    load(d, cand, ncand, case_name, 1, 0, &s))
		goto done;
	if (!s.nphases)
		goto done;
	s.phase = xstrdup(ev_phase_of(metric, s.phases, s.nphases));
	if (load(d, base, nbase, case_name, 0, 1, &s) ||
	    load(d, cand, ncand, case_name, 1, 1, &s))
		goto done;
	if (s.count[0] > 0 && s.count[1] > 0)
		out = render(&s);
done:
	sides_free(&s);
	return out;
}

char *ev_compare_row(struct cdm_db *d, const struct cmp_result *r,
		     const struct cmp_row *row)
{
	const struct cmp_case *c = &r->cases[row->group];

	return ev_line(d, r->side[0].runs, r->side[0].nruns,
		       r->side[1].runs, r->side[1].nruns, c->name,
		       row->metric);
}

/* text from the database on a terminal: no control sequences get through */
static void put_term(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* a changed measurement, once: its other units share its events */
bool ev_row_wanted(const struct cmp_result *r, size_t i)
{
	const struct cmp_row *row = &r->rows[i];

	return row->mark != CMP_SAME && !isnan(row->ratio) && row->measure == i;
}

void ev_print_compare(struct cdm_db *d, const struct cmp_result *r, FILE *out)
{
	bool head = false;
	size_t i;

	for (i = 0; i < r->nrows; i++) {
		const struct cmp_row *row = &r->rows[i];
		char *line;

		if (!ev_row_wanted(r, i))
			continue;
		line = ev_compare_row(d, r, row);
		if (!line)
			continue;
		if (!head)
			fprintf(out, "\nkernel events beside each timing change (base -> candidate):\n");
		head = true;
		fputs("  ", out);
		put_term(out, r->cases[row->group].name);
		fputc(' ', out);
		put_term(out, row->metric);
		fprintf(out, " %+.1f%%: ", (row->ratio - 1) * 100);
		put_term(out, line);
		fputc('\n', out);
		free(line);
	}
}

void ev_print_history(struct cdm_db *d, const char *case_name,
		      const char *metric, const struct hist *h, FILE *out)
{
	bool head = false;
	size_t i;

	for (i = 0; i < h->nsteps; i++) {
		const struct hist_step *st = &h->steps[i];
		int64_t a, b;
		char *line;

		if (!st->index)
			continue;
		a = h->p[st->index - 1].run_id;
		b = h->p[st->index].run_id;
		line = ev_line(d, &a, 1, &b, 1, case_name, metric);
		if (!line)
			continue;
		if (!head)
			fprintf(out, "\nkernel events at each step (the run before -> the run that moved it):\n");
		head = true;
		fprintf(out, "  run %lld -> %lld %+.1f%%: ", (long long)a,
			(long long)b, st->change);
		put_term(out, line);
		fputc('\n', out);
		free(line);
	}
}
