// SPDX-License-Identifier: GPL-2.0
/*
 * teardown: munmap, MADV_DONTNEED, mprotect and process exit racing with
 * migrations, then proof that every device page came back.
 *
 * What it exercises: the paths that tear down or rewrite page tables while
 * migrate_vma_* (mm/migrate_device.c) holds pages of the same range:
 * zap_pte_range() on device-private entries and device-coherent ptes
 * (munmap, MADV_DONTNEED, exit_mmap), change_pte_range() on them
 * (mprotect), the mmu notifiers that tell the mirror, the device page's
 * final put (dev_pagemap_ops.page_free) and, on process exit, test_hmm's
 * release, which evicts every page of the device (migrate_device_range).
 * Bugs here leak device pages (the chunk never gets them back), resurrect
 * data a zap should have dropped, or WARN/BUG in mm (the runner fails the
 * case on any of those in the kernel log).
 *
 * One race per iteration: a fresh buffer of self-describing data is moved
 * to the device (SNAPSHOT must show every page there), a migrator thread
 * moves random sub-ranges both ways, and the main thread does the operation
 * on a random sub-range. Afterwards the surviving pages are moved home
 * (SNAPSHOT: none left on the device), read by the CPU (data intact; a
 * zapped range reads zero), moved to the device again (SNAPSHOT, device
 * read-back) and the buffer is unmapped. op=exit forks a child that does
 * the same migrations on its own buffer and exits mid-flight, while the
 * parent keeps a witness buffer on the device.
 *
 * Leaks: test_hmm's 6.1 uapi has no usage counter, so the observable is
 * the device's capacity. At the end, with every buffer gone, the case asks
 * the device for all of it: a coherent device has one 256M chunk, so a
 * fresh 256M range must land there page for page (SNAPSHOT); a private
 * device grows a chunk when its free list runs dry and says so in the
 * kernel log ("added new 256 MB chunk (total N chunks"), so a fill of the
 * chunks it has (counted as hmm_dmirror regions in /proc/iomem) must not
 * make it grow. leaked_pages is capacity minus what fitted.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "lib/pattern.h"

#define CHUNK_PAGES 65536ul	/* test_hmm's 256M DEVMEM_CHUNK_SIZE */
#define FILL_STEP 4096ul	/* pages per fill ioctl */
#define FILL_FINE 64ul		/* the last pages before a chunk edge, one by one */
#define MIG_LAT_CAP 2048

enum td_op { OP_MUNMAP, OP_DONTNEED, OP_MPROTECT, OP_EXIT, OP_ALL, NOPS = OP_ALL };

static const char *const op_names[NOPS] = {
	"munmap", "dontneed", "mprotect", "exit",
};

struct td_cfg {
	struct dev_cfg dev;
	int op;
	uint64_t run;
	uint64_t window;
	bool leak_check;
	int64_t hold;
};

static const struct cdm_opt td_opts[] = {
	DEV_OPT_VARIANT,
	{ "op", CDM_T_ENUM, OPT_FIELD(struct td_cfg, op), "all", 0, 0,
	  "munmap|dontneed|mprotect|exit|all", 0,
	  "what races the migrations; all takes them in turn, one per iteration" },
	DEV_OPT_SIZE("1M", 16384, 64.0 * 1048576, "the buffer of one race"),
	DEV_OPT_THP(CDM_OF_KEY_IF_SET),
	{ "run", CDM_T_SIZE, OPT_FIELD(struct td_cfg, run), "64K", 4096,
	  16.0 * 1048576, NULL, CDM_OF_PAGE_ALIGNED,
	  "largest range one migration moves (1 page .. run at random)" },
	{ "window", CDM_T_DURATION, OPT_FIELD(struct td_cfg, window), "5ms",
	  1e5, 10e9, NULL, 0,
	  "the operation lands at a random point in this window after the migrator starts, which runs as long again after it" },
	{ "leak_check", CDM_T_BOOL, OPT_FIELD(struct td_cfg, leak_check), "yes",
	  0, 0, NULL, 0,
	  "at the end, fill the device to its capacity and count the pages that did not fit (256M coherent; private: the chunks /proc/iomem shows)" },
	{ "hold_pages", CDM_T_INT, OPT_FIELD(struct td_cfg, hold), "0", 0,
	  65536, NULL, 0,
	  "proves the leak check is live: keep this many pages on the device through it, which it must report as leaked_pages (0: none)" },
	DEV_OPT_CORRUPT("in the first measured race, if it survived, before the CPU check"),
	CDM_OPT_END
};

/* --- the migrator: random sub-ranges, both ways, until told to stop --- */

enum { MC_MIG, MC_REFUSED, MC_ENOENT, MC_ENOMEM, NMC };

struct mig_lat {
	double v[MIG_LAT_CAP];
	size_t n;
};

struct migrator {
	struct cdm_edev *dev;
	char *base;
	size_t npages;
	size_t run_pages;
	char *io;
	uint64_t rng;
	pthread_t tid;
	bool running;
	bool stop;
	uint64_t ctr[NMC];
	int first_err;		/* an errno nothing explains */
	struct mig_lat to_dev, to_sys;
};

