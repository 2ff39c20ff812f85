/* SPDX-License-Identifier: GPL-2.0 */
/* Merging result databases of many nodes into one (cdmbench merge). */
#ifndef CDM_FLEET_MERGE_H
#define CDM_FLEET_MERGE_H

#include <stdbool.h>

#include "store/db.h"

struct merge_stats {
	long files;
	long runs_added;
	long runs_replaced;	/* the source had more of a run we held */
	long runs_skipped;	/* same uuid already here, nothing new */
	long runs_unfinished;	/* still 'running' in the source: marked */
	long long samples;	/* samples copied */
};

/*
 * Checks every source before anything is written: each must be a
 * cdmbench database with a schema no newer than ours. Then merges them
 * one transaction per file, so a failure leaves whole files in or out.
 */
int fleet_merge(struct cdm_db *dst, char *const *srcs, int n, bool progress,
		struct merge_stats *st) __must_check;

/*
 * Into the database at OUT: an existing one is merged into in place
 * (batch by batch, WAL, as fleet_merge); a new one is built aside as
 * OUT.merging-PID, quickly (journal in memory, indexes built at the
 * end), synced and linked into place only when complete.
 */
int fleet_merge_file(const char *out, char *const *srcs, int n, bool progress,
		     struct merge_stats *ms) __must_check;

#endif
