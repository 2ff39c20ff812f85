/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The workload plug-in interface.
 *
 * A workload is one file in workloads/ exporting one const struct
 * cdm_workload. It runs inside a forked child (its own process group, with
 * a deadline); everything it measures travels to the parent over a pipe
 * through the cdm_* calls below, and only the parent touches the database.
 *
 * Life of a case in the child:
 *   supported() -> setup() -> run() -> verify() -> teardown()
 * supported() false, or cdm_skip() anywhere, ends the case as SKIP with the
 * reason; cdm_fail() marks it FAIL but lets the remaining phases and
 * teardown run; a negative return from a hook is an ERROR.
 */
#ifndef CDM_WORKLOAD_H
#define CDM_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/opt.h"

struct cdm_ctx;

enum cdm_better {
	CDM_LOWER_IS_BETTER,
	CDM_HIGHER_IS_BETTER,
};

/* what a workload checks, so tests can prove each check is live */
enum cdm_verifies {
	CDM_VERIFY_NOTHING = 0,
	CDM_VERIFY_DATA = 1 << 0,	/* the bytes survive every phase */
	CDM_VERIFY_PLACEMENT = 1 << 1,	/* pages are where the kernel promises */
};

struct cdm_workload {
	const char *name;
	const char *summary;
	const char *backend;		/* cpu, dmirror, hip, cuda */
	const struct cdm_opt *opts;	/* workload-specific options */
	size_t cfg_size;		/* size of the struct opts describe */
	const char *help;		/* longer text for `help run -w NAME` */

	/*
	 * Can this case run here? Return true, or false with the reason in
	 * why (shown to the user and stored). Must be cheap and side-effect
	 * free: `cdmbench list` and `probe` call it too.
	 */
	bool (*supported)(const void *cfg, char *why, size_t len);
	/* the device type this case exercises: system, private, coherent... */
	const char *(*device_type)(const void *cfg);
	int (*setup)(struct cdm_ctx *ctx);
	int (*run)(struct cdm_ctx *ctx);
	int (*verify)(struct cdm_ctx *ctx);
	void (*teardown)(struct cdm_ctx *ctx);

	/* the backend a case runs on, when its config chooses (engine=) */
	const char *(*backend_of)(const void *cfg);
	unsigned int verifies;		/* CDM_VERIFY_* bits */
	/*
	 * The option that tampers with the data behind the workload's back,
	 * and a value that must turn a case into a FAIL naming the page it
	 * gives (tests read both from `list --json`); NULL: none.
	 */
	const char *tamper;
	const char *tamper_value;
};

/* runner options every case has, whatever its workload */
struct cdm_common {
	int64_t repeat;		/* measured iterations */
	int64_t warmup;		/* unmeasured iterations first */
	uint64_t duration;	/* if set: iterate for this long instead */
	uint64_t timeout;	/* kill the case after this long */
	bool kmsg_fail;		/* kernel WARN/BUG during the case fails it */
	int counters;		/* off, on, required (core/counters.h) */
	char *likwid_group;	/* hardware counter group: auto, none, MEM... */
	bool tracepoints;	/* also count mm tracepoints (costly per hit) */
	char *cpus;		/* likwid-pin expression; "" leaves it unpinned */
};
extern const struct cdm_opt cdm_common_opts[];

/* --- the calls a workload makes (implemented in measure.c) --- */

const void *cdm_cfg(struct cdm_ctx *ctx);
const struct cdm_common *cdm_common(struct cdm_ctx *ctx);
uint64_t cdm_seed(struct cdm_ctx *ctx);
void *cdm_priv(struct cdm_ctx *ctx);
void cdm_set_priv(struct cdm_ctx *ctx, void *priv);
size_t cdm_page_size(void);

/* declare a metric; returns its handle for cdm_sample() */
int cdm_metric(struct cdm_ctx *ctx, const char *name, const char *unit,
	       enum cdm_better better);
/*
 * The kernel-path control (see calibrate() in child.c): an anonymous
 * mapping of len bytes, base pages only, that cdm_refault() hands back to
 * the kernel and faults in again, timed; the rate is bytes per ns (GB/s),
 * 0 on error. NULL when the mapping fails; release with cdm_refault_unmap.
 */
void *cdm_refault_map(size_t len);
double cdm_refault(void *p, size_t len);
void cdm_refault_unmap(void *p, size_t len);
/* record one sample; dropped silently while warming up */
void cdm_sample(struct cdm_ctx *ctx, int metric, double value);
/* record a sample even during warm-up (setup-time measurements) */
void cdm_sample_always(struct cdm_ctx *ctx, int metric, double value);

/*
 * Iteration control: while (cdm_iter(ctx)) { ... }. Runs the warm-up
 * iterations, then `repeat` measured ones, or as many as fit in
 * `duration`. Stops early once the case has failed.
 */
bool cdm_iter(struct cdm_ctx *ctx);
bool cdm_warming(struct cdm_ctx *ctx);
uint64_t cdm_iteration(struct cdm_ctx *ctx);
/* deadline-aware: true once the case should wrap up (duration mode) */
bool cdm_time_up(struct cdm_ctx *ctx);

/*
 * Bracket one phase of an iteration (a migration one way, a fault-back
 * pass). The harness counts kernel events (perf software counters, mm
 * tracepoints, /proc/vmstat) and likwid hardware counters over it, summed
 * per phase name ([a-z0-9_], up to 31 characters), and opens the likwid
 * marker region "<case>/<phase>". pages: how many pages the phase moved,
 * so figures can be given per page (0 where that means nothing). Phases
 * nest; those begun during warm-up are not counted. The harness itself
 * brackets the whole run hook as phase "run".
 */
void cdm_phase_begin(struct cdm_ctx *ctx, const char *phase);
void cdm_phase_end(struct cdm_ctx *ctx, uint64_t pages);
/* pin the calling worker thread to the i-th CPU of `cpus` (no-op if unset) */
void cdm_pin_worker(struct cdm_ctx *ctx, int i);

/* a fact about the case worth keeping (counts, placements, reasons) */
void cdm_info(struct cdm_ctx *ctx, const char *key, const char *fmt, ...)
	__printf(3, 4);
/* mark the case failed; the first reason is kept, later ones logged */
void cdm_fail(struct cdm_ctx *ctx, const char *fmt, ...) __printf(2, 3);
/*
 * skip with a reason; returns -1 so "return cdm_skip(...)" reads well.
 * Only for what this node lacks (a device, a kernel feature): a resource
 * that ran out (memory, mappings, fork) is cdm_error(), which no
 * acceptance accepts.
 */
int cdm_skip(struct cdm_ctx *ctx, const char *fmt, ...) __printf(2, 3);
/* an error in the harness or environment rather than in what is tested */
int cdm_error(struct cdm_ctx *ctx, const char *fmt, ...) __printf(2, 3);
bool cdm_failed(struct cdm_ctx *ctx);
/*
 * Report the result of a test the workload ran itself (an upstream
 * selftest): it is stored as a case of its own, named "<case>/<name>",
 * next to the case that ran it.
 */
void cdm_subcase(struct cdm_ctx *ctx, const char *name,
		 const char *device_type, int verdict, const char *reason,
		 uint64_t elapsed_ns, const char *log);
/* a message shown to the user and stored with the case */
void cdm_log(struct cdm_ctx *ctx, const char *fmt, ...) __printf(2, 3);

#endif
