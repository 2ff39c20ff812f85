// SPDX-License-Identifier: GPL-2.0
/*
 * Case execution. Each case runs in a forked child in its own process
 * group, so a workload that crashes (SIGSEGV, SIGBUS), hangs in a device
 * ioctl or leaves helper processes behind can be killed as a whole while
 * the run goes on. The parent collects everything the child reports and
 * alone writes results.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/child.h"
#include "core/counters.h"
#include "core/expect.h"
#include "core/kmsg.h"
#include "core/lwk.h"
#include "core/probe.h"
#include "util/progress.h"
#include "core/runner.h"
#include "core/sysinfo.h"
#include "util/version.h"
#include "core/wire.h"

#define KILL_GRACE_NS 2000000000ull
/* after SIGKILL: a process still there is stuck in the kernel (D state) */
#define UNKILLABLE_NS 10000000000ull
#define POLL_MS 200

volatile int cdm_stop_signal;

static void on_stop(int sig)
{
	cdm_stop_signal = sig;
}

void cdm_install_stop_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: poll() must return so the runner notices */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* --- child-message decoding --- */

/* a metric's samples in memory before they go to a sink that takes them */
#define SPILL_SAMPLES (1u << 20)

struct collect {
	struct cdm_case_res *res;
	struct cdm_sink *sink;
	bool too_many;		/* a metric passed CDM_MAX_METRIC_SAMPLES */
	bool spill_failed;
	struct sbuf in;
	bool done;
	bool got_verdict;
};

static void add_subcase(struct cdm_case_res *c, struct wire_rd *rd)
{
	struct cdm_case_res *s;
	char *name, *log;
	int verdict;

	c->subs = xrealloc(c->subs, (c->nsubs + 1) * sizeof(*c->subs));
	s = &c->subs[c->nsubs++];
	case_res_init(s);
	name = wire_get_str(rd);
	s->name = xasprintf("%s/%s", c->name, name);
	/* identity across runs: the parent's, plus the test's name */
	s->match_key = xasprintf("%s/%s", c->match_key, name);
	free(name);
	s->device_type = wire_get_str(rd);
	verdict = wire_get_u32(rd);
	free(s->reason);
	s->reason = wire_get_str(rd);
	s->verdict = verdict < CDM_NVERDICTS ? verdict : CDM_ERROR;
	s->elapsed_ns = wire_get_u64(rd);
	log = wire_get_str(rd);
	sb_adds(&s->log, log);
	free(log);
	s->workload = xstrdup(c->workload);
	s->backend = xstrdup(c->backend);
	s->params = xstrdup(c->params);
	s->seed = c->seed;
	s->end_wall = cdm_wall_ns();
	s->start_wall = s->end_wall - s->elapsed_ns;
	kv_set(&s->info, "parent_case", c->name);
}

