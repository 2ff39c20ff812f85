// SPDX-License-Identifier: GPL-2.0
/*
 * The HIP (ROCm) engine: AMD GPUs through amdkfd's SVM, the kernel path of
 * HMM on real hardware. hipMallocManaged and, with XNACK, plain malloc
 * memory are mirrored by amdkfd (svm_range, hmm_range_fault); a prefetch or
 * a GPU fault migrates pages into VRAM with migrate_vma_* (kfd_migrate.c),
 * where they become MEMORY_DEVICE_PRIVATE pages on a PCIe GPU, or
 * MEMORY_DEVICE_COHERENT pages on a GPU whose VRAM the CPU reaches over
 * XGMI (MI250X in a Frontier node); a CPU touch of a private page brings it
 * home through dev_pagemap_ops.migrate_to_ram. Built by hipcc as a plugin
 * (build/engines/hip.so) that the gcc-built core dlopens in the case
 * process. Debian's hipcc 5.2.3 knows gfx90a (MI200) but not gfx942
 * (MI300): a site with ROCm 6 rebuilds the plugin there.
 */
#include <hip/hip_runtime.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* the device pass compiles the host functions too, and sees no caller */
#ifdef __HIP_DEVICE_COMPILE__
#pragma clang diagnostic ignored "-Wunused-function"
#endif

#define GPU_NAME "hip"
#define GPU_COUNT_CALL "hipGetDeviceCount"
#define GPU_OK hipSuccess
#define GPU_ATOMIC_ADD_SYSTEM(p, v) atomicAdd_system((p), (v))
typedef hipError_t gpu_err_t;
typedef hipStream_t gpu_stream_t;

struct cdm_edev_info;
struct gpu_facts;
static void gpu_describe(int i, struct cdm_edev_info *info,
			 struct gpu_facts *f);

/* HIP 5.2's hipGetErrorString answers with the name; say it once */
static void gpu_errtext(hipError_t e, char *buf, size_t len)
{
	const char *name = hipGetErrorName(e), *text = hipGetErrorString(e);

	if (!strcmp(name, text))
		snprintf(buf, len, "%s (error %d)", name, (int)e);
	else
		snprintf(buf, len, "%s: %s (error %d)", name, text, (int)e);
}

