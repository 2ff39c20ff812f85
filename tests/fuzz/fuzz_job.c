// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: job files. Any byte string is parsed and expanded as
 * a job file would be (libinih under our reader, then the option tables);
 * it must load or be refused with a message, never crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct cdm_job job;

	memcpy(text, data, size);
	text[size] = 0;
	memset(&job, 0, sizeof(job));
	if (!job_parse_text(&job, "fuzz.ini", text, size))
		(void)job_expand(&job);
	job_free(&job);
	free(text);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}
