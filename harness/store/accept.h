/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stored run's acceptance verdict: PASS when every case passed or was
 * skipped and every expectation (core/expect.h) held.
 */
#ifndef CDM_ACCEPT_H
#define CDM_ACCEPT_H

#include <stdint.h>
#include <stdio.h>

#include "store/db.h"

enum cdm_accept {
	CDM_ACCEPT_PASS,
	CDM_ACCEPT_FAIL,
	CDM_ACCEPT_INCOMPLETE,	/* the run is still going */
};

/* a run's acceptance verdict, with a reason per failing case */
struct cdm_acceptance {
	enum cdm_accept verdict;
	int cases;
	int measured;		/* passed cases with a sample or a fact */
	int verdicts[CDM_NVERDICTS];
	int expect_pass, expect_fail, expect_skip;
	struct cdm_kvlist reasons;	/* case name (or "run") -> why */
};

int cdm_acceptance(struct cdm_db *d, int64_t run_id,
		   struct cdm_acceptance *a) __must_check;
void cdm_acceptance_free(struct cdm_acceptance *a);
const char *cdm_accept_name(enum cdm_accept v);
/* "PASS: 5 cases passed, 1 skipped; 3 expectations met" */
void cdm_acceptance_line(const struct cdm_acceptance *a, struct sbuf *sb);
/* for `show`: the verdict line and the reasons, indented */
void cdm_acceptance_print(struct cdm_db *d, int64_t run_id, FILE *f);

#endif
