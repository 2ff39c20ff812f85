// SPDX-License-Identifier: GPL-2.0
/*
 * fault-back: what a CPU access to device-resident memory costs.
 *
 * DEVICE_PRIVATE pages are not mapped in the CPU page tables: the PTE holds
 * a device-private swap entry, so the first CPU touch of each page takes a
 * fault, do_swap_page() calls the pagemap's migrate_to_ram()
 * (dmirror_devmem_fault() in lib/test_hmm.c) and the page is migrated back
 * to system RAM, one page per fault. DEVICE_COHERENT pages are mapped like
 * normal memory: the same touch must neither fault nor migrate.
 *
 * Each iteration touches every page of a buffer once (a read, or a store,
 * per page, in random order, each timed) with the buffer first in system
 * RAM (the baseline) and then on the device; then sweeps the whole buffer
 * (a read of every word, or a copy of a new generation into it) for a
 * bandwidth figure; on coherent memory also chases dependent loads over
 * random cache lines for a latency figure. SNAPSHOT after every phase
 * proves where the pages are (private: all back in system RAM; coherent:
 * all still on the device), getrusage() counts the faults taken, and the
 * self-describing data is checked after every phase.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "lib/pattern.h"

#define CHASE_MAX_LINES (1u << 20)
#define LINE 64

enum { FB_READ, FB_WRITE };

struct fb_cfg {
	struct dev_cfg dev;
	int access;
};

static const struct cdm_opt fb_opts[] = {
	DEV_OPT_VARIANT,
	DEV_OPT_SIZE("4M", 4096, 1073741824.0,
		     "buffer touched per iteration (a coherent device holds 256M)"),
	DEV_OPT_THP(CDM_OF_KEY_IF_SET),
	{ "access", CDM_T_ENUM, OPT_FIELD(struct fb_cfg, access), "read", 0, 0,
	  "read|write", 0,
	  "how the CPU touches each page (one load or one store) and sweeps the buffer (read every word, or copy a new generation in)" },
	DEV_OPT_CORRUPT("while it is device-resident"),
	CDM_OPT_END
};

struct fb {
	struct cdm_edev *dev;
	struct cdm_ebuf buf;
	char *back;		/* the device's read-back after MIGRATE_TO_DEV */
	char *shadow;		/* the next generation, copied in by write sweeps */
	uint32_t *order;	/* random page order for the touches */
	uint32_t *lines;	/* random cache-line order for the chase */
	size_t nlines;
	double *lat;		/* per-page samples, kept out of the timed loop */
	uint32_t gen;
	bool chase;
	int m_touch_dev, m_touch_sys, m_bw_dev, m_bw_sys;
	int m_chase_dev, m_chase_sys, m_fault_bw;
	uint64_t faults;	/* CPU faults while touching device pages */
	uint64_t moved;		/* pages the touches moved off the device */
	uint64_t rounds;
};

static volatile uint64_t fb_sink;
static volatile uint64_t fb_zero;

static bool is_coherent(const struct fb_cfg *c)
{
	return c->dev.device == DEV_COHERENT;
}

static uint64_t minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static bool fb_supported(const void *cfg, char *why, size_t len)
{
	const struct fb_cfg *c = cfg;

	if (is_coherent(c) && c->dev.size > DM_COHERENT_BYTES) {
		snprintf(why, len, "size %lluM exceeds the 256M a coherent test_hmm device holds",
			 (unsigned long long)(c->dev.size >> 20));
		return false;
	}
	return true;
}

/* Fisher-Yates with the case seed: the same order on every run */
static void shuffle(uint32_t *a, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		a[i] = i;
	for (i = n; i > 1; i--) {
		size_t j = splitmix64(&seed) % i;
		uint32_t t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* the smallest gap between two clock reads: the floor of every sample */
static void note_timer(struct cdm_ctx *ctx)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 1000; i++) {
		uint64_t t0 = cdm_now_ns(), d = cdm_now_ns() - t0;

		if (d < best)
			best = d;
	}
	cdm_info(ctx, "timer_overhead_ns", "%llu", (unsigned long long)best);
}

