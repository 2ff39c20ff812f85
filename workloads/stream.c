// SPDX-License-Identifier: GPL-2.0
/*
 * stream: CPU copy and triad bandwidth over system RAM, threads pinned.
 *
 * The baseline every device number is read against: a migration that
 * moves N bytes is compared with what the CPU can copy in the same
 * machine (or VM) at the same size. Kernels are idempotent (c = a,
 * b = a + s*c) so the final arrays can be verified exactly.
 *
 * A sample is timed by the workers themselves, from the earliest start to
 * the latest finish: a coordinating thread that reads the clock after the
 * start barrier can be descheduled while the workers run (one worker per
 * CPU), and then times nothing, which gave copy rates of 15,000 GB/s. A
 * sample moves at least STREAM_MIN_BYTES (the arrays several times over
 * if they are small) so clock reads and wake-ups are noise. Where
 * likwid-bench is installed, its copy figure at the same size and thread
 * count is recorded beside ours (`likwid_copy_bw`), the outside reference.
 * The loops stay scalar (the Makefile says why): likwid-bench's copy
 * kernel is, and on hosts where scalar and vector copies differ, the two
 * figures are then read like for like.
 * A sample far above the best sustained copy (likwid-bench's best run
 * where installed, else the case's rate over the samples so far) is
 * physically impossible:
 * it is left out and counted in `implausible_samples`.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/workload.h"
#include "stats/cstats.h"

#define SCALAR 3.0
/* bytes a sample moves at the least: ~10 ms at 6 GB/s */
#define STREAM_MIN_BYTES (64ull << 20)
/*
 * A sample above this multiple of the best sustained rate is impossible:
 * a clock that missed the work gives 100-1000x (15,000 GB/s was seen).
 * Not 3x: on a loaded host the case's own median and likwid-bench's
 * figure sink while a sample that ran undisturbed still reaches the
 * machine's peak (measured here: 4-6x the median at load 20 on 2 CPUs).
 */
#define STREAM_PLAUSIBLE 10.0

struct stream_cfg {
	uint64_t size;
	int64_t threads;
	bool reference;
	uint64_t stall;
};

static const struct cdm_opt stream_opts[] = {
	{ "size", CDM_T_SIZE, OPT_FIELD(struct stream_cfg, size), "32M",
	  4096, 17179869184.0, NULL, CDM_OF_PAGE_ALIGNED,
	  "bytes per array (three arrays are used)" },
	{ "threads", CDM_T_INT, OPT_FIELD(struct stream_cfg, threads), "0",
	  0, 1024, NULL, 0,
	  "worker threads, each pinned to one CPU (0: one per allowed CPU)" },
	{ "reference", CDM_T_BOOL, OPT_FIELD(struct stream_cfg, reference),
	  "yes", 0, 0, NULL, 0,
	  "also run likwid-bench's copy at the same size and thread count (where installed) and record it as likwid_copy_bw" },
	/* what a descheduled coordinator does; tests/cli/stream.sh uses it */
	{ "stall", CDM_T_DURATION, OPT_FIELD(struct stream_cfg, stall), "0",
	  0, 1e10, NULL, CDM_OF_NOMATCH,
	  "testing: the thread that starts each sample sleeps this long after releasing the workers, as one descheduled would; the figures must not change" },
	CDM_OPT_END
};

struct stream_worker;

struct stream_state {
	double *a, *b, *c;
	size_t n;		/* elements per array */
	int nthreads;
	pthread_t *tids;
	struct stream_worker *w;
	pthread_barrier_t start, done;
	int op;			/* 0 copy, 1 triad, -1 exit */
	int passes;		/* over the arrays per sample */
	int m_copy, m_triad;
	uint64_t stall;		/* ns, the stall option */
};

/* the running plausible bound of one op */
struct stream_plaus {
	double bytes, ns;	/* measured so far */
	double ref;		/* likwid-bench's figure, or NaN */
	double bound;
	uint64_t bad;		/* samples left out */
};

struct stream_worker {
	struct stream_state *s;
	int idx;
	int cpu;
	size_t lo, hi;
	uint64_t t0, t1;	/* this worker's start and finish */
} __attribute__((aligned(64)));

