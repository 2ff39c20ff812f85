// SPDX-License-Identifier: GPL-2.0
/*
 * The dmirror engine: the kernel's test_hmm driver (lib/test_hmm.c) behind
 * the engine contract. Each operation is one test_hmm ioctl on the open
 * /dev/hmm_dmirrorN (lib/dmirror.c restates the uapi), timed around the
 * ioctl alone so the engine adds nothing a direct caller would not pay;
 * tests/bench measures that.
 *
 * What it cannot do, it says: test_hmm has no compute, so no device
 * atomics or device-driven first touch; its memory is reached only
 * through migrations of anonymous system memory, so it allocates nothing
 * but mmap'd system memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "lib/dmirror.h"

#define HUGE_2M (2ull << 20)

#define DMIRROR_CAPS (CDM_CAP_ALLOC_SYSTEM | CDM_CAP_MIGRATE |                 \
		      CDM_CAP_MIGRATE_READBACK | CDM_CAP_WHERE |               \
		      CDM_CAP_DEV_READ | CDM_CAP_DEV_WRITE | CDM_CAP_EXCLUSIVE | \
		      CDM_CAP_FORK_SAFE | CDM_CAP_PEER)

struct dmirror_dev {
	int fd;
};

static int dmirror_fd(struct cdm_edev *d)
{
	return ((struct dmirror_dev *)d->priv)->fd;
}

int cdm_dmirror_fd(const struct cdm_edev *d)
{
	return d->ops == &cdm_engine_dmirror ?
	       ((const struct dmirror_dev *)d->priv)->fd : -1;
}

static enum cdm_memtype memtype_of(enum dmirror_memtype t)
{
	return t == DMIRROR_PRIVATE ? CDM_MEM_PRIVATE :
	       t == DMIRROR_COHERENT ? CDM_MEM_COHERENT : CDM_MEM_ANY;
}

static int dmirror_init(const struct cdm_engine_host *host __unused,
			char *why, size_t len)
{
	if (dmirror_find(DMIRROR_PRIVATE, 0) >= 0 ||
	    dmirror_find(DMIRROR_COHERENT, 0) >= 0)
		return 0;
	snprintf(why, len, "no /dev/hmm_dmirror* devices: kernel without CONFIG_TEST_HMM or module not loaded (try 'cdmbench vm run')");
	return -ENODEV;
}

static int dmirror_enumerate(struct cdm_edev_info *out, int max,
			     char *why __unused, size_t len __unused)
{
	int seen[CDM_MEM_NTYPES] = { 0 };
	char path[64];
	int m, n = 0;

	for (m = 0; m < DMIRROR_NDEV && n < max; m++) {
		struct cdm_edev_info *i = &out[n];

		if (access(dmirror_path(m, path, sizeof(path)), F_OK))
			continue;
		memset(i, 0, sizeof(*i));
		i->index = m;
		i->memtype = memtype_of(dmirror_expected_type(m));
		i->instance = seen[i->memtype]++;
		i->caps = DMIRROR_CAPS;
		snprintf(i->name, sizeof(i->name), "%s", path);
		snprintf(i->detail, sizeof(i->detail), "test_hmm %s device",
			 dmirror_type_name(dmirror_expected_type(m)));
		n++;
	}
	return n;
}

static int dmirror_open_dev(struct cdm_edev *d, const struct cdm_eopen *how)
{
	struct dmirror_dev *p;
	int minor = how->index, fd;

	if (minor < 0)
		minor = dmirror_find(how->memtype == CDM_MEM_COHERENT ?
				     DMIRROR_COHERENT : DMIRROR_PRIVATE,
				     how->instance);
	if (minor < 0 || minor >= DMIRROR_NDEV) {
		snprintf(d->err, sizeof(d->err), "no %s test_hmm device number %d",
			 how->memtype == CDM_MEM_COHERENT ? "coherent" : "private",
			 how->instance);
		return -ENODEV;
	}
	fd = dmirror_open(minor);
	if (fd < 0) {
		snprintf(d->err, sizeof(d->err), "/dev/hmm_dmirror%d: %s", minor,
			 strerror(-fd));
		return fd;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		return -ENOMEM;
	}
	p->fd = fd;
	d->priv = p;
	d->info.index = minor;
	d->info.instance = how->instance;
	d->info.memtype = memtype_of(dmirror_expected_type(minor));
	d->info.caps = DMIRROR_CAPS;
	dmirror_path(minor, d->info.name, sizeof(d->info.name));
	snprintf(d->info.detail, sizeof(d->info.detail), "test_hmm %s device",
		 dmirror_type_name(dmirror_expected_type(minor)));
	return 0;
}

static void dmirror_close_dev(struct cdm_edev *d)
{
	struct dmirror_dev *p = d->priv;

	if (!p)
		return;
	close(p->fd);
	free(p);
	d->priv = NULL;
}

static void dmirror_why_not(struct cdm_edev *d __unused, uint64_t cap,
			    char *buf, size_t len)
{
	const char *why = "test_hmm does not offer it";

	if (cap & (CDM_CAP_ATOMICS | CDM_CAP_DEV_TOUCH))
		why = "test_hmm has no compute: it cannot run device atomics or touch pages from a device kernel";
	else if (cap & (CDM_CAP_ALLOC_MANAGED | CDM_CAP_ALLOC_DEVICE |
			CDM_CAP_ALLOC_PINNED))
		why = "test_hmm mirrors anonymous system memory only: no managed, device or pinned allocations";
	else if (cap & CDM_CAP_ADVISE)
		why = "test_hmm takes no placement advice";
	else if (cap & CDM_CAP_COPY)
		why = "test_hmm has no DMA engine to copy with";
	else if (cap & CDM_CAP_THP)
		why = "test_hmm on this kernel splits huge pages when migrating";
	snprintf(buf, len, "engine dmirror: %s", why);
}

static int dmirror_alloc(struct cdm_edev *d, enum cdm_alloc_kind kind,
			 size_t len, unsigned int flags, struct cdm_ebuf *b)
{
	bool thp = flags & CDM_ALLOC_THP;
	size_t pg = sysconf(_SC_PAGESIZE);
	size_t align = thp ? HUGE_2M : pg;
	uintptr_t start;

	memset(b, 0, sizeof(*b));
	if (kind != CDM_ALLOC_SYSTEM) {
		snprintf(d->err, sizeof(d->err), "engine dmirror allocates system memory only");
		return -EOPNOTSUPP;
	}
	/* over-map and trim to get a 2M-aligned range THP can back */
	b->base_len = len + align;
	b->base = mmap(NULL, b->base_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->base == MAP_FAILED) {
		int e = errno;

		b->base = NULL;
		snprintf(d->err, sizeof(d->err), "cannot map %zu bytes: %s", len,
			 strerror(e));
		return -e;
	}
	start = ((uintptr_t)b->base + align - 1) & ~(uintptr_t)(align - 1);
	b->p = (void *)start;
	b->len = len;
	b->npages = len / pg;
	b->kind = kind;
	if (madvise(b->p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) && thp) {
		int e = errno;

		snprintf(d->err, sizeof(d->err), "madvise(MADV_HUGEPAGE): %s (kernel without THP?)",
			 strerror(e));
		munmap(b->base, b->base_len);
		memset(b, 0, sizeof(*b));
		return -EOPNOTSUPP;
	}
	return 0;
}

