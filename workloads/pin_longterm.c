// SPDX-License-Identifier: GPL-2.0
/*
 * pin-longterm: what pinning device-resident pages does to them.
 *
 * A FOLL_LONGTERM pin (pin_user_pages() with FOLL_LONGTERM, as RDMA, VFIO
 * and io_uring fixed buffers take) must not hold a ZONE_DEVICE page: the
 * device's memory manager could never evict it. check_and_migrate_movable_
 * pages() in mm/gup.c therefore migrates DEVICE_COHERENT pages back to
 * system RAM before the pin is granted (migrate_device_coherent_page());
 * DEVICE_PRIVATE pages are not mapped at all, so any GUP faults them home
 * through migrate_to_ram(). A plain GUP or a short-term pin
 * (get_user_pages_fast, pin_user_pages_fast without FOLL_LONGTERM) may leave
 * coherent pages where they are.
 *
 * Methods: gup_test's PIN_LONGTERM_BENCHMARK (/sys/kernel/debug/gup_test,
 * CONFIG_GUP_TEST), io_uring buffer registration (io_pin_pages(), also
 * FOLL_LONGTERM), and the plain GUP_FAST_BENCHMARK and PIN_FAST_BENCHMARK.
 * Each iteration pins the buffer in system RAM (the baseline), then on the
 * device, and times both, so the migration a long-term pin forces is a
 * number; SNAPSHOT says where the pages are after each pin and the data is
 * checked after every phase. For io_uring, while the pin holds, the pages
 * must refuse MIGRATE_TO_DEV and a WRITE_FIXED from the registered buffer
 * must carry the buffer's data.
 *
 * gup_test's own oracle: after a PIN_LONGTERM_BENCHMARK it WARNs "pages[N]
 * is NOT pinnable but pinned" for a page that should have been migrated
 * first; the runner reads /dev/kmsg and fails the case on that WARN.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "lib/pattern.h"

/*
 * mm/gup_test.h is not exported to /usr/include either: the ABI restated.
 * The ioctl numbers encode the struct size, so it must stay 80 bytes.
 */
#define GUP_TEST_PATH "/sys/kernel/debug/gup_test"
#define GUP_TEST_MAX_PAGES_TO_DUMP 8

struct cdm_gup_test {
	uint64_t get_delta_usec;	/* out: pin time, measured in the kernel */
	uint64_t put_delta_usec;	/* out: unpin time */
	uint64_t addr;
	uint64_t size;			/* in: bytes; out: bytes actually pinned */
	uint32_t nr_pages_per_call;
	uint32_t gup_flags;
	uint32_t test_flags;
	uint32_t which_pages[GUP_TEST_MAX_PAGES_TO_DUMP];
};
_Static_assert(sizeof(struct cdm_gup_test) == 80, "struct gup_test ABI");

#define GUP_FAST_BENCHMARK	_IOWR('g', 1, struct cdm_gup_test)
#define PIN_FAST_BENCHMARK	_IOWR('g', 2, struct cdm_gup_test)
#define PIN_LONGTERM_BENCHMARK	_IOWR('g', 3, struct cdm_gup_test)
/* include/linux/mm.h; the same bit in every kernel gup_test runs on */
#define GUP_FOLL_WRITE 0x01

enum { PM_GUP_LONGTERM, PM_IO_URING, PM_GUP_FAST, PM_PIN_FAST };

struct pl_cfg {
	struct dev_cfg dev;
	int method;
	uint64_t batch;
};

static const struct cdm_opt pl_opts[] = {
	DEV_OPT_VARIANT,
	{ "method", CDM_T_ENUM, OPT_FIELD(struct pl_cfg, method), "gup-longterm",
	  0, 0, "gup-longterm|io-uring|gup-fast|pin-fast", 0,
	  "how to pin: gup_test PIN_LONGTERM_BENCHMARK (FOLL_LONGTERM), io_uring buffer registration (FOLL_LONGTERM), gup_test GUP_FAST_BENCHMARK (get_user_pages_fast) or PIN_FAST_BENCHMARK (pin_user_pages_fast), both without FOLL_LONGTERM" },
	DEV_OPT_SIZE("2M", 4096, 1073741824.0,
		     "bytes pinned per iteration (a coherent device holds 256M)"),
	DEV_OPT_THP(CDM_OF_KEY_IF_SET),
	{ "batch", CDM_T_SIZE, OPT_FIELD(struct pl_cfg, batch), "0", 0,
	  1073741824.0, NULL, CDM_OF_PAGE_ALIGNED,
	  "gup_test methods: bytes per GUP call inside the kernel loop (0: the whole buffer in one call)" },
	DEV_OPT_CORRUPT("before the pin"),
	CDM_OPT_END
};

