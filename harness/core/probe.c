// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench probe`: what this machine can exercise and, for each thing it
 * cannot, why not. Also the device scan recorded with every run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifdef CDM_HAVE_LIKWID
#include <likwid.h>
#endif

#include "cli/cli.h"
#include "lib/dmirror.h"
#include "core/probe.h"
#include "core/sysinfo.h"

#define GUP_TEST_PATH "/sys/kernel/debug/gup_test"

void cdm_scan_devices(struct cdm_run_info *r)
{
	char path[64];
	int m;

	for (m = 0; m < DMIRROR_NDEV; m++) {
		struct cdm_device *d;

		if (access(dmirror_path(m, path, sizeof(path)), F_OK))
			continue;
		r->devs = xrealloc(r->devs, (r->ndevs + 1) * sizeof(*r->devs));
		d = &r->devs[r->ndevs++];
		d->path = xstrdup(path);
		d->backend = xstrdup("dmirror");
		d->memory_type = xstrdup(dmirror_type_name(dmirror_expected_type(m)));
		d->detail = xstrdup("test_hmm");
	}
}

struct probe_item {
	char *name;
	bool ok;
	char *value;		/* what was found */
};

struct probe {
	struct probe_item *v;
	size_t n;
};

static void add(struct probe *p, const char *name, bool ok, const char *fmt,
		...) __printf(4, 5);
static void add(struct probe *p, const char *name, bool ok, const char *fmt,
		...)
{
	struct sbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n].name = xstrdup(name);
	p->v[p->n].ok = ok;
	p->v[p->n].value = sb_detach(&sb);
	p->n++;
}

static void probe_kernel(struct probe *p)
{
	struct cdm_kernel k = { 0 };
	char *env = sysinfo_environment(), *cmd = sysinfo_cmdline();

	sysinfo_kernel(&k);
	add(p, "kernel", true, "%s", k.release);
	add(p, "kernel.config", k.config_digest[0] != 0, "%s",
	    k.config_digest[0] ? k.config_digest :
	    "unknown: neither /proc/config.gz nor /boot/config-RELEASE readable");
	add(p, "kernel.cmdline", true, "%s", cmd);
	add(p, "environment", true, "%s", env);
	free(k.release);
	free(k.version);
	free(k.config_digest);
	free(env);
	free(cmd);
}

static void probe_numa(struct probe *p)
{
	int nodes[64], n, i;
	struct sbuf sb;

	n = sysinfo_mem_nodes(nodes, 64);
	sb_init(&sb);
	for (i = 0; i < n && i < 64; i++)
		sb_addf(&sb, "%s%d", i ? "," : "", nodes[i]);
	add(p, "numa.nodes", true, "%d with memory (%s)", n, sb.buf);
	add(p, "numa.move_pages", n >= 2, "%s",
	    n >= 2 ? "yes: numa-migrate can run" :
	    "no: only one NUMA node with memory; numa-migrate will SKIP");
	sb_free(&sb);
}

static void probe_thp(struct probe *p)
{
	char *s = read_line_file("/sys/kernel/mm/transparent_hugepage/enabled");
	char *l, *r;

	if (!s) {
		add(p, "thp", false, "unavailable: kernel without TRANSPARENT_HUGEPAGE");
		return;
	}
	l = strchr(s, '[');
	r = l ? strchr(l, ']') : NULL;
	if (l && r)
		*r = 0;
	add(p, "thp", true, "%s", l ? l + 1 : s);
	free(s);
}

static void probe_kmsg(struct probe *p)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		add(p, "kmsg", false, "unreadable: /dev/kmsg: %s (kernel events will not be recorded)",
		    strerror(errno));
		return;
	}
	close(fd);
	add(p, "kmsg", true, "readable");
}

static void probe_dmirror(struct probe *p, bool deep)
{
	char path[64], name[32], detail[160];
	int m, found = 0;

	for (m = 0; m < DMIRROR_NDEV; m++) {
		enum dmirror_memtype want = dmirror_expected_type(m), got;
		int fd;

		dmirror_path(m, path, sizeof(path));
		snprintf(name, sizeof(name), "dmirror%d", m);
		if (access(path, F_OK))
			continue;
		found++;
		fd = dmirror_open(m);
		if (fd < 0) {
			add(p, name, false, "%s: cannot open: %s", path,
			    strerror(-fd));
			continue;
		}
		if (!deep) {
			add(p, name, true, "%s %s (by minor number)", path,
			    dmirror_type_name(want));
			close(fd);
			continue;
		}
		got = dmirror_probe_type(fd, detail, sizeof(detail));
		close(fd);
		add(p, name, got == want, "%s %s: %s%s", path,
		    dmirror_type_name(got), detail,
		    got == want ? "" : " (unexpected for this minor)");
	}
	if (found)
		return;
	if (access("/sys/module/test_hmm", F_OK) == 0)
		add(p, "dmirror", false, "test_hmm is loaded but /dev/hmm_dmirror* is missing (no devtmpfs?)");
	else
		add(p, "dmirror", false, "no /dev/hmm_dmirror*: kernel without CONFIG_TEST_HMM, or module not loaded (modprobe test_hmm)");
}