static int fb_alloc(struct cdm_ctx *ctx, struct dev_fx *fx, struct fb *f)
{
	const struct fb_cfg *cfg = cdm_cfg(ctx);
	size_t n = f->buf.npages;

	f->nlines = cfg->dev.size / LINE;
	if (f->nlines > CHASE_MAX_LINES)
		f->nlines = CHASE_MAX_LINES;
	f->back = dev_alloc(ctx, fx, cfg->dev.size);
	f->shadow = dev_alloc(ctx, fx, cfg->dev.size);
	f->order = dev_alloc(ctx, fx, n * sizeof(*f->order));
	f->lat = dev_alloc(ctx, fx, n * sizeof(*f->lat));
	f->lines = dev_alloc(ctx, fx, f->nlines * sizeof(*f->lines));
	if (!f->back || !f->shadow || !f->order || !f->lat || !f->lines)
		return -1;
	/* touched now, so no fault of ours lands in a timed loop */
	memset(f->back, 0, cfg->dev.size);
	memset(f->lat, 0, n * sizeof(*f->lat));
	shuffle(f->order, n, cdm_seed(ctx) ^ 0x70ac4);
	shuffle(f->lines, f->nlines, cdm_seed(ctx) ^ 0xc4a5e);
	return 0;
}

static void fb_metrics(struct cdm_ctx *ctx, struct fb *f)
{
	const struct fb_cfg *cfg = cdm_cfg(ctx);
	bool wr = cfg->access == FB_WRITE;

	f->m_touch_dev = cdm_metric(ctx, "touch_device_ns", "ns", CDM_LOWER_IS_BETTER);
	f->m_touch_sys = cdm_metric(ctx, "touch_system_ns", "ns", CDM_LOWER_IS_BETTER);
	f->m_bw_dev = cdm_metric(ctx, wr ? "cpu_write_bw_device" : "cpu_read_bw_device",
				 "GB/s", CDM_HIGHER_IS_BETTER);
	f->m_bw_sys = cdm_metric(ctx, wr ? "cpu_write_bw_system" : "cpu_read_bw_system",
				 "GB/s", CDM_HIGHER_IS_BETTER);
	f->m_chase_dev = f->m_chase_sys = f->m_fault_bw = -1;
	if (f->chase) {
		f->m_chase_dev = cdm_metric(ctx, "chase_device_ns", "ns", CDM_LOWER_IS_BETTER);
		f->m_chase_sys = cdm_metric(ctx, "chase_system_ns", "ns", CDM_LOWER_IS_BETTER);
	}
	if (!is_coherent(cfg))
		f->m_fault_bw = cdm_metric(ctx, "fault_back_bw", "GB/s", CDM_HIGHER_IS_BETTER);
}

static int fb_setup(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct fb_cfg *cfg = cdm_cfg(ctx);
	struct fb *f = fx->priv;

	f->dev = fx->dev;
	f->buf = fx->buf;
	if (fb_alloc(ctx, fx, f))
		return -1;
	/* dependent loads over device pages only mean something if they stay */
	f->chase = is_coherent(cfg) && cfg->access == FB_READ;
	fb_metrics(ctx, f);
	note_timer(ctx);
	cdm_info(ctx, "access", "%s", cfg->access == FB_WRITE ? "write" : "read");
	cdm_info(ctx, "touch_device_is", "%s",
		 is_coherent(cfg) ? "an in-place access to a mapped device-coherent page (no fault expected)" :
		 "a CPU fault that migrates the device-private page to system RAM");
	return 0;
}

/*
 * One load or one store per page, in random order, each timed. A store
 * writes the page's own header word, so the data stays checkable.
 * Returns the loop's total time; *flt (if given) gets the faults it took,
 * counted around the loop alone so the harness's own allocations (the
 * samples are handed over afterwards) do not count.
 */
