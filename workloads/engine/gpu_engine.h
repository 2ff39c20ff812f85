/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The body the HIP and CUDA engines share (C++, included once by
 * hip/hip_engine.hip and cuda/cuda_engine.cu). The two runtimes have the
 * same shape (managed memory, prefetch, advise, streams, system-scope
 * atomics); what differs, the includer supplies first as a small shim:
 *
 *   GPU_NAME                 "hip" / "cuda": engine name, error prefix
 *   GPU_COUNT_CALL           the runtime call that counts devices
 *   gpu_err_t, gpu_stream_t, GPU_OK
 *   gpu_errtext(e, buf, len) the runtime's own name and text for e
 *   gpu_errno(e)             -ENOMEM, -ENODEV, -EOPNOTSUPP or -EIO
 *   gpu_count, gpu_set, gpu_stream_new/_del/_sync, gpu_mem_info,
 *   gpu_malloc_managed, gpu_malloc, gpu_host_malloc, gpu_free,
 *   gpu_host_free, gpu_prefetch (dev -1: system RAM), gpu_advise,
 *   gpu_memcpy, gpu_last_error
 *   gpu_describe(ordinal, info, facts)  what the device is and can do
 *   gpu_where_fixup(g, kind, addr, n, loc)  the runtime's word on pages
 *                            pagemap cannot place (may do nothing)
 *   GPU_ATOMIC_ADD_SYSTEM(p, v)         a system-scope 64-bit atomic add
 *
 * Everything here runs in the case process (engine.h: init and after).
 */
#ifndef CDM_GPU_ENGINE_H
#define CDM_GPU_ENGINE_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/engine.h"

#define GPU_THREADS 256
#define GPU_MAX_BLOCKS 65535
#define GPU_MAX_RANGES 8
#define THP_SIZE (2ul << 20)

/* what gpu_describe() found beyond cdm_edev_info: the reasons for missing caps */
struct gpu_facts {
	char no_fault[256];	/* why GPU faults cannot migrate (XNACK, UVM) */
	char no_system[256];	/* why malloc memory is out of reach (HMM off) */
	char no_where[256];	/* why placement cannot be read */
	char no_atomics[256];
	char pci[32];		/* "0000:c1:00.0", for /proc/iomem */
};

struct gpu_alloc {
	void *p;
	size_t len;
	enum cdm_alloc_kind kind;
	struct gpu_alloc *next;
};

struct gpu_dev {
	int ordinal;
	gpu_stream_t stream;
	void *stage;		/* pinned staging for dev_read/dev_write */
	size_t stage_len;
	struct gpu_facts facts;
	uint64_t local[GPU_MAX_RANGES][2];	/* PFN ranges of this GPU's memory */
	int nlocal;
	uint64_t remote[GPU_MAX_RANGES][2];	/* of the other GPUs */
	int nremote;
	struct gpu_alloc *allocs;
};

static const struct cdm_engine_host *gpu_host;

static uint64_t gpu_now(void)
{
	return gpu_host->now_ns();
}

static size_t gpu_pg(void)
{
	return gpu_host ? gpu_host->page_size : 4096;
}

/* first line of a small sysfs/procfs file, or "" */
static const char *gpu_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	return buf;
}

static struct gpu_dev *gd(struct cdm_edev *dev)
{
	return (struct gpu_dev *)dev->priv;
}

static void __attribute__((format(printf, 2, 3)))
gpu_seterr(struct cdm_edev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev->err, sizeof(dev->err), fmt, ap);
	va_end(ap);
}

/* a failed runtime call: its own words into dev->err, a -errno back */
static int gpu_fail(struct cdm_edev *dev, const char *call, gpu_err_t e)
{
	char t[200];

	gpu_errtext(e, t, sizeof(t));
	gpu_seterr(dev, "%s: %s", call, t);
	return gpu_errno(e);
}

