// SPDX-License-Identifier: GPL-2.0
/*
 * The CUDA engine: NVIDIA GPUs through nvidia-uvm. cudaMallocManaged is
 * UVM's own managed memory (not HMM: a GPU-resident page is simply absent
 * from the CPU page table, and a CPU touch faults it back through UVM's
 * fault handler); with HMM on (the open kernel modules, driver 535+, Linux
 * 6.1.24+: cudaDevAttrPageableMemoryAccess = 1, not through ATS) plain
 * malloc memory is mirrored with hmm_range_fault and migrates into VRAM as
 * MEMORY_DEVICE_PRIVATE pages via migrate_vma_*, coming home through
 * dev_pagemap_ops.migrate_to_ram. Built by nvcc with a static cudart as a
 * plugin (build/engines/cuda.so); only libcuda is needed at run time.
 * CUDA 13 changed cudaMemPrefetchAsync and cudaMemAdvise to take a struct
 * cudaMemLocation; both signatures are handled.
 */
#include <cuda_runtime.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define GPU_NAME "cuda"
#define GPU_COUNT_CALL "cudaGetDeviceCount"
#define GPU_OK cudaSuccess
#define GPU_ATOMIC_ADD_SYSTEM(p, v) atomicAdd_system((p), (v))
typedef cudaError_t gpu_err_t;
typedef cudaStream_t gpu_stream_t;

struct cdm_edev_info;
struct gpu_facts;
struct gpu_dev;
static void gpu_describe(int i, struct cdm_edev_info *info,
			 struct gpu_facts *f);

static void gpu_errtext(cudaError_t e, char *buf, size_t len)
{
	snprintf(buf, len, "%s: %s (error %d)", cudaGetErrorName(e),
		 cudaGetErrorString(e), (int)e);
}

