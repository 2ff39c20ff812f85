// SPDX-License-Identifier: GPL-2.0
/*
 * The devices the harness sees, defined beside the workloads that drive
 * them: the run record's device list and `cdmbench probe`'s device lines.
 * Today that is test_hmm's dmirror devices; another device kind adds its
 * scan and probe here (core/probe.h declares both).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/probe.h"
#include "lib/dmirror.h"

void cdm_scan_devices(struct cdm_run_info *r)
{
	char path[64];
	int m;

	for (m = 0; m < DMIRROR_NDEV; m++) {
		struct cdm_device *d;

		if (access(dmirror_path(m, path, sizeof(path)), F_OK))
			continue;
		r->devs = xrealloc(r->devs, (r->ndevs + 1) * sizeof(*r->devs));
		d = &r->devs[r->ndevs++];
		d->path = xstrdup(path);
		d->backend = xstrdup("dmirror");
		d->memory_type = xstrdup(dmirror_type_name(dmirror_expected_type(m)));
		d->detail = xstrdup("test_hmm");
	}
}

static void probe_dmirror(struct cdm_probe *p, bool deep)
{
	char path[64], name[32], detail[160];
	int m, found = 0;

	for (m = 0; m < DMIRROR_NDEV; m++) {
		enum dmirror_memtype want = dmirror_expected_type(m), got;
		int fd;

		dmirror_path(m, path, sizeof(path));
		snprintf(name, sizeof(name), "dmirror%d", m);
		if (access(path, F_OK))
			continue;
		found++;
		fd = dmirror_open(m);
		if (fd < 0) {
			cdm_probe_add(p, name, false, "%s: cannot open: %s",
				      path, strerror(-fd));
			continue;
		}
		if (!deep) {
			cdm_probe_add(p, name, true, "%s %s (by minor number)",
				      path, dmirror_type_name(want));
			close(fd);
			continue;
		}
		got = dmirror_probe_type(fd, detail, sizeof(detail));
		close(fd);
		cdm_probe_add(p, name, got == want, "%s %s: %s%s", path,
			      dmirror_type_name(got), detail,
			      got == want ? "" : " (unexpected for this minor)");
	}
	if (found)
		return;
	if (access("/sys/module/test_hmm", F_OK) == 0)
		cdm_probe_add(p, "dmirror", false, "test_hmm is loaded but /dev/hmm_dmirror* is missing (no devtmpfs?)");
	else
		cdm_probe_add(p, "dmirror", false, "no /dev/hmm_dmirror*: kernel without CONFIG_TEST_HMM, or module not loaded (modprobe test_hmm)");
}

static void probe_spm(struct cdm_probe *p)
{
	char *a = read_line_file("/sys/module/test_hmm/parameters/spm_addr_dev0");
	char *b = read_line_file("/sys/module/test_hmm/parameters/spm_addr_dev1");

	if (a && b) {
		unsigned long x = strtoul(a, NULL, 0), y = strtoul(b, NULL, 0);
		bool on = x && y;

		cdm_probe_add(p, "dmirror.spm", on,
			      "spm_addr_dev0=0x%lx spm_addr_dev1=0x%lx%s", x, y,
			      on ? "" : " (both needed for coherent devices 2 and 3)");
	}
	free(a);
	free(b);
}

void cdm_probe_devices(struct cdm_probe *p, bool deep)
{
	probe_dmirror(p, deep);
	probe_spm(p);
}