static uint64_t touch_pages(struct cdm_ctx *ctx, struct fb *f, int metric,
			    uint64_t *flt)
{
	const struct fb_cfg *cfg = cdm_cfg(ctx);
	size_t pg = cdm_page_size(), n = f->buf.npages, i;
	uint64_t seed = cdm_seed(ctx), sum = 0, f0 = minflt();
	uint64_t t_all;

	cdm_phase_begin(ctx, metric == f->m_touch_dev ? "touch_device" : "touch_system");
	t_all = cdm_now_ns();
	for (i = 0; i < n; i++) {
		uint32_t idx = f->order[i];
		volatile uint64_t *w = (volatile uint64_t *)(f->buf.p + idx * pg);
		uint64_t v = pat_word(seed, idx, 0, f->gen), t0 = cdm_now_ns();

		if (cfg->access == FB_WRITE)
			*w = v;
		else
			sum += *w;
		f->lat[i] = (double)(cdm_now_ns() - t0);
	}
	t_all = cdm_now_ns() - t_all;
	cdm_phase_end(ctx, n);
	if (flt)
		*flt = minflt() - f0;
	fb_sink = sum;
	for (i = 0; i < n; i++)
		cdm_sample(ctx, metric, f->lat[i]);
	return t_all;
}

static uint64_t read_words(const char *p, size_t len)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < len / 8; i++)
		s += w[i];
	return s;
}

/* the whole buffer once: a read of every word, or a new generation copied in */
static void sweep(struct cdm_ctx *ctx, struct fb *f, int metric)
{
	const struct fb_cfg *cfg = cdm_cfg(ctx);
	uint64_t t0;

	if (cfg->access == FB_WRITE) {
		pat_fill(f->shadow, f->buf.len, cdm_seed(ctx), f->gen + 1);
		t0 = cdm_now_ns();
		memcpy(f->buf.p, f->shadow, f->buf.len);
		f->gen++;
	} else {
		t0 = cdm_now_ns();
		fb_sink = read_words(f->buf.p, f->buf.len);
	}
	cdm_sample(ctx, metric, (double)f->buf.len / (cdm_now_ns() - t0));
}

/* loads whose addresses depend on the previous load: no overlap, no prefetch */
static void chase(struct cdm_ctx *ctx, struct fb *f, int metric)
{
	const uint64_t *w = (const uint64_t *)f->buf.p;
	uint64_t v = 0, zero = fb_zero, t0 = cdm_now_ns();
	size_t i;

	for (i = 0; i < f->nlines; i++)
		v = w[(size_t)f->lines[i] * (LINE / 8) + (v & zero)];
	cdm_sample(ctx, metric, (double)(cdm_now_ns() - t0) / f->nlines);
	fb_sink = v;
}

static int to_device(struct cdm_ctx *ctx, struct fb *f)
{
	return dev_to_device(ctx, f->dev, &f->buf, f->back, f->gen);
}

/* where the pages must be after the CPU used them on the device */
static int check_after_cpu(struct cdm_ctx *ctx, struct fb *f, const char *what,
			   struct dev_where *w)
{
	const struct fb_cfg *cfg = cdm_cfg(ctx);
	char phase[160];

	snprintf(phase, sizeof(phase), "after %s device-%s pages%s", what,
		 is_coherent(cfg) ? "coherent" : "private",
		 is_coherent(cfg) ? " (must neither fault nor migrate)" :
		 " (each access must fault the page back to system RAM)");
	return dev_check_where(ctx, f->dev, &f->buf,
			       is_coherent(cfg) ? DEV_ON_DEVICE : DEV_IN_SYSTEM,
			       phase, w);
}

static bool check_cpu(struct cdm_ctx *ctx, struct fb *f, const char *phase)
{
	return dev_check_data(ctx, f->buf.p, f->buf.len, f->gen, phase);
}

/* the same touches, sweep and chase with the buffer in system RAM */
static int system_phase(struct cdm_ctx *ctx, struct fb *f)
{
	touch_pages(ctx, f, f->m_touch_sys, NULL);
	if (!check_cpu(ctx, f, "CPU read after touching system-resident pages"))
		return -1;
	if (f->chase)
		chase(ctx, f, f->m_chase_sys);
	sweep(ctx, f, f->m_bw_sys);
	if (!check_cpu(ctx, f, "CPU read after sweeping system-resident pages"))
		return -1;
	return 0;
}

static void count_faults(struct cdm_ctx *ctx, struct fb *f, uint64_t flt,
			 const struct dev_where *w)
{
	const struct fb_cfg *cfg = cdm_cfg(ctx);

	if (cdm_warming(ctx))
		return;
	f->faults += flt;
	f->moved += f->buf.npages - w->local;
	f->rounds++;
	if (is_coherent(cfg) && flt)
		cdm_fail(ctx, "%llu CPU page faults while touching %zu mapped device-coherent pages (expected none)",
			 (unsigned long long)flt, f->buf.npages);
}

