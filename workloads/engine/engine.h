/* SPDX-License-Identifier: GPL-2.0 */
/*
 * THE ENGINE CONTRACT: this header is what every device-memory engine
 * implements, built in (dmirror, the kernel's test_hmm) or loaded as a
 * plugin (hip, cuda). Plain C so hipcc, nvcc and gcc read it the same way.
 * Changes within ABI 1 only append: new fields at the end of a struct, new
 * capability bits, new enum values. Anything else bumps the ABI version.
 *
 * The idea is fio's ioengines: a device kind is a table of operations plus
 * the capabilities it declares. A workload is written once against this
 * table; where an engine lacks an operation the workload needs, the case
 * SKIPs with the engine's own reason (why_not), never passes.
 *
 * A plugin is a shared object, <dir>/<name>.so, where <dir> is
 * $CDMBENCH_ENGINE_DIR or, by default, engines/ next to the cdmbench
 * binary (build/engines/). It exports exactly one symbol, CDM_ENGINE_SYMBOL,
 * of type const struct cdm_engine_ops, declared extern "C" (and, for HIP,
 * outside __HIP_DEVICE_COMPILE__):
 *
 *	const struct cdm_engine_ops cdm_engine_plugin = {
 *		.abi_version = CDM_ENGINE_ABI_VERSION,
 *		.size = sizeof(struct cdm_engine_ops),
 *		.name = "hip",
 *		...
 *	};
 *
 * The host refuses a table whose abi_version differs, whose name differs
 * from the file name, or that lacks a mandatory hook (init, enumerate,
 * open, close, why_not). It reads only the first `size` bytes of the table,
 * so an older plugin keeps working when fields are appended.
 *
 * Process model: the host dlopens a plugin in the parent only to read the
 * table (for `list`, `probe`, `--version`). init() and everything after it
 * run in the forked case process, never in the parent: GPU runtimes do
 * not survive fork(). A workload that forks must not use the engine in the
 * child unless the engine declares CDM_CAP_FORK_SAFE.
 *
 * Errors: hooks return 0 or a negative errno. On failure the engine writes
 * its own words (the runtime's error name and text) into dev->err; the
 * host shows them as they are. -ENOMEM from an allocation or a migration
 * means device memory is exhausted (a result, not a harness error).
 */
#ifndef CDM_ENGINE_H
#define CDM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CDM_ENGINE_ABI_VERSION 1
#define CDM_ENGINE_SYMBOL "cdm_engine_plugin"
#define CDM_ENGINE_DIR_ENV "CDMBENCH_ENGINE_DIR"

/* --- devices --- */

/* what kind of memory a device has, as the kernel sees its pages */
enum cdm_memtype {
	CDM_MEM_ANY = 0,	/* in cdm_eopen: no preference */
	CDM_MEM_PRIVATE,	/* MEMORY_DEVICE_PRIVATE: not CPU-mapped, CPU touch migrates */
	CDM_MEM_COHERENT,	/* MEMORY_DEVICE_COHERENT: CPU-mapped, touched in place */
	CDM_MEM_UNIFIED,	/* the device uses system RAM itself (APU): nothing to migrate */
	CDM_MEM_NTYPES
};

struct cdm_edev_info {
	int index;		/* the engine's device number (minor, GPU ordinal) */
	int instance;		/* its rank among devices of the same memtype */
	enum cdm_memtype memtype;
	uint64_t mem_bytes;	/* device memory, 0 if unknown */
	uint64_t caps;		/* CDM_CAP_* this device has */
	char name[64];		/* "/dev/hmm_dmirror0", "gfx90a:sramecc+:xnack+" */
	char detail[192];	/* one line for probe: driver, link, mode */
};

/* which device to open: by memtype and instance, or by index */
struct cdm_eopen {
	enum cdm_memtype memtype;	/* CDM_MEM_ANY: any type */
	int instance;		/* n-th device of memtype (0 first) */
	int index;		/* >= 0: exactly this device, memtype ignored */
	const char *params;	/* engine-specific "k=v,..." or NULL */
};

