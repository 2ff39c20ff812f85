// SPDX-License-Identifier: GPL-2.0
/* The workload table, generated from list.h. */
#include "core/job.h"
#include "core/workload.h"

#define X(id) extern const struct cdm_workload cdm_wl_##id;
#include "list.h"
#undef X

const struct cdm_workload *const cdm_workloads[] = {
#define X(id) &cdm_wl_##id,
#include "list.h"
#undef X
	NULL
};
