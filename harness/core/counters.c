// SPDX-License-Identifier: GPL-2.0
/*
 * Per-phase counting in the case process; see counters.h.
 *
 * perf events are opened for this process with inherit set, so threads
 * and helpers the workload starts later are counted too; they count
 * whatever the kernel does on the case's behalf in its own context
 * (faults, migrations it drives through ioctls), not work deferred to
 * kernel threads. /proc/vmstat is system-wide: on a quiet emulated node
 * that is the case's own work, on a busy host it is not, and the status
 * line says so. A phase costs two snapshots: a read() per perf event and
 * one pread() of /proc/vmstat each; `make bench` measures what that adds
 * to a migration.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/counters.h"
#include "core/lwk.h"
#include "core/workload.h"

#define MAX_EV 48
#define MAX_VM 512
#define MAX_DEPTH 4
#define MAX_PHASES 32

struct perf_ev {
	const char *src;	/* "perf" or "trace" */
	char name[160];
	int fd;
};

struct phase {
	char name[32];
	uint64_t count, pages, ns;
	uint64_t ev[MAX_EV];
	uint64_t vm[MAX_VM];
	double hw[64];
};

struct snap {
	int phase;
	uint64_t t;
	uint64_t ev[MAX_EV];
	uint64_t vm[MAX_VM];
	double hw[64];
};

struct cdm_counters {
	struct perf_ev ev[MAX_EV];
	int nev;
	int vm_fd;
	char **vm_names;
	int nvm;
	char *vm_text;
	size_t vm_cap;
	struct lwk_hw *hw;
	struct phase ph[MAX_PHASES];
	int nph;
	struct snap stack[MAX_DEPTH];
	struct snap now;	/* here, not on the stack: see prefault() */
	int depth;
	int overflow;		/* begins past MAX_DEPTH, ignored */
	char status_perf[256];
	char status_trace[512];
	char status_vmstat[256];
	char status_hw[512];
};

static const struct {
	const char *name;
	uint64_t config;
} sw_events[] = {
	{ "faults_minor", PERF_COUNT_SW_PAGE_FAULTS_MIN },
	{ "faults_major", PERF_COUNT_SW_PAGE_FAULTS_MAJ },
	{ "context_switches", PERF_COUNT_SW_CONTEXT_SWITCHES },
	{ "cpu_migrations", PERF_COUNT_SW_CPU_MIGRATIONS },
};

/*
 * mm tracepoints worth counting around device migration, where the
 * kernel offers them; whole subsystems "migrate" and "hmm" are added by
 * listing their directories (newer kernels may have more).
 */
static const char *const tracepoints[] = {
	"thp:set_migration_pmd", "thp:remove_migration_pmd",
	"tlb:tlb_flush", "kmem:mm_page_alloc", "kmem:mm_page_free",
	"exceptions:page_fault_user", "exceptions:page_fault_kernel",
	"huge_memory:mm_khugepaged_scan_pmd",
};
static const char *const trace_subsystems[] = { "migrate", "hmm" };
static const char *const tracefs_roots[] = {
	"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events",
};

static long perf_open(struct perf_event_attr *a)
{
	return syscall(SYS_perf_event_open, a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static int open_event(uint32_t type, uint64_t config, bool *user_only)
{
	struct perf_event_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = type;
	a.config = config;
	a.inherit = 1;
	fd = perf_open(&a);
	if (fd < 0 && (errno == EACCES || errno == EPERM) && user_only) {
		/* perf_event_paranoid 2: this process's user side only */
		a.exclude_kernel = 1;
		a.exclude_hv = 1;
		fd = perf_open(&a);
		if (fd >= 0)
			*user_only = true;
	}
	return fd;
}

static void add_ev(struct cdm_counters *c, const char *src, const char *name,
		   int fd)
{
	struct perf_ev *e = &c->ev[c->nev++];

	e->src = src;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->fd = fd;
}

static void open_sw(struct cdm_counters *c)
{
	bool user_only = false;
	size_t i;
	int fd, err = 0;

	for (i = 0; i < ARRAY_SIZE(sw_events); i++) {
		fd = open_event(PERF_TYPE_SOFTWARE, sw_events[i].config,
				&user_only);
		if (fd < 0) {
			err = errno;
			continue;
		}
		add_ev(c, "perf", sw_events[i].name, fd);
	}
	if (!c->nev)
		snprintf(c->status_perf, sizeof(c->status_perf),
			 "unavailable: perf_event_open: %s", strerror(err));
	else
		snprintf(c->status_perf, sizeof(c->status_perf),
			 "on: %d software counter%s%s", c->nev,
			 c->nev == 1 ? "" : "s",
			 user_only ? " (user mode only: perf_event_paranoid)" : "");
}

static const char *tracefs_root(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tracefs_roots); i++)
		if (access(tracefs_roots[i], R_OK | X_OK) == 0)
			return tracefs_roots[i];
	return NULL;
}

