/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a run produces, in memory: the run's context and, per case, every
 * sample, summary, fact and kernel event. The runner fills these; sinks
 * (the SQLite store, the VM result stream) consume them.
 */
#ifndef CDM_RESULT_H
#define CDM_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats/stats.h"
#include "util/util.h"

enum cdm_verdict {
	CDM_PASS,
	CDM_FAIL,
	CDM_SKIP,
	CDM_ERROR,
	CDM_TIMEOUT,
	CDM_CRASH,
	CDM_INTERRUPTED,
	CDM_NVERDICTS
};
const char *cdm_verdict_name(enum cdm_verdict v);
int cdm_verdict_parse(const char *s);
/* how bad a verdict is: pass < skip < fail < error < timeout < crash <
 * interrupted; anything unknown (-1 from parse) ranks worst of all */
int cdm_verdict_rank(int v);

struct cdm_kv {
	char *key;
	char *value;
};

struct cdm_kvlist {
	struct cdm_kv *v;
	size_t n;
	size_t cap;
};
void kv_add(struct cdm_kvlist *l, const char *key, const char *value);
/* replace the value of key if present, else add */
void kv_set(struct cdm_kvlist *l, const char *key, const char *value);
const char *kv_get(const struct cdm_kvlist *l, const char *key);
void kv_free(struct cdm_kvlist *l);

/* kernel log classes, most severe first; see kmsg.c */
enum cdm_kclass {
	CDM_K_OTHER,
	CDM_K_WARNING,
	CDM_K_BUG,
	CDM_K_OOPS,
	CDM_K_BAD_PAGE,
	CDM_K_NOT_PINNABLE,
	CDM_K_SOFT_LOCKUP,
	CDM_K_RCU_STALL,
	CDM_K_PANIC,
	CDM_NKCLASS
};
const char *cdm_kclass_name(enum cdm_kclass c);

struct cdm_kevent {
	uint64_t seq;		/* kernel's record sequence number */
	uint64_t ts_usec;	/* since boot */
	int level;		/* syslog level 0..7 */
	int facility;		/* 0 kernel; user space writing /dev/kmsg is >= 1 */
	int cls;		/* enum cdm_kclass */
	char *text;
};

struct cdm_kevents {
	struct cdm_kevent *v;
	size_t n;
	size_t cap;
};
void kev_add(struct cdm_kevents *l, const struct cdm_kevent *e);
void kev_free(struct cdm_kevents *l);

/*
 * The most samples one metric of one case may hold: the runner ends a
 * case that reports more, and a database row claiming more is refused.
 * 1e8 doubles are 800 MB in memory when compare loads them, and about
 * 2.5 GB in the database.
 */
#define CDM_MAX_METRIC_SAMPLES 100000000LL

struct cdm_metric_res {
	char *name;
	char *unit;
	int better;		/* enum cdm_better */
	double *v;
	size_t n;
	size_t cap;
	size_t spilled;		/* samples before v[0], already streamed to
				 * the sink (see cdm_sink.samples) */
	struct cdm_summary sum;
};

struct cdm_case_res {
	int seq;		/* position in the expanded job */
	char *name;		/* job section */
	char *workload;
	char *backend;
	char *device_type;
	char *params;		/* canonical JSON object of every option */
	char *match_key;	/* identity across runs, see job.c */
	uint64_t seed;
	uint64_t start_wall;	/* ns since the epoch */
	uint64_t end_wall;
	uint64_t elapsed_ns;
	int verdict;
	char *reason;
	struct cdm_metric_res *metrics;
	size_t nmetrics;
	struct cdm_kvlist info;
	struct cdm_kevents kev;
	struct sbuf log;
	/* results a workload reports for tests it ran itself (upstream
	 * selftests); each becomes a case row of its own */
	struct cdm_case_res *subs;
	size_t nsubs;
};

void case_res_init(struct cdm_case_res *c);
void case_res_free(struct cdm_case_res *c);
struct cdm_metric_res *case_res_metric(struct cdm_case_res *c, size_t idx);
void metric_add_samples(struct cdm_metric_res *m, const double *v, size_t n);
void case_res_summarize(struct cdm_case_res *c);
/* set verdict and reason unless a worse verdict is already set */
void case_res_verdict(struct cdm_case_res *c, int verdict, const char *reason);
size_t case_res_nsamples(const struct cdm_case_res *c);
/* free the samples of a stored case, keeping summaries and counts */
void case_res_drop_samples(struct cdm_case_res *c);

struct cdm_host {
	char *hostname;
	char *cpu_model;
	char *arch;
	int cpus;
	int numa_nodes;
	uint64_t mem_bytes;
	struct cdm_kvlist topo;	/* likwid's topology (core/lwk.c) */
};

struct cdm_kernel {
	char *release;
	char *version;
	char *config_digest;	/* sha256 of the config text, "" if unknown */
};

struct cdm_device {
	char *path;
	char *backend;
	char *memory_type;
	char *detail;
};

struct cdm_run_info {
	char uuid[40];
	uint64_t start_wall;
	char *harness_version;
	char *git_revision;
	char *job_name;
	char *job_text;
	uint64_t seed;
	char *environment;	/* bare-metal, qemu-tcg, qemu-kvm, vm */
	struct cdm_host host;
	struct cdm_kernel kernel;
	char *cmdline;		/* kernel command line */
	char *argv;		/* cdmbench command line */
	char *kmsg_status;	/* "ok" or "unavailable: why" */
	struct cdm_kvlist tags;
	struct cdm_device *devs;
	size_t ndevs;
	int ncases;
};
void run_info_free(struct cdm_run_info *r);

#endif
