/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device fixture, on the idea of kselftest's FIXTURE and VARIANT: the
 * harness picks the engine and the device (the variant: engine=, device=,
 * instance=), opens it, maps the buffer with or without THP, offers the
 * shared options once and tears everything down; a device workload writes
 * only its own measurement against an open struct cdm_edev and a mapped
 * buffer.
 *
 * A device workload is one file: its config struct starts with
 * `struct dev_cfg dev`, its option table lists the DEV_OPT_* rows it
 * offers (in the order its stored match key has always had), and it ends
 * with DEV_WORKLOAD(). The helpers below check placement and data in
 * words that name the first bad page, whatever the engine.
 */
#ifndef CDM_FIXTURE_H
#define CDM_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/workload.h"
#include "engine/engine.h"

/* --- the shared options --- */

#define DEV_ENGINE_CHOICES "dmirror|hip|cuda"
enum dev_engine_sel { DEV_ENGINE_DMIRROR, DEV_ENGINE_HIP, DEV_ENGINE_CUDA };
enum dev_devsel { DEV_PRIVATE, DEV_COHERENT, DEV_BOTH };

/* the first member of every device workload's config */
struct dev_cfg {
	int engine;
	int device;
	int64_t instance;
	uint64_t size;
	bool thp;
	int64_t corrupt;
};

/* the largest buffer a coherent test_hmm device holds: one chunk */
#define DM_COHERENT_BYTES (256ull << 20)

#define DEV_FIELD(f) .off = offsetof(struct dev_cfg, f)

/*
 * Rows a workload gained with the fixture pass CDM_OF_KEY_IF_SET, so they
 * join a case's match key only when set: older results still pair up.
 */
#define DEV_OPT_ENGINE                                                         \
	{ "engine", CDM_T_ENUM, DEV_FIELD(engine), "dmirror", 0, 0,            \
	  DEV_ENGINE_CHOICES, CDM_OF_KEY_IF_SET,                               \
	  "device-memory engine: dmirror (the kernel's test_hmm), hip or cuda (plugins in build/engines/)" }
#define DEV_OPT_DEVICE                                                         \
	{ "device", CDM_T_ENUM, DEV_FIELD(device), "private", 0, 0,            \
	  "private|coherent", 0,                                               \
	  "device memory type: private (MEMORY_DEVICE_PRIVATE, minor 0) or "   \
	  "coherent (MEMORY_DEVICE_COHERENT, minor 2)" }
#define DEV_OPT_INSTANCE(flags)                                                \
	{ "instance", CDM_T_INT, DEV_FIELD(instance), "0", 0, 63, NULL, flags, \
	  "which device of the type: 0 (minor 0 private, 2 coherent; the first GPU of the type) or 1 (minor 1, 3)" }
/* the variant rows as most device workloads list them, first */
#define DEV_OPT_VARIANT                                                        \
	DEV_OPT_ENGINE, DEV_OPT_DEVICE, DEV_OPT_INSTANCE(CDM_OF_KEY_IF_SET)
#define DEV_OPT_SIZE(def, min, max, help)                                      \
	{ "size", CDM_T_SIZE, DEV_FIELD(size), def, min, max, NULL,            \
	  CDM_OF_PAGE_ALIGNED, help }
#define DEV_OPT_THP(flags)                                                     \
	{ "thp", CDM_T_BOOL, DEV_FIELD(thp), "no", 0, 0, NULL, flags,          \
	  "back the buffer with transparent huge pages (MADV_HUGEPAGE, 2M aligned)" }
#define DEV_OPT_CORRUPT(when)                                                  \
	{ "corrupt_page", CDM_T_INT, DEV_FIELD(corrupt), "-1", -1, 1e9, NULL,  \
	  0, "proves verification is live: write garbage into this page "      \
	  "through the device " when " (-1: never)" }

/* --- a device workload --- */

struct dev_fx;

struct dev_workload {
	uint64_t needs;			/* CDM_CAP_* every case needs */
	unsigned int flags;		/* DEV_F_* */
	size_t priv_size;		/* zeroed state the fixture owns: fx->priv */
	/* checks beyond the fixture's (cheap, no side effects); may be NULL */
	bool (*supported)(const void *cfg, char *why, size_t len);
	int (*setup)(struct cdm_ctx *ctx, struct dev_fx *fx);	/* may be NULL */
	int (*run)(struct cdm_ctx *ctx, struct dev_fx *fx);
	/* what dev_alloc and the fixture do not release; may be NULL */
	void (*teardown)(struct cdm_ctx *ctx, struct dev_fx *fx);
};

/* a round trip: a system buffer migrated both ways, read back, located */
#define DEV_CAPS_ROUND_TRIP                                                    \
	(CDM_CAP_ALLOC_SYSTEM | CDM_CAP_MIGRATE | CDM_CAP_WHERE |               \
	 CDM_CAP_MIGRATE_READBACK)

