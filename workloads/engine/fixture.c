// SPDX-License-Identifier: GPL-2.0
/*
 * The device fixture (fixture.h): engine and device set-up and teardown
 * for every device workload, and the placement and data checks they share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "lib/dmirror.h"
#include "lib/pattern.h"

static const char *const engine_names[] = { "dmirror", "hip", "cuda" };

const char *dev_engine_name(int engine)
{
	return engine >= 0 && engine < (int)ARRAY_SIZE(engine_names) ?
	       engine_names[engine] : "?";
}

const char *dev_type_name(int devsel)
{
	static const char *const t[] = { "private", "coherent", "mixed" };

	return devsel >= 0 && devsel <= DEV_BOTH ? t[devsel] : "?";
}

enum cdm_memtype dev_memtype(int devsel)
{
	return devsel == DEV_COHERENT ? CDM_MEM_COHERENT : CDM_MEM_PRIVATE;
}

const char *dev_fx_devtype(const void *cfg)
{
	return dev_type_name(((const struct dev_cfg *)cfg)->device);
}

const char *dev_fx_backend(const void *cfg)
{
	return dev_engine_name(((const struct dev_cfg *)cfg)->engine);
}

/* test_hmm: the device of the type exists and opens, else why not */
static bool dmirror_usable(int devsel, int instance, char *why, size_t len)
{

	enum dmirror_memtype t = devsel == DEV_COHERENT ? DMIRROR_COHERENT :
				 DMIRROR_PRIVATE;
	int m = dmirror_find(t, instance), fd;

	if (m < 0) {
		if (dmirror_find(t, 0) >= 0)
			snprintf(why, len, "no %s test_hmm device number %d (there are two of each type: instance=0 or 1)",
				 dmirror_type_name(t), instance);
		else if (t == DMIRROR_COHERENT &&
			 dmirror_find(DMIRROR_PRIVATE, 0) >= 0)
			snprintf(why, len,
				 "no coherent test_hmm device: /dev/hmm_dmirror2,3 need test_hmm.spm_addr_dev0/1 (see 'cdmbench vm')");
		else
			snprintf(why, len,
				 "no /dev/hmm_dmirror* devices: kernel without CONFIG_TEST_HMM or module not loaded (try 'cdmbench vm run')");
		return false;
	}
	fd = dmirror_open(m);
	if (fd < 0) {
		snprintf(why, len, "/dev/hmm_dmirror%d: %s", m, strerror(-fd));
		return false;
	}
	close(fd);
	return true;
}

bool dev_usable(const struct dev_cfg *cfg, int devsel, int instance,
		char *why, size_t len)
{
	if (cfg->engine != DEV_ENGINE_DMIRROR)
		return true;	/* a GPU runtime answers in the case process */
	return dmirror_usable(devsel, instance, why, len);
}

bool dev_instance_exists(const struct dev_cfg *cfg, int devsel, int instance)
{
	if (cfg->engine != DEV_ENGINE_DMIRROR)
		return true;	/* a GPU runtime answers in the case process */
	return dmirror_find(devsel == DEV_COHERENT ? DMIRROR_COHERENT :
			    DMIRROR_PRIVATE, instance) >= 0;
}

/*
 * Cheap and side-effect free (the parent calls it for `list`): the
 * plugin file must be there; whether a GPU answers is for the case process.
 */
bool dev_fx_supported(const struct dev_workload *dw, const void *cfg,
		      char *why, size_t len)
{
	const struct dev_cfg *c = cfg;
	char path[512];

	if (c->engine != DEV_ENGINE_DMIRROR) {
		const char *name = dev_engine_name(c->engine);

		if (access(cdm_engine_path(name, path, sizeof(path)), R_OK)) {
			cdm_engine_get(name, why, len);
			return false;
		}
	} else if (!(dw->flags & DEV_F_NO_OPEN)) {
		if (!dmirror_usable(c->device, c->instance, why, len))
			return false;
	}
	return dw->supported ? dw->supported(cfg, why, len) : true;
}

