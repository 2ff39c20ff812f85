// SPDX-License-Identifier: GPL-2.0
/*
 * cdmbench merge: many node databases into one, by SQL alone.
 *
 * Each source is ATTACHed and copied with INSERT ... SELECT, table by
 * table, so a node database of thousands of samples costs a dozen
 * statements, not a row-by-row walk. Ids are shifted past the largest id
 * the destination holds (new = old + offset), which keeps every reference
 * inside the copied rows consistent without a mapping table; only hosts
 * and kernels, deduplicated by their unique identity, are mapped.
 *
 * The tables and columns copied are read from the two schemas (the
 * columns both have, the foreign keys SQLite declares), so tables other
 * schema files add travel too, as long as they hang off a run, a case or
 * a metric. A run is identified by its uuid: merging a file twice adds
 * nothing, and a later copy of a run that has more cases or samples (the
 * node was still running at the first merge) replaces the earlier one, so
 * a merge never keeps the smaller half of a run.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fleet/merge.h"

/* per-database state that is not a result: never merged */
static const char *const local_tables[] = { "push_spool", "hosts", "kernels",
					    "host_topology" };

struct mtable {
	char name[64];
	char *select;		/* the SELECT list, with %OFF% markers */
	char *cols;		/* the destination column list */
	char *filter_col;	/* column tying a row to a copied run/case/metric */
	char *filter_set;	/* temp.keep_r, temp.keep_c or temp.keep_m */
	bool has_id;
};

struct mplan {
	int version;
	struct mtable *t;
	int n;
};

/*
 * Up to MERGE_BATCH sources are attached at once (s0, s1, ...) and merged
 * in one transaction, each inside its own savepoint: one commit (and its
 * WAL writes) per batch instead of per file, while a bad file still rolls
 * back alone. The SQL below says "src"; it is rewritten to the source's
 * schema name on the way to SQLite.
 */
#define MERGE_BATCH 8
static char cur_src[8] = "src";

static char *subst(const char *sql)
{
	struct sbuf sb;
	const char *p = sql, *q;

	sb_init(&sb);
	while ((q = strstr(p, "src"))) {
		bool dot = q[3] == '.', quoted = q > sql && q[-1] == '\'' && q[3] == '\'';

		sb_add(&sb, p, q - p);
		sb_adds(&sb, dot || quoted ? cur_src : "src");
		p = q + 3;
	}
	sb_adds(&sb, p);
	return sb_detach(&sb);
}

static sqlite3_stmt *sprep(struct cdm_db *d, const char *sql)
{
	char *s = subst(sql);
	sqlite3_stmt *st = db_prepare(d, s);

	free(s);
	return st;
}

static int xexec(struct cdm_db *d, const char *sql)
{
	char *msg = NULL, *s = subst(sql);

	if (sqlite3_exec(d->db, s, NULL, NULL, &msg) == SQLITE_OK) {
		free(s);
		return 0;
	}
	cdm_err("merge: %s: %s", d->path, msg ? msg : sqlite3_errmsg(d->db));
	free(s);
	sqlite3_free(msg);
	return -1;
}

static long long query_ll(struct cdm_db *d, const char *sql)
{
	sqlite3_stmt *st = db_prepare(d, sql);
	long long v = -1;

	if (st && db_step(d, st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* a cdmbench database whose schema we know, or one line saying why not */
static int check_source(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int app = -1, ver = -1, r = -1;
	struct stat sb;

	if (stat(path, &sb))
		return cdm_errno(errno, "merge: %s", path);
	if (!S_ISREG(sb.st_mode))
		return cdm_err("merge: %s: not a regular file", path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT (SELECT application_id FROM pragma_application_id), (SELECT user_version FROM pragma_user_version)",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW) {
		app = sqlite3_column_int(st, 0);
		ver = sqlite3_column_int(st, 1);
	}
out:
	if (app < 0)
		cdm_err("merge: %s: not an SQLite database (%s)", path,
			db ? sqlite3_errmsg(db) : "cannot open");
	else if (app != CDM_APPLICATION_ID)
		cdm_err("merge: %s: not a cdmbench database", path);
	else if (ver < 0)
		cdm_err("merge: %s: schema version %d is not one cdmbench ever wrote",
			path, ver);
	else if (ver > db_latest_version())
		cdm_err("merge: %s: schema version %d is newer than this cdmbench supports (%d); merge with a newer cdmbench",
			path, ver, db_latest_version());
	else
		r = ver;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

static bool is_local(const char *t)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(local_tables); i++)
		if (!strcmp(t, local_tables[i]))
			return true;
	return false;
}

/* the table a column of T points to, "" if none */
static void fk_target(struct cdm_db *d, const char *t, const char *col,
		      char *out, size_t len)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT \"table\" FROM pragma_foreign_key_list(?1, 'main') WHERE \"from\" = ?2");

	out[0] = 0;
	if (!st)
		return;
	sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
	if (db_step(d, st) == SQLITE_ROW)
		snprintf(out, len, "%s", col_text(st, 0));
	sqlite3_finalize(st);
}

