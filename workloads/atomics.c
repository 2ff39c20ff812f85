// SPDX-License-Identifier: GPL-2.0
/*
 * atomics: device-exclusive access ping-ponged with CPU writes.
 *
 * A GPU doing atomics on system memory over a link without system-wide
 * atomics asks the kernel for exclusive access first:
 * make_device_exclusive_range() (mm/rmap.c) replaces each pte with a
 * device-exclusive swap entry, and the CPU's next touch faults into
 * do_swap_page() -> remove_device_exclusive_entry(), which fires an
 * MMU_NOTIFY_EXCLUSIVE invalidation so the device drops its mapping and
 * restores the CPU's pte. test_hmm drives the first half with
 * HMM_DMIRROR_EXCLUSIVE and reports whether its device still holds the
 * pages with HMM_DMIRROR_CHECK_EXCLUSIVE (-EPERM: still exclusive).
 *
 * Each iteration: time a plain CPU store per page (the baseline), take
 * exclusivity (timed, per ioctl and per page) and check the data the device
 * read under it, confirm CHECK_EXCLUSIVE says "held", then time the CPU
 * store that hits each exclusive entry (the revocation), confirm
 * CHECK_EXCLUSIVE says "released", that SNAPSHOT shows the pages back where
 * they were, and that CPU and device both read the new generation.
 *
 * Device type: exclusive access is a property of the CPU page, not of the
 * device, so device=private and device=coherent run the same kernel path
 * on system pages (where=system). The coherent device adds where=device:
 * the pages first migrate to device-coherent memory, which stays CPU-mapped,
 * and exclusivity is taken on those. Device-private pages are not CPU-mapped
 * at all (EXCLUSIVE's get_user_pages would fault them back to system RAM
 * first), so private + where=device SKIPs.
 *
 * THP: on 6.1 make_device_exclusive_range() skips the tail pages of a large
 * folio and test_hmm answers EBUSY. That is reported as exclusive_thp=ebusy
 * and, by default, a SKIP with the reason (no exclusivity, nothing to
 * time); ebusy=fail turns it into a failure for kernels that should cope.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "lib/pattern.h"

enum { WHERE_SYSTEM, WHERE_DEVICE };
enum { EBUSY_SKIP, EBUSY_FAIL };

struct at_cfg {
	struct dev_cfg dev;
	int where;
	uint64_t batch;
	int ebusy;
};

static const struct cdm_opt at_opts[] = {
	DEV_OPT_VARIANT,
	DEV_OPT_SIZE("1M", 4096, 256.0 * 1048576,
		     "bytes made exclusive and revoked per iteration"),
	DEV_OPT_THP(0),
	{ "where", CDM_T_ENUM, OPT_FIELD(struct at_cfg, where), "system", 0, 0,
	  "system|device", 0,
	  "where the pages live when exclusivity is taken: system RAM, or device-coherent memory (coherent only)" },
	{ "batch", CDM_T_SIZE, OPT_FIELD(struct at_cfg, batch), "0", 0,
	  256.0 * 1048576, NULL, CDM_OF_PAGE_ALIGNED,
	  "bytes per EXCLUSIVE ioctl, one latency sample each (0: the whole buffer)" },
	{ "ebusy", CDM_T_ENUM, OPT_FIELD(struct at_cfg, ebusy), "skip", 0, 0,
	  "skip|fail", 0,
	  "EXCLUSIVE answering EBUSY on THP-backed memory: skip (a known 6.1 limitation, recorded as exclusive_thp=ebusy) or fail" },
	DEV_OPT_CORRUPT("after the revoking CPU writes"),
	CDM_OPT_END
};

struct at {
	struct cdm_edev *dev;
	struct cdm_ebuf buf;
	char *back;		/* what the device read */
	uint8_t *snap;
	size_t batch_pages;
	bool snap_noted;
	size_t pmd_max;		/* most PMD-mapped pages seen before EXCLUSIVE */
	uint64_t revoked;
	int m_excl_op, m_excl_page, m_revoke, m_normal, m_check;
};

static bool at_supported(const void *cfg, char *why, size_t len)
{
	const struct at_cfg *c = cfg;

	if (c->where == WHERE_DEVICE && c->dev.device == DEV_PRIVATE) {
		snprintf(why, len,
			 "where=device needs CPU-mapped device memory: device-private pages have no CPU mapping, so EXCLUSIVE's get_user_pages would fault them back to system RAM first (that is where=system plus a fault-back); use device=coherent");
		return false;
	}
	return true;
}

