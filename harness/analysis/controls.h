/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-run controls a case may time beside its kernel operation
 * (core/child.c, workloads/migrate.c), by kind in order of preference: a
 * refault (kernel paths, which drift with the host as a migration or a
 * fault does) before a copy (runs recorded before the refault have only
 * that). Each kind by the workload's own name and by the harness's.
 * compare and history read the same table, so they agree on which metric
 * is a control and which control a metric is measured against.
 */
#ifndef CDM_CONTROLS_H
#define CDM_CONTROLS_H

#include <stdbool.h>
#include <string.h>

#define CDM_CONTROL_KINDS 2

static const char *const cdm_controls[CDM_CONTROL_KINDS][2] = {
	{ "refault_bw", "calib_refault_bw" },
	{ "memcpy_bw", "calib_bw" },
};

/* a control is compared raw, never against another control */
static inline bool cdm_is_control(const char *metric)
{
	int k, j;

	for (k = 0; k < CDM_CONTROL_KINDS; k++)
		for (j = 0; j < 2; j++)
			if (!strcmp(metric, cdm_controls[k][j]))
				return true;
	return false;
}

#endif