static void lat_keep(struct mig_lat *l, uint64_t ns)
{
	if (l->n < MIG_LAT_CAP)
		l->v[l->n++] = ns / 1e3;
}

static void migrate_random(struct migrator *m)
{
	size_t pg = cdm_page_size();
	size_t page = splitmix64(&m->rng) % m->npages;
	size_t n = 1 + splitmix64(&m->rng) % m->run_pages;
	bool to_dev = splitmix64(&m->rng) & 1;
	struct cdm_estat st;
	int r;

	if (n > m->npages - page)
		n = m->npages - page;
	r = dev_migrate(m->dev, m->base + page * pg, n,
			to_dev ? CDM_TO_DEVICE : CDM_TO_SYSTEM,
			to_dev ? m->io : NULL, &st);
	switch (r) {
	case 0:
		break;
	case -EINVAL:	/* no readable VMA there: unmapped or PROT_NONE */
	case -EFAULT:
		m->ctr[MC_REFUSED]++;
		return;
	case -ENOENT:	/* read-back found a page gone from the mirror */
		m->ctr[MC_ENOENT]++;
		break;
	case -ENOMEM:
		m->ctr[MC_ENOMEM]++;
		return;
	default:
		if (!m->first_err)
			m->first_err = -r;
		return;
	}
	m->ctr[MC_MIG]++;
	lat_keep(to_dev ? &m->to_dev : &m->to_sys, st.ns);
}

static void *migrator_main(void *arg)
{
	struct migrator *m = arg;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE))
		migrate_random(m);
	return NULL;
}

static int migrator_start(struct migrator *m, struct cdm_edev *dev,
			  char *base, size_t npages, size_t run_pages,
			  uint64_t seed)
{
	m->dev = dev;
	m->base = base;
	m->npages = npages;
	m->run_pages = run_pages;
	m->rng = seed;
	m->stop = false;
	m->to_dev.n = m->to_sys.n = 0;
	if (pthread_create(&m->tid, NULL, migrator_main, m))
		return -1;
	m->running = true;
	return 0;
}

static void migrator_stop(struct migrator *m)
{
	if (!m->running)
		return;
	__atomic_store_n(&m->stop, true, __ATOMIC_RELEASE);
	pthread_join(m->tid, NULL);
	m->running = false;
}

/* --- the case --- */

struct span {
	size_t from, to;	/* pages [from, to) of the buffer */
	enum { SP_DATA, SP_ZERO, SP_GONE } what;
};

struct td {
	struct cdm_edev *dev;
	struct cdm_ebuf buf;
	char *io;		/* read-back buffer, size bytes */
	size_t run_pages;
	uint64_t rng;
	struct migrator mig;
	uint64_t races[NOPS];
	uint64_t mig_total[NMC];
	uint64_t evicted, witness_pages;
	bool corrupted;
	int m_op[NOPS], m_to_dev, m_to_sys, m_race, m_mig_rate;
};

static bool td_supported(const void *cfg, char *why, size_t len)
{
	const struct td_cfg *c = cfg;

	if ((uint64_t)c->hold * cdm_page_size() > c->dev.size) {
		snprintf(why, len, "hold_pages=%lld is more than the %llu pages of size",
			 (long long)c->hold,
			 (unsigned long long)(c->dev.size / cdm_page_size()));
		return false;
	}
	return true;
}

static void declare_metrics(struct cdm_ctx *ctx, struct td *t, int op)
{
	char name[32];
	int k;

	for (k = 0; k < NOPS; k++) {
		t->m_op[k] = -1;
		if (op != OP_ALL && op != k)
			continue;
		snprintf(name, sizeof(name), "%s_op", op_names[k]);
		t->m_op[k] = cdm_metric(ctx, name, "us", CDM_LOWER_IS_BETTER);
	}
	t->m_to_dev = cdm_metric(ctx, "to_dev_op", "us", CDM_LOWER_IS_BETTER);
	t->m_to_sys = cdm_metric(ctx, "to_sys_op", "us", CDM_LOWER_IS_BETTER);
	t->m_race = cdm_metric(ctx, "race_iteration", "ms", CDM_LOWER_IS_BETTER);
	t->m_mig_rate = cdm_metric(ctx, "migrations", "migrations/s",
				   CDM_HIGHER_IS_BETTER);
}

static int td_setup(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct td_cfg *cfg = cdm_cfg(ctx);
	struct td *t = fx->priv;

	t->dev = fx->dev;
	t->run_pages = cfg->run / cdm_page_size();
	t->rng = mix64(cdm_seed(ctx), 0x7d);
	t->io = dev_alloc(ctx, fx, cfg->dev.size > cfg->run ? cfg->dev.size :
			  cfg->run);
	t->mig.io = dev_alloc(ctx, fx, cfg->run);
	if (!t->io || !t->mig.io)
		return -1;
	declare_metrics(ctx, t, cfg->op);
	return 0;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { ns / 1000000000ull, ns % 1000000000ull };

	nanosleep(&ts, NULL);
}

static uint64_t rnd(struct td *t, uint64_t n)
{
	return n ? splitmix64(&t->rng) % n : 0;
}

