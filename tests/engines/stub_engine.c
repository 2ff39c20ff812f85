// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in engine for tests on machines without a GPU: the CPU plays the
 * device, so the GPU workloads' own checks (exact sums under racing
 * atomics, the placement promise after a CPU touch, data through every
 * phase) can be shown to pass on a correct device and to FAIL on a broken
 * one. It proves nothing about a GPU: tests/cli/engines.sh builds it into
 * a private folder as <name>.so and points CDMBENCH_ENGINE_DIR there.
 *
 *   STUB_NAME        the engine name the table claims (-DSTUB_NAME)
 *   CDM_STUB_MEMTYPE private (default) or coherent: what the device is
 *   CDM_STUB_HANG    set: init() never returns, as a wedged driver
 *   CDM_STUB_BROKEN  lose-updates: the device's adds are not atomic
 *                    (read, pause, write), so racing CPU adds get lost
 *
 * Placement is a table the stub keeps: a migration sets it, a CPU touch
 * cannot change it, i.e. a device-private page that stays on the device
 * when the CPU reads it, as a broken migrate_to_ram would leave it.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/engine.h"

#ifndef STUB_NAME
#define STUB_NAME "hip"
#endif

static const struct cdm_engine_host *host;
static uint8_t *where_tab;	/* one byte per page of the last buffer */
static char *where_base;
static size_t where_pages;

static int stub_init(const struct cdm_engine_host *h, char *why, size_t len)
{
	(void)why;
	(void)len;
	host = h;
	/* a driver that never answers: probe must not wait for it */
	while (getenv("CDM_STUB_HANG"))
		pause();
	return 0;
}

static enum cdm_memtype stub_memtype(void)
{
	const char *m = getenv("CDM_STUB_MEMTYPE");

	return m && !strcmp(m, "coherent") ? CDM_MEM_COHERENT : CDM_MEM_PRIVATE;
}

static void stub_info(struct cdm_edev_info *i)
{
	memset(i, 0, sizeof(*i));
	i->memtype = stub_memtype();
	i->mem_bytes = 1ull << 30;
	i->caps = CDM_CAP_ALLOC_SYSTEM | CDM_CAP_ALLOC_MANAGED |
		  CDM_CAP_ALLOC_DEVICE | CDM_CAP_ALLOC_PINNED | CDM_CAP_MIGRATE |
		  CDM_CAP_MIGRATE_READBACK | CDM_CAP_WHERE | CDM_CAP_DEV_READ |
		  CDM_CAP_DEV_WRITE | CDM_CAP_DEV_TOUCH | CDM_CAP_ATOMICS |
		  CDM_CAP_ADVISE | CDM_CAP_COPY;
	snprintf(i->name, sizeof(i->name), "stub");
	snprintf(i->detail, sizeof(i->detail), "the CPU standing in for a device (tests only)");
}

static int stub_enumerate(struct cdm_edev_info *out, int max, char *why,
			  size_t len)
{
	(void)why;
	(void)len;
	if (max > 0)
		stub_info(out);
	return 1;
}

static int stub_open(struct cdm_edev *dev, const struct cdm_eopen *how)
{
	stub_info(&dev->info);
	if (how->instance > 0 || how->index > 0 ||
	    (how->memtype != CDM_MEM_ANY && how->memtype != dev->info.memtype)) {
		snprintf(dev->err, sizeof(dev->err), "stub: no such device");
		return -ENODEV;
	}
	return 0;
}

static void stub_close(struct cdm_edev *dev)
{
	(void)dev;
}

static void stub_why_not(struct cdm_edev *dev, uint64_t cap, char *buf,
			 size_t len)
{
	(void)dev;
	snprintf(buf, len, "stub: no capability 0x%llx", (unsigned long long)cap);
}

static int stub_alloc(struct cdm_edev *dev, enum cdm_alloc_kind kind,
		      size_t len, unsigned int flags, struct cdm_ebuf *b)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)flags;
	if (p == MAP_FAILED) {
		snprintf(dev->err, sizeof(dev->err), "stub: mmap: %s", strerror(errno));
		return -ENOMEM;
	}
	memset(b, 0, sizeof(*b));
	b->p = b->base = p;
	b->len = b->base_len = len;
	b->npages = len / host->page_size;
	b->kind = kind;
	if (kind == CDM_ALLOC_SYSTEM || kind == CDM_ALLOC_MANAGED) {
		free(where_tab);
		where_tab = malloc(b->npages);
		memset(where_tab, CDM_LOC_SYSTEM, b->npages);
		where_base = p;
		where_pages = b->npages;
	}
	return 0;
}

