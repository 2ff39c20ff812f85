// SPDX-License-Identifier: GPL-2.0
/*
 * numa-migrate: move_pages(2) between two NUMA nodes.
 *
 * The system-RAM counterpart of a device migration: the same kernel
 * machinery (isolate, unmap, copy, remap) without a device, so device
 * migration costs can be read against it. Placement is checked after
 * every move through move_pages' status query, data after the last.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/pattern.h"
#include "core/sysinfo.h"
#include "core/workload.h"

struct nm_cfg {
	uint64_t size;
	int64_t from;
	int64_t to;
};

static const struct cdm_opt nm_opts[] = {
	{ "size", CDM_T_SIZE, OPT_FIELD(struct nm_cfg, size), "16M", 4096,
	  17179869184.0, NULL, CDM_OF_PAGE_ALIGNED, "bytes to move each way" },
	{ "from", CDM_T_INT, OPT_FIELD(struct nm_cfg, from), "-1", -1, 1023,
	  NULL, 0, "source node (-1: first node with memory)" },
	{ "to", CDM_T_INT, OPT_FIELD(struct nm_cfg, to), "-1", -1, 1023, NULL,
	  0, "destination node (-1: second node with memory)" },
	CDM_OPT_END
};

struct nm_state {
	char *buf;
	size_t npages;
	void **pages;
	int *nodes;
	int *status;
	int from, to;
	int m_there, m_back, m_page_ns;
};

static bool node_has_memory(int node)
{
	int nodes[1024], n = sysinfo_mem_nodes(nodes, 1024), i;

	for (i = 0; i < n; i++)
		if (nodes[i] == node)
			return true;
	return false;
}

static bool nm_nodes(const struct nm_cfg *cfg, int *from, int *to, char *why,
		     size_t len)
{
	int nodes[1024], n = sysinfo_mem_nodes(nodes, 1024);

	if (n < 2) {
		snprintf(why, len,
			 "only one NUMA node with memory (node %d): move_pages needs two",
			 nodes[0]);
		return false;
	}
	*from = cfg->from >= 0 ? cfg->from : nodes[0];
	*to = cfg->to >= 0 ? cfg->to : (nodes[0] == *from ? nodes[1] : nodes[0]);
	if (*from == *to) {
		snprintf(why, len, "from and to are the same node (%d)", *from);
		return false;
	}
	if (!node_has_memory(*from) || !node_has_memory(*to)) {
		snprintf(why, len, "node %d or %d has no memory", *from, *to);
		return false;
	}
	return true;
}

static bool nm_supported(const void *cfg, char *why, size_t len)
{
	int a, b;

	if (numa_available() < 0) {
		snprintf(why, len, "kernel without NUMA support");
		return false;
	}
	return nm_nodes(cfg, &a, &b, why, len);
}

/* move every page to node; returns pages not on node afterwards */
static long move_all(struct nm_state *s, int node, long *err_pages)
{
	size_t i;
	long r, off = 0;

	for (i = 0; i < s->npages; i++)
		s->nodes[i] = node;
	do {
		r = numa_move_pages(0, s->npages, s->pages, s->nodes, s->status,
				    MPOL_MF_MOVE);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	*err_pages = 0;
	for (i = 0; i < s->npages; i++) {
		if (s->status[i] < 0)
			(*err_pages)++;
		else if (s->status[i] != node)
			off++;
	}
	return off + *err_pages;
}

static int nm_setup(struct cdm_ctx *ctx)
{
	const struct nm_cfg *cfg = cdm_cfg(ctx);
	struct nm_state *s = calloc(1, sizeof(*s));
	size_t pg = cdm_page_size(), i;
	char why[160];
	long bad, errs;

	if (!s)
		return -ENOMEM;
	cdm_set_priv(ctx, s);
	if (!nm_nodes(cfg, &s->from, &s->to, why, sizeof(why)))
		return cdm_skip(ctx, "%s", why);
	s->npages = cfg->size / pg;
	s->buf = mmap(NULL, cfg->size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s->pages = calloc(s->npages, sizeof(void *));
	s->nodes = calloc(s->npages, sizeof(int));
	s->status = calloc(s->npages, sizeof(int));
	if (s->buf == MAP_FAILED || !s->pages || !s->nodes || !s->status) {
		s->buf = s->buf == MAP_FAILED ? NULL : s->buf;
		return cdm_error(ctx, "cannot allocate %llu bytes",
				 (unsigned long long)cfg->size);
	}
	pat_fill(s->buf, cfg->size, cdm_seed(ctx), 1);
	for (i = 0; i < s->npages; i++)
		s->pages[i] = s->buf + i * pg;
	bad = move_all(s, s->from, &errs);
	if (bad < 0)
		return cdm_error(ctx, "move_pages to node %d: %s", s->from,
				 strerror(-bad));
	s->m_there = cdm_metric(ctx, "move_bw_there", "GB/s",
				CDM_HIGHER_IS_BETTER);
	s->m_back = cdm_metric(ctx, "move_bw_back", "GB/s",
			       CDM_HIGHER_IS_BETTER);
	s->m_page_ns = cdm_metric(ctx, "page_latency", "ns",
				  CDM_LOWER_IS_BETTER);
	cdm_info(ctx, "nodes", "%d->%d", s->from, s->to);
	return 0;
}

static int timed_move(struct cdm_ctx *ctx, struct nm_state *s, int node,
		      int metric)
{
	double bytes = (double)s->npages * cdm_page_size();
	uint64_t t0, dt;
	long bad, errs = 0;

	cdm_phase_begin(ctx, "move");
	t0 = cdm_now_ns();
	bad = move_all(s, node, &errs);
	dt = cdm_now_ns() - t0;
	cdm_phase_end(ctx, s->npages);
	if (bad < 0)
		return cdm_error(ctx, "move_pages to node %d: %s", node,
				 strerror(-bad));
	cdm_sample(ctx, metric, bytes / dt);
	cdm_sample(ctx, s->m_page_ns, (double)dt / s->npages);
	if (bad) {
		/* a page that did not move is a result, not a crash */
		cdm_info(ctx, "partial_moves", "%ld of %zu pages not on node %d (%ld with errors) at iteration %llu",
			 bad, s->npages, node, errs,
			 (unsigned long long)cdm_iteration(ctx));
		cdm_fail(ctx, "%ld of %zu pages did not reach node %d", bad,
			 s->npages, node);
	}
	return 0;
}

static int nm_run(struct cdm_ctx *ctx)
{
	struct nm_state *s = cdm_priv(ctx);

	while (cdm_iter(ctx)) {
		if (timed_move(ctx, s, s->to, s->m_there) ||
		    timed_move(ctx, s, s->from, s->m_back))
			return -1;
	}
	return 0;
}

static int nm_verify(struct cdm_ctx *ctx)
{
	const struct nm_cfg *cfg = cdm_cfg(ctx);
	struct nm_state *s = cdm_priv(ctx);
	struct pat_err e;

	if (!pat_check(s->buf, cfg->size, cdm_seed(ctx), 1, &e))
		cdm_fail(ctx, "data corrupted by migration: page %zu, offset %zu: expected 0x%016llx, got 0x%016llx; %s",
			 e.page, e.offset, (unsigned long long)e.expected,
			 (unsigned long long)e.got, e.what);
	else
		cdm_info(ctx, "integrity", "ok: every page read back as written after the last move");
	return 0;
}

static void nm_teardown(struct cdm_ctx *ctx)
{
	const struct nm_cfg *cfg = cdm_cfg(ctx);
	struct nm_state *s = cdm_priv(ctx);

	if (!s)
		return;
	if (s->buf)
		munmap(s->buf, cfg->size);
	free(s->pages);
	free(s->nodes);
	free(s->status);
	free(s);
}

const struct cdm_workload cdm_wl_numa_migrate = {
	.name = "numa-migrate",
	.summary = "move_pages(2) between NUMA nodes: GB/s and per-page latency",
	.backend = "cpu",
	/* no .device_type: the runner records these cases as "system" */
	.opts = nm_opts,
	.cfg_size = sizeof(struct nm_cfg),
	.supported = nm_supported,
	.setup = nm_setup,
	.run = nm_run,
	.verify = nm_verify,
	.teardown = nm_teardown,
	.verifies = CDM_VERIFY_DATA | CDM_VERIFY_PLACEMENT,
};
