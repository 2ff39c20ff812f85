// SPDX-License-Identifier: GPL-2.0
/*
 * SQLite store: open, migrate, write runs and cases.
 *
 * Schema files from schema/ are compiled in (build/schema_files.c) and
 * applied in order, each in its own transaction together with the new
 * PRAGMA user_version, so a half-applied migration never exists.
 */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store/db.h"

/*
 * How long a writer waits for another run's lock before giving up: long
 * enough for a concurrent run's largest batch commit or a migration.
 */
#define DB_BUSY_MS 60000

struct cdm_schema_file {
	const char *name;
	const char *sql;
};
extern const struct cdm_schema_file cdm_schema_files[];
extern const int cdm_schema_nfiles;

int db_latest_version(void)
{
	return cdm_schema_nfiles;
}

int db_fail(struct cdm_db *d, const char *what)
{
	return cdm_err("%s: %s: %s (sqlite error %d)", d->path, what,
		       sqlite3_errmsg(d->db), sqlite3_extended_errcode(d->db));
}

sqlite3_stmt *db_prepare(struct cdm_db *d, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK) {
		cdm_err("%s: prepare failed: %s: %s", d->path,
			sqlite3_errmsg(d->db), sql);
		return NULL;
	}
	return st;
}

int db_step(struct cdm_db *d, sqlite3_stmt *st)
{
	int r = sqlite3_step(st);

	if (r == SQLITE_ROW || r == SQLITE_DONE)
		return r;
	db_fail(d, "query failed");
	return -1;
}

int db_step_final(struct cdm_db *d, sqlite3_stmt *st)
{
	int r = db_step(d, st);

	sqlite3_finalize(st);
	return r < 0 ? -1 : 0;
}

const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : "";
}

int db_exec(struct cdm_db *d, const char *sql)
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

static int pragma_int(struct cdm_db *d, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? 0 : -1;
}

/* a clear reason before SQLite says "unable to open database file" */
static int check_path(const char *path, enum db_open_mode mode)
{
	char *copy = xstrdup(path), *dir = dirname(copy);
	struct stat st;
	int r = 0;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			r = cdm_err("--db %s: is a directory, not a database file",
				    path);
		free(copy);
		return r;
	}
	if (mode != DB_WRITE) {
		r = cdm_err("--db %s: no such database (run 'cdmbench run' first)",
			    path);
	} else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		r = cdm_err("--db %s: directory '%s' does not exist", path, dir);
	} else if (access(dir, W_OK) != 0) {
		r = cdm_errno(errno, "--db %s: cannot create the database in '%s'",
			      path, dir);
	}
	free(copy);
	return r;
}

/*
 * The application id, the schema version and whether any table exists,
 * read by one statement: one snapshot. Read one by one, a run creating
 * the database in another process could commit between them, and a
 * fresh cdmbench database would look like a foreign file with tables
 * (two runs started at once on a new --db failed that way).
 */
static int read_identity(struct cdm_db *d, int *app, int *tables)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(d->db, "SELECT (SELECT application_id FROM pragma_application_id), (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema)",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*app = sqlite3_column_int(st, 0);
		d->version = sqlite3_column_int(st, 1);
		*tables = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? 0 : -1;
}

/* refuse foreign files before writing anything into them */
static int check_identity(struct cdm_db *d)
{
	int app = 0, tables = 0;

	if (read_identity(d, &app, &tables)) {
		int code = sqlite3_errcode(d->db);

		if (code == SQLITE_NOTADB)
			return cdm_err("%s: not an SQLite database", d->path);
		return db_fail(d, "cannot read the database");
	}
	if (app && app != CDM_APPLICATION_ID)
		return cdm_err("%s: an SQLite database of another application (application_id 0x%x), not cdmbench's",
			       d->path, app);
	if (!app && tables)
		return cdm_err("%s: an SQLite database, but not a cdmbench one (it has other tables)",
			       d->path);
	/* never written by cdmbench: indexing the schema files with it
	 * would read before the table */
	if (d->version < 0)
		return cdm_err("%s: PRAGMA user_version %d is not a schema version cdmbench ever wrote (expected 0 .. %d)",
			       d->path, d->version, db_latest_version());
	if (d->version > db_latest_version())
		return cdm_err("%s: schema version %d is newer than this cdmbench supports (%d); use a newer cdmbench",
			       d->path, d->version, db_latest_version());
	return 0;
}

