// SPDX-License-Identifier: GPL-2.0
/*
 * stream: CPU copy and triad bandwidth over system RAM, threads pinned.
 *
 * The baseline every device number is read against: a migration that
 * moves N bytes is compared with what the CPU can copy in the same
 * machine (or VM) at the same size. Kernels are idempotent (c = a,
 * b = a + s*c) so the final arrays can be verified exactly.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/workload.h"

#define SCALAR 3.0

struct stream_cfg {
	uint64_t size;
	int64_t threads;
};

static const struct cdm_opt stream_opts[] = {
	{ "size", CDM_T_SIZE, OPT_FIELD(struct stream_cfg, size), "32M",
	  4096, 17179869184.0, NULL, CDM_OF_PAGE_ALIGNED,
	  "bytes per array (three arrays are used)" },
	{ "threads", CDM_T_INT, OPT_FIELD(struct stream_cfg, threads), "0",
	  0, 1024, NULL, 0,
	  "worker threads, each pinned to one CPU (0: one per allowed CPU)" },
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
	int m_copy, m_triad;
};

struct stream_worker {
	struct stream_state *s;
	int idx;
	int cpu;
	size_t lo, hi;
};

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

	pin(w->cpu);
	init_slice(s, w->lo, w->hi);
	pthread_barrier_wait(&s->done);
	for (;;) {
		pthread_barrier_wait(&s->start);
		if (s->op < 0)
			break;
		do_op(s, w->lo, w->hi, s->op);
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
	s->w = calloc(s->nthreads, sizeof(*s->w));
	if (!s->tids || !s->w)
		return -ENOMEM;
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
	cdm_info(ctx, "threads", "%d", s->nthreads);
	return start_threads(ctx, s, cpus);
}

static double timed_op(struct stream_state *s, int op)
{
	uint64_t t0, t1;

	s->op = op;
	pthread_barrier_wait(&s->start);
	t0 = cdm_now_ns();
	pthread_barrier_wait(&s->done);
	t1 = cdm_now_ns();
	return (double)(t1 - t0);
}

static int stream_run(struct cdm_ctx *ctx)
{
	struct stream_state *s = cdm_priv(ctx);
	double bytes = (double)s->n * sizeof(double);

	while (cdm_iter(ctx)) {
		/* STREAM's convention: copy moves 2 arrays, triad 3 */
		cdm_sample(ctx, s->m_copy, 2 * bytes / timed_op(s, 0));
		cdm_sample(ctx, s->m_triad, 3 * bytes / timed_op(s, 1));
	}
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

static const char *stream_devtype(const void *cfg __unused)
{
	return "system";
}

const struct cdm_workload cdm_wl_stream = {
	.name = "stream",
	.summary = "CPU copy and triad bandwidth in system RAM (baseline)",
	.backend = "cpu",
	.opts = stream_opts,
	.cfg_size = sizeof(struct stream_cfg),
	.device_type = stream_devtype,
	.setup = stream_setup,
	.run = stream_run,
	.verify = stream_verify,
	.teardown = stream_teardown,
	.verifies = CDM_VERIFY_DATA,
};