static void handle_msg(struct collect *cl, uint32_t type, struct wire_rd *rd)
{
	struct cdm_case_res *c = cl->res;
	struct cdm_metric_res *m;
	uint32_t idx, n;
	char *a, *b;
	const void *raw;

	switch (type) {
	case W_METRIC:
		idx = wire_get_u32(rd);
		if (idx > 4096)
			return;
		m = case_res_metric(c, idx);
		free(m->name);
		free(m->unit);
		m->name = wire_get_str(rd);
		m->unit = wire_get_str(rd);
		m->better = wire_get_u32(rd) ? 1 : 0;
		break;
	case W_SAMPLES:
		idx = wire_get_u32(rd);
		n = wire_get_u32(rd);
		raw = wire_get_raw(rd, (size_t)n * sizeof(double));
		if (!raw || idx >= c->nmetrics || cl->spill_failed)
			break;
		m = &c->metrics[idx];
		if (m->spilled + m->n + n > (size_t)CDM_MAX_METRIC_SAMPLES) {
			if (!cl->too_many) {
				char why[160];

				snprintf(why, sizeof(why),
					 "metric '%s' reported more than %lld samples; the rest were dropped",
					 m->name ? m->name : "?",
					 (long long)CDM_MAX_METRIC_SAMPLES);
				case_res_verdict(c, CDM_ERROR, why);
			}
			cl->too_many = true;
			break;
		}
		metric_add_samples(m, raw, n);
		if (cl->sink && cl->sink->ops->samples &&
		    m->n >= SPILL_SAMPLES &&
		    cl->sink->ops->samples(cl->sink, c, idx)) {
			/* samples held so far stay; later ones are dropped */
			cl->spill_failed = true;
			case_res_verdict(c, CDM_ERROR,
					 "streaming samples to the database failed; later samples were dropped");
		}
		break;
	case W_INFO:
		a = wire_get_str(rd);
		b = wire_get_str(rd);
		kv_set(&c->info, a, b);
		free(a);
		free(b);
		break;
	case W_LOG:
		a = wire_get_str(rd);
		sb_addf(&c->log, "%s\n", a);
		free(a);
		break;
	case W_DEVTYPE:
		free(c->device_type);
		c->device_type = wire_get_str(rd);
		break;
	case W_VERDICT:
		n = wire_get_u32(rd);
		a = wire_get_str(rd);
		case_res_verdict(c, n, a);
		free(a);
		cl->got_verdict = true;
		break;
	case W_DONE:
		cl->done = true;
		break;
	case W_SUBCASE:
		add_subcase(c, rd);
		break;
	}
}

/* returns false at EOF or on a read error */
static bool read_child(struct collect *cl, int fd)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));
	size_t off = 0;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	sb_add(&cl->in, buf, n);
	for (;;) {
		struct wire_rd rd;
		uint32_t type;
		long used = wire_next((uint8_t *)cl->in.buf + off,
				      cl->in.len - off, &type, &rd);

		if (used <= 0)
			break;
		handle_msg(cl, type, &rd);
		off += used;
	}
	memmove(cl->in.buf, cl->in.buf + off, cl->in.len - off);
	cl->in.len -= off;
	return true;
}

static void kill_group(pid_t pid, int sig)
{
	if (kill(-pid, sig) && errno == ESRCH)
		kill(pid, sig);
}

static void sig_reason(char *buf, size_t len, int sig)
{
	if (sig == SIGKILL)
		snprintf(buf, len,
			 "killed by SIGKILL (not by cdmbench: out of memory?)");
	else
		snprintf(buf, len, "killed by signal %d (SIG%s)", sig,
			 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
}

/*
 * Wait for the child to exit, killing it if it overstays. A process that
 * survives SIGKILL is stuck in the kernel (a driver holding a lock after
 * an Oops, say): we stop waiting, say so, and the run goes on.
 */
static bool reap(pid_t pid, uint64_t grace_until, int *status)
{
	bool killed = false;
	uint64_t killed_at = 0;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		if (!killed && cdm_now_ns() > grace_until) {
			kill_group(pid, SIGKILL);
			killed = true;
			killed_at = cdm_now_ns();
		}
		if (killed && cdm_now_ns() - killed_at > UNKILLABLE_NS)
			return false;
		usleep(10000);
	}
}

static void stuck_reason(pid_t pid, char *buf, size_t len)
{
	char path[64], *stat, *wchan, state = '?', *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	stat = read_file(path, 4096, NULL);
	p = stat ? strrchr(stat, ')') : NULL;
	if (p && p[1] == ' ')
		state = p[2];
	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	wchan = read_line_file(path);
	snprintf(buf, len,
		 "case process %d survived SIGKILL: stuck in the kernel (state %c, wchan %s); abandoned",
		 pid, state, wchan && *wchan ? wchan : "?");
	free(stat);
	free(wchan);
}

