// SPDX-License-Identifier: GPL-2.0
/*
 * concurrent: CPU threads, the device and a migrator share one region.
 *
 * What it exercises: migrate_vma_setup/pages/finalize (mm/migrate_device.c)
 * moving pages under CPU threads that keep storing into them, the CPU fault
 * that brings a device-private page home (dev_pagemap_ops.migrate_to_ram),
 * and hmm_range_fault (mm/hmm.c) behind test_hmm's READ and WRITE, whose
 * mirror must follow every move through mmu notifiers. A lost or torn
 * update here means a store landed in a page copy the kernel then threw
 * away, or a device read saw a page the CPU no longer uses.
 *
 * The protocol: every page is 512 eight-byte slots. A slot holds (owner,
 * sequence, 24-bit check of seed, page, slot, owner and sequence) in one
 * aligned word, so a CPU store is atomic and any torn or misplaced word
 * fails its check. Each slot has exactly one writer: in CPU pages slot s
 * belongs to CPU thread s % threads; every (threads+1)-th page belongs whole
 * to the device thread, which updates it with dmirror READ + WRITE (WRITE
 * copies whole pages, so it cannot share a page with CPU writers). Writers
 * first check their slot still holds the last value they wrote (else a lost
 * update), readers (CPU loads, device READ, MIGRATE_TO_DEV's read-back)
 * check each slot is self-consistent (else torn) and never goes backwards
 * (else a regression). The run is cut into slices; between slices all
 * threads park and the whole region is checked exactly against every
 * writer's last sequence through the device, then through the CPU, then it
 * is migrated to the device (odd slices) or system RAM (even) and SNAPSHOT
 * must show every page there.
 *
 * Which device reads and writes (device_io): by default the peer device
 * of the same type (minor 1 for private, 3 for coherent), whose mirror
 * follows every migration through an ordinary invalidation. A peer READ or
 * WRITE faults a device-private page home and reaches a device-coherent
 * page in place. device_io=own uses the device the pages migrate to, where
 * 6.1's test_hmm breaks in two ways (both seen here):
 *  - its interval notifier skips MMU_NOTIFY_MIGRATE events that carry its
 *    own owner, as Documentation/mm/hmm.rst allows, but
 *    dmirror_migrate_alloc_and_copy() never invalidates its own mirror
 *    entry for the source page before copying it (the duty hmm.rst step 3
 *    gives the driver), so a device WRITE between the copy and
 *    dmirror_migrate_finalize_and_map() goes to the source page, which is
 *    then freed: a lost update (coherent, within seconds);
 *  - a device-private page of its own device without a mirror entry in
 *    that open file (migrated through another open, or its entry erased by
 *    a migration home that then did not happen) reaches
 *    dmirror_do_read/write as the ZONE_DEVICE page hmm_range_fault returns,
 *    which they kmap: Oops. So private + own SKIPs.

 * One allowance: test_hmm copies pages with memcpy, which is not
 * word-atomic, so a device READ that races a CPU store (or a CPU load that
 * races a device WRITE) can see a half-written word. Such a word is re-read
 * with an atomic CPU load; if memory then holds a consistent value it is
 * counted as copy_tears (a property of the test driver, not of mm), else
 * it is a torn word.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/fixture.h"

#define SLOT_BYTES 8
#define LAT_CAP 1000		/* latency samples kept per slice per thread */
#define SETTLE_TRIES 2000
#define MAX_REPORTS 3		/* messages per thread; later ones are counted */

enum { IO_PEER, IO_OWN };

struct cc_cfg {
	struct dev_cfg dev;
	int device_io;
	int64_t threads;
	uint64_t slice;
	uint64_t run;
};

static const struct cdm_opt cc_opts[] = {
	DEV_OPT_VARIANT,
	{ "device_io", CDM_T_ENUM, OPT_FIELD(struct cc_cfg, device_io), "peer",
	  0, 0, "peer|own", 0,
	  "which device does READ/WRITE: peer (the second device of the type) or own (the migration target; on 6.1 test_hmm loses device writes that race its own migrations, and oopses on private, which therefore SKIPs)" },
	DEV_OPT_SIZE("1M", 16384, 64.0 * 1048576,
		     "the shared region (every (threads+1)-th page belongs to the device writer)"),
	DEV_OPT_THP(CDM_OF_KEY_IF_SET),
	{ "threads", CDM_T_INT, OPT_FIELD(struct cc_cfg, threads), "2", 1, 64,
	  NULL, 0, "CPU threads writing and reading the region" },
	{ "slice", CDM_T_DURATION, OPT_FIELD(struct cc_cfg, slice), "250ms",
	  1e6, 60e9, NULL, 0,
	  "one iteration: this long concurrent, then a quiescent exact check" },
	{ "run", CDM_T_SIZE, OPT_FIELD(struct cc_cfg, run), "64K", 4096,
	  16.0 * 1048576, NULL, CDM_OF_PAGE_ALIGNED,
	  "largest range one migration moves (the migrator picks 1 page .. run at random)" },
	DEV_OPT_CORRUPT("after the first measured slice"),
	CDM_OPT_END
};

