// SPDX-License-Identifier: GPL-2.0
/*
 * stress: a seeded random mix of device-memory operations over several
 * processes and threads, for soak and acceptance runs.
 *
 * Every worker thread owns a buffer and keeps a shadow of what each page
 * must hold (the generation that last wrote it). Data is checked after
 * every operation that reads it; placement where it is certain: after the
 * final migration back (retried while other workers finish), SNAPSHOT
 * shows where every page is, reported as placement_after_home. It
 * then draws operations from its own seeded generator: migrations to the
 * device and back over random ranges, CPU reads and writes (faulting
 * private pages back, touching coherent ones in place), device reads and
 * writes through hmm_range_fault, MADV_DONTNEED, fork with copy-on-write
 * checks, and device-exclusive access revoked by a CPU write. All threads
 * of a process share one mm, so migrations, faults and invalidations race
 * on the same page tables and locks; several processes share the devices.
 *
 * Each check names the page and offset; the first failure also names the
 * seed, the operation number and a command line that replays the mix.
 *
 * Device-exclusive access is taken on pages in system RAM only
 * (exclusive_coherent=home, the default): the range is first moved home
 * from the coherent devices, and a range that will not move is counted as
 * exclusive_skipped instead. On 6.1, make_device_exclusive over pages
 * resident in coherent device memory leaves pages that no MIGRATE_TO_SYS
 * moves (5 of 24 cases of to_dev+to_sys+exclusive here, none of 48 without
 * exclusive), and a later close of the device Oopses in test_hmm's chunk
 * eviction (rmap_walk_anon from migrate_device_finalize, NULL pointer):
 * exclusive_coherent=in-place keeps that path, to reproduce it.
 *
 * Device reads and writes go through the second device of the type
 * (access=other) by default: on 6.1 and 6.12, a dmirror READ or WRITE over
 * a range that is partly unmirrored and partly resident on the same
 * private device makes test_hmm store the device-private page itself in
 * its mirror (dmirror_do_fault lacks BACKING_PAGE) and then kmap it: an
 * Oops in dmirror_do_read. access=same keeps that path, to reproduce it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "lib/pattern.h"

enum st_op {
	OP_TO_DEV, OP_TO_SYS, OP_CPU_WRITE, OP_CPU_READ, OP_DEV_READ,
	OP_DEV_WRITE, OP_DONTNEED, OP_FORK, OP_EXCLUSIVE, OP_SNAPSHOT,
	NOPS
};

static const char *const op_names[NOPS] = {
	"to_dev", "to_sys", "cpu_write", "cpu_read", "dev_read", "dev_write",
	"dontneed", "fork", "exclusive", "snapshot",
};

/* relative weights: migrations and data checks dominate, fork is rare */
static const unsigned int op_weight[NOPS] = {
	20, 20, 12, 12, 10, 8, 3, 1, 4, 10,
};

#define SAMPLES_PER_OP 2048
#define MSG_LEN 512

struct stress_cfg {
	struct dev_cfg dev;
	int64_t procs;
	int64_t threads;
	int64_t ops;
	int64_t seed;
	uint64_t max_range;
	char *mix;
	int access;
	int excl_coherent;
};

