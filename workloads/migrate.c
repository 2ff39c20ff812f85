// SPDX-License-Identifier: GPL-2.0
/*
 * migrate: round trips system RAM -> device -> system RAM through the
 * migrate_vma_* helpers, driven by test_hmm's MIGRATE_TO_DEV and
 * MIGRATE_TO_SYS ioctls, on private or coherent device memory.
 *
 * Each iteration writes a fresh generation of self-describing data, moves
 * it to the device, checks with SNAPSHOT that every page landed there and
 * with the device's own read-back that the data came along, moves it back,
 * checks placement again and reads it with the CPU. cpages is recorded but
 * never trusted: on 6.1 MIGRATE_TO_DEV can report 0 for pages that moved.
 *
 * MIGRATE_TO_DEV also copies the range back through the device for
 * verification (test_hmm does this inside the ioctl), so its time includes
 * one device read of the buffer; MIGRATE_TO_SYS is the bare migration.
 * Two controls of the same size are timed in every iteration beside the
 * migrations, for compare to divide a run's drift out: a CPU memcpy (the
 * copy baseline, and the bound on a plausible migration rate) and a
 * refault of a scratch region (refault_bw: the kernel paths a migration
 * shares, which drift with the host more than a copy does).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "lib/pattern.h"

struct mig_cfg {
	struct dev_cfg dev;
	uint64_t batch;
	int partial;
};

enum { PARTIAL_FAIL, PARTIAL_RECORD };

static const struct cdm_opt mig_opts[] = {
	DEV_OPT_ENGINE,
	DEV_OPT_DEVICE,
	DEV_OPT_SIZE("16M", 4096, 1073741824.0,
		     "bytes moved each way per iteration (a coherent device holds 256M)"),
	DEV_OPT_THP(0),
	DEV_OPT_INSTANCE(0),
	{ "batch", CDM_T_SIZE, OPT_FIELD(struct mig_cfg, batch), "0", 0,
	  1073741824.0, NULL, CDM_OF_PAGE_ALIGNED,
	  "bytes per ioctl, one latency sample each (0: the whole buffer in one call)" },
	{ "partial", CDM_T_ENUM, OPT_FIELD(struct mig_cfg, partial), "fail", 0,
	  0, "fail|record", 0,
	  "pages that do not move (device memory exhausted): fail the case, or record the counts and go on" },
	DEV_OPT_CORRUPT("while it is device-resident"),
	CDM_OPT_END
};

struct mig {
	struct cdm_edev *dev;
	struct cdm_ebuf *buf;
	char *back;		/* the device's read-back copy */
	char *copy;		/* memcpy baseline target */
	char *scratch;		/* refault control, mapped */
	size_t batch_pages;
	int m_dev_bw, m_sys_bw, m_dev_page, m_sys_page, m_dev_op, m_sys_op;
	int m_memcpy, m_refault;
	uint64_t cpages_zero;	/* MIGRATE_TO_DEV calls that reported 0 */
	bool readback_short;	/* this round's read-back missed pages */
	uint64_t rounds;	/* rounds whose data was checked */
	uint64_t unread;	/* rounds whose device read-back was skipped */
	double best_copy;	/* fastest memcpy so far, GB/s */
	uint64_t implausible;	/* migration samples left out */
	uint64_t partial;	/* pages that did not move, summed */
};

static bool mig_supported(const void *cfg, char *why, size_t len)
{
	const struct mig_cfg *c = cfg;

	if (c->dev.device == DEV_COHERENT && c->dev.size > DM_COHERENT_BYTES &&
	    c->partial == PARTIAL_FAIL) {
		snprintf(why, len,
			 "size %lluM exceeds the 256M a coherent test_hmm device holds; on 6.1 overflowing it WARNs in memremap_pages (a second chunk at the same address) and leaves the process unkillable: set partial=record to provoke that",
			 (unsigned long long)(c->dev.size >> 20));
		return false;
	}
	return true;
}

static void note_thp_support(struct cdm_ctx *ctx, struct cdm_edev *dev,
			     bool thp)
{
	if (dev_has(dev, CDM_CAP_THP))
		cdm_info(ctx, "device_thp", "the engine keeps huge pages huge");
	else
		cdm_info(ctx, "device_thp", "unsupported by this engine: %s",
			 thp ? "THP source pages are split into base pages on the way" :
			 "not requested");
}

