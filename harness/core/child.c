// SPDX-License-Identifier: GPL-2.0
/*
 * The case child: runs one workload's phases and reports through a pipe.
 *
 * Nothing here writes the database. Samples are batched into records so
 * the cost per cdm_sample() call stays a few nanoseconds (an array store);
 * `make bench` measures it.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "core/child.h"
#include "core/counters.h"
#include "core/lwk.h"
#include "core/wire.h"
#include "core/workload.h"

#define FLUSH_BYTES (256 * 1024)

struct metric_buf {
	double *v;
	size_t n;
	size_t cap;
};

struct cdm_ctx {
	const struct cdm_workload *wl;
	const void *cfg;
	const struct cdm_common *common;
	uint64_t seed;
	int fd;
	void *priv;

	struct metric_buf *mb;
	size_t nmetrics;
	size_t buffered;	/* samples held across all metrics */

	bool own_control;	/* the workload times its own controls */
	int calib;		/* calib_bw metric, or -1 */
	char *calib_buf;	/* 2 x CALIB_BYTES */
	int calib_refault;	/* calib_refault_bw metric, or -1 */
	char *refault_buf;	/* CALIB_BYTES, mapped; NULL if unmapped */

	bool warming;
	int64_t warm_done;
	uint64_t iter;
	bool measuring;
	uint64_t t_measure;

	struct cdm_counters *cnt;	/* NULL when counters = off */
	unsigned int pdepth;	/* open phases */
	uint32_t pskip;		/* bit per depth: begun while warming */
	int cpus[256];		/* from `cpus`, for cdm_pin_worker() */
	int ncpus;

	int verdict;		/* CDM_PASS, FAIL, SKIP or ERROR */
	char reason[512];
	struct sbuf out;
};

const struct cdm_opt cdm_common_opts[] = {
	{ "repeat", CDM_T_INT, OPT_FIELD(struct cdm_common, repeat), "10",
	  1, 100000000, NULL, CDM_OF_NOMATCH,
	  "measured iterations per case (ignored when duration is set)" },
	{ "warmup", CDM_T_INT, OPT_FIELD(struct cdm_common, warmup), "1",
	  0, 1000000, NULL, CDM_OF_NOMATCH,
	  "unmeasured iterations before measuring" },
	/* a week: longer soaks are several runs, each stored as it ends */
	{ "duration", CDM_T_DURATION, OPT_FIELD(struct cdm_common, duration),
	  "0", 0, 6048e11, NULL, CDM_OF_NOMATCH,
	  "iterate for this long instead of `repeat` times (0: use repeat)" },
	{ "timeout", CDM_T_DURATION, OPT_FIELD(struct cdm_common, timeout),
	  "5m", 1e6, 864e11, NULL, CDM_OF_NOMATCH,
	  "kill the case if it runs this much longer than `duration`" },
	{ "kmsg_fail", CDM_T_BOOL, OPT_FIELD(struct cdm_common, kmsg_fail),
	  "yes", 0, 0, NULL, 0,
	  "a kernel WARNING, BUG, Oops or similar during the case fails it" },
	{ "counters", CDM_T_ENUM, OPT_FIELD(struct cdm_common, counters),
	  "on", 0, 0, "off|on|required", CDM_OF_NOMATCH,
	  "count kernel events and hardware counters per phase; where a counter is unavailable the case records why (required: SKIP instead)" },
	{ "tracepoints", CDM_T_BOOL, OPT_FIELD(struct cdm_common, tracepoints),
	  "no", 0, 0, NULL, CDM_OF_NOMATCH,
	  "with counters: also count the mm tracepoints (migrate:*, kmem:mm_page_*, tlb:tlb_flush...) per phase; every hit costs the kernel time (make bench measures how much), so off by default" },
	{ "likwid_group", CDM_T_STRING,
	  OPT_FIELD(struct cdm_common, likwid_group), "auto", 0, 0, NULL,
	  CDM_OF_NOMATCH,
	  "likwid hardware counter group per phase (MEM, L3, TLB_DATA...; auto: the first of those the CPU has; none)",
	  .check = lwk_check_group },
	/* not part of the identity, so runs from before pinning existed still
	 * compare; the value is in params and the case's "pinned" fact */
	{ "cpus", CDM_T_STRING, OPT_FIELD(struct cdm_common, cpus), "", 0, 0,
	  NULL, CDM_OF_NOLIST | CDM_OF_NOMATCH,
	  "pin the case to a likwid-pin expression: S0:0-3, N:0-7, M1:0, 0,2,4 ('': not pinned)",
	  .check = lwk_check_cpus },
	CDM_OPT_END
};