static int migrate(struct cdm_db *d)
{
	int v = 0;
	char sql[96];

	if (d->version >= db_latest_version())
		return 0;
	if (d->readonly)
		return cdm_err("%s: schema version %d needs upgrading to %d, but the database is read-only",
			       d->path, d->version, db_latest_version());
	if (db_exec(d, "BEGIN IMMEDIATE"))
		return -1;
	/* another process may have migrated while we waited for the lock */
	if (pragma_int(d, "PRAGMA user_version", &v))
		goto fail;
	for (; v < db_latest_version(); v++) {
		if (db_exec(d, cdm_schema_files[v].sql)) {
			cdm_err("%s: applying schema/%s failed", d->path,
				cdm_schema_files[v].name);
			goto fail;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (db_exec(d, sql))
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d",
		 CDM_APPLICATION_ID);
	if (db_exec(d, sql) || db_exec(d, "COMMIT"))
		goto fail;
	d->version = v;
	return 0;
fail:
	sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static long long proc_start_time(long long pid)
{
	char path[64], *s, *p;
	long long start = 0;
	int field;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	s = read_file(path, 4096, NULL);
	if (!s)
		return -1;
	/* field 22 (starttime), counted after the parenthesised comm */
	p = strrchr(s, ')');
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoll(p + 1, NULL, 10);
	free(s);
	return start;
}

void owner_identity(char *host, size_t hl, char *boot, size_t bl,
		    long long *pid, long long *start)
{
	char *b = read_line_file("/proc/sys/kernel/random/boot_id");

	if (gethostname(host, hl - 1))
		snprintf(host, hl, "unknown");
	host[hl - 1] = 0;
	snprintf(boot, bl, "%s", b ? b : "");
	free(b);
	*pid = getpid();
	*start = proc_start_time(*pid);
}

/*
 * A 'running' run whose owner is gone (killed, machine rebooted) was
 * interrupted. Runs owned by other hosts sharing the file are left alone:
 * we cannot see their processes.
 */
static int mark_stale_runs(struct cdm_db *d, int *found)
{
	char host[256], boot[64];
	long long pid, start;
	sqlite3_stmt *sel, *upd;
	int r;

	*found = 0;
	owner_identity(host, sizeof(host), boot, sizeof(boot), &pid, &start);
	sel = db_prepare(d, "SELECT id, owner_boot, owner_pid, owner_start FROM runs WHERE status = 'running' AND owner_host = ?");
	upd = d->readonly ? NULL : db_prepare(d, "UPDATE runs SET status = 'interrupted', status_reason = ?, ended_at = coalesce(ended_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) WHERE id = ? AND status = 'running'");
	if (!sel || (!upd && !d->readonly)) {
		sqlite3_finalize(sel);
		sqlite3_finalize(upd);
		return -1;
	}
	sqlite3_bind_text(sel, 1, host, -1, SQLITE_TRANSIENT);
	while ((r = db_step(d, sel)) == SQLITE_ROW) {
		const char *why = NULL;
		long long opid = sqlite3_column_int64(sel, 2);

		if (strcmp(col_text(sel, 1), boot))
			why = "the machine rebooted while the run was in progress";
		else if (proc_start_time(opid) != sqlite3_column_int64(sel, 3))
			why = "the cdmbench process ended without finishing the run (killed?)";
		if (!why)
			continue;
		(*found)++;
		if (d->readonly)
			continue;	/* counted: a writable open marks it */
		sqlite3_bind_text(upd, 1, why, -1, SQLITE_STATIC);
		sqlite3_bind_int64(upd, 2, sqlite3_column_int64(sel, 0));
		if (db_step(d, upd) < 0)
			break;
		sqlite3_reset(upd);
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return r == SQLITE_DONE ? 0 : -1;
}

/* one journal_mode pragma: the mode it reports, or NULL with *rc set */
static char *journal_mode(struct cdm_db *d, const char *sql, int *rc)
{
	sqlite3_stmt *st = NULL;
	char *mode = NULL;

	*rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL);
	if (*rc == SQLITE_OK) {
		*rc = sqlite3_step(st);
		if (*rc == SQLITE_ROW)
			mode = xstrdup(col_text(st, 0));
	}
	sqlite3_finalize(st);
	return mode;
}

/*
 * Switch to WAL, unless another writer already did (the mode is kept in
 * the file). The switch needs the file alone for a moment, and SQLite
 * answers SQLITE_BUSY at once, without the busy handler, when two new
 * writers hold a read lock each and wait for one another: back off and
 * look again, within the busy timeout, rather than warn about a mode the
 * other writer has set by then.
 */
static char *set_wal(struct cdm_db *d)
{
	char *mode = NULL;
	int rc, ms;

	for (ms = 0; ms < DB_BUSY_MS; ms += 10) {
		mode = journal_mode(d, "PRAGMA journal_mode", &rc);
		if (mode && !strcmp(mode, "wal"))
			return mode;
		free(mode);
		mode = journal_mode(d, "PRAGMA journal_mode = WAL", &rc);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		free(mode);
		mode = NULL;
		usleep(10000);
	}
	return mode;
}

static int configure(struct cdm_db *d)
{
	char *mode;

	if (db_exec(d, "PRAGMA foreign_keys = ON"))
		return -1;
	if (d->readonly)
		return 0;
	mode = set_wal(d);
	if (!mode)
		cdm_warn("%s: WAL mode unavailable (%s); concurrent writers will wait longer",
			 d->path, sqlite3_errmsg(d->db));
	else if (strcmp(mode, "wal"))
		cdm_warn("%s: WAL mode unavailable (journal mode '%s'); concurrent writers will wait longer",
			 d->path, mode);
	free(mode);
	/* WAL + NORMAL: a commit survives a process crash (kill -9); only
	 * power loss can drop the last transactions */
	/* a case of millions of samples is one transaction: keep it in memory */
	if (db_exec(d, "PRAGMA cache_size = -65536"))
		return -1;
	return db_exec(d, "PRAGMA synchronous = NORMAL");
}

/* a path as an SQLite URI ("file:..."), with the characters URIs
 * reserve percent-encoded */
static char *path_uri(const char *path, bool immutable)
{
	struct sbuf sb;
	const unsigned char *p;

	sb_init(&sb);
	sb_adds(&sb, "file:");
	for (p = (const unsigned char *)path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#' || *p <= 0x20 ||
		    *p >= 0x7f)
			sb_addf(&sb, "%%%02X", *p);
		else
			sb_addc(&sb, *p);
	}
	sb_adds(&sb, immutable ? "?mode=ro&immutable=1" : "?mode=ro");
	return sb_detach(&sb);
}

static bool on_readonly_fs(const char *path)
{
	struct statvfs v;

	return statvfs(path, &v) == 0 && (v.f_flag & ST_RDONLY);
}

/*
 * Writable, for the little a reader may need done first: apply schema
 * migrations and mark runs whose process died. The journal mode is left
 * as it is (only `run` switches a database to WAL), so reading a copy
 * never changes what kind of file it is.
 */
static int maintain(const char *path)
{
	struct cdm_db w;
	int found, r;

	memset(&w, 0, sizeof(w));
	w.path = xstrdup(path);
	if (sqlite3_open_v2(path, &w.db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = db_fail(&w, "cannot open database");
		goto out;
	}
	sqlite3_extended_result_codes(w.db, 1);
	sqlite3_busy_timeout(w.db, DB_BUSY_MS);
	r = check_identity(&w) || migrate(&w) || mark_stale_runs(&w, &found) ?
		-1 : 0;
out:
	db_close(&w);
	return r;
}

static int open_ro(struct cdm_db *d, const char *path, bool immutable)
{
	char *uri = path_uri(path, immutable);
	int r, v;

	if (d->db)
		sqlite3_close_v2(d->db);
	d->db = NULL;
	r = sqlite3_open_v2(uri, &d->db, SQLITE_OPEN_READONLY |
			    SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (r != SQLITE_OK)
		return r;
	sqlite3_extended_result_codes(d->db, 1);
	sqlite3_busy_timeout(d->db, DB_BUSY_MS);
	/* the first read is where a WAL file without its -shm fails */
	if (pragma_int(d, "PRAGMA schema_version", &v))
		return sqlite3_errcode(d->db);
	return SQLITE_OK;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/*
 * A WAL database on a read-only medium whose -shm is missing: SQLite
 * cannot build the WAL index there. Without a -wal (or an empty one) the
 * file alone is the database, and immutable reads it; with one, the last
 * transactions live only in the -wal, so both files are copied to a
 * private directory and read from there, rather than shown without them.
 */
static int open_ro_medium(struct cdm_db *d, const char *path)
{
	char *wal = xasprintf("%s-wal", path), *tmpl, *copy, *cwal;
	const char *tmp = getenv("TMPDIR");
	size_t len;
	char *data;
	int r = -1;

	if (file_size(wal) <= 0) {
		free(wal);
		return open_ro(d, path, true) == SQLITE_OK ? 0 :
			db_fail(d, "cannot read the database");
	}
	tmpl = xasprintf("%s/cdmbench-ro.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		cdm_errno(errno, "%s: on a read-only medium with an unmerged WAL, and no private copy can be made in %s",
			  path, tmpl);
		free(tmpl);
		free(wal);
		return -1;
	}
	d->tmpdir = tmpl;
	copy = xasprintf("%s/db", tmpl);
	cwal = xasprintf("%s/db-wal", tmpl);
	data = read_file(path, 0, &len);
	if (data && !write_file(copy, data, len)) {
		free(data);
		data = read_file(wal, 0, &len);
		if (data && !write_file(cwal, data, len))
			r = 0;
	}
	free(data);
	if (r)
		cdm_errno(errno, "%s: copying it and its WAL to %s failed",
			  path, tmpl);
	else if (open_ro(d, copy, false) != SQLITE_OK)
		r = db_fail(d, "cannot read the database");
	free(copy);
	free(cwal);
	free(wal);
	return r;
}

/*
 * Read commands open the file read-only, so they never write to a
 * database they only show, and work from a read-only mount.
 */
static int open_read(struct cdm_db *d, const char *path)
{
	bool medium_ro = on_readonly_fs(path);
	bool writable = !medium_ro && access(path, W_OK) == 0;
	int found = 0, r;

	d->readonly = true;
	r = open_ro(d, path, false);
	if (r != SQLITE_OK && medium_ro && r != SQLITE_NOTADB)
		r = open_ro_medium(d, path) ? -1 : SQLITE_OK;
	if (r == SQLITE_NOTADB)
		return cdm_err("%s: not an SQLite database", d->path);
	if (r != SQLITE_OK)
		return r == -1 ? -1 : db_fail(d, "cannot read the database");
	if (check_identity(d))
		return -1;
	if (d->version >= db_latest_version() &&
	    mark_stale_runs(d, &found))
		return -1;
	if (writable && (d->version < db_latest_version() || found)) {
		if (maintain(path) ||
		    pragma_int(d, "PRAGMA user_version", &d->version))
			return -1;
	}
	if (d->version < db_latest_version())
		return cdm_err("%s: schema version %d needs upgrading to %d, but the database is read-only",
			       d->path, d->version, db_latest_version());
	return db_exec(d, "PRAGMA foreign_keys = ON");
}

int db_open(struct cdm_db *d, const char *path, enum db_open_mode mode)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX;
	int found;

	memset(d, 0, sizeof(*d));
	d->path = xstrdup(path);
	if (check_path(path, mode))
		goto fail;
	if (mode == DB_READ || (mode == DB_UPDATE &&
				(on_readonly_fs(path) || access(path, W_OK)))) {
		if (open_read(d, path))
			goto fail;
		return 0;
	}
	if (mode == DB_UPDATE) {
		flags &= ~SQLITE_OPEN_CREATE;
		if (sqlite3_open_v2(path, &d->db, flags, NULL) != SQLITE_OK) {
			db_fail(d, "cannot open database");
			goto fail;
		}
		sqlite3_extended_result_codes(d->db, 1);
		sqlite3_busy_timeout(d->db, DB_BUSY_MS);
		if (check_identity(d) || db_exec(d, "PRAGMA foreign_keys = ON") ||
		    migrate(d) || mark_stale_runs(d, &found))
			goto fail;
		return 0;
	}
	/* SQLite would open it read-only without a word, and the first
	 * write would fail after the run has begun */
	if (access(path, F_OK) == 0 && access(path, W_OK)) {
		cdm_errno(errno, "--db %s: database is read-only", path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &d->db, flags, NULL) != SQLITE_OK) {
		db_fail(d, "cannot open database");
		goto fail;
	}
	sqlite3_extended_result_codes(d->db, 1);
	/* before the first read: another writer may hold the lock already */
	sqlite3_busy_timeout(d->db, DB_BUSY_MS);
	if (check_identity(d) || configure(d) || migrate(d) ||
	    mark_stale_runs(d, &found))
		goto fail;
	return 0;
fail:
	db_close(d);
	return -1;
}

void db_close(struct cdm_db *d)
{
	if (d->db)
		sqlite3_close_v2(d->db);
	d->db = NULL;
	if (d->tmpdir) {
		char *f = xasprintf("%s/db", d->tmpdir);

		unlink(f);
		free(f);
		f = xasprintf("%s/db-wal", d->tmpdir);
		unlink(f);
		free(f);
		f = xasprintf("%s/db-shm", d->tmpdir);
		unlink(f);
		free(f);
		rmdir(d->tmpdir);
		free(d->tmpdir);
		d->tmpdir = NULL;
	}
	free(d->path);
	d->path = NULL;
}

static void iso(char *buf, size_t len, uint64_t wall)
{
	fmt_iso_time(buf, len, wall ? wall : cdm_wall_ns());
}

/* insert-or-find for the small identity tables */
static int upsert_id(struct cdm_db *d, const char *ins, const char *sel,
		     const char *const *txt, int ntxt, const long long *num,
		     int nnum, int64_t *id)
{
	const char *sqls[2] = { ins, sel };
	int k, i, r = -1;

	for (k = 0; k < 2; k++) {
		sqlite3_stmt *st = db_prepare(d, sqls[k]);

		if (!st)
			return -1;
		for (i = 0; i < ntxt; i++)
			sqlite3_bind_text(st, i + 1, txt[i], -1, SQLITE_STATIC);
		for (i = 0; i < nnum; i++)
			sqlite3_bind_int64(st, ntxt + i + 1, num[i]);
		r = db_step(d, st);
		if (k == 1 && r == SQLITE_ROW)
			*id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (r < 0)
			return -1;
	}
	return r == SQLITE_ROW ? 0 : db_fail(d, "identity lookup failed");
}

static int host_id(struct cdm_db *d, const struct cdm_host *h, int64_t *id)
{
	const char *t[] = { h->hostname, h->cpu_model, h->arch };
	long long n[] = { h->cpus, h->numa_nodes, (long long)h->mem_bytes };

	return upsert_id(d,
		"INSERT OR IGNORE INTO hosts (hostname, cpu_model, arch, cpus, numa_nodes, mem_bytes) VALUES (?, ?, ?, ?, ?, ?)",
		"SELECT id FROM hosts WHERE hostname = ? AND cpu_model = ? AND arch = ? AND cpus = ? AND numa_nodes = ? AND mem_bytes = ?",
		t, 3, n, 3, id);
}

static int kernel_id(struct cdm_db *d, const struct cdm_kernel *k,
		     int64_t *id)
{
	const char *t[] = { k->release, k->version,
			    k->config_digest ? k->config_digest : "" };

	return upsert_id(d,
		"INSERT OR IGNORE INTO kernels (release, version, config_digest) VALUES (?, ?, ?)",
		"SELECT id FROM kernels WHERE release = ? AND version = ? AND config_digest = ?",
		t, 3, NULL, 0, id);
}

/* one row of a statement run once per row; a failure is said as what */
static int step_reset(struct cdm_db *d, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);

	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return db_fail(d, what);
	return 0;
}

static int insert_kv(struct cdm_db *d, const char *sql, int64_t id,
		     const struct cdm_kvlist *l)
{
	sqlite3_stmt *st;
	size_t i;
	int r = 0;

	if (!l->n)
		return 0;
	st = db_prepare(d, sql);
	if (!st)
		return -1;
	for (i = 0; i < l->n && !r; i++) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, l->v[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, l->v[i].value, -1, SQLITE_STATIC);
		r = step_reset(d, st, "query failed");
	}
	sqlite3_finalize(st);
	return r;
}

