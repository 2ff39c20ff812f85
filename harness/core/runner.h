/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The runner: executes a job's cases one by one, each in its own process,
 * and hands complete results to a sink. Sinks are the SQLite store (on a
 * host) or the result stream (inside an emulated node, read by the host).
 */
#ifndef CDM_RUNNER_H
#define CDM_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/job.h"
#include "core/result.h"

struct cdm_sink;

struct cdm_sink_ops {
	int (*run_begin)(struct cdm_sink *s, const struct cdm_run_info *r);
	/* optional */
	int (*case_start)(struct cdm_sink *s, int seq, const char *name);
	int (*case_done)(struct cdm_sink *s, const struct cdm_case_res *c);
	/* optional: take metric idx's samples now, so a long case does not
	 * grow the parent's memory (adds them to m->spilled, empties m->v) */
	int (*samples)(struct cdm_sink *s, struct cdm_case_res *c, size_t idx);
	/* optional: summarise the metrics whose samples it took */
	int (*summarize)(struct cdm_sink *s, struct cdm_case_res *c);
	int (*kevents)(struct cdm_sink *s, const struct cdm_kevents *k);
	int (*run_end)(struct cdm_sink *s, const char *status,
		       const char *reason);
	void (*close)(struct cdm_sink *s);
};

struct cdm_sink {
	const struct cdm_sink_ops *ops;
	void *priv;
	int64_t run_id;		/* set by the db sink */
};

struct cdm_run_opts {
	struct cdm_kvlist tags;
	bool seed_set;		/* --seed, applied to the job before expansion */
	uint64_t seed;
	/* what the user sees, if set (report/console.h): each case as it
	 * ends, or the whole run at the end */
	void (*show_case)(const struct cdm_case_res *c, int ncases);
	void (*show_run)(const struct cdm_run_info *r, int64_t run_id,
			 const char *status, struct cdm_case_res *cases,
			 size_t n);
	char *argv;		/* the command line, for the record */
	bool progress;		/* draw progress (only on a terminal) */
};

struct cdm_run_totals {
	int verdicts[CDM_NVERDICTS];	/* of the cases stored */
	int unstored;		/* cases that ran but could not be stored */
	bool interrupted;
	int signal;		/* the signal that interrupted the run */
};

/* a new run's identity and the job's: uuid, start, version, job, seed */
void run_info_for_job(struct cdm_run_info *r, const struct cdm_job *job);

int cdm_run_job(struct cdm_job *job, struct cdm_sink *sink,
		const struct cdm_run_opts *o, struct cdm_run_totals *t);

/* sinks */
int sink_db_init(struct cdm_sink *s, const char *db_path);
int sink_stream_init(struct cdm_sink *s, const char *path);
void sink_close(struct cdm_sink *s);

/* FAIL a case during which the kernel warned (if common->kmsg_fail) */
void cdm_kmsg_verdict(const struct cdm_common *common, struct cdm_case_res *c);

/* set by SIGINT/SIGTERM handlers; the runner winds down cleanly */
extern volatile int cdm_stop_signal;
void cdm_install_stop_handlers(void);

#endif