static void flush(struct cdm_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nmetrics; i++) {
		struct metric_buf *m = &ctx->mb[i];
		size_t start;

		if (!m->n)
			continue;
		start = wire_begin(&ctx->out, W_SAMPLES);
		wire_u32(&ctx->out, i);
		wire_u32(&ctx->out, m->n);
		sb_add(&ctx->out, m->v, m->n * sizeof(double));
		wire_end(&ctx->out, start);
		m->n = 0;
	}
	ctx->buffered = 0;
	if (ctx->out.len && write_all(ctx->fd, ctx->out.buf, ctx->out.len)) {
		/* the parent is gone: nobody is left to report to */
		_exit(3);
	}
	sb_reset(&ctx->out);
}

static void send_str_rec(struct cdm_ctx *ctx, uint32_t type, const char *a,
			 const char *b)
{
	size_t start = wire_begin(&ctx->out, type);

	wire_str(&ctx->out, a);
	if (b)
		wire_str(&ctx->out, b);
	wire_end(&ctx->out, start);
	flush(ctx);
}

const void *cdm_cfg(struct cdm_ctx *ctx)
{
	return ctx->cfg;
}

const struct cdm_common *cdm_common(struct cdm_ctx *ctx)
{
	return ctx->common;
}

uint64_t cdm_seed(struct cdm_ctx *ctx)
{
	return ctx->seed;
}

void *cdm_priv(struct cdm_ctx *ctx)
{
	return ctx->priv;
}

void cdm_set_priv(struct cdm_ctx *ctx, void *priv)
{
	ctx->priv = priv;
}

size_t cdm_page_size(void)
{
	static size_t pg;

	if (!pg)
		pg = sysconf(_SC_PAGESIZE);
	return pg;
}

int cdm_metric(struct cdm_ctx *ctx, const char *name, const char *unit,
	       enum cdm_better better)
{
	size_t i, start;

	if (!strcmp(name, "memcpy_bw") || !strcmp(name, "refault_bw"))
		ctx->own_control = true;
	i = ctx->nmetrics++;
	ctx->mb = xrealloc(ctx->mb, ctx->nmetrics * sizeof(*ctx->mb));
	ctx->mb[i].cap = 1024;
	ctx->mb[i].n = 0;
	ctx->mb[i].v = xmalloc(ctx->mb[i].cap * sizeof(double));
	start = wire_begin(&ctx->out, W_METRIC);
	wire_u32(&ctx->out, i);
	wire_str(&ctx->out, name);
	wire_str(&ctx->out, unit);
	wire_u32(&ctx->out, better);
	wire_end(&ctx->out, start);
	return i;
}

void cdm_sample_always(struct cdm_ctx *ctx, int metric, double value)
{
	struct metric_buf *m;

	if (metric < 0 || (size_t)metric >= ctx->nmetrics)
		return;
	m = &ctx->mb[metric];
	if (m->n == m->cap) {
		m->cap *= 2;
		m->v = xrealloc(m->v, m->cap * sizeof(double));
	}
	m->v[m->n++] = value;
	if (++ctx->buffered * sizeof(double) >= FLUSH_BYTES)
		flush(ctx);
}