static int at_setup(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct at_cfg *cfg = cdm_cfg(ctx);
	struct at *a = fx->priv;

	a->dev = fx->dev;
	a->buf = fx->buf;
	a->back = dev_alloc(ctx, fx, cfg->dev.size);
	a->snap = dev_alloc(ctx, fx, a->buf.npages);
	if (!a->back || !a->snap)
		return -1;
	a->batch_pages = cfg->batch ? cfg->batch / cdm_page_size() :
		a->buf.npages;
	if (a->batch_pages > a->buf.npages)
		a->batch_pages = a->buf.npages;
	a->m_excl_op = cdm_metric(ctx, "exclusive_op", "us", CDM_LOWER_IS_BETTER);
	a->m_excl_page = cdm_metric(ctx, "exclusive_page", "ns", CDM_LOWER_IS_BETTER);
	a->m_revoke = cdm_metric(ctx, "revoke_write", "ns", CDM_LOWER_IS_BETTER);
	a->m_normal = cdm_metric(ctx, "normal_write", "ns", CDM_LOWER_IS_BETTER);
	a->m_check = cdm_metric(ctx, "check_exclusive_op", "us", CDM_LOWER_IS_BETTER);
	pat_fill(a->buf.p, a->buf.len, cdm_seed(ctx), 1);
	return 0;
}

static enum dev_expect at_home(const struct at_cfg *cfg)
{
	return cfg->where == WHERE_DEVICE ? DEV_ON_DEVICE : DEV_IN_SYSTEM;
}

/* where=device: the pages must sit in device-coherent memory before */
static int place(struct cdm_ctx *ctx, struct at *a)
{
	const struct at_cfg *cfg = cdm_cfg(ctx);
	int r;

	if (cfg->where != WHERE_DEVICE)
		return 0;
	r = dev_migrate(a->dev, a->buf.p, a->buf.npages, CDM_TO_DEVICE, a->back,
			NULL);
	if (r == -ENOMEM) {
		cdm_info(ctx, "enomem", "MIGRATE_TO_DEV returned ENOMEM (device memory exhausted)");
		cdm_fail(ctx, "device memory exhausted (ENOMEM) placing the buffer");
		return 0;
	}
	/*
	 * Pages still on the device from the last iteration are not moved and
	 * may have no mirror entry, so the read-back can answer ENOENT:
	 * SNAPSHOT decides.
	 */
	if (r && r != -ENOENT)
		return cdm_error(ctx, "MIGRATE_TO_DEV: %s", dev_strerror(a->dev, r));
	return dev_check_where(ctx, a->dev, &a->buf, DEV_ON_DEVICE,
			       "before EXCLUSIVE", NULL);
}

static uint64_t hdr1(struct cdm_ctx *ctx, uint32_t gen)
{
	return pat_word(cdm_seed(ctx), 0, 1, gen);
}

/* one timed store per page: word 1, the header naming the generation */
static void timed_stores(struct cdm_ctx *ctx, struct at *a, int metric,
			 uint32_t gen)
{
	size_t pg = cdm_page_size(), i;
	uint64_t v = hdr1(ctx, gen);

	for (i = 0; i < a->buf.npages; i++) {
		volatile uint64_t *w = (uint64_t *)(a->buf.p + i * pg) + 1;
		uint64_t t0 = cdm_now_ns();

		*w = v;
		cdm_sample(ctx, metric, cdm_now_ns() - t0);
	}
}

/* SNAPSHOT while exclusive: what hmm_range_fault reports for the entry */
static void note_exclusive_snapshot(struct cdm_ctx *ctx, struct at *a)
{
	char d[96];

	if (a->snap_noted || dev_loc(a->dev, a->buf.p, 1, a->snap))
		return;
	a->snap_noted = true;
	cdm_info(ctx, "snap_exclusive", "%s",
		 dev_pg_describe(a->snap[0], d, sizeof(d)));
}

/* pages SNAPSHOT reports as mapped by a PMD (THP-backed) */
static size_t pmd_pages(struct at *a)
{
	size_t i, n = 0;

	if (dev_loc(a->dev, a->buf.p, a->buf.npages, a->snap))
		return 0;
	for (i = 0; i < a->buf.npages; i++)
		n += !!(a->snap[i] & CDM_PG_HUGE);
	return n;
}

