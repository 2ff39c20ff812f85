// SPDX-License-Identifier: GPL-2.0
/*
 * likwid: topology, likwid-pin expressions and hardware counter groups;
 * see lwk.h. Debian 12's likwid 5.2.2 reaches the counters through its
 * access daemon (it forks one: stdio is flushed before every call that
 * may start it) and prints its errors on stderr, which is captured here
 * so the stored reason is likwid's own.
 */
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/lwk.h"

#ifdef CDM_HAVE_LIKWID
#include <likwid.h>
#endif

/* groups tried, in order, when likwid_group = auto */
static const char *const auto_groups[] = { "MEM", "L3", "TLB_DATA" };

int lwk_group_in(const char *group, char *const *names, int n, char *err,
		 size_t len)
{
	struct sbuf sb;
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], group))
			return 0;
	sb_init(&sb);
	for (i = 0; i < n; i++)
		sb_addf(&sb, "%s%s", i ? " " : "", names[i]);
	snprintf(err, len, "likwid_group=%s: no such likwid group on this CPU (groups: %s)",
		 group, n ? sb.buf : "none");
	sb_free(&sb);
	return -1;
}

#ifdef CDM_HAVE_LIKWID

/* --- capturing what likwid prints on stderr --- */

struct capture {
	int fd;
	int saved;
};

static void cap_begin(struct capture *c)
{
	fflush(NULL);
	c->fd = memfd_create("cdmbench-likwid", MFD_CLOEXEC);
	c->saved = c->fd >= 0 ? dup(STDERR_FILENO) : -1;
	if (c->saved >= 0)
		dup2(c->fd, STDERR_FILENO);
}

/* likwid's lines joined by "; ", its "ERROR - [file:func:line] " cut off */
static void cap_end(struct capture *c, char *out, size_t len)
{
	char buf[2048], *line, *save;
	ssize_t n = 0;
	size_t used = 0;

	fflush(stderr);
	if (c->saved >= 0) {
		dup2(c->saved, STDERR_FILENO);
		close(c->saved);
	}
	if (c->fd >= 0) {
		n = pread(c->fd, buf, sizeof(buf) - 1, 0);
		close(c->fd);
	}
	buf[n > 0 ? n : 0] = 0;
	if (out && len)
		out[0] = 0;
	for (line = strtok_r(buf, "\n", &save); line && out;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = strtrim(line), *br;

		if (startswith(p, "ERROR - [") && (br = strstr(p, "] ")))
			p = br + 2;
		if (!*p || used + 3 >= len)
			continue;
		used += snprintf(out + used, len - used, "%s%s",
				 used ? "; " : "", p);
		if (used >= len)
			used = len - 1;
	}
}

static bool inited;

static void init_topology(void)
{
	struct capture c;

	if (inited)
		return;
	cap_begin(&c);
	if (topology_init() == 0) {
		numa_init();
		affinity_init();
		inited = true;
	}
	cap_end(&c, NULL, 0);
}

void lwk_topology(struct cdm_kvlist *out)
{
	static const char *const ctype[] = { "none", "data", "instruction",
					     "unified", "itlb", "dtlb" };
	CpuTopology_t t;
	NumaTopology_t nt;
	char k[64], v[256];
	uint32_t i;

	init_topology();
	if (!inited) {
		kv_set(out, "likwid", "unavailable: topology_init failed");
		return;
	}
	t = get_cpuTopology();
	snprintf(v, sizeof(v), "%u", t->numSockets);
	kv_set(out, "sockets", v);
	snprintf(v, sizeof(v), "%u", t->numCoresPerSocket);
	kv_set(out, "cores_per_socket", v);
	snprintf(v, sizeof(v), "%u", t->numThreadsPerCore);
	kv_set(out, "threads_per_core", v);
	snprintf(v, sizeof(v), "%u", t->numHWThreads);
	kv_set(out, "hw_threads", v);
	for (i = 0; i < t->numCacheLevels; i++) {
		const CacheLevel *cl = &t->cacheLevels[i];

		snprintf(k, sizeof(k), "cache.L%u%s", cl->level,
			 cl->type == DATACACHE ? "d" : "");
		snprintf(v, sizeof(v), "%u bytes, %s, line %u, %u-way, shared by %u hw thread%s",
			 cl->size, cl->type < 6 ? ctype[cl->type] : "?",
			 cl->lineSize, cl->associativity, cl->threads,
			 cl->threads == 1 ? "" : "s");
		kv_set(out, k, v);
	}
	nt = get_numaTopology();
	snprintf(v, sizeof(v), "%u", nt->numberOfNodes);
	kv_set(out, "numa_domains", v);
	for (i = 0; i < nt->numberOfNodes; i++) {
		const NumaNode *n = &nt->nodes[i];

		snprintf(k, sizeof(k), "numa.%u", n->id);
		snprintf(v, sizeof(v), "%llu kB, %u hw thread%s",
			 (unsigned long long)n->totalMemory,
			 n->numberOfProcessors,
			 n->numberOfProcessors == 1 ? "" : "s");
		kv_set(out, k, v);
	}
	kv_set(out, "likwid", "5.2 topology API");
}