void cdm_sample(struct cdm_ctx *ctx, int metric, double value)
{
	if (ctx->warming)
		return;
	cdm_sample_always(ctx, metric, value);
}

bool cdm_warming(struct cdm_ctx *ctx)
{
	return ctx->warming;
}

uint64_t cdm_iteration(struct cdm_ctx *ctx)
{
	return ctx->iter;
}

bool cdm_time_up(struct cdm_ctx *ctx)
{
	if (!ctx->measuring || !ctx->common->duration)
		return false;
	return cdm_now_ns() - ctx->t_measure >= ctx->common->duration;
}

void *cdm_refault_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* one fault per base page, as a migration moves base pages; on a
	 * host with THP "always" a huge fault would time something else */
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

void cdm_refault_unmap(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

double cdm_refault(void *p, size_t len)
{
	size_t pg = cdm_page_size(), off;
	uint64_t t0 = cdm_now_ns(), ns;

	if (madvise(p, len, MADV_DONTNEED))
		return 0;
	/* one call that faults every page in inside the kernel (5.14+);
	 * older kernels take a write fault per page from here */
	if (madvise(p, len, MADV_POPULATE_WRITE)) {
		if (errno != EINVAL)
			return 0;
		for (off = 0; off < len; off += pg)
			((volatile char *)p)[off] = 1;
	}
	ns = cdm_now_ns() - t0;
	return (double)len / (ns ? ns : 1);
}

/*
 * The in-run controls for drift-aware comparison (analysis/compare.c): a
 * case timing a kernel operation whose workload does not time its own
 * controls (migrate does, on its buffer) gets two timed at the start of
 * every measured iteration, interleaved with the kernel operation, so
 * drift shared within the run shows in them too and can be divided out:
 *  - calib_bw, a fixed memcpy: the CPU and memory's speed;
 *  - calib_refault_bw, a fixed region given back (MADV_DONTNEED) and
 *    faulted in again: zap, TLB flush, page allocation, zeroing and page
 *    table updates, the kernel paths a migration or fault shares. A
 *    host's state moves kernel code more than a copy: on an emulated
 *    node, migrate's device-to-system time over its refault varied 4.4-5%
 *    between runs where over its memcpy it varied 7.7-8.8% (16 runs).
 * Not for stream (it is the copy baseline) nor selftest (the harness
 * timing itself). Both fall inside the case's "run" phase, so its event
 * counts include the refault's faults (256 per measured iteration on 4K
 * pages); the phases a workload brackets itself do not.
 */
#define CALIB_BYTES (1u << 20)

static void calib_setup(struct cdm_ctx *ctx)
{
	ctx->calib_buf = malloc(2 * CALIB_BYTES);
	if (ctx->calib_buf) {
		memset(ctx->calib_buf, 0x5a, 2 * CALIB_BYTES);
		ctx->calib = cdm_metric(ctx, "calib_bw", "GB/s",
					CDM_HIGHER_IS_BETTER);
	}
	ctx->refault_buf = cdm_refault_map(CALIB_BYTES);
	if (ctx->refault_buf)
		ctx->calib_refault = cdm_metric(ctx, "calib_refault_bw",
						"GB/s", CDM_HIGHER_IS_BETTER);
}

static void calibrate(struct cdm_ctx *ctx)
{
	uint64_t t0;
	double r;

	if (ctx->own_control || !strcmp(ctx->wl->name, "stream") ||
	    !strcmp(ctx->wl->name, "selftest"))
		return;
	if (!ctx->calib_buf && !ctx->refault_buf)
		calib_setup(ctx);
	if (ctx->calib >= 0) {
		t0 = cdm_now_ns();
		memcpy(ctx->calib_buf + CALIB_BYTES, ctx->calib_buf,
		       CALIB_BYTES);
		cdm_sample(ctx, ctx->calib,
			   (double)CALIB_BYTES / (cdm_now_ns() - t0));
	}
	if (ctx->calib_refault >= 0) {
		r = cdm_refault(ctx->refault_buf, CALIB_BYTES);
		if (r > 0)
			cdm_sample(ctx, ctx->calib_refault, r);
	}
}

bool cdm_iter(struct cdm_ctx *ctx)
{
	/*
	 * Hand the last iteration's samples to the parent now, outside any
	 * timed region: if the next iteration crashes, they are kept.
	 */
	if (ctx->buffered || ctx->out.len)
		flush(ctx);
	if (ctx->verdict != CDM_PASS)
		return false;
	if (ctx->warm_done < ctx->common->warmup) {
		ctx->warming = true;
		ctx->warm_done++;
		return true;
	}
	ctx->warming = false;
	if (!ctx->measuring) {
		ctx->measuring = true;
		ctx->t_measure = cdm_now_ns();
	} else if (ctx->common->duration) {
		if (cdm_time_up(ctx))
			return false;
	} else if ((int64_t)ctx->iter >= ctx->common->repeat) {
		return false;
	}
	ctx->iter++;
	calibrate(ctx);
	return true;
}

static void vset_verdict(struct cdm_ctx *ctx, int verdict, const char *fmt,
			 va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	send_str_rec(ctx, W_LOG, msg, NULL);
	/* the first failure is the one worth reporting, unless a worse one
	 * follows; later ones are in the log */
	if (cdm_verdict_rank(verdict) > cdm_verdict_rank(ctx->verdict)) {
		ctx->verdict = verdict;
		snprintf(ctx->reason, sizeof(ctx->reason), "%s", msg);
	}
}

void cdm_fail(struct cdm_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_verdict(ctx, CDM_FAIL, fmt, ap);
	va_end(ap);
}

int cdm_skip(struct cdm_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_verdict(ctx, CDM_SKIP, fmt, ap);
	va_end(ap);
	return -1;
}

int cdm_error(struct cdm_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_verdict(ctx, CDM_ERROR, fmt, ap);
	va_end(ap);
	return -1;
}

bool cdm_failed(struct cdm_ctx *ctx)
{
	return ctx->verdict != CDM_PASS;
}

void cdm_info(struct cdm_ctx *ctx, const char *key, const char *fmt, ...)
{
	char val[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	send_str_rec(ctx, W_INFO, key, val);
}

void cdm_subcase(struct cdm_ctx *ctx, const char *name,
		 const char *device_type, int verdict, const char *reason,
		 uint64_t elapsed_ns, const char *log)
{
	size_t start = wire_begin(&ctx->out, W_SUBCASE);

	wire_str(&ctx->out, name);
	wire_str(&ctx->out, device_type);
	wire_u32(&ctx->out, verdict);
	wire_str(&ctx->out, reason);
	wire_u64(&ctx->out, elapsed_ns);
	wire_str(&ctx->out, log);
	wire_end(&ctx->out, start);
	flush(ctx);
}

void cdm_log(struct cdm_ctx *ctx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	send_str_rec(ctx, W_LOG, msg, NULL);
}

void cdm_phase_begin(struct cdm_ctx *ctx, const char *phase)
{
	bool skip = ctx->warming;

	if (ctx->pdepth < 32)
		ctx->pskip = (ctx->pskip & ~(1u << ctx->pdepth)) |
			     ((uint32_t)skip << ctx->pdepth);
	ctx->pdepth++;
	if (!skip)
		cnt_phase_begin(ctx->cnt, phase);
}

void cdm_phase_end(struct cdm_ctx *ctx, uint64_t pages)
{
	if (!ctx->pdepth)
		return;
	ctx->pdepth--;
	if (ctx->pdepth < 32 && (ctx->pskip >> ctx->pdepth) & 1)
		return;
	cnt_phase_end(ctx->cnt, pages);
}

void cdm_pin_worker(struct cdm_ctx *ctx, int i)
{
	if (ctx->ncpus > 0 && i >= 0)
		lwk_pin_thread(ctx->cpus[i % ctx->ncpus]);
}

static void emit_info(void *arg, const char *key, const char *val)
{
	send_str_rec(arg, W_INFO, key, val);
}

/* pinning and counters, before setup: threads it starts inherit both */
static bool start_counting(struct cdm_ctx *ctx, const char *case_name)
{
	char why[600];

	if (ctx->common->cpus && *ctx->common->cpus) {
		ctx->ncpus = lwk_cpus(ctx->common->cpus, ctx->cpus,
				      ARRAY_SIZE(ctx->cpus), why, sizeof(why));
		if (ctx->ncpus < 0 ||
		    lwk_pin_process(ctx->cpus, ctx->ncpus, why, sizeof(why))) {
			cdm_error(ctx, "%s", why);
			return false;
		}
		cdm_info(ctx, "pinned", "%s: %d CPU%s", ctx->common->cpus,
			 ctx->ncpus, ctx->ncpus == 1 ? "" : "s");
	}
	ctx->cnt = cnt_open(ctx->common, case_name, why, sizeof(why));
	if (why[0]) {
		cnt_report(ctx->cnt, emit_info, ctx);
		cdm_skip(ctx, "%s", why);
		return false;
	}
	return true;
}

static void send_verdict(struct cdm_ctx *ctx)
{
	size_t start;

	flush(ctx);
	start = wire_begin(&ctx->out, W_VERDICT);
	wire_u32(&ctx->out, ctx->verdict);
	wire_str(&ctx->out, ctx->reason);
	wire_end(&ctx->out, start);
	start = wire_begin(&ctx->out, W_DONE);
	wire_end(&ctx->out, start);
	flush(ctx);
}

/* a hook's negative return without a reason still needs one */
static void hook_failed(struct cdm_ctx *ctx, const char *phase, int r)
{
	if (ctx->verdict != CDM_PASS)
		return;
	if (r < -1)
		cdm_error(ctx, "%s failed: %s", phase, strerror(-r));
	else
		cdm_error(ctx, "%s failed", phase);
}

int cdm_child_run(const struct cdm_workload *wl, const void *cfg,
		  const struct cdm_common *common, uint64_t seed, int fd,
		  const char *case_name)
{
	struct cdm_ctx ctx = {
		.wl = wl, .cfg = cfg, .common = common, .seed = seed,
		.fd = fd, .verdict = CDM_PASS, .calib = -1, .calib_refault = -1,
	};
	char why[512] = "";
	int r;

	sb_init(&ctx.out);
	if (wl->device_type)
		send_str_rec(&ctx, W_DEVTYPE, wl->device_type(cfg), NULL);
	if (wl->supported && !wl->supported(cfg, why, sizeof(why))) {
		cdm_skip(&ctx, "%s", why[0] ? why : "not supported here");
		send_verdict(&ctx);
		return 0;
	}
	if (!start_counting(&ctx, case_name)) {
		cnt_close(ctx.cnt);
		send_verdict(&ctx);
		return 0;
	}
	r = wl->setup ? wl->setup(&ctx) : 0;
	if (r < 0)
		hook_failed(&ctx, "setup", r);
	if (ctx.verdict == CDM_PASS) {
		cdm_phase_begin(&ctx, "run");
		r = wl->run(&ctx);
		cdm_phase_end(&ctx, 0);
		if (r < 0)
			hook_failed(&ctx, "run", r);
	}
	if (ctx.verdict == CDM_PASS && wl->verify) {
		r = wl->verify(&ctx);
		if (r < 0)
			hook_failed(&ctx, "verify", r);
	}
	/* also after a failed setup: teardown releases whatever exists */
	if (wl->teardown)
		wl->teardown(&ctx);
	cnt_report(ctx.cnt, emit_info, &ctx);
	cnt_close(ctx.cnt);
	send_verdict(&ctx);
	sb_free(&ctx.out);
	free(ctx.calib_buf);
	cdm_refault_unmap(ctx.refault_buf, CALIB_BYTES);
	return 0;
}
