/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CDM_PROBE_H
#define CDM_PROBE_H

#include "core/result.h"

/* add the device-memory devices present to a run's record */
void cdm_scan_devices(struct cdm_run_info *r);

#endif