/* --- opening --- */

int dev_open_raw(const struct dev_cfg *cfg, int devsel, int instance,
		 struct cdm_edev **out, bool *skip, char *why, size_t len)
{
	static struct cdm_engine_host host;
	const struct cdm_engine_ops *ops;
	struct cdm_eopen how = { .memtype = dev_memtype(devsel),
				 .instance = instance, .index = -1 };
	struct cdm_edev *d;
	int r;

	*out = NULL;
	*skip = true;
	ops = cdm_engine_get(dev_engine_name(cfg->engine), why, len);
	if (!ops)
		return -1;
	if (!host.abi_version) {
		host = cdm_engine_host;
		host.page_size = cdm_page_size();
	}
	if (ops->init(&host, why, len))
		return -1;
	d = calloc(1, sizeof(*d));
	if (!d) {
		*skip = false;
		snprintf(why, len, "out of memory");
		return -1;
	}
	d->ops = ops;
	r = ops->open(d, &how);
	if (r) {
		/* no such device is "not here"; a device that fails is an error */
		*skip = r == -ENODEV;
		snprintf(why, len, "%s", d->err[0] ? d->err : strerror(-r));
		free(d);
		return -1;
	}
	*out = d;
	return 0;
}

int dev_open(struct cdm_ctx *ctx, const struct dev_cfg *cfg, int devsel,
	     int instance, struct cdm_edev **out)
{
	char why[512] = "";
	bool skip;

	if (dev_open_raw(cfg, devsel, instance, out, &skip, why, sizeof(why)))
		return skip ? cdm_skip(ctx, "%s", why) : cdm_error(ctx, "%s", why);
	cdm_info(ctx, "device", "%s (%s)", (*out)->info.name,
		 dev_type_name(devsel));
	return 0;
}

void dev_close(struct cdm_edev *dev)
{
	if (!dev)
		return;
	dev->ops->close(dev);
	free(dev);
}

bool dev_has(const struct cdm_edev *dev, uint64_t caps)
{
	return (dev->info.caps & caps) == caps;
}

int dev_require(struct cdm_ctx *ctx, struct cdm_edev *dev, uint64_t caps)
{
	uint64_t missing = caps & ~dev->info.caps;
	char why[256];

	if (!missing)
		return 0;
	/* the lowest missing capability speaks for the rest */
	dev->ops->why_not(dev, missing & -missing, why, sizeof(why));
	return cdm_skip(ctx, "%s", why);
}

int dev_buf_map(struct cdm_ctx *ctx, struct cdm_edev *dev,
		struct cdm_ebuf *b, size_t len, bool thp)
{
	int r;

	if (!dev->ops->alloc)
		return dev_require(ctx, dev, CDM_CAP_ALLOC_SYSTEM);
	dev->err[0] = '\0';
	r = dev->ops->alloc(dev, CDM_ALLOC_SYSTEM, len,
			    thp ? CDM_ALLOC_THP : CDM_ALLOC_NOHUGE, b);
	if (r)
		return cdm_skip(ctx, "%s", dev_strerror(dev, r));
	return 0;
}

void dev_buf_unmap(struct cdm_edev *dev, struct cdm_ebuf *b)
{
	if (dev && b->base)
		dev->ops->free(dev, b);
	memset(b, 0, sizeof(*b));
}

struct cdm_ebuf dev_view(const struct cdm_ebuf *b, size_t from, size_t to)
{
	struct cdm_ebuf v = { 0 };

	v.p = (char *)b->p + from * cdm_page_size();
	v.npages = to - from;
	v.len = v.npages * cdm_page_size();
	v.kind = b->kind;
	return v;
}

/* --- the hooks --- */