/*
 * One column of the SELECT: ids shift by their table's offset (written
 * as %table% and filled in per source), host and kernel ids map.
 */
static void plan_column(struct cdm_db *d, struct mtable *m, const char *col,
			bool pk, struct sbuf *sel)
{
	char target[64];

	if (pk) {
		sb_addf(sel, "s.\"%s\" + %%%s%%", col, m->name);
		m->has_id = true;
		return;
	}
	fk_target(d, m->name, col, target, sizeof(target));
	if (!strcmp(target, "hosts") || !strcmp(target, "kernels")) {
		sb_addf(sel, "(SELECT new FROM temp.map_%s WHERE old = s.\"%s\")",
			target, col);
		return;
	}
	if (!*target) {
		sb_addf(sel, "s.\"%s\"", col);
		return;
	}
	sb_addf(sel, "s.\"%s\" + %%%s%%", col, target);
	if (m->filter_col)
		return;
	if (!strcmp(target, "runs") || !strcmp(target, "cases") ||
	    !strcmp(target, "metrics")) {
		m->filter_col = xstrdup(col);
		m->filter_set = xasprintf("temp.keep_%c", target[0]);
	}
}

/* what to copy from a source of this schema version: built once */
static int plan_table(struct cdm_db *d, const char *t, struct mtable *m)
{
	sqlite3_stmt *st;
	struct sbuf sel, cols;
	int r;

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", t);
	st = sprep(d, "SELECT a.name, a.pk FROM pragma_table_info(?1, 'main') a JOIN pragma_table_info(?1, 'src') b ON a.name = b.name ORDER BY a.cid");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
	sb_init(&sel);
	sb_init(&cols);
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		const char *col = col_text(st, 0);
		bool pk = sqlite3_column_int(st, 1) == 1 && !strcmp(col, "id");

		if (cols.len) {
			sb_adds(&cols, ", ");
			sb_adds(&sel, ", ");
		}
		sb_addf(&cols, "\"%s\"", col);
		plan_column(d, m, col, pk, &sel);
	}
	sqlite3_finalize(st);
	if (!strcmp(t, "runs")) {
		free(m->filter_col);
		m->filter_col = xstrdup("id");
		m->filter_set = xstrdup("temp.keep_r");
	}
	m->select = sb_detach(&sel);
	m->cols = sb_detach(&cols);
	return r == SQLITE_DONE ? 0 : -1;
}

static void plan_free(struct mplan *p)
{
	int i;

	for (i = 0; i < p->n; i++) {
		free(p->t[i].select);
		free(p->t[i].cols);
		free(p->t[i].filter_col);
		free(p->t[i].filter_set);
	}
	free(p->t);
	memset(p, 0, sizeof(*p));
}