/* "N:0-1 S0:0-1 ..." : what an expression may name here */
static void list_domains(char *buf, size_t len)
{
	AffinityDomains_t a = get_affinityDomains();
	size_t used = 0;
	uint32_t i;

	buf[0] = 0;
	for (i = 0; a && i < a->numberOfAffinityDomains && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s:0-%u",
				 i ? " " : "",
				 bdata(a->domains[i].tag),
				 a->domains[i].numberOfProcessors - 1);
}

int lwk_cpus(const char *expr, int *cpus, int max, char *err, size_t len)
{
	char said[512], doms[256];
	struct capture c;
	int n;

	init_topology();
	if (!inited) {
		snprintf(err, len, "cpus=%s: likwid cannot read the topology",
			 expr);
		return -1;
	}
	cap_begin(&c);
	n = cpustr_to_cpulist(expr, cpus, max);
	cap_end(&c, said, sizeof(said));
	if (n > 0)
		return n;
	/* likwid's first sentence is the reason; the rest repeats it */
	said[strcspn(said, ";")] = 0;
	if (startswith(said, "WARN: ") || startswith(said, "ERROR: "))
		memmove(said, strchr(said, ' ') + 1, strlen(strchr(said, ' ')));
	list_domains(doms, sizeof(doms));
	snprintf(err, len, "cpus=%s: not a likwid-pin expression for this machine%s%s%s; domains: %s",
		 expr, said[0] ? " (likwid: " : "", said, said[0] ? ")" : "",
		 doms);
	return -1;
}

/*
 * This CPU's counter groups, read once per process: they are files of
 * the installed likwid, and a job with a matrix asks for every case.
 * Once also because likwid 5.2 leaks about 110 bytes a call when it has
 * no groups for the CPU (found by the job fuzzer).
 */
static int cpu_groups(char ***names)
{
	static char **g, **s, **l;
	static int n = -2;
	struct capture c;

	if (n == -2) {
		init_topology();
		cap_begin(&c);
		n = inited ? perfmon_getGroups(&g, &s, &l) : -1;
		cap_end(&c, NULL, 0);
	}
	*names = g;
	return n;
}

int lwk_check_group(const char *val, char *err, size_t len)
{
	char **g;
	int n;

	if (!*val || !strcmp(val, "auto") || !strcmp(val, "none"))
		return 0;
	n = cpu_groups(&g);
	/*
	 * No list here (perfmon does not know this CPU): the name cannot be
	 * judged; the case records likwid's reason as "unavailable".
	 */
	if (n <= 0)
		return 0;
	return lwk_group_in(val, g, n, err, len);
}

int lwk_check_cpus(const char *val, char *err, size_t len)
{
	int cpus[1024];

	if (!*val)
		return 0;
	return lwk_cpus(val, cpus, 1024, err, len) < 0 ? -1 : 0;
}

/* --- hardware counters --- */

#define LWK_MAX_EVENTS 64
#define LWK_MAX_REGIONS 32

struct lwk_hw {
	bool marker;		/* under likwid-perfctr -m */
	int gid;
	int nev;
	char *ev[LWK_MAX_EVENTS];
	char case_tag[96];
	char mode[128];
	char *regions[LWK_MAX_REGIONS];
	int nregions;
};

static void region_tag(const struct lwk_hw *h, const char *phase, char *buf,
		       size_t len)
{
	snprintf(buf, len, "%s/%s", h->case_tag, phase);
}

static void take_events(struct lwk_hw *h)
{
	int i, n = perfmon_getNumberOfEvents(h->gid);

	for (i = 0; i < n && i < LWK_MAX_EVENTS; i++) {
		const char *e = perfmon_getEventName(h->gid, i);

		h->ev[h->nev++] = xstrdup(e ? e : "?");
	}
}

static struct lwk_hw *open_marker(struct lwk_hw *h, char *why, size_t len)
{
	struct capture c;

	cap_begin(&c);
	likwid_markerInit();
	likwid_markerThreadInit();
	h->gid = perfmon_getIdOfActiveGroup();
	cap_end(&c, why, len);
	if (h->gid < 0 || perfmon_getNumberOfGroups() <= 0) {
		likwid_markerClose();
		return NULL;
	}
	h->marker = true;
	take_events(h);
	snprintf(h->mode, sizeof(h->mode), "marker API, group %s",
		 perfmon_getGroupName(h->gid));
	return h;
}