enum lat_kind {
	L_CPU_UPDATE, L_CPU_READ, L_DEV_WRITE, L_DEV_READ, L_TO_DEV, L_TO_SYS,
	NLAT
};

static const char *const lat_names[NLAT] = {
	"cpu_update_op", "cpu_read_op", "dev_write_op", "dev_read_op",
	"to_dev_op", "to_sys_op",
};

struct lat {
	double v[LAT_CAP];
	size_t n;
	uint64_t seen;
};

enum ctr {
	C_CPU_UPD, C_DEV_UPD, C_MIG, C_LOST, C_TORN, C_REGRESS, C_TEARS,
	C_ENOENT, C_ENOMEM, NCTR
};

struct cc;

struct cc_worker {
	struct cc *c;
	int id;			/* 0..threads-1 CPU, threads: device, +1 migrator */
	pthread_t tid;
	bool started;
	uint64_t rng;
	uint32_t *seen;		/* last sequence this reader saw, per slot */
	char *io;		/* device bounce buffers */
	uint64_t ctr[NCTR];
	unsigned int reports;
	struct lat lat[NLAT];
};

struct cc {
	struct cdm_ctx *ctx;
	struct cdm_edev *dev;	/* migrations and placement */
	struct cdm_edev *io;	/* device READ and WRITE (dev, or its peer) */
	struct cdm_ebuf buf;
	size_t slots;		/* per page */
	size_t nslots;
	int nthreads;		/* CPU threads; the device writer's id */
	uint64_t key;
	size_t run_pages;
	uint32_t *cpu_seq;	/* per slot: its CPU owner's last sequence */
	uint32_t *dev_seq;	/* per page: the device writer's last sequence */
	size_t *cpu_pages, ncpu;
	size_t *dev_pages, ndev;
	char *check;		/* quiescent device read and read-back */
	struct cc_worker *w;
	int nworkers;
	bool corrupted;
	uint64_t slices;

	pthread_mutex_t report_mu;
	pthread_mutex_t mu;
	pthread_cond_t cv_park, cv_go;
	int parked;
	bool pause, stop, bad;

	int m_lat[NLAT], m_cpu_rate, m_dev_rate, m_mig_rate;
	uint64_t last[NCTR];
};

static bool cc_supported(const void *cfg, char *why, size_t len)
{
	const struct cc_cfg *c = cfg;
	size_t pages = c->dev.size / cdm_page_size();

	if (c->dev.device == DEV_PRIVATE && c->device_io == IO_OWN) {
		snprintf(why, len,
			 "device_io=own on a private device crashes 6.1's test_hmm: a device-private page of its own device with no mirror entry in the open file (migrated through another open, or its entry erased by a migration home that then did not happen) reaches dmirror_do_read/write as the ZONE_DEVICE page hmm_range_fault returns, and they kmap it: Oops in dmirror_do_read");
		return false;
	}
	if (c->device_io == IO_PEER &&
	    !dev_instance_exists(&c->dev, c->dev.device, !c->dev.instance)) {
		snprintf(why, len, "device_io=peer needs a second %s test_hmm device",
			 dev_type_name(c->dev.device));
		return false;
	}
	if (pages < (size_t)c->threads + 1) {
		snprintf(why, len,
			 "size %zu pages leaves no page for the device writer with %lld CPU threads (need threads+1 pages)",
			 pages, (long long)c->threads);
		return false;
	}
	return true;
}

/* --- the slot word --- */

static uint64_t slot_word(const struct cc *c, size_t page, size_t slot,
			  unsigned int owner, uint32_t seq)
{
	uint64_t hi = (uint64_t)owner << 56 | (uint64_t)seq << 24;

	return hi | (mix64(c->key ^ (page << 9 | slot), hi) & 0xffffff);
}

static bool slot_decode(const struct cc *c, size_t page, size_t slot,
			uint64_t v, unsigned int *owner, uint32_t *seq)
{
	*owner = v >> 56;
	*seq = (v >> 24) & 0xffffffff;
	return v && v == slot_word(c, page, slot, *owner, *seq);
}