static const char *const pl_api[] = {
	[PM_GUP_LONGTERM] = "gup_test PIN_LONGTERM_BENCHMARK: pin_user_pages(FOLL_WRITE | FOLL_LONGTERM)",
	[PM_IO_URING] = "io_uring_register_buffers: pin_user_pages(FOLL_WRITE | FOLL_LONGTERM)",
	[PM_GUP_FAST] = "gup_test GUP_FAST_BENCHMARK: get_user_pages_fast(FOLL_WRITE)",
	[PM_PIN_FAST] = "gup_test PIN_FAST_BENCHMARK: pin_user_pages_fast(FOLL_WRITE)",
};

static const unsigned long pl_gup_cmd[] = {
	[PM_GUP_LONGTERM] = PIN_LONGTERM_BENCHMARK,
	[PM_GUP_FAST] = GUP_FAST_BENCHMARK,
	[PM_PIN_FAST] = PIN_FAST_BENCHMARK,
};

struct pin_times {
	uint64_t pin_ns;	/* the pin call, seen from user space */
	uint64_t unpin_ns;	/* io_uring: the unregister call */
	uint64_t kget_us;	/* gup_test: in-kernel pin time */
	uint64_t kput_us;	/* gup_test: in-kernel unpin time */
};

struct pl {
	struct cdm_edev *dev;
	int gup_fd;
	int memfd;		/* io_uring WRITE_FIXED target */
	bool ring_ok;
	struct io_uring ring;
	struct cdm_ebuf buf;
	char *back;		/* the device's read-back copy */
	char *scratch;		/* what came back from the memfd */
	uint32_t gen;
	int m_pin[2], m_unpin[2], m_kget[2], m_kput[2], m_penalty;
	uint64_t moved;		/* pages a device-side pin moved home, summed */
	uint64_t rounds;
	char placement[128];
};

static bool is_uring(const struct pl_cfg *c)
{
	return c->method == PM_IO_URING;
}

static bool is_longterm(const struct pl_cfg *c)
{
	return c->method == PM_GUP_LONGTERM || c->method == PM_IO_URING;
}

static bool gup_test_usable(char *why, size_t len)
{
	struct stat st;

	if (access(GUP_TEST_PATH, R_OK | W_OK) == 0)
		return true;
	if (access(GUP_TEST_PATH, F_OK) == 0)
		snprintf(why, len, "%s: %s (run as root)", GUP_TEST_PATH,
			 strerror(errno));
	else if (stat("/sys/kernel/debug", &st) || access("/sys/kernel/debug", X_OK))
		snprintf(why, len, "gup_test: /sys/kernel/debug not accessible (root needed)");
	else if (access("/sys/kernel/debug/bdi", F_OK) &&
		 access("/sys/kernel/debug/sched", F_OK))
		snprintf(why, len, "gup_test: debugfs not mounted (mount -t debugfs none /sys/kernel/debug)");
	else
		snprintf(why, len, "gup_test absent: kernel without CONFIG_GUP_TEST");
	return false;
}

static bool uring_usable(char *why, size_t len)
{
	struct io_uring ring;
	int r = io_uring_queue_init(2, &ring, 0);

	if (r == 0) {
		io_uring_queue_exit(&ring);
		return true;
	}
	snprintf(why, len, "io_uring unavailable: io_uring_setup: %s%s",
		 strerror(-r), r == -ENOSYS ? " (kernel without CONFIG_IO_URING)" :
		 r == -EPERM ? " (disabled: kernel.io_uring_disabled)" : "");
	return false;
}

