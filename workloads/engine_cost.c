// SPDX-License-Identifier: GPL-2.0
/*
 * engine-cost: what the engine layer adds to a migration. The same round
 * trip (MIGRATE_TO_DEV with the device's read-back, then MIGRATE_TO_SYS)
 * is timed from the caller's side twice per iteration: once through the
 * dmirror engine (dev_migrate: the wrapper, the ops table, the engine's
 * own timing) and once as the bare test_hmm ioctl on the same open file
 * (the same mirror), in alternating order so drift falls on both. `make bench` reports the
 * ratio of the medians (goal: the engine adds at most 1%).
 *
 * Both paths must land every page where asked (placement is checked
 * after each move, outside the timed calls): a cheap path that moved
 * nothing would otherwise look fast.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "lib/dmirror.h"
#include "lib/pattern.h"

struct ec_cfg {
	struct dev_cfg dev;
};

static const struct cdm_opt ec_opts[] = {
	DEV_OPT_ENGINE,
	DEV_OPT_DEVICE,
	DEV_OPT_INSTANCE(0),
	DEV_OPT_SIZE("1M", 4096, 256.0 * 1048576,
		     "bytes moved each way per round trip"),
	DEV_OPT_THP(0),
	CDM_OPT_END
};

enum { PATH_ENGINE, PATH_BARE, NPATHS };

struct ec {
	int fd;			/* the engine's test_hmm file, for the bare ioctl */
	char *back;
	int m_move[NPATHS][2];	/* [path][to_dev, to_sys] */
	int m_pct[2];		/* per pair: engine over bare, to_dev and to_sys */
};

static bool ec_supported(const void *cfg, char *why, size_t len)
{
	const struct ec_cfg *c = cfg;

	if (c->dev.engine == DEV_ENGINE_DMIRROR)
		return true;
	snprintf(why, len, "engine-cost compares the dmirror engine with the bare test_hmm ioctl; engine=%s has no bare ioctl to compare with",
		 dev_engine_name(c->dev.engine));
	return false;
}

static int ec_setup(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	static const char *const name[NPATHS][2] = {
		{ "engine_to_dev_us", "engine_to_sys_us" },
		{ "bare_to_dev_us", "bare_to_sys_us" },
	};
	struct ec *e = fx->priv;
	int k;

	e->fd = cdm_dmirror_fd(fx->dev);
	e->back = dev_alloc(ctx, fx, fx->buf.len);
	if (!e->back)
		return -1;
	for (k = 0; k < NPATHS; k++) {
		e->m_move[k][0] = cdm_metric(ctx, name[k][0], "us",
					     CDM_LOWER_IS_BETTER);
		e->m_move[k][1] = cdm_metric(ctx, name[k][1], "us",
					     CDM_LOWER_IS_BETTER);
	}
	/* adjacent in time, so drift between rounds cancels in the ratio */
	e->m_pct[0] = cdm_metric(ctx, "to_dev_engine_over_bare_pct", "%",
				 CDM_LOWER_IS_BETTER);
	e->m_pct[1] = cdm_metric(ctx, "to_sys_engine_over_bare_pct", "%",
				 CDM_LOWER_IS_BETTER);
	pat_fill(fx->buf.p, fx->buf.len, cdm_seed(ctx), 1);
	return 0;
}

/* one move, timed around the call the way a workload makes it */
static int timed_move(struct dev_fx *fx, struct ec *e, int path, bool to_dev,
		      uint64_t *ns)
{
	struct dmirror_cmd cmd;
	uint64_t t0 = cdm_now_ns();
	int r;

	if (path == PATH_ENGINE)
		r = dev_migrate(fx->dev, fx->buf.p, fx->buf.npages,
				to_dev ? CDM_TO_DEVICE : CDM_TO_SYSTEM,
				to_dev ? e->back : NULL, NULL);
	else
		r = dmirror_ioctl(e->fd, to_dev ? DMIRROR_MIGRATE_TO_DEV :
				  DMIRROR_MIGRATE_TO_SYS, fx->buf.p,
				  to_dev ? e->back : NULL, fx->buf.npages, &cmd);
	*ns = cdm_now_ns() - t0;
	return r;
}

/* to the device (d = 0) and back (d = 1), each move timed and placed */
static int round_trip(struct cdm_ctx *ctx, struct dev_fx *fx, struct ec *e,
		      int path, uint64_t *took)
{
	static const char *const via[NPATHS] = { "engine", "bare ioctl" };
	static const char *const move[2] = { "MIGRATE_TO_DEV", "MIGRATE_TO_SYS" };
	char phase[64];
	int d, r;

	for (d = 0; d < 2; d++) {
		r = timed_move(fx, e, path, !d, &took[d]);
		if (r)
			return cdm_error(ctx, "%s (%s): %s", move[d], via[path],
					 strerror(-r));
		cdm_sample(ctx, e->m_move[path][d], took[d] / 1e3);
		snprintf(phase, sizeof(phase), "after %s (%s)", move[d],
			 via[path]);
		if (dev_check_where(ctx, fx->dev, &fx->buf, d ? DEV_IN_SYSTEM :
				    DEV_ON_DEVICE, phase, NULL) < 0)
			return -1;
	}
	return 0;
}

static int ec_run(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	struct ec *e = fx->priv;
	uint64_t i = 0;

	while (cdm_iter(ctx)) {
		int first = i++ & 1, d;
		uint64_t took[NPATHS][2];

		if (round_trip(ctx, fx, e, first, took[first]) < 0 ||
		    round_trip(ctx, fx, e, !first, took[!first]) < 0)
			return -1;
		for (d = 0; d < 2; d++)
			cdm_sample(ctx, e->m_pct[d],
				   ((double)took[PATH_ENGINE][d] /
				    took[PATH_BARE][d] - 1) * 100);
	}
	if (!dev_check_data(ctx, fx->buf.p, fx->buf.len, 1,
			    "CPU read after the last round trip"))
		return 0;
	cdm_info(ctx, "pages", "%zu", fx->buf.npages);
	return 0;
}

DEV_WORKLOAD(engine_cost, ec, DEV_CAPS_ROUND_TRIP, 0, NULL,
	.name = "engine-cost",
	.summary = "the engine layer's cost: a migration through the dmirror engine against the bare ioctl",
	.verifies = CDM_VERIFY_DATA | CDM_VERIFY_PLACEMENT);