static bool dev_page(const struct cc *c, size_t page)
{
	return page % (c->nthreads + 1) == (size_t)c->nthreads;
}

static unsigned int slot_owner(const struct cc *c, size_t page, size_t slot)
{
	return dev_page(c, page) ? (unsigned int)c->nthreads :
		(unsigned int)(slot % c->nthreads);
}

static uint32_t slot_last(const struct cc *c, size_t page, size_t slot)
{
	return dev_page(c, page) ? c->dev_seq[page] :
		c->cpu_seq[page * c->slots + slot];
}

static uint64_t *live_word(const struct cc *c, size_t page, size_t slot)
{
	return (uint64_t *)((char *)c->buf.p + page * cdm_page_size()) + slot;
}

/* --- what threads report; cdm_* calls are not thread-safe --- */

static void __printf(2, 3) w_report(struct cc_worker *w, const char *fmt, ...)
{
	struct cc *c = w->c;
	char msg[400];
	va_list ap;

	__atomic_store_n(&c->bad, true, __ATOMIC_RELEASE);
	if (w->reports++ >= MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&c->report_mu);
	cdm_fail(c->ctx, "%s", msg);
	pthread_mutex_unlock(&c->report_mu);
}

static void lat_add(struct cc_worker *w, enum lat_kind k, uint64_t ns)
{
	struct lat *l = &w->lat[k];
	uint64_t j;

	l->seen++;
	if (l->n < LAT_CAP) {
		l->v[l->n++] = ns / 1e3;
		return;
	}
	/* reservoir: every op of the slice equally likely to be kept */
	j = splitmix64(&w->rng) % l->seen;
	if (j < LAT_CAP)
		l->v[j] = ns / 1e3;
}

static const char *who(const struct cc *c, int id, char *buf, size_t len)
{
	if (id < c->nthreads)
		snprintf(buf, len, "CPU thread %d", id);
	else
		snprintf(buf, len, id == c->nthreads ? "device thread" :
			 "migrator");
	return buf;
}

/* --- the park/go gate between slices --- */

static bool gate(struct cc_worker *w)
{
	struct cc *c = w->c;

	if (!__atomic_load_n(&c->pause, __ATOMIC_ACQUIRE))
		return !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);
	pthread_mutex_lock(&c->mu);
	c->parked++;
	pthread_cond_signal(&c->cv_park);
	while (c->pause && !c->stop)
		pthread_cond_wait(&c->cv_go, &c->mu);
	c->parked--;
	pthread_mutex_unlock(&c->mu);
	return !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);
}