static int insert_devices(struct cdm_db *d, int64_t run_id,
			  const struct cdm_run_info *r)
{
	sqlite3_stmt *st;
	size_t i;
	int rc = 0;

	st = db_prepare(d, "INSERT OR REPLACE INTO devices (run_id, path, backend, memory_type, detail) VALUES (?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	for (i = 0; i < r->ndevs && !rc; i++) {
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_text(st, 2, r->devs[i].path, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->devs[i].backend, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, r->devs[i].memory_type, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 5, r->devs[i].detail, -1, SQLITE_STATIC);
		rc = step_reset(d, st, "query failed");
	}
	sqlite3_finalize(st);
	return rc;
}

/* likwid's view of the host, schema 005 */
#define TOPO_SQL "INSERT OR REPLACE INTO host_topology (host_id, key, value) VALUES (?, ?, ?)"

static int rollback(struct cdm_db *d)
{
	sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int insert_run(struct cdm_db *d, const struct cdm_run_info *r,
		      int64_t hid, int64_t kid, int64_t *run_id)
{
	char started[40], host[256], boot[64];
	long long pid, start;
	sqlite3_stmt *st;

	iso(started, sizeof(started), r->start_wall);
	owner_identity(host, sizeof(host), boot, sizeof(boot), &pid, &start);
	st = db_prepare(d, "INSERT INTO runs (uuid, started_at, status, harness_version, git_revision, job_name, job_text, seed, environment, host_id, kernel_id, cmdline, argv, kmsg_status, owner_host, owner_boot, owner_pid, owner_start) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, r->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, started, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->harness_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->git_revision, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->job_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->job_text ? r->job_text : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)r->seed);
	sqlite3_bind_text(st, 8, r->environment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, hid);
	sqlite3_bind_int64(st, 10, kid);
	sqlite3_bind_text(st, 11, r->cmdline ? r->cmdline : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 12, r->argv ? r->argv : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, r->kmsg_status ? r->kmsg_status : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 14, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, boot, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 16, pid);
	sqlite3_bind_int64(st, 17, start);
	if (db_step_final(d, st))
		return -1;
	*run_id = sqlite3_last_insert_rowid(d->db);
	return 0;
}

/*
 * Inside a Slurm step every run records which node it ran on: the node
 * names of one host differ only there (hostname is shared), and a merged
 * fleet database is read per node (schema/006_fleet.sql).
 */
static int insert_node(struct cdm_db *d, int64_t run_id)
{
	const char *node = getenv("SLURMD_NODENAME");
	const char *job = getenv("SLURM_JOB_ID"), *step = getenv("SLURM_STEP_ID");
	sqlite3_stmt *st;

	if (!node || !*node)
		return 0;
	st = db_prepare(d, "INSERT INTO run_nodes (run_id, node, slurm_job_id, slurm_step_id) VALUES (?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, job ? job : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, step ? step : "", -1, SQLITE_STATIC);
	return db_step_final(d, st);
}

int db_run_begin(struct cdm_db *d, const struct cdm_run_info *r,
		 int64_t *run_id)
{
	int64_t hid, kid;

	if (db_exec(d, "BEGIN IMMEDIATE"))
		return -1;
	if (host_id(d, &r->host, &hid) || kernel_id(d, &r->kernel, &kid) ||
	    insert_kv(d, TOPO_SQL, hid, &r->host.topo) ||
	    insert_run(d, r, hid, kid, run_id) ||
	    insert_kv(d, "INSERT OR REPLACE INTO run_tags (run_id, key, value) VALUES (?, ?, ?)",
		      *run_id, &r->tags) ||
	    insert_devices(d, *run_id, r) || insert_node(d, *run_id) ||
	    db_exec(d, "COMMIT"))
		return rollback(d);
	return 0;
}

int db_run_identity(struct cdm_db *d, int64_t run_id,
		    const struct cdm_run_info *r)
{
	int64_t hid, kid;
	sqlite3_stmt *st;

	if (db_exec(d, "BEGIN IMMEDIATE"))
		return -1;
	if (host_id(d, &r->host, &hid) || kernel_id(d, &r->kernel, &kid) ||
	    insert_kv(d, TOPO_SQL, hid, &r->host.topo))
		return rollback(d);
	st = db_prepare(d, "UPDATE runs SET host_id = ?, kernel_id = ?, cmdline = ?, environment = ?, kmsg_status = ? WHERE id = ?");
	if (!st)
		return rollback(d);
	sqlite3_bind_int64(st, 1, hid);
	sqlite3_bind_int64(st, 2, kid);
	sqlite3_bind_text(st, 3, r->cmdline, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->environment, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->kmsg_status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, run_id);
	if (db_step_final(d, st) || insert_devices(d, run_id, r) ||
	    insert_kv(d, "INSERT OR REPLACE INTO run_tags (run_id, key, value) VALUES (?, ?, ?)",
		      run_id, &r->tags) || db_exec(d, "COMMIT"))
		return rollback(d);
	return 0;
}

static void bind_real(sqlite3_stmt *st, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, v);
}

static int insert_summary(struct cdm_db *d, int64_t mid,
			  const struct cdm_summary *s)
{
	sqlite3_stmt *st = db_prepare(d, "INSERT INTO summaries (metric_id, n, nonfinite, min, p5, median, mean, p95, p99, max, stddev, mad) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, mid);
	sqlite3_bind_int64(st, 2, s->n);
	sqlite3_bind_int64(st, 3, s->nonfinite);
	bind_real(st, 4, s->min);
	bind_real(st, 5, s->p5);
	bind_real(st, 6, s->median);
	bind_real(st, 7, s->mean);
	bind_real(st, 8, s->p95);
	bind_real(st, 9, s->p99);
	bind_real(st, 10, s->max);
	bind_real(st, 11, s->stddev);
	bind_real(st, 12, s->mad);
	return db_step_final(d, st);
}

/*
 * Samples go in SAMPLE_BATCH rows per statement: one sqlite3_step() per
 * row costs more than the B-tree append itself (`make bench` measures).
 */
#define SAMPLE_BATCH 64

static char *batch_insert_sql(void)
{
	struct sbuf sb;
	int i;

	sb_init(&sb);
	sb_adds(&sb, "INSERT INTO samples (metric_id, seq, value) VALUES ");
	for (i = 0; i < SAMPLE_BATCH; i++)
		sb_adds(&sb, i ? ",(?,?,?)" : "(?,?,?)");
	return sb_detach(&sb);
}

static int insert_samples(struct cdm_db *d, sqlite3_stmt *one,
			  sqlite3_stmt *many, int64_t mid,
			  const struct cdm_metric_res *m)
{
	size_t i = 0;
	int k;

	for (; i + SAMPLE_BATCH <= m->n; i += SAMPLE_BATCH) {
		for (k = 0; k < SAMPLE_BATCH; k++) {
			sqlite3_bind_int64(many, 3 * k + 1, mid);
			sqlite3_bind_int64(many, 3 * k + 2, m->spilled + i + k);
			bind_real(many, 3 * k + 3, m->v[i + k]);
		}
		if (step_reset(d, many, "storing samples failed"))
			return -1;
	}
	for (; i < m->n; i++) {
		sqlite3_bind_int64(one, 1, mid);
		sqlite3_bind_int64(one, 2, m->spilled + i);
		bind_real(one, 3, m->v[i]);
		if (step_reset(d, one, "storing samples failed"))
			return -1;
	}
	return 0;
}

static int insert_metrics(struct cdm_db *d, int64_t case_id,
			  const struct cdm_case_res *c)
{
	sqlite3_stmt *mst, *sst, *bst;
	char *batch = batch_insert_sql();
	size_t i;
	int r = -1;

	mst = db_prepare(d, "INSERT INTO metrics (case_id, name, unit, better) VALUES (?, ?, ?, ?)");
	sst = db_prepare(d, "INSERT INTO samples (metric_id, seq, value) VALUES (?, ?, ?)");
	bst = db_prepare(d, batch);
	free(batch);
	if (!mst || !sst || !bst)
		goto out;
	for (i = 0; i < c->nmetrics; i++) {
		const struct cdm_metric_res *m = &c->metrics[i];
		int64_t mid;

		if (!m->name)
			continue;	/* declared by a child that then died */
		sqlite3_bind_int64(mst, 1, case_id);
		sqlite3_bind_text(mst, 2, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(mst, 3, m->unit, -1, SQLITE_STATIC);
		sqlite3_bind_text(mst, 4, m->better ? "higher" : "lower", -1,
				  SQLITE_STATIC);
		if (db_step(d, mst) < 0)
			goto out;
		sqlite3_reset(mst);
		mid = sqlite3_last_insert_rowid(d->db);
		if (insert_summary(d, mid, &m->sum) ||
		    (m->spilled && db_spill_store(d, i, mid)) ||
		    insert_samples(d, sst, bst, mid, m))
			goto out;
	}
	r = 0;
out:
	sqlite3_finalize(mst);
	sqlite3_finalize(sst);
	sqlite3_finalize(bst);
	return r;
}

static int insert_kevents(struct cdm_db *d, int64_t run_id, int64_t case_id,
			  const struct cdm_kevents *k)
{
	sqlite3_stmt *st;
	size_t i;
	int r = 0;

	if (!k->n)
		return 0;
	st = db_prepare(d, "INSERT INTO kevents (run_id, case_id, seq, ts_usec, level, facility, class, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	for (i = 0; i < k->n && !r; i++) {
		const struct cdm_kevent *e = &k->v[i];

		sqlite3_bind_int64(st, 1, run_id);
		if (case_id)
			sqlite3_bind_int64(st, 2, case_id);
		else
			sqlite3_bind_null(st, 2);
		sqlite3_bind_int64(st, 3, e->seq);
		sqlite3_bind_int64(st, 4, e->ts_usec);
		sqlite3_bind_int(st, 5, e->level);
		sqlite3_bind_int(st, 6, e->facility);
		sqlite3_bind_text(st, 7, cdm_kclass_name(e->cls), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 8, e->text, -1, SQLITE_STATIC);
		r = step_reset(d, st, "query failed");
	}
	sqlite3_finalize(st);
	return r;
}

static int insert_case_row(struct cdm_db *d, int64_t run_id,
			   const struct cdm_case_res *c, int64_t *case_id)
{
	char t0[40], t1[40];
	sqlite3_stmt *st;

	iso(t0, sizeof(t0), c->start_wall);
	iso(t1, sizeof(t1), c->end_wall);
	st = db_prepare(d, "INSERT INTO cases (run_id, seq, name, workload, backend, device_type, params, match_key, seed, started_at, ended_at, elapsed_ns, verdict, reason, log) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int(st, 2, c->seq);
	sqlite3_bind_text(st, 3, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->workload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->backend, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->device_type ? c->device_type : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->params, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, c->match_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)c->seed);
	sqlite3_bind_text(st, 10, t0, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, t1, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, c->elapsed_ns);
	sqlite3_bind_text(st, 13, cdm_verdict_name(c->verdict), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 14, c->reason ? c->reason : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 15, c->log.buf ? c->log.buf : "", -1,
			  SQLITE_STATIC);
	if (db_step_final(d, st))
		return -1;
	*case_id = sqlite3_last_insert_rowid(d->db);
	return 0;
}

int db_case(struct cdm_db *d, int64_t run_id, const struct cdm_case_res *c)
{
	int64_t case_id;

	if (db_exec(d, "BEGIN IMMEDIATE"))
		return -1;
	if (insert_case_row(d, run_id, c, &case_id) ||
	    insert_kv(d, "INSERT OR REPLACE INTO case_info (case_id, key, value) VALUES (?, ?, ?)",
		      case_id, &c->info) ||
	    insert_metrics(d, case_id, c) ||
	    insert_kevents(d, run_id, case_id, &c->kev) || db_exec(d, "COMMIT"))
		return rollback(d);
	return 0;
}

int db_kevents(struct cdm_db *d, int64_t run_id, const struct cdm_kevents *k)
{
	if (!k->n)
		return 0;
	if (db_exec(d, "BEGIN IMMEDIATE"))
		return -1;
	if (insert_kevents(d, run_id, 0, k) || db_exec(d, "COMMIT"))
		return rollback(d);
	return 0;
}

int db_run_log(struct cdm_db *d, int64_t run_id, const char *name,
	       const char *text)
{
	sqlite3_stmt *st = db_prepare(d, "INSERT OR REPLACE INTO run_logs (run_id, name, text) VALUES (?, ?, ?)");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text ? text : "", -1, SQLITE_STATIC);
	return db_step_final(d, st);
}

int db_run_end(struct cdm_db *d, int64_t run_id, const char *status,
	       const char *reason)
{
	sqlite3_stmt *st = db_prepare(d, "UPDATE runs SET status = ?, status_reason = ?, ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?");

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reason ? reason : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, run_id);
	return db_step_final(d, st);
}

int db_resolve_run(struct cdm_db *d, const char *spec, int64_t *run_id)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	char *end;
	int rc, n = 0;

	if (!strcmp(spec, "last") || !strcmp(spec, "latest")) {
		st = db_prepare(d, "SELECT id FROM runs ORDER BY id DESC LIMIT 1");
	} else {
		long long v = strtoll(spec, &end, 10);

		if (*spec && !*end && v > 0) {
			st = db_prepare(d, "SELECT id FROM runs WHERE id = ?");
			if (st)
				sqlite3_bind_int64(st, 1, v);
		} else {
			st = db_prepare(d, "SELECT id FROM runs WHERE substr(uuid, 1, length(?1)) = ?1 LIMIT 2");
			if (st)
				sqlite3_bind_text(st, 1, spec, -1, SQLITE_STATIC);
		}
	}
	if (!st)
		return -1;
	while ((rc = db_step(d, st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		n++;
	}
	sqlite3_finalize(st);
	if (rc < 0)
		return -1;
	if (!n)
		return cdm_err("%s: no run '%s' (see 'cdmbench runs')", d->path,
			       spec);
	if (n > 1)
		return cdm_err("%s: run '%s' is ambiguous: give more of the uuid",
			       d->path, spec);
	*run_id = id;
	return db_validate_run(d, id);
}