#define DEV_F_NO_BUFFER	(1u << 0)	/* maps its own buffers (one per race) */
#define DEV_F_NO_OPEN	(1u << 1)	/* opens devices itself (per worker process); the
					 * fixture opens one only to check needs */

#define DEV_MAX_ALLOCS 16

/* what the fixture hands the workload */
struct dev_fx {
	const struct dev_workload *dw;
	const struct dev_cfg *cfg;
	struct cdm_edev *dev;		/* open, capabilities checked */
	struct cdm_ebuf buf;		/* cfg->size bytes, THP as asked */
	void *priv;			/* the workload's state, priv_size bytes */
	void *allocs[DEV_MAX_ALLOCS];	/* dev_alloc's, freed at teardown */
	int nallocs;
	bool setup_ran;			/* teardown only after the workload's setup */
};

/*
 * Zeroed memory that lives until teardown. NULL after cdm_skip (the
 * machine cannot give it: not what the case tests).
 */
void *dev_alloc(struct cdm_ctx *ctx, struct dev_fx *fx, size_t len);

bool dev_fx_supported(const struct dev_workload *dw, const void *cfg,
		      char *why, size_t len);
const char *dev_fx_devtype(const void *cfg);
const char *dev_fx_backend(const void *cfg);
int dev_fx_setup(struct cdm_ctx *ctx, const struct dev_workload *dw);
int dev_fx_run(struct cdm_ctx *ctx);
void dev_fx_teardown(struct cdm_ctx *ctx);

/*
 * The descriptor of device workload `id`, by naming convention: config
 * struct pfx_cfg (starting with struct dev_cfg dev), option table
 * pfx_opts, state struct pfx, hooks pfx_supported, pfx_setup and pfx_run.
 * teardown undoes what pfx_setup made beyond the fixture's own (threads,
 * descriptors); NULL when the fixture's teardown (unmap, close, free what
 * dev_alloc gave) is all there is. The designated initializers that
 * follow (name, summary, help, verifies, tamper) complete the struct
 * cdm_workload.
 */