void *dev_alloc(struct cdm_ctx *ctx, struct dev_fx *fx, size_t len)
{
	void *p;

	if (fx->nallocs == DEV_MAX_ALLOCS) {
		cdm_error(ctx, "dev_alloc: more than %d buffers", DEV_MAX_ALLOCS);
		return NULL;
	}
	p = calloc(1, len ? len : 1);
	if (!p) {
		cdm_error(ctx, "cannot allocate %zu bytes of work buffers", len);
		return NULL;
	}
	fx->allocs[fx->nallocs++] = p;
	return p;
}

int dev_fx_setup(struct cdm_ctx *ctx, const struct dev_workload *dw)
{
	const struct dev_cfg *cfg = cdm_cfg(ctx);
	struct dev_fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -ENOMEM;
	fx->dw = dw;
	fx->cfg = cfg;
	cdm_set_priv(ctx, fx);
	fx->priv = dev_alloc(ctx, fx, dw->priv_size);
	if (!fx->priv)
		return -1;
	if (dev_open(ctx, cfg, cfg->device == DEV_BOTH ? DEV_PRIVATE :
		     cfg->device, cfg->instance, &fx->dev) ||
	    dev_require(ctx, fx->dev, dw->needs))
		return -1;
	if (dw->flags & DEV_F_NO_OPEN) {
		/* opened only to ask what it can do: the workload opens its own */
		dev_close(fx->dev);
		fx->dev = NULL;
	} else if (!(dw->flags & DEV_F_NO_BUFFER) &&
		   dev_buf_map(ctx, fx->dev, &fx->buf, cfg->size, cfg->thp)) {
		return -1;
	}
	fx->setup_ran = true;
	return dw->setup ? dw->setup(ctx, fx) : 0;
}

int dev_fx_run(struct cdm_ctx *ctx)
{
	struct dev_fx *fx = cdm_priv(ctx);

	return fx->dw->run(ctx, fx);
}

void dev_fx_teardown(struct cdm_ctx *ctx)
{
	struct dev_fx *fx = cdm_priv(ctx);

	if (!fx)
		return;
	/* the workload's teardown undoes its setup, so only after one */
	if (fx->dw->teardown && fx->setup_ran)
		fx->dw->teardown(ctx, fx);
	dev_buf_unmap(fx->dev, &fx->buf);
	dev_close(fx->dev);
	while (fx->nallocs)
		free(fx->allocs[--fx->nallocs]);
	free(fx);
	cdm_set_priv(ctx, NULL);
}

/* --- operations --- */

#define DEV_CALL(d, hook, st, ...)                                             \
	({                                                                     \
		struct cdm_estat st_ = { .flags = (st) ? 0 : CDM_ESTAT_UNTIMED }; \
		int r_;                                                        \
		(d)->err[0] = '\0';                                            \
		r_ = (d)->ops->hook ? (d)->ops->hook(d, __VA_ARGS__, &st_) : \
			 -ENOSYS;                                              \
		if (st)                                                        \
			*(st) = st_;                                           \
		r_;                                                            \
	})

int dev_migrate(struct cdm_edev *d, void *addr, size_t npages,
		enum cdm_dir dir, void *readback, struct cdm_estat *st)
{
	return DEV_CALL(d, migrate, st, addr, npages, dir, readback);
}

int dev_read(struct cdm_edev *d, const void *addr, size_t npages, void *out,
	     struct cdm_estat *st)
{
	return DEV_CALL(d, dev_read, st, addr, npages, out);
}

int dev_write(struct cdm_edev *d, void *addr, size_t npages, const void *in,
	      struct cdm_estat *st)
{
	return DEV_CALL(d, dev_write, st, addr, npages, in);
}

int dev_exclusive(struct cdm_edev *d, void *addr, size_t npages,
		  void *readback, struct cdm_estat *st)
{
	return DEV_CALL(d, exclusive, st, addr, npages, readback);
}

int dev_check_exclusive(struct cdm_edev *d, void *addr, size_t npages,
			struct cdm_estat *st)
{
	return DEV_CALL(d, check_exclusive, st, addr, npages);
}

