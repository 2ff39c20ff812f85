// SPDX-License-Identifier: GPL-2.0
/* Job files: matrix expansion, layering, and errors naming file:line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/job.h"
#include "tap.h"

static char *write_job(const char *text)
{
	char *path = xasprintf("%s/job.ini", tap_tmpdir());

	REQUIRE(write_file(path, text, strlen(text)) == 0);
	return path;
}

/* load and expand; returns the error text (empty if it loaded) */
static char *load(const char *text, struct cdm_job *job)
{
	char *path = write_job(text);
	int r;

	tap_capture_begin();
	r = job_load_file(job, path);
	if (!r)
		r = job_expand(job);
	free(path);
	{
		char *err = tap_capture_end();

		CHECK(r == 0 || err[0], "failed without a message");
		return err;
	}
}

/* comma lists multiply: 2 sizes x 3 thread counts = 6 cases */
TEST(job_matrix)
{
	struct cdm_job job;
	char *err = load("[global]\nseed = 5\nrepeat = 3\n\n"
			 "[copy]\nworkload = stream\nsize = 4K, 8K\n"
			 "threads = 1,2,3 ; inline comment\n", &job);

	REQUIRE(!err[0], "%s", err);
	REQUIRE(job.ncases == 6, "%zu cases", job.ncases);
	CHECK(job.seed == 5);
	CHECK_STR(job.cases[0].name, "copy[size=4K threads=1]");
	CHECK_STR(job.cases[5].name, "copy[size=8K threads=3]");
	CHECK(job.cases[0].common.repeat == 3);
	CHECK_STR(kv_get(&job.cases[4].params, "size"), "8K");
	CHECK_STR(kv_get(&job.cases[4].params, "threads"), "2");
	/* identity excludes repeat, includes parameters */
	CHECK(!strstr(job.cases[0].match_key, "repeat"));
	CHECK_CONTAINS(job.cases[0].match_key, "\"size\":\"4K\"");
	/* seeds differ per case and are stable for the same job seed */
	CHECK(job.cases[0].seed != job.cases[1].seed);
	job_free(&job);
	free(err);
}

/* [global] defaults apply where they fit; sections override them */
TEST(job_layering)
{
	struct cdm_job job;
	char *err = load("[global]\nsize = 8K\nrepeat = 4\n"
			 "[a]\nworkload = stream\n"
			 "[b]\nworkload = stream\nsize = 12K\n"
			 "[selftest]\nmode = fail\n", &job);

	REQUIRE(!err[0], "%s", err);
	REQUIRE(job.ncases == 3);
	CHECK_STR(kv_get(&job.cases[0].params, "size"), "8K");
	CHECK_STR(kv_get(&job.cases[1].params, "size"), "12K");
	/* a section named after a workload needs no workload key */
	CHECK_STR(job.cases[2].wl->name, "selftest");
	CHECK(job.cases[2].common.repeat == 4);
	job_free(&job);
	free(err);
}

struct bad {
	const char *text;
	const char *want[3];
};

/* each job is refused with one line that holds every wanted phrase */
static void check_bad(const struct bad *cases, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		struct cdm_job job;
		char *err = load(cases[i].text, &job);

		CHECK(err[0], "case %zu loaded but should not", i);
		CHECK(!strchr(err, '\n') || strchr(err, '\n')[1] == 0,
		      "case %zu: not one line: %s", i, err);
		for (k = 0; k < 3 && cases[i].want[k]; k++)
			CHECK(strstr(err, cases[i].want[k]),
			      "case %zu: '%s' lacks '%s'", i, err,
			      cases[i].want[k]);
		job_free(&job);
		free(err);
	}
}

