// SPDX-License-Identifier: GPL-2.0
/*
 * fork-cow: fork() while the buffer is device-resident, then copy-on-write.
 *
 * fork() copies device entries into the child: copy_nonpresent_pte() turns
 * DEVICE_PRIVATE entries read-only in both processes, and copy_present_pte()
 * write-protects mapped DEVICE_COHERENT pages like any anonymous page. The
 * first CPU write then goes through do_wp_page(): a private page is first
 * faulted home by migrate_to_ram() (dmirror_devmem_fault(), which migrates
 * it for both processes through the rmap) and then copied; a coherent page
 * is copied straight from device memory into a new system page. The second
 * writer may find itself the only user and reuse the page in place.
 *
 * Each iteration runs the same exchange twice, with the buffer in system
 * RAM (the baseline) and on the device: fork, one process writes its own
 * generation over every page (timing the first store to each page), then
 * the other does, in the order the `order` option says. Each checks,
 * page by page right after its first store, that its copy still holds the
 * pre-fork data (the other's writes must not show: isolation both ways),
 * then its whole buffer, and the first writer checks its data again after
 * the second wrote. The child reports through a socket; a child killed by
 * a signal fails the case with the signal's name. SNAPSHOT from each
 * process's own dmirror file shows where its view of the pages lives.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "lib/pattern.h"

enum { ORDER_PARENT_FIRST, ORDER_CHILD_FIRST };
enum { ROLE_PARENT, ROLE_CHILD };

struct fc_cfg {
	struct dev_cfg dev;
	int order;
	bool crash_child;
};

static const struct cdm_opt fc_opts[] = {
	DEV_OPT_VARIANT,
	DEV_OPT_SIZE("1M", 4096, 268435456.0,
		     "buffer shared by fork() and written by both processes"),
	DEV_OPT_THP(CDM_OF_KEY_IF_SET),
	{ "order", CDM_T_ENUM, OPT_FIELD(struct fc_cfg, order), "parent-first",
	  0, 0, "parent-first|child-first", 0,
	  "who writes first after fork: the first writer pays for the copy (and, on private memory, the fault home); the second may reuse the page" },
	DEV_OPT_CORRUPT("before fork"),
	{ "crash_child", CDM_T_BOOL, OPT_FIELD(struct fc_cfg, crash_child), "no",
	  0, 0, NULL, 0,
	  "proves a child crash is caught: the child dies of SIGSEGV after its writes, in the device round" },
	CDM_OPT_END
};

/* what one process found: the child sends this through the socket */
struct fc_report {
	int32_t ok;
	char msg[480];
	uint64_t faults;		/* during its write pass */
	uint64_t fork_ns;		/* parent only */
	int32_t where_ok;
	struct dev_where before;	/* own view, just before writing */
	struct dev_where after;		/* own view, after writing */
};

/* one process's part of the exchange */
struct fc_side {
	const struct cdm_ebuf *buf;
	uint64_t seed;
	uint32_t base, mine, other;
	struct cdm_edev *dev;		/* a device open on this process's mm */
	uint8_t *snap;
	double *lat;
	const char *who;
	struct fc_report rep;
};

struct fc {
	struct cdm_edev *dev;
	struct cdm_ebuf buf;
	char *back;
	uint8_t *snap;
	double *lat;			/* the parent's samples */
	double *clat;			/* the child's, as received */
	uint32_t gen;
	int m_cow[2][2];		/* [role][on device] */
	int m_fork[2];
	struct fc_report last[2];	/* the device round's reports */
};

static void fc_metrics(struct cdm_ctx *ctx, struct fc *f)
{
	static const char *const role[2] = { "parent", "child" };
	static const char *const where[2] = { "system", "device" };
	char name[48];
	int r, d;

	for (d = 0; d < 2; d++) {
		for (r = 0; r < 2; r++) {
			snprintf(name, sizeof(name), "cow_%s_%s_ns", role[r], where[d]);
			f->m_cow[r][d] = cdm_metric(ctx, name, "ns", CDM_LOWER_IS_BETTER);
		}
		snprintf(name, sizeof(name), "fork_%s_us", where[d]);
		f->m_fork[d] = cdm_metric(ctx, name, "us", CDM_LOWER_IS_BETTER);
	}
}