static void park_all(struct cc *c)
{
	pthread_mutex_lock(&c->mu);
	__atomic_store_n(&c->pause, true, __ATOMIC_RELEASE);
	while (c->parked < c->nworkers)
		pthread_cond_wait(&c->cv_park, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

static void release_all(struct cc *c, bool stop)
{
	pthread_mutex_lock(&c->mu);
	if (stop)
		__atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
	__atomic_store_n(&c->pause, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&c->cv_go);
	pthread_mutex_unlock(&c->mu);
}

/* --- readers --- */

/* re-read a half-copied word until memory holds a consistent value */
static bool settle(struct cc_worker *w, size_t page, size_t slot,
		   uint64_t *v)
{
	const struct cc *c = w->c;
	unsigned int owner;
	uint32_t seq;
	int i;

	for (i = 0; i < SETTLE_TRIES; i++) {
		uint64_t x = __atomic_load_n(live_word(c, page, slot),
					     __ATOMIC_ACQUIRE);

		if (slot_decode(c, page, slot, x, &owner, &seq)) {
			*v = x;
			w->ctr[C_TEARS]++;
			return true;
		}
		sched_yield();
	}
	return false;
}

/*
 * Check one observed slot: consistent, of its owner, not older than this
 * reader saw before. strict: the observation cannot have raced a writer's
 * non-atomic copy, so no settling.
 */
static void observe(struct cc_worker *w, size_t page, size_t slot,
		    uint64_t v, bool strict, const char *how)
{
	const struct cc *c = w->c;
	size_t g = page * c->slots + slot;
	unsigned int owner;
	uint32_t seq;
	char b[32];

	if (!slot_decode(c, page, slot, v, &owner, &seq) &&
	    (strict || !settle(w, page, slot, &v) ||
	     !slot_decode(c, page, slot, v, &owner, &seq))) {
		w->ctr[C_TORN]++;
		w_report(w, "torn read: %s %s page %zu slot %zu (offset %zu) holds 0x%016llx, not a consistent slot word",
			 who(c, w->id, b, sizeof(b)), how, page, slot,
			 page * cdm_page_size() + slot * SLOT_BYTES,
			 (unsigned long long)v);
		return;
	}
	if (owner != slot_owner(c, page, slot)) {
		w->ctr[C_TORN]++;
		w_report(w, "misplaced data: %s %s page %zu slot %zu (offset %zu) holds owner %u's word, owner is %u",
			 who(c, w->id, b, sizeof(b)), how, page, slot,
			 page * cdm_page_size() + slot * SLOT_BYTES, owner,
			 slot_owner(c, page, slot));
		return;
	}
	if (seq < w->seen[g]) {
		w->ctr[C_REGRESS]++;
		w_report(w, "regression: %s %s page %zu slot %zu (offset %zu) went back from sequence %u to %u",
			 who(c, w->id, b, sizeof(b)), how, page, slot,
			 page * cdm_page_size() + slot * SLOT_BYTES,
			 w->seen[g], seq);
		return;
	}
	w->seen[g] = seq;
}

/* a page image the device produced (READ or a migration's read-back) */
static void observe_image(struct cc_worker *w, const char *img, size_t page,
			  size_t npages, const char *how)
{
	const struct cc *c = w->c;
	size_t p, s;

	for (p = page; p < page + npages; p++) {
		const uint64_t *words = (const uint64_t *)
			(img + (p - page) * cdm_page_size());
		/* nobody else writes a device page while the device reads it */
		bool strict = dev_page(c, p) && w->id == c->nthreads;

		for (s = 0; s < c->slots; s++)
			observe(w, p, s, words[s], strict, how);
	}
}

/* --- CPU threads --- */

static void cpu_update(struct cc_worker *w, size_t page)
{
	struct cc *c = w->c;
	size_t s;

	for (s = w->id; s < c->slots; s += c->nthreads) {
		uint32_t *last = &c->cpu_seq[page * c->slots + s];
		uint64_t *word = live_word(c, page, s);
		uint64_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
		unsigned int owner;
		uint32_t seq;

		if (v != slot_word(c, page, s, w->id, *last)) {
			bool ok = slot_decode(c, page, s, v, &owner, &seq);
			bool lost = ok && owner == (unsigned int)w->id &&
				    seq < *last;

			w->ctr[lost ? C_LOST : C_TORN]++;
			w_report(w, "%s: CPU thread %d page %zu slot %zu (offset %zu) holds %s sequence %u, it last wrote %u",
				 lost ? "lost update" : "bad slot", w->id, page, s,
				 page * cdm_page_size() + s * SLOT_BYTES,
				 ok ? "consistent" : "an inconsistent word,",
				 ok ? seq : 0, *last);
		}
		__atomic_store_n(word, slot_word(c, page, s, w->id, *last + 1),
				 __ATOMIC_RELEASE);
		++*last;
		w->ctr[C_CPU_UPD]++;
	}
}

static void cpu_read(struct cc_worker *w, size_t page)
{
	struct cc *c = w->c;
	bool strict = !dev_page(c, page);
	size_t s;

	for (s = 0; s < c->slots; s++)
		observe(w, page, s,
			__atomic_load_n(live_word(c, page, s), __ATOMIC_ACQUIRE),
			strict, "CPU load of");
}

static void cpu_loop(struct cc_worker *w)
{
	struct cc *c = w->c;

	while (gate(w)) {
		size_t page = c->cpu_pages[splitmix64(&w->rng) % c->ncpu];
		uint64_t t0 = cdm_now_ns();

		cpu_update(w, page);
		lat_add(w, L_CPU_UPDATE, cdm_now_ns() - t0);
		page = splitmix64(&w->rng) % c->buf.npages;
		t0 = cdm_now_ns();
		cpu_read(w, page);
		lat_add(w, L_CPU_READ, cdm_now_ns() - t0);
	}
}

/* --- the device thread --- */

static int dev_io(struct cc_worker *w, bool write, size_t page, char *data,
		  enum lat_kind k)
{
	struct cc *c = w->c;
	char *addr = (char *)c->buf.p + page * cdm_page_size();
	struct cdm_estat st;
	int r;

	r = write ? dev_write(c->io, addr, 1, data, &st) :
		    dev_read(c->io, addr, 1, data, &st);
	if (r) {
		w_report(w, "device %s of page %zu: %s",
			 write ? "WRITE" : "READ", page,
			 dev_strerror(c->io, r));
		return r;
	}
	lat_add(w, k, st.ns);
	return 0;
}

static void dev_update(struct cc_worker *w, size_t page)
{
	struct cc *c = w->c;
	uint64_t *img = (uint64_t *)w->io;
	uint32_t last = c->dev_seq[page];
	size_t s;

	if (dev_io(w, false, page, w->io, L_DEV_READ))
		return;
	for (s = 0; s < c->slots; s++) {
		unsigned int owner;
		uint32_t seq;
		bool ok, lost;

		if (img[s] == slot_word(c, page, s, c->nthreads, last))
			continue;
		ok = slot_decode(c, page, s, img[s], &owner, &seq);
		lost = ok && owner == (unsigned int)c->nthreads && seq < last;
		w->ctr[lost ? C_LOST : C_TORN]++;
		w_report(w, "%s: device READ of page %zu slot %zu (offset %zu) gives %s sequence %u, the device last wrote %u",
			 lost ? "lost update" : "bad slot", page, s, page * cdm_page_size() + s * SLOT_BYTES,
			 ok ? "consistent" : "an inconsistent word,",
			 ok ? seq : 0, last);
		break;
	}
	for (s = 0; s < c->slots; s++)
		img[s] = slot_word(c, page, s, c->nthreads, last + 1);
	if (dev_io(w, true, page, w->io, L_DEV_WRITE))
		return;
	c->dev_seq[page] = last + 1;
	w->ctr[C_DEV_UPD] += c->slots;
}

static void dev_loop(struct cc_worker *w)
{
	struct cc *c = w->c;

	while (gate(w)) {
		size_t page = c->dev_pages[splitmix64(&w->rng) % c->ndev];

		dev_update(w, page);
		page = splitmix64(&w->rng) % c->buf.npages;
		if (!dev_io(w, false, page, w->io, L_DEV_READ))
			observe_image(w, w->io, page, 1, "device READ of");
	}
}

/* --- the migrator --- */

static void migrate_one(struct cc_worker *w)
{
	struct cc *c = w->c;
	size_t page = splitmix64(&w->rng) % c->buf.npages;
	size_t n = 1 + splitmix64(&w->rng) % c->run_pages;
	bool to_dev = splitmix64(&w->rng) & 1;
	struct cdm_estat st;
	int r;

	if (n > c->buf.npages - page)
		n = c->buf.npages - page;
	r = dev_migrate(c->dev, (char *)c->buf.p + page * cdm_page_size(), n,
			to_dev ? CDM_TO_DEVICE : CDM_TO_SYSTEM,
			to_dev ? w->io : NULL, &st);
	/*
	 * MIGRATE_TO_DEV's read-back walks the mirror without faulting:
	 * ENOENT when a CPU thread pulled a page home in between.
	 */
	if (r == -ENOENT && to_dev) {
		w->ctr[C_ENOENT]++;
	} else if (r == -ENOMEM) {
		w->ctr[C_ENOMEM]++;
	} else if (r) {
		w_report(w, "MIGRATE_TO_%s of pages %zu..%zu: %s",
			 to_dev ? "DEV" : "SYS", page, page + n - 1,
			 dev_strerror(c->dev, r));
		return;
	}
	w->ctr[C_MIG]++;
	lat_add(w, to_dev ? L_TO_DEV : L_TO_SYS, st.ns);
	if (to_dev && !r)
		observe_image(w, w->io, page, n, "MIGRATE_TO_DEV read-back of");
}

static void mig_loop(struct cc_worker *w)
{
	while (gate(w))
		migrate_one(w);
}

static void *worker_main(void *arg)
{
	struct cc_worker *w = arg;
	struct cc *c = w->c;

	if (w->id < c->nthreads)
		cpu_loop(w);
	else if (w->id == c->nthreads)
		dev_loop(w);
	else
		mig_loop(w);
	return NULL;
}

/* --- setup --- */

static int alloc_state(struct cdm_ctx *ctx, struct dev_fx *fx, struct cc *c)
{
	size_t pg = cdm_page_size(), n = c->buf.npages, i;

	c->slots = pg / SLOT_BYTES;
	c->nslots = n * c->slots;
	c->nworkers = c->nthreads + 2;
	c->cpu_seq = dev_alloc(ctx, fx, c->nslots * sizeof(*c->cpu_seq));
	c->dev_seq = dev_alloc(ctx, fx, n * sizeof(*c->dev_seq));
	c->cpu_pages = dev_alloc(ctx, fx, n * sizeof(size_t));
	c->dev_pages = dev_alloc(ctx, fx, n * sizeof(size_t));
	c->check = dev_alloc(ctx, fx, c->buf.len);
	c->w = dev_alloc(ctx, fx, c->nworkers * sizeof(*c->w));
	if (!c->cpu_seq || !c->dev_seq || !c->cpu_pages || !c->dev_pages ||
	    !c->check || !c->w)
		return -1;
	for (i = 0; i < c->buf.npages; i++) {
		if (dev_page(c, i))
			c->dev_pages[c->ndev++] = i;
		else
			c->cpu_pages[c->ncpu++] = i;
	}
	for (i = 0; i < (size_t)c->nworkers; i++) {
		struct cc_worker *w = &c->w[i];

		w->c = c;
		w->id = i;
		w->rng = cdm_seed(ctx) ^ (0x51edull * (i + 1));
		w->seen = calloc(c->nslots, sizeof(*w->seen));
		w->io = malloc(c->run_pages * pg);
		if (!w->seen || !w->io)
			return cdm_error(ctx, "out of memory for reader state");
	}
	return 0;
}

/* every slot starts at sequence 0 of its owner */
static void initial_fill(struct cc *c)
{
	size_t p, s;

	for (p = 0; p < c->buf.npages; p++)
		for (s = 0; s < c->slots; s++)
			*live_word(c, p, s) =
				slot_word(c, p, s, slot_owner(c, p, s), 0);
}

static void declare_metrics(struct cdm_ctx *ctx, struct cc *c)
{
	int k;

	for (k = 0; k < NLAT; k++)
		c->m_lat[k] = cdm_metric(ctx, lat_names[k], "us",
					 CDM_LOWER_IS_BETTER);
	c->m_cpu_rate = cdm_metric(ctx, "cpu_updates", "updates/s",
				   CDM_HIGHER_IS_BETTER);
	c->m_dev_rate = cdm_metric(ctx, "dev_updates", "updates/s",
				   CDM_HIGHER_IS_BETTER);
	c->m_mig_rate = cdm_metric(ctx, "migrations", "migrations/s",
				   CDM_HIGHER_IS_BETTER);
}

static int open_io(struct cdm_ctx *ctx, struct cc *c)
{
	const struct cc_cfg *cfg = cdm_cfg(ctx);
	char why[256] = "";
	bool skip;

	if (cfg->device_io == IO_OWN) {
		c->io = c->dev;
		cdm_info(ctx, "device_io", "own device (the migration target, same open file)");
		return 0;
	}
	/* the other device of the type: instance 1 for 0, 0 for 1 */
	if (dev_open_raw(&cfg->dev, cfg->dev.device, !cfg->dev.instance,
			 &c->io, &skip, why, sizeof(why)))
		return skip ? cdm_skip(ctx, "device_io=peer: %s", why) :
			      cdm_error(ctx, "device_io=peer: %s", why);
	if (dev_require(ctx, c->io, CDM_CAP_DEV_READ | CDM_CAP_DEV_WRITE))
		return -1;
	cdm_info(ctx, "device_io", "%s, a peer %s device: %s",
		 c->io->info.name, dev_type_name(cfg->dev.device),
		 cfg->dev.device == DEV_PRIVATE ?
		 "its READ/WRITE fault device-private pages home" :
		 "its READ/WRITE reach device-coherent pages in place");
	return 0;
}

static int cc_setup(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct cc_cfg *cfg = cdm_cfg(ctx);
	struct cc *c = fx->priv;

	c->ctx = ctx;
	c->dev = fx->dev;
	c->buf = fx->buf;
	pthread_mutex_init(&c->report_mu, NULL);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv_park, NULL);
	pthread_cond_init(&c->cv_go, NULL);
	c->nthreads = cfg->threads;
	c->key = mix64(cdm_seed(ctx), 0xcc);
	c->run_pages = cfg->run / cdm_page_size();
	if (open_io(ctx, c) < 0)
		return -1;
	if (alloc_state(ctx, fx, c))
		return -1;
	initial_fill(c);
	declare_metrics(ctx, c);
	/* park before the first slice; run() releases them */
	c->pause = true;
	return 0;
}

/* --- between slices --- */

static uint64_t sum_ctr(const struct cc *c, enum ctr k)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < c->nworkers; i++)
		n += c->w[i].ctr[k];
	return n;
}