static const struct cdm_opt stress_opts[] = {
	DEV_OPT_ENGINE,
	{ "device", CDM_T_ENUM, DEV_FIELD(device), "both", 0, 0,
	  "private|coherent|both", 0,
	  "which device memory the mix migrates to (both: a private and a coherent device, chosen per operation)" },
	DEV_OPT_SIZE("1M", 8192, 268435456.0,
		     "buffer per worker thread (all workers' buffers must fit a coherent device's 256M to avoid ENOMEM)"),
	{ "procs", CDM_T_INT, OPT_FIELD(struct stress_cfg, procs), "2", 1, 64,
	  NULL, 0, "worker processes (each its own mm)" },
	{ "threads", CDM_T_INT, OPT_FIELD(struct stress_cfg, threads), "2", 1,
	  64, NULL, 0, "worker threads per process (sharing the mm)" },
	{ "ops", CDM_T_INT, OPT_FIELD(struct stress_cfg, ops), "500", 1,
	  1e12, NULL, 0,
	  "operations per thread when `duration` is 0; with a duration, run until it ends" },
	{ "seed", CDM_T_INT, OPT_FIELD(struct stress_cfg, seed), "0", 0,
	  9.2e18, NULL, 0,
	  "seed of the mix (0: derived from the run's seed); failures print the seed to replay" },
	{ "max_range", CDM_T_SIZE, OPT_FIELD(struct stress_cfg, max_range),
	  "256K", 4096, 268435456.0, NULL, CDM_OF_PAGE_ALIGNED,
	  "largest range one operation touches" },
	{ "mix", CDM_T_STRING, OPT_FIELD(struct stress_cfg, mix), "all", 0, 0,
	  NULL, 0,
	  "operations to draw from, joined with '+' (all, or e.g. to_dev+to_sys+dev_read): to_dev, to_sys, cpu_write, cpu_read, dev_read, dev_write, dontneed, fork, exclusive, snapshot" },
	{ "access", CDM_T_ENUM, OPT_FIELD(struct stress_cfg, access), "other",
	  0, 0, "other|same", 0,
	  "device reads and writes through the other device of the type (minor 1 or 3), or the one pages migrate to (same: reaches a test_hmm Oops on private memory in 6.1/6.12, see the file comment)" },
	{ "exclusive_coherent", CDM_T_ENUM,
	  OPT_FIELD(struct stress_cfg, excl_coherent), "home", 0, 0,
	  "home|in-place", 0,
	  "device-exclusive access only after moving the range home from coherent memory (home), or on pages where they are (in-place: on 6.1 leaves pages no migration moves and Oopses test_hmm's eviction later, see the file comment)" },
	CDM_OPT_END
};

/* results shared by all worker processes with the case process */
struct op_stats {
	uint64_t count;
	uint64_t nsamples;
	double ns[SAMPLES_PER_OP];
};

struct worker_report {
	struct op_stats op[NOPS];
	uint64_t enomem;
	uint64_t ebusy;
	uint64_t partial;	/* MIGRATE_TO_DEV left pages behind */
	uint64_t unmapped;	/* pages a SNAPSHOT saw in transit */
	uint64_t stale_exclusive;	/* CHECK_EXCLUSIVE said held after a write */
	uint64_t excl_skipped;	/* ranges that would not leave coherent memory */
	uint64_t left_away;	/* pages on a device after the moves home */
	uint64_t away_page;	/* the first of them, and its SNAPSHOT byte */
	uint8_t away_byte;
	int failed;
	char msg[MSG_LEN];
};

struct shared {
	int nworkers;
	volatile int stop;
	struct worker_report w[];
};

struct worker {
	const struct stress_cfg *cfg;
	struct shared *sh;
	struct worker_report *rep;
	int id;
	uint64_t seed;
	uint64_t rng;
	uint64_t deadline;	/* 0: count operations instead */
	struct cdm_edev *dev[2];	/* devices this worker may migrate to */
	struct cdm_edev *adev[2];	/* and reads and writes through */
	int nfd;
	int coherent;		/* index of the coherent device in dev[], or -1 */
	char *buf;
	size_t npages;
	uint32_t *gen;		/* shadow: generation each page must hold */
	char *bounce;
	uint64_t opno;
};

static uint64_t rnd(struct worker *w, uint64_t n)
{
	return n ? splitmix64(&w->rng) % n : 0;
}

static void fail(struct worker *w, int op, const char *fmt, ...)
	__printf(3, 4);
