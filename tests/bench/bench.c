// SPDX-License-Identifier: GPL-2.0
/*
 * Harness benchmarks (make bench). Prints figures, asserts nothing:
 *   timing   per-sample cost of cdm_now_ns() + cdm_sample(), in ns
 *   db       samples per second committed to SQLite
 *   bare     ns per getppid() in a bare loop (tests/bench/run.sh compares
 *            it with what `cdmbench run -w selftest --set mode=syscall`
 *            measures through the whole harness)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "core/child.h"
#include "store/db.h"
#include "stats/stats.h"
#include "core/workload.h"
#include "../unit/fixture.h"

#define TIMING_SAMPLES 5000000L
#define ROUNDS 5

static double per_sample_ns;
static double clock_ns;

static double median5(double *v)
{
	cdm_sort_doubles(v, ROUNDS);
	return v[ROUNDS / 2];
}

static int timing_run(struct cdm_ctx *ctx)
{
	int m = cdm_metric(ctx, "t", "ns", CDM_LOWER_IS_BETTER);
	double clk[ROUNDS], smp[ROUNDS];
	volatile uint64_t sink = 0;
	uint64_t t0;
	long i;
	int r = 0;

	/* what a workload pays per measured sample: a clock read and a store;
	 * cdm_iter() between rounds hands the samples to the parent */
	while (cdm_iter(ctx) && r < ROUNDS) {
		t0 = cdm_now_ns();
		for (i = 0; i < TIMING_SAMPLES; i++)
			sink += cdm_now_ns();
		clk[r] = (double)(cdm_now_ns() - t0) / TIMING_SAMPLES;
		t0 = cdm_now_ns();
		for (i = 0; i < TIMING_SAMPLES; i++)
			cdm_sample(ctx, m, (double)cdm_now_ns());
		smp[r] = (double)(cdm_now_ns() - t0) / TIMING_SAMPLES;
		r++;
	}
	clock_ns = median5(clk);
	per_sample_ns = median5(smp);
	return 0;
}

static const struct cdm_workload timing_wl = {
	.name = "bench-timing",
	.backend = "cpu",
	.run = timing_run,
};

static void bench_timing(void)
{
	struct cdm_common c = { .repeat = ROUNDS, .warmup = 0, .timeout = 0 };
	int fd = open("/dev/null", O_WRONLY);

	cdm_child_run(&timing_wl, NULL, &c, 1, fd);
	close(fd);
	printf("timing: %.1f ns per sample (clock read + cdm_sample); the clock read alone %.1f ns (medians of %d rounds of %ld)\n",
	       per_sample_ns, clock_ns, ROUNDS, TIMING_SAMPLES);
}

static void fill(struct cdm_run_info *r, struct cdm_case_res *c, size_t n)
{
	struct cdm_metric_res *m;
	size_t i;

	fixture_run(r, "bench");
	m = fixture_case(c, "c", "m", "ns");
	m->v = xmalloc(n * sizeof(double));
	m->cap = m->n = n;
	for (i = 0; i < n; i++)
		m->v[i] = 1000.0 + (double)(i % 977);
	case_res_summarize(c);
}

static void bench_db(const char *dir, size_t n)
{
	char *path = xasprintf("%s/bench.db", dir);
	struct cdm_run_info r;
	struct cdm_case_res c;
	struct cdm_db d;
	uint64_t t0, t1;
	int64_t id;

	unlink(path);
	if (db_open(&d, path, DB_WRITE))
		exit(1);
	fill(&r, &c, n);
	if (db_run_begin(&d, &r, &id))
		exit(1);
	t0 = cdm_now_ns();
	if (db_case(&d, id, &c))
		exit(1);
	t1 = cdm_now_ns();
	printf("db: %zu samples committed in %.3f s: %.0f samples/s (goal >= 1000000)\n",
	       n, (t1 - t0) / 1e9, n / ((t1 - t0) / 1e9));
	db_close(&d);
	case_res_free(&c);
	run_info_free(&r);
	unlink(path);
	free(path);
}

/*
 * The same statistic the harness reports (median over batches of 2000
 * calls), from a plain loop with no harness around it: the difference is
 * the harness's overhead, not a difference of statistics.
 */