/* runs first, then cases and metrics, then the rest (any order) */
static int plan_build(struct cdm_db *d, struct mplan *p, int version)
{
	sqlite3_stmt *st;
	int r;

	plan_free(p);
	p->version = version;
	st = sprep(d, "SELECT s.name FROM src.sqlite_schema s JOIN main.sqlite_schema m ON m.name = s.name AND m.type = 'table' WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite_%' ORDER BY s.name <> 'runs', s.name <> 'cases', s.name <> 'metrics', s.name");
	if (!st)
		return -1;
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		struct mtable m;

		if (is_local(col_text(st, 0)))
			continue;
		if (plan_table(d, col_text(st, 0), &m)) {
			r = -1;
			break;
		}
		if (!m.filter_col) {
			cdm_warn("merge: table %s is tied to no run; not merged",
				 m.name);
			free(m.select);
			free(m.cols);
			continue;
		}
		p->t = xrealloc(p->t, (p->n + 1) * sizeof(*p->t));
		p->t[p->n++] = m;
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* the largest id of each table, read once per source */
struct offsets {
	char name[16][64];
	long long v[16];
	int n;
};

static long long offset_of(struct cdm_db *d, struct offsets *o,
			   const char *t, int len)
{
	char sql[128];
	int i;

	for (i = 0; i < o->n; i++)
		if ((int)strlen(o->name[i]) == len && !strncmp(o->name[i], t, len))
			return o->v[i];
	snprintf(sql, sizeof(sql), "SELECT coalesce(max(id), 0) FROM main.\"%.*s\"",
		 len, t);
	if (o->n == 16)
		return query_ll(d, sql);
	snprintf(o->name[o->n], sizeof(o->name[0]), "%.*s", len, t);
	o->v[o->n] = query_ll(d, sql);
	return o->v[o->n++];
}

/* %table% -> the offset of that table's ids in this merge */
static char *fill_offsets(struct cdm_db *d, struct offsets *o, const char *tmpl)
{
	struct sbuf sb;
	const char *p = tmpl, *q;

	sb_init(&sb);
	while ((q = strchr(p, '%'))) {
		const char *e = strchr(q + 1, '%');

		sb_add(&sb, p, q - p);
		sb_addf(&sb, "%lld", offset_of(d, o, q + 1, (int)(e - q - 1)));
		p = e + 1;
	}
	sb_adds(&sb, p);
	return sb_detach(&sb);
}

static const char *const create_sql =
	"CREATE TEMP TABLE IF NOT EXISTS keep_r (old INTEGER PRIMARY KEY);"
	"CREATE TEMP TABLE IF NOT EXISTS keep_c (old INTEGER PRIMARY KEY);"
	"CREATE TEMP TABLE IF NOT EXISTS keep_m (old INTEGER PRIMARY KEY);"
	"CREATE TEMP TABLE IF NOT EXISTS map_hosts (old INTEGER PRIMARY KEY, new INTEGER);"
	"CREATE TEMP TABLE IF NOT EXISTS map_kernels (old INTEGER PRIMARY KEY, new INTEGER);";
static const char *const setup_sql =
	"DELETE FROM temp.keep_r; DELETE FROM temp.keep_c; DELETE FROM temp.keep_m;"
	"DELETE FROM temp.map_hosts; DELETE FROM temp.map_kernels;";

/*
 * Which runs of the source to copy: new uuids, and uuids we hold with
 * fewer cases or samples than the source has (deleted here first).
 */
static int select_runs(struct cdm_db *d, struct merge_stats *ms)
{
	static const char *const count =
		"SELECT r.id, m.id,"
		" (SELECT count(*) FROM src.cases c WHERE c.run_id = r.id),"
		" (SELECT count(*) FROM main.cases c WHERE c.run_id = m.id),"
		" (SELECT count(*) FROM src.samples s JOIN src.metrics x ON x.id = s.metric_id JOIN src.cases c ON c.id = x.case_id WHERE c.run_id = r.id),"
		" (SELECT count(*) FROM main.samples s JOIN main.metrics x ON x.id = s.metric_id JOIN main.cases c ON c.id = x.case_id WHERE c.run_id = m.id)"
		" FROM src.runs r JOIN main.runs m ON m.uuid = r.uuid";
	sqlite3_stmt *st, *del, *keep;
	int r;

	if (xexec(d, "INSERT INTO temp.keep_r SELECT r.id FROM src.runs r WHERE NOT EXISTS (SELECT 1 FROM main.runs m WHERE m.uuid = r.uuid)"))
		return -1;
	ms->runs_added += sqlite3_changes(d->db);
	st = sprep(d, count);
	del = db_prepare(d, "DELETE FROM main.runs WHERE id = ?");
	keep = db_prepare(d, "INSERT INTO temp.keep_r VALUES (?)");
	r = st && del && keep ? SQLITE_ROW : -1;
	while (r >= 0 && (r = db_step(d, st)) == SQLITE_ROW) {
		long long sc = sqlite3_column_int64(st, 2);
		long long mc = sqlite3_column_int64(st, 3);
		long long ss = sqlite3_column_int64(st, 4);
		long long msamp = sqlite3_column_int64(st, 5);

		if (sc < mc || (sc == mc && ss <= msamp)) {
			ms->runs_skipped++;
			continue;
		}
		sqlite3_bind_int64(del, 1, sqlite3_column_int64(st, 1));
		sqlite3_bind_int64(keep, 1, sqlite3_column_int64(st, 0));
		if (db_step(d, del) < 0 || db_step(d, keep) < 0)
			r = -1;
		sqlite3_reset(del);
		sqlite3_reset(keep);
		ms->runs_replaced++;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(del);
	sqlite3_finalize(keep);
	if (r < 0)
		return -1;
	return xexec(d,
		"INSERT INTO temp.keep_c SELECT id FROM src.cases WHERE run_id IN (SELECT old FROM temp.keep_r);"
		"INSERT INTO temp.keep_m SELECT id FROM src.metrics WHERE case_id IN (SELECT old FROM temp.keep_c);");
}

static int map_hosts_kernels(struct cdm_db *d);

/* what likwid saw of a host travels with the host (schema 005 on) */
static int map_topology(struct cdm_db *d)
{
	sqlite3_stmt *st = sprep(d, "SELECT count(*) FROM src.sqlite_schema WHERE name = 'host_topology' AND type = 'table'");
	int r, has;

	if (!st)
		return -1;
	r = db_step(d, st);
	has = r == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return -1;
	if (!has)
		return 0;
	return xexec(d,
		"INSERT OR IGNORE INTO main.host_topology (host_id, key, value)"
		" SELECT m.new, t.key, t.value FROM src.host_topology t"
		" JOIN temp.map_hosts m ON m.old = t.host_id;");
}

/* hosts and kernels are shared between runs: find or add, then map */
static int map_identities(struct cdm_db *d)
{
	if (map_hosts_kernels(d))
		return -1;
	return map_topology(d);
}

static int map_hosts_kernels(struct cdm_db *d)
{
	return xexec(d,
		"INSERT OR IGNORE INTO main.hosts (hostname, cpu_model, arch, cpus, numa_nodes, mem_bytes)"
		" SELECT hostname, cpu_model, arch, cpus, numa_nodes, mem_bytes FROM src.hosts"
		" WHERE id IN (SELECT host_id FROM src.runs WHERE id IN (SELECT old FROM temp.keep_r));"
		"INSERT INTO temp.map_hosts SELECT s.id, m.id FROM src.hosts s JOIN main.hosts m"
		" USING (hostname, cpu_model, arch, cpus, numa_nodes, mem_bytes);"
		"INSERT OR IGNORE INTO main.kernels (release, version, config_digest)"
		" SELECT release, version, config_digest FROM src.kernels"
		" WHERE id IN (SELECT kernel_id FROM src.runs WHERE id IN (SELECT old FROM temp.keep_r));"
		"INSERT INTO temp.map_kernels SELECT s.id, m.id FROM src.kernels s JOIN main.kernels m"
		" USING (release, version, config_digest);");
}

/* built before the first insert: the offsets are the maxima before it */
static char *copy_sql(struct cdm_db *d, struct offsets *o,
		      const struct mtable *m)
{
	char *sel = fill_offsets(d, o, m->select);
	char *sql = xasprintf("INSERT INTO main.\"%s\" (%s) SELECT %s FROM src.\"%s\" s WHERE s.\"%s\" IN (SELECT old FROM %s)",
			      m->name, m->cols, sel, m->name, m->filter_col,
			      m->filter_set);

	free(sel);
	return sql;
}

/*
 * Provenance: the file each run came from, and a node name for runs that
 * did not run under Slurm (their 'node' tag, else the hostname). A run
 * still 'running' in its source was cut off (the node died or the merge
 * came early): it is kept, marked interrupted, with the reason.
 */
static int mark_provenance(struct cdm_db *d, const char *path,
			   long long roff, struct merge_stats *ms)
{
	static const char *const sql[] = {
		"UPDATE main.run_nodes SET source = ?1, merged_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
		" WHERE run_id IN (SELECT old + ?2 FROM temp.keep_r) AND source = ''",
		"INSERT OR IGNORE INTO main.run_nodes (run_id, node, source, merged_at)"
		" SELECT r.id + ?2, coalesce((SELECT value FROM src.run_tags t WHERE t.run_id = r.id AND t.key = 'node'),"
		" (SELECT hostname FROM src.hosts h WHERE h.id = r.host_id), '?'), ?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
		" FROM src.runs r WHERE r.id IN (SELECT old FROM temp.keep_r)",
		"UPDATE main.runs SET status = 'interrupted', ended_at = coalesce(ended_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
		" status_reason = 'still running in ' || ?1 || ' when merged: the node stopped mid-run or the merge came early'"
		" WHERE id IN (SELECT old + ?2 FROM temp.keep_r) AND status = 'running'",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sql); i++) {
		sqlite3_stmt *st = sprep(d, sql[i]);
		int r;

		if (!st)
			return -1;
		sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, roff);
		r = db_step(d, st);
		if (i == 2)
			ms->runs_unfinished += sqlite3_changes(d->db);
		sqlite3_finalize(st);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* one attached source, inside the batch's transaction */
static int merge_one(struct cdm_db *d, const char *path, int version,
		     struct mplan *plan, struct merge_stats *ms)
{
	char *abs = realpath(path, NULL);
	char **sqls = NULL;
	struct offsets offs;
	struct merge_stats before = *ms;
	long long roff;
	int i, r = -1;

	if (xexec(d, "SAVEPOINT one"))
		goto out;
	if (plan->version != version && plan_build(d, plan, version))
		goto rollback;
	if (xexec(d, setup_sql) || select_runs(d, ms) || map_identities(d))
		goto rollback;
	/* offsets are read after select_runs deleted replaced runs */
	roff = query_ll(d, "SELECT coalesce(max(id), 0) FROM main.runs");
	sqls = xcalloc(plan->n + 1, sizeof(char *));
	offs.n = 0;
	for (i = 0; i < plan->n; i++)
		sqls[i] = copy_sql(d, &offs, &plan->t[i]);
	for (i = 0; i < plan->n; i++) {
		if (xexec(d, sqls[i]))
			goto rollback;
		if (!strcmp(plan->t[i].name, "samples"))
			ms->samples += sqlite3_changes(d->db);
	}
	if (mark_provenance(d, abs ? abs : path, roff, ms) ||
	    xexec(d, "RELEASE one"))
		goto rollback;
	r = 0;
	goto out;
rollback:
	sqlite3_exec(d->db, "ROLLBACK TO one; RELEASE one", NULL, NULL, NULL);
	*ms = before;
	/* a plan half built from this source is not trusted for the next */
	plan->version = -1;
	cdm_err("merge: %s: not merged (the destination is unchanged by it)",
		path);
out:
	for (i = 0; sqls && i < plan->n; i++)
		free(sqls[i]);
	free(sqls);
	free(abs);
	return r;
}

/* attach up to MERGE_BATCH sources, merge them in one transaction */
static int merge_batch(struct cdm_db *d, char *const *paths, const int *ver,
		       int k, struct mplan *plan, struct merge_stats *ms)
{
	bool attached[MERGE_BATCH] = { false };
	int j, bad = 0;

	for (j = 0; j < k; j++) {
		char *sql;

		if (ver[j] == -2)	/* named before: merged already */
			continue;
		sql = xasprintf("ATTACH ? AS s%d", j);
		sqlite3_stmt *st = db_prepare(d, sql);

		free(sql);
		if (st) {
			sqlite3_bind_text(st, 1, paths[j], -1, SQLITE_STATIC);
			attached[j] = db_step(d, st) >= 0;
		}
		sqlite3_finalize(st);
		if (!attached[j])
			bad += !!cdm_err("merge: %s: cannot attach: %s", paths[j],
					 sqlite3_errmsg(d->db));
	}
	snprintf(cur_src, sizeof(cur_src), "main");
	if (xexec(d, "BEGIN IMMEDIATE; PRAGMA defer_foreign_keys = ON")) {
		bad = k;
		goto detach;
	}
	for (j = 0; j < k; j++) {
		if (ver[j] == -2)
			ms->files++;
		if (!attached[j])
			continue;
		snprintf(cur_src, sizeof(cur_src), "s%d", j);
		if (merge_one(d, paths[j], ver[j], plan, ms))
			bad++;
		else
			ms->files++;
	}
	snprintf(cur_src, sizeof(cur_src), "main");
	if (xexec(d, "COMMIT")) {
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
		bad = k;
	}
detach:
	for (j = 0; j < k; j++) {
		char sql[32];

		snprintf(sql, sizeof(sql), "DETACH s%d", j);
		if (attached[j])
			sqlite3_exec(d->db, sql, NULL, NULL, NULL);
	}
	return bad;
}

struct fid {
	dev_t dev;
	ino_t ino;
	int idx;
};

static int by_fid(const void *a, const void *b)
{
	const struct fid *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->idx - y->idx;
}

/*
 * A file named twice is merged once (the second time would add nothing,
 * and SQLite cannot attach one file under two names reliably): the later
 * names get version -2, skipped.
 */
static void mark_repeats(char *const *srcs, int n, int *ver)
{
	struct fid *f = xcalloc(n + 1, sizeof(*f));
	struct stat sb;
	int i, k = 0;

	for (i = 0; i < n; i++) {
		if (stat(srcs[i], &sb))
			continue;
		f[k].dev = sb.st_dev;
		f[k].ino = sb.st_ino;
		f[k++].idx = i;
	}
	qsort(f, k, sizeof(*f), by_fid);
	for (i = 1; i < k; i++)
		if (f[i].dev == f[i - 1].dev && f[i].ino == f[i - 1].ino)
			ver[f[i].idx] = -2;
	free(f);
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/*
 * A destination we just created holds nothing to protect: its rollback
 * journal lives in memory (every page is written once, at commit, not
 * to the WAL and again at the checkpoint), and its secondary indexes are
 * dropped while the rows pour in and built once at the end (sorting
 * 1,000,000 cases beats inserting them into two indexes of long keys one
 * by one: it was 60% of the merge). A crash loses only the file aside,
 * never a result: the sources are untouched.
 */
struct fresh {
	char **index_sql;
	int n;
};

static int fresh_begin(struct cdm_db *d, struct fresh *f)
{
	sqlite3_stmt *st;
	int r, i;

	memset(f, 0, sizeof(*f));
	st = db_prepare(d, "PRAGMA journal_mode = MEMORY");
	r = st ? db_step(d, st) : -1;
	sqlite3_finalize(st);
	if (r < 0)
		return -1;
	/* unique indexes stay: they are constraints, not just speed */
	st = db_prepare(d, "SELECT name, sql FROM main.sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'");
	if (!st)
		return -1;
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		f->index_sql = xrealloc(f->index_sql, (f->n + 2) * sizeof(char *));
		f->index_sql[f->n++] = xstrdup(col_text(st, 1));
		f->index_sql[f->n++] = xasprintf("DROP INDEX main.\"%s\"", col_text(st, 0));
	}
	sqlite3_finalize(st);
	for (i = 1; r == SQLITE_DONE && i < f->n; i += 2)
		if (xexec(d, f->index_sql[i]))
			return -1;
	return r == SQLITE_DONE ? 0 : -1;
}

static int fresh_end(struct cdm_db *d, struct fresh *f)
{
	int i, r = xexec(d, "BEGIN");

	for (i = 0; !r && i < f->n; i += 2)
		r = xexec(d, f->index_sql[i]);
	if (!r)
		r = xexec(d, "COMMIT");
	else
		sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
	for (i = 0; i < f->n; i++)
		free(f->index_sql[i]);
	free(f->index_sql);
	memset(f, 0, sizeof(*f));
	/* back to the journal every other command expects */
	return r || xexec(d, "PRAGMA journal_mode = WAL") ? -1 : 0;
}

/*
 * Every source is a cdmbench database we can read, and not DST: VER[i]
 * gets its schema version. Each bad source says why in one line.
 */
static int check_all(char *const *srcs, int n, const char *dst, int *ver)
{
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		ver[i] = check_source(srcs[i]);
		if (ver[i] < 0)
			bad++;
		else if (dst && same_file(srcs[i], dst))
			bad += !!cdm_err("merge: %s: is the destination itself",
					 srcs[i]);
	}
	return bad ? -1 : 0;
}

/* VER: from check_all, and rewritten here (repeats) */
static int merge_into(struct cdm_db *dst, char *const *srcs, int *ver, int n,
		      bool progress, struct merge_stats *ms)
{
	struct mplan plan = { .version = -1 };
	int i, bad = 0;

	memset(ms, 0, sizeof(*ms));
	mark_repeats(srcs, n, ver);
	/*
	 * No fsync per source: the sources stay where they are, so a merge
	 * cut short by a power loss is simply run again (it is idempotent);
	 * one checkpoint at the end makes the whole merge durable.
	 */
	/* and fewer checkpoints: each copies pages the next batch dirties
	 * again (25,000 pages: a WAL of up to 100 MB during the merge) */
	if (xexec(dst, "PRAGMA synchronous = OFF") ||
	    xexec(dst, "PRAGMA wal_autocheckpoint = 25000") ||
	    xexec(dst, create_sql))
		return -1;
	/* the copy plan depends on the source's schema: merge_one
	 * rebuilds it when the version changes */
	for (i = 0; i < n; i += MERGE_BATCH) {
		int k = n - i < MERGE_BATCH ? n - i : MERGE_BATCH;

		bad += merge_batch(dst, srcs + i, ver + i, k, &plan, ms);
		if (progress && (i / MERGE_BATCH) % 64 == 63)
			fprintf(stderr, "\rmerge: %d/%d files", i + k, n);
	}
	if (progress && n >= 500)
		fputc('\n', stderr);
	/* (a no-op for a fresh file, without a WAL: fleet_merge_file
	 * syncs it as a whole before it is linked into place) */
	if (xexec(dst, "PRAGMA synchronous = FULL") ||
	    xexec(dst, "PRAGMA wal_checkpoint(TRUNCATE)"))
		bad++;
	if (xexec(dst, "PRAGMA synchronous = NORMAL") ||
	    xexec(dst, "PRAGMA wal_autocheckpoint = 1000"))
		bad++;
	plan_free(&plan);
	return bad ? -1 : 0;
}

int fleet_merge(struct cdm_db *dst, char *const *srcs, int n, bool progress,
		struct merge_stats *ms)
{
	int *ver = xcalloc(n ? n : 1, sizeof(int));
	int r = -1;

	memset(ms, 0, sizeof(*ms));
	if (!check_all(srcs, n, dst->path, ver))
		r = merge_into(dst, srcs, ver, n, progress, ms);
	free(ver);
	return r;
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags), r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* the file and its directory entry on disk */
static int publish(const char *tmp, const char *out)
{
	char *dir = xstrdup(out);
	int r = -1;

	if (fsync_path(tmp, 0))
		cdm_errno(errno, "merge: %s", tmp);
	/* link, not rename: never replaces a file that appeared meanwhile */
	else if (link(tmp, out))
		cdm_errno(errno, "merge: %s (the merge is kept in %s)", out, tmp);
	else {
		unlink(tmp);
		fsync_path(dirname(dir), O_DIRECTORY);
		r = 0;
	}
	free(dir);
	return r;
}

static void unlink_db(const char *path)
{
	char *p;

	unlink(path);
	p = xasprintf("%s-wal", path);
	unlink(p);
	free(p);
	p = xasprintf("%s-shm", path);
	unlink(p);
	free(p);
}

/*
 * A new database at PATH, the sources merged into it fast (fresh_*).
 * With a CHILD building the other half into TMP2, that file is merged
 * in at the end as one more source, its runs keeping the provenance the
 * child recorded.
 */
static int build_fresh(const char *path, char *const *srcs, int *ver, int n,
		       bool progress, pid_t child, int fd, const char *tmp2,
		       struct merge_stats *ms);

/*
 * Two cores merge twice as fast: a child builds the second half into
 * its own file, which the parent merges in as one source at the end
 * (each run keeps the provenance the child recorded). What the child
 * counted comes back through a pipe.
 */
#define MERGE_SPLIT 256

static pid_t start_half(const char *path, char *const *srcs, int *ver, int n,
			int *rfd)
{
	struct merge_stats cs;
	int fd[2], r;
	pid_t pid;

	if (pipe(fd))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid) {
		close(fd[1]);
		if (pid < 0)
			close(fd[0]);
		*rfd = fd[0];
		return pid;
	}
	close(fd[0]);
	r = build_fresh(path, srcs, ver, n, false, 0, -1, NULL, &cs);
	if (write(fd[1], &cs, sizeof(cs)) != sizeof(cs))
		r = -1;
	_exit(r ? (cs.files ? 1 : 2) : 0);
}