static void probe_spm(struct probe *p)
{
	char *a = read_line_file("/sys/module/test_hmm/parameters/spm_addr_dev0");
	char *b = read_line_file("/sys/module/test_hmm/parameters/spm_addr_dev1");

	if (a && b) {
		unsigned long x = strtoul(a, NULL, 0), y = strtoul(b, NULL, 0);
		bool on = x && y;

		add(p, "dmirror.spm", on, "spm_addr_dev0=0x%lx spm_addr_dev1=0x%lx%s",
		    x, y, on ? "" : " (both needed for coherent devices 2 and 3)");
	}
	free(a);
	free(b);
}

static void probe_gup(struct probe *p)
{
	struct stat st;

	if (access(GUP_TEST_PATH, F_OK) == 0) {
		add(p, "gup_test", access(GUP_TEST_PATH, R_OK | W_OK) == 0,
		    "%s%s", GUP_TEST_PATH,
		    access(GUP_TEST_PATH, R_OK | W_OK) ? " (no access: run as root)" : "");
		return;
	}
	if (stat("/sys/kernel/debug", &st) || access("/sys/kernel/debug", X_OK))
		add(p, "gup_test", false, "cannot look: /sys/kernel/debug not accessible (root needed)");
	else if (access("/sys/kernel/debug/bdi", F_OK) && errno == ENOENT &&
		 access("/sys/kernel/debug/sched", F_OK))
		add(p, "gup_test", false, "debugfs not mounted (mount -t debugfs none /sys/kernel/debug)");
	else
		add(p, "gup_test", false, "absent: kernel without CONFIG_GUP_TEST");
}

static void probe_uring(struct probe *p)
{
	struct io_uring ring;
	char *dis = read_line_file("/proc/sys/kernel/io_uring_disabled");
	int r = io_uring_queue_init(4, &ring, 0);

	if (r == 0) {
		io_uring_queue_exit(&ring);
		add(p, "io_uring", true, "usable (buffer registration pins FOLL_LONGTERM)");
	} else {
		add(p, "io_uring", false, "io_uring_setup failed: %s%s%s",
		    strerror(-r), dis ? "; io_uring_disabled=" : "",
		    dis ? dis : "");
	}
	free(dis);
}

static void probe_likwid(struct probe *p)
{
#ifdef CDM_HAVE_LIKWID
	CpuTopology_t t;

	if (topology_init()) {
		add(p, "likwid", false, "topology_init failed");
		return;
	}
	t = get_cpuTopology();
	add(p, "likwid", true, "topology: %u socket(s), %u core(s)/socket, %u thread(s)/core",
	    t->numSockets, t->numCoresPerSocket, t->numThreadsPerCore);
	topology_finalize();
#else
	add(p, "likwid", false, "not compiled in (install likwid and rebuild)");
#endif
}

static void probe_gpus(struct probe *p)
{
	/* GPU backends arrive with their issues; say so rather than guess */
	add(p, "hip", false, "backend not built in this version (roadmap: HIP on MI250X/MI300A)");
	add(p, "cuda", false, "backend not built in this version (roadmap: CUDA HMM on NVIDIA)");
}

static void print_text(const struct probe *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		printf("%-16s %-4s %s\n", p->v[i].name,
		       p->v[i].ok ? "yes" : "no", p->v[i].value);
}

static void print_json(const struct probe *p)
{
	struct sbuf sb;
	struct json j;
	size_t i;

	sb_init(&sb);
	json_init(&j, &sb, true);
	json_obj_open(&j, NULL);
	for (i = 0; i < p->n; i++) {
		json_obj_open(&j, p->v[i].name);
		json_bool(&j, "ok", p->v[i].ok);
		json_str(&j, "value", p->v[i].value);
		json_obj_close(&j);
	}
	json_obj_close(&j);
	fputs(sb.buf, stdout);
	sb_free(&sb);
}

int cmd_probe(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct probe p = { 0 };
	bool json = false, deep = true;
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "jqh", lo, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'q':
			deep = false;
			break;
		case 'h':
			return cli_help("probe");
		default:
			return cli_usage_error("probe");
		}
	}
	if (optind < argc)
		return cli_usage_error("probe");
	probe_kernel(&p);
	probe_numa(&p);
	probe_thp(&p);
	probe_kmsg(&p);
	probe_dmirror(&p, deep);
	probe_spm(&p);
	probe_gup(&p);
	probe_uring(&p);
	probe_likwid(&p);
	probe_gpus(&p);
	if (json)
		print_json(&p);
	else
		print_text(&p);
	for (i = 0; i < p.n; i++) {
		free(p.v[i].name);
		free(p.v[i].value);
	}
	free(p.v);
	return 0;
}