static void flush_samples(struct cdm_ctx *ctx, struct cc *c, uint64_t ns)
{
	double secs = ns / 1e9;
	int i, k;

	for (i = 0; i < c->nworkers; i++) {
		for (k = 0; k < NLAT; k++) {
			struct lat *l = &c->w[i].lat[k];
			size_t j;

			for (j = 0; j < l->n; j++)
				cdm_sample(ctx, c->m_lat[k], l->v[j]);
			l->n = 0;
			l->seen = 0;
		}
	}
	cdm_sample(ctx, c->m_cpu_rate,
		   (sum_ctr(c, C_CPU_UPD) - c->last[C_CPU_UPD]) / secs);
	cdm_sample(ctx, c->m_dev_rate,
		   (sum_ctr(c, C_DEV_UPD) - c->last[C_DEV_UPD]) / secs);
	cdm_sample(ctx, c->m_mig_rate,
		   (sum_ctr(c, C_MIG) - c->last[C_MIG]) / secs);
	for (k = 0; k < NCTR; k++)
		c->last[k] = sum_ctr(c, k);
}

/* an exact image: every slot is its owner's last word; false on the first bad */
static bool check_exact(struct cdm_ctx *ctx, struct cc *c, const char *img,
			const char *phase)
{
	size_t pg = cdm_page_size(), p, s;

	for (p = 0; p < c->buf.npages; p++) {
		const uint64_t *words = (const uint64_t *)(img + p * pg);

		for (s = 0; s < c->slots; s++) {
			unsigned int want_owner = slot_owner(c, p, s), owner;
			uint32_t want = slot_last(c, p, s), seq;
			bool ok;

			if (words[s] == slot_word(c, p, s, want_owner, want))
				continue;
			ok = slot_decode(c, p, s, words[s], &owner, &seq);
			c->w[0].ctr[ok && owner == want_owner && seq < want ?
				    C_LOST : C_TORN]++;
			cdm_fail(ctx, "%s after slice %llu: page %zu slot %zu (offset %zu): expected owner %u sequence %u, got %s (0x%016llx)",
				 phase, (unsigned long long)c->slices, p, s,
				 p * pg + s * SLOT_BYTES, want_owner, want,
				 !ok ? "an inconsistent word" :
				 owner != want_owner ? "another owner's word" :
				 seq < want ? "an older sequence (lost update)" :
				 "a sequence never written", (unsigned long long)words[s]);
			return false;
		}
	}
	return true;
}

