/* SPDX-License-Identifier: GPL-2.0 */
/*
 * likwid, used for what it does: the machine's topology (sockets, cores,
 * caches, NUMA domains), likwid-pin CPU expressions ("S0:0-3", "N:0-7",
 * "0,2"), and hardware counter groups (MEM, L3, TLB_DATA ...) through its
 * perfmon and marker APIs. Without likwid compiled in, every call says so
 * instead of guessing.
 *
 * likwid reports its errors on stderr; the calls here capture that text,
 * so a failure is stored as likwid's own reason ("Cannot get access to
 * MSRs ...") rather than a made-up one.
 */
#ifndef CDM_LWK_H
#define CDM_LWK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/result.h"

/* topology facts as key/value rows ("sockets" = "1", "cache.L3" = ...) */
void lwk_topology(struct cdm_kvlist *out);

/*
 * Resolve a likwid-pin expression to CPU ids. Returns how many, or -1
 * with a one-line reason naming the expression and listing the affinity
 * domains this machine has.
 */
int lwk_cpus(const char *expr, int *cpus, int max, char *err, size_t len);
/* option checks (cdm_opt.check) for cpus = and likwid_group = */
int lwk_check_cpus(const char *val, char *err, size_t len);
int lwk_check_group(const char *val, char *err, size_t len);
/* the pure part of the group check, for tests: names[] is what exists */
int lwk_group_in(const char *group, char *const *names, int n, char *err,
		 size_t len);

/* pin the calling process (all threads it creates later) to cpus */
int lwk_pin_process(const int *cpus, int n, char *err, size_t len);
/* pin the calling thread to one CPU (likwid_pinThread) */
int lwk_pin_thread(int cpu);

/*
 * Hardware counters of one group over the case's CPUs. Under
 * `likwid-perfctr -m`, the marker API (regions "<case>/<phase>"); else
 * perfmon directly. NULL with the reason in why when neither works.
 */
struct lwk_hw;
/* asks perfmon once, in the run before its cases fork, so a node without
 * counter access answers each case at once with the same reason */
void lwk_hw_preflight(void);
struct lwk_hw *lwk_hw_open(const char *group, const int *cpus, int ncpus,
			   const char *case_name, char *why, size_t len);
int lwk_hw_nevents(const struct lwk_hw *h);
const char *lwk_hw_event(const struct lwk_hw *h, int i);
/* cumulative values, summed over the CPUs (perfmon mode; 0 in marker mode) */
void lwk_hw_read(struct lwk_hw *h, double *vals);
void lwk_hw_region(struct lwk_hw *h, const char *phase, bool begin);
/* marker mode: the phase's totals as likwid recorded them; false if none */
bool lwk_hw_region_result(struct lwk_hw *h, const char *phase, double *vals);
const char *lwk_hw_mode(const struct lwk_hw *h);
void lwk_hw_close(struct lwk_hw *h);

#endif