static int fc_setup(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct fc_cfg *cfg = cdm_cfg(ctx);
	struct fc *f = fx->priv;
	size_t n = fx->buf.npages;

	f->dev = fx->dev;
	f->buf = fx->buf;
	f->back = dev_alloc(ctx, fx, cfg->dev.size);
	f->snap = dev_alloc(ctx, fx, n);
	f->lat = dev_alloc(ctx, fx, n * sizeof(*f->lat));
	f->clat = dev_alloc(ctx, fx, n * sizeof(*f->clat));
	if (!f->back || !f->snap || !f->lat || !f->clat)
		return -1;
	fc_metrics(ctx, f);
	cdm_info(ctx, "order", "%s",
		 cfg->order == ORDER_CHILD_FIRST ? "child-first" : "parent-first");
	return 0;
}

/* --- one side of the exchange: no cdm_* calls, the child runs it too --- */

static uint64_t faults_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static void side_fail(struct fc_side *s, const char *fmt, ...) __printf(2, 3);
static void side_fail(struct fc_side *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->rep.ok)
		return;
	s->rep.ok = 0;
	va_start(ap, fmt);
	vsnprintf(s->rep.msg, sizeof(s->rep.msg), fmt, ap);
	va_end(ap);
}

/* whose data a word is, for the message */
static const char *side_whose(const struct fc_side *s, size_t page,
			      size_t word, uint64_t got)
{
	if (got == pat_word(s->seed, page, word, s->other))
		return "the other process's write: COW isolation broken";
	if (got == pat_word(s->seed, page, word, s->mine))
		return "this process's own later data";
	return "neither process's data";
}

/*
 * Right after the first store to a page (word 1), the rest of this
 * process's copy must still hold the pre-fork data.
 */
static bool side_page_intact(struct fc_side *s, size_t page)
{
	size_t pg = cdm_page_size(), nw = pg / 8, w;
	const uint64_t *p = (const uint64_t *)((char *)s->buf->p + page * pg);

	for (w = 0; w < nw; w++) {
		uint64_t want = pat_word(s->seed, page, w, s->base);

		if (w == 1 || p[w] == want)
			continue;
		side_fail(s, "%s, first write after fork: page %zu (offset %zu) holds 0x%016llx, expected the pre-fork 0x%016llx: %s",
			  s->who, page, page * pg + w * 8,
			  (unsigned long long)p[w], (unsigned long long)want,
			  side_whose(s, page, w, p[w]));
		return false;
	}
	return true;
}

/* the first store to every page, timed, then the page's new generation */
static void side_write(struct fc_side *s)
{
	size_t pg = cdm_page_size(), i;
	uint64_t flt = faults_now();

	for (i = 0; i < s->buf->npages; i++) {
		char *page = (char *)s->buf->p + i * pg;
		volatile uint64_t *w = (volatile uint64_t *)page;
		uint64_t v = pat_word(s->seed, i, 1, s->mine);
		uint64_t t0 = cdm_now_ns();

		w[1] = v;
		s->lat[i] = (double)(cdm_now_ns() - t0);
		side_page_intact(s, i);
		pat_fill_page(page, pg, s->seed, i, s->mine);
	}
	s->rep.faults = faults_now() - flt;
}

static bool side_check(struct fc_side *s, const char *phase)
{
	struct pat_err e;

	if (pat_check(s->buf->p, s->buf->len, s->seed, s->mine, &e))
		return true;
	side_fail(s, "%s, %s: data differs at page %zu (offset %zu): expected 0x%016llx, got 0x%016llx; %s",
		  s->who, phase, e.page, e.offset,
		  (unsigned long long)e.expected, (unsigned long long)e.got,
		  e.what);
	return false;
}

static void side_where(struct fc_side *s, struct dev_where *w)
{
	int r;

	if (!s->dev)
		return;
	r = dev_where(s->dev, s->buf, s->snap, w);
	if (r)
		side_fail(s, "%s: SNAPSHOT failed: %s", s->who,
			  dev_strerror(s->dev, r));
	else
		s->rep.where_ok = 1;
}

