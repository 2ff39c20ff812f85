// SPDX-License-Identifier: GPL-2.0
/*
 * selftest: a workload that misbehaves on request, so the runner's
 * promises can be checked anywhere: a crash, a hang, a failure or a
 * kernel warning each end as the right verdict, the run goes on, and the
 * samples taken before trouble are kept. Also the cheapest way to time
 * the harness itself (mode=pass with many samples).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/workload.h"

enum st_mode {
	ST_PASS, ST_FAIL, ST_SKIP, ST_ERROR, ST_CRASH, ST_BUS, ST_HANG,
	ST_EXIT, ST_SLOW, ST_NAN, ST_FORK_HANG, ST_KMSG, ST_SYSCALL, ST_TOUCH,
};

struct st_cfg {
	int mode;
	int64_t samples;
	uint64_t sleep;
	int64_t batch;
};

static const struct cdm_opt st_opts[] = {
	{ "mode", CDM_T_ENUM, OPT_FIELD(struct st_cfg, mode), "pass", 0, 0,
	  "pass|fail|skip|error|crash|sigbus|hang|exit|slow|nan|fork-hang|kmsg|syscall|touch", 0,
	  "how to behave: crash raises SIGSEGV, sigbus touches a truncated file, hang never returns, exit leaves without a verdict, slow sleeps `sleep` per iteration, fork-hang leaves a hung helper process, kmsg logs a WARNING line to /dev/kmsg from user space (recorded, but only kernel records fail a case), syscall times `batch` getppid() calls per sample (ns per call), touch faults in `batch` fresh pages per iteration in phase \"touch\" (sleeping `sleep` inside it), so per-page kernel events are known: one minor fault per page" },
	{ "samples", CDM_T_INT, OPT_FIELD(struct st_cfg, samples), "1", 1,
	  100000000, NULL, 0, "samples recorded per iteration" },
	{ "batch", CDM_T_INT, OPT_FIELD(struct st_cfg, batch), "1000", 1,
	  100000000, NULL, 0, "syscalls per sample in mode=syscall" },
	{ "sleep", CDM_T_DURATION, OPT_FIELD(struct st_cfg, sleep), "10ms", 0,
	  36e11, NULL, 0, "per-iteration sleep in mode=slow" },
	CDM_OPT_END
};

static void sigbus_now(void)
{
	char path[] = "/tmp/cdmbench-sigbus-XXXXXX";
	int fd = mkstemp(path);
	volatile char *p;

	if (fd < 0)
		raise(SIGBUS);
	unlink(path);
	/* a mapping past the end of an empty file faults with SIGBUS */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		raise(SIGBUS);
	(void)p[0];
	raise(SIGBUS);
}

static int write_kmsg(struct cdm_ctx *ctx)
{
	static const char msg[] =
		"<4>WARNING: cdmbench selftest: a user-space line in the kernel log\n";
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return cdm_skip(ctx, "cannot write /dev/kmsg: %s", strerror(errno));
	if (write(fd, msg, sizeof(msg) - 1) < 0) {
		close(fd);
		return cdm_skip(ctx, "cannot write /dev/kmsg: %s", strerror(errno));
	}
	close(fd);
	return 0;
}

/* the harness timing a syscall-bound operation; `make bench` compares it
 * with a bare loop of the same calls */
static int st_syscall(struct cdm_ctx *ctx, const struct st_cfg *cfg)
{
	int m = cdm_metric(ctx, "getppid", "ns", CDM_LOWER_IS_BETTER);
	int64_t i, k;

	while (cdm_iter(ctx)) {
		for (i = 0; i < cfg->samples; i++) {
			uint64_t t0 = cdm_now_ns();

			for (k = 0; k < cfg->batch; k++)
				syscall(SYS_getppid);
			cdm_sample(ctx, m, (double)(cdm_now_ns() - t0) /
				   cfg->batch);
		}
	}
	return 0;
}

/* a phase whose kernel work is known: one minor fault per page */
static int st_touch(struct cdm_ctx *ctx, const struct st_cfg *cfg)
{
	int m = cdm_metric(ctx, "touch_page", "ns", CDM_LOWER_IS_BETTER);
	size_t pg = cdm_page_size(), len = cfg->batch * pg, i;

	while (cdm_iter(ctx)) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t t0;

		if (p == MAP_FAILED)
			return cdm_error(ctx, "mmap: %s", strerror(errno));
		madvise(p, len, MADV_NOHUGEPAGE);
		cdm_phase_begin(ctx, "touch");
		t0 = cdm_now_ns();
		for (i = 0; i < len; i += pg)
			((volatile char *)p)[i] = 1;
		if (cfg->sleep)
			usleep(cfg->sleep / 1000);
		cdm_sample(ctx, m, (double)(cdm_now_ns() - t0) / cfg->batch);
		cdm_phase_end(ctx, cfg->batch);
		munmap(p, len);
	}
	return 0;
}

static int st_run(struct cdm_ctx *ctx)
{
	const struct st_cfg *cfg = cdm_cfg(ctx);
	int m;
	int64_t i;

	if (cfg->mode == ST_SYSCALL)
		return st_syscall(ctx, cfg);
	if (cfg->mode == ST_TOUCH)
		return st_touch(ctx, cfg);
	m = cdm_metric(ctx, "iteration", "ns", CDM_LOWER_IS_BETTER);

	while (cdm_iter(ctx)) {
		uint64_t t0 = cdm_now_ns();

		if (cfg->mode == ST_SLOW)
			usleep(cfg->sleep / 1000);
		for (i = 0; i < cfg->samples; i++)
			cdm_sample(ctx, m, cfg->mode == ST_NAN && i == 0 ?
				   NAN : (double)(cdm_now_ns() - t0));
	}
	switch (cfg->mode) {
	case ST_FAIL:
		cdm_fail(ctx, "failing on request (mode=fail)");
		break;
	case ST_SKIP:
		return cdm_skip(ctx, "skipping on request (mode=skip)");
	case ST_ERROR:
		return cdm_error(ctx, "erroring on request (mode=error)");
	case ST_CRASH:
		raise(SIGSEGV);
		break;
	case ST_BUS:
		sigbus_now();
		break;
	case ST_HANG:
		for (;;)
			pause();
	case ST_EXIT:
		_exit(7);
	case ST_KMSG:
		return write_kmsg(ctx);
	case ST_FORK_HANG:
		if (fork() == 0) {
			for (;;)
				pause();
		}
		break;
	}
	return 0;
}

static const char *st_devtype(const void *cfg __unused)
{
	return "none";
}

const struct cdm_workload cdm_wl_selftest = {
	.name = "selftest",
	.summary = "harness self-check: passes, fails, crashes or hangs on request",
	.backend = "cpu",
	.opts = st_opts,
	.cfg_size = sizeof(struct st_cfg),
	.device_type = st_devtype,
	.run = st_run,
};
