/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Progress on a terminal: "[case i/n] name  elapsed  ETA", redrawn in place
 * at most twice a second. Silent when stderr is not a terminal.
 */
#ifndef CDM_PROGRESS_H
#define CDM_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct cdm_progress {
	bool on;
	int ncases;
	int done;
	uint64_t t_run;
	uint64_t t_case;
	uint64_t last_draw;
	const char *phase;	/* shown instead of "case" when set: "boot" */
	char name[128];
};

void progress_init(struct cdm_progress *p, bool on, int ncases);
void progress_case(struct cdm_progress *p, const char *name);
void progress_draw(struct cdm_progress *p, bool force);
void progress_clear(struct cdm_progress *p);

#endif
