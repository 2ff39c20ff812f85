/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A job: the list of cases to run, from an INI job file (parsed by libinih)
 * or from `run -w WORKLOAD --set ...`. Every value is validated against the
 * option tables before anything runs, and every error names where the
 * value came from (file:line, or the --set option).
 */
#ifndef CDM_JOB_H
#define CDM_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "core/result.h"
#include "core/workload.h"

/* one key = value as written, with where it was written */
struct cdm_entry {
	char *section;
	char *key;
	char *value;
	char *origin;		/* "configs/x.ini:12" or "--set size=4K" */
	int line;		/* 0 for entries from the command line */
};

struct cdm_case_spec {
	char *name;		/* section, plus [k=v ...] for matrix cells */
	char *section;
	const struct cdm_workload *wl;
	void *cfg;		/* the workload's parsed options */
	struct cdm_common common;
	struct cdm_kvlist params;	/* every option's canonical value */
	struct cdm_kvlist expect;	/* acceptance expectations (expect.*) */
	char *params_json;
	char *match_key;
	uint64_t seed;
};

struct cdm_job {
	char *path;		/* NULL for command-line jobs */
	char *name;
	char *description;
	char *text;		/* exact job text, stored with the run */
	uint64_t seed;
	bool seed_set;
	bool seed_from_cli;	/* --seed wins over [global] seed */
	struct cdm_kvlist tags;
	struct cdm_case_spec *cases;
	size_t ncases;

	/* raw entries, before expansion */
	struct cdm_entry *ent;
	size_t nent;
	size_t capent;
	/* sections in file order, with their header line */
	char **sections;
	int *section_line;
	size_t nsections;
};

int job_load_file(struct cdm_job *job, const char *path) __must_check;
/* the same from text already in memory (job->text is not set); path is
 * the name errors give */
int job_parse_text(struct cdm_job *job, const char *path, const char *text,
		   size_t len) __must_check;
/* a one-section job for `run -w`; sets are "key=value" strings */
int job_from_workload(struct cdm_job *job, const char *workload,
		      char **sets, int nsets) __must_check;
/* --set on top of a job file: applies to every case having the option */
int job_add_overrides(struct cdm_job *job, char **sets, int nsets)
	__must_check;
/* expand the matrix and validate every case; call once after loading */
int job_expand(struct cdm_job *job) __must_check;
void job_free(struct cdm_job *job);

const struct cdm_workload *cdm_find_workload(const char *name);
extern const struct cdm_workload *const cdm_workloads[];
/* "did you mean" for an unknown workload name; NULL if nothing close */
const char *cdm_workload_hint(const char *name);

#endif