static void dmirror_free(struct cdm_edev *d __unused, struct cdm_ebuf *b)
{
	if (b->base)
		munmap(b->base, b->base_len);
	memset(b, 0, sizeof(*b));
}

/* one ioctl, timed around the call alone unless the caller times it */
static int timed(struct cdm_edev *d, unsigned long req, const void *addr,
		 void *ptr, size_t npages, struct cdm_estat *st)
{
	bool clock = st && !(st->flags & CDM_ESTAT_UNTIMED);
	struct dmirror_cmd cmd;
	uint64_t t0 = clock ? cdm_now_ns() : 0;
	int r = dmirror_ioctl(dmirror_fd(d), req, (void *)addr, ptr, npages,
			      &cmd);

	if (clock)
		st->ns = cdm_now_ns() - t0;
	if (st) {
		st->pages = cmd.cpages;
		st->faults = cmd.faults;
	}
	return r;
}

static int dmirror_migrate(struct cdm_edev *d, void *addr, size_t npages,
			   enum cdm_dir dir, void *readback,
			   struct cdm_estat *st)
{
	if (dir == CDM_TO_DEVICE)
		return timed(d, DMIRROR_MIGRATE_TO_DEV, addr, readback, npages, st);
	return timed(d, DMIRROR_MIGRATE_TO_SYS, addr, NULL, npages, st);
}

