// SPDX-License-Identifier: GPL-2.0
/*
 * Run selectors: a run id, 'last', a uuid prefix, or KEY=VALUE[,...] over
 * completed runs, as `compare`, `history --tag` and the report take them.
 */
#include <stdlib.h>
#include <string.h>

#include "store/select.h"

static const struct {
	const char *key;
	const char *col;
} sel_cols[] = {
	{ "kernel", "k.release" },
	{ "host", "h.hostname" },
	{ "env", "r.environment" },
	{ "job", "r.job_name" },
};

static void add_bind(char ***binds, int *n, const char *s, size_t len)
{
	*binds = xrealloc(*binds, (*n + 1) * sizeof(char *));
	(*binds)[(*n)++] = xasprintf("%.*s", (int)len, s);
}

int cdm_selector_sql(const char *sel, struct sbuf *where, char ***binds,
		     int *nbinds)
{
	const char *p = sel;

	while (*p) {
		size_t len = strcspn(p, ","), k;
		const char *eq = memchr(p, '=', len);
		const char *col = NULL;

		if (!eq || eq == p)
			return cdm_err("selector '%s': expected KEY=VALUE[,KEY=VALUE...] (kernel=, host=, env=, job= or a run tag)",
				       sel);
		for (k = 0; k < ARRAY_SIZE(sel_cols); k++)
			if (strlen(sel_cols[k].key) == (size_t)(eq - p) &&
			    !strncmp(p, sel_cols[k].key, eq - p))
				col = sel_cols[k].col;
		if (col) {
			sb_addf(where, " AND %s GLOB ?", col);
		} else {
			sb_adds(where, " AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.key = ? AND t.value GLOB ?)");
			add_bind(binds, nbinds, p, eq - p);
		}
		add_bind(binds, nbinds, eq + 1, len - (eq + 1 - p));
		p += len + (p[len] == ',');
	}
	return 0;
}

static void free_binds(char **binds, int n)
{
	while (n > 0)
		free(binds[--n]);
	free(binds);
}

static void side_add(struct cdm_runset *s, int64_t id)
{
	s->runs = xrealloc(s->runs, (s->nruns + 1) * sizeof(*s->runs));
	s->runs[s->nruns++] = id;
}

static int select_matching(struct cdm_db *d, const char *spec,
			   struct cdm_runset *s)
{
	struct sbuf sql;
	sqlite3_stmt *st = NULL;
	char **binds = NULL;
	int nb = 0, i, r = -1;

	sb_init(&sql);
	sb_adds(&sql, "SELECT r.id FROM runs r LEFT JOIN kernels k ON k.id = r.kernel_id LEFT JOIN hosts h ON h.id = r.host_id WHERE r.status = 'completed'");
	if (cdm_selector_sql(spec, &sql, &binds, &nb))
		goto out;
	sb_adds(&sql, " ORDER BY r.started_at, r.id");
	st = db_prepare(d, sql.buf);
	if (!st)
		goto out;
	for (i = 0; i < nb; i++)
		sqlite3_bind_text(st, i + 1, binds[i], -1, SQLITE_STATIC);
	while ((r = db_step(d, st)) == SQLITE_ROW)
		side_add(s, sqlite3_column_int64(st, 0));
	if (r == SQLITE_DONE && !s->nruns) {
		cdm_err("%s: no completed run matches '%s' (see 'cdmbench runs')",
			d->path, spec);
		r = -1;
	}
out:
	sqlite3_finalize(st);
	free_binds(binds, nb);
	sb_free(&sql);
	return r == SQLITE_DONE ? 0 : -1;
}

/* one run by id: refuse one still being written, warn about partial ones */
static int check_run_status(struct cdm_db *d, int64_t id)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT status, status_reason, owner_host, owner_pid FROM runs WHERE id = ?");
	int r = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (db_step(d, st) == SQLITE_ROW) {
		const char *status = col_text(st, 0);

		if (!strcmp(status, "running"))
			r = cdm_err("run %lld is still in progress (cdmbench pid %lld on %s): compare it once it has finished",
				    (long long)id,
				    (long long)sqlite3_column_int64(st, 3),
				    col_text(st, 2));
		else if (strcmp(status, "completed"))
			cdm_warn("run %lld is %s (%s): comparing the cases it finished",
				 (long long)id, status, col_text(st, 1));
	}
	sqlite3_finalize(st);
	return r;
}

static void make_label(struct cdm_db *d, struct cdm_runset *s)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT coalesce(k.release, '?'), substr(r.started_at, 1, 16), r.job_name FROM runs r LEFT JOIN kernels k ON k.id = r.kernel_id WHERE r.id = ?");
	struct sbuf sb;
	size_t i;

	sb_init(&sb);
	if (st) {
		sqlite3_bind_int64(st, 1, s->runs[s->nruns - 1]);
		if (db_step(d, st) == SQLITE_ROW && s->nruns == 1)
			sb_addf(&sb, "run %lld (%s, kernel %s, %s)",
				(long long)s->runs[0], col_text(st, 2),
				col_text(st, 0), col_text(st, 1));
	}
	sqlite3_finalize(st);
	if (s->nruns > 1) {
		sb_addf(&sb, "%s: %zu runs pooled (", s->spec, s->nruns);
		for (i = 0; i < s->nruns; i++)
			sb_addf(&sb, "%s%lld", i ? ", " : "",
				(long long)s->runs[i]);
		sb_addc(&sb, ')');
	}
	s->label = sb_detach(&sb);
}

int cdm_select_runs(struct cdm_db *d, const char *spec, bool latest,
		    struct cdm_runset *s)
{
	int64_t id;

	memset(s, 0, sizeof(*s));
	s->spec = xstrdup(spec);
	if (strchr(spec, '=')) {
		if (select_matching(d, spec, s))
			return -1;
		if (latest) {
			s->runs[0] = s->runs[s->nruns - 1];
			s->nruns = 1;
		}
		for (size_t i = 0; i < s->nruns; i++)
			if (db_validate_run(d, s->runs[i]))
				return -1;
	} else {
		if (db_resolve_run(d, spec, &id) || check_run_status(d, id))
			return -1;
		side_add(s, id);
	}
	make_label(d, s);
	return 0;
}

void cdm_runset_free(struct cdm_runset *s)
{
	free(s->spec);
	free(s->runs);
	free(s->label);
	memset(s, 0, sizeof(*s));
}
