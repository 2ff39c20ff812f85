// SPDX-License-Identifier: GPL-2.0
/*
 * gpu-migrate: what moving pages between system RAM and a GPU costs, as a
 * fraction of what the link carries, and where the kernel leaves them.
 *
 * The buffer is malloc memory the GPU reaches through HMM (alloc=system:
 * amdkfd's SVM or nvidia-uvm mirror it with hmm_range_fault, and
 * migrate_vma_* moves it into VRAM) or the runtime's managed memory
 * (alloc=managed). Each iteration:
 *  1. the link: the runtime copies a pinned host buffer into device memory
 *     and back (hipMemcpy / cudaMemcpy), the baseline of this very run, so
 *     every migration figure is also a ratio to it;
 *  2. prefetch to the GPU, then back (hipMemPrefetchAsync /
 *     cudaMemPrefetchAsync): GB/s, ns per page, placement checked after
 *     each, the data checked by the device on the GPU and by the CPU home;
 *  3. GPU first touch of pages in system RAM: one load per page, each a
 *     GPU fault the driver services by migrating (or by mapping remotely,
 *     its choice): ns per page, the placement after it recorded;
 *  4. CPU touch of GPU-resident pages: one load per page. The kernel's
 *     promise, checked: a device-private page comes home through
 *     dev_pagemap_ops.migrate_to_ram; a device-coherent page (VRAM the
 *     CPU reaches over XGMI) is read in place and stays.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/fixture.h"
#include "lib/pattern.h"

enum { ALLOC_SYSTEM, ALLOC_MANAGED };
enum { ADV_NONE, ADV_PREFER_DEVICE, ADV_PREFER_SYSTEM, ADV_ACCESSED_BY,
       ADV_COARSE, ADV_FINE };

struct gm_cfg {
	struct dev_cfg dev;
	int alloc;
	int advise;
};

static const struct cdm_opt gm_opts[] = {
	DEV_OPT_ENGINE,
	DEV_OPT_DEVICE,
	DEV_OPT_SIZE("64M", 65536, 64.0 * 1073741824,
		     "bytes moved each way per iteration (keep managed memory at or below 1G on shared GPUs)"),
	DEV_OPT_INSTANCE(0),
	{ "alloc", CDM_T_ENUM, OPT_FIELD(struct gm_cfg, alloc), "system", 0, 0,
	  "system|managed", 0,
	  "the buffer: system (mmap memory the GPU reaches through HMM) or managed (hipMallocManaged / cudaMallocManaged)" },
	{ "advise", CDM_T_ENUM, OPT_FIELD(struct gm_cfg, advise), "none", 0, 0,
	  "none|prefer-device|prefer-system|accessed-by|coarse|fine", 0,
	  "a placement or coherence hint given once after allocation (hipMemAdvise / cudaMemAdvise; coarse and fine grain are HIP's)" },
	CDM_OPT_END
};

struct gm {
	struct cdm_edev *dev;
	struct cdm_ebuf buf;	/* what migrates */
	struct cdm_ebuf host;	/* pinned host memory: the link baseline */
	struct cdm_ebuf vram;	/* device memory: the link baseline */
	char *back;		/* the device's view of buf */
	int m_h2d, m_d2h, m_touch_page, m_back_page;
	int m_bw[2], m_ratio[2], m_page[2];	/* by enum cdm_dir */
};

static int gm_alloc(struct cdm_ctx *ctx, struct gm *g, enum cdm_alloc_kind k,
		    struct cdm_ebuf *b, const char *what)
{
	size_t len = ((const struct gm_cfg *)cdm_cfg(ctx))->dev.size;
	int r;

	g->dev->err[0] = 0;
	r = g->dev->ops->alloc(g->dev, k, len, 0, b);
	if (r == -ENOMEM)
		return cdm_skip(ctx, "%s of %zu bytes does not fit: %s", what,
				len, dev_strerror(g->dev, r));
	if (r)
		return cdm_error(ctx, "%s of %zu bytes: %s", what, len,
				 dev_strerror(g->dev, r));
	return 0;
}

