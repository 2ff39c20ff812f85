/* SPDX-License-Identifier: GPL-2.0 */
/* A run as test results for CI systems (export_ci.c). */
#ifndef CDM_EXPORT_CI_H
#define CDM_EXPORT_CI_H

#include <stdio.h>

#include "store/db.h"

/* `export --format junit|tap`: one test per case, expectations as output */
int cdm_export_junit(struct cdm_db *d, int64_t run_id, FILE *f);
int cdm_export_tap(struct cdm_db *d, int64_t run_id, FILE *f);

#endif