/* every bad job names the file and line, and says what is wrong */
TEST(job_errors)
{
	static const struct bad cases[] = {
		{ "[a]\nworkload = stream\nsise = 4K\n",
		  { "job.ini:3:", "unknown option 'sise'", "did you mean 'size'" } },
		{ "[a]\nworkload = straem\n",
		  { "job.ini:2:", "unknown workload 'straem'", "did you mean 'stream'" } },
		{ "[a]\nworkload = stream\nthis line is wrong\n",
		  { "job.ini:3:", "malformed", NULL } },
		{ "[a]\nworkload = stream\nsize = 0\n",
		  { "job.ini:3:", "must not be 0", NULL } },
		{ "[a]\nworkload = stream\nsize = -4K\n",
		  { "job.ini:3:", "negative", NULL } },
		{ "[a]\nworkload = stream\nsize = 99999999999T\n",
		  { "job.ini:3:", "overflow", NULL } },
		{ "[a]\nworkload = stream\nsize = 4097\n",
		  { "job.ini:3:", "page size", NULL } },
		{ "[a]\nworkload = stream\nsize = 4K\nsize = 8K\n",
		  { "job.ini:4:", "duplicate key 'size'", NULL } },
		{ "[a]\nworkload = stream\nsize = 4K,,8K\n",
		  { "job.ini:3:", "empty item", NULL } },
		{ "[global]\nbogus = 1\n[a]\nworkload = stream\n",
		  { "job.ini:2:", "unknown option 'bogus'", NULL } },
		{ "[global]\nseed = 1\n",
		  { "no cases", NULL, NULL } },
		{ "size = 4K\n[a]\nworkload = stream\n",
		  { "job.ini:1:", "outside any section", NULL } },
		{ "[mycase]\nsize = 4K\n",
		  { "job.ini:1:", "names no workload", NULL } },
		{ "[a]\nworkload = stream\nrepeat = 1.5\n",
		  { "job.ini:3:", "not an integer", NULL } },
	};

	check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

/* no silent misparse: section names as written, long lines refused */
TEST(job_exact_sections)
{
	static const struct bad cases[] = {
		/* libinih kept the spaces; every key of [ stream ] was lost */
		{ "[ stream ]\nsize = banana\nbogus = 1\n",
		  { "job.ini:1:", "spaces around it: write [stream]", NULL } },
		{ "[a]\nworkload = stream\n[ b]\nsize = 4K\n",
		  { "job.ini:3:", "spaces around it", NULL } },
		{ "[]\nworkload = stream\n",
		  { "job.ini:1:", "empty section name", NULL } },
		{ "[a] workload = stream\n",
		  { "job.ini:1:", "text after the section header", NULL } },
		/* inih's section buffer holds 49 bytes: a longer name was cut */
		{ "[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\nworkload = stream\n",
		  { "job.ini:1:", "section name of 60 bytes; at most 49", NULL } },
	};

	check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

/*
 * libinih split lines of 4095 bytes or more and parsed the rest as a new
 * line: a comment's tail became configuration. Now such a line is an
 * error naming it, and one just under the limit is read whole.
 */
/* add a line of exactly len bytes (without its newline) to sb */
static void add_line(struct sbuf *sb, const char *start, size_t len,
		     const char *end)
{
	size_t n = strlen(start) + strlen(end);

	sb_adds(sb, start);
	for (; n < len; n++)
		sb_addc(sb, ' ');
	sb_adds(sb, end);
	sb_addc(sb, '\n');
}

TEST(job_long_lines)
{
	struct sbuf sb;
	struct cdm_job job;
	char *err;
	size_t len;

	for (len = 4092; len <= 4100; len++) {
		sb_init(&sb);
		sb_adds(&sb, "[global]\n");
		add_line(&sb, "description = x", len, "y");
		/* a comment whose tail inih would have read as a key */
		add_line(&sb, ";", len, "size = 0");
		sb_adds(&sb, "[a]\nworkload = stream\n");
		err = load(sb.buf, &job);
		if (len <= 4094) {
			CHECK(!err[0], "lines of %zu bytes: %s", len, err);
			CHECK(job.description &&
			      strlen(job.description) == len - 14,
			      "description of %zu bytes", job.description ?
			      strlen(job.description) : 0);
		} else {
			char want[64];

			snprintf(want, sizeof(want), "job.ini:2: line of %zu bytes",
				 len);
			CHECK(strstr(err, want), "'%s' lacks '%s'", err, want);
		}
		job_free(&job);
		free(err);
		sb_free(&sb);
	}
}

/* keys are matched as written: case and inner spaces are not folded */
TEST(job_exact_keys)
{
	struct cdm_job job;
	char *err = load("[a]\nworkload = stream\nSize = 4K\n", &job);

	CHECK(strstr(err, "job.ini:3: unknown option 'Size'"), "'%s'", err);
	job_free(&job);
	free(err);
	err = load("[a]\nworkload = stream\nsi ze = 4K\n", &job);
	CHECK(strstr(err, "job.ini:3: unknown option 'si ze'"), "'%s'", err);
	job_free(&job);
	free(err);
	/* a byte order mark does not hide the first section */
	err = load("\xef\xbb\xbf[a]\nworkload = stream\nsize = banana\n", &job);
	CHECK(strstr(err, "job.ini:3:"), "'%s'", err);
	job_free(&job);
	free(err);
}

/* -w and --set build the same job, and its stored text re-runs it */
TEST(job_from_cli)
{
	char *sets[] = { "size=4K,8K", "repeat=2" };
	struct cdm_job job;

	REQUIRE(job_from_workload(&job, "stream", sets, 2) == 0);
	REQUIRE(job_expand(&job) == 0);
	CHECK(job.ncases == 2);
	CHECK_CONTAINS(job.text, "[stream]");
	CHECK_CONTAINS(job.text, "size = 4K,8K");
	job_free(&job);
	{
		char *bad[] = { "sise=4K" };
		char *err;

		tap_capture_begin();
		CHECK(job_from_workload(&job, "stream", bad, 1) != 0 ||
		      job_expand(&job) != 0);
		err = tap_capture_end();
		CHECK_CONTAINS(err, "--set sise=4K");
		CHECK_CONTAINS(err, "did you mean 'size'");
		free(err);
		job_free(&job);
	}
}
