// SPDX-License-Identifier: GPL-2.0
/* Terminal progress line; see progress.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/escape.h"
#include "util/progress.h"
#include "util/util.h"

void progress_init(struct cdm_progress *p, bool on, int ncases)
{
	memset(p, 0, sizeof(*p));
	p->on = on;
	p->ncases = ncases;
	p->t_run = cdm_now_ns();
}

void progress_case(struct cdm_progress *p, const char *name)
{
	/* a case name from a job file: control characters shown, not sent */
	snprintf(p->name, sizeof(p->name), "%s", tesc(name));
	p->t_case = cdm_now_ns();
	p->phase = NULL;
	progress_draw(p, true);
}

void progress_draw(struct cdm_progress *p, bool force)
{
	char el[32], eta[32], line[512];
	uint64_t now = cdm_now_ns();
	double run_s;

	if (!p->on || (!force && now - p->last_draw < 500000000ull))
		return;
	p->last_draw = now;
	run_s = (now - p->t_run) / 1e9;
	fmt_hms(el, sizeof(el), run_s);
	if (p->done && p->ncases) {
		/* the average case so far, minus what the current one has used */
		double per = run_s / p->done;

		fmt_hms(eta, sizeof(eta), per * (p->ncases - p->done) -
			(now - p->t_case) / 1e9);
	} else {
		snprintf(eta, sizeof(eta), "--:--");
	}
	if (p->phase)
		snprintf(line, sizeof(line), "\r\033[K[%s] %.60s  elapsed %s",
			 p->phase, p->name, el);
	else
		snprintf(line, sizeof(line),
			 "\r\033[K[case %d/%d] %.60s  elapsed %s  ETA %s",
			 p->done + 1, p->ncases, p->name, el, eta);
	if (write(STDERR_FILENO, line, strlen(line)) < 0)
		p->on = false;
}

void progress_clear(struct cdm_progress *p)
{
	if (p->on && write(STDERR_FILENO, "\r\033[K", 4) < 0)
		p->on = false;
}