/* --- data checks on a span --- */

static bool check_pages(struct cdm_ctx *ctx, const char *data,
			const struct span *s, uint32_t gen, const char *phase)
{
	size_t pg = cdm_page_size(), i, w;
	struct pat_err e;

	for (i = s->from; i < s->to; i++) {
		const uint64_t *words = (const uint64_t *)
			(data + (i - s->from) * pg);

		if (s->what == SP_DATA) {
			if (pat_check_page(words, pg, cdm_seed(ctx), i, gen, &e))
				continue;
			cdm_fail(ctx, "%s: data differs at page %zu (offset %zu): expected 0x%016llx, got 0x%016llx; %s",
				 phase, e.page, e.offset,
				 (unsigned long long)e.expected,
				 (unsigned long long)e.got, e.what);
			return false;
		}
		for (w = 0; w < pg / 8; w++) {
			if (!words[w])
				continue;
			cdm_fail(ctx, "%s: page %zu (offset %zu) was zapped by MADV_DONTNEED but holds 0x%016llx (data resurrected)",
				 phase, i, i * pg + w * 8,
				 (unsigned long long)words[w]);
			return false;
		}
	}
	return true;
}

static int move_span(struct cdm_ctx *ctx, struct td *t, const struct span *s,
		     bool to_dev, const char *phase)
{
	struct cdm_ebuf v = dev_view(&t->buf, s->from, s->to);
	int r;

	r = dev_migrate(t->dev, v.p, v.npages,
			to_dev ? CDM_TO_DEVICE : CDM_TO_SYSTEM,
			to_dev ? t->io : NULL, NULL);
	if (r == -ENOMEM) {
		t->mig_total[MC_ENOMEM]++;
		cdm_info(ctx, "enomem", "MIGRATE_TO_DEV returned ENOMEM %s", phase);
		cdm_fail(ctx, "device memory exhausted (ENOMEM) %s", phase);
		return 0;
	}
	if (r)
		return cdm_error(ctx, "MIGRATE_TO_%s %s (pages %zu..%zu): %s",
				 to_dev ? "DEV" : "SYS", phase, s->from,
				 s->to - 1, dev_strerror(t->dev, r));
	return dev_check_where(ctx, t->dev, &v, to_dev ? DEV_ON_DEVICE :
			       DEV_IN_SYSTEM, phase, NULL);
}

/* junk through the device into a surviving page, once, in a measured race */
static int corrupt(struct cdm_ctx *ctx, struct td *t, const struct span *s)
{
	const struct td_cfg *cfg = cdm_cfg(ctx);

	if (t->corrupted || cdm_warming(ctx) || cfg->dev.corrupt < 0 ||
	    (size_t)cfg->dev.corrupt < s->from ||
	    (size_t)cfg->dev.corrupt >= s->to)
		return 0;
	t->corrupted = true;
	/* the page is in system RAM now: WRITE faults it, never a device pfn */
	return dev_corrupt_page(ctx, t->dev, &t->buf, cfg->dev.corrupt);
}

/*
 * After a race: home (none left on the device), CPU check, to the device
 * (every page there, device read-back check).
 */
static int verify_span(struct cdm_ctx *ctx, struct td *t, const struct span *s,
		       uint32_t gen, const char *op)
{
	char phase[96];

	if (s->what == SP_GONE || s->from == s->to)
		return 0;
	snprintf(phase, sizeof(phase), "after the %s race, MIGRATE_TO_SYS", op);
	if (move_span(ctx, t, s, false, phase) < 0 || cdm_failed(ctx))
		return cdm_failed(ctx) ? 0 : -1;
	if (corrupt(ctx, t, s) < 0)
		return -1;
	snprintf(phase, sizeof(phase), "CPU read after the %s race", op);
	if (!check_pages(ctx, (char *)t->buf.p + s->from * cdm_page_size(), s, gen,
			 phase))
		return 0;
	snprintf(phase, sizeof(phase), "after the %s race, MIGRATE_TO_DEV", op);
	if (move_span(ctx, t, s, true, phase) < 0 || cdm_failed(ctx))
		return cdm_failed(ctx) ? 0 : -1;
	snprintf(phase, sizeof(phase), "device read-back after the %s race", op);
	check_pages(ctx, t->io, s, gen, phase);
	return 0;
}

/* a fresh buffer of generation gen, every page on the device */
static int fresh_buffer(struct cdm_ctx *ctx, struct td *t, uint32_t gen,
			bool dontfork)
{
	const struct td_cfg *cfg = cdm_cfg(ctx);
	struct span all;

	if (dev_buf_map(ctx, t->dev, &t->buf, cfg->dev.size, cfg->dev.thp))
		return -1;
	if (dontfork && madvise(t->buf.base, t->buf.base_len, MADV_DONTFORK))
		return cdm_error(ctx, "madvise(MADV_DONTFORK): %s", strerror(errno));
	pat_fill(t->buf.p, t->buf.len, cdm_seed(ctx), gen);
	all = (struct span){ 0, t->buf.npages, SP_DATA };
	if (move_span(ctx, t, &all, true, "before the race") < 0)
		return -1;
	if (!cdm_failed(ctx))
		check_pages(ctx, t->io, &all, gen, "device read-back before the race");
	return cdm_failed(ctx) ? -1 : 0;
}