static void judge_exit(struct collect *cl, int status, int forced)
{
	struct cdm_case_res *c = cl->res;
	char why[160];

	if (forced == CDM_TIMEOUT) {
		case_res_verdict(c, CDM_TIMEOUT,
				 "deadline exceeded: killed (hang?)");
	} else if (forced == CDM_CRASH) {
		/* the kernel event itself is added to the reason later */
		case_res_verdict(c, CDM_CRASH,
				 "the kernel oopsed during the case: killed at once");
	} else if (forced == CDM_INTERRUPTED) {
		case_res_verdict(c, CDM_INTERRUPTED,
				 "run interrupted by signal");
	} else if (WIFSIGNALED(status)) {
		sig_reason(why, sizeof(why), WTERMSIG(status));
		case_res_verdict(c, CDM_CRASH, why);
	} else if (WIFEXITED(status) && (!cl->done || WEXITSTATUS(status))) {
		snprintf(why, sizeof(why),
			 "case process exited with status %d before reporting a verdict",
			 WEXITSTATUS(status));
		case_res_verdict(c, CDM_ERROR, why);
	} else if (!cl->got_verdict) {
		case_res_verdict(c, CDM_ERROR, "no verdict reported");
	}
}

/*
 * A case process must not outlive cdmbench: after a kill -9 of the
 * parent, a hung case would be reparented and keep its device pages, its
 * CPU and its locks. The case process gets SIGKILL when the parent dies,
 * and passes that on to the processes it forks from its main thread (a
 * workload's helpers, upstream test binaries); a fork from another thread
 * is left alone, since the kernel would kill that child as soon as its
 * forking thread ended.
 */
static volatile bool fork_from_main;

static void note_forking_thread(void)
{
	fork_from_main = gettid() == getpid();
}

static void die_with_parent(void)
{
	if (fork_from_main)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void guard_case_process(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the parent died before prctl(): nobody would kill us */
	if (getppid() != parent)
		_exit(127);
	pthread_atfork(note_forking_thread, NULL, die_with_parent);
}

static pid_t spawn_case(const struct cdm_case_spec *cs, int *rfd)
{
	pid_t parent = getpid();
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		guard_case_process(parent);
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		cdm_child_run(cs->wl, cs->cfg, &cs->common, cs->seed, p[1],
			      cs->name);
		_exit(0);
	}
	/* both sides set the group, so a kill right away cannot miss it */
	setpgid(pid, pid);
	close(p[1]);
	*rfd = p[0];
	return pid;
}

/*
 * An Oops or BUG in the kernel usually leaves the task that hit it dead
 * and a lock held: the case will only hang from there. Read the log while
 * the case runs and end it at once.
 */
static bool kernel_died(struct cdm_kmsg *k, struct cdm_case_res *c)
{
	size_t i, from = c->kev.n;

	kmsg_drain(k, &c->kev);
	for (i = from; i < c->kev.n; i++) {
		const struct cdm_kevent *e = &c->kev.v[i];

		if (e->facility == 0 && (e->cls == CDM_K_OOPS ||
					 e->cls == CDM_K_BUG ||
					 e->cls == CDM_K_PANIC))
			return true;
	}
	return false;
}

static void run_case(const struct cdm_case_spec *cs, struct cdm_case_res *c,
		     struct cdm_sink *sink, struct cdm_progress *pg,
		     struct cdm_kmsg *k)
{
	struct collect cl = { .res = c, .sink = sink };
	uint64_t t0 = cdm_now_ns(), deadline, kill_at = 0;
	int fd = -1, forced = -1, status = 0;
	pid_t pid;

	c->start_wall = cdm_wall_ns();
	sb_init(&cl.in);
	deadline = t0 + cs->common.duration + cs->common.timeout;
	pid = spawn_case(cs, &fd);
	if (pid < 0) {
		case_res_verdict(c, CDM_ERROR, "cannot start the case process");
		goto out;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now;
		int r = poll(&pfd, 1, POLL_MS);

		if (r > 0 && !read_child(&cl, fd))
			break;
		/* done even if a helper the workload forked holds the pipe */
		if (cl.done)
			break;
		now = cdm_now_ns();
		progress_draw(pg, false);
		if (forced < 0 && cdm_stop_signal)
			forced = CDM_INTERRUPTED;
		if (forced < 0 && now > deadline)
			forced = CDM_TIMEOUT;
		if (forced < 0 && kernel_died(k, c))
			forced = CDM_CRASH;
		if (forced >= 0 && !kill_at) {
			/* TERM first: a workload may still release device memory */
			kill_group(pid, SIGTERM);
			kill_at = now + KILL_GRACE_NS;
		}
		if (kill_at && now > kill_at)
			kill_group(pid, SIGKILL);
		/* stuck processes may hold the pipe open forever */
		if (kill_at && now > kill_at + UNKILLABLE_NS)
			break;
	}
	if (!reap(pid, kill_at ? kill_at : cdm_now_ns() + KILL_GRACE_NS,
		  &status)) {
		char why[256];

		stuck_reason(pid, why, sizeof(why));
		case_res_verdict(c, CDM_TIMEOUT, why);
		goto out;
	}
	/* helpers the workload forked are part of the case: end them too */
	kill(-pid, SIGKILL);
	judge_exit(&cl, status, forced);
out:
	if (fd >= 0)
		close(fd);
	sb_free(&cl.in);
	c->end_wall = cdm_wall_ns();
	c->elapsed_ns = cdm_now_ns() - t0;
}

