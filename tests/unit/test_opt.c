// SPDX-License-Identifier: GPL-2.0
/* Sizes, durations and option tables: the one place units are parsed. */
#include <math.h>
#include <string.h>

#include "core/opt.h"
#include "tap.h"

static uint64_t size_ok(const char *s)
{
	char err[128] = "";
	uint64_t v = 0;

	CHECK(cdm_parse_size(s, &v, err, sizeof(err)) == 0, "%s: %s", s, err);
	return v;
}

static const char *size_err(const char *s)
{
	static char err[128];
	uint64_t v;

	err[0] = 0;
	CHECK(cdm_parse_size(s, &v, err, sizeof(err)) != 0,
	      "'%s' parsed but should not", s);
	return err;
}

/* every suffix users write means binary units */
TEST(size_suffixes)
{
	CHECK_EQ_U64(size_ok("4096"), 4096);
	CHECK_EQ_U64(size_ok("4K"), 4096);
	CHECK_EQ_U64(size_ok("4KiB"), 4096);
	CHECK_EQ_U64(size_ok("2M"), 2u << 20);
	CHECK_EQ_U64(size_ok("1G"), 1u << 30);
	CHECK_EQ_U64(size_ok("256MB"), 256u << 20);
	CHECK_EQ_U64(size_ok("1T"), 1ull << 40);
}

/* bad sizes are rejected with a reason, never wrapped or truncated */
TEST(size_rejects)
{
	CHECK_CONTAINS(size_err("-4K"), "negative");
	CHECK_CONTAINS(size_err("99999999999999999999"), "overflow");
	CHECK_CONTAINS(size_err("20000000T"), "overflow");
	CHECK_CONTAINS(size_err("4X"), "unknown unit");
	CHECK_CONTAINS(size_err("K"), "not a size");
	CHECK_CONTAINS(size_err(""), "not a size");
	CHECK_CONTAINS(size_err(" 4K"), "not a size");
}

TEST(durations)
{
	char err[128];
	uint64_t v = 0;

	CHECK(!cdm_parse_duration("500ms", &v, err, sizeof(err)));
	CHECK_EQ_U64(v, 500000000ull);
	CHECK(!cdm_parse_duration("10s", &v, err, sizeof(err)));
	CHECK_EQ_U64(v, 10000000000ull);
	CHECK(!cdm_parse_duration("2m", &v, err, sizeof(err)));
	CHECK_EQ_U64(v, 120000000000ull);
	CHECK(!cdm_parse_duration("3", &v, err, sizeof(err)));
	CHECK_EQ_U64(v, 3000000000ull);
	CHECK(!cdm_parse_duration("250us", &v, err, sizeof(err)));
	CHECK_EQ_U64(v, 250000ull);
	CHECK(cdm_parse_duration("-1s", &v, err, sizeof(err)));
	CHECK(cdm_parse_duration("10 s", &v, err, sizeof(err)));
	CHECK(cdm_parse_duration("99999999999999h", &v, err, sizeof(err)));
}

/* formatting gives back what parses to the same value */
TEST(format_roundtrip)
{
	static const char *const sizes[] = { "4K", "1536", "2M", "1G", "3T", "0" };
	static const char *const durs[] = { "500ms", "10s", "2m", "1h", "7us", "13ns" };
	char buf[64], err[64];
	uint64_t v, w;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CHECK(!cdm_parse_size(sizes[i], &v, err, sizeof(err)));
		cdm_format_size(v, buf, sizeof(buf));
		CHECK_STR(buf, sizes[i]);
	}
	for (i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		CHECK(!cdm_parse_duration(durs[i], &v, err, sizeof(err)));
		cdm_format_duration(v, buf, sizeof(buf));
		CHECK(!cdm_parse_duration(buf, &w, err, sizeof(err)));
		CHECK_EQ_U64(w, v);
		CHECK_STR(buf, durs[i]);
	}
}

struct tcfg {
	uint64_t size;
	int64_t n;
	int mode;
	bool flag;
	char *name;
	double ratio;
};

static const struct cdm_opt topts[] = {
	{ "size", CDM_T_SIZE, OPT_FIELD(struct tcfg, size), "8K", 4096, 1 << 30,
	  NULL, CDM_OF_PAGE_ALIGNED, "h" },
	{ "n", CDM_T_INT, OPT_FIELD(struct tcfg, n), "3", 1, 10, NULL, 0, "h" },
	{ "mode", CDM_T_ENUM, OPT_FIELD(struct tcfg, mode), "b", 0, 0, "a|b|c",
	  0, "h" },
	{ "flag", CDM_T_BOOL, OPT_FIELD(struct tcfg, flag), "yes", 0, 0, NULL,
	  0, "h" },
	{ "name", CDM_T_STRING, OPT_FIELD(struct tcfg, name), "x", 0, 0, NULL,
	  0, "h" },
	{ "ratio", CDM_T_DOUBLE, OPT_FIELD(struct tcfg, ratio), "0.5", 0, 1,
	  NULL, 0, "h" },
	CDM_OPT_END
};

/* defaults, ranges, alignment and enum choices all come from the table */
TEST(option_table)
{
	struct tcfg c;
	char err[256];

	memset(&c, 0, sizeof(c));
	cdm_opt_defaults(topts, &c);
	CHECK_EQ_U64(c.size, 8192);
	CHECK(c.n == 3 && c.mode == 1 && c.flag && c.ratio == 0.5);
	CHECK_STR(c.name, "x");
	CHECK(cdm_opt_parse(&topts[0], &c, "0", err, sizeof(err)));
	CHECK_CONTAINS(err, "must not be 0");
	CHECK(cdm_opt_parse(&topts[0], &c, "6K", err, sizeof(err)));
	CHECK_CONTAINS(err, "page size");
	CHECK(cdm_opt_parse(&topts[0], &c, "2G", err, sizeof(err)));
	CHECK_CONTAINS(err, "out of range");
	CHECK(cdm_opt_parse(&topts[1], &c, "11", err, sizeof(err)));
	CHECK(cdm_opt_parse(&topts[1], &c, "1.5", err, sizeof(err)));
	CHECK(cdm_opt_parse(&topts[2], &c, "d", err, sizeof(err)));
	CHECK_CONTAINS(err, "a|b|c");
	CHECK(!cdm_opt_parse(&topts[2], &c, "c", err, sizeof(err)));
	CHECK(c.mode == 2);
	CHECK(cdm_opt_parse(&topts[3], &c, "maybe", err, sizeof(err)));
	CHECK(cdm_opt_parse(&topts[5], &c, "nan", err, sizeof(err)));
	CHECK(cdm_opt_parse(&topts[5], &c, "2", err, sizeof(err)));
	cdm_opt_free(topts, &c);
	CHECK(c.name == NULL);
}