static int gpu_check(struct cdm_edev *dev, const char *call, gpu_err_t e)
{
	return e == GPU_OK ? 0 : gpu_fail(dev, call, e);
}

static void gpu_fill(struct cdm_estat *st, uint64_t t0, size_t pages)
{
	if (!st)
		return;
	st->ns = gpu_now() - t0;
	st->pages = pages;
	st->faults = 0;
}

/* --- kernels: grid-stride loops, so any length fits one launch --- */

static __global__ void gpu_k_copy(unsigned long long *dst,
			   const unsigned long long *src, size_t n)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;

	for (; i < n; i += (size_t)gridDim.x * blockDim.x)
		dst[i] = src[i];
}

/* one access per page; a write stores back what it read, so data stays */
static __global__ void gpu_k_touch(volatile unsigned long long *p, size_t npages,
			    size_t stride, int write)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;

	for (; i < npages; i += (size_t)gridDim.x * blockDim.x) {
		unsigned long long v = p[i * stride];

		if (write)
			p[i * stride] = v;
	}
}

static __global__ void gpu_k_atomics(unsigned long long *w, size_t nwords,
			      size_t stride, unsigned long long rounds,
			      unsigned long long inc)
{
	size_t n = (nwords + stride - 1) / stride;
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;

	for (; i < n; i += (size_t)gridDim.x * blockDim.x) {
		unsigned long long r;

		for (r = 0; r < rounds; r++)
			GPU_ATOMIC_ADD_SYSTEM(&w[i * stride], inc);
	}
}

static unsigned int gpu_blocks(size_t n)
{
	size_t b = (n + GPU_THREADS - 1) / GPU_THREADS;

	return b < 1 ? 1 : b > GPU_MAX_BLOCKS ? GPU_MAX_BLOCKS : (unsigned int)b;
}

/* launch errors surface at the next call; wait and ask both */
static int gpu_wait(struct cdm_edev *dev, const char *what)
{
	gpu_err_t e = gpu_last_error();

	if (e != GPU_OK)
		return gpu_fail(dev, what, e);
	return gpu_check(dev, what, gpu_stream_sync(gd(dev)->stream));
}

/* --- devices --- */

static int gpu_ndev(char *why, size_t len)
{
	int n = 0;
	gpu_err_t e = gpu_count(&n);

	if (e != GPU_OK) {
		char t[200];

		gpu_errtext(e, t, sizeof(t));
		snprintf(why, len, "%s: %s", GPU_COUNT_CALL, t);
		return -ENODEV;
	}
	if (n <= 0) {
		snprintf(why, len, "the %s runtime reports 0 devices", GPU_NAME);
		return -ENODEV;
	}
	return n;
}

static int gpu_init(const struct cdm_engine_host *h, char *why, size_t len)
{
	int n;

	gpu_host = h;
	n = gpu_ndev(why, len);
	return n < 0 ? n : 0;
}

static int gpu_enumerate(struct cdm_edev_info *out, int max, char *why,
			 size_t len)
{
	struct gpu_facts f;
	int n = gpu_ndev(why, len), i, seen[CDM_MEM_NTYPES] = { 0 };

	if (n < 0)
		return n;
	for (i = 0; i < n && i < max; i++) {
		gpu_describe(i, &out[i], &f);
		out[i].instance = seen[out[i].memtype]++;
	}
	return i;
}

/*
 * The physical range of a GPU's memory, from /proc/iomem: amdgpu (and
 * other HMM drivers) claim a free region named after the PCI device for
 * their device-private pages. Top-level lines only: the BARs of the same
 * device sit indented under their PCI bus. Needs root (else all zeros).
 */