/* the pages whose pte is gone (exclusive entries read as "not mapped") */
static size_t unmapped_pages(struct at *a)
{
	size_t i, n = 0;

	if (dev_loc(a->dev, a->buf.p, a->buf.npages, a->snap))
		return 0;
	for (i = 0; i < a->buf.npages; i++)
		n += cdm_pg_loc(a->snap[i]) == CDM_LOC_NONE;
	return n;
}

/* EBUSY from EXCLUSIVE: the THP limitation, or a surprise on base pages */
static int exclusive_busy(struct cdm_ctx *ctx, struct at *a, size_t page,
			  size_t pmd)
{
	const struct at_cfg *cfg = cdm_cfg(ctx);
	size_t held = unmapped_pages(a);

	/* give every page back to the CPU before the case ends */
	pat_fill(a->buf.p, a->buf.len, cdm_seed(ctx), 1);
	if (!cfg->dev.thp || !pmd) {
		cdm_fail(ctx, "EXCLUSIVE returned EBUSY at page %zu of %zu base pages (no THP involved)",
			 page, a->buf.npages);
		return 0;
	}
	cdm_info(ctx, "exclusive_thp", "ebusy");
	cdm_info(ctx, "exclusive_thp_detail",
		 "EXCLUSIVE returned EBUSY at page %zu; %zu of %zu pages were PMD-mapped before; %zu pages had become exclusive when it gave up",
		 page, pmd, a->buf.npages, held);
	if (cfg->ebusy == EBUSY_FAIL) {
		cdm_fail(ctx, "HMM_DMIRROR_EXCLUSIVE returned EBUSY on THP-backed memory (page %zu)",
			 page);
		return 0;
	}
	return cdm_skip(ctx, "device-exclusive access unavailable on THP-backed memory: make_device_exclusive_range() skips large-folio pages on this kernel and EXCLUSIVE returns EBUSY (recorded as exclusive_thp=ebusy; nothing to time)");
}

/* take exclusivity in batches; 1 if it was refused with EBUSY */
static int take_exclusive(struct cdm_ctx *ctx, struct at *a, size_t pmd)
{
	size_t pg = cdm_page_size(), i;
	char *p = a->buf.p;

	for (i = 0; i < a->buf.npages; i += a->batch_pages) {
		size_t n = a->buf.npages - i < a->batch_pages ?
			   a->buf.npages - i : a->batch_pages;
		struct cdm_estat st;
		int r;

		r = dev_exclusive(a->dev, p + i * pg, n, a->back + i * pg, &st);
		if (r == -EBUSY)
			return exclusive_busy(ctx, a, i, pmd) < 0 ? -1 : 1;
		if (r)
			return cdm_error(ctx, "EXCLUSIVE at page %zu: %s", i,
					 dev_strerror(a->dev, r));
		cdm_sample(ctx, a->m_excl_op, st.ns / 1e3);
		cdm_sample(ctx, a->m_excl_page, (double)st.ns / n);
	}
	return 0;
}

/* CHECK_EXCLUSIVE: 0 when the device holds no page exclusively */
static int check_exclusive(struct cdm_ctx *ctx, struct at *a, void *addr,
			   size_t npages, bool timed)
{
	struct cdm_estat st;
	int r;

	r = dev_check_exclusive(a->dev, addr, npages, &st);
	if (timed)
		cdm_sample(ctx, a->m_check, st.ns / 1e3);
	return r;
}

/* after the revoking writes: find the first page the device still holds */
static int expect_released(struct cdm_ctx *ctx, struct at *a)
{
	size_t pg = cdm_page_size(), i;
	char *p = a->buf.p;
	int r = check_exclusive(ctx, a, p, a->buf.npages, true);

	if (r == 0)
		return 0;
	if (r != -EPERM)
		return cdm_error(ctx, "CHECK_EXCLUSIVE: %s", dev_strerror(a->dev, r));
	for (i = 0; i < a->buf.npages; i++)
		if (check_exclusive(ctx, a, p + i * pg, 1, false))
			break;
	cdm_fail(ctx, "CPU write did not revoke device exclusivity: page %zu (offset %zu) still exclusive per CHECK_EXCLUSIVE",
		 i, i * pg);
	return 0;
}