static int gm_advise(struct cdm_ctx *ctx, struct gm *g)
{
	static const enum cdm_advice map[] = {
		[ADV_PREFER_DEVICE] = CDM_ADV_PREFER_DEVICE,
		[ADV_PREFER_SYSTEM] = CDM_ADV_PREFER_SYSTEM,
		[ADV_ACCESSED_BY] = CDM_ADV_ACCESSED_BY,
		[ADV_COARSE] = CDM_ADV_COARSE_GRAIN,
		[ADV_FINE] = CDM_ADV_FINE_GRAIN,
	};
	const struct gm_cfg *cfg = cdm_cfg(ctx);
	int r;

	if (cfg->advise == ADV_NONE)
		return 0;
	if (dev_require(ctx, g->dev, CDM_CAP_ADVISE))
		return -1;
	g->dev->err[0] = 0;
	r = g->dev->ops->advise(g->dev, g->buf.p, g->buf.len, map[cfg->advise]);
	if (r == -EOPNOTSUPP)
		return cdm_skip(ctx, "advise: %s", dev_strerror(g->dev, r));
	if (r)
		return cdm_error(ctx, "advise: %s", dev_strerror(g->dev, r));
	return 0;
}

static int gm_setup(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct gm_cfg *cfg = cdm_cfg(ctx);
	struct gm *g = fx->priv;

	g->dev = fx->dev;
	if (cfg->alloc == ALLOC_MANAGED &&
	    dev_require(ctx, g->dev, CDM_CAP_ALLOC_MANAGED))
		return -1;
	if (gm_alloc(ctx, g, cfg->alloc == ALLOC_MANAGED ? CDM_ALLOC_MANAGED :
		     CDM_ALLOC_SYSTEM, &g->buf, "the buffer") ||
	    gm_alloc(ctx, g, CDM_ALLOC_PINNED, &g->host, "pinned host memory") ||
	    gm_alloc(ctx, g, CDM_ALLOC_DEVICE, &g->vram, "device memory"))
		return -1;
	g->back = malloc(cfg->dev.size);
	if (!g->back)
		return cdm_skip(ctx, "cannot allocate %llu bytes for the read-back",
				(unsigned long long)cfg->dev.size);
	if (gm_advise(ctx, g))
		return -1;
	g->m_h2d = cdm_metric(ctx, "link_h2d_bw", "GB/s", CDM_HIGHER_IS_BETTER);
	g->m_d2h = cdm_metric(ctx, "link_d2h_bw", "GB/s", CDM_HIGHER_IS_BETTER);
	g->m_bw[CDM_TO_DEVICE] = cdm_metric(ctx, "to_dev_bw", "GB/s", CDM_HIGHER_IS_BETTER);
	g->m_bw[CDM_TO_SYSTEM] = cdm_metric(ctx, "to_sys_bw", "GB/s", CDM_HIGHER_IS_BETTER);
	g->m_ratio[CDM_TO_DEVICE] = cdm_metric(ctx, "to_dev_link_ratio", "ratio", CDM_HIGHER_IS_BETTER);
	g->m_ratio[CDM_TO_SYSTEM] = cdm_metric(ctx, "to_sys_link_ratio", "ratio", CDM_HIGHER_IS_BETTER);
	g->m_page[CDM_TO_DEVICE] = cdm_metric(ctx, "to_dev_page", "ns", CDM_LOWER_IS_BETTER);
	g->m_page[CDM_TO_SYSTEM] = cdm_metric(ctx, "to_sys_page", "ns", CDM_LOWER_IS_BETTER);
	g->m_touch_page = cdm_metric(ctx, "gpu_first_touch_page", "ns", CDM_LOWER_IS_BETTER);
	g->m_back_page = cdm_metric(ctx, "cpu_touch_page", "ns", CDM_LOWER_IS_BETTER);
	cdm_info(ctx, "buffer", "%zu pages, %s, device %s (%s)", g->buf.npages,
		 cfg->alloc == ALLOC_MANAGED ? "managed" : "system (HMM)",
		 g->dev->info.name, g->dev->info.detail);
	return 0;
}