static void collect_migrator(struct cdm_ctx *ctx, struct td *t,
			     uint64_t race_ns)
{
	struct migrator *m = &t->mig;
	size_t i;
	int k;

	for (i = 0; i < m->to_dev.n; i++)
		cdm_sample(ctx, t->m_to_dev, m->to_dev.v[i]);
	for (i = 0; i < m->to_sys.n; i++)
		cdm_sample(ctx, t->m_to_sys, m->to_sys.v[i]);
	cdm_sample(ctx, t->m_mig_rate, m->ctr[MC_MIG] / (race_ns / 1e9));
	for (k = 0; k < NMC; k++) {
		t->mig_total[k] += m->ctr[k];
		m->ctr[k] = 0;
	}
	if (m->first_err) {
		cdm_fail(ctx, "a racing migration failed with %s",
			 strerror(m->first_err));
		m->first_err = 0;
	}
}

/* pick [a, b) inside the buffer, at least one page */
static void pick_range(struct td *t, size_t *a, size_t *b)
{
	size_t n = t->buf.npages;

	*a = rnd(t, n);
	*b = *a + 1 + rnd(t, n - *a);
}

static uint64_t timed_op(int (*fn)(void *, size_t, int), void *p, size_t len,
			 int arg, int *err)
{
	uint64_t t0 = cdm_now_ns();

	*err = fn(p, len, arg) ? errno : 0;
	return cdm_now_ns() - t0;
}

static int do_munmap(void *p, size_t len, int arg __unused)
{
	return munmap(p, len);
}

static int do_dontneed(void *p, size_t len, int arg __unused)
{
	return madvise(p, len, MADV_DONTNEED);
}

static int do_mprotect(void *p, size_t len, int prot)
{
	return mprotect(p, len, prot);
}

/*
 * The operation on [a, b) at a random point of the window, with the
 * migrator running; returns the spans left to check. mprotect cycles
 * read-only, no access and read-write a few times.
 */
static int race_vma_op(struct cdm_ctx *ctx, struct td *t, int op,
		       struct span *sp)
{
	const struct td_cfg *cfg = cdm_cfg(ctx);
	static const int prots[] = { PROT_READ, PROT_NONE,
				     PROT_READ | PROT_WRITE };
	size_t pg = cdm_page_size(), a, b, i;
	char *p = t->buf.p;
	uint64_t ns[3 * ARRAY_SIZE(prots)];
	size_t nns = 0;
	int err = 0;

	pick_range(t, &a, &b);
	sleep_ns(rnd(t, cfg->window));
	if (op == OP_MUNMAP) {
		ns[nns++] = timed_op(do_munmap, p + a * pg,
				     (b - a) * pg, 0, &err);
	} else if (op == OP_DONTNEED) {
		ns[nns++] = timed_op(do_dontneed, p + a * pg,
				     (b - a) * pg, 0, &err);
	} else {
		for (i = 0; i < ARRAY_SIZE(ns) && !err; i++) {
			ns[nns++] = timed_op(do_mprotect, p + a * pg,
					     (b - a) * pg,
					     prots[i % ARRAY_SIZE(prots)], &err);
			sleep_ns(cfg->window / ARRAY_SIZE(ns));
		}
	}
	sleep_ns(cfg->window - rnd(t, cfg->window));
	migrator_stop(&t->mig);
	if (err)
		return cdm_error(ctx, "%s of pages %zu..%zu: %s", op_names[op],
				 a, b - 1, strerror(err));
	for (i = 0; i < nns; i++)
		cdm_sample(ctx, t->m_op[op], ns[i] / 1e3);
	sp[0] = (struct span){ 0, a, SP_DATA };
	sp[1] = (struct span){ a, b, op == OP_MUNMAP ? SP_GONE :
			       op == OP_DONTNEED ? SP_ZERO : SP_DATA };
	sp[2] = (struct span){ b, t->buf.npages, SP_DATA };
	return 0;
}

/* --- op=exit: a child that exits with migrations in flight --- */

static void __printf(2, 3) child_say(int wfd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(msg) - 2)
		n = sizeof(msg) - 2;
	msg[n++] = '\n';
	if (write(wfd, msg, n) < 0)
		_exit(5);
}