/* the revocation: the first CPU store on each exclusive page, timed */
static void revoke_all(struct cdm_ctx *ctx, struct at *a, uint32_t gen)
{
	size_t pg = cdm_page_size(), i;
	char *p = a->buf.p;

	timed_stores(ctx, a, a->m_revoke, gen);
	for (i = 0; i < a->buf.npages; i++)
		pat_fill_page(p + i * pg, pg, cdm_seed(ctx), i, gen);
	a->revoked += a->buf.npages;
}

static int device_reads(struct cdm_ctx *ctx, struct at *a, uint32_t gen)
{
	int r;

	r = dev_read(a->dev, a->buf.p, a->buf.npages, a->back, NULL);
	if (r)
		return cdm_error(ctx, "device READ: %s", dev_strerror(a->dev, r));
	dev_check_data(ctx, a->back, a->buf.len, gen,
		      "device READ after revocation");
	return 0;
}

/* data is at generation gen on entry and gen + 1 on return */
static int at_iteration(struct cdm_ctx *ctx, struct at *a, uint32_t gen)
{
	const struct at_cfg *cfg = cdm_cfg(ctx);
	size_t pmd;
	int r;

	if (place(ctx, a) < 0 || cdm_failed(ctx))
		return -1;
	pmd = pmd_pages(a);
	timed_stores(ctx, a, a->m_normal, gen);
	r = take_exclusive(ctx, a, pmd);
	if (r)
		return r < 0 ? -1 : 0;
	if (pmd > a->pmd_max)
		a->pmd_max = pmd;
	if (!dev_check_data(ctx, a->back, a->buf.len, gen,
			   "device read-back under EXCLUSIVE"))
		return 0;
	note_exclusive_snapshot(ctx, a);
	r = check_exclusive(ctx, a, a->buf.p, a->buf.npages, true);
	if (r == 0)
		cdm_fail(ctx, "CHECK_EXCLUSIVE reports no exclusive page right after EXCLUSIVE succeeded on %zu pages",
			 a->buf.npages);
	else if (r != -EPERM)
		return cdm_error(ctx, "CHECK_EXCLUSIVE: %s", dev_strerror(a->dev, r));
	revoke_all(ctx, a, gen + 1);
	if (expect_released(ctx, a) < 0 ||
	    dev_corrupt_page(ctx, a->dev, &a->buf, cfg->dev.corrupt) < 0)
		return -1;
	if (dev_check_where(ctx, a->dev, &a->buf, at_home(cfg),
			    "after the revoking CPU writes", NULL) < 0)
		return -1;
	dev_check_data(ctx, a->buf.p, a->buf.len, gen + 1,
		      "CPU read after revocation");
	return device_reads(ctx, a, gen + 1);
}

static int at_run(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct at_cfg *cfg = cdm_cfg(ctx);
	struct at *a = fx->priv;
	uint32_t gen = 1;

	while (cdm_iter(ctx)) {
		if (at_iteration(ctx, a, gen++) < 0)
			return -1;
	}
	if (cdm_failed(ctx))
		return 0;
	cdm_info(ctx, "pages", "%zu", a->buf.npages);
	cdm_info(ctx, "where", "%s", cfg->where == WHERE_DEVICE ?
		 "device-coherent memory" : "system RAM");
	cdm_info(ctx, "exclusive", "ok");
	if (cfg->dev.thp)
		cdm_info(ctx, "exclusive_thp", "%s", a->pmd_max ? "ok" :
			 "not THP-backed (no PMD mapping seen)");
	cdm_info(ctx, "revoked_pages", "%llu", (unsigned long long)a->revoked);
	cdm_info(ctx, "placement_after_revoke", "%s",
		 cfg->where == WHERE_DEVICE ? "device" : "system");
	cdm_info(ctx, "integrity", "ok");
	return 0;
}

DEV_WORKLOAD(atomics, at, CDM_CAP_ALLOC_SYSTEM | CDM_CAP_WHERE |
	     CDM_CAP_EXCLUSIVE | CDM_CAP_DEV_READ, 0, NULL,
	.name = "atomics",
	.summary = "device-exclusive access (EXCLUSIVE) ping-ponged with revoking CPU writes",
	.verifies = CDM_VERIFY_DATA | CDM_VERIFY_PLACEMENT,
	.tamper = "corrupt_page", .tamper_value = "7");