static int gpu_iomem_ranges(const char *name, uint64_t (*r)[2], int max)
{
	FILE *f = fopen("/proc/iomem", "re");
	char line[256];
	int n = 0;

	if (!f || !name[0]) {
		if (f)
			fclose(f);
		return 0;
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		char nm[128];

		if (line[0] == ' ' ||
		    sscanf(line, "%llx-%llx : %127[^\n]", &a, &b, nm) != 3)
			continue;
		if (strcmp(nm, name) || (!a && !b))
			continue;
		r[n][0] = a / gpu_pg();
		r[n][1] = b / gpu_pg() + 1;
		n++;
	}
	fclose(f);
	return n;
}

static void gpu_find_ranges(struct gpu_dev *g, int ndev)
{
	struct cdm_edev_info info;
	struct gpu_facts f;
	int i;

	g->nlocal = gpu_iomem_ranges(g->facts.pci, g->local, GPU_MAX_RANGES);
	for (i = 0; i < ndev; i++) {
		if (i == g->ordinal)
			continue;
		gpu_describe(i, &info, &f);
		g->nremote += gpu_iomem_ranges(f.pci, g->remote + g->nremote,
					       GPU_MAX_RANGES - g->nremote);
	}
	if (!g->nlocal && !g->facts.no_where[0])
		snprintf(g->facts.no_where, sizeof(g->facts.no_where),
			 "no physical range of GPU %d's memory (%s) in /proc/iomem (it takes root to read; CPU-coherent VRAM may register none), so a coherent page cannot be told from system RAM in /proc/self/pagemap",
			 g->ordinal, g->facts.pci[0] ? g->facts.pci : "PCI address unknown");
}

static const char *gpu_memtype_name(enum cdm_memtype t)
{
	switch (t) {
	case CDM_MEM_PRIVATE:
		return "device-private";
	case CDM_MEM_COHERENT:
		return "CPU-coherent";
	case CDM_MEM_UNIFIED:
		return "unified";
	default:
		return "any";
	}
}

/* the device the caller asked for: by index, else n-th of a memtype */
static int gpu_pick(struct cdm_edev *dev, const struct cdm_eopen *how,
		    int n, struct gpu_facts *f)
{
	int i, k = 0;

	if (how->index >= 0) {
		if (how->index >= n) {
			gpu_seterr(dev, "%s GPU %d does not exist: the runtime reports %d device%s (0..%d)",
				   GPU_NAME, how->index, n, n == 1 ? "" : "s",
				   n - 1);
			return -ENODEV;
		}
		gpu_describe(how->index, &dev->info, f);
		return how->index;
	}
	for (i = 0; i < n; i++) {
		gpu_describe(i, &dev->info, f);
		if (how->memtype != CDM_MEM_ANY &&
		    dev->info.memtype != how->memtype)
			continue;
		if (k++ == how->instance) {
			dev->info.instance = how->instance;
			return i;
		}
	}
	gpu_seterr(dev, "no %s GPU number %d with %s memory: %d device%s here, %d of that type (probe lists each GPU's memory type)",
		   GPU_NAME, how->instance, gpu_memtype_name(how->memtype), n,
		   n == 1 ? "" : "s", k);
	return -ENODEV;
}

static int gpu_open(struct cdm_edev *dev, const struct cdm_eopen *how)
{
	struct gpu_dev *g;
	struct gpu_facts f;
	char why[256];
	int n = gpu_ndev(why, sizeof(why)), i, r;

	if (n < 0) {
		gpu_seterr(dev, "%s", why);
		return n;
	}
	i = gpu_pick(dev, how, n, &f);
	if (i < 0)
		return i;
	g = (struct gpu_dev *)calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->ordinal = i;
	g->facts = f;
	dev->priv = g;
	r = gpu_check(dev, "set device", gpu_set(i));
	if (!r)
		r = gpu_check(dev, "create stream", gpu_stream_new(&g->stream));
	if (r) {
		free(g);
		dev->priv = NULL;
		return r;
	}
	gpu_find_ranges(g, n);
	/* private pages show as swap entries; coherent ones need the range */
	if (!g->nlocal && dev->info.memtype == CDM_MEM_COHERENT)
		dev->info.caps &= ~CDM_CAP_WHERE;
	return 0;
}

