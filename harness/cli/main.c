// SPDX-License-Identifier: GPL-2.0
/*
 * cdmbench: benchmarks and stress tests for Linux device memory
 * (MEMORY_DEVICE_COHERENT and MEMORY_DEVICE_PRIVATE).
 */
#include <errno.h>
#include <stdio.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
	int rc = cdm_main(argc, argv);

	/*
	 * Whatever a command printed is still buffered: a full disk shows
	 * up only now, and no command may exit 0 with its output lost.
	 * (A command that reports a failed write itself clears the error.)
	 */
	errno = 0;
	if (fflush(stdout) || ferror(stdout)) {
		if (errno)
			cdm_errno(errno, "writing standard output failed");
		else	/* an earlier flush failed; its errno is gone */
			cdm_err("writing standard output failed");
		if (!rc)
			rc = CDM_EXIT_FAIL;
	}
	return rc;
}