static void fail(struct worker *w, int op, const char *fmt, ...)
{
	char what[MSG_LEN - 96];
	va_list ap;

	if (w->rep->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(w->rep->msg, sizeof(w->rep->msg),
		 "worker %d, operation #%llu (%s): %s", w->id,
		 (unsigned long long)w->opno, op_names[op], what);
	w->rep->failed = 1;
	w->sh->stop = 1;
}

static void sample(struct worker *w, int op, uint64_t ns)
{
	struct op_stats *s = &w->rep->op[op];

	/* a reservoir keeps the sample unbiased however long the run */
	if (s->nsamples < SAMPLES_PER_OP)
		s->ns[s->nsamples++] = (double)ns;
	else if (rnd(w, s->count + 1) < SAMPLES_PER_OP)
		s->ns[rnd(w, SAMPLES_PER_OP)] = (double)ns;
	s->count++;
}

/* which operations the mix may draw: a bit per op; all if "all" */
static int parse_mix(const char *mix, unsigned int *mask, char *bad,
		     size_t len)
{
	char *copy = xstrdup(mix), *save = NULL, *tok;
	int i;

	*mask = 0;
	for (tok = strtok_r(copy, "+", &save); tok;
	     tok = strtok_r(NULL, "+", &save)) {
		if (!strcmp(tok, "all")) {
			*mask = (1u << NOPS) - 1;
			continue;
		}
		for (i = 0; i < NOPS && strcmp(tok, op_names[i]); i++)
			;
		if (i == NOPS) {
			snprintf(bad, len, "%s", tok);
			free(copy);
			return -1;
		}
		*mask |= 1u << i;
	}
	free(copy);
	return *mask ? 0 : -1;
}

static int pick_op(struct worker *w)
{
	unsigned int total = 0, r, i, mask = 0;
	char bad[64];

	parse_mix(w->cfg->mix, &mask, bad, sizeof(bad));
	for (i = 0; i < NOPS; i++)
		if (mask & (1u << i))
			total += op_weight[i];
	r = rnd(w, total);
	for (i = 0; i < NOPS; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (r < op_weight[i])
			return i;
		r -= op_weight[i];
	}
	return OP_SNAPSHOT;
}

/* a random page range, at most max_range bytes */
static void pick_range(struct worker *w, size_t *first, size_t *n)
{
	size_t maxp = w->cfg->max_range / cdm_page_size();

	if (maxp > w->npages)
		maxp = w->npages;
	*n = 1 + rnd(w, maxp);
	*first = rnd(w, w->npages - *n + 1);
}

static char *page_at(struct worker *w, size_t i)
{
	return w->buf + i * cdm_page_size();
}

static bool check_pages(struct worker *w, int op, const char *data,
			size_t first, size_t n)
{
	size_t pg = cdm_page_size(), i;
	struct pat_err e;

	for (i = 0; i < n; i++) {
		if (pat_check_page(data + i * pg, pg, w->seed, first + i,
				   w->gen[first + i], &e))
			continue;
		fail(w, op, "page %zu (offset %zu): expected 0x%016llx, got 0x%016llx; %s",
		     first + i, e.offset, (unsigned long long)e.expected,
		     (unsigned long long)e.got, e.what);
		return false;
	}
	return true;
}

static void note_errno(struct worker *w, int op, int r)
{
	if (r == -ENOMEM)
		w->rep->enomem++;	/* device memory full: a result, not a bug */
	else if (r == -ENOENT && (op == OP_TO_DEV || op == OP_EXCLUSIVE))
		/*
		 * Some pages did not move or convert (held by another CPU's
		 * LRU batch, locked by a racing fault), so test_hmm's
		 * read-back finds no mirror entry for them: partial, not wrong.
		 */
		w->rep->partial++;
	else if (r == -EBUSY)
		w->rep->ebusy++;
	else
		fail(w, op, "ioctl failed: %s", strerror(-r));
}

static void op_migrate(struct worker *w, int op, size_t first, size_t n)
{
	uint64_t t0 = cdm_now_ns();
	int k, r = 0;

	if (op == OP_TO_DEV) {
		r = dev_migrate(w->dev[rnd(w, w->nfd)], page_at(w, first), n,
				CDM_TO_DEVICE, w->bounce, NULL);
		if (!r)
			check_pages(w, op, w->bounce, first, n);
	} else {
		/* each device brings back only its own pages */
		for (k = 0; k < w->nfd && !r; k++)
			r = dev_migrate(w->dev[k], page_at(w, first), n,
					CDM_TO_SYSTEM, NULL, NULL);
	}
	if (r)
		note_errno(w, op, r);
	sample(w, op, cdm_now_ns() - t0);
}

static void op_cpu(struct worker *w, int op, size_t first, size_t n)
{
	size_t pg = cdm_page_size(), i;
	uint64_t t0 = cdm_now_ns();

	for (i = first; i < first + n; i++) {
		if (op == OP_CPU_WRITE) {
			pat_fill_page(page_at(w, i), pg, w->seed, i, ++w->gen[i]);
		} else if (!check_pages(w, op, page_at(w, i), i, 1)) {
			break;
		}
	}
	sample(w, op, cdm_now_ns() - t0);
}

static void op_dev_rw(struct worker *w, int op, size_t first, size_t n)
{
	struct cdm_edev *d = w->adev[rnd(w, w->nfd)];
	size_t pg = cdm_page_size(), i;
	uint64_t t0;
	int r;

	if (op == OP_DEV_WRITE)
		for (i = 0; i < n; i++)
			pat_fill_page(w->bounce + i * pg, pg, w->seed, first + i,
				      w->gen[first + i] + 1);
	t0 = cdm_now_ns();
	r = op == OP_DEV_WRITE ?
	    dev_write(d, page_at(w, first), n, w->bounce, NULL) :
	    dev_read(d, page_at(w, first), n, w->bounce, NULL);
	sample(w, op, cdm_now_ns() - t0);
	if (r) {
		note_errno(w, op, r);
		return;
	}
	if (op == OP_DEV_WRITE)
		for (i = first; i < first + n; i++)
			w->gen[i]++;
	else
		check_pages(w, op, w->bounce, first, n);
}

static void op_dontneed(struct worker *w, size_t first, size_t n)
{
	size_t pg = cdm_page_size(), i;
	uint64_t t0 = cdm_now_ns();

	if (madvise(page_at(w, first), n * pg, MADV_DONTNEED)) {
		fail(w, OP_DONTNEED, "madvise: %s", strerror(errno));
		return;
	}
	/* the pages now read as zero; check that, then give them data again */
	for (i = first; i < first + n; i++) {
		const uint64_t *q = (const uint64_t *)page_at(w, i);

		if (q[0] || q[pg / 8 - 1]) {
			fail(w, OP_DONTNEED, "page %zu not zero after MADV_DONTNEED", i);
			return;
		}
		pat_fill_page(page_at(w, i), pg, w->seed, i, ++w->gen[i]);
	}
	sample(w, OP_DONTNEED, cdm_now_ns() - t0);
}

/*
 * The child checks its copy, overwrites a range; the parent, after the
 * child is gone, must still see its own data (copy-on-write isolation).
 */
static void op_fork(struct worker *w, size_t first, size_t n)
{
	size_t pg = cdm_page_size(), i;
	uint64_t t0 = cdm_now_ns();
	int status = 0;
	pid_t pid = fork();

	if (pid < 0) {
		fail(w, OP_FORK, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		for (i = first; i < first + n; i++) {
			struct pat_err e;

			if (!pat_check_page(page_at(w, i), pg, w->seed, i,
					    w->gen[i], &e))
				_exit(2);
			pat_fill_page(page_at(w, i), pg, w->seed, i,
				      w->gen[i] + 1000);
		}
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sample(w, OP_FORK, cdm_now_ns() - t0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail(w, OP_FORK, "the forked child %s",
		     WIFEXITED(status) ? "saw wrong data in its copy" :
		     "was killed by a signal");
		return;
	}
	check_pages(w, OP_FORK, page_at(w, first), first, n);
}

/*
 * exclusive_coherent=home: move [first, first + n) out of coherent memory
 * (through both coherent devices: test_hmm migrates only its own pages)
 * and say whether every page left; see the file comment for why.
 */
static bool range_home(struct worker *w, size_t first, size_t n)
{
	struct cdm_edev *d[2] = { w->dev[w->coherent], w->adev[w->coherent] };
	uint8_t *snap = malloc(n);
	bool home = snap != NULL;
	size_t i;
	int k;

	for (k = 0; k < 2 && home; k++) {
		if (k && d[1] == d[0])
			break;
		dev_migrate(d[k], page_at(w, first), n, CDM_TO_SYSTEM, NULL,
			    NULL);
	}
	if (home && dev_loc(d[0], page_at(w, first), n, snap))
		home = false;
	for (i = 0; home && i < n; i++)
		home = !cdm_pg_on_device(snap[i]);
	free(snap);
	return home;
}

/* device takes exclusive access; a CPU write must take it back */
static void op_exclusive(struct worker *w, size_t first, size_t n)
{
	size_t pg = cdm_page_size(), i;
	uint64_t t0 = cdm_now_ns();
	struct cdm_edev *d = w->dev[0];
	int r;

	if (w->coherent >= 0 && w->cfg->excl_coherent == 0 &&
	    !range_home(w, first, n)) {
		w->rep->excl_skipped++;
		return;
	}
	r = dev_exclusive(d, page_at(w, first), n, w->bounce, NULL);
	if (!r && !check_pages(w, OP_EXCLUSIVE, w->bounce, first, n))
		return;
	/*
	 * The CPU writes take exclusivity back, also after EBUSY: test_hmm
	 * leaves the pages it did convert exclusive when it gives up.
	 */
	for (i = first; i < first + n; i++)
		pat_fill_page(page_at(w, i), pg, w->seed, i, ++w->gen[i]);
	if (r) {
		note_errno(w, OP_EXCLUSIVE, r);
		sample(w, OP_EXCLUSIVE, cdm_now_ns() - t0);
		return;
	}
	r = dev_check_exclusive(d, page_at(w, first), n, NULL);
	sample(w, OP_EXCLUSIVE, cdm_now_ns() - t0);
	/*
	 * EPERM: test_hmm's mirror still marks a page atomic although the CPU
	 * wrote it. Under this mix (other threads migrating and invalidating
	 * the same mm) the driver's bookkeeping can go stale, which the
	 * single-threaded atomics workload checks strictly; here it is
	 * counted, and the data checks decide.
	 */
	if (r == -EPERM)
		w->rep->stale_exclusive++;
	else if (r)
		fail(w, OP_EXCLUSIVE, "CHECK_EXCLUSIVE after CPU writes: %s",
		     strerror(-r));
}

/*
 * Where the pages are, as the device sees them. A page may read as not
 * mapped for a moment (a migration entry while another process's fd close
 * evicts the device, an exclusive entry): counted, not a failure; the
 * data checks say whether anything was lost.
 */
static void op_snapshot(struct worker *w, size_t first, size_t n)
{
	uint8_t *snap = malloc(n);
	uint64_t t0 = cdm_now_ns();
	size_t i;
	int r;

	if (!snap)
		return;
	r = dev_loc(w->dev[0], page_at(w, first), n, snap);
	sample(w, OP_SNAPSHOT, cdm_now_ns() - t0);
	for (i = 0; !r && i < n; i++)
		if (cdm_pg_loc(snap[i]) == CDM_LOC_NONE)
			w->rep->unmapped++;
	if (r)
		note_errno(w, OP_SNAPSHOT, r);
	free(snap);
}

static void do_op(struct worker *w, int op)
{
	size_t first, n;

	pick_range(w, &first, &n);
	switch (op) {
	case OP_TO_DEV:
	case OP_TO_SYS:
		op_migrate(w, op, first, n);
		break;
	case OP_CPU_WRITE:
	case OP_CPU_READ:
		op_cpu(w, op, first, n);
		break;
	case OP_DEV_READ:
	case OP_DEV_WRITE:
		op_dev_rw(w, op, first, n);
		break;
	case OP_DONTNEED:
		op_dontneed(w, first, n);
		break;
	case OP_FORK:
		op_fork(w, first, n);
		break;
	case OP_EXCLUSIVE:
		op_exclusive(w, first, n);
		break;
	default:
		op_snapshot(w, first, n);
	}
}

static bool more(struct worker *w)
{
	if (w->sh->stop)
		return false;
	if (w->deadline)
		return cdm_now_ns() < w->deadline;
	return w->opno < (uint64_t)w->cfg->ops;
}

/*
 * Placement, checked where the shadow knows it for certain: after the
 * final MIGRATE_TO_SYS no page may be on any device. Checked before the
 * CPU read, which would fault a private page home and hide a page left
 * behind. Returns the pages found on a device (the first one in *at, its
 * SNAPSHOT byte in *byte), or -1 after a failed SNAPSHOT.
 */
static long pages_away(struct worker *w, uint8_t *snap, size_t *at,
		       uint8_t *byte)
{
	long away = 0;
	size_t i;
	int k, r;

	for (k = 0; k < w->nfd; k++) {
		r = dev_loc(w->dev[k], w->buf, w->npages, snap);
		if (r) {
			fail(w, OP_TO_SYS, "SNAPSHOT after the final MIGRATE_TO_SYS: %s",
			     strerror(r < 0 ? -r : r));
			return -1;
		}
		for (i = 0; i < w->npages; i++) {
			if (!cdm_pg_on_device(snap[i]))
				continue;
			if (!away++) {
				*at = i;
				*byte = snap[i];
			}
		}
	}
	return away;
}

/*
 * One MIGRATE_TO_SYS may leave a page behind that another worker holds for
 * a moment (a forked child's copy, a page in an LRU batch, a fault in
 * flight): migrate_vma skips it without an error, and that is the kernel's
 * contract, not a bug. So the move home is retried through every device
 * while others finish, up to HOME_TRIES times HOME_WAIT_US; a page still
 * on a device after that is counted and named (placement_after_home),
 * not failed: whether one stays varies from run to run on 6.1 (4 pages of
 * 256 in 1 of 12 cases, seen here), so it is kernel behaviour to print,
 * and an acceptance job can require it with expect.info.
 */
#define HOME_TRIES 50
#define HOME_WAIT_US 20000

static void check_home(struct worker *w)
{
	uint8_t *snap = malloc(w->npages), byte = 0;
	size_t at = 0;
	long away = 0;
	int t, k;

	if (!snap) {
		fail(w, OP_TO_SYS, "out of memory for a snapshot");
		return;
	}
	for (t = 0; t < HOME_TRIES && !w->rep->failed; t++) {
		away = pages_away(w, snap, &at, &byte);
		if (away <= 0)
			break;
		usleep(HOME_WAIT_US);
		for (k = 0; k < w->nfd; k++) {
			int r = dev_migrate(w->dev[k], page_at(w, 0), w->npages,
					    CDM_TO_SYSTEM, NULL, NULL);

			if (r && r != -EBUSY)
				note_errno(w, OP_TO_SYS, r);
		}
	}
	if (away > 0 && !w->rep->failed) {
		w->rep->left_away = away;
		w->rep->away_page = at;
		w->rep->away_byte = byte;
	}
	free(snap);
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	size_t pg = cdm_page_size(), i;

	for (i = 0; i < w->npages; i++)
		pat_fill_page(page_at(w, i), pg, w->seed, i, w->gen[i] = 1);
	while (more(w)) {
		w->opno++;
		do_op(w, pick_op(w));
	}
	/* the final word: everything back, every page as the shadow says */
	if (!w->rep->failed) {
		w->opno++;
		op_migrate(w, OP_TO_SYS, 0, w->npages);
		check_home(w);
		check_pages(w, OP_CPU_READ, w->buf, 0, w->npages);
	}
	return NULL;
}

/* in a worker process: the engine is FORK_SAFE, each process opens its own */
static int open_devices(const struct stress_cfg *cfg, struct cdm_edev **dev,
			struct cdm_edev **adev, int *nfd, char *why,
			size_t len)
{
	int types[2], n = 0, k;
	bool skip;

	if (cfg->dev.device != DEV_COHERENT)
		types[n++] = DEV_PRIVATE;
	if (cfg->dev.device != DEV_PRIVATE)
		types[n++] = DEV_COHERENT;
	*nfd = 0;
	for (k = 0; k < n; k++) {
		if (dev_open_raw(&cfg->dev, types[k], 0, &dev[k], &skip, why,
				 len))
			return -1;
		adev[k] = dev[k];
		if (cfg->access != 1 &&
		    dev_open_raw(&cfg->dev, types[k], 1, &adev[k], &skip, why,
				 len))
			return -1;
		(*nfd)++;
	}
	return 0;
}

/* one worker process: its threads, its buffers, one mm */
static int worker_process(const struct stress_cfg *cfg, struct shared *sh,
			  int proc, uint64_t seed, uint64_t deadline)
{
	struct worker *w = calloc(cfg->threads, sizeof(*w));
	pthread_t *tid = calloc(cfg->threads, sizeof(*tid));
	struct cdm_edev *dev[2], *adev[2];
	char why[256] = "";
	int nfd, t;

	if (!w || !tid)
		return 1;
	if (open_devices(cfg, dev, adev, &nfd, why, sizeof(why))) {
		snprintf(sh->w[proc * cfg->threads].msg, MSG_LEN,
			 "cannot open a device: %s", why);
		sh->w[proc * cfg->threads].failed = 1;
		return 1;
	}
	for (t = 0; t < cfg->threads; t++) {
		struct worker *x = &w[t];

		x->cfg = cfg;
		x->sh = sh;
		x->id = proc * cfg->threads + t;
		x->rep = &sh->w[x->id];
		x->seed = mix64(seed, x->id);
		x->rng = x->seed;
		x->deadline = deadline;
		memcpy(x->dev, dev, sizeof(dev));
		memcpy(x->adev, adev, sizeof(adev));
		x->nfd = nfd;
		x->coherent = cfg->dev.device == DEV_PRIVATE ? -1 : nfd - 1;
		x->npages = cfg->dev.size / cdm_page_size();
		x->buf = mmap(NULL, cfg->dev.size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		x->gen = calloc(x->npages, sizeof(*x->gen));
		x->bounce = malloc(cfg->max_range);
		if (x->buf == MAP_FAILED || !x->gen || !x->bounce)
			return 1;
		/* device-exclusive gives up on THP-backed pages (EBUSY) */
		madvise(x->buf, cfg->dev.size, MADV_NOHUGEPAGE);
		pthread_create(&tid[t], NULL, worker_thread, x);
	}
	for (t = 0; t < cfg->threads; t++)
		pthread_join(tid[t], NULL);
	return 0;
}

static bool stress_supported(const void *cfg, char *why, size_t len)
{
	const struct stress_cfg *c = cfg;
	uint64_t total = c->dev.size * c->procs * c->threads;
	unsigned int mask;
	char bad[64] = "";

	if (parse_mix(c->mix, &mask, bad, sizeof(bad))) {
		snprintf(why, len, "mix=%s: unknown operation '%s'", c->mix, bad);
		return false;
	}
	if (c->dev.device != DEV_PRIVATE && total > DM_COHERENT_BYTES) {
		snprintf(why, len,
			 "procs x threads x size = %lluM exceeds the 256M of a coherent device",
			 (unsigned long long)(total >> 20));
		return false;
	}
	if (c->max_range > c->dev.size) {
		snprintf(why, len, "max_range is larger than size");
		return false;
	}
	if (c->dev.device != DEV_COHERENT &&
	    !dev_usable(&c->dev, DEV_PRIVATE, 0, why, len))
		return false;
	return c->dev.device == DEV_PRIVATE ||
	       dev_usable(&c->dev, DEV_COHERENT, 0, why, len);
}

static void report_results(struct cdm_ctx *ctx, struct shared *sh)
{
	uint64_t total = 0, enomem = 0, ebusy = 0, partial = 0, unmapped = 0;
	uint64_t stale = 0, away = 0, eskip = 0;
	int op, i, m, first = -1;

	for (op = 0; op < NOPS; op++) {
		char name[48];

		snprintf(name, sizeof(name), "%s_latency", op_names[op]);
		m = cdm_metric(ctx, name, "us", CDM_LOWER_IS_BETTER);
		for (i = 0; i < sh->nworkers; i++) {
			struct op_stats *s = &sh->w[i].op[op];
			uint64_t k;

			for (k = 0; k < s->nsamples; k++)
				cdm_sample_always(ctx, m, s->ns[k] / 1e3);
			total += s->count;
		}
	}
	for (i = 0; i < sh->nworkers; i++) {
		enomem += sh->w[i].enomem;
		ebusy += sh->w[i].ebusy;
		partial += sh->w[i].partial;
		unmapped += sh->w[i].unmapped;
		stale += sh->w[i].stale_exclusive;
		eskip += sh->w[i].excl_skipped;
		away += sh->w[i].left_away;
		if (sh->w[i].left_away && first < 0)
			first = i;
	}
	cdm_info(ctx, "operations", "%llu", (unsigned long long)total);
	cdm_info(ctx, "enomem", "%llu", (unsigned long long)enomem);
	cdm_info(ctx, "ebusy", "%llu", (unsigned long long)ebusy);
	cdm_info(ctx, "partial_migrations", "%llu", (unsigned long long)partial);
	cdm_info(ctx, "snapshot_unmapped", "%llu", (unsigned long long)unmapped);
	cdm_info(ctx, "exclusive_not_revoked", "%llu", (unsigned long long)stale);
	cdm_info(ctx, "exclusive_skipped", "%llu", (unsigned long long)eskip);
	if (first < 0)
		cdm_info(ctx, "placement_after_home", "system: no page on a device after the final MIGRATE_TO_SYS");
	else
		cdm_info(ctx, "placement_after_home", "%llu pages still on a device after the final MIGRATE_TO_SYS and %d retries over %d ms (first: worker %d page %llu, SNAPSHOT byte 0x%02x)",
			 (unsigned long long)away, HOME_TRIES,
			 HOME_TRIES * HOME_WAIT_US / 1000, first,
			 (unsigned long long)sh->w[first].away_page,
			 sh->w[first].away_byte);
}

static void report_failure(struct cdm_ctx *ctx, struct shared *sh,
			   uint64_t seed)
{
	const struct stress_cfg *cfg = cdm_cfg(ctx);
	char size[32], range[32];
	int i;

	cdm_format_size(cfg->dev.size, size, sizeof(size));
	cdm_format_size(cfg->max_range, range, sizeof(range));
	for (i = 0; i < sh->nworkers; i++) {
		if (!sh->w[i].failed)
			continue;
		cdm_info(ctx, "reproduce",
			 "cdmbench run -w stress --set seed=%llu --set device=%s --set size=%s --set procs=%lld --set threads=%lld --set max_range=%s --set ops=%lld --set mix=%s --set access=%s%s",
			 (unsigned long long)seed, cfg->dev.device == DEV_BOTH ?
			 "both" : dev_fx_devtype(cfg), size,
			 (long long)cfg->procs, (long long)cfg->threads, range,
			 (long long)cfg->ops, cfg->mix,
			 cfg->access ? "same" : "other", cdm_common(ctx)->duration ?
			 " --set duration=<as before>" : "");
		cdm_fail(ctx, "seed %llu: %s", (unsigned long long)seed,
			 sh->w[i].msg);
		return;
	}
}

static int stress_run(struct cdm_ctx *ctx, struct dev_fx *fx __unused)
{
	const struct stress_cfg *cfg = cdm_cfg(ctx);
	uint64_t seed = cfg->seed ? (uint64_t)cfg->seed : cdm_seed(ctx);
	int nworkers = cfg->procs * cfg->threads, p, status;
	size_t len = sizeof(struct shared) + nworkers * sizeof(struct worker_report);
	uint64_t duration = cdm_common(ctx)->duration;
	uint64_t deadline = duration ? cdm_now_ns() + duration : 0;
	struct shared *sh;
	pid_t *pids;

	sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	pids = calloc(cfg->procs, sizeof(*pids));
	if (sh == MAP_FAILED || !pids)
		return cdm_error(ctx, "cannot allocate shared results");
	sh->nworkers = nworkers;
	cdm_info(ctx, "seed", "%llu", (unsigned long long)seed);
	for (p = 0; p < cfg->procs; p++) {
		pids[p] = fork();
		if (pids[p] == 0)
			_exit(worker_process(cfg, sh, p, seed, deadline));
	}
	for (p = 0; p < cfg->procs; p++) {
		if (pids[p] < 0)
			continue;
		while (waitpid(pids[p], &status, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(status) && !sh->w[p * cfg->threads].failed) {
			snprintf(sh->w[p * cfg->threads].msg, MSG_LEN,
				 "worker process %d killed by signal %d (SIG%s)",
				 p, WTERMSIG(status), sigabbrev_np(WTERMSIG(status)));
			sh->w[p * cfg->threads].failed = 1;
		}
	}
	report_results(ctx, sh);
	report_failure(ctx, sh, seed);
	if (!cdm_failed(ctx))
		cdm_info(ctx, "integrity", "ok");
	munmap(sh, len);
	free(pids);
	return 0;
}

/* each worker process opens its own devices and maps its own buffers */
struct stress {
	int unused;
};
#define stress_setup NULL
DEV_WORKLOAD(stress, stress, DEV_CAPS_ROUND_TRIP | CDM_CAP_DEV_READ |
	     CDM_CAP_DEV_WRITE | CDM_CAP_EXCLUSIVE | CDM_CAP_FORK_SAFE,
	     DEV_F_NO_OPEN | DEV_F_NO_BUFFER, NULL,
	.name = "stress",
	.summary = "seeded random mix of migrations, faults, forks, exclusive access over processes and threads",
	.verifies = CDM_VERIFY_DATA);