static bool pl_supported(const void *cfg, char *why, size_t len)
{
	const struct pl_cfg *c = cfg;

	if (c->dev.device == DEV_COHERENT && c->dev.size > DM_COHERENT_BYTES) {
		snprintf(why, len, "size %lluM exceeds the 256M a coherent test_hmm device holds",
			 (unsigned long long)(c->dev.size >> 20));
		return false;
	}
	if (is_uring(c) && c->dev.size > (1ull << 30)) {
		snprintf(why, len, "io_uring registers at most 1G per buffer");
		return false;
	}
	return is_uring(c) ? uring_usable(why, len) : gup_test_usable(why, len);
}

static void pl_metrics(struct cdm_ctx *ctx, struct pl *p)
{
	const struct pl_cfg *cfg = cdm_cfg(ctx);
	static const char *const where[2] = { "system", "device" };
	char name[48];
	int d;

	for (d = 0; d < 2; d++) {
		snprintf(name, sizeof(name), "pin_%s_us", where[d]);
		p->m_pin[d] = cdm_metric(ctx, name, "us", CDM_LOWER_IS_BETTER);
		p->m_unpin[d] = p->m_kget[d] = p->m_kput[d] = -1;
		if (is_uring(cfg)) {
			snprintf(name, sizeof(name), "unpin_%s_us", where[d]);
			p->m_unpin[d] = cdm_metric(ctx, name, "us", CDM_LOWER_IS_BETTER);
			continue;
		}
		snprintf(name, sizeof(name), "kernel_get_%s_us", where[d]);
		p->m_kget[d] = cdm_metric(ctx, name, "us", CDM_LOWER_IS_BETTER);
		snprintf(name, sizeof(name), "kernel_put_%s_us", where[d]);
		p->m_kput[d] = cdm_metric(ctx, name, "us", CDM_LOWER_IS_BETTER);
	}
	p->m_penalty = cdm_metric(ctx, "pin_penalty_us", "us", CDM_LOWER_IS_BETTER);
}

static int pl_open_pinner(struct cdm_ctx *ctx, struct pl *p)
{
	const struct pl_cfg *cfg = cdm_cfg(ctx);
	int r;

	if (!is_uring(cfg)) {
		p->gup_fd = open(GUP_TEST_PATH, O_RDWR | O_CLOEXEC);
		if (p->gup_fd < 0)
			return cdm_skip(ctx, "%s: %s", GUP_TEST_PATH, strerror(errno));
		return 0;
	}
	r = io_uring_queue_init(4, &p->ring, 0);
	if (r)
		return cdm_skip(ctx, "io_uring_queue_init: %s", strerror(-r));
	p->ring_ok = true;
	p->memfd = memfd_create("cdmbench-pin", MFD_CLOEXEC);
	if (p->memfd < 0)
		return cdm_skip(ctx, "memfd_create: %s", strerror(errno));
	return 0;
}

static int pl_setup(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct pl_cfg *cfg = cdm_cfg(ctx);
	struct pl *p = fx->priv;

	p->gup_fd = p->memfd = -1;
	p->dev = fx->dev;
	p->buf = fx->buf;
	if (pl_open_pinner(ctx, p))
		return -1;
	p->back = dev_alloc(ctx, fx, cfg->dev.size);
	p->scratch = dev_alloc(ctx, fx, cfg->dev.size);
	if (!p->back || !p->scratch)
		return -1;
	pl_metrics(ctx, p);
	cdm_info(ctx, "method", "%s", pl_api[cfg->method]);
	return 0;
}