static int corrupt(struct cdm_ctx *ctx, struct cc *c)
{
	const struct cc_cfg *cfg = cdm_cfg(ctx);

	if (c->corrupted || cdm_warming(ctx) || cfg->dev.corrupt < 0 ||
	    (size_t)cfg->dev.corrupt >= c->buf.npages)
		return 0;
	c->corrupted = true;
	if (dev_corrupt_page(ctx, c->io, &c->buf, cfg->dev.corrupt) < 0)
		return -1;
	cdm_log(ctx, "corrupt_page: wrote junk into page %lld through the device",
		(long long)cfg->dev.corrupt);
	return 0;
}

static void note_placement(struct cdm_ctx *ctx, struct cc *c)
{
	struct dev_where w;

	if (!dev_where(c->dev, &c->buf, NULL, &w))
		cdm_info(ctx, "placement_at_pause",
			 "%zu device, %zu system (after slice %llu)", w.local,
			 w.system, (unsigned long long)c->slices);
}

/* move everything one way, SNAPSHOT it there, check the read-back */
static int settle_region(struct cdm_ctx *ctx, struct cc *c, bool to_dev)
{
	int r;

	r = dev_migrate(c->dev, c->buf.p, c->buf.npages,
			to_dev ? CDM_TO_DEVICE : CDM_TO_SYSTEM,
			to_dev ? c->check : NULL, NULL);
	if (r == -ENOMEM) {
		cdm_info(ctx, "enomem", "whole-region MIGRATE_TO_DEV returned ENOMEM");
		cdm_fail(ctx, "device memory exhausted (ENOMEM) moving the %zu-page region",
			 c->buf.npages);
		return 0;
	}
	if (r)
		return cdm_error(ctx, "whole-region MIGRATE_TO_%s: %s",
				 to_dev ? "DEV" : "SYS", dev_strerror(c->dev, r));
	if (dev_check_where(ctx, c->dev, &c->buf,
			    to_dev ? DEV_ON_DEVICE : DEV_IN_SYSTEM,
			   to_dev ? "quiescent MIGRATE_TO_DEV" :
			   "quiescent MIGRATE_TO_SYS", NULL) < 0)
		return -1;
	if (to_dev)
		check_exact(ctx, c, c->check, "MIGRATE_TO_DEV read-back");
	return 0;
}