/*
 * An open device. The host allocates and zeroes it, the engine's open()
 * fills info and priv. Fields are only ever appended.
 */
struct cdm_edev {
	const struct cdm_engine_ops *ops;	/* set by the host */
	void *priv;				/* the engine's state */
	struct cdm_edev_info info;		/* set by open() */
	char err[256];				/* the engine's words for the last failure */
};

/* --- capabilities: a workload states what it needs, the engine what it has --- */

#define CDM_CAP_ALLOC_SYSTEM	(1ull << 0)	/* device reaches malloc/mmap memory (HMM) */
#define CDM_CAP_ALLOC_MANAGED	(1ull << 1)	/* managed/unified allocations */
#define CDM_CAP_ALLOC_DEVICE	(1ull << 2)	/* device-only allocations */
#define CDM_CAP_ALLOC_PINNED	(1ull << 3)	/* page-locked host allocations */
#define CDM_CAP_MIGRATE		(1ull << 4)	/* migrate(): explicit move both ways */
#define CDM_CAP_MIGRATE_READBACK (1ull << 5)	/* migrate() to the device can return the device's copy */
#define CDM_CAP_WHERE		(1ull << 6)	/* where(): per-page placement */
#define CDM_CAP_DEV_READ	(1ull << 7)	/* dev_read(): the device reads a range */
#define CDM_CAP_DEV_WRITE	(1ull << 8)	/* dev_write(): the device writes a range */
#define CDM_CAP_DEV_TOUCH	(1ull << 9)	/* dev_touch(): device first touch (fault-driven migration) */
#define CDM_CAP_ATOMICS		(1ull << 10)	/* dev_atomics(): system-scope atomics on a range */
#define CDM_CAP_EXCLUSIVE	(1ull << 11)	/* exclusive()/check_exclusive(): make_device_exclusive */
#define CDM_CAP_ADVISE		(1ull << 12)	/* advise(): placement and coherence hints */
#define CDM_CAP_COPY		(1ull << 13)	/* copy(): explicit copy, the link baseline */
#define CDM_CAP_FORK_SAFE	(1ull << 14)	/* the engine may be opened again in a forked child */
#define CDM_CAP_PEER		(1ull << 15)	/* a second device of the type can share one range */
#define CDM_CAP_THP		(1ull << 16)	/* the device keeps huge pages huge when migrating */

/* --- memory --- */

enum cdm_alloc_kind {
	CDM_ALLOC_SYSTEM,	/* anonymous mmap: the memory HMM mirrors */
	CDM_ALLOC_MANAGED,	/* hipMallocManaged, cudaMallocManaged */
	CDM_ALLOC_DEVICE,	/* hipMalloc, cudaMalloc: not CPU-addressable */
	CDM_ALLOC_PINNED,	/* hipHostMalloc, cudaMallocHost */
	CDM_ALLOC_NKINDS
};

#define CDM_ALLOC_THP		(1u << 0)	/* back with transparent huge pages (2M aligned) */
#define CDM_ALLOC_NOHUGE	(1u << 1)	/* forbid huge pages (MADV_NOHUGEPAGE) */

struct cdm_ebuf {
	void *p;		/* start, page aligned (2M with CDM_ALLOC_THP) */
	size_t len;		/* bytes asked for */
	size_t npages;		/* len / page size */
	enum cdm_alloc_kind kind;
	void *base;		/* what the engine allocated, for free() */
	size_t base_len;
	void *priv;		/* the engine's */
};

/* --- placement: one byte per page --- */

enum cdm_loc {
	CDM_LOC_UNKNOWN = 0,	/* the engine cannot say */
	CDM_LOC_NONE,		/* not mapped (never touched, zapped, in transit) */
	CDM_LOC_SYSTEM,		/* system RAM */
	CDM_LOC_ZERO,		/* the shared zero page */
	CDM_LOC_LOCAL,		/* memory of the device asked */
	CDM_LOC_REMOTE,		/* memory of another device */
};
#define CDM_PG_LOC_MASK		0x0f
#define CDM_PG_COHERENT		0x10	/* a device page that is CPU-coherent */
#define CDM_PG_READ		0x20	/* mapped readable */
#define CDM_PG_WRITE		0x40	/* mapped writable */
#define CDM_PG_HUGE		0x80	/* mapped by a PMD (THP) */