/* a SNAPSHOT byte in the engine-neutral form */
static uint8_t loc_of(uint8_t s)
{
	uint8_t flags = ((s & SNAP_READ) ? CDM_PG_READ : 0) |
			((s & SNAP_WRITE) ? CDM_PG_WRITE : 0) |
			((s & SNAP_PMD) ? CDM_PG_HUGE : 0);

	if (s == SNAP_ERROR)
		return CDM_LOC_NONE;
	switch (s & SNAP_WHERE_MASK) {
	case SNAP_PRIVATE_LOCAL:
		return CDM_LOC_LOCAL | flags;
	case SNAP_PRIVATE_REMOTE:
		return CDM_LOC_REMOTE | flags;
	case SNAP_COHERENT_LOCAL:
		return CDM_LOC_LOCAL | CDM_PG_COHERENT | flags;
	case SNAP_COHERENT_REMOTE:
		return CDM_LOC_REMOTE | CDM_PG_COHERENT | flags;
	case SNAP_ZERO:
		return CDM_LOC_ZERO | flags;
	}
	return ((s & (SNAP_READ | SNAP_WRITE)) ? CDM_LOC_SYSTEM : CDM_LOC_NONE) |
	       flags;
}

static int dmirror_where(struct cdm_edev *d, const void *addr, size_t npages,
			 uint8_t *loc)
{
	size_t i;
	int r = dmirror_snapshot(dmirror_fd(d), (void *)addr, npages, loc);

	if (r)
		return r;
	for (i = 0; i < npages; i++)
		loc[i] = loc_of(loc[i]);
	return 0;
}

static int dmirror_read(struct cdm_edev *d, const void *addr, size_t npages,
			void *out, struct cdm_estat *st)
{
	return timed(d, DMIRROR_READ, addr, out, npages, st);
}

static int dmirror_write(struct cdm_edev *d, void *addr, size_t npages,
			 const void *in, struct cdm_estat *st)
{
	return timed(d, DMIRROR_WRITE, addr, (void *)in, npages, st);
}

static int dmirror_exclusive(struct cdm_edev *d, void *addr, size_t npages,
			     void *readback, struct cdm_estat *st)
{
	return timed(d, DMIRROR_EXCLUSIVE, addr, readback, npages, st);
}

static int dmirror_check_exclusive(struct cdm_edev *d, void *addr,
				   size_t npages, struct cdm_estat *st)
{
	return timed(d, DMIRROR_CHECK_EXCLUSIVE, addr, NULL, npages, st);
}

static void dmirror_probe(void (*emit)(void *, const char *, const char *),
			  void *arg)
{
	struct cdm_edev_info info[DMIRROR_NDEV];
	char key[32];
	int n = dmirror_enumerate(info, DMIRROR_NDEV, NULL, 0), i;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "device%d", i);
		emit(arg, key, info[i].name);
	}
}

const struct cdm_engine_ops cdm_engine_dmirror = {
	.abi_version = CDM_ENGINE_ABI_VERSION,
	.size = sizeof(struct cdm_engine_ops),
	.name = "dmirror",
	.summary = "the kernel's test_hmm driver (/dev/hmm_dmirror0-3): private and coherent device memory",
	.build = "built in",
	.init = dmirror_init,
	.enumerate = dmirror_enumerate,
	.open = dmirror_open_dev,
	.close = dmirror_close_dev,
	.why_not = dmirror_why_not,
	.alloc = dmirror_alloc,
	.free = dmirror_free,
	.migrate = dmirror_migrate,
	.where = dmirror_where,
	.dev_read = dmirror_read,
	.dev_write = dmirror_write,
	.exclusive = dmirror_exclusive,
	.check_exclusive = dmirror_check_exclusive,
	.probe = dmirror_probe,
};
