/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel events and hardware counters beside timing changes: for a metric
 * of a case, the counters of the phase it times (to_sys_page -> phase
 * to_sys), per page moved (per entry where pages mean nothing), on two
 * sides. So a reader sees whether the kernel did more work or the same
 * work more slowly. compare, history and the report call these.
 */
#ifndef CDM_EVENTS_H
#define CDM_EVENTS_H

#include <stdint.h>
#include <stdio.h>

#include "analysis/compare.h"
#include "analysis/history.h"
#include "store/db.h"

/*
 * "faults_minor per page 1.00 -> 1.00, vmstat pgmigrate_success per page
 * 1 -> 1, ..." for case_name's metric, base runs against candidate runs;
 * NULL when neither side recorded counters for it. Unavailable sources
 * are named with their reason. malloc'd.
 */
char *ev_line(struct cdm_db *d, const int64_t *base, size_t nbase,
	      const int64_t *cand, size_t ncand, const char *case_name,
	      const char *metric);
/* ev_line for one row of a comparison */
char *ev_compare_row(struct cdm_db *d, const struct cmp_result *r,
		     const struct cmp_row *row);
/* whether row I of R gets an events line: changed, and the first of its
 * measurement's units */
bool ev_row_wanted(const struct cmp_result *r, size_t i);
/* compare's text output: one line per changed measurement */
void ev_print_compare(struct cdm_db *d, const struct cmp_result *r, FILE *out);

/* history's text output: each step's run against the run before it */
void ev_print_history(struct cdm_db *d, const char *case_name,
		      const char *metric, const struct hist *h, FILE *out);

/* the phase a metric belongs to among phases[] ("run" if none fits) */
const char *ev_phase_of(const char *metric, char *const *phases, size_t n);

#endif