static void side_turn(struct fc_side *s)
{
	side_where(s, &s->rep.before);
	side_write(s);
	side_check(s, "after its own writes");
	side_where(s, &s->rep.after);
}

/* --- the child --- */

/* all n bytes one way (out: send, else receive), EINTR retried */
static bool xfer_all(int sock, void *p, size_t n, bool out)
{
	char *c = p;

	while (n) {
		ssize_t r = out ? send(sock, c, n, MSG_NOSIGNAL) :
				  recv(sock, c, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		c += r;
		n -= r;
	}
	return true;
}

static bool send_all(int sock, const void *p, size_t n)
{
	return xfer_all(sock, (void *)p, n, true);
}

static bool recv_all(int sock, void *p, size_t n)
{
	return xfer_all(sock, p, n, false);
}

static bool wait_go(int sock)
{
	char go;

	return recv_all(sock, &go, 1);
}

static bool send_go(int sock)
{
	return send_all(sock, "g", 1);
}

static bool send_report(int sock, struct fc_side *s, bool samples)
{
	return send_all(sock, &s->rep, sizeof(s->rep)) &&
	       (!samples || send_all(sock, s->lat,
				     s->buf->npages * sizeof(*s->lat)));
}

/* the child's whole life: never returns, never touches the harness */
static void __attribute__((noreturn))
child_main(struct fc_side *s, const struct dev_cfg *cfg, int sock,
	   bool first, bool crash)
{
	char why[256] = "";
	bool skip;

	/* the engine is FORK_SAFE (a needed cap): a fresh open on our mm */
	dev_open_raw(cfg, cfg->device, cfg->instance, &s->dev, &skip, why,
		     sizeof(why));
	s->snap = malloc(s->buf->npages);
	s->lat = calloc(s->buf->npages, sizeof(*s->lat));
	if (!s->snap || !s->lat)
		_exit(2);
	/* fault these in now, not inside the timed loop */
	memset(s->lat, 0, s->buf->npages * sizeof(*s->lat));
	if (!s->dev)
		side_fail(s, "child: opening the device: %s", why);
	if (!first && !wait_go(sock))
		_exit(3);
	side_turn(s);
	if (crash)
		raise(SIGSEGV);
	if (!send_report(sock, s, true))
		_exit(3);
	if (first) {
		if (!wait_go(sock))
			_exit(3);
		side_check(s, "after the parent wrote");
		if (!send_report(sock, s, false))
			_exit(3);
	}
	_exit(0);
}

/* --- the parent --- */

static void init_side(struct cdm_ctx *ctx, struct fc *f, struct fc_side *s,
		      int role)
{
	memset(s, 0, sizeof(*s));
	s->buf = &f->buf;
	s->seed = cdm_seed(ctx);
	s->base = f->gen;
	s->mine = f->gen + 1 + role;
	s->other = f->gen + 2 - role;
	s->dev = role == ROLE_PARENT ? f->dev : NULL;
	s->snap = f->snap;
	s->lat = f->lat;
	s->who = role == ROLE_PARENT ? "parent" : "child";
	s->rep.ok = 1;
}

static const char *sig_name(int sig)
{
	const char *n = sigabbrev_np(sig);

	return n ? n : "unknown";
}

/* reap the child; a signal or a bad exit is a failure worth naming */
static void reap(struct cdm_ctx *ctx, pid_t pid, bool kill_it, const char *when)
{
	int st;

	if (kill_it)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			cdm_error(ctx, "waitpid: %s", strerror(errno));
			return;
		}
	}
	if (kill_it)
		return;
	if (WIFSIGNALED(st))
		cdm_fail(ctx, "child killed by signal %d (SIG%s) %s",
			 WTERMSIG(st), sig_name(WTERMSIG(st)), when);
	else if (WEXITSTATUS(st))
		cdm_fail(ctx, "child exited with status %d %s", WEXITSTATUS(st),
			 when);
}