#define DEV_WORKLOAD(id, pfx, caps, fflags, teardown_, ...)                    \
	_Static_assert(offsetof(struct pfx##_cfg, dev) == 0,                   \
		       "struct " #pfx "_cfg must start with struct dev_cfg dev"); \
	static const struct dev_workload id##_dw = {                           \
		.needs = (caps), .flags = (fflags),                            \
		.priv_size = sizeof(struct pfx), .supported = pfx##_supported, \
		.setup = pfx##_setup, .run = pfx##_run,                        \
		.teardown = (teardown_),                                       \
	};                                                                     \
	static bool id##_fx_supported(const void *c, char *w, size_t l)        \
	{                                                                      \
		return dev_fx_supported(&id##_dw, c, w, l);                    \
	}                                                                      \
	static int id##_fx_setup(struct cdm_ctx *ctx)                          \
	{                                                                      \
		return dev_fx_setup(ctx, &id##_dw);                            \
	}                                                                      \
	const struct cdm_workload cdm_wl_##id = {                              \
		.backend = "dmirror", .backend_of = dev_fx_backend,            \
		.opts = pfx##_opts, .cfg_size = sizeof(struct pfx##_cfg),      \
		.supported = id##_fx_supported,                                \
		.device_type = dev_fx_devtype, .setup = id##_fx_setup,         \
		.run = dev_fx_run, .teardown = dev_fx_teardown, __VA_ARGS__    \
	}

/* --- engines and devices --- */

const char *dev_engine_name(int engine);
const char *dev_type_name(int devsel);
enum cdm_memtype dev_memtype(int devsel);
/*
 * Open the engine (init in this process) and a device of cfg's type and
 * the given instance. 0, or -1 with why filled; skip says whether that is
 * a reason to SKIP (not here) rather than an error.
 */
int dev_open_raw(const struct dev_cfg *cfg, int devsel, int instance,
		 struct cdm_edev **out, bool *skip, char *why, size_t len);
/* the same, reporting through the case: -1 after cdm_skip or cdm_error */
int dev_open(struct cdm_ctx *ctx, const struct dev_cfg *cfg, int devsel,
	     int instance, struct cdm_edev **out);
void dev_close(struct cdm_edev *dev);
/* for supported(): false when the engine surely lacks that device (cheap) */
bool dev_instance_exists(const struct dev_cfg *cfg, int devsel, int instance);
/* the same, and it opens; else why not (test_hmm's words) */
bool dev_usable(const struct dev_cfg *cfg, int devsel, int instance,
		char *why, size_t len);
/* cdm_skip with the engine's reason unless dev has every cap; 0 if it has */
int dev_require(struct cdm_ctx *ctx, struct cdm_edev *dev, uint64_t caps);
bool dev_has(const struct cdm_edev *dev, uint64_t caps);

int dev_buf_map(struct cdm_ctx *ctx, struct cdm_edev *dev,
		struct cdm_ebuf *b, size_t len, bool thp);
void dev_buf_unmap(struct cdm_edev *dev, struct cdm_ebuf *b);
/* pages [from, to) of b, for checks on part of a buffer */
struct cdm_ebuf dev_view(const struct cdm_ebuf *b, size_t from, size_t to);

/*
 * The operations, each timed by the engine into st (may be NULL). They return
 * 0 or -errno; dev->err has the engine's words. Missing hooks: -ENOSYS.
 */
int dev_migrate(struct cdm_edev *d, void *addr, size_t npages,
		enum cdm_dir dir, void *readback, struct cdm_estat *st);
int dev_read(struct cdm_edev *d, const void *addr, size_t npages, void *out,
	     struct cdm_estat *st);
int dev_write(struct cdm_edev *d, void *addr, size_t npages, const void *in,
	      struct cdm_estat *st);
int dev_exclusive(struct cdm_edev *d, void *addr, size_t npages,
		  void *readback, struct cdm_estat *st);
int dev_check_exclusive(struct cdm_edev *d, void *addr, size_t npages,
			struct cdm_estat *st);
int dev_loc(struct cdm_edev *d, const void *addr, size_t npages,
	    uint8_t *loc);
/* "MIGRATE_TO_DEV failed: ..." style: the engine's text, else strerror */
const char *dev_strerror(const struct cdm_edev *d, int r);

/* --- placement and data checks --- */

struct dev_where {
	size_t local;		/* on the device asked */
	size_t remote;		/* on another device */
	size_t system;		/* in system RAM (the zero page included) */
	size_t none;		/* not mapped */
	size_t huge;		/* mapped by a PMD */
	size_t first_off_device;	/* first page not local, or npages */
	size_t first_on_device;		/* first page on any device, or npages */
	uint8_t first_off_byte;
	uint8_t first_on_byte;
};

/* placement of b's pages; loc (npages bytes, may be NULL) gets the bytes */
int dev_where(struct cdm_edev *d, const struct cdm_ebuf *b, uint8_t *loc,
	      struct dev_where *w);

enum dev_expect { DEV_ON_DEVICE, DEV_IN_SYSTEM };
/*
 * Fail the case (naming the first misplaced page) unless every page is
 * where expected. -1 on a query error (after cdm_error), else 0; *w (if
 * given) gets the counts.
 */
int dev_check_where(struct cdm_ctx *ctx, struct cdm_edev *d,
		    const struct cdm_ebuf *b, enum dev_expect want,
		    const char *phase, struct dev_where *w);
/* check the pattern in data, failing with page and offset */
bool dev_check_data(struct cdm_ctx *ctx, const void *data, size_t len,
		    uint32_t gen, const char *phase);
/*
 * Junk into one page through the device (dev_write), behind the
 * workload's back, so a later data check proves it is live. page < 0 or
 * past the buffer: nothing. 0, or -1 after cdm_error.
 */
int dev_corrupt_page(struct cdm_ctx *ctx, struct cdm_edev *d,
		     const struct cdm_ebuf *b, int64_t page);
/*
 * The whole of b to the device, checked: every page there and the
 * device's read-back (into back, b->len bytes) holding generation gen;
 * then corrupt_page's junk, if asked. 0, or -1 once the case has its
 * verdict (device memory exhausted fails it; an ioctl error is an error).
 */
int dev_to_device(struct cdm_ctx *ctx, struct cdm_edev *d,
		  const struct cdm_ebuf *b, void *back, uint32_t gen);
/*
 * The whole of b home, checked: no page left on a device, and the CPU
 * reads generation gen (phase names that read). 0, or -1 after cdm_error.
 */
int dev_to_system(struct cdm_ctx *ctx, struct cdm_edev *d,
		  const struct cdm_ebuf *b, uint32_t gen, const char *phase);
/* "device", "system", or "mixed (N device, ...)" */
const char *dev_placement(const struct dev_where *w, size_t npages, char *buf,
			  size_t len);
/* "0x22 (device-private (this device), writable)" */
const char *dev_pg_describe(uint8_t b, char *buf, size_t len);

/* --- engines: built in, or plugins (loader.c) --- */

/*
 * The table of engine `name`: dmirror is built in, the others come from
 * <dir>/<name>.so. NULL with one line in why (how to build it) when absent.
 */
const struct cdm_engine_ops *cdm_engine_get(const char *name, char *why,
					    size_t len);
/* the plugin file an engine would load from */
const char *cdm_engine_path(const char *name, char *buf, size_t len);
extern const struct cdm_engine_ops cdm_engine_dmirror;
/* the test_hmm file behind a dmirror device, for the bare-ioctl baseline */
int cdm_dmirror_fd(const struct cdm_edev *d);
extern const struct cdm_engine_host cdm_engine_host;

#endif
