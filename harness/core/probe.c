// SPDX-License-Identifier: GPL-2.0
/* The list `cdmbench probe` prints; device code adds to it too. */
#include <stdarg.h>
#include <stdlib.h>

#include "core/probe.h"

void cdm_probe_add(struct cdm_probe *p, const char *name, bool ok,
		   const char *fmt, ...)
{
	va_list ap;

	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n].name = xstrdup(name);
	p->v[p->n].ok = ok;
	va_start(ap, fmt);
	p->v[p->n].value = xvasprintf(fmt, ap);
	va_end(ap);
	p->n++;
}

void cdm_probe_free(struct cdm_probe *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].value);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