/* first touch of every device page, then a sweep over the device buffer */
static int device_phase(struct cdm_ctx *ctx, struct fb *f)
{
	const struct fb_cfg *cfg = cdm_cfg(ctx);
	struct dev_where w;
	uint64_t flt, ns;

	if (to_device(ctx, f))
		return -1;
	ns = touch_pages(ctx, f, f->m_touch_dev, &flt);
	if (check_after_cpu(ctx, f, "the CPU touched every page of the", &w) < 0)
		return -1;
	count_faults(ctx, f, flt, &w);
	if (f->m_fault_bw >= 0)
		cdm_sample(ctx, f->m_fault_bw, (double)f->buf.len / ns);
	if (!check_cpu(ctx, f, "CPU read after touching device-resident pages"))
		return -1;
	if (f->chase) {
		chase(ctx, f, f->m_chase_dev);
		if (check_after_cpu(ctx, f, "dependent loads over", NULL) < 0)
			return -1;
	}
	/* private pages came home with the touches: send them out again */
	if (!is_coherent(cfg) && to_device(ctx, f))
		return -1;
	sweep(ctx, f, f->m_bw_dev);
	if (check_after_cpu(ctx, f, "a CPU sweep over", NULL) < 0)
		return -1;
	if (!check_cpu(ctx, f, "CPU read after sweeping device-resident pages"))
		return -1;
	return 0;
}

static int back_home(struct cdm_ctx *ctx, struct fb *f)
{
	return dev_to_system(ctx, f->dev, &f->buf, f->gen,
			     "CPU read after MIGRATE_TO_SYS");
}

static int fb_iteration(struct cdm_ctx *ctx, struct fb *f)
{
	f->gen += 2;
	pat_fill(f->buf.p, f->buf.len, cdm_seed(ctx), f->gen);
	/* a failed phase has set the verdict; cdm_iter() ends the loop */
	if (system_phase(ctx, f) || device_phase(ctx, f))
		return 0;
	return back_home(ctx, f);
}

static void fb_report(struct cdm_ctx *ctx, struct fb *f)
{
	const struct fb_cfg *cfg = cdm_cfg(ctx);
	uint64_t r = f->rounds ? f->rounds : 1;

	cdm_info(ctx, "pages", "%zu", f->buf.npages);
	/* per pass over the device buffer: getrusage() and SNAPSHOT */
	cdm_info(ctx, "cpu_faults", "%llu", (unsigned long long)(f->faults / r));
	cdm_info(ctx, "pages_faulted_back", "%llu",
		 (unsigned long long)(f->moved / r));
	if (cdm_failed(ctx))
		return;
	cdm_info(ctx, "placement_after_cpu_access", "%s",
		 is_coherent(cfg) ? "device" : "system");
	cdm_info(ctx, "integrity", "ok");
}

static int fb_run(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	struct fb *f = fx->priv;

	while (cdm_iter(ctx)) {
		if (fb_iteration(ctx, f) < 0)
			return -1;
	}
	fb_report(ctx, f);
	return 0;
}

DEV_WORKLOAD(fault_back, fb, DEV_CAPS_ROUND_TRIP, 0, NULL,
	.name = "fault-back",
	.summary = "CPU access to device pages: private faults back, coherent stays (latency, bandwidth)",
	.help = "Touches every page of a device-resident buffer from the CPU and times each\n"
		"touch (touch_device_ns) against the same buffer in system RAM\n"
		"(touch_system_ns). On private memory each touch is a fault that migrates\n"
		"the page home; on coherent memory it is an in-place access, and SNAPSHOT\n"
		"must show every page still on the device. Also a whole-buffer read or\n"
		"write sweep (cpu_{read,write}_bw_{device,system}) and, for coherent reads,\n"
		"dependent loads over random cache lines (chase_{device,system}_ns).",
	.verifies = CDM_VERIFY_DATA | CDM_VERIFY_PLACEMENT,
	.tamper = "corrupt_page", .tamper_value = "21");