static int gpu_errno(cudaError_t e)
{
	switch (e) {
	case cudaErrorMemoryAllocation:
		return -ENOMEM;
	case cudaErrorNoDevice:
	case cudaErrorInvalidDevice:
	case cudaErrorInsufficientDriver:
		return -ENODEV;
	case cudaErrorNotSupported:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

static cudaError_t gpu_count(int *n) { return cudaGetDeviceCount(n); }
static cudaError_t gpu_set(int i) { return cudaSetDevice(i); }
static cudaError_t gpu_stream_new(cudaStream_t *s) { return cudaStreamCreate(s); }
static void gpu_stream_del(cudaStream_t s) { (void)cudaStreamDestroy(s); }
static cudaError_t gpu_stream_sync(cudaStream_t s) { return cudaStreamSynchronize(s); }
static cudaError_t gpu_last_error(void) { return cudaGetLastError(); }
static cudaError_t gpu_mem_info(size_t *f, size_t *t) { return cudaMemGetInfo(f, t); }
static cudaError_t gpu_malloc(void **p, size_t n) { return cudaMalloc(p, n); }
static cudaError_t gpu_host_malloc(void **p, size_t n) { return cudaMallocHost(p, n); }
static void gpu_free(void *p) { (void)cudaFree(p); }
static void gpu_host_free(void *p) { (void)cudaFreeHost(p); }

static cudaError_t gpu_malloc_managed(void **p, size_t n)
{
	return cudaMallocManaged(p, n, cudaMemAttachGlobal);
}

static cudaError_t gpu_memcpy(void *d, const void *s, size_t n, int to_dev,
			      cudaStream_t st)
{
	return cudaMemcpyAsync(d, s, n, to_dev ? cudaMemcpyHostToDevice :
			       cudaMemcpyDeviceToHost, st);
}

#if CUDART_VERSION >= 13000
/* CUDA 13: a location is a struct; dev < 0 means system RAM */
static struct cudaMemLocation cuda_loc(int dev)
{
	struct cudaMemLocation l = {};

	l.type = dev < 0 ? cudaMemLocationTypeHost : cudaMemLocationTypeDevice;
	l.id = dev < 0 ? 0 : dev;
	return l;
}

static cudaError_t gpu_prefetch(const void *p, size_t n, int dev,
				cudaStream_t s)
{
	return cudaMemPrefetchAsync(p, n, cuda_loc(dev), 0, s);
}

static cudaError_t cuda_advise(const void *p, size_t n, cudaMemoryAdvise a,
			       int dev)
{
	return cudaMemAdvise(p, n, a, cuda_loc(dev));
}
#else
static cudaError_t gpu_prefetch(const void *p, size_t n, int dev,
				cudaStream_t s)
{
	return cudaMemPrefetchAsync(p, n, dev < 0 ? cudaCpuDeviceId : dev, s);
}

static cudaError_t cuda_advise(const void *p, size_t n, cudaMemoryAdvise a,
			       int dev)
{
	return cudaMemAdvise(p, n, a, dev < 0 ? cudaCpuDeviceId : dev);
}
#endif

static cudaError_t gpu_advise(const void *p, size_t n, int adv, int dev)
{
	switch (adv) {
	case 0: /* CDM_ADV_PREFER_DEVICE */
		return cuda_advise(p, n, cudaMemAdviseSetPreferredLocation, dev);
	case 1: /* CDM_ADV_PREFER_SYSTEM */
		return cuda_advise(p, n, cudaMemAdviseSetPreferredLocation, -1);
	case 2: /* CDM_ADV_UNSET_PREFERRED */
		return cuda_advise(p, n, cudaMemAdviseUnsetPreferredLocation, dev);
	case 3: /* CDM_ADV_ACCESSED_BY */
		return cuda_advise(p, n, cudaMemAdviseSetAccessedBy, dev);
	}
	/* coarse and fine grain are HIP's coherence modes */
	return cudaErrorNotSupported;
}

/*
 * UVM's managed memory is not HMM: a page resident on the GPU is just not
 * mapped on the CPU. For such a page the runtime's last prefetch target
 * is the best word there is; a page that moved by a GPU fault (no
 * prefetch) stays UNKNOWN rather than guessed.
 */
static void gpu_where_fixup(struct gpu_dev *g, int kind, const void *addr,
			    size_t npages, uint8_t *loc);

#include "engine/gpu_engine.h"

static_assert(CDM_ADV_PREFER_DEVICE == 0 && CDM_ADV_ACCESSED_BY == 3,
	      "gpu_advise's numbering follows enum cdm_advice");

static void gpu_where_fixup(struct gpu_dev *g, int kind, const void *addr,
			    size_t npages, uint8_t *loc)
{
	size_t i;

	if (kind != CDM_ALLOC_MANAGED)
		return;
	for (i = 0; i < npages; i++) {
		int dev = cudaInvalidDeviceId;

		if (cdm_pg_loc(loc[i]) != CDM_LOC_NONE)
			continue;
		if (cudaMemRangeGetAttribute(&dev, sizeof(dev),
					     cudaMemRangeAttributeLastPrefetchLocation,
					     (const char *)addr + i * gpu_pg(),
					     gpu_pg()) != cudaSuccess)
			dev = cudaInvalidDeviceId;
		/* prefetched home but not yet mapped by a CPU touch: system RAM */
		loc[i] = dev == g->ordinal ? CDM_LOC_LOCAL :
			 dev == cudaCpuDeviceId ? CDM_LOC_SYSTEM :
			 dev >= 0 ? CDM_LOC_REMOTE : CDM_LOC_UNKNOWN;
	}
}

static int cuda_attr(enum cudaDeviceAttr a, int i)
{
	int v = 0;

	return cudaDeviceGetAttribute(&v, a, i) == cudaSuccess ? v : 0;
}

/* HMM, ATS (Grace: the GPU walks the CPU's page tables), or neither */
static const char *cuda_addressing(int i)
{
	if (!cuda_attr(cudaDevAttrPageableMemoryAccess, i))
		return "none";
	return cuda_attr(cudaDevAttrPageableMemoryAccessUsesHostPageTables, i) ?
		"ATS" : "HMM";
}

static void gpu_describe(int i, struct cdm_edev_info *info,
			 struct gpu_facts *f)
{
	const char *mode = cuda_addressing(i);
	struct cudaDeviceProp p;
	cudaError_t e;

	memset(info, 0, sizeof(*info));
	memset(f, 0, sizeof(*f));
	info->index = i;
	e = cudaGetDeviceProperties(&p, i);
	if (e != cudaSuccess) {
		char t[160];

		gpu_errtext(e, t, sizeof(t));
		snprintf(info->detail, sizeof(info->detail),
			 "cudaGetDeviceProperties: %s", t);
		return;
	}
	snprintf(f->pci, sizeof(f->pci), "%04x:%02x:%02x.0", p.pciDomainID,
		 p.pciBusID, p.pciDeviceID);
	snprintf(info->name, sizeof(info->name), "%.63s", p.name);
	info->mem_bytes = p.totalGlobalMem;
	info->memtype = p.integrated ? CDM_MEM_UNIFIED :
		!strcmp(mode, "ATS") ? CDM_MEM_COHERENT : CDM_MEM_PRIVATE;
	info->caps = CDM_CAP_ALLOC_DEVICE | CDM_CAP_ALLOC_PINNED |
		     CDM_CAP_COPY | CDM_CAP_DEV_READ | CDM_CAP_DEV_WRITE |
		     CDM_CAP_ADVISE | CDM_CAP_WHERE;
	if (cuda_attr(cudaDevAttrManagedMemory, i))
		info->caps |= CDM_CAP_ALLOC_MANAGED;
	if (cuda_attr(cudaDevAttrConcurrentManagedAccess, i))
		info->caps |= CDM_CAP_MIGRATE | CDM_CAP_MIGRATE_READBACK |
			      CDM_CAP_DEV_TOUCH | CDM_CAP_ATOMICS;
	else {
		snprintf(f->no_fault, sizeof(f->no_fault),
			 "%.64s: cudaDevAttrConcurrentManagedAccess = 0: managed pages cannot migrate on fault or be prefetched while the CPU may touch them",
			 p.name);
		snprintf(f->no_atomics, sizeof(f->no_atomics), "%s", f->no_fault);
	}
	if (strcmp(mode, "none"))
		info->caps |= CDM_CAP_ALLOC_SYSTEM;
	else
		snprintf(f->no_system, sizeof(f->no_system),
			 "%.64s: cudaDevAttrPageableMemoryAccess = 0: HMM is off, the GPU cannot reach malloc memory (HMM needs the open kernel modules, driver 535+ and Linux 6.1.24+)",
			 p.name);
	snprintf(info->detail, sizeof(info->detail),
		 "%.64s, compute %d.%d, %.1f GiB, addressing %s, PCI %.16s", p.name,
		 p.major, p.minor, p.totalGlobalMem / 1073741824.0, mode, f->pci);
}

/* --- probe --- */

typedef void (*emit_fn)(void *arg, const char *key, const char *val);

static void cuda_probe_devices(emit_fn emit, void *arg)
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
		snprintf(line, sizeof(line),
			 "%s; pageableMemoryAccess %d, usesHostPageTables %d, concurrentManagedAccess %d, hostNativeAtomics %d",
			 info.detail, cuda_attr(cudaDevAttrPageableMemoryAccess, i),
			 cuda_attr(cudaDevAttrPageableMemoryAccessUsesHostPageTables, i),
			 cuda_attr(cudaDevAttrConcurrentManagedAccess, i),
			 cuda_attr(cudaDevAttrHostNativeAtomicSupported, i));
		emit(arg, key, line);
	}
}

