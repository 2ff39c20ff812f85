/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the plugin engines (hip, cuda) say about themselves, for
 * `cdmbench --version` (built or not, with what) and `cdmbench probe`
 * (the runtime's own answers on this machine). Declared in core so the
 * harness reaches the engines through it; defined in
 * workloads/engine/engine_info.c.
 */
#ifndef CDM_CORE_ENGINES_H
#define CDM_CORE_ENGINES_H

#include <stdbool.h>
#include <stddef.h>

/* the engines that come as plugins, NULL-terminated */
extern const char *const cdm_plugin_engines[];

/*
 * One line for --version: "built: PATH (TOOLCHAIN)" or why not. Loads the
 * plugin in this process only to read its table (no runtime init).
 */
const char *cdm_engine_version(const char *name, char *buf, size_t len);

/*
 * For probe: each plugin's init answer and its probe() facts, gathered in
 * a forked helper (a GPU runtime must not start in the parent), killed
 * after timeout_s ($CDMBENCH_PROBE_TIMEOUT seconds overrides). add() gets "hip" (ok: a device answered) and
 * "hip.KEY" lines.
 */
typedef void (*cdm_probe_add_fn)(void *arg, const char *name, bool ok,
				 const char *value);
void cdm_engines_probe(cdm_probe_add_fn add, void *arg, int timeout_s);

#endif