void cdm_kmsg_verdict(const struct cdm_common *common, struct cdm_case_res *c)
{
	char why[400];
	size_t i;

	if (!common->kmsg_fail)
		return;
	for (i = 0; i < c->kev.n; i++) {
		const struct cdm_kevent *e = &c->kev.v[i];

		if (!kmsg_event_fails(e))
			continue;
		snprintf(why, sizeof(why), "kernel %s during the case: %.300s",
			 cdm_kclass_name(e->cls), e->text);
		if (c->verdict > CDM_FAIL && c->verdict != CDM_SKIP) {
			/* a crash or hang stays one, but says what the kernel saw */
			char *r = xasprintf("%s; %s", c->reason, why);

			free(c->reason);
			c->reason = r;
		} else {
			case_res_verdict(c, CDM_FAIL, why);
		}
		return;
	}
}

void run_info_for_job(struct cdm_run_info *r, const struct cdm_job *job)
{
	memset(r, 0, sizeof(*r));
	make_uuid(r->uuid);
	r->start_wall = cdm_wall_ns();
	r->harness_version = xstrdup(CDM_VERSION);
	r->git_revision = xstrdup(CDM_GIT_REVISION);
	r->job_name = xstrdup(job->name);
	r->job_text = xstrdup(job->text);
	r->seed = job->seed;
}

static void fill_run_info(struct cdm_run_info *r, const struct cdm_job *job,
			  const struct cdm_run_opts *o,
			  const struct cdm_kmsg *k)
{
	size_t i;

	run_info_for_job(r, job);
	r->environment = sysinfo_environment();
	sysinfo_host(&r->host);
	lwk_topology(&r->host.topo);
	sysinfo_kernel(&r->kernel);
	r->cmdline = sysinfo_cmdline();
	r->argv = xstrdup(o->argv ? o->argv : "");
	r->kmsg_status = xstrdup(k->status);
	/* the job's tags are unique already: add them without a search */
	for (i = 0; i < job->tags.n; i++)
		kv_add(&r->tags, job->tags.v[i].key, job->tags.v[i].value);
	for (i = 0; i < o->tags.n; i++)
		kv_set(&r->tags, o->tags.v[i].key, o->tags.v[i].value);
	cdm_scan_devices(r);
	r->ncases = job->ncases;
}

static void init_case_res(struct cdm_case_res *c, const struct cdm_case_spec *cs,
			  int seq)
{
	case_res_init(c);
	c->seq = seq;
	c->name = xstrdup(cs->name);
	c->workload = xstrdup(cs->wl->name);
	c->backend = xstrdup(cs->wl->backend_of ? cs->wl->backend_of(cs->cfg) :
			    cs->wl->backend);
	c->device_type = xstrdup(cs->wl->device_type ?
				 cs->wl->device_type(cs->cfg) : "system");
	c->params = xstrdup(cs->params_json);
	c->match_key = xstrdup(cs->match_key);
	c->seed = cs->seed;
}