static void gpu_free_buf(struct cdm_edev *dev, struct cdm_ebuf *b);

static void gpu_close(struct cdm_edev *dev)
{
	struct gpu_dev *g = gd(dev);

	if (!g)
		return;
	while (g->allocs) {
		struct gpu_alloc *a = g->allocs;
		struct cdm_ebuf b = {};

		b.p = b.base = a->p;
		b.base_len = a->len;
		b.kind = a->kind;
		gpu_free_buf(dev, &b);
	}
	if (g->stage)
		gpu_host_free(g->stage);
	gpu_stream_del(g->stream);
	free(g);
	dev->priv = NULL;
}

static void gpu_why_not(struct cdm_edev *dev, uint64_t cap, char *buf,
			size_t len)
{
	struct gpu_dev *g = gd(dev);
	const char *fault = g && g->facts.no_fault[0] ? g->facts.no_fault :
			    "GPU page faults cannot migrate memory here";

	switch (cap) {
	case CDM_CAP_ALLOC_SYSTEM:
		snprintf(buf, len, "%s", g && g->facts.no_system[0] ?
			 g->facts.no_system : fault);
		break;
	case CDM_CAP_MIGRATE:
	case CDM_CAP_DEV_TOUCH:
		snprintf(buf, len, "%s", fault);
		break;
	case CDM_CAP_WHERE:
		snprintf(buf, len, "%s", g && g->facts.no_where[0] ?
			 g->facts.no_where : "placement unknown");
		break;
	case CDM_CAP_ATOMICS:
		snprintf(buf, len, "%s", g && g->facts.no_atomics[0] ?
			 g->facts.no_atomics : "no system-scope atomics");
		break;
	case CDM_CAP_EXCLUSIVE:
		snprintf(buf, len, "%s: make_device_exclusive() is driven by test_hmm's ioctl; the %s runtime has no call for it",
			 GPU_NAME, GPU_NAME);
		break;
	case CDM_CAP_FORK_SAFE:
		snprintf(buf, len, "%s: the GPU runtime does not survive fork(); a forked child cannot use the device",
			 GPU_NAME);
		break;
	case CDM_CAP_PEER:
		snprintf(buf, len, "%s: one range shared by two GPUs is not implemented in this engine",
			 GPU_NAME);
		break;
	case CDM_CAP_THP:
		snprintf(buf, len, "%s: the driver migrates in its own granules; whether a huge page stays huge is not reported",
			 GPU_NAME);
		break;
	case CDM_CAP_MIGRATE_READBACK:
	default:
		snprintf(buf, len, "%s: not available on this device", GPU_NAME);
	}
}

/*
 * The runtime's current device is per thread and a stream launches only
 * on its own device, while a workload may call from any of its threads.
 */
static void gpu_bind(struct cdm_edev *dev)
{
	/* cheap (no context switch when already current); errors surface at the call */
	(void)gpu_set(gd(dev)->ordinal);
}

/* --- memory --- */

static void gpu_track(struct gpu_dev *g, void *p, size_t len,
		      enum cdm_alloc_kind kind)
{
	struct gpu_alloc *a = (struct gpu_alloc *)calloc(1, sizeof(*a));

	if (!a)
		return;		/* only where() and close() miss it */
	a->p = p;
	a->len = len;
	a->kind = kind;
	a->next = g->allocs;
	g->allocs = a;
}

static const struct gpu_alloc *gpu_lookup(struct gpu_dev *g, const void *p)
{
	const struct gpu_alloc *a;

	for (a = g->allocs; a; a = a->next)
		if ((const char *)p >= (const char *)a->p &&
		    (const char *)p < (const char *)a->p + a->len)
			return a;
	return NULL;
}

