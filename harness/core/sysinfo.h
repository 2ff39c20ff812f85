/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The context recorded with every run: host, kernel, environment and the
 * device-memory devices present. Regressions are only meaningful when the
 * database knows what changed between two runs.
 */
#ifndef CDM_SYSINFO_H
#define CDM_SYSINFO_H

#include "core/result.h"

void sysinfo_host(struct cdm_host *h);
void sysinfo_kernel(struct cdm_kernel *k);
char *sysinfo_cmdline(void);
/* bare-metal, qemu-tcg, qemu-kvm or vm; CDMBENCH_ENVIRONMENT overrides */
char *sysinfo_environment(void);
/* online NUMA nodes that have memory, ascending; returns the count */
int sysinfo_mem_nodes(int *nodes, int max);
/* sha256 hex of a buffer */
void sha256_hex(const void *p, size_t n, char out[65]);
/* a fresh random UUID (v4) */
void make_uuid(char out[40]);

#endif
