// SPDX-License-Identifier: GPL-2.0
/*
 * Finding an engine: dmirror is built in; hip and cuda are plugins,
 * <dir>/<name>.so with dir $CDMBENCH_ENGINE_DIR or engines/ beside the
 * binary, checked on load (ABI version, name, mandatory hooks) so a stale
 * or foreign .so is refused with a reason instead of crashing a case.
 * Also the services the host lends plugins (engine.h: cdm_engine_host),
 * among them vendor-neutral placement from /proc/self/pagemap.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/fixture.h"

/* how to get each plugin, for the one-line error when it is absent */
static const struct {
	const char *name;
	const char *how;
} engine_hints[] = {
	{ "hip", "install hipcc and libamdhip64-dev (harness/setup.sh) and run make" },
	{ "cuda", "install the CUDA toolkit (nvcc in /usr/local/cuda or on PATH) and run make" },
};

const char *cdm_engine_path(const char *name, char *buf, size_t len)
{
	const char *dir = getenv(CDM_ENGINE_DIR_ENV);
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (dir && *dir) {
		snprintf(buf, len, "%s/%s.so", dir, name);
		return buf;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(buf, len, "build/engines/%s.so", name);
		return buf;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(buf, len, "%s/engines/%s.so", exe, name);
	return buf;
}

static const char *hint(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(engine_hints); i++)
		if (!strcmp(engine_hints[i].name, name))
			return engine_hints[i].how;
	return "see README (Engines)";
}

/* the table a plugin exports, checked; NULL with why */
static const struct cdm_engine_ops *check_table(const struct cdm_engine_ops *o,
						const char *name,
						const char *path, char *why,
						size_t len)
{
	if (o->abi_version != CDM_ENGINE_ABI_VERSION) {
		snprintf(why, len, "engine %s: %s was built for engine ABI %u, this cdmbench speaks %u: rebuild it with make",
			 name, path, o->abi_version, CDM_ENGINE_ABI_VERSION);
		return NULL;
	}
	if (o->size < offsetof(struct cdm_engine_ops, probe) ||
	    !o->name || strcmp(o->name, name)) {
		snprintf(why, len, "engine %s: %s exports a table for '%s' (size %u): not this engine",
			 name, path, o->name ? o->name : "?", o->size);
		return NULL;
	}
	if (!o->init || !o->enumerate || !o->open || !o->close || !o->why_not) {
		snprintf(why, len, "engine %s: %s lacks a mandatory hook (init, enumerate, open, close, why_not)",
			 name, path);
		return NULL;
	}
	return o;
}

static struct {
	char name[32];
	const struct cdm_engine_ops *ops;
} loaded[4];

const struct cdm_engine_ops *cdm_engine_get(const char *name, char *why,
					    size_t len)
{
	const struct cdm_engine_ops *o;
	char path[PATH_MAX];
	void *h;
	size_t i;

	if (!strcmp(name, "dmirror"))
		return &cdm_engine_dmirror;
	for (i = 0; i < ARRAY_SIZE(loaded); i++)
		if (loaded[i].ops && !strcmp(loaded[i].name, name))
			return loaded[i].ops;
	cdm_engine_path(name, path, sizeof(path));
	if (access(path, R_OK)) {
		snprintf(why, len, "engine %s is not built: %s: %s (to build it, %s)",
			 name, path, strerror(errno), hint(name));
		return NULL;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, len, "engine %s: %s", name, dlerror());
		return NULL;
	}
	o = dlsym(h, CDM_ENGINE_SYMBOL);
	if (!o) {
		snprintf(why, len, "engine %s: %s does not export %s", name, path,
			 CDM_ENGINE_SYMBOL);
		dlclose(h);
		return NULL;
	}
	o = check_table(o, name, path, why, len);
	if (!o) {
		dlclose(h);
		return NULL;
	}
	/* kept open for the life of the process: its code is in use */
	for (i = 0; i < ARRAY_SIZE(loaded); i++) {
		if (loaded[i].ops)
			continue;
		snprintf(loaded[i].name, sizeof(loaded[i].name), "%s", name);
		loaded[i].ops = o;
		break;
	}
	return o;
}

/* --- what the host lends a plugin --- */

static void host_log(const char *engine, const char *msg)
{
	fprintf(stderr, "cdmbench: engine %s: %s\n", engine, msg);
}

#define PM_PFN_MASK ((1ull << 55) - 1)
#define PM_SWAP (1ull << 62)
#define PM_PRESENT (1ull << 63)
#define PM_SWAP_TYPE_BITS 5

static bool in_ranges(uint64_t pfn, const uint64_t (*r)[2], int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (pfn >= r[i][0] && pfn < r[i][1])
			return true;
	return false;
}

/*
 * Special swap entries (device-private, device-exclusive, migration,
 * hwpoison, markers) take the top swap types, above the MAX_SWAPFILES
 * (23 or more on x86_64 6.1) real swap files may use; pagemap shows the
 * type only to CAP_SYS_ADMIN. Any type from 20 up is read as a device
 * entry here, so a migration entry reads as on the device: in transit.
 */
static bool device_swap(uint64_t e)
{
	unsigned int type = e & ((1u << PM_SWAP_TYPE_BITS) - 1);

	return type >= 20;
}

static int host_pagemap_where(const void *addr, size_t npages,
			      const uint64_t (*local)[2], int nlocal,
			      const uint64_t (*remote)[2], int nremote,
			      uint8_t *loc)
{
	size_t pg = sysconf(_SC_PAGESIZE), i;
	off_t off = (uintptr_t)addr / pg * sizeof(uint64_t);
	bool pfns = false;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	for (i = 0; i < npages; i++) {
		uint64_t e, pfn;

		if (pread(fd, &e, sizeof(e), off + i * sizeof(e)) != sizeof(e)) {
			r = -EIO;
			break;
		}
		pfn = e & PM_PFN_MASK;
		if (e & PM_PRESENT) {
			pfns |= pfn != 0;
			loc[i] = in_ranges(pfn, local, nlocal) ?
				CDM_LOC_LOCAL | CDM_PG_COHERENT :
				in_ranges(pfn, remote, nremote) ?
				CDM_LOC_REMOTE | CDM_PG_COHERENT : CDM_LOC_SYSTEM;
		} else if ((e & PM_SWAP) && device_swap(e)) {
			loc[i] = CDM_LOC_LOCAL;
		} else {
			loc[i] = CDM_LOC_NONE;
		}
	}
	close(fd);
	if (!r && !pfns && (nlocal || nremote))
		r = -EPERM;
	return r;
}

const struct cdm_engine_host cdm_engine_host = {
	.abi_version = CDM_ENGINE_ABI_VERSION,
	.size = sizeof(struct cdm_engine_host),
	.now_ns = cdm_now_ns,
	.log = host_log,
	.pagemap_where = host_pagemap_where,
};