static int gup_pin(struct cdm_ctx *ctx, struct pl *p, struct pin_times *t)
{
	const struct pl_cfg *cfg = cdm_cfg(ctx);
	size_t per = cfg->batch ? cfg->batch / cdm_page_size() : p->buf.npages;
	struct cdm_gup_test g;
	uint64_t t0;
	int r;

	do {
		memset(&g, 0, sizeof(g));
		g.addr = (uintptr_t)p->buf.p;
		g.size = p->buf.len;
		g.nr_pages_per_call = per < p->buf.npages ? per : p->buf.npages;
		g.gup_flags = GUP_FOLL_WRITE;
		t0 = cdm_now_ns();
		r = ioctl(p->gup_fd, pl_gup_cmd[cfg->method], &g);
		t->pin_ns = cdm_now_ns() - t0;
	} while (r && errno == EINTR);
	if (r && errno == ENOMEM) {
		cdm_info(ctx, "enomem", "gup_test returned ENOMEM");
		cdm_fail(ctx, "gup_test: out of memory (ENOMEM) pinning %zu pages",
			 p->buf.npages);
		return -1;
	}
	if (r)
		return cdm_error(ctx, "gup_test ioctl: %s", strerror(errno));
	t->kget_us = g.get_delta_usec;
	t->kput_us = g.put_delta_usec;
	if (g.size != p->buf.len) {
		cdm_fail(ctx, "%s pinned %llu of %zu pages: the kernel gave up at page %llu",
			 pl_api[cfg->method],
			 (unsigned long long)(g.size / cdm_page_size()),
			 p->buf.npages,
			 (unsigned long long)(g.size / cdm_page_size()));
		return -1;
	}
	return 0;
}

static int uring_register(struct cdm_ctx *ctx, struct pl *p, bool on_dev,
			  struct pin_times *t)
{
	struct iovec iov = { .iov_base = p->buf.p, .iov_len = p->buf.len };
	uint64_t t0 = cdm_now_ns();
	int r = io_uring_register_buffers(&p->ring, &iov, 1);

	t->pin_ns = cdm_now_ns() - t0;
	if (r == -ENOMEM && !on_dev)
		return cdm_error(ctx, "io_uring_register_buffers of %zu bytes: ENOMEM (RLIMIT_MEMLOCK too small? raise ulimit -l or run as root)",
				 p->buf.len);
	if (r == -ENOMEM) {
		cdm_info(ctx, "enomem", "io_uring_register_buffers returned ENOMEM on device-resident pages");
		cdm_fail(ctx, "io_uring_register_buffers: out of memory (ENOMEM) pinning %zu device-resident pages",
			 p->buf.npages);
		return -1;
	}
	if (r)
		return cdm_error(ctx, "io_uring_register_buffers: %s", strerror(-r));
	return 0;
}

/* the registered buffer, written to a memfd by the kernel, then read back */
static int uring_write_fixed(struct cdm_ctx *ctx, struct pl *p)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	size_t done = 0;
	int r;

	while (done < p->buf.len) {
		sqe = io_uring_get_sqe(&p->ring);
		if (!sqe)
			return cdm_error(ctx, "io_uring: no submission slot");
		io_uring_prep_write_fixed(sqe, p->memfd, p->buf.p + done,
					  p->buf.len - done, done, 0);
		r = io_uring_submit_and_wait(&p->ring, 1);
		if (r < 0)
			return cdm_error(ctx, "io_uring_submit: %s", strerror(-r));
		r = io_uring_wait_cqe(&p->ring, &cqe);
		if (r < 0)
			return cdm_error(ctx, "io_uring_wait_cqe: %s", strerror(-r));
		r = cqe->res;
		io_uring_cqe_seen(&p->ring, cqe);
		if (r <= 0)
			return cdm_error(ctx, "WRITE_FIXED from the registered buffer: %s",
					 r ? strerror(-r) : "wrote nothing");
		done += r;
	}
	if (pread(p->memfd, p->scratch, p->buf.len, 0) != (ssize_t)p->buf.len)
		return cdm_error(ctx, "reading the memfd back: %s", strerror(errno));
	return 0;
}