/* sub-results take sequence numbers after the job's own cases */
static int finish_subcases(struct cdm_sink *sink, struct cdm_case_res *c,
			   int *next_seq, const struct cdm_run_opts *o,
			   int ncases)
{
	size_t i;

	for (i = 0; i < c->nsubs; i++) {
		c->subs[i].seq = (*next_seq)++;
		if (sink->ops->case_done(sink, &c->subs[i]))
			return -1;
		if (o->show_case)
			o->show_case(&c->subs[i], ncases);
	}
	return 0;
}

static int finish_case(struct cdm_sink *sink, const struct cdm_case_spec *cs,
		       struct cdm_case_res *c, struct cdm_kmsg *k)
{
	kmsg_drain(k, &c->kev);
	cdm_kmsg_verdict(&cs->common, c);
	case_res_summarize(c);
	if (sink->ops->summarize && sink->ops->summarize(sink, c))
		return -1;
	cdm_expect_eval(&cs->expect, c);
	return sink->ops->case_done(sink, c);
}

static bool wants_likwid(const struct cdm_common *c)
{
	return c->counters != CDM_COUNTERS_OFF && c->likwid_group &&
	       *c->likwid_group && strcmp(c->likwid_group, "none");
}

int cdm_run_job(struct cdm_job *job, struct cdm_sink *sink,
		const struct cdm_run_opts *o, struct cdm_run_totals *t)
{
	struct cdm_progress pg;
	struct cdm_case_res *res;
	struct cdm_run_info info;
	struct cdm_kmsg k;
	const char *status = "completed";
	char reason[128] = "";
	size_t i, ran = 0;
	int rc = 0, next_seq = job->ncases;

	memset(t, 0, sizeof(*t));
	kmsg_open(&k);
	fill_run_info(&info, job, o, &k);
	if (sink->ops->run_begin(sink, &info)) {
		run_info_free(&info);
		kmsg_close(&k);
		return -1;
	}
	res = xcalloc(job->ncases, sizeof(*res));
	for (i = 0; i < job->ncases; i++)
		if (wants_likwid(&job->cases[i].common)) {
			lwk_hw_preflight();
			break;
		}
	progress_init(&pg, o->progress, job->ncases);
	for (i = 0; i < job->ncases && !cdm_stop_signal; i++) {
		const struct cdm_case_spec *cs = &job->cases[i];
		struct cdm_kevents between = { 0 };

		kmsg_drain(&k, &between);
		rc = sink->ops->kevents(sink, &between);
		kev_free(&between);
		init_case_res(&res[i], cs, i);
		if (!rc && sink->ops->case_start)
			rc = sink->ops->case_start(sink, i, cs->name);
		if (rc)
			break;
		progress_case(&pg, cs->name);
		run_case(cs, &res[i], sink, &pg, &k);
		ran = i + 1;
		progress_clear(&pg);
		rc = finish_case(sink, cs, &res[i], &k);
		/* the totals count what the database holds, nothing else */
		if (rc)
			t->unstored++;
		else
			t->verdicts[res[i].verdict]++;
		if (o->show_case)
			o->show_case(&res[i], job->ncases);
		if (!rc)
			rc = finish_subcases(sink, &res[i], &next_seq, o,
					     job->ncases);
		/* stored: the samples are the database's now; keep only the
		 * summaries, so a run of many cases does not grow either */
		case_res_drop_samples(&res[i]);
		pg.done++;
		if (rc)
			break;
	}
	if (cdm_stop_signal) {
		status = "interrupted";
		t->interrupted = true;
		t->signal = cdm_stop_signal;
		snprintf(reason, sizeof(reason), "stopped by signal %d (SIG%s)",
			 cdm_stop_signal, sigabbrev_np(cdm_stop_signal));
	} else if (rc) {
		status = "interrupted";
		snprintf(reason, sizeof(reason),
			 "could not store results; run stopped");
	}
	if (sink->ops->run_end(sink, status, reason))
		rc = -1;
	if (o->show_run)
		o->show_run(&info, sink->run_id, status, res, ran);
	for (i = 0; i < job->ncases; i++)
		if (res[i].name)
			case_res_free(&res[i]);
	free(res);
	run_info_free(&info);
	kmsg_close(&k);
	return rc;
}
