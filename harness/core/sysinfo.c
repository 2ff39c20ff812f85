// SPDX-License-Identifier: GPL-2.0
/*
 * Host and kernel identity. The kernel config digest is the sha256 of the
 * config text, from /proc/config.gz when the kernel has IKCONFIG_PROC, else
 * /boot/config-RELEASE, so the same build yields the same digest whether
 * read inside it or next to its build tree.
 */
#include <ctype.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "core/sysinfo.h"

void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (i = 0; i < len && i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[64] = 0;
}

void make_uuid(char out[40])
{
	unsigned char b[16];
	size_t i;

	if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
		uint64_t s = cdm_wall_ns() ^ getpid();

		for (i = 0; i < sizeof(b); i++)
			b[i] = splitmix64(&s);
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 40,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

static char *cpu_model(void)
{
	char *info = read_file("/proc/cpuinfo", 1 << 20, NULL), *p, *nl;
	char *model = NULL;

	if (!info)
		return xstrdup("unknown");
	p = strstr(info, "model name");
	if (p) {
		p = strchr(p, ':');
		nl = p ? strchr(p, '\n') : NULL;
		if (p && nl) {
			*nl = 0;
			model = xstrdup(strtrim(p + 1));
		}
	}
	free(info);
	return model ? model : xstrdup("unknown");
}

static uint64_t mem_total(void)
{
	char *s = read_file("/proc/meminfo", 65536, NULL), *p;
	unsigned long long kb = 0;

	if (!s)
		return 0;
	p = strstr(s, "MemTotal:");
	if (p)
		sscanf(p + 9, "%llu", &kb);
	free(s);
	return kb * 1024;
}

/* parse a cpulist/nodelist like "0-3,5" */
static int parse_list(const char *s, int *out, int max)
{
	int n = 0;

	while (s && *s) {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s)
			break;
		b = a;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (; a <= b; a++)
			if (out && n < max)
				out[n++] = a;
			else if (!out)
				n++;
		s = *end == ',' ? end + 1 : end;
		if (*s == '\n')
			break;
	}
	return n;
}

int sysinfo_mem_nodes(int *nodes, int max)
{
	char *s = read_line_file("/sys/devices/system/node/has_memory");
	int n;

	if (!s) {
		/* no NUMA support in the kernel: one node, node 0 */
		if (nodes && max > 0)
			nodes[0] = 0;
		return 1;
	}
	n = parse_list(s, nodes, max);
	free(s);
	return n ? n : 1;
}

void sysinfo_host(struct cdm_host *h)
{
	struct utsname u;
	const char *env = getenv("CDMBENCH_HOSTNAME");
	char host[256] = "unknown";

	/* a guest has no name of its own; the VM runner lends it one */
	if (env && *env)
		snprintf(host, sizeof(host), "%s", env);
	else
		gethostname(host, sizeof(host) - 1);
	uname(&u);
	h->hostname = xstrdup(host);
	h->cpu_model = cpu_model();
	h->arch = xstrdup(u.machine);
	h->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	h->numa_nodes = sysinfo_mem_nodes(NULL, 0);
	h->mem_bytes = mem_total();
}

static char *read_gz(const char *path, size_t *len)
{
	gzFile gz = gzopen(path, "rb");
	struct sbuf sb;
	char buf[65536];
	int n;

	if (!gz)
		return NULL;
	sb_init(&sb);
	while ((n = gzread(gz, buf, sizeof(buf))) > 0)
		sb_add(&sb, buf, n);
	gzclose(gz);
	if (n < 0 || !sb.len) {
		sb_free(&sb);
		return NULL;
	}
	*len = sb.len;
	return sb_detach(&sb);
}

void sysinfo_kernel(struct cdm_kernel *k)
{
	struct utsname u;
	char path[512], digest[65];
	char *cfg;
	size_t len = 0;

	uname(&u);
	k->release = xstrdup(u.release);
	k->version = read_line_file("/proc/version");
	if (!k->version)
		k->version = xasprintf("%s %s", u.sysname, u.version);
	cfg = read_gz("/proc/config.gz", &len);
	if (!cfg) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		cfg = read_gz(path, &len);
	}
	if (cfg) {
		sha256_hex(cfg, len, digest);
		k->config_digest = xstrdup(digest);
		free(cfg);
	} else {
		k->config_digest = xstrdup("");
	}
}

char *sysinfo_cmdline(void)
{
	char *s = read_line_file("/proc/cmdline");

	return s ? s : xstrdup("");
}

static bool cpuid_hypervisor(char vendor[13])
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned int a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(1), "c"(0));
	if (!(c & (1u << 31)))
		return false;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(0x40000000), "c"(0));
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &c, 4);
	memcpy(vendor + 8, &d, 4);
	vendor[12] = 0;
	return true;
#else
	vendor[0] = 0;
	return access("/sys/hypervisor/type", F_OK) == 0;
#endif
}

static const char *hypervisor_name(const char *vendor)
{
	static const char *const known[][2] = {
		{ "KVMKVMKVM", "kvm" }, { "Microsoft Hv", "hyperv" },
		{ "VMwareVMware", "vmware" }, { "XenVMMXenVMM", "xen" },
		{ "TCGTCGTCGTCG", "tcg" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(vendor, known[i][0]))
			return known[i][1];
	return "unknown";
}

char *sysinfo_environment(void)
{
	const char *env = getenv("CDMBENCH_ENVIRONMENT");
	char vendor[13] = "";
	char *dmi;

	if (env && *env)
		return xstrdup(env);
	if (!cpuid_hypervisor(vendor))
		return xstrdup("bare-metal");
	dmi = read_line_file("/sys/class/dmi/id/sys_vendor");
	if (!strcmp(vendor, "TCGTCGTCGTCG")) {
		free(dmi);
		return xstrdup("qemu-tcg");
	}
	if (!strcmp(vendor, "KVMKVMKVM") && dmi && strstr(dmi, "QEMU")) {
		free(dmi);
		return xstrdup("qemu-kvm");
	}
	free(dmi);
	/* some other hypervisor (cloud VM, firecracker): still not bare metal */
	return xasprintf("vm:%s", hypervisor_name(vendor));
}