/* the link both ways through the runtime's copy; GB/s into *h2d, *d2h */
static int gm_link(struct cdm_ctx *ctx, struct gm *g, double *h2d, double *d2h)
{
	struct cdm_estat st;
	int r;

	g->dev->err[0] = 0;
	r = g->dev->ops->copy(g->dev, g->vram.p, g->host.p, g->buf.len,
			      CDM_TO_DEVICE, &st);
	if (r)
		return cdm_error(ctx, "copy to the device: %s", dev_strerror(g->dev, r));
	*h2d = (double)g->buf.len / st.ns;
	r = g->dev->ops->copy(g->dev, g->host.p, g->vram.p, g->buf.len,
			      CDM_TO_SYSTEM, &st);
	if (r)
		return cdm_error(ctx, "copy from the device: %s", dev_strerror(g->dev, r));
	*d2h = (double)g->buf.len / st.ns;
	cdm_sample(ctx, g->m_h2d, *h2d);
	cdm_sample(ctx, g->m_d2h, *d2h);
	return 0;
}

/* prefetch one way; the whole buffer in one call; ns or 0 after an error */
static uint64_t gm_move(struct cdm_ctx *ctx, struct gm *g, enum cdm_dir dir,
			void *readback)
{
	struct cdm_estat st;
	int r;

	g->dev->err[0] = 0;
	r = dev_migrate(g->dev, g->buf.p, g->buf.npages, dir, readback, &st);
	if (r == -ENOMEM) {
		cdm_fail(ctx, "device memory exhausted: %s", dev_strerror(g->dev, r));
		return 0;
	}
	if (r) {
		cdm_error(ctx, "prefetch to %s: %s", dir == CDM_TO_DEVICE ?
			  "the device" : "system RAM", dev_strerror(g->dev, r));
		return 0;
	}
	return st.ns ? st.ns : 1;
}

/* one CPU load per page: a fault for every page not mapped on the CPU */
static uint64_t gm_cpu_touch(struct gm *g)
{
	volatile const char *p = g->buf.p;
	size_t pg = cdm_page_size(), i;
	uint64_t t0 = cdm_now_ns();
	char sink = 0;

	for (i = 0; i < g->buf.npages; i++)
		sink ^= p[i * pg];
	(void)sink;
	return cdm_now_ns() - t0;
}

/*
 * The kernel's promise after a CPU touch: private pages home, coherent
 * pages where they were. Unified memory (an APU) has nothing to check.
 */
static int gm_check_after_cpu_touch(struct cdm_ctx *ctx, struct gm *g)
{
	switch (g->dev->info.memtype) {
	case CDM_MEM_PRIVATE:
		return dev_check_where(ctx, g->dev, &g->buf, DEV_IN_SYSTEM,
				       "CPU touch of device-private pages (migrate_to_ram)", NULL);
	case CDM_MEM_COHERENT:
		return dev_check_where(ctx, g->dev, &g->buf, DEV_ON_DEVICE,
				       "CPU touch of device-coherent pages (read in place)", NULL);
	default:
		return 0;
	}
}

static void gm_note_placement(struct cdm_ctx *ctx, struct gm *g,
			      const char *key)
{
	struct dev_where w;
	char buf[160];

	if (!dev_has(g->dev, CDM_CAP_WHERE) ||
	    dev_where(g->dev, &g->buf, NULL, &w))
		return;
	cdm_info(ctx, key, "%s", dev_placement(&w, g->buf.npages, buf, sizeof(buf)));
}

/*
 * Prefetch the buffer one way at link GB/s of the plain copy: sampled,
 * then where it went and what it holds are checked (to the device, the
 * device's read-back; home, the CPU's read). 1 when the data matched, 0
 * when it did not (the case has failed), -1 on error.
 */
static int gm_leg(struct cdm_ctx *ctx, struct gm *g, uint32_t gen,
		  enum cdm_dir dir, double link)
{
	bool to_dev = dir == CDM_TO_DEVICE;
	const char *to = to_dev ? "the device" : "system RAM";
	char what[96];
	uint64_t ns;