static bool recv_report(int sock, struct fc_report *rep, double *lat,
			size_t n)
{
	return recv_all(sock, rep, sizeof(*rep)) &&
	       (!lat || recv_all(sock, lat, n * sizeof(*lat)));
}

/*
 * The exchange, seen from the parent. Returns false when the child went
 * away early (reap() says why).
 */
static bool exchange(struct fc *f, struct fc_side *me, int sock,
		     struct fc_report *child, bool parent_first)
{
	size_t n = f->buf.npages;

	if (parent_first) {
		side_turn(me);
		if (!send_go(sock) || !recv_report(sock, child, f->clat, n))
			return false;
		side_check(me, "after the child wrote");
		return true;
	}
	if (!recv_report(sock, child, f->clat, n))
		return false;
	side_turn(me);
	return send_go(sock) && recv_report(sock, child, NULL, 0);
}

static int to_device(struct cdm_ctx *ctx, struct fc *f)
{
	return dev_to_device(ctx, f->dev, &f->buf, f->back, f->gen);
}

static void sample_round(struct cdm_ctx *ctx, struct fc *f, int d,
			 const struct fc_report *pr)
{
	size_t i;

	cdm_sample(ctx, f->m_fork[d], pr->fork_ns / 1e3);
	for (i = 0; i < f->buf.npages; i++) {
		cdm_sample(ctx, f->m_cow[ROLE_PARENT][d], f->lat[i]);
		cdm_sample(ctx, f->m_cow[ROLE_CHILD][d], f->clat[i]);
	}
}

/*
 * Where each writer's pages must be after its own writes. A CPU write
 * faults private pages home; the first writer of a coherent page gets a
 * copy from the page allocator, in system RAM. The second writer of a
 * coherent page may keep it (reported, not judged).
 */
static void judge_where(struct cdm_ctx *ctx, struct fc *f,
			const struct fc_report *r, const char *who, bool first)
{
	const struct fc_cfg *cfg = cdm_cfg(ctx);
	bool coh = cfg->dev.device == DEV_COHERENT;
	const struct dev_where *w = &r->after;
	char d[96];

	if (!r->where_ok || w->first_on_device == f->buf.npages)
		return;
	if (coh && !first)
		return;
	cdm_fail(ctx, "%s, after writing every page of a forked device-%s buffer: %zu of %zu pages still on a device in its own view; first: page %zu is %s (%s)",
		 who, coh ? "coherent" : "private", w->local + w->remote,
		 f->buf.npages, w->first_on_device,
		 dev_pg_describe(w->first_on_byte, d, sizeof(d)),
		 coh ? "a COW copy comes from the page allocator" :
		 "a CPU write must fault a private page home");
}

static void judge(struct cdm_ctx *ctx, struct fc *f, bool on_dev,
		  const struct fc_report *pr, const struct fc_report *cr)
{
	const struct fc_cfg *cfg = cdm_cfg(ctx);
	bool pfirst = cfg->order == ORDER_PARENT_FIRST;

	const struct fc_report *first = pfirst ? pr : cr;
	const struct fc_report *second = pfirst ? cr : pr;

	/* the first writer's finding first: it is the one that came first */
	if (!first->ok)
		cdm_fail(ctx, "%s round: %s", on_dev ? "device" : "system", first->msg);
	if (!second->ok)
		cdm_fail(ctx, "%s round: %s", on_dev ? "device" : "system", second->msg);
	if (!on_dev)
		return;
	judge_where(ctx, f, pr, "parent", pfirst);
	judge_where(ctx, f, cr, "child", !pfirst);
	f->last[ROLE_PARENT] = *pr;
	f->last[ROLE_CHILD] = *cr;
}