/* all threads parked: the region must be exactly what the writers wrote */
static int quiescent_check(struct cdm_ctx *ctx, struct cc *c)
{
	int r;

	if (corrupt(ctx, c) < 0)
		return -1;
	note_placement(ctx, c);
	r = dev_read(c->io, c->buf.p, c->buf.npages, c->check, NULL);
	if (r)
		return cdm_error(ctx, "whole-region device READ: %s",
				 dev_strerror(c->io, r));
	if (!check_exact(ctx, c, c->check, "device READ"))
		return 0;
	if (!check_exact(ctx, c, c->buf.p, "CPU read"))
		return 0;
	return settle_region(ctx, c, c->slices & 1);
}

static int start_workers(struct cdm_ctx *ctx, struct cc *c)
{
	int i, r;

	for (i = 0; i < c->nworkers; i++) {
		r = pthread_create(&c->w[i].tid, NULL, worker_main, &c->w[i]);
		if (r)
			return cdm_error(ctx, "pthread_create: %s", strerror(r));
		c->w[i].started = true;
	}
	return 0;
}

static void stop_workers(struct cc *c)
{
	int i;

	release_all(c, true);
	for (i = 0; i < c->nworkers; i++) {
		if (c->w[i].started)
			pthread_join(c->w[i].tid, NULL);
		c->w[i].started = false;
	}
}