int dev_loc(struct cdm_edev *d, const void *addr, size_t npages,
	    uint8_t *loc)
{
	d->err[0] = '\0';
	return d->ops->where ? d->ops->where(d, addr, npages, loc) : -ENOSYS;
}

const char *dev_strerror(const struct cdm_edev *d, int r)
{
	return d && d->err[0] ? d->err : strerror(-r);
}

/* --- placement --- */

int dev_where(struct cdm_edev *d, const struct cdm_ebuf *b, uint8_t *loc,
	      struct dev_where *w)
{
	uint8_t *own = NULL;
	size_t i;
	int r;

	memset(w, 0, sizeof(*w));
	w->first_off_device = w->first_on_device = b->npages;
	if (!loc) {
		own = loc = malloc(b->npages ? b->npages : 1);
		if (!own)
			return -ENOMEM;
	}
	r = dev_loc(d, b->p, b->npages, loc);
	for (i = 0; !r && i < b->npages; i++) {
		uint8_t s = loc[i];
		enum cdm_loc where = cdm_pg_loc(s);

		w->local += where == CDM_LOC_LOCAL;
		w->remote += where == CDM_LOC_REMOTE;
		w->system += where == CDM_LOC_SYSTEM || where == CDM_LOC_ZERO;
		w->none += where == CDM_LOC_NONE || where == CDM_LOC_UNKNOWN;
		w->huge += !!(s & CDM_PG_HUGE);
		if (where != CDM_LOC_LOCAL && w->first_off_device == b->npages) {
			w->first_off_device = i;
			w->first_off_byte = s;
		}
		if (cdm_pg_on_device(s) && w->first_on_device == b->npages) {
			w->first_on_device = i;
			w->first_on_byte = s;
		}
	}
	free(own);
	return r;
}

const char *dev_pg_describe(uint8_t b, char *buf, size_t len)
{
	const char *kind = (b & CDM_PG_COHERENT) ? "device-coherent" :
			   "device-private";
	const char *where;

	switch (cdm_pg_loc(b)) {
	case CDM_LOC_LOCAL:
		snprintf(buf, len, "0x%02x (%s (this device)%s)", b, kind,
			 (b & CDM_PG_WRITE) ? ", writable" : "");
		return buf;
	case CDM_LOC_REMOTE:
		snprintf(buf, len, "0x%02x (%s (other device)%s)", b, kind,
			 (b & CDM_PG_WRITE) ? ", writable" : "");
		return buf;
	case CDM_LOC_SYSTEM:
		where = "system RAM";
		break;
	case CDM_LOC_ZERO:
		where = "zero page";
		break;
	case CDM_LOC_NONE:
		where = "not mapped";
		break;
	default:
		where = "unknown";
	}
	snprintf(buf, len, "0x%02x (%s%s)", b, where,
		 (b & CDM_PG_WRITE) ? ", writable" : "");
	return buf;
}

int dev_check_where(struct cdm_ctx *ctx, struct cdm_edev *d,
		    const struct cdm_ebuf *b, enum dev_expect want,
		    const char *phase, struct dev_where *out)
{
	struct dev_where w;
	char desc[96];
	int r = dev_where(d, b, NULL, &w);

	if (r)
		return cdm_error(ctx, "%s: placement query (SNAPSHOT) failed: %s",
				 phase, dev_strerror(d, r));
	if (out)
		*out = w;
	if (want == DEV_ON_DEVICE && w.local != b->npages)
		cdm_fail(ctx, "%s: %zu of %zu pages not on the device; first: page %zu (offset %zu) is %s",
			 phase, b->npages - w.local, b->npages,
			 w.first_off_device,
			 w.first_off_device * cdm_page_size(),
			 dev_pg_describe(w.first_off_byte, desc, sizeof(desc)));
	if (want == DEV_IN_SYSTEM && w.first_on_device != b->npages)
		cdm_fail(ctx, "%s: %zu of %zu pages still on a device; first: page %zu (offset %zu) is %s",
			 phase, w.local + w.remote, b->npages, w.first_on_device,
			 w.first_on_device * cdm_page_size(),
			 dev_pg_describe(w.first_on_byte, desc, sizeof(desc)));
	return 0;
}