	ns = gm_move(ctx, g, dir, to_dev ? g->back : NULL);
	if (!ns)
		return -1;
	cdm_sample(ctx, g->m_bw[dir], (double)g->buf.len / ns);
	cdm_sample(ctx, g->m_ratio[dir], (double)g->buf.len / ns / link);
	cdm_sample(ctx, g->m_page[dir], (double)ns / g->buf.npages);
	snprintf(what, sizeof(what), "after the prefetch to %s", to);
	if (dev_check_where(ctx, g->dev, &g->buf,
			    to_dev ? DEV_ON_DEVICE : DEV_IN_SYSTEM, what, NULL) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s read after the prefetch to %s",
		 to_dev ? "device" : "CPU", to);
	return dev_check_data(ctx, to_dev ? g->back : g->buf.p, g->buf.len,
			      gen, what);
}

static int gm_round_trip(struct cdm_ctx *ctx, struct gm *g, uint32_t gen,
			 double h2d, double d2h)
{
	int r;

	pat_fill(g->buf.p, g->buf.len, cdm_seed(ctx), gen);
	r = gm_leg(ctx, g, gen, CDM_TO_DEVICE, h2d);
	if (r <= 0)
		return r;
	return gm_leg(ctx, g, gen, CDM_TO_SYSTEM, d2h) < 0 ? -1 : 0;
}

static int gm_touches(struct cdm_ctx *ctx, struct gm *g, uint32_t gen)
{
	struct cdm_estat st;
	int r;

	/* pages are home and CPU-written: every GPU load faults */
	pat_fill(g->buf.p, g->buf.len, cdm_seed(ctx), gen);
	g->dev->err[0] = 0;
	r = g->dev->ops->dev_touch(g->dev, g->buf.p, g->buf.npages, 0, &st);
	if (r)
		return cdm_error(ctx, "GPU first touch: %s", dev_strerror(g->dev, r));
	cdm_sample(ctx, g->m_touch_page, (double)st.ns / g->buf.npages);
	gm_note_placement(ctx, g, "after_gpu_first_touch");
	if (!gm_move(ctx, g, CDM_TO_DEVICE, NULL))
		return -1;
	cdm_sample(ctx, g->m_back_page, (double)gm_cpu_touch(g) / g->buf.npages);
	if (gm_check_after_cpu_touch(ctx, g) < 0)
		return -1;
	dev_check_data(ctx, g->buf.p, g->buf.len, gen,
		       "CPU read after the CPU touch of device-resident pages");
	return 0;
}

static int gm_run(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	struct gm *g = fx->priv;
	uint32_t gen = 0;

	while (cdm_iter(ctx)) {
		double h2d = 0, d2h = 0;

		if (gm_link(ctx, g, &h2d, &d2h) ||
		    gm_round_trip(ctx, g, gen + 1, h2d, d2h))
			return -1;
		if (cdm_failed(ctx))
			break;
		if (gm_touches(ctx, g, gen + 2))
			return -1;
		gen += 2;
	}
	if (!cdm_failed(ctx))
		cdm_info(ctx, "integrity", "ok");
	return 0;
}

static void gm_teardown(struct cdm_ctx *ctx __unused, struct dev_fx *fx)
{
	struct gm *g = fx->priv;

	if (g->dev) {
		dev_buf_unmap(g->dev, &g->buf);
		dev_buf_unmap(g->dev, &g->host);
		dev_buf_unmap(g->dev, &g->vram);
	}
	free(g->back);
}

#define gm_supported NULL

DEV_WORKLOAD(gpu_migrate, gm, CDM_CAP_COPY | CDM_CAP_ALLOC_PINNED |
	     CDM_CAP_ALLOC_DEVICE | CDM_CAP_MIGRATE | CDM_CAP_MIGRATE_READBACK |
	     CDM_CAP_WHERE | CDM_CAP_DEV_TOUCH, DEV_F_NO_BUFFER, gm_teardown,
	.name = "gpu-migrate",
	.summary = "GPU prefetch both ways as a ratio to the pinned-copy link; first-touch and CPU-touch cost; placement the kernel promises",
	.verifies = CDM_VERIFY_DATA | CDM_VERIFY_PLACEMENT);