#define BARE_BATCH 2000
#define BARE_BATCHES 1000

static void bench_bare(void)
{
	static double per[BARE_BATCHES];
	uint64_t t0, total = 0;
	long i, k;

	for (k = 0; k < BARE_BATCHES; k++) {
		t0 = cdm_now_ns();
		for (i = 0; i < BARE_BATCH; i++)
			syscall(SYS_getppid);
		per[k] = (double)(cdm_now_ns() - t0) / BARE_BATCH;
		total += cdm_now_ns() - t0;
	}
	cdm_sort_doubles(per, BARE_BATCHES);
	printf("bare: %.2f ns per getppid() (bare loop, median of %d batches of %d; mean %.2f)\n",
	       per[BARE_BATCHES / 2], BARE_BATCHES, BARE_BATCH,
	       (double)total / (BARE_BATCHES * BARE_BATCH));
}

/*
 * The engine layer's own cost per call, on the host: dev_migrate() into an
 * engine whose migrate hook does what dmirror's does around its ioctl
 * (two clock reads, the stat) with a no-op in place of the ioctl, against
 * what the workloads did before the engine (dm_timed: the same two clock
 * reads around the call). make bench relates it to the migration times
 * measured in the emulated node (tests/bench/engine.sh).
 */
static __attribute__((noinline)) int noop_ioctl(void *addr, size_t n)
{
	__asm__ volatile("" : : "r"(addr), "r"(n) : "memory");
	return 0;
}

static int stub_migrate(struct cdm_edev *d, void *addr, size_t npages,
			enum cdm_dir dir, void *rb, struct cdm_estat *st)
{
	uint64_t t0 = cdm_now_ns();
	int r = noop_ioctl(addr, npages + dir + (rb != NULL) + (d != NULL));

	st->ns = cdm_now_ns() - t0;
	st->pages = npages;
	return r;
}

#define ENG_CALLS 200000
#define ENG_ROUNDS 21

static void bench_engine(void)
{
	static const struct cdm_engine_ops ops = { .migrate = stub_migrate };
	struct cdm_edev dev = { .ops = &ops };
	double lay[ENG_ROUNDS], bare[ENG_ROUNDS];
	char buf[64];
	uint64_t t0, sink = 0;
	int k, i, r = 0;

	for (k = 0; k < ENG_ROUNDS; k++) {
		t0 = cdm_now_ns();
		for (i = 0; i < ENG_CALLS; i++)
			r |= dev_migrate(&dev, buf, 1, CDM_TO_DEVICE, NULL, NULL);
		lay[k] = (double)(cdm_now_ns() - t0) / ENG_CALLS;
		t0 = cdm_now_ns();
		for (i = 0; i < ENG_CALLS; i++) {
			uint64_t t1 = cdm_now_ns();

			r |= noop_ioctl(buf, 1);
			sink += cdm_now_ns() - t1;
		}
		bare[k] = (double)(cdm_now_ns() - t0) / ENG_CALLS;
	}
	cdm_sort_doubles(lay, ENG_ROUNDS);
	cdm_sort_doubles(bare, ENG_ROUNDS);
	printf("engine: the layer costs %.1f ns per dev_migrate() on this host (%.1f ns through the engine, %.1f ns for the timed direct call it replaces; medians of %d rounds of %d calls)%s\n",
	       lay[ENG_ROUNDS / 2] - bare[ENG_ROUNDS / 2], lay[ENG_ROUNDS / 2],
	       bare[ENG_ROUNDS / 2], ENG_ROUNDS, ENG_CALLS,
	       r || !sink ? " (a stub failed)" : "");
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "all";
	const char *dir = argc > 2 ? argv[2] : "/tmp";

	if (!strcmp(what, "timing") || !strcmp(what, "all"))
		bench_timing();
	if (!strcmp(what, "db") || !strcmp(what, "all"))
		bench_db(dir, 5000000);
	if (!strcmp(what, "bare") || !strcmp(what, "all"))
		bench_bare();
	if (!strcmp(what, "engine") || !strcmp(what, "all"))
		bench_engine();
	return 0;
}