static int mig_setup(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct mig_cfg *cfg = cdm_cfg(ctx);
	struct mig *m = fx->priv;
	size_t pg = cdm_page_size();

	m->dev = fx->dev;
	m->buf = &fx->buf;
	m->back = dev_alloc(ctx, fx, cfg->dev.size);
	m->copy = dev_alloc(ctx, fx, cfg->dev.size);
	if (!m->back || !m->copy)
		return -1;
	m->batch_pages = cfg->batch ? cfg->batch / pg : m->buf->npages;
	if (m->batch_pages > m->buf->npages)
		m->batch_pages = m->buf->npages;
	m->m_dev_bw = cdm_metric(ctx, "to_dev_bw", "GB/s", CDM_HIGHER_IS_BETTER);
	m->m_sys_bw = cdm_metric(ctx, "to_sys_bw", "GB/s", CDM_HIGHER_IS_BETTER);
	m->m_dev_page = cdm_metric(ctx, "to_dev_page", "ns", CDM_LOWER_IS_BETTER);
	m->m_sys_page = cdm_metric(ctx, "to_sys_page", "ns", CDM_LOWER_IS_BETTER);
	m->m_dev_op = cdm_metric(ctx, "to_dev_op", "us", CDM_LOWER_IS_BETTER);
	m->m_sys_op = cdm_metric(ctx, "to_sys_op", "us", CDM_LOWER_IS_BETTER);
	m->m_memcpy = cdm_metric(ctx, "memcpy_bw", "GB/s", CDM_HIGHER_IS_BETTER);
	m->m_refault = cdm_metric(ctx, "refault_bw", "GB/s", CDM_HIGHER_IS_BETTER);
	m->scratch = cdm_refault_map(m->buf->len);
	if (!m->scratch)
		return cdm_error(ctx, "cannot map %zu bytes for the refault control",
				 m->buf->len);
	note_thp_support(ctx, m->dev, cfg->dev.thp);
	return 0;
}

/* move the buffer one way in batches; returns total ns or 0 on error */
static uint64_t move(struct cdm_ctx *ctx, struct mig *m, bool to_dev)
{
	size_t pg = cdm_page_size(), i;
	char *p = m->buf->p;
	uint64_t total = 0;

	for (i = 0; i < m->buf->npages; i += m->batch_pages) {
		size_t n = m->buf->npages - i < m->batch_pages ?
			   m->buf->npages - i : m->batch_pages;
		struct cdm_estat st;
		int r;

		r = dev_migrate(m->dev, p + i * pg, n,
				to_dev ? CDM_TO_DEVICE : CDM_TO_SYSTEM,
				to_dev ? m->back + i * pg : NULL, &st);
		if (r == -ENOENT && to_dev) {
			/*
			 * Pages that did not move have no mirror entry, so
			 * test_hmm's read-back stops with ENOENT: a partial
			 * migration, which SNAPSHOT counts next.
			 */
			m->readback_short = true;
			r = 0;
		}
		if (r == -ENOMEM) {
			cdm_info(ctx, "enomem", "MIGRATE_TO_%s returned ENOMEM at page %zu",
				 to_dev ? "DEV" : "SYS", i);
			cdm_fail(ctx, "device memory exhausted (ENOMEM) at page %zu", i);
			return 0;
		}
		if (r)
			return cdm_error(ctx, "MIGRATE_TO_%s at page %zu: %s",
					 to_dev ? "DEV" : "SYS", i,
					 dev_strerror(m->dev, r)), 0;
		if (to_dev && st.pages == 0)
			m->cpages_zero++;
		cdm_sample(ctx, to_dev ? m->m_dev_op : m->m_sys_op, st.ns / 1e3);
		total += st.ns;
	}
	return total ? total : 1;
}

/*
 * A migration copies every page once, so it cannot move bytes much faster
 * than the CPU copies them: a rate above MIG_PLAUSIBLE times the best
 * memcpy of the case is a clock that missed the work. It is left out,
 * counted and named in `implausible_samples`, never pooled.
 */
#define MIG_PLAUSIBLE 3.0

static void sample_bw(struct cdm_ctx *ctx, struct mig *m, int bw, int page,
		      uint64_t ns)
{
	double rate = (double)m->buf->len / ns;

	if (!cdm_warming(ctx) && m->best_copy > 0 &&
	    rate > MIG_PLAUSIBLE * m->best_copy) {
		m->implausible++;
		cdm_info(ctx, "implausible_samples", "%llu migration samples left out: above %.0fx the best memcpy of the case (%.3g GB/s); last %.3g GB/s",
			 (unsigned long long)m->implausible, MIG_PLAUSIBLE,
			 m->best_copy, rate);
		return;
	}
	cdm_sample(ctx, bw, rate);
	cdm_sample(ctx, page, (double)ns / m->buf->npages);
}

/* one leg of the round trip as a phase of its own, sampled; -1 on error */
static int timed_move(struct cdm_ctx *ctx, struct mig *m, bool to_dev)
{
	uint64_t ns;

	cdm_phase_begin(ctx, to_dev ? "to_dev" : "to_sys");
	ns = move(ctx, m, to_dev);
	cdm_phase_end(ctx, m->buf->npages);
	if (!ns)
		return -1;
	if (to_dev)
		sample_bw(ctx, m, m->m_dev_bw, m->m_dev_page, ns);
	else
		sample_bw(ctx, m, m->m_sys_bw, m->m_sys_page, ns);
	return 0;
}

