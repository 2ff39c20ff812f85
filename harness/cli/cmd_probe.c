// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench probe`: what this machine can exercise and, for each thing it
 * cannot, why not. The device lines come from the device code
 * (cdm_probe_devices), the same that records a run's devices.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
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
#include "core/engines.h"
#include "core/probe.h"
#include "core/sysinfo.h"

#define GUP_TEST_PATH "/sys/kernel/debug/gup_test"

static void probe_kernel(struct cdm_probe *p)
{
	struct cdm_kernel k = { 0 };
	char *env = sysinfo_environment(), *cmd = sysinfo_cmdline();

	sysinfo_kernel(&k);
	cdm_probe_add(p, "kernel", true, "%s", k.release);
	cdm_probe_add(p, "kernel.config", k.config_digest[0] != 0, "%s",
	    k.config_digest[0] ? k.config_digest :
	    "unknown: neither /proc/config.gz nor /boot/config-RELEASE readable");
	cdm_probe_add(p, "kernel.cmdline", true, "%s", cmd);
	cdm_probe_add(p, "environment", true, "%s", env);
	free(k.release);
	free(k.version);
	free(k.config_digest);
	free(env);
	free(cmd);
}

static void probe_numa(struct cdm_probe *p)
{
	int nodes[64], n, i;
	struct sbuf sb;

	n = sysinfo_mem_nodes(nodes, 64);
	sb_init(&sb);
	for (i = 0; i < n && i < 64; i++)
		sb_addf(&sb, "%s%d", i ? "," : "", nodes[i]);
	cdm_probe_add(p, "numa.nodes", true, "%d with memory (%s)", n, sb.buf);
	cdm_probe_add(p, "numa.move_pages", n >= 2, "%s",
	    n >= 2 ? "yes: numa-migrate can run" :
	    "no: only one NUMA node with memory; numa-migrate will SKIP");
	sb_free(&sb);
}

static void probe_thp(struct cdm_probe *p)
{
	char *s = read_line_file("/sys/kernel/mm/transparent_hugepage/enabled");
	char *l, *r;

	if (!s) {
		cdm_probe_add(p, "thp", false, "unavailable: kernel without TRANSPARENT_HUGEPAGE");
		return;
	}
	l = strchr(s, '[');
	r = l ? strchr(l, ']') : NULL;
	if (l && r)
		*r = 0;
	cdm_probe_add(p, "thp", true, "%s", l ? l + 1 : s);
	free(s);
}

static void probe_kmsg(struct cdm_probe *p)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		cdm_probe_add(p, "kmsg", false, "unreadable: /dev/kmsg: %s (kernel events will not be recorded)",
		    strerror(errno));
		return;
	}
	close(fd);
	cdm_probe_add(p, "kmsg", true, "readable");
}

static void probe_gup(struct cdm_probe *p)
{
	struct stat st;

	if (access(GUP_TEST_PATH, F_OK) == 0) {
		cdm_probe_add(p, "gup_test", access(GUP_TEST_PATH, R_OK | W_OK) == 0,
		    "%s%s", GUP_TEST_PATH,
		    access(GUP_TEST_PATH, R_OK | W_OK) ? " (no access: run as root)" : "");
		return;
	}
	if (stat("/sys/kernel/debug", &st) || access("/sys/kernel/debug", X_OK))
		cdm_probe_add(p, "gup_test", false, "cannot look: /sys/kernel/debug not accessible (root needed)");
	else if (access("/sys/kernel/debug/bdi", F_OK) && errno == ENOENT &&
		 access("/sys/kernel/debug/sched", F_OK))
		cdm_probe_add(p, "gup_test", false, "debugfs not mounted (mount -t debugfs none /sys/kernel/debug)");
	else
		cdm_probe_add(p, "gup_test", false, "absent: kernel without CONFIG_GUP_TEST");
}

static void probe_uring(struct cdm_probe *p)
{
	struct io_uring ring;
	char *dis = read_line_file("/proc/sys/kernel/io_uring_disabled");
	int r = io_uring_queue_init(4, &ring, 0);

	if (r == 0) {
		io_uring_queue_exit(&ring);
		cdm_probe_add(p, "io_uring", true, "usable (buffer registration pins FOLL_LONGTERM)");
	} else {
		cdm_probe_add(p, "io_uring", false, "io_uring_setup failed: %s%s%s",
		    strerror(-r), dis ? "; io_uring_disabled=" : "",
		    dis ? dis : "");
	}
	free(dis);
}

static void probe_likwid(struct cdm_probe *p)
{
#ifdef CDM_HAVE_LIKWID
	CpuTopology_t t;

	if (topology_init()) {
		cdm_probe_add(p, "likwid", false, "topology_init failed");
		return;
	}
	t = get_cpuTopology();
	cdm_probe_add(p, "likwid", true, "topology: %u socket(s), %u core(s)/socket, %u thread(s)/core",
	    t->numSockets, t->numCoresPerSocket, t->numThreadsPerCore);
	topology_finalize();
#else
	cdm_probe_add(p, "likwid", false, "not compiled in (install likwid and rebuild)");
#endif
}

static void probe_engine_item(void *arg, const char *name, bool ok,
			      const char *value)
{
	cdm_probe_add(arg, name, ok, "%s", value);
}

/* the GPU engines' own answers, from a forked helper (core/engines.h) */
static void probe_gpus(struct cdm_probe *p)
{
	cdm_engines_probe(probe_engine_item, p, 30);
}

static void print_text(const struct cdm_probe *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		printf("%-16s %-4s %s\n", p->v[i].name,
		       p->v[i].ok ? "yes" : "no", p->v[i].value);
}

static void print_json(const struct cdm_probe *p)
{
	struct sbuf sb;
	struct json j;
	size_t i;

	json_doc(&j, &sb);
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

struct probe_args {
	bool json;
	bool quick;
};

const struct cli_spec cli_probe_spec = {
	.cmd = "probe",
	.usage = "usage: cdmbench probe [--json] [--quick]\n",
	.about =
	"Reports the kernel, NUMA nodes, THP mode, /dev/kmsg, test_hmm devices\n"
	"(/dev/hmm_dmirror*) and their memory type, gup_test in debugfs,\n"
	"io_uring, likwid topology and GPU backends; for anything missing it\n"
	"says why. Device types are confirmed by migrating one page to each\n"
	"device; --quick infers them from the minor number instead.\n",
	.opts = (const struct cli_opt[]) {
		CLI_OPT_JSON(struct probe_args, json, "the same as JSON"),
		{ .name = "quick", .key = 'q', .kind = CLI_FLAG,
		  .off = offsetof(struct probe_args, quick),
		  .help = "device types by minor number, without migrating" },
		CLI_OPT_END
	},
};

int cmd_probe(int argc, char **argv)
{
	struct probe_args a = { 0 };
	struct cdm_probe p = { 0 };
	int r;

	r = cli_parse(&cli_probe_spec, argc, argv, &a);
	if (r)
		return cli_parse_exit(r);
	if (optind < argc)
		return cli_usage_error("probe");
	probe_kernel(&p);
	probe_numa(&p);
	probe_thp(&p);
	probe_kmsg(&p);
	cdm_probe_devices(&p, !a.quick);
	probe_gup(&p);
	probe_uring(&p);
	probe_likwid(&p);
	probe_gpus(&p);
	if (a.json)
		print_json(&p);
	else
		print_text(&p);
	cdm_probe_free(&p);
	return 0;
}