static int add_group(const char *group)
{
	size_t i;
	int gid;

	if (strcmp(group, "auto"))
		return perfmon_addEventSet(group);
	for (i = 0; i < ARRAY_SIZE(auto_groups); i++) {
		gid = perfmon_addEventSet(auto_groups[i]);
		if (gid >= 0)
			return gid;
	}
	return -1;
}

/*
 * perfmon_init's answer on this node, asked once by the run before it forks
 * its cases: where it fails (no MSR access) it takes about a second to say
 * so, and every case would pay that second again.
 */
static bool preflight_done;
static char preflight_why[256];

static int perfmon_try(const int *cpus, int n, const char *group, int *gid)
{
	int r = perfmon_init(n, (int *)cpus);

	if (!r && !group) {	/* only asking whether perfmon starts */
		perfmon_finalize();
		return 0;
	}
	if (!r) {
		*gid = add_group(group);
		r = *gid < 0 ? *gid : perfmon_setupCounters(*gid);
		if (!r)
			r = perfmon_startCounters();
		if (r)
			perfmon_finalize();
	}
	return r;
}

static int affinity_cpus(int *all, int max)
{
	cpu_set_t set;
	int i, n = 0;

	sched_getaffinity(0, sizeof(set), &set);
	for (i = 0; i < CPU_SETSIZE && n < max; i++)
		if (CPU_ISSET(i, &set))
			all[n++] = i;
	return n;
}

void lwk_hw_preflight(void)
{
	int all[1024], n, gid, r;
	struct capture c;

	/* under likwid-perfctr -m the cases use the marker API instead */
	if (preflight_done || (getenv("LIKWID_MODE") && getenv("LIKWID_EVENTS")))
		return;
	init_topology();
	if (!inited)
		return;
	n = affinity_cpus(all, 1024);
	cap_begin(&c);
	r = perfmon_try(all, n, NULL, &gid);
	cap_end(&c, preflight_why, sizeof(preflight_why));
	if (r && !preflight_why[0])
		snprintf(preflight_why, sizeof(preflight_why),
			 "likwid perfmon_init failed (%d)", r);
	if (!r)
		preflight_why[0] = 0;
	preflight_done = true;
}

static struct lwk_hw *open_perfmon(struct lwk_hw *h, const char *group,
				   const int *cpus, int ncpus, char *why,
				   size_t len)
{
	int all[1024], n = ncpus, r;
	struct capture c;

	if (preflight_done && preflight_why[0]) {
		snprintf(why, len, "%s", preflight_why);
		return NULL;
	}
	if (!n) {
		/* not pinned: every CPU the case may run on */
		n = affinity_cpus(all, 1024);
		cpus = all;
	}
	cap_begin(&c);
	r = perfmon_try(cpus, n, group, &h->gid);
	cap_end(&c, why, len);
	if (r) {
		if (!why[0])
			snprintf(why, len, "likwid perfmon failed (%d) for group %s",
				 r, group);
		return NULL;
	}
	take_events(h);
	snprintf(h->mode, sizeof(h->mode), "perfmon, group %s on %d CPU%s",
		 perfmon_getGroupName(h->gid), n, n == 1 ? "" : "s");
	return h;
}