static inline enum cdm_loc cdm_pg_loc(uint8_t b)
{
	return (enum cdm_loc)(b & CDM_PG_LOC_MASK);
}

static inline int cdm_pg_on_device(uint8_t b)
{
	return cdm_pg_loc(b) == CDM_LOC_LOCAL || cdm_pg_loc(b) == CDM_LOC_REMOTE;
}

/* --- operations --- */

enum cdm_dir {
	CDM_TO_DEVICE,
	CDM_TO_SYSTEM,
};

enum cdm_advice {
	CDM_ADV_PREFER_DEVICE,	/* preferred location: the device */
	CDM_ADV_PREFER_SYSTEM,	/* preferred location: system RAM */
	CDM_ADV_UNSET_PREFERRED,
	CDM_ADV_ACCESSED_BY,	/* map for the device without moving */
	CDM_ADV_COARSE_GRAIN,	/* HIP: coherence at kernel boundaries only */
	CDM_ADV_FINE_GRAIN,	/* HIP: coherent during kernels */
};

/* what one operation cost, as the engine measured it around the work */
struct cdm_estat {
	uint64_t ns;		/* wall time, including the engine's own sync */
	uint64_t pages;		/* pages the engine says it handled; advisory */
	uint64_t faults;	/* device faults taken, when the engine knows */
	/*
	 * In (appended within ABI 1): CDM_ESTAT_UNTIMED when the caller
	 * times the call itself; an engine may then skip its clock reads
	 * (an engine that ignores it only wastes them).
	 */
	uint32_t flags;
};
#define CDM_ESTAT_UNTIMED	(1u << 0)

/* device atomics racing CPU threads: see dev_atomics() */
struct cdm_atomics_args {
	uint64_t *words;	/* nwords 8-byte words, 8-byte aligned */
	size_t nwords;
	size_t stride;		/* words between two the device updates (>= 1) */
	uint64_t rounds;	/* atomic adds per updated word */
	uint64_t inc;		/* added each time */
};

/* --- what the host offers a plugin (passed to init) --- */

struct cdm_engine_host {
	uint32_t abi_version;
	uint32_t size;
	size_t page_size;
	uint64_t (*now_ns)(void);	/* CLOCK_MONOTONIC, the host's clock */
	/* a line for the case log */
	void (*log)(const char *engine, const char *msg);
	/*
	 * Vendor-neutral placement from /proc/self/pagemap: device-private
	 * pages are non-present swap entries of a device type; a present
	 * page whose PFN lies in [local_pfn[i].start, .end) is LOCAL, in
	 * another device range REMOTE, else SYSTEM. PFNs need CAP_SYS_ADMIN;
	 * without them every present page reads SYSTEM and the call returns
	 * -EPERM when any range was given. loc gets npages bytes.
	 */
	int (*pagemap_where)(const void *addr, size_t npages,
			     const uint64_t (*local_pfn)[2], int nlocal,
			     const uint64_t (*remote_pfn)[2], int nremote,
			     uint8_t *loc);
};

/* --- the table --- */

struct cdm_engine_ops {
	uint32_t abi_version;	/* CDM_ENGINE_ABI_VERSION */
	uint32_t size;		/* sizeof(struct cdm_engine_ops) as built */
	const char *name;	/* "dmirror", "hip", "cuda": the engine= value */
	const char *summary;	/* one line for `list` */
	const char *build;	/* toolchain and targets, for --version */

	/*
	 * Mandatory. Bring the runtime up in the case process. Nonzero: the
	 * engine cannot run here; why gets the runtime's own answer
	 * ("hipErrorNoDevice: no ROCm-capable device is detected"), which
	 * the case reports as its SKIP reason.
	 */
	int (*init)(const struct cdm_engine_host *host, char *why, size_t len);
	/* mandatory: up to max devices into out; returns the count or -errno */
	int (*enumerate)(struct cdm_edev_info *out, int max, char *why,
			 size_t len);
	/* mandatory: open one device; -ENODEV when none matches (why in dev->err) */
	int (*open)(struct cdm_edev *dev, const struct cdm_eopen *how);
	void (*close)(struct cdm_edev *dev);
	/* mandatory: why dev lacks cap (one CDM_CAP_* bit), in the engine's words */
	void (*why_not)(struct cdm_edev *dev, uint64_t cap, char *buf,
			size_t len);