/* 1 counted, 0 not offered by this kernel, -1 offered but not openable */
static int open_tracepoint(struct cdm_counters *c, const char *root,
			   const char *sys, const char *name, int *err)
{
	char path[512], full[160], *id;
	long long v;
	int fd;

	if (c->nev >= MAX_EV)
		return 0;
	snprintf(path, sizeof(path), "%s/%s/%s/id", root, sys, name);
	id = read_line_file(path);
	if (!id)
		return 0;
	v = strtoll(id, NULL, 10);
	free(id);
	fd = open_event(PERF_TYPE_TRACEPOINT, v, NULL);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	snprintf(full, sizeof(full), "%s:%s", sys, name);
	add_ev(c, "trace", full, fd);
	return 1;
}

static void open_subsystem(struct cdm_counters *c, const char *root,
			   const char *sys, int *n, int *err)
{
	char path[512];
	struct dirent *d;
	DIR *dir;

	/* the event names are the subdirectories; ids live one level down */
	snprintf(path, sizeof(path), "%s/%s", root, sys);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.' && d->d_type == DT_DIR)
			*n += open_tracepoint(c, root, sys, d->d_name, err) > 0;
	closedir(dir);
}

static void open_trace(struct cdm_counters *c)
{
	const char *root = tracefs_root();
	int n = 0, err = 0;
	size_t i;

	if (!root) {
		snprintf(c->status_trace, sizeof(c->status_trace),
			 "unavailable: no tracefs (kernel without CONFIG_TRACING, or not mounted at /sys/kernel/tracing)");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(trace_subsystems); i++)
		open_subsystem(c, root, trace_subsystems[i], &n, &err);
	for (i = 0; i < ARRAY_SIZE(tracepoints); i++) {
		char sys[64];
		const char *colon = strchr(tracepoints[i], ':');

		snprintf(sys, sizeof(sys), "%.*s",
			 (int)(colon - tracepoints[i]), tracepoints[i]);
		n += open_tracepoint(c, root, sys, colon + 1, &err) > 0;
	}
	if (!n)
		snprintf(c->status_trace, sizeof(c->status_trace),
			 "unavailable: %s", err ? strerror(err) :
			 "none of the mm tracepoints is offered by this kernel");
	else
		snprintf(c->status_trace, sizeof(c->status_trace),
			 "on: %d tracepoint%s counted through perf", n,
			 n == 1 ? "" : "s");
}

