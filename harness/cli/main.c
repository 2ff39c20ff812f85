// SPDX-License-Identifier: GPL-2.0
/*
 * cdmbench: benchmarks and stress tests for Linux device memory
 * (MEMORY_DEVICE_COHERENT and MEMORY_DEVICE_PRIVATE).
 */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return cdm_main(argc, argv);
}