/* the child: own device file, own buffer, its migrator racing its exit */
static void __attribute__((noreturn))
child_main(struct cdm_ctx *ctx, struct td *t, int wfd, uint32_t gen)
{
	const struct td_cfg *cfg = cdm_cfg(ctx);
	size_t pg = cdm_page_size(), n = cfg->dev.size / pg, i;
	struct migrator m = { 0 };
	struct cdm_edev *dev;
	char why[256] = "";
	bool skip;
	char *p;

	/* the engine is FORK_SAFE (a needed cap): a fresh open on our mm */
	dev_open_raw(&cfg->dev, cfg->dev.device, cfg->dev.instance, &dev,
		     &skip, why, sizeof(why));
	p = mmap(NULL, cfg->dev.size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!dev || p == MAP_FAILED) {
		child_say(wfd, "child setup: %s", !dev ? why : strerror(errno));
		_exit(2);
	}
	madvise(p, cfg->dev.size, MADV_NOHUGEPAGE);
	pat_fill(p, cfg->dev.size, cdm_seed(ctx), gen);
	if (dev_migrate(dev, p, n, CDM_TO_DEVICE, t->io, NULL) ||
	    dev_loc(dev, p, n, (uint8_t *)t->io)) {
		child_say(wfd, "child: MIGRATE_TO_DEV or SNAPSHOT failed");
		_exit(2);
	}
	for (i = 0; i < n; i++) {
		if (cdm_pg_on_device((uint8_t)t->io[i]))
			continue;
		child_say(wfd, "child: page %zu (offset %zu) not on the device after MIGRATE_TO_DEV (snapshot 0x%02x)",
			  i, i * pg, (uint8_t)t->io[i]);
		_exit(3);
	}
	m.io = t->mig.io;
	if (migrator_start(&m, dev, p, n, t->run_pages, t->rng ^ gen)) {
		child_say(wfd, "child: pthread_create failed");
		_exit(2);
	}
	sleep_ns(rnd(t, cfg->window));
	child_say(wfd, "exit");
	/* no munmap, no close, no join: the kernel cleans up mid-flight */
	_exit(0);
}

/* read the child's one line; "exit" means it is about to _exit */
static int child_line(int rfd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = read(rfd, buf + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return n;
}

static int reap_child(struct cdm_ctx *ctx, struct td *t, pid_t pid, int rfd)
{
	char line[256];
	uint64_t t0;
	int status;

	child_line(rfd, line, sizeof(line));
	t0 = cdm_now_ns();
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (strcmp(line, "exit")) {
		cdm_fail(ctx, "exit race: %s", line[0] ? line :
			 "child died before its race");
		return 0;
	}
	cdm_sample(ctx, t->m_op[OP_EXIT], (cdm_now_ns() - t0) / 1e3);
	if (WIFSIGNALED(status))
		cdm_fail(ctx, "exit race: the child was killed by signal %d (%s) while exiting",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status))
		cdm_fail(ctx, "exit race: the child exited with status %d",
			 WEXITSTATUS(status));
	return 0;
}

/*
 * The witness: the first half stays put on the device while the child
 * exits (closing a test_hmm file evicts every page of the device on this
 * kernel, so it may come home, intact), the parent's migrator races the
 * second half.
 */
static int race_exit(struct cdm_ctx *ctx, struct td *t, uint32_t gen,
		     struct span *sp)
{
	struct dev_where w;
	struct cdm_ebuf half;
	int pfd[2], r = 0;
	pid_t pid;

