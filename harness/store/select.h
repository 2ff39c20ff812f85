/* SPDX-License-Identifier: GPL-2.0 */
/* Choosing runs: ids, 'last', uuid prefixes and KEY=VALUE selectors. */
#ifndef CDM_SELECT_H
#define CDM_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

/* the runs a selector chose, e.g. one side of a comparison */
struct cdm_runset {
	char *spec;		/* as given: "12", "last", "kernel=6.1.192" */
	int64_t *runs;		/* oldest first */
	size_t nruns;
	char *label;		/* "run 12 (kernel 6.1.192, 2024-05-01 10:00)" */
};

/*
 * Resolve a run id, 'last', a uuid prefix, or a selector KEY=VALUE[,...]
 * (kernel=, host=, env=, job=, else a run tag; values may be globs) to
 * runs. Selectors take completed runs only; a single run that is still in
 * progress is refused. Errors are reported; returns -1.
 */
int cdm_select_runs(struct cdm_db *d, const char *spec, bool latest,
		    struct cdm_runset *s) __must_check;
/* " AND ..." SQL terms for a selector over runs r, hosts h, kernels k; the
 * values to bind, in order, go to binds (for history --tag) */
int cdm_selector_sql(const char *sel, struct sbuf *where, char ***binds,
		     int *nbinds) __must_check;
void cdm_runset_free(struct cdm_runset *s);

#endif
