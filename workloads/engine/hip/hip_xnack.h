/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Can an AMD GPU migrate memory by faulting here? One pure rule, shared by
 * the HIP engine (C++) and the unit tests (C), so the decision that turns
 * migration workloads into SKIPs is tested without a GPU.
 *
 * Fault-driven migration (GPU first touch, HMM on malloc memory, the
 * migration a prefetch of such memory starts) needs XNACK: the GPU stalls
 * the faulting wave, the kernel's SVM code (amdkfd's svm_range restore)
 * fixes the page table, and the access is replayed. The runtime says
 * whether this process runs with it in the device's target ID
 * (gfx90a:sramecc+:xnack+); on MI200 it is off unless HSA_XNACK=1; and
 * the amdgpu module must not suppress retry faults (noretry=1).
 */
#ifndef CDM_HIP_XNACK_H
#define CDM_HIP_XNACK_H

#include <stdio.h>
#include <string.h>

/*
 * arch: the runtime's gcnArchName; hsa_xnack: getenv("HSA_XNACK") or
 * NULL; noretry: /sys/module/amdgpu/parameters/noretry or NULL.
 * Returns 1 when faults can migrate, else 0 with the reason in why.
 */
static inline int cdm_hip_xnack_ok(const char *arch, const char *hsa_xnack,
				   const char *noretry, char *why, size_t len)
{
	const char *env = hsa_xnack ? hsa_xnack : "unset";

	if (noretry && !strcmp(noretry, "1")) {
		snprintf(why, len,
			 "%s: amdgpu noretry=1 disables GPU retry faults, so a GPU page fault cannot migrate memory (load amdgpu with noretry=0)",
			 arch);
		return 0;
	}
	if (strstr(arch, ":xnack+"))
		return 1;
	if (strstr(arch, ":xnack-")) {
		snprintf(why, len,
			 "%s: XNACK is off (HSA_XNACK=%s), so a GPU page fault cannot migrate memory; run with HSA_XNACK=1",
			 arch, env);
		return 0;
	}
	/* a target ID without the feature: the runtime did not say; trust the request */
	if (hsa_xnack && !strcmp(hsa_xnack, "1"))
		return 1;
	snprintf(why, len,
		 "%s: the target ID does not report xnack+ and HSA_XNACK=%s, so a GPU page fault cannot migrate memory; run with HSA_XNACK=1",
		 arch, env);
	return 0;
}

#endif