int cnt_vmstat_parse(const char *text, char ***names, uint64_t *vals,
		     size_t max)
{
	const char *p = text;
	size_t n = 0;

	while (*p && n < max) {
		const char *sp = strchr(p, ' '), *nl;
		char *end;

		if (!sp)
			return -1;
		vals[n] = strtoull(sp + 1, &end, 10);
		if (end == sp + 1)
			return -1;
		if (names)
			(*names)[n] = xasprintf("%.*s", (int)(sp - p), p);
		n++;
		nl = strchr(end, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

static int vm_read(struct cdm_counters *c, uint64_t *vals, bool names)
{
	ssize_t n;

	if (c->vm_fd < 0)
		return -1;
	n = pread(c->vm_fd, c->vm_text, c->vm_cap - 1, 0);
	if (n <= 0)
		return -1;
	c->vm_text[n] = 0;
	if (names) {
		c->vm_names = xcalloc(MAX_VM, sizeof(char *));
		return cnt_vmstat_parse(c->vm_text, &c->vm_names, vals, MAX_VM);
	}
	return cnt_vmstat_parse(c->vm_text, NULL, vals, c->nvm);
}

static void open_vmstat(struct cdm_counters *c)
{
	uint64_t tmp[MAX_VM];

	c->vm_cap = 64 * 1024;
	c->vm_text = xmalloc(c->vm_cap);
	c->vm_fd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
	c->nvm = c->vm_fd < 0 ? -1 : vm_read(c, tmp, true);
	if (c->nvm <= 0) {
		snprintf(c->status_vmstat, sizeof(c->status_vmstat),
			 "unavailable: /proc/vmstat: %s",
			 c->vm_fd < 0 ? strerror(errno) : "unreadable");
		c->nvm = 0;
		return;
	}
	snprintf(c->status_vmstat, sizeof(c->status_vmstat),
		 "on: %d counters, system-wide (deltas of the ones that moved)",
		 c->nvm);
}

bool cnt_phase_name_ok(const char *phase)
{
	size_t n = strlen(phase);

	return n && n < 32 && strspn(phase, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/*
 * A snapshot must not fault: workloads count their own page faults
 * (fault-back expects none on coherent memory), and the counts here would
 * include the harness's. Every page the snapshots write is touched now.
 */
static void prefault(void *p, size_t len)
{
	volatile char *c = p;
	size_t i, pg = cdm_page_size();

	/* write back what is there: the struct is already filled in (a zero
	 * here once cut the first event's source name pointer) */
	for (i = 0; i < len; i += pg)
		c[i] = c[i];
	if (len)
		c[len - 1] = c[len - 1];
}

struct cdm_counters *cnt_open(const struct cdm_common *common,
			      const char *case_name, char *why, size_t len)
{
	struct cdm_counters *c;
	char hwwhy[400];

	why[0] = 0;
	if (common->counters == CDM_COUNTERS_OFF)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->vm_fd = -1;
	open_sw(c);
	if (common->tracepoints)
		open_trace(c);
	else
		snprintf(c->status_trace, sizeof(c->status_trace),
			 "off (tracepoints = no)");
	open_vmstat(c);
	c->hw = lwk_hw_open(common->likwid_group, NULL, 0, case_name, hwwhy,
			    sizeof(hwwhy));
	prefault(c, sizeof(*c));
	prefault(c->vm_text, c->vm_cap);
	if (c->hw)
		snprintf(c->status_hw, sizeof(c->status_hw), "on: %s",
			 lwk_hw_mode(c->hw));
	else if (hwwhy[0])
		snprintf(c->status_hw, sizeof(c->status_hw),
			 "unavailable: %s", hwwhy);
	if (common->counters == CDM_COUNTERS_REQUIRED) {
		if (startswith(c->status_perf, "unavailable"))
			snprintf(why, len, "counters = required, but perf software counters are %s",
				 c->status_perf);
		else if (startswith(c->status_hw, "unavailable"))
			snprintf(why, len, "counters = required, but likwid hardware counters (likwid_group=%s) are %s",
				 common->likwid_group, c->status_hw);
	}
	return c;
}

static void take(struct cdm_counters *c, struct snap *s)
{
	int i;

	for (i = 0; i < c->nev; i++)
		if (read(c->ev[i].fd, &s->ev[i], sizeof(uint64_t)) !=
		    sizeof(uint64_t))
			s->ev[i] = 0;
	if (c->nvm)
		vm_read(c, s->vm, false);
	if (c->hw)
		lwk_hw_read(c->hw, s->hw);
	s->t = cdm_now_ns();
}

static int find_phase(struct cdm_counters *c, const char *name)
{
	int i;

	for (i = 0; i < c->nph; i++)
		if (!strcmp(c->ph[i].name, name))
			return i;
	if (c->nph == MAX_PHASES)
		return -1;
	snprintf(c->ph[c->nph].name, sizeof(c->ph[0].name), "%s", name);
	return c->nph++;
}

void cnt_phase_begin(struct cdm_counters *c, const char *phase)
{
	struct snap *s;
	int p;

	if (!c)
		return;
	p = cnt_phase_name_ok(phase) ? find_phase(c, phase) : -1;
	if (c->depth == MAX_DEPTH || p < 0) {
		c->overflow++;
		return;
	}
	s = &c->stack[c->depth++];
	s->phase = p;
	if (c->hw)
		lwk_hw_region(c->hw, phase, true);
	take(c, s);
}

void cnt_phase_end(struct cdm_counters *c, uint64_t pages)
{
	struct snap *now, *s;
	struct phase *ph;
	int i;

	if (!c)
		return;
	if (c->overflow) {
		c->overflow--;
		return;
	}
	if (!c->depth)
		return;
	now = &c->now;
	take(c, now);
	s = &c->stack[--c->depth];
	ph = &c->ph[s->phase];
	if (c->hw)
		lwk_hw_region(c->hw, ph->name, false);
	ph->count++;
	ph->pages += pages;
	ph->ns += now->t - s->t;
	for (i = 0; i < c->nev; i++)
		ph->ev[i] += now->ev[i] - s->ev[i];
	for (i = 0; i < c->nvm; i++)
		ph->vm[i] += now->vm[i] - s->vm[i];
	for (i = 0; c->hw && i < lwk_hw_nevents(c->hw); i++)
		ph->hw[i] += now->hw[i] - s->hw[i];
}

static void emit_u64(void (*emit)(void *, const char *, const char *),
		     void *arg, const char *ph, const char *src,
		     const char *name, uint64_t v)
{
	char k[256], val[32];

	snprintf(k, sizeof(k), "counters.%s.%s:%s", ph, src, name);
	snprintf(val, sizeof(val), "%llu", (unsigned long long)v);
	emit(arg, k, val);
}

/* gauges (nr_free_pages) move both ways: a vmstat delta is signed */
static void emit_s64(void (*emit)(void *, const char *, const char *),
		     void *arg, const char *ph, const char *name, int64_t v)
{
	char k[200], val[32];

	snprintf(k, sizeof(k), "counters.%s.vmstat:%s", ph, name);
	snprintf(val, sizeof(val), "%lld", (long long)v);
	emit(arg, k, val);
}

static void report_hw(struct cdm_counters *c, struct phase *ph,
		      void (*emit)(void *, const char *, const char *),
		      void *arg)
{
	double v[64];
	char k[200], val[40];
	int i, n = lwk_hw_nevents(c->hw);

	if (lwk_hw_region_result(c->hw, ph->name, v))
		memcpy(ph->hw, v, n * sizeof(double));
	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "counters.%s.likwid:%s", ph->name,
			 lwk_hw_event(c->hw, i));
		snprintf(val, sizeof(val), "%.17g", ph->hw[i]);
		emit(arg, k, val);
	}
}

void cnt_report(struct cdm_counters *c,
		void (*emit)(void *arg, const char *key, const char *val),
		void *arg)
{
	int p, i;

	if (!c)
		return;
	emit(arg, "counter_status.perf", c->status_perf);
	emit(arg, "counter_status.trace", c->status_trace);
	emit(arg, "counter_status.vmstat", c->status_vmstat);
	if (c->status_hw[0])
		emit(arg, "counter_status.likwid", c->status_hw);
	for (p = 0; p < c->nph; p++) {
		struct phase *ph = &c->ph[p];

		if (!ph->count)
			continue;
		emit_u64(emit, arg, ph->name, "phase", "count", ph->count);
		emit_u64(emit, arg, ph->name, "phase", "pages", ph->pages);
		emit_u64(emit, arg, ph->name, "phase", "ns", ph->ns);
		for (i = 0; i < c->nev; i++)
			emit_u64(emit, arg, ph->name, c->ev[i].src,
				 c->ev[i].name, ph->ev[i]);
		for (i = 0; i < c->nvm; i++)
			if (ph->vm[i])
				emit_s64(emit, arg, ph->name, c->vm_names[i],
					 (int64_t)ph->vm[i]);
		if (c->hw)
			report_hw(c, ph, emit, arg);
	}
}

void cnt_close(struct cdm_counters *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->nev; i++)
		close(c->ev[i].fd);
	if (c->vm_fd >= 0)
		close(c->vm_fd);
	for (i = 0; c->vm_names && i < MAX_VM; i++)
		free(c->vm_names[i]);
	free(c->vm_names);
	free(c->vm_text);
	lwk_hw_close(c->hw);
	free(c);
}