/* 0: the half merged, 1: partly, -1: not at all */
static int join_half(pid_t pid, int fd, struct merge_stats *cs)
{
	int st;

	memset(cs, 0, sizeof(*cs));
	if (read(fd, cs, sizeof(*cs)) != sizeof(*cs))
		memset(cs, 0, sizeof(*cs));
	close(fd);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
		return -1;
	return WEXITSTATUS(st);
}

/* the child's counts, less the runs the parent's half already held */
static void add_half(struct merge_stats *ms, const struct merge_stats *cs,
		     const struct merge_stats *xs)
{
	ms->files += cs->files;
	ms->runs_added += cs->runs_added - xs->runs_skipped - xs->runs_replaced;
	ms->runs_replaced += cs->runs_replaced + xs->runs_replaced;
	ms->runs_skipped += cs->runs_skipped + xs->runs_skipped;
	ms->runs_unfinished += cs->runs_unfinished;
	ms->samples += xs->samples;
}

static int build_fresh(const char *path, char *const *srcs, int *ver, int n,
		       bool progress, pid_t child, int fd, const char *tmp2,
		       struct merge_stats *ms)
{
	struct merge_stats cs, xs;
	struct cdm_db d;
	struct fresh fr;
	int r = -1, cr = 0, xv;

	memset(ms, 0, sizeof(*ms));
	if (db_open(&d, path, DB_WRITE))
		goto out;
	if (fresh_begin(&d, &fr)) {
		db_close(&d);
		goto out;
	}
	r = merge_into(&d, srcs, ver, n, progress, ms);
	if (child > 0) {
		cr = join_half(child, fd, &cs);
		child = 0;
		xv = cr >= 0 ? check_source(tmp2) : -1;
		if (xv < 0 || merge_into(&d, (char *const *)&tmp2, &xv, 1, false, &xs))
			r = -1;
		else
			add_half(ms, &cs, &xs);
	}
	if (fresh_end(&d, &fr))
		r = -1;
	db_close(&d);
out:
	if (child > 0)
		cr = join_half(child, fd, &cs);
	return r || cr ? -1 : 0;
}