	if (pipe(pfd))
		return cdm_error(ctx, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return cdm_error(ctx, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(pfd[0]);
		child_main(ctx, t, pfd[1], gen);
	}
	close(pfd[1]);
	if (migrator_start(&t->mig, t->dev, (char *)t->buf.p +
			   t->buf.npages / 2 * cdm_page_size(),
			   t->buf.npages - t->buf.npages / 2,
			   t->run_pages, t->rng ^ gen))
		r = cdm_error(ctx, "pthread_create failed");
	reap_child(ctx, t, pid, pfd[0]);
	close(pfd[0]);
	migrator_stop(&t->mig);
	half = dev_view(&t->buf, 0, t->buf.npages / 2);
	if (!r && !dev_where(t->dev, &half, (uint8_t *)t->io, &w)) {
		t->evicted += half.npages - w.local;
		t->witness_pages += half.npages;
	}
	sp[0] = (struct span){ 0, t->buf.npages, SP_DATA };
	sp[1] = sp[2] = (struct span){ 0, 0, SP_GONE };
	return r;
}

static int td_race(struct cdm_ctx *ctx, struct td *t, int op, uint32_t gen)
{
	struct span sp[3];
	uint64_t t0 = cdm_now_ns(), ns;
	int r, i;

	if (fresh_buffer(ctx, t, gen, op == OP_EXIT) < 0)
		return cdm_failed(ctx) ? 0 : -1;
	if (op == OP_EXIT) {
		r = race_exit(ctx, t, gen, sp);
	} else {
		if (migrator_start(&t->mig, t->dev, t->buf.p, t->buf.npages,
				   t->run_pages, t->rng ^ gen))
			return cdm_error(ctx, "pthread_create failed");
		r = race_vma_op(ctx, t, op, sp);
	}
	ns = cdm_now_ns() - t0;
	collect_migrator(ctx, t, ns);
	for (i = 0; !r && i < 3 && !cdm_failed(ctx); i++)
		r = verify_span(ctx, t, &sp[i], gen, op_names[op]);
	t->races[op]++;
	cdm_sample(ctx, t->m_race, (cdm_now_ns() - t0) / 1e6);
	dev_buf_unmap(t->dev, &t->buf);
	return r;
}

/* --- the leak check --- */

/*
 * How many chunks does our private device have? test_hmm logs "added new
 * 256 MB chunk (total N chunks" per chunk, without naming the device: at
 * boot one per minor in minor order (all say total 1), later one per growth
 * (total N of the device that grew). Replaying the log gives each private
 * minor's count; a growth while both private minors have the same count is
 * ambiguous, so the replay keeps every consistent (count0, count1) pair.
 * Our own marker line, left after each check, pins a minor's count.
 */
#define MAX_STATES 32

struct chunk_states {
	long c[MAX_STATES][2];
	int n;
	int booted;		/* boot lines seen (one per minor) */
	bool broken;
};

static void states_boot(struct chunk_states *cs)
{
	int i, d = cs->booted++;

	for (i = 0; d < 2 && i < cs->n; i++)
		cs->c[i][d] = 1;
}

static void states_add(struct chunk_states *cs, long a, long b)
{
	int i;

	for (i = 0; i < cs->n; i++)
		if (cs->c[i][0] == a && cs->c[i][1] == b)
			return;
	if (cs->n == MAX_STATES) {
		cs->broken = true;
		return;
	}
	cs->c[cs->n][0] = a;
	cs->c[cs->n++][1] = b;
}

static void states_grow(struct chunk_states *cs, long total)
{
	struct chunk_states old = *cs;
	int i;

	cs->n = 0;
	for (i = 0; i < old.n; i++) {
		if (old.c[i][0] == total - 1)
			states_add(cs, total, old.c[i][1]);
		if (old.c[i][1] == total - 1)
			states_add(cs, old.c[i][0], total);
	}
	if (!cs->n)
		cs->broken = true;	/* lost records: the replay cannot go on */
}

static void states_pin(struct chunk_states *cs, int minor, long n)
{
	struct chunk_states old = *cs;
	int i;

	cs->n = 0;
	for (i = 0; i < old.n; i++)
		states_add(cs, minor ? old.c[i][0] : n, minor ? n : old.c[i][1]);
}

static void replay_record(struct chunk_states *cs, const char *rec)
{
	const char *s = strstr(rec, "chunk (total ");
	int minor;
	long n;

	if (strstr(rec, "added new ") && s) {
		n = strtol(s + 13, NULL, 10);
		if (n == 1)
			states_boot(cs);
		else
			states_grow(cs, n);
		return;
	}
	s = strstr(rec, "cdmbench: hmm_dmirror");
	if (s && sscanf(s, "cdmbench: hmm_dmirror%d holds %ld chunks", &minor,
			&n) == 2 && minor >= 0 && minor < 2)
		states_pin(cs, minor, n);
}

/* our minor's chunk count: [*lo, *hi]; false if the log cannot say */
static bool private_chunks(int kfd, int minor, long *lo, long *hi)
{
	struct chunk_states cs = { .n = 1 };
	char rec[2048];
	ssize_t r;
	int i;

	for (;;) {
		r = read(kfd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EPIPE) {
			cs.broken = true;	/* records overwritten */
			continue;
		}
		if (r <= 0)
			break;
		rec[r] = '\0';
		replay_record(&cs, rec);
	}
	if (cs.broken || cs.booted < 2 || minor < 0 || minor > 1)
		return false;
	*lo = *hi = cs.c[0][minor];
	for (i = 1; i < cs.n; i++) {
		if (cs.c[i][minor] < *lo)
			*lo = cs.c[i][minor];
		if (cs.c[i][minor] > *hi)
			*hi = cs.c[i][minor];
	}
	return true;
}

/* hmm_dmirror regions in /proc/iomem: chunks of every private device */
static long iomem_chunks(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];
	long n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "hmm_dmirror") != NULL;
	fclose(f);
	return n;
}

/* the chunk total of the last "added new ... chunk" record since last call */
static long kmsg_new_chunk(int kfd)
{
	char rec[2048];
	long total = 0;
	ssize_t r;

	for (;;) {
		const char *s;

		r = read(kfd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EPIPE)
			continue;	/* overwritten records: read on */
		if (r <= 0)
			break;
		rec[r] = '\0';
		s = strstr(rec, "chunk (total ");
		if (strstr(rec, "added new ") && s)
			total = strtol(s + 13, NULL, 10);
	}
	return total;
}

/* pin what the check learnt, for the next case's replay */
static void leave_marker(int minor, long chunks)
{
	char msg[96];
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC), n;

	if (fd < 0)
		return;
	n = snprintf(msg, sizeof(msg), "<5>cdmbench: hmm_dmirror%d holds %ld chunks\n",
		     minor, chunks);
	if (write(fd, msg, n) < 0)
		n = 0;
	close(fd);
}

struct fill {
	struct cdm_edev *dev;
	char *p;
	size_t cap;		/* pages mapped for the fill */
	size_t done;		/* pages migrated so far */
	char *io;
};

static int fill_step(struct cdm_ctx *ctx, struct fill *f, size_t n)
{
	int r;

	r = dev_migrate(f->dev, f->p + f->done * cdm_page_size(), n,
			CDM_TO_DEVICE, f->io, NULL);
	/* pages that found no free device page stay behind: ENOENT, ENOMEM */
	if (r && r != -ENOMEM && r != -ENOENT)
		return cdm_error(ctx, "leak check: MIGRATE_TO_DEV at page %zu: %s",
				 f->done, dev_strerror(f->dev, r));
	f->done += n;
	return 0;
}