static int pick_cpus(int *cpus, int want)
{
	cpu_set_t set;
	int i, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (i = 0; i < CPU_SETSIZE && (want == 0 || n < want); i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	return n;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void do_op(struct stream_state *s, size_t lo, size_t hi, int op)
{
	double *a = s->a, *b = s->b, *c = s->c;
	size_t i;

	if (op == 0) {
		for (i = lo; i < hi; i++)
			c[i] = a[i];
	} else {
		for (i = lo; i < hi; i++)
			b[i] = a[i] + SCALAR * c[i];
	}
}

/* first touch by the pinned thread places each slice on its node */
static void init_slice(struct stream_state *s, size_t lo, size_t hi)
{
	size_t i;

	for (i = lo; i < hi; i++) {
		s->a[i] = (double)(i % 4096 + 1);
		s->b[i] = 0;
		s->c[i] = 0;
	}
}

static void *worker(void *arg)
{
	struct stream_worker *w = arg;
	struct stream_state *s = w->s;
	int i;

	pin(w->cpu);
	init_slice(s, w->lo, w->hi);
	pthread_barrier_wait(&s->done);
	for (;;) {
		pthread_barrier_wait(&s->start);
		if (s->op < 0)
			break;
		w->t0 = cdm_now_ns();
		for (i = 0; i < s->passes; i++)
			do_op(s, w->lo, w->hi, s->op);
		w->t1 = cdm_now_ns();
		pthread_barrier_wait(&s->done);
	}
	return NULL;
}

static double *map_array(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int start_threads(struct cdm_ctx *ctx, struct stream_state *s,
			 const int *cpus)
{
	int i;

	pthread_barrier_init(&s->start, NULL, s->nthreads + 1);
	pthread_barrier_init(&s->done, NULL, s->nthreads + 1);
	s->tids = calloc(s->nthreads, sizeof(*s->tids));
	if (posix_memalign((void **)&s->w, 64, s->nthreads * sizeof(*s->w)))
		s->w = NULL;
	if (!s->tids || !s->w)
		return cdm_error(ctx, "out of memory for %d threads",
				 s->nthreads);
	memset(s->w, 0, s->nthreads * sizeof(*s->w));
	for (i = 0; i < s->nthreads; i++) {
		struct stream_worker *w = &s->w[i];

		w->s = s;
		w->idx = i;
		w->cpu = cpus[i];
		w->lo = s->n * i / s->nthreads;
		w->hi = s->n * (i + 1) / s->nthreads;
		if (pthread_create(&s->tids[i], NULL, worker, w)) {
			s->nthreads = i;
			return cdm_error(ctx, "pthread_create failed");
		}
	}
	pthread_barrier_wait(&s->done);
	return 0;
}

static int stream_setup(struct cdm_ctx *ctx)
{
	const struct stream_cfg *cfg = cdm_cfg(ctx);
	struct stream_state *s = calloc(1, sizeof(*s));
	int cpus[CPU_SETSIZE];

	if (!s)
		return -ENOMEM;
	cdm_set_priv(ctx, s);
	s->n = cfg->size / sizeof(double);
	s->stall = cfg->stall;
	s->nthreads = pick_cpus(cpus, cfg->threads);
	if (cfg->threads && s->nthreads < cfg->threads) {
		/* more threads than CPUs: reuse CPUs round-robin */
		int i, have = s->nthreads;

		if (!have)
			return cdm_error(ctx, "no CPU in the affinity mask");
		for (i = have; i < cfg->threads; i++)
			cpus[i] = cpus[i % have];
		s->nthreads = cfg->threads;
	}
	s->a = map_array(cfg->size);
	s->b = map_array(cfg->size);
	s->c = map_array(cfg->size);
	if (!s->a || !s->b || !s->c)
		return cdm_error(ctx, "cannot map 3 x %llu bytes: %s",
				 (unsigned long long)cfg->size, strerror(errno));
	s->m_copy = cdm_metric(ctx, "copy_bw", "GB/s", CDM_HIGHER_IS_BETTER);
	s->m_triad = cdm_metric(ctx, "triad_bw", "GB/s", CDM_HIGHER_IS_BETTER);
	/* copy moves 2 arrays a pass */
	s->passes = (STREAM_MIN_BYTES + 2 * cfg->size - 1) / (2 * cfg->size);
	cdm_info(ctx, "threads", "%d", s->nthreads);
	cdm_info(ctx, "passes", "%d (each sample moves at least %llu MiB)",
		 s->passes, STREAM_MIN_BYTES >> 20);
	return start_threads(ctx, s, cpus);
}

/* earliest start to latest finish, as the workers saw them */
static double timed_op(struct stream_state *s, int op)
{
	uint64_t t0 = UINT64_MAX, t1 = 0;
	int i;

	s->op = op;
	pthread_barrier_wait(&s->start);
	if (s->stall)
		usleep(s->stall / 1000);
	pthread_barrier_wait(&s->done);
	for (i = 0; i < s->nthreads; i++) {
		if (s->w[i].t0 < t0)
			t0 = s->w[i].t0;
		if (s->w[i].t1 > t1)
			t1 = s->w[i].t1;
	}
	return t1 > t0 ? (double)(t1 - t0) : NAN;
}

/*
 * One sample, unless it is far above the best sustained rate: the case's
 * total bytes over total time so far (this sample included) or
 * likwid-bench's figure. Decided as it is taken, so every sample reaches
 * the parent at once and an interrupted case keeps what it measured.
 */
/* the bound from the samples so far (warm-up ones too), then this one */
static void sustained(struct stream_plaus *p, double bytes, double ns)
{
	double before = p->ns > 0 ? p->bytes / p->ns : NAN;

	if (isfinite(ns) && ns > 0) {
		p->bytes += bytes;
		p->ns += ns;
	}
	if (isnan(before))
		before = p->bytes / p->ns;
	/*
	 * likwid-bench's best run, where there is one, and not the case's own
	 * rate: a clock that misses the work in every sample raises that rate
	 * with it (a coordinator that slept through each sample gave
	 * 7,000 GB/s against likwid-bench's 53).
	 */
	p->bound = STREAM_PLAUSIBLE * (isnan(p->ref) ? before : p->ref);
}

static void plausible_sample(struct cdm_ctx *ctx, struct stream_plaus *p,
			     int metric, double bytes, double ns)
{
	double rate = bytes / ns;

	/* judged against what came before it: a first sample that missed
	 * its work would otherwise be its own reference */
	sustained(p, bytes, ns);
	if (rate > p->bound) {
		p->bad++;
		return;
	}
	cdm_sample(ctx, metric, rate);
}

/*
 * likwid-bench's copy kernel over the same bytes per array and threads:
 * its -w size is both arrays together, and its MByte/s counts read and
 * written bytes (10^6), as copy_bw does. One run's figure, or NaN with
 * the reason in why.
 */
static double likwid_copy(const struct stream_cfg *cfg, int threads,
			  char *cmd, size_t cmdlen, char *why, size_t whylen)
{
	unsigned long long kb = 2 * cfg->size / 1000;
	/* 256 MiB moved: its own clock, like ours, sees tens of ms */
	unsigned long long iters = (256ull << 20) / (2 * cfg->size) + 2;
	char sh[280], line[256];
	double mbs = NAN;
	FILE *f;

	snprintf(cmd, cmdlen, "likwid-bench -t copy -i %llu -w S0:%llukB:%d",
		 iters, kb, threads);
	snprintf(sh, sizeof(sh), "%s 2>&1", cmd);
	fflush(NULL);
	f = popen(sh, "r");
	if (!f) {
		snprintf(why, whylen, "popen: %s", strerror(errno));
		return NAN;
	}
	*why = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MByte/s: %lf", &mbs) != 1 && *strtrim(line))
			snprintf(why, whylen, "%s", strtrim(line));
	}
	pclose(f);
	return isfinite(mbs) && mbs > 0 ? mbs / 1e3 : NAN;
}

/*
 * The outside reference, taken at several moments of the case: one run
 * before the first sample and one after every REF_EVERY samples, so it
 * sees the same neighbours and the same memory the samples saw (on a
 * shared or SMT host, one run alone moved by a factor of two between
 * moments). Its median is what copy_bw is read against.
 */
#define REF_EVERY 5
#define REF_MAX 64

struct stream_ref {
	bool on;
	double v[REF_MAX];
	int n;
	char cmd[256], why[256];
};

static void ref_take(struct stream_ref *r, struct cdm_ctx *ctx,
		     struct stream_plaus *p)
{
	const struct stream_cfg *cfg = cdm_cfg(ctx);
	struct stream_state *s = cdm_priv(ctx);
	double v;

	if (!r->on || r->n >= REF_MAX)
		return;
	v = likwid_copy(cfg, s->nthreads, r->cmd, sizeof(r->cmd), r->why,
			sizeof(r->why));
	if (isnan(v))
		return;
	r->v[r->n++] = v;
	/* the bounds know the reference from the first sample on; triad
	 * moves bytes at copy's rate, give or take a third */
	p[0].ref = p[1].ref = isnan(p->ref) ? v : fmax(p->ref, v);
}

static void ref_report(struct cdm_ctx *ctx, struct stream_ref *r)
{
	double sorted[REF_MAX];
	char list[REF_MAX * 12] = "";
	size_t len = 0;
	int i;

	if (!r->on)
		return;
	if (!r->n) {
		if (*r->cmd)
			cdm_info(ctx, "likwid_copy_bw", "unavailable: %s: %.150s",
				 r->cmd, r->why);
		return;
	}
	for (i = 0; i < r->n && len < sizeof(list) - 12; i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%.4g",
				i ? " " : "", r->v[i]);
	memcpy(sorted, r->v, r->n * sizeof(double));
	cdm_info(ctx, "likwid_copy_bw", "%.4g GB/s (median of %d runs through the case: %s; %s)",
		 cdm_median_select(sorted, r->n), r->n, list, r->cmd);
}

static int stream_run(struct cdm_ctx *ctx)
{
	const struct stream_cfg *cfg = cdm_cfg(ctx);
	struct stream_state *s = cdm_priv(ctx);
	/* STREAM's convention: copy moves 2 arrays, triad 3 */
	double bytes = (double)s->n * sizeof(double) * s->passes;
	struct stream_plaus p[2] = { { .ref = NAN }, { .ref = NAN } };
	struct stream_ref ref = { .on = cfg->reference };
	uint64_t measured = 0;

	if (ref.on && system("command -v likwid-bench >/dev/null 2>&1"))
		ref.on = false;	/* not installed: nothing to say */
	ref_take(&ref, ctx, p);
	while (cdm_iter(ctx)) {
		double c = timed_op(s, 0), t = timed_op(s, 1);

		if (cdm_warming(ctx)) {
			/* not samples, but a basis for the first one's bound */
			sustained(&p[0], 2 * bytes, c);
			sustained(&p[1], 3 * bytes, t);
			continue;
		}
		plausible_sample(ctx, &p[0], s->m_copy, 2 * bytes, c);
		plausible_sample(ctx, &p[1], s->m_triad, 3 * bytes, t);
		if (++measured % REF_EVERY == 0)
			ref_take(&ref, ctx, p);
	}
	ref_report(ctx, &ref);
	if (p[0].bad || p[1].bad)
		cdm_info(ctx, "implausible_samples", "%llu copy and %llu triad samples left out: above %.0fx the best sustained rate (%.3g and %.3g GB/s)",
			 (unsigned long long)p[0].bad,
			 (unsigned long long)p[1].bad, STREAM_PLAUSIBLE,
			 p[0].bound / STREAM_PLAUSIBLE,
			 p[1].bound / STREAM_PLAUSIBLE);
	return 0;
}

static int stream_verify(struct cdm_ctx *ctx)
{
	struct stream_state *s = cdm_priv(ctx);
	size_t i;

	for (i = 0; i < s->n; i++) {
		double a = (double)(i % 4096 + 1);

		if (s->a[i] != a || s->c[i] != a ||
		    s->b[i] != a + SCALAR * a) {
			cdm_fail(ctx, "element %zu (byte offset %zu) wrong after copy/triad: a=%g b=%g c=%g",
				 i, i * sizeof(double), s->a[i], s->b[i],
				 s->c[i]);
			return 0;
		}
	}
	cdm_info(ctx, "integrity", "ok: every element holds what copy and triad computed");
	return 0;
}

static void stream_teardown(struct cdm_ctx *ctx)
{
	const struct stream_cfg *cfg = cdm_cfg(ctx);
	struct stream_state *s = cdm_priv(ctx);
	int i;

	if (!s)
		return;
	if (s->tids && s->nthreads) {
		s->op = -1;
		pthread_barrier_wait(&s->start);
		for (i = 0; i < s->nthreads; i++)
			pthread_join(s->tids[i], NULL);
	}
	if (s->a)
		munmap(s->a, cfg->size);
	if (s->b)
		munmap(s->b, cfg->size);
	if (s->c)
		munmap(s->c, cfg->size);
	free(s->tids);
	free(s->w);
	free(s);
}

const struct cdm_workload cdm_wl_stream = {
	.name = "stream",
	.summary = "CPU copy and triad bandwidth in system RAM (baseline)",
	.backend = "cpu",
	/* no .device_type: the runner records these cases as "system" */
	.opts = stream_opts,
	.cfg_size = sizeof(struct stream_cfg),
	.setup = stream_setup,
	.run = stream_run,
	.verify = stream_verify,
	.teardown = stream_teardown,
	.verifies = CDM_VERIFY_DATA,
};