/* sleep one slice, cut short when a thread has reported a failure */
static uint64_t run_slice(struct cc *c, uint64_t ns)
{
	uint64_t t0 = cdm_now_ns(), now = t0;

	release_all(c, false);
	while (now - t0 < ns && !__atomic_load_n(&c->bad, __ATOMIC_ACQUIRE)) {
		uint64_t left = ns - (now - t0);
		struct timespec ts = { 0, left < 10000000 ? left : 10000000 };

		nanosleep(&ts, NULL);
		now = cdm_now_ns();
	}
	park_all(c);
	return cdm_now_ns() - t0;
}

static void report_counts(struct cdm_ctx *ctx, struct cc *c)
{
	static const char *const keys[NCTR] = {
		"cpu_updates", "dev_updates", "migrations", "lost_updates",
		"torn_reads", "regressions", "copy_tears", "to_dev_enoent",
		"enomem",
	};
	int k;

	cdm_info(ctx, "updates", "%llu", (unsigned long long)
		 (sum_ctr(c, C_CPU_UPD) + sum_ctr(c, C_DEV_UPD)));
	for (k = 0; k < NCTR; k++)
		cdm_info(ctx, keys[k], "%llu", (unsigned long long)sum_ctr(c, k));
	cdm_info(ctx, "slices", "%llu", (unsigned long long)c->slices);
	cdm_info(ctx, "layout", "%zu pages: %zu CPU pages (%zu slots each per thread), %zu device pages",
		 c->buf.npages, c->ncpu, c->slots / c->nthreads, c->ndev);
}

static int cc_run(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct cc_cfg *cfg = cdm_cfg(ctx);
	struct cc *c = fx->priv;
	int r = 0;

	if (start_workers(ctx, c) < 0) {
		stop_workers(c);
		return -1;
	}
	park_all(c);
	while (cdm_iter(ctx)) {
		uint64_t ns = run_slice(c, cfg->slice);

		c->slices++;
		flush_samples(ctx, c, ns);
		r = quiescent_check(ctx, c);
		if (r < 0 || cdm_failed(ctx))
			break;
	}
	stop_workers(c);
	report_counts(ctx, c);
	if (!cdm_failed(ctx))
		cdm_info(ctx, "integrity", "ok");
	return r;
}

static void cc_teardown(struct cdm_ctx *ctx __unused, struct dev_fx *fx)
{
	struct cc *c = fx->priv;
	int i;

	if (c->w) {
		stop_workers(c);
		for (i = 0; i < c->nworkers; i++) {
			free(c->w[i].seen);
			free(c->w[i].io);
		}
	}
	if (c->io != c->dev)
		dev_close(c->io);
}

DEV_WORKLOAD(concurrent, cc, DEV_CAPS_ROUND_TRIP | CDM_CAP_DEV_READ |
	     CDM_CAP_DEV_WRITE, 0, cc_teardown,
	.name = "concurrent",
	.summary = "CPU threads, device READ/WRITE and migrations on one region: no lost or torn update",
	.verifies = CDM_VERIFY_DATA | CDM_VERIFY_PLACEMENT,
	.tamper = "corrupt_page", .tamper_value = "5");
