/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SQLite results store. Only the runner parent (or the host side of a
 * VM run) writes here. WAL plus a busy timeout lets several cdmbench
 * processes share one database; every case is committed in its own
 * transaction, so a kill -9 loses at most the case in progress.
 */
#ifndef CDM_DB_H
#define CDM_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/result.h"

#define CDM_APPLICATION_ID 0x43444d42	/* "CDMB" */
#define CDM_DEFAULT_DB "results/cdmbench.db"

struct cdm_db {
	sqlite3 *db;
	char *path;
	bool readonly;
	int version;		/* PRAGMA user_version after migrations */
	char *tmpdir;		/* a private copy, for a WAL database on a
				 * read-only medium (see open_read) */
};

enum db_open_mode {
	DB_WRITE,		/* create if missing, migrate, writable */
	DB_READ,		/* must exist; opened read-only (immutable on
				 * a read-only medium); a brief writable open
				 * first migrates and marks dead runs, if it
				 * can, without changing the journal mode */
	DB_UPDATE,		/* must exist; writable if the file is (else as
				 * DB_READ, readonly set), journal mode kept:
				 * for commands that note what they did (push) */
};

int db_open(struct cdm_db *d, const char *path, enum db_open_mode mode)
	__must_check;
void db_close(struct cdm_db *d);
int db_latest_version(void);
/* a one-line "where: what" error carrying SQLite's message */
int db_fail(struct cdm_db *d, const char *what);

int db_run_begin(struct cdm_db *d, const struct cdm_run_info *r,
		 int64_t *run_id) __must_check;
/* replace host, kernel, environment, devices of a run (VM guests) */
int db_run_identity(struct cdm_db *d, int64_t run_id,
		    const struct cdm_run_info *r) __must_check;
int db_case(struct cdm_db *d, int64_t run_id, const struct cdm_case_res *c)
	__must_check;
int db_kevents(struct cdm_db *d, int64_t run_id, const struct cdm_kevents *k)
	__must_check;
int db_run_log(struct cdm_db *d, int64_t run_id, const char *name,
	       const char *text) __must_check;
int db_run_end(struct cdm_db *d, int64_t run_id, const char *status,
	       const char *reason) __must_check;

/* helpers for the query commands */
sqlite3_stmt *db_prepare(struct cdm_db *d, const char *sql);
int db_step(struct cdm_db *d, sqlite3_stmt *st);	/* ROW, DONE or -1 */
/* one step of a statement that writes, then finalized: 0 or -1 (said) */
int db_step_final(struct cdm_db *d, sqlite3_stmt *st);
/* SQL text run as it is; an error is said with the database's path */
int db_exec(struct cdm_db *d, const char *sql);
const char *col_text(sqlite3_stmt *st, int i);	/* never NULL */
/* resolve "42", "last" or a uuid prefix to a run id */
int db_resolve_run(struct cdm_db *d, const char *spec, int64_t *run_id)
	__must_check;

/*
 * Checking stored values before they are used (validate.c). A problem is
 * "TABLE row ROW: what is wrong"; fn, if set, sees each one.
 */
struct db_problems {
	void (*fn)(void *arg, const char *msg);
	void *arg;
	char *first;		/* the first problem, for a one-line error */
	int n;
};
/* run_id 0: every run; deep adds the rules that read every sample */
int db_validate(struct cdm_db *d, int64_t run_id, bool deep,
		struct db_problems *p) __must_check;
/* 0, or -1 after a one-line error naming the first bad row of the run */
int db_validate_run(struct cdm_db *d, int64_t run_id) __must_check;

/*
 * Streaming a long case's samples (spill.c): db_spill() moves the metric's
 * in-memory samples to a private TEMP table and empties the buffer;
 * db_spill_summarize() spills the rest and computes the summary from the
 * table; db_spill_store() copies them into samples under metric_id (in
 * the caller's transaction).
 */
int db_spill_reset_table(struct cdm_db *d) __must_check;
int db_spill_reset_metric(struct cdm_db *d, size_t idx) __must_check;
int db_spill(struct cdm_db *d, size_t idx, struct cdm_metric_res *m)
	__must_check;
int db_spill_summarize(struct cdm_db *d, size_t idx, struct cdm_metric_res *m)
	__must_check;
int db_spill_store(struct cdm_db *d, size_t idx, int64_t metric_id)
	__must_check;

/* liveness record for 'running' rows */
void owner_identity(char *host, size_t hl, char *boot, size_t bl,
		    long long *pid, long long *start);

#endif
