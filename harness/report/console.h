/* SPDX-License-Identifier: GPL-2.0 */
/* Results on the terminal as a run goes (console.c). */
#ifndef CDM_CONSOLE_H
#define CDM_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/result.h"

/* one result line per case, shared by run and vm run */
void print_case_line(const struct cdm_case_res *c, int ncases);
void print_run_json(const struct cdm_run_info *r, int64_t run_id,
		    const char *status, struct cdm_case_res *cases,
		    size_t n);

#endif
