/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A run's metric normalized by its in-run control iteration by iteration:
 * the median over iterations of log y_i - orient log c_i, where y_i and c_i
 * were timed side by side in iteration i. A neighbour that slows part of
 * a run slows both samples of an iteration, so this cancels drift inside
 * a run too, which the difference of the two medians cannot. Shared by
 * compare and history.
 */
#ifndef CDM_PAIRS_H
#define CDM_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

/* prepared once by the caller: ?1 the metric's id, ?2 the control's */
#define PAIRS_SQL "SELECT y.value, c.value FROM samples y JOIN samples c ON c.metric_id = ?2 AND c.seq = y.seq WHERE y.metric_id = ?1 ORDER BY y.seq"

/* spreads inside runs (variance of log values, from the MAD), summed */
struct pair_spread {
	double y_var;		/* the metric's samples */
	double pair_var;	/* the per-iteration differences */
	size_t runs;		/* runs added */
};

/*
 * The paired log value of one run, when the metric and the control hold
 * one sample each per iteration: both counts are ny, so sample seq k of
 * both is iteration k. NaN otherwise (the caller falls back on the
 * difference of the medians). sp, when given, gathers the spreads.
 */
double cdm_paired_log(struct cdm_db *d, sqlite3_stmt *st, int64_t id,
		      int64_t cid, int orient, int64_t ny, int64_t nc,
		      struct pair_spread *sp);

#endif
