/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel events and hardware counters per phase of a case, counted in the
 * case process: perf software counters (faults, context switches, CPU
 * migrations), mm tracepoints through perf, /proc/vmstat deltas, and
 * likwid hardware counter groups where perfmon initializes.
 *
 * A phase is what a workload brackets with cdm_phase_begin/end (a
 * migration one way); the harness adds "run" around the whole run hook.
 * Results travel as case facts (case_info rows) so a run inside the
 * emulated node streams them to the host without a format of its own:
 *   counters.<phase>.<source>:<event> = total over the phase's entries
 *   counters.<phase>.phase:count|pages|ns
 *   counter_status.<source> = "on ..." or "unavailable: <reason>"
 * A source that cannot count stores only its status: never a zero.
 */
#ifndef CDM_COUNTERS_H
#define CDM_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cdm_counters;
struct cdm_common;

/* counters = off|on|required (cdm_common.counters) */
enum { CDM_COUNTERS_OFF, CDM_COUNTERS_ON, CDM_COUNTERS_REQUIRED };

/*
 * Open every source for this process and the threads it creates later.
 * case_name names likwid marker regions. Returns NULL when counting is
 * off. With counters = required and a source unavailable, *why gets the
 * reason (the caller skips the case).
 */
struct cdm_counters *cnt_open(const struct cdm_common *common,
			      const char *case_name, char *why, size_t len);
/* phases nest (the harness's "run" holds the workload's own) */
void cnt_phase_begin(struct cdm_counters *c, const char *phase);
void cnt_phase_end(struct cdm_counters *c, uint64_t pages);
/* hand every status and phase total to emit(key, value) */
void cnt_report(struct cdm_counters *c,
		void (*emit)(void *arg, const char *key, const char *val),
		void *arg);
void cnt_close(struct cdm_counters *c);

/* --- pieces exposed for the unit tests --- */

/* names and values of /proc/vmstat text; returns the count, -1 if bad */
int cnt_vmstat_parse(const char *text, char ***names, uint64_t *vals,
		     size_t max);
/* a phase name must be [a-z0-9_]{1,31}: it is part of a key */
bool cnt_phase_name_ok(const char *phase);

#endif