/* coherent: one chunk; every page of a fresh 256M range must land */
static int leak_coherent(struct cdm_ctx *ctx, struct fill *f)
{
	struct cdm_ebuf v = { .p = f->p, .npages = CHUNK_PAGES,
			      .len = CHUNK_PAGES * cdm_page_size() };
	uint8_t *snap = malloc(CHUNK_PAGES);
	struct dev_where w;
	int r;

	if (!snap)
		return cdm_error(ctx, "out of memory for the leak check");
	while (f->done < CHUNK_PAGES)
		if (fill_step(ctx, f, FILL_STEP) < 0)
			goto fail;
	r = dev_where(f->dev, &v, snap, &w);
	if (r) {
		cdm_error(ctx, "leak check: SNAPSHOT: %s", dev_strerror(f->dev, r));
		goto fail;
	}
	free(snap);
	cdm_info(ctx, "leak_check", "fill: a fresh 256M range migrated to the coherent device (its one chunk); SNAPSHOT counts pages that did not land");
	cdm_info(ctx, "leaked_pages", "%zu", CHUNK_PAGES - w.local);
	if (w.local != CHUNK_PAGES)
		cdm_fail(ctx, "%zu device pages leaked: only %zu of the coherent device's %lu pages could be filled after teardown (first page that stayed in system RAM: %zu)",
			 CHUNK_PAGES - w.local, w.local, CHUNK_PAGES,
			 w.first_off_device);
	return 0;
fail:
	free(snap);
	return -1;
}

static void leaked_range(struct cdm_ctx *ctx, const struct fill *f,
			 size_t before, long had)
{
	size_t cap = had * CHUNK_PAGES;
	char n[48], at[48];

	if (f->done - before == 1) {
		snprintf(n, sizeof(n), "%zu", cap - before);
		snprintf(at, sizeof(at), "%zu", before);
	} else {
		snprintf(n, sizeof(n), "%zu..%zu", cap - f->done + 1,
			 cap - before);
		snprintf(at, sizeof(at), "%zu..%zu", before, f->done - 1);
	}
	cdm_info(ctx, "leaked_pages", "%s", n);
	cdm_fail(ctx, "%s device pages leaked: the private device has %ld chunk%s (%zu pages) but its free list ran dry after %s pages of a fill with nothing else on the device",
		 n, had, had == 1 ? "" : "s", cap, at);
}

/*
 * private: fill the device's chunks (hi, the most the log allows) and
 * watch the log. A new chunk saying "total N" means ours had N-1 and its
 * free list ran dry after (N-1) * 65536 - leaked pages. Steps end on chunk
 * edges and the last FILL_FINE pages before each edge go one by one, so a
 * small leak is counted exactly.
 */
static int leak_private(struct cdm_ctx *ctx, struct fill *f, int kfd,
			int minor, long lo, long hi)
{
	size_t before = 0;
	long total = 0;

	while (f->done < f->cap && !total) {
		size_t edge = (f->done / CHUNK_PAGES + 1) * CHUNK_PAGES;
		size_t left = edge - f->done;
		size_t n = left > FILL_FINE ? (left - FILL_FINE < FILL_STEP ?
					       left - FILL_FINE : FILL_STEP) : 1;

		before = f->done;
		if (fill_step(ctx, f, n) < 0)
			return -1;
		total = kmsg_new_chunk(kfd);
	}
	cdm_info(ctx, "leak_check", "fill: %zu pages (the %ld chunk%s /dev/hmm_dmirror%d has%s, from the kernel log) migrated to the private device; a new chunk logged before they are full means pages never came back",
		 f->cap, hi, hi == 1 ? "" : "s", minor,
		 lo == hi ? "" : " at most");
	if (!total) {
		leave_marker(minor, hi);
		cdm_info(ctx, "leaked_pages", "0");
		return 0;
	}
	leave_marker(minor, total);
	if (before >= (size_t)(total - 1) * CHUNK_PAGES) {
		/* the log's ambiguity resolved: ours had fewer chunks */
		cdm_info(ctx, "leaked_pages", "0");
		cdm_info(ctx, "leak_check_note", "the device had %ld chunks; filling past them grew it to %ld",
			 total - 1, total);
		return 0;
	}
	leaked_range(ctx, f, before, total - 1);
	return 0;
}

/* how many pages to fill: [lo, hi] chunks of our device */
static bool fill_size(struct cdm_ctx *ctx, int kfd, int minor, long *lo,
		      long *hi)
{
	const struct td_cfg *cfg = cdm_cfg(ctx);

	if (cfg->dev.device == DEV_COHERENT) {
		*lo = *hi = 1;
		return true;
	}
	if (kfd >= 0 && private_chunks(kfd, minor, lo, hi))
		return true;
	/* the log lost its early records: every private chunk is the bound */
	*lo = 1;
	*hi = iomem_chunks();
	cdm_info(ctx, "leak_check_note", "kernel log incomplete: the fill uses every hmm_dmirror chunk in /proc/iomem as the bound");
	return *hi > 0;
}

