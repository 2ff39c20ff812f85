/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel log capture. The kernel is part of what cdmbench tests: a WARN in
 * mm/ during a migration is a failure even if the data came back intact.
 */
#ifndef CDM_KMSG_H
#define CDM_KMSG_H

#include <stdbool.h>

#include "core/result.h"

struct cdm_kmsg {
	int fd;			/* -1 when unavailable */
	char status[256];	/* "ok" or "unavailable: why" */
	unsigned long lost;	/* records overwritten before we read them */
};

/* open and position at the end; never fails, the status says why not */
void kmsg_open(struct cdm_kmsg *k);
void kmsg_close(struct cdm_kmsg *k);
/* append every record logged since the last drain */
void kmsg_drain(struct cdm_kmsg *k, struct cdm_kevents *out);
int kmsg_classify(const char *text);
/* does this class fail a case (when kmsg_fail is on)? */
bool kmsg_class_fails(int cls);
/*
 * Does this record fail a case? Only the kernel's own records (facility
 * 0): daemons that log to /dev/kmsg must not fail a benchmark.
 */
bool kmsg_event_fails(const struct cdm_kevent *e);
/* parse one /dev/kmsg record; false if malformed */
bool kmsg_parse(const char *rec, size_t len, struct cdm_kevent *e);

#endif