const char *dev_placement(const struct dev_where *w, size_t npages, char *buf,
			  size_t len)
{
	if (w->local == npages)
		snprintf(buf, len, "device");
	else if (w->system == npages)
		snprintf(buf, len, "system");
	else
		snprintf(buf, len, "mixed (%zu device, %zu other device, %zu system, %zu unmapped)",
			 w->local, w->remote, w->system, w->none);
	return buf;
}

/* --- data --- */

bool dev_check_data(struct cdm_ctx *ctx, const void *data, size_t len,
		    uint32_t gen, const char *phase)
{
	struct pat_err e;

	if (pat_check(data, len, cdm_seed(ctx), gen, &e))
		return true;
	cdm_fail(ctx, "%s: data differs at page %zu (offset %zu): expected 0x%016llx, got 0x%016llx; %s",
		 phase, e.page, e.offset, (unsigned long long)e.expected,
		 (unsigned long long)e.got, e.what);
	return false;
}

int dev_corrupt_page(struct cdm_ctx *ctx, struct cdm_edev *d,
		     const struct cdm_ebuf *b, int64_t page)
{
	size_t pg = cdm_page_size();
	char *junk;
	int r;

	if (page < 0 || (size_t)page >= b->npages)
		return 0;
	/* an engine that cannot write from the device cannot tamper */
	if (dev_require(ctx, d, CDM_CAP_DEV_WRITE))
		return -1;
	junk = malloc(pg);
	if (!junk)
		return cdm_error(ctx, "out of memory");
	memset(junk, 0xa5, pg);
	r = dev_write(d, (char *)b->p + page * pg, 1, junk, NULL);
	free(junk);
	if (r)
		return cdm_error(ctx, "device write for corrupt_page: %s",
				 dev_strerror(d, r));
	return 0;
}

/* --- the round trip most workloads start and end with --- */

int dev_to_device(struct cdm_ctx *ctx, struct cdm_edev *d,
		  const struct cdm_ebuf *b, void *back, uint32_t gen)
{
	const struct dev_cfg *cfg = cdm_cfg(ctx);
	int r;

	r = dev_migrate(d, b->p, b->npages, CDM_TO_DEVICE, back, NULL);
	if (r == -ENOMEM) {
		cdm_info(ctx, "enomem", "MIGRATE_TO_DEV returned ENOMEM (device memory exhausted)");
		cdm_fail(ctx, "device memory exhausted (ENOMEM) migrating %zu pages",
			 b->npages);
		return -1;
	}
	if (r)
		return cdm_error(ctx, "MIGRATE_TO_DEV: %s", dev_strerror(d, r));
	if (dev_check_where(ctx, d, b, DEV_ON_DEVICE, "after MIGRATE_TO_DEV",
			    NULL) < 0 || cdm_failed(ctx))
		return -1;
	if (!dev_check_data(ctx, back, b->len, gen,
			    "device read-back after MIGRATE_TO_DEV"))
		return -1;
	return dev_corrupt_page(ctx, d, b, cfg->corrupt);
}

int dev_to_system(struct cdm_ctx *ctx, struct cdm_edev *d,
		  const struct cdm_ebuf *b, uint32_t gen, const char *phase)
{
	int r = dev_migrate(d, b->p, b->npages, CDM_TO_SYSTEM, NULL, NULL);

	if (r)
		return cdm_error(ctx, "MIGRATE_TO_SYS: %s", dev_strerror(d, r));
	if (dev_check_where(ctx, d, b, DEV_IN_SYSTEM, "after MIGRATE_TO_SYS",
			    NULL) < 0)
		return -1;
	dev_check_data(ctx, b->p, b->len, gen, phase);
	return 0;
}