/* while the long-term pin holds: placement, no migration, I/O sees the data */
static int while_pinned(struct cdm_ctx *ctx, struct pl *p, bool on_dev)
{
	struct dev_where w;
	int r;

	if (dev_check_where(ctx, p->dev, &p->buf, DEV_IN_SYSTEM,
			   on_dev ? "while io_uring holds a FOLL_LONGTERM pin on formerly device-resident pages" :
			   "while io_uring holds a FOLL_LONGTERM pin on system-resident pages", &w) < 0)
		return -1;
	if (on_dev)
		cdm_info(ctx, "placement_while_pinned", "%s",
			 dev_placement(&w, p->buf.npages, p->placement, sizeof(p->placement)));
	/*
	 * test_hmm's read-back after the migration answers ENOENT for pages
	 * that did not move (no device mirror entry): the outcome hoped for.
	 * SNAPSHOT is the judge either way.
	 */
	r = dev_migrate(p->dev, p->buf.p, p->buf.npages, CDM_TO_DEVICE, p->back,
			NULL);
	if (r && r != -ENOENT && r != -ENOMEM)
		return cdm_error(ctx, "MIGRATE_TO_DEV of pinned pages: %s",
				 dev_strerror(p->dev, r));
	if (dev_check_where(ctx, p->dev, &p->buf, DEV_IN_SYSTEM,
			   "after MIGRATE_TO_DEV of pages io_uring holds pinned (a pinned page must not migrate)", &w) < 0)
		return -1;
	if (!r && !dev_check_data(ctx, p->back, p->buf.len, p->gen,
				 "device read-back of pinned pages"))
		return -1;
	if (uring_write_fixed(ctx, p) < 0)
		return -1;
	if (!dev_check_data(ctx, p->scratch, p->buf.len, p->gen,
			   "WRITE_FIXED from the registered buffer, read back from the memfd"))
		return -1;
	return 0;
}

static int uring_pin(struct cdm_ctx *ctx, struct pl *p, bool on_dev,
		     struct pin_times *t)
{
	uint64_t t0;
	int r;

	if (uring_register(ctx, p, on_dev, t))
		return -1;
	r = while_pinned(ctx, p, on_dev);
	t0 = cdm_now_ns();
	if (io_uring_unregister_buffers(&p->ring))
		return cdm_error(ctx, "io_uring_unregister_buffers failed");
	t->unpin_ns = cdm_now_ns() - t0;
	return r;
}

static void sample_pin(struct cdm_ctx *ctx, struct pl *p, int d,
		       const struct pin_times *t)
{
	cdm_sample(ctx, p->m_pin[d], t->pin_ns / 1e3);
	if (p->m_unpin[d] >= 0)
		cdm_sample(ctx, p->m_unpin[d], t->unpin_ns / 1e3);
	if (p->m_kget[d] >= 0) {
		cdm_sample(ctx, p->m_kget[d], t->kget_us);
		cdm_sample(ctx, p->m_kput[d], t->kput_us);
	}
}

static int pin(struct cdm_ctx *ctx, struct pl *p, bool on_dev,
	       struct pin_times *t)
{
	const struct pl_cfg *cfg = cdm_cfg(ctx);

	memset(t, 0, sizeof(*t));
	if (is_uring(cfg) ? uring_pin(ctx, p, on_dev, t) : gup_pin(ctx, p, t))
		return -1;
	sample_pin(ctx, p, on_dev, t);
	return 0;
}

static int to_device(struct cdm_ctx *ctx, struct pl *p)
{
	return dev_to_device(ctx, p->dev, &p->buf, p->back, p->gen);
}

/* what the kernel promises for this method and memory type */
static enum dev_expect expected(const struct pl_cfg *c, char *why, size_t len)
{
	bool coh = c->dev.device == DEV_COHERENT;

	if (is_longterm(c)) {
		snprintf(why, len, "after %s on device-%s pages (a FOLL_LONGTERM pin must move them to system RAM)",
			 pl_api[c->method], coh ? "coherent" : "private");
		return DEV_IN_SYSTEM;
	}
	if (coh) {
		snprintf(why, len, "after %s on device-coherent pages (no FOLL_LONGTERM: they stay on the device)",
			 pl_api[c->method]);
		return DEV_ON_DEVICE;
	}
	snprintf(why, len, "after %s on device-private pages (GUP faults them back to system RAM)",
		 pl_api[c->method]);
	return DEV_IN_SYSTEM;
}