	/* CDM_CAP_ALLOC_*: flags CDM_ALLOC_*; -ENOMEM when it does not fit */
	int (*alloc)(struct cdm_edev *dev, enum cdm_alloc_kind kind,
		     size_t len, unsigned int flags, struct cdm_ebuf *buf);
	void (*free)(struct cdm_edev *dev, struct cdm_ebuf *buf);

	/*
	 * CDM_CAP_MIGRATE: move npages at addr to the device or to system
	 * RAM and wait until done. readback (npages pages, may be NULL) gets
	 * the device's copy where CDM_CAP_MIGRATE_READBACK is declared;
	 * -ENOENT then means some pages did not move (the placement query
	 * tells which). Engines do not retry partial moves: the workload
	 * judges placement.
	 */
	int (*migrate)(struct cdm_edev *dev, void *addr, size_t npages,
		       enum cdm_dir dir, void *readback, struct cdm_estat *st);
	/* CDM_CAP_WHERE: one CDM_LOC_ | CDM_PG_ byte per page into loc */
	int (*where)(struct cdm_edev *dev, const void *addr, size_t npages,
		     uint8_t *loc);
	/* CDM_CAP_DEV_READ: the device reads npages at addr into out */
	int (*dev_read)(struct cdm_edev *dev, const void *addr, size_t npages,
			void *out, struct cdm_estat *st);
	/* CDM_CAP_DEV_WRITE: the device writes npages from in to addr */
	int (*dev_write)(struct cdm_edev *dev, void *addr, size_t npages,
			 const void *in, struct cdm_estat *st);
	/* CDM_CAP_DEV_TOUCH: one device access per page (write: a store) */
	int (*dev_touch)(struct cdm_edev *dev, void *addr, size_t npages,
			 int write, struct cdm_estat *st);
	/*
	 * CDM_CAP_ATOMICS: add a->inc to every a->stride-th word, a->rounds
	 * times, with system-scope atomics, and return when done; CPU
	 * threads may add to the same words meanwhile (no update may be lost).
	 */
	int (*dev_atomics)(struct cdm_edev *dev,
			   const struct cdm_atomics_args *a,
			   struct cdm_estat *st);
	/*
	 * CDM_CAP_EXCLUSIVE: take device-exclusive access to npages (readback
	 * as for migrate); check_exclusive returns 0 when the device holds
	 * none of them, -EPERM while it still holds one.
	 */
	int (*exclusive)(struct cdm_edev *dev, void *addr, size_t npages,
			 void *readback, struct cdm_estat *st);
	int (*check_exclusive)(struct cdm_edev *dev, void *addr,
			       size_t npages, struct cdm_estat *st);
	/* CDM_CAP_ADVISE */
	int (*advise)(struct cdm_edev *dev, void *addr, size_t len,
		      enum cdm_advice adv);
	/* CDM_CAP_COPY: dst/src as the direction says (host pinned <-> device) */
	int (*copy)(struct cdm_edev *dev, void *dst, const void *src,
		    size_t len, enum cdm_dir dir, struct cdm_estat *st);
	/* wait for everything queued on the device (may be NULL) */
	int (*sync)(struct cdm_edev *dev);
	/*
	 * For `probe`: facts about the engine on this machine, one emit()
	 * per key ("driver_version", "xnack", "addressing_mode"). Runs in a
	 * forked helper, may init the runtime. May be NULL.
	 */
	void (*probe)(void (*emit)(void *arg, const char *key, const char *val),
		      void *arg);
};

#ifndef __HIP_DEVICE_COMPILE__
extern const struct cdm_engine_ops cdm_engine_plugin;
#endif

#ifdef __cplusplus
}
#endif

#endif