static void stub_free(struct cdm_edev *dev, struct cdm_ebuf *b)
{
	(void)dev;
	munmap(b->base, b->base_len);
	if ((char *)b->p == where_base)
		where_base = NULL;
}

static size_t page_of(const void *addr)
{
	return ((const char *)addr - where_base) / host->page_size;
}

static int stub_migrate(struct cdm_edev *dev, void *addr, size_t npages,
			enum cdm_dir dir, void *readback, struct cdm_estat *st)
{
	uint64_t t0 = host->now_ns();

	(void)dev;
	if (where_base)
		memset(where_tab + page_of(addr),
		       dir == CDM_TO_DEVICE ? CDM_LOC_LOCAL : CDM_LOC_SYSTEM,
		       npages);
	if (readback)
		memcpy(readback, addr, npages * host->page_size);
	st->ns = host->now_ns() - t0 + 1;
	st->pages = npages;
	return 0;
}

static int stub_where(struct cdm_edev *dev, const void *addr, size_t npages,
		      uint8_t *loc)
{
	(void)dev;
	memcpy(loc, where_tab + page_of(addr), npages);
	return 0;
}

/* the "device" reads and writes with the CPU, in a pretend nanosecond */
static int stub_cpu_copy(void *dst, const void *src, size_t npages,
			 struct cdm_estat *st)
{
	memcpy(dst, src, npages * host->page_size);
	if (st)
		st->ns = 1;
	return 0;
}

static int stub_read(struct cdm_edev *dev, const void *addr, size_t npages,
		     void *out, struct cdm_estat *st)
{
	(void)dev;
	return stub_cpu_copy(out, addr, npages, st);
}

static int stub_write(struct cdm_edev *dev, void *addr, size_t npages,
		      const void *in, struct cdm_estat *st)
{
	(void)dev;
	return stub_cpu_copy(addr, in, npages, st);
}

static int stub_touch(struct cdm_edev *dev, void *addr, size_t npages,
		      int write, struct cdm_estat *st)
{
	(void)dev;
	(void)addr;
	(void)write;
	st->ns = npages + 1;
	return 0;
}

static int stub_atomics(struct cdm_edev *dev, const struct cdm_atomics_args *a,
			struct cdm_estat *st)
{
	const char *b = getenv("CDM_STUB_BROKEN");
	int lose = b && !strcmp(b, "lose-updates");
	uint64_t t0 = host->now_ns(), r;
	size_t i;

	(void)dev;
	for (r = 0; r < a->rounds; r++) {
		for (i = 0; i < a->nwords; i += a->stride) {
			if (lose) {
				uint64_t v = __atomic_load_n(&a->words[i], __ATOMIC_RELAXED);
				volatile int spin;

				/* a window for racing CPU adds to land and be overwritten */
				for (spin = 0; spin < 64; spin++)
					;
				__atomic_store_n(&a->words[i], v + a->inc, __ATOMIC_RELAXED);
			} else {
				__atomic_fetch_add(&a->words[i], a->inc, __ATOMIC_SEQ_CST);
			}
		}
		/* a real device leaves the CPUs to the racers; on a busy
		 * machine this one has to make room for them */
		sched_yield();
	}
	st->ns = host->now_ns() - t0 + 1;
	return 0;
}

static int stub_advise(struct cdm_edev *dev, void *addr, size_t len,
		       enum cdm_advice adv)
{
	(void)dev;
	(void)addr;
	(void)len;
	(void)adv;
	return 0;
}

static int stub_copy(struct cdm_edev *dev, void *dst, const void *src,
		     size_t len, enum cdm_dir dir, struct cdm_estat *st)
{
	uint64_t t0 = host->now_ns();

	(void)dev;
	(void)dir;
	memcpy(dst, src, len);
	st->ns = host->now_ns() - t0 + 1;
	return 0;
}

const struct cdm_engine_ops cdm_engine_plugin = {
	.abi_version = CDM_ENGINE_ABI_VERSION,
	.size = sizeof(struct cdm_engine_ops),
	.name = STUB_NAME,
	.summary = "stand-in engine for tests",
	.build = "stub (tests/engines/stub_engine.c)",
	.init = stub_init,
	.enumerate = stub_enumerate,
	.open = stub_open,
	.close = stub_close,
	.why_not = stub_why_not,
	.alloc = stub_alloc,
	.free = stub_free,
	.migrate = stub_migrate,
	.where = stub_where,
	.dev_read = stub_read,
	.dev_write = stub_write,
	.dev_touch = stub_touch,
	.dev_atomics = stub_atomics,
	.advise = stub_advise,
	.copy = stub_copy,
};