static int gpu_errno(hipError_t e)
{
	switch (e) {
	case hipErrorOutOfMemory:
		return -ENOMEM;
	case hipErrorNoDevice:
	case hipErrorInvalidDevice:
		return -ENODEV;
	case hipErrorNotSupported:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

static hipError_t gpu_count(int *n) { return hipGetDeviceCount(n); }
static hipError_t gpu_set(int i) { return hipSetDevice(i); }
static hipError_t gpu_stream_new(hipStream_t *s) { return hipStreamCreate(s); }
static void gpu_stream_del(hipStream_t s) { (void)hipStreamDestroy(s); }
static hipError_t gpu_stream_sync(hipStream_t s) { return hipStreamSynchronize(s); }
static hipError_t gpu_last_error(void) { return hipGetLastError(); }
static hipError_t gpu_mem_info(size_t *f, size_t *t) { return hipMemGetInfo(f, t); }
static hipError_t gpu_malloc(void **p, size_t n) { return hipMalloc(p, n); }
static hipError_t gpu_host_malloc(void **p, size_t n) { return hipHostMalloc(p, n, hipHostMallocDefault); }
static void gpu_free(void *p) { (void)hipFree(p); }
static void gpu_host_free(void *p) { (void)hipHostFree(p); }

static hipError_t gpu_malloc_managed(void **p, size_t n)
{
	return hipMallocManaged(p, n, hipMemAttachGlobal);
}

static hipError_t gpu_prefetch(const void *p, size_t n, int dev, hipStream_t s)
{
	return hipMemPrefetchAsync(p, n, dev < 0 ? hipCpuDeviceId : dev, s);
}

static hipError_t gpu_memcpy(void *d, const void *s, size_t n, int to_dev,
			     hipStream_t st)
{
	return hipMemcpyAsync(d, s, n, to_dev ? hipMemcpyHostToDevice :
			      hipMemcpyDeviceToHost, st);
}

static hipError_t gpu_advise(const void *p, size_t n, int adv, int dev)
{
	switch (adv) {
	case 0: /* CDM_ADV_PREFER_DEVICE */
		return hipMemAdvise(p, n, hipMemAdviseSetPreferredLocation, dev);
	case 1: /* CDM_ADV_PREFER_SYSTEM */
		return hipMemAdvise(p, n, hipMemAdviseSetPreferredLocation,
				    hipCpuDeviceId);
	case 2: /* CDM_ADV_UNSET_PREFERRED */
		return hipMemAdvise(p, n, hipMemAdviseUnsetPreferredLocation, dev);
	case 3: /* CDM_ADV_ACCESSED_BY */
		return hipMemAdvise(p, n, hipMemAdviseSetAccessedBy, dev);
	case 4: /* CDM_ADV_COARSE_GRAIN */
		return hipMemAdvise(p, n, hipMemAdviseSetCoarseGrain, dev);
	case 5: /* CDM_ADV_FINE_GRAIN */
		return hipMemAdvise(p, n, hipMemAdviseUnsetCoarseGrain, dev);
	}
	return hipErrorInvalidValue;
}

struct gpu_dev;
/* amdkfd's SVM is HMM: pagemap already tells every page */
static void gpu_where_fixup(struct gpu_dev *, int, const void *, size_t,
			    uint8_t *)
{
}

#include "engine/gpu_engine.h"
#include "engine/hip/hip_xnack.h"

static_assert(CDM_ADV_PREFER_DEVICE == 0 && CDM_ADV_FINE_GRAIN == 5,
	      "gpu_advise's numbering follows enum cdm_advice");

#define KFD_NODES "/sys/class/kfd/kfd/topology/nodes"
#define KFD_IOLINK_XGMI 11	/* CRAT_IOLINK_TYPE_XGMI */

/* a "key value" line of a KFD topology properties file */
static long long kfd_prop(const char *path, const char *key)
{
	FILE *f = fopen(path, "re");
	char k[64];
	long long v, r = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", k, &v) == 2)
		if (!strcmp(k, key))
			r = v;
	fclose(f);
	return r;
}

/* the KFD node of a PCI function (location_id is bus << 8 | devfn) */
static int kfd_node_of(int domain, int bus, int devnum)
{
	char path[128];
	int n;

	for (n = 0; n < 256; n++) {
		snprintf(path, sizeof(path), KFD_NODES "/%d/properties", n);
		if (access(path, R_OK))
			return -1;
		if (kfd_prop(path, "location_id") == (bus << 8 | devnum << 3) &&
		    kfd_prop(path, "domain") == domain)
			return n;
	}
	return -1;
}

/*
 * amdgpu registers VRAM as MEMORY_DEVICE_COHERENT when the GPU is
 * connected to the CPU over XGMI (adev->gmc.xgmi.connected_to_cpu); KFD
 * shows that as an XGMI io_link from the GPU node to a CPU node.
 */
static bool hip_vram_coherent(int domain, int bus, int devnum)
{
	int node = kfd_node_of(domain, bus, devnum), l;
	char path[160];

	for (l = 0; node >= 0 && l < 64; l++) {
		long long to;

		snprintf(path, sizeof(path), KFD_NODES "/%d/io_links/%d/properties",
			 node, l);
		if (access(path, R_OK))
			break;
		if (kfd_prop(path, "type") != KFD_IOLINK_XGMI)
			continue;
		to = kfd_prop(path, "node_to");
		snprintf(path, sizeof(path), KFD_NODES "/%lld/properties", to);
		if (kfd_prop(path, "simd_count") == 0)
			return true;
	}
	return false;
}

static const char *const memtype_words[] = {
	"any", "private (HMM device-private)",
	"coherent (CPU-coherent over XGMI)", "unified (APU)",
};

static void gpu_describe(int i, struct cdm_edev_info *info,
			 struct gpu_facts *f)
{
	char noretry[16];
	hipDeviceProp_t p;
	hipError_t e;
	int managed = 0, fault;

	memset(info, 0, sizeof(*info));
	memset(f, 0, sizeof(*f));
	info->index = i;
	e = hipGetDeviceProperties(&p, i);
	if (e != hipSuccess) {
		char t[160];

		gpu_errtext(e, t, sizeof(t));
		snprintf(info->detail, sizeof(info->detail),
			 "hipGetDeviceProperties: %s", t);
		return;
	}
	if (hipDeviceGetAttribute(&managed, hipDeviceAttributeManagedMemory, i))
		managed = 0;
	snprintf(f->pci, sizeof(f->pci), "%04x:%02x:%02x.0", p.pciDomainID,
		 p.pciBusID, p.pciDeviceID);
	snprintf(info->name, sizeof(info->name), "%s", p.gcnArchName);
	info->mem_bytes = p.totalGlobalMem;
	info->memtype = p.integrated ? CDM_MEM_UNIFIED :
		hip_vram_coherent(p.pciDomainID, p.pciBusID, p.pciDeviceID) ?
		CDM_MEM_COHERENT : CDM_MEM_PRIVATE;
	fault = cdm_hip_xnack_ok(p.gcnArchName, getenv("HSA_XNACK"),
				 gpu_read_line("/sys/module/amdgpu/parameters/noretry",
					       noretry, sizeof(noretry))[0] ?
				 noretry : NULL, f->no_fault, sizeof(f->no_fault));
	info->caps = CDM_CAP_ALLOC_DEVICE | CDM_CAP_ALLOC_PINNED |
		     CDM_CAP_COPY | CDM_CAP_DEV_READ | CDM_CAP_DEV_WRITE |
		     CDM_CAP_ATOMICS | CDM_CAP_ADVISE | CDM_CAP_WHERE;
	if (managed)
		info->caps |= CDM_CAP_ALLOC_MANAGED;
	if (fault)
		info->caps |= CDM_CAP_ALLOC_SYSTEM | CDM_CAP_MIGRATE |
			      CDM_CAP_MIGRATE_READBACK | CDM_CAP_DEV_TOUCH;
	else
		memcpy(f->no_system, f->no_fault, sizeof(f->no_system));
	snprintf(info->detail, sizeof(info->detail),
		 "%s %s, %.1f GiB VRAM %s, XNACK %s, PCI %s", p.name,
		 p.gcnArchName, p.totalGlobalMem / 1073741824.0,
		 memtype_words[info->memtype], fault ? "on" : "off", f->pci);
}

/* --- probe: what an acceptance team needs to know before a run --- */

#ifndef CDM_HIP_TARGETS
#define CDM_HIP_TARGETS "unknown"
#endif
#ifndef CDM_HIP_GFX942
#define CDM_HIP_GFX942 "not known to the hipcc that built this plugin (Debian's 5.2.3 rejects it); rebuild with ROCm 6 for MI300"
#endif

typedef void (*emit_fn)(void *arg, const char *key, const char *val);

static void hip_probe_devices(emit_fn emit, void *arg)
{
	char why[256], key[16], line[512];
	int n = gpu_ndev(why, sizeof(why)), i;

	if (n < 0) {
		emit(arg, "devices", why);
		return;
	}
	snprintf(line, sizeof(line), "%d", n);
	emit(arg, "devices", line);
	for (i = 0; i < n; i++) {
		struct cdm_edev_info info;
		struct gpu_facts f;

		gpu_describe(i, &info, &f);
		snprintf(key, sizeof(key), "gpu%d", i);
		snprintf(line, sizeof(line), "%s%s%s", info.detail,
			 f.no_fault[0] ? "; " : "", f.no_fault);
		emit(arg, key, line);
	}
}

static void hip_probe(emit_fn emit, void *arg)
{
	char buf[256];
	int rt = 0, drv = 0;
	const char *x = getenv("HSA_XNACK");

	if (hipRuntimeGetVersion(&rt))
		rt = -1;
	if (hipDriverGetVersion(&drv))
		drv = -1;
	/* HIP encodes versions as major * 10^7 + minor * 10^5 + patch */
	snprintf(buf, sizeof(buf), "HIP runtime %d.%d.%d, driver %d.%d.%d, /dev/kfd %s",
		 rt / 10000000, rt / 100000 % 100, rt % 100000, drv / 10000000,
		 drv / 100000 % 100, drv % 100000, access("/dev/kfd", F_OK) ?
		 "absent (amdgpu not loaded)" : "present");
	emit(arg, "runtime", buf);
	hip_probe_devices(emit, arg);
	emit(arg, "HSA_XNACK", x ? x : "unset (MI200 runs without XNACK: no fault-driven migration)");
	gpu_read_line("/sys/module/amdgpu/parameters/noretry", buf, sizeof(buf));
	emit(arg, "amdgpu.noretry", buf[0] ? (!strcmp(buf, "0") ?
	     "0 (retry faults on)" : !strcmp(buf, "1") ?
	     "1 (retry faults off: no fault-driven migration)" :
	     "-1 (the chip's default)") : "amdgpu not loaded");
	emit(arg, "targets", CDM_HIP_TARGETS);
	emit(arg, "gfx942", CDM_HIP_GFX942);
}

#define CDM_STR2(x) #x
#define CDM_STR(x) CDM_STR2(x)
#define HIP_VERSION_STR CDM_STR(HIP_VERSION_MAJOR) "." CDM_STR(HIP_VERSION_MINOR) "." CDM_STR(HIP_VERSION_PATCH)

/* host code only: the device pass must not see host function addresses */
#ifndef __HIP_DEVICE_COMPILE__
extern "C" {

__attribute__((visibility("default")))
const struct cdm_engine_ops cdm_engine_plugin = {
	.abi_version = CDM_ENGINE_ABI_VERSION,
	.size = sizeof(struct cdm_engine_ops),
	.name = "hip",
	.summary = "AMD GPUs through ROCm HIP: managed and (with XNACK) malloc memory, prefetch, GPU faults, system-scope atomics",
	.build = "hipcc, HIP " HIP_VERSION_STR ", targets " CDM_HIP_TARGETS,
	.init = gpu_init,
	.enumerate = gpu_enumerate,
	.open = gpu_open,
	.close = gpu_close,
	.why_not = gpu_why_not,
	.alloc = gpu_alloc,
	.free = gpu_free_buf,
	.migrate = gpu_migrate,
	.where = gpu_where,
	.dev_read = gpu_dev_read,
	.dev_write = gpu_dev_write,
	.dev_touch = gpu_dev_touch,
	.dev_atomics = gpu_dev_atomics,
	.exclusive = NULL,
	.check_exclusive = NULL,
	.advise = gpu_advise_op,
	.copy = gpu_copy,
	.sync = gpu_sync,
	.probe = hip_probe,
};

}
#endif