/* pages still in system RAM after MIGRATE_TO_DEV: exhausted device memory */
static int check_on_device(struct cdm_ctx *ctx, struct mig *m)
{
	const struct mig_cfg *cfg = cdm_cfg(ctx);
	struct dev_where w;
	int r;

	if (cfg->partial == PARTIAL_FAIL)
		return dev_check_where(ctx, m->dev, m->buf, DEV_ON_DEVICE,
				       "after MIGRATE_TO_DEV", NULL);
	r = dev_where(m->dev, m->buf, NULL, &w);
	if (r)
		return cdm_error(ctx, "SNAPSHOT: %s", dev_strerror(m->dev, r));
	if (w.local != m->buf->npages) {
		/* asked for: count what did not move, and carry on */
		m->partial += m->buf->npages - w.local;
		cdm_info(ctx, "partial_pages", "%llu pages stayed in system RAM over the run (device memory exhausted)",
			 (unsigned long long)m->partial);
	}
	return 0;
}

static int mig_iteration(struct cdm_ctx *ctx, struct mig *m, uint32_t gen)
{
	const struct mig_cfg *cfg = cdm_cfg(ctx);
	uint64_t t0;
	double copy, refault;

	pat_fill(m->buf->p, m->buf->len, cdm_seed(ctx), gen);
	t0 = cdm_now_ns();
	memcpy(m->copy, m->buf->p, m->buf->len);
	copy = (double)m->buf->len / (cdm_now_ns() - t0);
	cdm_sample(ctx, m->m_memcpy, copy);
	m->best_copy = fmax(m->best_copy, copy);
	refault = cdm_refault(m->scratch, m->buf->len);
	if (!refault)
		return cdm_error(ctx, "refault control: madvise: %s", strerror(errno));
	cdm_sample(ctx, m->m_refault, refault);
	m->readback_short = false;
	if (timed_move(ctx, m, true) < 0)
		return -1;
	if (check_on_device(ctx, m) < 0)
		return -1;
	/* the device's view of the data, without a CPU touch that would
	 * fault private pages back */
	m->unread += m->readback_short;
	if (!m->readback_short &&
	    !dev_check_data(ctx, m->back, m->buf->len, gen, "device read-back after MIGRATE_TO_DEV"))
		return 0;
	/* a device write between phases that no check expects */
	if (dev_corrupt_page(ctx, m->dev, m->buf, cfg->dev.corrupt) < 0)
		return -1;
	if (timed_move(ctx, m, false) < 0)
		return -1;
	if (dev_check_where(ctx, m->dev, m->buf, DEV_IN_SYSTEM,
			    "after MIGRATE_TO_SYS", NULL) < 0)
		return -1;
	if (dev_check_data(ctx, m->buf->p, m->buf->len, gen,
			   "CPU read after MIGRATE_TO_SYS"))
		m->rounds++;
	return 0;
}

/* "ok" only when both reads were checked in every round */
static void report_integrity(struct cdm_ctx *ctx, const struct mig *m)
{
	if (!m->rounds)
		cdm_info(ctx, "integrity", "not checked: no round completed");
	else if (m->unread)
		cdm_info(ctx, "integrity", "not checked: the device read-back was skipped in %llu of %llu rounds (pages stayed in system RAM); the CPU reads matched",
			 (unsigned long long)m->unread,
			 (unsigned long long)m->rounds);
	else
		cdm_info(ctx, "integrity", "ok: device read-back and CPU read matched in %llu rounds",
			 (unsigned long long)m->rounds);
}

static int mig_run(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	struct mig *m = fx->priv;
	uint32_t gen = 0;

	while (cdm_iter(ctx)) {
		if (mig_iteration(ctx, m, ++gen) < 0)
			return -1;
	}
	cdm_info(ctx, "pages", "%zu", m->buf->npages);
	cdm_info(ctx, "cpages_zero", "%llu MIGRATE_TO_DEV calls reported cpages=0 (placement is judged by SNAPSHOT)",
		 (unsigned long long)m->cpages_zero);
	if (!cdm_failed(ctx))
		report_integrity(ctx, m);
	return 0;
}

static void mig_teardown(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	struct mig *m = fx->priv;

	(void)ctx;
	cdm_refault_unmap(m->scratch, m->buf->len);
}

DEV_WORKLOAD(migrate, mig, DEV_CAPS_ROUND_TRIP, 0, mig_teardown,
	.name = "migrate",
	.summary = "system<->device round trips via migrate_vma (MIGRATE_TO_DEV/SYS)",
	.verifies = CDM_VERIFY_DATA | CDM_VERIFY_PLACEMENT,
	.tamper = "corrupt_page", .tamper_value = "37");