static void gpu_untrack(struct gpu_dev *g, const void *p)
{
	struct gpu_alloc **a;

	for (a = &g->allocs; *a; a = &(*a)->next) {
		if ((*a)->p == p) {
			struct gpu_alloc *x = *a;

			*a = x->next;
			free(x);
			return;
		}
	}
}

/* anonymous memory, 2M aligned for THP: what HMM mirrors */
static int gpu_alloc_system(struct cdm_edev *dev, size_t len,
			    unsigned int flags, struct cdm_ebuf *b)
{
	size_t extra = flags & CDM_ALLOC_THP ? THP_SIZE : 0;
	char *m = (char *)mmap(NULL, len + extra, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (m == MAP_FAILED) {
		gpu_seterr(dev, "mmap of %zu bytes: %s", len, strerror(errno));
		return -errno;
	}
	p = extra ? (char *)(((unsigned long)m + THP_SIZE - 1) & ~(THP_SIZE - 1)) : m;
	if (flags & CDM_ALLOC_THP)
		madvise(p, len, MADV_HUGEPAGE);
	if (flags & CDM_ALLOC_NOHUGE)
		madvise(p, len, MADV_NOHUGEPAGE);
	b->p = p;
	b->base = m;
	b->base_len = len + extra;
	return 0;
}

static int gpu_alloc(struct cdm_edev *dev, enum cdm_alloc_kind kind,
		     size_t len, unsigned int flags, struct cdm_ebuf *b)
{
	gpu_bind(dev);
	struct gpu_dev *g = gd(dev);
	void *p = NULL;
	int r;

	memset(b, 0, sizeof(*b));
	if (kind != CDM_ALLOC_SYSTEM && (flags & CDM_ALLOC_THP)) {
		gpu_seterr(dev, "%s: huge pages are asked for on system allocations only; the runtime chooses for its own",
			   GPU_NAME);
		return -EINVAL;
	}
	if (kind == CDM_ALLOC_DEVICE && dev->info.mem_bytes &&
	    len > dev->info.mem_bytes) {
		gpu_seterr(dev, "%s GPU %d: %zu bytes asked for, the device has %llu",
			   GPU_NAME, g->ordinal, len,
			   (unsigned long long)dev->info.mem_bytes);
		return -ENOMEM;
	}
	switch (kind) {
	case CDM_ALLOC_SYSTEM:
		if (!(dev->info.caps & CDM_CAP_ALLOC_SYSTEM)) {
			gpu_seterr(dev, "%s", g->facts.no_system);
			return -EOPNOTSUPP;
		}
		r = gpu_alloc_system(dev, len, flags, b);
		if (r)
			return r;
		p = b->p;
		break;
	case CDM_ALLOC_MANAGED:
		r = gpu_check(dev, "managed allocation", gpu_malloc_managed(&p, len));
		break;
	case CDM_ALLOC_DEVICE:
		r = gpu_check(dev, "device allocation", gpu_malloc(&p, len));
		break;
	case CDM_ALLOC_PINNED:
		r = gpu_check(dev, "pinned host allocation", gpu_host_malloc(&p, len));
		break;
	default:
		gpu_seterr(dev, "%s: unknown allocation kind %d", GPU_NAME, (int)kind);
		return -EINVAL;
	}
	if (r)
		return r;
	if (kind != CDM_ALLOC_SYSTEM) {
		b->p = b->base = p;
		b->base_len = len;
	}
	b->len = len;
	b->npages = len / gpu_pg();
	b->kind = kind;
	gpu_track(g, b->p, len, kind);
	return 0;
}

static void gpu_free_buf(struct cdm_edev *dev, struct cdm_ebuf *b)
{
	if (!b->base)
		return;
	gpu_untrack(gd(dev), b->p);
	switch (b->kind) {
	case CDM_ALLOC_SYSTEM:
		munmap(b->base, b->base_len);
		break;
	case CDM_ALLOC_PINNED:
		gpu_host_free(b->base);
		break;
	default:
		gpu_free(b->base);
	}
	memset(b, 0, sizeof(*b));
}

/* --- operations --- */

/* device memory cannot hold it: say so before the driver thrashes */
static int gpu_fits(struct cdm_edev *dev, size_t bytes)
{
	size_t fr = 0, total = 0;

	if (gpu_mem_info(&fr, &total) != GPU_OK || bytes <= fr)
		return 0;
	gpu_seterr(dev, "%s GPU %d: moving %zu bytes to the device, which has %zu of %zu bytes free",
		   GPU_NAME, gd(dev)->ordinal, bytes, fr, total);
	return -ENOMEM;
}

static int gpu_stage(struct cdm_edev *dev, size_t len)
{
	struct gpu_dev *g = gd(dev);
	void *p = NULL;
	int r;

	if (g->stage_len >= len)
		return 0;
	if (g->stage)
		gpu_host_free(g->stage);
	g->stage = NULL;
	g->stage_len = 0;
	r = gpu_check(dev, "pinned staging buffer", gpu_host_malloc(&p, len));
	if (r)
		return r;
	g->stage = p;
	g->stage_len = len;
	return 0;
}

/* the device copies src to dst, both reachable from the GPU */
static int gpu_dev_copy(struct cdm_edev *dev, void *dst, const void *src,
			size_t len, const char *what)
{
	size_t n = len / 8;

	gpu_k_copy<<<gpu_blocks(n), GPU_THREADS, 0, gd(dev)->stream>>>(
		(unsigned long long *)dst, (const unsigned long long *)src, n);
	return gpu_wait(dev, what);
}

/*
 * A device read (addr to host) or write (host to addr) through the pinned
 * staging buffer; only the kernel's copy is timed.
 */
static int gpu_staged(struct cdm_edev *dev, void *addr, size_t npages,
		      void *host, bool write, struct cdm_estat *st)
{
	gpu_bind(dev);
	size_t len = npages * gpu_pg();
	uint64_t t0;
	int r = gpu_stage(dev, len);
	void *stage = gd(dev)->stage;

	if (r)
		return r;
	if (write)
		memcpy(stage, host, len);
	t0 = gpu_now();
	if (write)
		r = gpu_dev_copy(dev, addr, stage, len, "device write (kernel)");
	else
		r = gpu_dev_copy(dev, stage, addr, len, "device read (kernel)");
	gpu_fill(st, t0, npages);
	if (!r && !write)
		memcpy(host, stage, len);
	return r;
}

static int gpu_dev_read(struct cdm_edev *dev, const void *addr, size_t npages,
			void *out, struct cdm_estat *st)
{
	return gpu_staged(dev, (void *)addr, npages, out, false, st);
}

static int gpu_dev_write(struct cdm_edev *dev, void *addr, size_t npages,
			 const void *in, struct cdm_estat *st)
{
	return gpu_staged(dev, addr, npages, (void *)in, true, st);
}

static int gpu_migrate(struct cdm_edev *dev, void *addr, size_t npages,
		       enum cdm_dir dir, void *readback, struct cdm_estat *st)
{
	gpu_bind(dev);
	struct gpu_dev *g = gd(dev);
	size_t len = npages * gpu_pg();
	uint64_t t0;
	int r;

	if (!(dev->info.caps & CDM_CAP_MIGRATE)) {
		gpu_seterr(dev, "%s", g->facts.no_fault);
		return -EOPNOTSUPP;
	}
	if (dir == CDM_TO_DEVICE && (r = gpu_fits(dev, len)))
		return r;
	t0 = gpu_now();
	r = gpu_check(dev, "prefetch", gpu_prefetch(addr, len,
			dir == CDM_TO_DEVICE ? g->ordinal : -1, g->stream));
	if (!r)
		r = gpu_check(dev, "prefetch (stream sync)",
			      gpu_stream_sync(g->stream));
	gpu_fill(st, t0, npages);
	if (!r && readback && dir == CDM_TO_DEVICE)
		r = gpu_dev_read(dev, addr, npages, readback, NULL);
	return r;
}

static int gpu_dev_touch(struct cdm_edev *dev, void *addr, size_t npages,
			 int write, struct cdm_estat *st)
{
	gpu_bind(dev);
	uint64_t t0 = gpu_now();
	int r;

	gpu_k_touch<<<gpu_blocks(npages), GPU_THREADS, 0, gd(dev)->stream>>>(
		(volatile unsigned long long *)addr, npages, gpu_pg() / 8, write);
	r = gpu_wait(dev, "device first touch (kernel)");
	gpu_fill(st, t0, npages);
	return r;
}

static int gpu_dev_atomics(struct cdm_edev *dev,
			   const struct cdm_atomics_args *a,
			   struct cdm_estat *st)
{
	gpu_bind(dev);
	size_t stride = a->stride ? a->stride : 1;
	size_t n = (a->nwords + stride - 1) / stride;
	uint64_t t0 = gpu_now();
	int r;

	gpu_k_atomics<<<gpu_blocks(n), GPU_THREADS, 0, gd(dev)->stream>>>(
		(unsigned long long *)a->words, a->nwords, stride, a->rounds,
		a->inc);
	r = gpu_wait(dev, "system-scope atomics (kernel)");
	gpu_fill(st, t0, n);
	return r;
}

static int gpu_copy(struct cdm_edev *dev, void *dst, const void *src,
		    size_t len, enum cdm_dir dir, struct cdm_estat *st)
{
	gpu_bind(dev);
	struct gpu_dev *g = gd(dev);
	uint64_t t0 = gpu_now();
	int r;

	r = gpu_check(dev, "copy", gpu_memcpy(dst, src, len,
					      dir == CDM_TO_DEVICE, g->stream));
	if (!r)
		r = gpu_check(dev, "copy (stream sync)", gpu_stream_sync(g->stream));
	gpu_fill(st, t0, len / gpu_pg());
	return r;
}

static int gpu_advise_op(struct cdm_edev *dev, void *addr, size_t len,
			 enum cdm_advice adv)
{
	gpu_bind(dev);
	return gpu_check(dev, "advise", gpu_advise(addr, len, adv,
						   gd(dev)->ordinal));
}

static int gpu_sync(struct cdm_edev *dev)
{
	gpu_bind(dev);
	return gpu_check(dev, "stream sync", gpu_stream_sync(gd(dev)->stream));
}

/*
 * Placement from /proc/self/pagemap: a device-private page is a swap
 * entry of a device type, a coherent one a PFN in this GPU's range (so
 * coherent memory needs the range). Pages the CPU has not mapped the
 * runtime may place (gpu_where_fixup).
 */
static int gpu_where(struct cdm_edev *dev, const void *addr, size_t npages,
		     uint8_t *loc)
{
	struct gpu_dev *g = gd(dev);
	const struct gpu_alloc *a = gpu_lookup(g, addr);
	int r;

	if (!(dev->info.caps & CDM_CAP_WHERE) || !gpu_host->pagemap_where) {
		gpu_seterr(dev, "%s", g->facts.no_where);
		return -EOPNOTSUPP;
	}
	r = gpu_host->pagemap_where(addr, npages, g->local, g->nlocal,
				    g->remote, g->nremote, loc);
	if (r == -EPERM)
		gpu_seterr(dev, "/proc/self/pagemap shows no PFNs without CAP_SYS_ADMIN: run as root to see where pages are");
	else if (r)
		gpu_seterr(dev, "/proc/self/pagemap: %s", strerror(-r));
	else if (a)
		gpu_where_fixup(g, a->kind, addr, npages, loc);
	return r;
}

#endif
