/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-run controls a case may time beside its kernel operation
 * (core/child.c, workloads/migrate.c), by kind in order of preference: a
 * refault (kernel paths, which drift with the host as a migration or a
 * fault does) before a copy (runs recorded before the refault have only
 * that). Each kind by the workload's own name and by the harness's.
 *
 * The refault runs through the kernel (faults, the page allocator,
 * zeroing), so a kernel can change it as it changes what it controls:
 * init_on_free, or a slower allocator, slows a refault and a migration
 * alike, and a migration in units of refaults hides it. The copy runs in
 * user space. So a refault is itself judged in units of the copy, and
 * where it changed between the sides, the case's metrics are judged
 * against the copy instead (analysis/compare.c).
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

/*
 * The kind of a control metric, or -1 for any other metric. A control is
 * measured against the kinds after its own (a refault in units of the
 * copy); the last kind is compared raw.
 */
static inline int cdm_control_kind(const char *metric)
{
	int k, j;

	for (k = 0; k < CDM_CONTROL_KINDS; k++)
		for (j = 0; j < 2; j++)
			if (!strcmp(metric, cdm_controls[k][j]))
				return k;
	return -1;
}

static inline bool cdm_is_control(const char *metric)
{
	return cdm_control_kind(metric) >= 0;
}

#endif