/* NVIDIA's HMM needs Linux 6.1.24 or later */
static const char *cuda_kernel_hmm(struct utsname *u, char *buf, size_t len)
{
	int a = 0, b = 0, c = 0;

	if (uname(u))
		return "unknown";
	sscanf(u->release, "%d.%d.%d", &a, &b, &c);
	snprintf(buf, len, "%.64s (%s)", u->release,
		 a * 1000000 + b * 1000 + c >= 6001024 ?
		 "new enough for NVIDIA HMM: 6.1.24+" :
		 "too old for NVIDIA HMM: needs 6.1.24+");
	return buf;
}

static void cuda_probe(emit_fn emit, void *arg)
{
	char buf[256], mod[128];
	struct utsname u;
	int drv = 0;

	if (cudaDriverGetVersion(&drv) != cudaSuccess)
		drv = 0;
	/* CUDA encodes versions as major * 1000 + minor * 10 */
	if (drv)
		snprintf(buf, sizeof(buf), "%d.%d (CUDA driver API)", drv / 1000,
			 drv % 1000 / 10);
	else
		snprintf(buf, sizeof(buf), "none: no libcuda / NVIDIA driver loaded");
	emit(arg, "driver_version", buf);
	snprintf(buf, sizeof(buf), "%d.%d (static cudart)", CUDART_VERSION / 1000,
		 CUDART_VERSION % 1000 / 10);
	emit(arg, "runtime_version", buf);
	gpu_read_line("/sys/module/nvidia/version", mod, sizeof(mod));
	snprintf(buf, sizeof(buf), "%s", mod[0] ? mod : "not loaded");
	emit(arg, "nvidia_module", buf);
	emit(arg, "kernel", cuda_kernel_hmm(&u, buf, sizeof(buf)));
	cuda_probe_devices(emit, arg);
}

#define CDM_STR2(x) #x
#define CDM_STR(x) CDM_STR2(x)

extern "C" {

__attribute__((visibility("default")))
const struct cdm_engine_ops cdm_engine_plugin = {
	.abi_version = CDM_ENGINE_ABI_VERSION,
	.size = sizeof(struct cdm_engine_ops),
	.name = "cuda",
	.summary = "NVIDIA GPUs through CUDA: managed and (with HMM) malloc memory, prefetch, GPU faults, system-scope atomics",
	.build = "nvcc, CUDART_VERSION " CDM_STR(CUDART_VERSION) " (static), sm_80 sm_90 + compute_90 PTX",
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
	.probe = cuda_probe,
};

}