static int check_after_pin(struct cdm_ctx *ctx, struct pl *p)
{
	const struct pl_cfg *cfg = cdm_cfg(ctx);
	struct dev_where w;
	char phase[256];
	enum dev_expect want = expected(cfg, phase, sizeof(phase));

	if (dev_check_where(ctx, p->dev, &p->buf, want, phase, &w) < 0)
		return -1;
	dev_placement(&w, p->buf.npages, p->placement, sizeof(p->placement));
	if (!cdm_warming(ctx)) {
		p->moved += p->buf.npages - w.local;
		p->rounds++;
	}
	return 0;
}

static int back_home(struct cdm_ctx *ctx, struct pl *p)
{
	return dev_to_system(ctx, p->dev, &p->buf, p->gen,
			     "CPU read after MIGRATE_TO_SYS");
}

static int pl_iteration(struct cdm_ctx *ctx, struct pl *p)
{
	struct pin_times sys, dev;

	pat_fill(p->buf.p, p->buf.len, cdm_seed(ctx), ++p->gen);
	if (pin(ctx, p, false, &sys))
		return -1;
	if (dev_check_where(ctx, p->dev, &p->buf, DEV_IN_SYSTEM,
			    "after pinning system-resident pages", NULL) < 0 ||
	    !dev_check_data(ctx, p->buf.p, p->buf.len, p->gen,
			   "CPU read after pinning system-resident pages"))
		return -1;
	if (to_device(ctx, p) || pin(ctx, p, true, &dev))
		return -1;
	cdm_sample(ctx, p->m_penalty, ((double)dev.pin_ns - sys.pin_ns) / 1e3);
	if (check_after_pin(ctx, p) < 0 ||
	    !dev_check_data(ctx, p->buf.p, p->buf.len, p->gen,
			    "CPU read after pinning device-resident pages"))
		return -1;
	return back_home(ctx, p);
}

static void pl_report(struct cdm_ctx *ctx, struct pl *p)
{
	const struct pl_cfg *cfg = cdm_cfg(ctx);
	char why[256];

	cdm_info(ctx, "pages", "%zu", p->buf.npages);
	cdm_info(ctx, "placement_expected", "%s",
		 expected(cfg, why, sizeof(why)) == DEV_IN_SYSTEM ? "system" : "device");
	if (p->placement[0])
		cdm_info(ctx, "placement_after_pin", "%s", p->placement);
	cdm_info(ctx, "pages_moved_by_pin", "%llu",
		 (unsigned long long)(p->rounds ? p->moved / p->rounds : 0));
	if (cdm_failed(ctx))
		return;
	if (is_uring(cfg)) {
		cdm_info(ctx, "migrate_while_pinned", "refused");
		cdm_info(ctx, "uring_write_fixed", "ok");
	}
	cdm_info(ctx, "integrity", "ok");
}

static int pl_run(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	struct pl *p = fx->priv;

	while (cdm_iter(ctx)) {
		/* a failed phase has set the verdict; cdm_iter() ends the loop */
		if (pl_iteration(ctx, p) < 0)
			break;
	}
	pl_report(ctx, p);
	return 0;
}

static void pl_teardown(struct cdm_ctx *ctx __unused, struct dev_fx *fx)
{
	struct pl *p = fx->priv;

	if (p->ring_ok)
		io_uring_queue_exit(&p->ring);
	if (p->memfd >= 0)
		close(p->memfd);
	if (p->gup_fd >= 0)
		close(p->gup_fd);
}

DEV_WORKLOAD(pin_longterm, pl, DEV_CAPS_ROUND_TRIP, 0, pl_teardown,
	.name = "pin-longterm",
	.summary = "pin device pages (FOLL_LONGTERM via gup_test and io_uring, or plain GUP): placement and cost",
	.help = "Pins a buffer in system RAM and then on the device, and times both pins\n"
		"(pin_system_us, pin_device_us, pin_penalty_us; gup_test's in-kernel\n"
		"kernel_get_*_us and kernel_put_*_us; io_uring's unpin_*_us). A long-term\n"
		"pin must move both memory types to system RAM; get_user_pages_fast and\n"
		"pin_user_pages_fast leave coherent pages in place and fault private ones\n"
		"home. SNAPSHOT checks each case, a wrong placement fails it.",
	.verifies = CDM_VERIFY_DATA | CDM_VERIFY_PLACEMENT,
	.tamper = "corrupt_page", .tamper_value = "3");