int fleet_merge_file(const char *out, char *const *srcs, int n, bool progress,
		     struct merge_stats *ms)
{
	char *tmp, *tmp2 = NULL;
	pid_t child = 0;
	int r, half, fd = -1, *ver;
	struct cdm_db d;

	if (access(out, F_OK) == 0 || errno != ENOENT) {
		/* results already there: merged in place, WAL-safe */
		if (db_open(&d, out, DB_WRITE))
			return -1;
		r = fleet_merge(&d, srcs, n, progress, ms);
		db_close(&d);
		return r;
	}
	ver = xcalloc(n ? n : 1, sizeof(int));
	memset(ms, 0, sizeof(*ms));
	/* every source is checked before anything is written */
	if (check_all(srcs, n, NULL, ver)) {
		free(ver);
		return -1;
	}
	tmp = xasprintf("%s.merging-%d", out, (int)getpid());
	half = n;
	if (n >= MERGE_SPLIT && sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		tmp2 = xasprintf("%s.merging-%d-2", out, (int)getpid());
		half = n / 2;
		child = start_half(tmp2, srcs + half, ver + half, n - half, &fd);
		if (child < 0) {
			half = n;
			unlink_db(tmp2);
		}
	}
	r = build_fresh(tmp, srcs, ver, half, progress, child, fd, tmp2, ms);
	if (tmp2)
		unlink_db(tmp2);
	/* a refused merge leaves no file; a partial one keeps what merged */
	if (r && !ms->files)
		unlink_db(tmp);
	else if (publish(tmp, out))
		r = -1;
	free(tmp);
	free(tmp2);
	free(ver);
	return r;
}