struct lwk_hw *lwk_hw_open(const char *group, const int *cpus, int ncpus,
			   const char *case_name, char *why, size_t len)
{
	struct lwk_hw *h;
	size_t i;

	why[0] = 0;
	if (!group || !*group || !strcmp(group, "none"))
		return NULL;
	init_topology();
	if (!inited) {
		snprintf(why, len, "likwid topology_init failed");
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	/* a region tag is a word in likwid's results file */
	snprintf(h->case_tag, sizeof(h->case_tag), "%s", case_name);
	for (i = 0; h->case_tag[i]; i++)
		if (!isalnum((unsigned char)h->case_tag[i]) &&
		    !strchr("_-=", h->case_tag[i]))
			h->case_tag[i] = '_';
	if (getenv("LIKWID_MODE") && getenv("LIKWID_EVENTS")) {
		if (open_marker(h, why, len))
			return h;
	} else if (open_perfmon(h, group, cpus, ncpus, why, len)) {
		return h;
	}
	if (!why[0])
		snprintf(why, len, "likwid marker API did not initialize");
	free(h);
	return NULL;
}

int lwk_hw_nevents(const struct lwk_hw *h)
{
	return h->nev;
}

const char *lwk_hw_event(const struct lwk_hw *h, int i)
{
	return h->ev[i];
}

const char *lwk_hw_mode(const struct lwk_hw *h)
{
	return h->mode;
}

void lwk_hw_read(struct lwk_hw *h, double *vals)
{
	int e, t, nt;

	memset(vals, 0, h->nev * sizeof(*vals));
	if (h->marker || perfmon_readCounters())
		return;
	nt = perfmon_getNumberOfThreads();
	for (e = 0; e < h->nev; e++)
		for (t = 0; t < nt; t++)
			vals[e] += perfmon_getResult(h->gid, e, t);
}

void lwk_hw_region(struct lwk_hw *h, const char *phase, bool begin)
{
	char tag[160];
	int i;

	if (!h->marker)
		return;
	region_tag(h, phase, tag, sizeof(tag));
	if (begin) {
		for (i = 0; i < h->nregions; i++)
			if (!strcmp(h->regions[i], phase))
				break;
		if (i == h->nregions && h->nregions < LWK_MAX_REGIONS)
			h->regions[h->nregions++] = xstrdup(phase);
		likwid_markerStartRegion(tag);
	} else {
		likwid_markerStopRegion(tag);
	}
}

bool lwk_hw_region_result(struct lwk_hw *h, const char *phase, double *vals)
{
	double ev[LWK_MAX_EVENTS], time = 0;
	int n = LWK_MAX_EVENTS, count = 0, i;
	char tag[160];

	if (!h->marker)
		return false;
	region_tag(h, phase, tag, sizeof(tag));
	likwid_markerGetRegion(tag, &n, ev, &time, &count);
	if (count <= 0)
		return false;
	for (i = 0; i < h->nev; i++)
		vals[i] = i < n ? ev[i] : 0;
	return true;
}

void lwk_hw_close(struct lwk_hw *h)
{
	struct capture c;
	int i;

	if (!h)
		return;
	cap_begin(&c);
	if (h->marker) {
		/* this case process is the one that opened the markers */
		likwid_markerClose();
	} else {
		perfmon_stopCounters();
		perfmon_finalize();
	}
	cap_end(&c, NULL, 0);
	for (i = 0; i < h->nev; i++)
		free(h->ev[i]);
	for (i = 0; i < h->nregions; i++)
		free(h->regions[i]);
	free(h);
}

int lwk_pin_process(const int *cpus, int n, char *err, size_t len)
{
	cpu_set_t set;
	int i;

	/* every thread the case creates inherits the set; a workload that
	 * wants likwid-pin's one-CPU-per-thread calls cdm_pin_worker() */
	CPU_ZERO(&set);
	for (i = 0; i < n; i++)
		if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE)
			CPU_SET(cpus[i], &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		snprintf(err, len, "sched_setaffinity: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int lwk_pin_thread(int cpu)
{
	return likwid_pinThread(cpu) ? 0 : -1;
}

#else /* !CDM_HAVE_LIKWID */

void lwk_topology(struct cdm_kvlist *out)
{
	kv_set(out, "likwid", "unavailable: cdmbench built without likwid");
}

int lwk_cpus(const char *expr, int *cpus, int max, char *err, size_t len)
{
	(void)cpus;
	(void)max;
	snprintf(err, len, "cpus=%s: likwid-pin expressions need likwid (install it and rebuild)",
		 expr);
	return -1;
}

int lwk_check_cpus(const char *val, char *err, size_t len)
{
	return *val ? lwk_cpus(val, NULL, 0, err, len) : 0;
}

int lwk_check_group(const char *val, char *err, size_t len)
{
	(void)val;
	(void)err;
	(void)len;
	return 0;
}

int lwk_pin_process(const int *cpus, int n, char *err, size_t len)
{
	(void)cpus;
	(void)n;
	snprintf(err, len, "built without likwid");
	return -1;
}

int lwk_pin_thread(int cpu)
{
	(void)cpu;
	return -1;
}

void lwk_hw_preflight(void)
{
}

struct lwk_hw *lwk_hw_open(const char *group, const int *cpus, int ncpus,
			   const char *case_name, char *why, size_t len)
{
	(void)cpus;
	(void)ncpus;
	(void)case_name;
	why[0] = 0;
	if (group && *group && strcmp(group, "none"))
		snprintf(why, len, "cdmbench built without likwid");
	return NULL;
}

int lwk_hw_nevents(const struct lwk_hw *h)
{
	(void)h;
	return 0;
}

const char *lwk_hw_event(const struct lwk_hw *h, int i)
{
	(void)h;
	(void)i;
	return "";
}

void lwk_hw_read(struct lwk_hw *h, double *vals)
{
	(void)h;
	(void)vals;
}

void lwk_hw_region(struct lwk_hw *h, const char *phase, bool begin)
{
	(void)h;
	(void)phase;
	(void)begin;
}

bool lwk_hw_region_result(struct lwk_hw *h, const char *phase, double *vals)
{
	(void)h;
	(void)phase;
	(void)vals;
	return false;
}

const char *lwk_hw_mode(const struct lwk_hw *h)
{
	(void)h;
	return "";
}

void lwk_hw_close(struct lwk_hw *h)
{
	(void)h;
}

#endif