static int fc_round(struct cdm_ctx *ctx, struct fc *f, bool on_dev)
{
	const struct fc_cfg *cfg = cdm_cfg(ctx);
	bool pfirst = cfg->order == ORDER_PARENT_FIRST;
	struct fc_report child = { .ok = 1 };
	struct fc_side me;
	int sv[2];
	uint64_t t0;
	pid_t pid;
	bool done;

	f->gen += 3;
	pat_fill(f->buf.p, f->buf.len, cdm_seed(ctx), f->gen);
	if (on_dev && to_device(ctx, f))
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return cdm_error(ctx, "socketpair: %s", strerror(errno));
	t0 = cdm_now_ns();
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		init_side(ctx, f, &me, ROLE_CHILD);
		child_main(&me, &cfg->dev, sv[1], !pfirst,
			   on_dev && cfg->crash_child);
	}
	init_side(ctx, f, &me, ROLE_PARENT);
	me.rep.fork_ns = cdm_now_ns() - t0;
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		if (errno == ENOMEM || errno == EAGAIN)
			return cdm_error(ctx, "fork: %s", strerror(errno));
		return cdm_error(ctx, "fork: %s", strerror(errno));
	}
	done = exchange(f, &me, sv[0], &child, pfirst);
	close(sv[0]);
	reap(ctx, pid, false, on_dev ? "while writing the forked device-resident buffer" :
	     "while writing the forked system-resident buffer");
	if (!done) {
		if (!cdm_failed(ctx))
			cdm_fail(ctx, "child stopped reporting before the exchange ended");
		return -1;
	}
	judge(ctx, f, on_dev, &me.rep, &child);
	if (!cdm_failed(ctx))
		sample_round(ctx, f, on_dev, &me.rep);
	return cdm_failed(ctx) ? -1 : 0;
}

/* whatever the second writer kept on the device comes home for the next round */
static int back_home(struct cdm_ctx *ctx, struct fc *f)
{
	return dev_to_system(ctx, f->dev, &f->buf, f->gen + 1,
			     "parent's CPU read after MIGRATE_TO_SYS");
}

static void report_where(struct cdm_ctx *ctx, struct fc *f, int role)
{
	static const char *const who[2] = { "parent", "child" };
	const struct fc_report *r = &f->last[role];
	char key[48], val[128];

	if (!r->where_ok)
		return;
	snprintf(key, sizeof(key), "placement_%s_before", who[role]);
	cdm_info(ctx, key, "%s", dev_placement(&r->before, f->buf.npages, val, sizeof(val)));
	snprintf(key, sizeof(key), "placement_%s_after", who[role]);
	cdm_info(ctx, key, "%s", dev_placement(&r->after, f->buf.npages, val, sizeof(val)));
	snprintf(key, sizeof(key), "cpu_faults_%s", who[role]);
	cdm_info(ctx, key, "%llu", (unsigned long long)r->faults);
}

static int fc_run(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	struct fc *f = fx->priv;

	while (cdm_iter(ctx)) {
		/* a failed round has set the verdict; cdm_iter() ends the loop */
		if (fc_round(ctx, f, false) || fc_round(ctx, f, true) ||
		    back_home(ctx, f))
			break;
	}
	cdm_info(ctx, "pages", "%zu", f->buf.npages);
	report_where(ctx, f, ROLE_PARENT);
	report_where(ctx, f, ROLE_CHILD);
	if (!cdm_failed(ctx)) {
		cdm_info(ctx, "isolation", "ok");
		cdm_info(ctx, "integrity", "ok");
	}
	return 0;
}

#define fc_supported NULL	/* nothing beyond the fixture's checks */
DEV_WORKLOAD(fork_cow, fc, DEV_CAPS_ROUND_TRIP | CDM_CAP_FORK_SAFE, 0, NULL,
	.name = "fork-cow",
	.summary = "fork() with device-resident pages: copy-on-write cost, isolation and placement",
	.help = "Forks with the buffer on the device, then parent and child each write a\n"
		"generation of their own over every page, one after the other. The first\n"
		"store to each page is timed (cow_{parent,child}_device_ns) against the\n"
		"same exchange on a system-resident buffer (cow_*_system_ns); fork itself\n"
		"is timed too (fork_{device,system}_us). Each writer checks its copy\n"
		"holds the pre-fork data and never the other's; SNAPSHOT from each\n"
		"process's own dmirror file reports where its pages live.",
	.verifies = CDM_VERIFY_DATA | CDM_VERIFY_PLACEMENT,
	.tamper = "corrupt_page", .tamper_value = "9");