/* hold_pages: device pages the fill must find missing */
static int hold_pages(struct cdm_ctx *ctx, struct td *t, struct cdm_ebuf *b)
{
	const struct td_cfg *cfg = cdm_cfg(ctx);
	struct span all;

	if (!cfg->hold)
		return 0;
	if (dev_buf_map(ctx, t->dev, b, cfg->hold * cdm_page_size(), false))
		return -1;
	all = (struct span){ 0, b->npages, SP_DATA };
	t->buf = *b;
	pat_fill(b->p, b->len, cdm_seed(ctx), 1);
	if (move_span(ctx, t, &all, true, "holding pages for the leak check") < 0)
		return -1;
	memset(&t->buf, 0, sizeof(t->buf));
	cdm_log(ctx, "hold_pages: %zu pages stay on the device through the leak check",
		b->npages);
	return 0;
}

static int leak_check(struct cdm_ctx *ctx, struct td *t)
{
	const struct td_cfg *cfg = cdm_cfg(ctx);
	int minor = t->dev->info.index;
	struct fill f = { .dev = t->dev };
	struct cdm_ebuf held = { 0 };
	int kfd = -1, r;
	long lo, hi;

	if (!cfg->leak_check)
		return 0;
	if (cfg->dev.engine != DEV_ENGINE_DMIRROR) {
		/* capacity comes from test_hmm's chunks and kernel log lines */
		cdm_info(ctx, "leaked_pages", "unknown: the leak check knows test_hmm's capacity only");
		return 0;
	}
	if (cfg->dev.device == DEV_PRIVATE) {
		kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (kfd < 0) {
			cdm_info(ctx, "leaked_pages", "unknown: /dev/kmsg: %s",
				 strerror(errno));
			return 0;
		}
	}
	if (!fill_size(ctx, kfd, minor, &lo, &hi)) {
		cdm_info(ctx, "leaked_pages", "unknown: no chunk count for /dev/hmm_dmirror%d",
			 minor);
		goto out;
	}
	f.cap = hi * CHUNK_PAGES;
	/* MIGRATE_TO_DEV copies each step back: one step's worth */
	f.io = malloc(FILL_STEP * cdm_page_size());
	f.p = mmap(NULL, f.cap * cdm_page_size(), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!f.io || f.p == MAP_FAILED) {
		cdm_info(ctx, "leaked_pages", "unknown: no memory for the fill");
		f.p = NULL;
		goto out;
	}
	madvise(f.p, f.cap * cdm_page_size(), MADV_NOHUGEPAGE);
	r = hold_pages(ctx, t, &held);
	if (!r)
		r = cfg->dev.device == DEV_COHERENT ? leak_coherent(ctx, &f) :
			leak_private(ctx, &f, kfd, minor, lo, hi);
	dev_buf_unmap(t->dev, &held);
	munmap(f.p, f.cap * cdm_page_size());
	free(f.io);
	if (kfd >= 0)
		close(kfd);
	return r;
out:
	free(f.io);
	if (kfd >= 0)
		close(kfd);
	return 0;
}

static void report(struct cdm_ctx *ctx, struct td *t)
{
	static const char *const keys[NMC] = {
		"migrations", "migrations_refused", "to_dev_enoent", "enomem",
	};
	char buf[160] = "";
	size_t len = 0;
	int k;

	for (k = 0; k < NOPS; k++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s=%llu",
				len ? " " : "", op_names[k],
				(unsigned long long)t->races[k]);
	cdm_info(ctx, "races", "%s", buf);
	for (k = 0; k < NMC; k++)
		cdm_info(ctx, keys[k], "%llu", (unsigned long long)t->mig_total[k]);
	if (t->witness_pages)
		cdm_info(ctx, "evicted_on_exit", "%llu of %llu witness pages came home when a child's device file closed",
			 (unsigned long long)t->evicted,
			 (unsigned long long)t->witness_pages);
}

static int td_run(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct td_cfg *cfg = cdm_cfg(ctx);
	struct td *t = fx->priv;
	uint32_t gen = 0;

	while (cdm_iter(ctx)) {
		int op = cfg->op == OP_ALL ? (int)(gen % NOPS) : cfg->op;

		if (td_race(ctx, t, op, ++gen) < 0)
			return -1;
	}
	report(ctx, t);
	if (cdm_failed(ctx))
		return 0;
	if (leak_check(ctx, t) < 0)
		return -1;
	if (!cdm_failed(ctx))
		cdm_info(ctx, "integrity", "ok");
	return 0;
}

static void td_teardown(struct cdm_ctx *ctx __unused, struct dev_fx *fx)
{
	struct td *t = fx->priv;

	migrator_stop(&t->mig);
	dev_buf_unmap(t->dev, &t->buf);
}

DEV_WORKLOAD(teardown, td, DEV_CAPS_ROUND_TRIP | CDM_CAP_FORK_SAFE,
	     DEV_F_NO_BUFFER, td_teardown,
	.name = "teardown",
	.summary = "munmap/DONTNEED/mprotect/exit racing migrations; no leaked device pages",
	.verifies = CDM_VERIFY_DATA | CDM_VERIFY_PLACEMENT,
	.tamper = "corrupt_page", .tamper_value = "0");
