/* SPDX-License-Identifier: GPL-2.0 */
/* Entry point of a case child; see child.c. */
#ifndef CDM_CHILD_H
#define CDM_CHILD_H

#include <stdint.h>

#include "core/workload.h"

/* run every phase of one case and report on fd; returns when done */
int cdm_child_run(const struct cdm_workload *wl, const void *cfg,
		  const struct cdm_common *common, uint64_t seed, int fd,
		  const char *case_name);

#endif
