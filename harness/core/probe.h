/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a machine can exercise. The harness knows devices only through the
 * two functions below, which core declares and the device code beside the
 * workloads (workloads/lib/devices.c) defines: core never includes a
 * device header, so a new device kind changes that one file.
 */
#ifndef CDM_PROBE_H
#define CDM_PROBE_H

#include <stdbool.h>

#include "core/result.h"

/* `cdmbench probe`'s findings: one line each, ok or not, and what */
struct cdm_probe_item {
	char *name;
	bool ok;
	char *value;		/* what was found, or why it is missing */
};

struct cdm_probe {
	struct cdm_probe_item *v;
	size_t n;
};

void cdm_probe_add(struct cdm_probe *p, const char *name, bool ok,
		   const char *fmt, ...) __printf(4, 5);
void cdm_probe_free(struct cdm_probe *p);

/* add the device-memory devices present to a run's record */
void cdm_scan_devices(struct cdm_run_info *r);
/* add a line per device (deep: confirm its memory type by a migration) */
void cdm_probe_devices(struct cdm_probe *p, bool deep);

#endif
